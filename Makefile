# hotline: the two commands a newcomer needs are `make demo` and `make test`.
GO ?= go
export GOFLAGS ?= -buildvcs=false

.PHONY: demo test asterisk build vet bench prompts deps

## demo: run the whole hotline on this machine (simulated Asterisk, embedded Redis, simulated callers,
## and a throwaway PostgreSQL for the reports, installed from Debian when missing)
demo:
	@./scripts/install-test-deps.sh demo
	@echo "make demo: compiling hotline (a few minutes the first time, seconds after) ..."
	$(GO) run ./cmd/hotline demo

## test: install what the tests need if missing, then run every test with -race: each ARI test on the
## simulator and, when it is built (scripts/asterisk.sh build) or under CI, on a real Asterisk 22.10.1
test: deps
	$(GO) vet ./...
	./scripts/test.sh

## asterisk: build the real Asterisk the tests use (once per machine, about 10 minutes)
asterisk:
	./scripts/asterisk.sh build

## deps: Debian packages the tests use (needs root, or sudo)
deps:
	./scripts/install-test-deps.sh

build:
	$(GO) build -o bin/hotline ./cmd/hotline

vet:
	$(GO) vet ./...
	gofmt -l . | (! grep .)

## bench: the benchmarks recorded in BENCHMARKS.md
bench: deps
	$(GO) test -run '^$$' -bench . -benchmem ./...

## prompts: turn prompts/catalog.yaml into 8 kHz audio in sounds/ (espeak-ng, sox)
prompts:
	./scripts/make-prompts.sh
