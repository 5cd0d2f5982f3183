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
BENCH_HUGE ?= 4GiB

.DEFAULT_GOAL := build

.PHONY: help
help: ## list targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

## ---- build

.PHONY: build
build: ## compile every package and the CLI into target/akguard
	$(GO) build $(PKGS)
	$(GO) build -o target/akguard ./cmd/akguard

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
	$(GO) run ./bench/run -corpus $(BENCH_CORPUS) -workers $(BENCH_WORKERS)

bench-huge: ## stream one $(BENCH_HUGE) input through the engine; peak RSS must stay < 128 MiB
	$(GO) run ./bench/run -huge $(BENCH_HUGE)
