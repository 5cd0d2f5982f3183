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
# Timed passes over the corpus; the fastest counts (a pass takes under a second,
# and a shared machine's noise moves single passes by a quarter).
BENCH_RUNS ?= 5
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

.PHONY: test unit vet fmt fmt-check
# CI runs exactly this (then `make demo`): every test, the linters, the
# race detector and a short fuzzing pass over every fuzz target.
test: vet unit lint race ## vet, every test, staticcheck, race detector, then FUZZTIME_TEST of fuzzing per target
	$(MAKE) fuzz FUZZTIME=$(FUZZTIME_TEST)

unit: ## go test every package (the quick loop)
	$(GO) test $(PKGS)

vet: ## go vet every package
	$(GO) vet $(PKGS)

fmt: ## gofmt every Go file in place
	gofmt -s -w $$(find . -name '*.go' -not -path './bench-corpus/*' -not -path './target/*')

fmt-check: ## fail when a Go file is not gofmt-clean
	@out=$$(gofmt -s -l $$(find . -name '*.go' -not -path './bench-corpus/*' -not -path './target/*')); \
	if [ -n "$$out" ]; then echo "not gofmt-clean:"; echo "$$out"; exit 1; fi

# Linters are installed through the Go module proxy into target/bin, one
# binary per version, so a version bump reinstalls and a rerun does not.
TOOLS_BIN := $(CURDIR)/target/bin
STATICCHECK_VERSION ?= v0.8.2
STATICCHECK := $(TOOLS_BIN)/staticcheck-$(STATICCHECK_VERSION)
GOVULNCHECK_VERSION ?= v1.9.0
GOVULNCHECK := $(TOOLS_BIN)/govulncheck-$(GOVULNCHECK_VERSION)
# govulncheck's database: a file:// URL works offline with a mirror of it.
VULNDB ?= https://vuln.go.dev

# The packages that run goroutines, locks or shared servers; `make race`
# tests them under the race detector. The functions and infra/e2e are
# left out: they drive these same packages and would double CI's race
# time for no new concurrency.
RACE_PKGS ?= ./shared/scan/... ./shared/unpack/... ./shared/detect/... ./shared/store/... \
	./shared/contain/... ./shared/trail/... ./shared/ossscan/... ./shared/report/... ./infra/local/...
# Fuzzing time per target for `make fuzz`; FUZZ narrows the targets (regexp).
FUZZTIME ?= 10s
# Fuzzing per target inside `make test` (CI's budget is 15 minutes).
FUZZTIME_TEST ?= 3s
FUZZ ?= .

.PHONY: lint race fuzz vulncheck
lint: fmt-check $(STATICCHECK) ## gofmt check, then staticcheck (STATICCHECK_VERSION) on every package
	$(STATICCHECK) $(PKGS)

# -short: the race detector looks for unsynchronised access, not volume;
# the full-size recall and memory tests already run in `make test`.
race: ## go test -race -short on the concurrent packages (RACE_PKGS)
	$(GO) test -race -short $(RACE_PKGS)

fuzz: ## run every fuzz target for FUZZTIME (10s) each, one after another; FUZZ=regexp narrows
	GO=$(GO) FUZZTIME=$(FUZZTIME) FUZZ='$(FUZZ)' ./tools/fuzz.sh

# Exit status: govulncheck's 3 (vulnerabilities found) passes through; when
# the database cannot be reached (these machines cannot reach vuln.go.dev)
# the target says so and fails, since "not checked" is not "clean".
vulncheck: $(GOVULNCHECK) ## govulncheck every package (needs vuln.go.dev or VULNDB=file://mirror; not in CI)
	@out=$$(mktemp); rc=0; $(GOVULNCHECK) -db '$(VULNDB)' $(PKGS) >"$$out" 2>&1 || rc=$$?; cat "$$out"; \
	if [ "$$rc" -ne 0 ] && [ "$$rc" -ne 3 ] && grep -q 'fetching vulnerabilities' "$$out"; then \
		echo "vulncheck: NOT CHECKED: the vulnerability database $(VULNDB) is unreachable from this machine;" >&2; \
		echo "vulncheck: run it where vuln.go.dev is reachable, or pass VULNDB=file:///path/to/a/mirror" >&2; \
	elif [ "$$rc" -eq 3 ]; then echo "vulncheck: govulncheck reports vulnerabilities (above)" >&2; fi; \
	rm -f "$$out"; exit $$rc

$(STATICCHECK):
	@mkdir -p $(TOOLS_BIN)
	GOBIN=$(TOOLS_BIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	mv $(TOOLS_BIN)/staticcheck $@

$(GOVULNCHECK):
	@mkdir -p $(TOOLS_BIN)
	GOBIN=$(TOOLS_BIN) $(GO) install golang.org/x/vuln/cmd/govulncheck@$(GOVULNCHECK_VERSION)
	mv $(TOOLS_BIN)/govulncheck $@

## ---- soak

.PHONY: soak
soak: ## long variants: 10,000-upload flood, 300-upload fault burst, 5 GiB object (AKGUARD_SOAK=1, ~5 min)
	AKGUARD_SOAK=1 $(GO) test ./infra/e2e/ -count=1 -timeout 30m -v
	AKGUARD_SOAK=1 $(GO) test ./functions/scan/ -count=1 -timeout 30m -v -run FiveGiB

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
