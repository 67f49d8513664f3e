# eventrelay: the commands that matter.
#   make dev    run the whole pipeline locally on emulators
#   make test   every test: unit, emulator, packaging, Terraform checks
GO        ?= go
# bash with pipefail, so a pipe in a recipe (bench's tee) never hides a
# failed command's exit status.
SHELL       := /bin/bash
.SHELLFLAGS := -o pipefail -c
BIN       := $(CURDIR)/bin
export TF_CLI_CONFIG_FILE := /dev/null
# Tests that need an emulator fail instead of skipping when it is missing.
export EVENTRELAY_REQUIRE_EMULATORS ?= 1
export GOAWS_BIN := $(BIN)/goaws
# One build configuration for vet, the tests and the test bootstrap: CGO off,
# as the shipped artifacts are. A second configuration (CGO on for the tests,
# off for the bootstrap) compiled the standard library and every SDK twice on
# a cold cache.
export CGO_ENABLED := 0
FUZZTIME  ?= 5s

.PHONY: soak FORCE dist emulators dev test vet lint fmt-check unit fuzz-short fuzz bench bench-load tf-check dist clean

# The first build compiles both clouds' SDKs (minutes on two cores): -v
# names each package as it compiles, so the wait shows progress.
dev:
	@echo "make dev: building eventrelay (the first build takes minutes; packages as they compile):"
	@mkdir -p dist
	$(GO) build -v -o dist/eventrelay ./cmd/eventrelay
	./dist/eventrelay dev

# The unit tests spend much of their time waiting on emulators, so the
# builds of tflint and golangci-lint (about 3 and 3.5 CPU-minutes on a cold
# cache) run beside them, one at a time: two jobs (the builds print nothing
# but their commands); lint runs after them, with both cores to itself.
# preflight comes first, alone: a missing tool is named before anything
# compiles, even under make -j.
test: preflight
	$(MAKE) --no-print-directory fmt-check vet emulators
	$(MAKE) --no-print-directory -j2 unit $(BIN)/tflint $(BIN)/golangci-lint
	$(MAKE) --no-print-directory lint fuzz-short tf-check

# Local servers the emulator tests start: goaws (SQS) and dynalite (DynamoDB).
emulators: $(BIN)/goaws emulators/node_modules/.bin/dynalite

# terraform, node, npm, moto_server, Google's emulators and java: each one
# missing is named with the way to get it (tools/preflight.sh).
preflight:
	@./tools/preflight.sh

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

# golangci-lint with the linters .golangci.yml names (go vet's analyzers
# among them).
lint: $(BIN)/golangci-lint
	$(BIN)/golangci-lint run ./...

# The tests that run the Lambda bootstrap (cmd/bootstrap, the SQS stack
# through internal/lambdaharness) share this one build instead of each
# cross-compiling it (lambdaharness.Bootstrap builds it itself without the
# variable). Same flags as lambdaharness.BootstrapBuildArgs: `make dist`'s,
# less -trimpath and the stripping, which change only file paths and symbols
# and would make every package compile again instead of reusing the tests'.
TEST_BOOTSTRAP := $(CURDIR)/dist/test/bootstrap
# gotestsum runs `go test` and ends with every skipped test and its reason
# (plain `go test` without -v prints none), and every failure's output.
unit: $(BIN)/gotestsum
	@mkdir -p $(dir $(TEST_BOOTSTRAP))
	GOOS=linux $(GO) build -tags lambda.norpc -o $(TEST_BOOTSTRAP) ./cmd/bootstrap
	EVENTRELAY_TEST_BOOTSTRAP=$(TEST_BOOTSTRAP) $(BIN)/gotestsum --format pkgname -- -count=1 ./...

# A short, bounded run of every fuzz target (CI): 5 s each keeps a cold
# `make test` within 8 min on two cores (the seed corpora also run in `unit`);
# `make fuzz` runs them for a minute each.
FUZZ_TARGETS := ./shared/event:FuzzParse ./shared/dfinery:FuzzCallback ./shared/auth:FuzzAuthenticate ./functions/forwarder:FuzzPushHandler ./functions/backfill:FuzzParams ./shared/attest/credential:FuzzVerify ./shared/attest/appattest:FuzzAttest ./shared/attest/appattest:FuzzAssert ./shared/attest/playintegrity:FuzzVerify ./shared/attest/appcheck:FuzzVerify ./shared/clip:FuzzString ./functions/attest:FuzzOpenChallenge ./shared/archive:FuzzDecodeSNS ./shared/archive:FuzzDecodeAvro ./shared/archive:FuzzNames ./shared/cors:FuzzHandler
fuzz-short:
	GO=$(GO) ./tools/fuzz.sh $(FUZZTIME) $(FUZZ_TARGETS)

fuzz:
	$(MAKE) fuzz-short FUZZTIME=60s

# The load-and-fault run on both paths (Pub/Sub with the forwarder process
# SIGKILLed; SQS with the forwarder instance crashed mid-batch): 100,000
# events each while the Events API stand-in fails. Bounded (40 min at most),
# loopback only; `make test` runs the same with 3,000 events. No pipe: the
# target's status is the run's (a failed run exits non-zero).
SOAK_EVENTS ?= 100000
soak: emulators
	$(GO) test -count=1 -timeout 40m -run '^TestSoak' -v ./internal/soak -args -soak.events=$(SOAK_EVENTS)

bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 6 ./functions/... ./shared/... | tee bench.out

# Loopback load runs with hey against a local stack that bench-load starts and
# stops itself (internal/benchload/bench-load.sh): bounded (BENCH_DURATION per
# run after BENCH_WARMUP unmeasured, BENCH_RUNS runs), 127.0.0.1 only, not
# part of `make test`.
# BENCH_MODE: all (default), emulator (ingest publishing to a Pub/Sub
# emulator in its own process, nothing consuming), discard (the handler
# alone), stack (`eventrelay dev`) or floor (emulator and discard, each
# beside the same HTTP server and queue client doing none of ingest's own
# work). Each run reports ingest's own CPU per event and peak RSS, and the
# emulator's CPU on its own line.
BENCH_MODE     ?= all
BENCH_DURATION ?= 20s
BENCH_RUNS     ?= 1
BENCH_WARMUP   ?= 5s
bench-load:
	MODE='$(BENCH_MODE)' DURATION=$(BENCH_DURATION) RUNS=$(BENCH_RUNS) WARMUP=$(BENCH_WARMUP) GO=$(GO) ./internal/benchload/bench-load.sh

# Terraform without providers (they cannot be had here): formatting, tflint's
# bundled Terraform rules (offline, terraform/.tflint.hcl), and the Go checks
# in internal/tfcheck (load every module, references, variables, IAM scope,
# empty secrets, queue and dead-letter wiring; fixtures prove they fail).
tf-check: $(BIN)/tflint
	terraform fmt -check -recursive -diff terraform
	cd terraform && $(BIN)/tflint --recursive --config $(CURDIR)/terraform/.tflint.hcl
	$(GO) test -count=1 ./internal/tfcheck/

emulators/node_modules/.bin/dynalite: emulators/package.json
	cd emulators && npm install --no-audit --no-fund --loglevel=error
	@touch $@

$(BIN)/benchstat: tools/go.mod
	cd tools && $(GO) build -o $(BIN)/benchstat golang.org/x/perf/cmd/benchstat

$(BIN)/gotestsum: tools/go.mod
	cd tools && $(GO) build -o $(BIN)/gotestsum gotest.tools/gotestsum

$(BIN)/goaws: tools/go.mod
	cd tools && $(GO) build -o $(BIN)/goaws github.com/Admiral-Piett/goaws/app/cmd

$(BIN)/tflint: tools/go.mod
	cd tools && $(GO) build -o $(BIN)/tflint github.com/terraform-linters/tflint

$(BIN)/golangci-lint: tools/go.mod
	cd tools && $(GO) build -o $(BIN)/golangci-lint github.com/golangci/golangci-lint/v2/cmd/golangci-lint

# The artifacts Terraform deploys.
dist: dist/gcp-source.zip dist/lambda-arm64.zip

dist/gcp-source.zip: FORCE
	$(GO) run ./cmd/eventrelay package -o $@

dist/lambda-arm64.zip: FORCE
	mkdir -p dist/lambda
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build -tags lambda.norpc -trimpath -ldflags "-s -w" -o dist/lambda/bootstrap ./cmd/bootstrap
	$(GO) run ./cmd/eventrelay package -lambda dist/lambda/bootstrap -o $@

FORCE:

clean:
	rm -rf bin dist
