# scalebench — `make help` lists the targets.
GO ?= go
SUITE_TIMEOUT ?= 80m

.PHONY: help test vet test-unit components test-suites build run scenarios bench clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

test: vet test-unit components test-suites ## what CI runs: vet, unit tests, then the end-to-end suites on the emulated cluster

vet: ## go vet ./...
	$(GO) vet ./...

test-unit: ## unit tests, no cluster needed (go test -short ./...)
	$(GO) test -short -count=1 ./...

components: ## build the emulated cluster's components that are not cached yet (first time: ~20 min on 2 cores)
	$(GO) run ./cmd/bench components --progress=always

test-suites: ## end-to-end suites (one emulated cluster per suite, one at a time)
	$(GO) test -count=1 -p 1 -timeout $(SUITE_TIMEOUT) -v ./suites/...

build: ## build bin/bench
	$(GO) build -o bin/bench ./cmd/bench

run: ## run the default scenarios (hpa-cpu, keda-cpu) on the emulated cluster
	$(GO) run ./cmd/bench run

scenarios: ## list the built-in scenarios
	$(GO) run ./cmd/bench scenarios

bench: ## micro-benchmarks (load generator vs bombardier)
	$(GO) test -run '^$$' -bench . -benchtime 3x ./load/...

clean: ## remove build output and local results
	rm -rf bin scalebench-results
