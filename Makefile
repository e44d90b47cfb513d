# Circuit Breaker — run `make` or `make help` for the targets.

BIN      ?= bin/circuit-breaker
DATA_DIR ?= ./data
# Fuzz budgets are counts of inputs, not durations: Go 1.26's coordinator
# can report a spurious "context deadline exceeded" when a -fuzztime duration
# ends mid-input (go.dev/issue/75804, fixed in Go 1.27). Targets that run a
# real server per input get the smaller budget.
FUZZTIME      ?= 30000x
FUZZTIME_SLOW ?= 1000x
FUZZ_SLOW     := FuzzMessages
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT   ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION) -X main.commit=$(COMMIT)

.DEFAULT_GOAL := help
.PHONY: help build run test fuzz bench lint check clean


help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z][a-zA-Z_-]*:.*## / {printf "  %-8s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## build ./bin/circuit-breaker
	go build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/circuit-breaker

run: build ## build and serve on 127.0.0.1:4000 with data in ./data
	./$(BIN) serve --data-dir $(DATA_DIR)

# EXAMPLE picks another example of examples/ (circuit-breaker demo --list).
EXAMPLE ?= content-creation
.PHONY: demo
demo: build ## run an example end to end against the provider simulator
	./$(BIN) demo --example $(EXAMPLE)

test: bin/nats-server ## go test -race ./... then every fuzz target ($(FUZZTIME) inputs each)
	NATS_SERVER_BIN=$(CURDIR)/bin/nats-server go test -race ./...
	@$(MAKE) --no-print-directory fuzz

# The external-NATS contract test runs against a real nats-server process of
# the version pinned in go.mod (Debian's is too old for the store).
bin/nats-server: go.mod
	go build -o $@ github.com/nats-io/nats-server/v2

fuzz: ## run every Fuzz* target on $(FUZZTIME) inputs each
	@set -e; for f in $$(grep -rl --include='*_test.go' '^func Fuzz' .); do \
		dir=./$$(dirname $${f#./}); \
		for t in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' $$f); do \
			n=$(FUZZTIME); case " $(FUZZ_SLOW) " in *" $$t "*) n=$(FUZZTIME_SLOW);; esac; \
			echo "fuzz $$t in $$dir ($$n)"; \
			go test -run='^$$' -fuzz="^$$t$$" -fuzztime=$$n $$dir; \
		done; \
	done

bench: ## run the benchmarks
	go test -run='^$$' -bench=. -benchmem ./...

lint: ## gofmt check and go vet
	@out=$$(gofmt -l $$(git ls-files --cached --others --exclude-standard '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	go vet ./...

check: lint test ## lint + test (what CI runs)

clean: ## remove ./bin
	rm -rf bin
