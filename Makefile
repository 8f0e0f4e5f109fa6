# scalebench — `make help` lists the targets.
GO ?= go
SUITE_TIMEOUT ?= 80m

.PHONY: help test deps vet test-unit components test-suites build run scenarios bench clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

test: deps vet test-unit components test-suites ## what CI runs: vet, unit tests, then the end-to-end suites on the emulated cluster

deps: ## install what the suites need from the distribution when missing (redis-server, via apt-get)
	@command -v redis-server >/dev/null 2>&1 || { \
	  echo "installing redis-server (the keda-sqs scenario's store on the emulated cluster)"; \
	  if [ "$$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq redis-server >/dev/null; }
	@redis-server --version

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
