# akguard tasks. `make help` lists them. Sections: build, quality, bench;
# add new targets to the section they belong to (or a new one), each with a
# "## " comment so help shows it.

GO ?= go
# Packages that build, vet and test cover.
PKGS ?= ./...

# Benchmark corpus: BENCH_SIZE=256MiB make bench for a quicker run.
BENCH_SIZE ?= 1GiB
BENCH_SEED ?= 1
BENCH_CORPUS ?= bench-corpus
BENCH_WORKERS ?= 2
# Timed passes over the corpus; the fastest counts (BENCH_RUNS=3 on a busy machine).
BENCH_RUNS ?= 1
BENCH_HUGE ?= 4GiB

.DEFAULT_GOAL := build

.PHONY: help
help: ## list targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

## ---- build

# The functions s.yaml deploys, one main package each under functions/.
FUNCTIONS := scan audit respond

.PHONY: build build-functions
build: build-functions ## compile every package, the CLI into target/akguard and the functions
	$(GO) build $(PKGS)
	$(GO) build -o target/akguard ./cmd/akguard

build-functions: ## build the FC go1 binaries (linux/amd64) into target/functions/<name>/main
	@for f in $(FUNCTIONS); do \
		echo "build functions/$$f"; \
		CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build -trimpath -o target/functions/$$f/main ./functions/$$f || exit 1; \
	done

## ---- run

.PHONY: demo local
demo: build-functions ## play the whole story on the local cloud: leak found, contained, notified, attacker denied, audit flags it
	$(GO) run ./cmd/akguard demo --data .demo --functions target/functions

local: build-functions ## run the local cloud in the foreground with the functions of s.yaml (state in .local/)
	$(GO) run ./cmd/akguard local --data .local

## ---- quality

.PHONY: test vet fmt fmt-check
test: vet ## vet, then run every test
	$(GO) test $(PKGS)

vet: ## go vet every package
	$(GO) vet $(PKGS)

fmt: ## gofmt every Go file in place
	gofmt -s -w $$(find . -name '*.go' -not -path './bench-corpus/*' -not -path './target/*')

fmt-check: ## fail when a Go file is not gofmt-clean
	@out=$$(gofmt -s -l $$(find . -name '*.go' -not -path './bench-corpus/*' -not -path './target/*')); \
	if [ -n "$$out" ]; then echo "not gofmt-clean:"; echo "$$out"; exit 1; fi

## ---- bench

.PHONY: bench bench-go bench-corpus bench-run bench-huge
bench: bench-go bench-run bench-huge ## go benchmarks, then the engine over the corpus and a huge stream

bench-go: ## go benchmarks of the shared packages (detect, unpack...)
	$(GO) test -run='^$$' -bench=. -benchmem ./shared/...

bench-corpus: ## generate $(BENCH_CORPUS)/ ($(BENCH_SIZE), seed $(BENCH_SEED)); kept while size, seed and generator match
	$(GO) run ./bench/corpusgen -out $(BENCH_CORPUS) -size $(BENCH_SIZE) -seed $(BENCH_SEED)

bench-run: bench-corpus ## floor vs engine MB/s, recall, decoys, false positives, peak RSS
	$(GO) run ./bench/run -corpus $(BENCH_CORPUS) -workers $(BENCH_WORKERS) -runs $(BENCH_RUNS)

bench-huge: ## stream one $(BENCH_HUGE) input through the engine; peak RSS must stay < 128 MiB
	$(GO) run ./bench/run -huge $(BENCH_HUGE)
