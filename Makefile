# scalebench — `make help` lists the targets.
GO ?= go
SUITE_TIMEOUT ?= 80m
INTEGRATION_TIMEOUT ?= 30m

.PHONY: help test test-fuzz deps vet lint test-unit components test-integration test-suites test-profiles build run compare scenarios bench bench-scale bench-replicas bench-parallel clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-17s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

test: deps vet lint test-unit test-fuzz components test-integration test-suites ## what CI runs: vet, actionlint, unit tests, integration tests, then the end-to-end suites on the emulated cluster

deps: ## install what the tests need from the distribution when missing (redis-server, chromium, shellcheck, via apt-get)
	@command -v redis-server >/dev/null 2>&1 || { \
	  echo "installing redis-server (the keda-sqs scenario's store on the emulated cluster)"; \
	  if [ "$$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq redis-server >/dev/null; }
	@redis-server --version
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing chromium (compare.html is checked in headless Chromium by make test-integration)"; \
	  if [ "$$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }
	@chromium --version 2>/dev/null
	@command -v shellcheck >/dev/null 2>&1 || { \
	  echo "installing shellcheck (actionlint checks the workflows' run: scripts with it)"; \
	  if [ "$$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq shellcheck >/dev/null; }
	@shellcheck --version | sed -n 2p

vet: ## go vet ./...
	$(GO) vet ./...

# actionlint is pinned in go.mod (a Go tool); with shellcheck on PATH (make
# deps) it checks the run: scripts too. 6 s measured on a 2-core machine.
lint: ## actionlint over .github/workflows (pinned in go.mod; shellcheck from make deps checks run: scripts)
	$(GO) tool actionlint .github/workflows/*.yml

test-unit: ## unit tests, no cluster needed (go test -short ./...)
	$(GO) test -short -count=1 ./...

FUZZTIME ?= 20s
test-fuzz: ## fuzz the scenario decoder and the report loader briefly (FUZZTIME each; seeds run in test-unit)
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./scenario/
	$(GO) test -run '^$$' -fuzz '^FuzzReadJSON$$' -fuzztime $(FUZZTIME) ./reports/

components: ## build the emulated cluster's components that are not cached yet (first time: ~20 min on 2 cores)
	$(GO) run ./cmd/bench components --progress=always

# The tests -short skips: the emulated cluster end to end (HPA, KEDA, the HTTP
# add-on, SQS with goaws and redis-server), the data plane on a real control
# plane, the component builder, goaws in its network namespace, bombardier on
# loopback, and LocalStack (skipped, saying why, without a Docker daemon).
# ./compare/... renders compare.html in headless Chromium (41 s measured on
# a 2-core machine under heavy load; skipped, naming the install step,
# without /usr/bin/chromium).
# Measured on a 2-core machine shared with other builds, components cached:
# ≈ 8 min (./clusters/emulated/... 6.6 min, its four cluster tests 65-160 s
# each; ./clusters/sqsbackend and ./load 1.6 min, most of it building
# bombardier once), before TestUsageToHPALag joined them (≈ 5 min by its own
# account, not yet timed here): ≈ 13 min in all, within CI's 15.
# TestScaffoldHPAUnderCPUProfile (the scaffold-hpa manifests under a CPU
# profile, ./clusters/emulated) adds 3.8 min (228 s measured, cluster included).
# TestScenarioManifestsPassTheRealAPI (./clusters/emulated) applies every
# built-in scenario's objects, keda-http with both HTTP add-on APIs, to a
# cluster: 16 s measured (cluster start included).
# TestNodesAsNeeded (./clusters/emulated): 50 replicas in nodes of 10 pods get
# the 7 derived nodes and reach Ready over them: 19 s measured.
# TestThreeAppsAtOnce (./clusters/emulated) runs three keda-http apps at once
# (spec.apps): 97 s measured on a shared 2-core machine, cluster included.
# TestLoadJobOnEmulatedCluster (./clusters/emulated) runs a load placed in the
# cluster as a 2-pod Job (load.placement: cluster): 114 s measured on a shared
# 2-core machine, cluster included.
test-integration: ## integration tests skipped by -short (emulated cluster, data plane, components, netns, bombardier, LocalStack, cluster up + --cluster existing)
	$(GO) test -count=1 -timeout $(INTEGRATION_TIMEOUT) ./clusters/... ./load/... ./compare/...
	# the Helm install of the platform onto an emulated cluster, charts from a chart repository and an OCI
	# registry on loopback (after the others: one cluster at a time; 35-40 s measured on a shared 2-core machine)
	$(GO) test -count=1 -timeout 5m ./platform/...
	# bench cluster up, then bench run --cluster existing on its kubeconfig (a 200-message keda-sqs in a namespace
	# the run creates) and the check that the run left the cluster as it found it (122 s measured on a 2-core
	# machine under heavy load)
	$(GO) test -count=1 -timeout 10m -run '^TestClusterUpThenRunExisting$$' ./cmd/bench/app/
	# bench run --cluster k3d and kind against a Docker engine: they stop at the node image pull, naming it, and
	# leave no container, network or volume (skipped, saying why, when no engine answers; 11 s measured with one)
	$(GO) test -count=1 -timeout 5m -run '^TestRunRealClusterStopsAtImagePull$$' ./cmd/bench/app/
	# bench run (the built binary) interrupted by SIGINT 60 s after its start:
	# exit 130 within 30 s, no process or file of the run left, report.json
	# marked interrupted (85 s measured, the binary's build included; it exited
	# 1.3 s after the signal)
	$(GO) test -count=1 -timeout 5m -run '^TestRunInterruptedBySIGINT$$' ./cmd/bench/

# suites/faults (app 5xx, metrics-server killed, API server restarted, goaws
# killed, on one cluster): 267 s measured on a 2-core machine shared with
# other builds.
test-suites: ## end-to-end suites (one emulated cluster per suite, one at a time)
	$(GO) test -count=1 -p 1 -timeout $(SUITE_TIMEOUT) -v ./suites/...

# The load-profile fixtures (fixtures/profiles: an HPA under a request-rate
# profile, keda-sqs under a message arrival profile) and three manifest
# fixtures (a plain Deployment with an HPA, an InterceptorRoute with its
# external-push ScaledObject, a KEDA cpu trigger under a CPU profile: 5.2 min
# measured) through bench run on one emulated cluster; exit 1 when an
# expectation fails. Nightly, not in make test: measured on a 2-core machine
# shared with other clusters, the profiles 6.9 min together (scenarios 248 s
# and 116 s) and the two manifest scenarios 203 s and 189 s.
PROFILE_SCENARIOS = fixtures/profiles/hpa-rate-profile.yaml fixtures/profiles/keda-sqs-arrivals.yaml \
	fixtures/manifests/deployment-hpa-cpu-profile.yaml fixtures/manifests/http-interceptorroute-rate-profile.yaml \
	fixtures/manifests/keda-cpu-cpu-profile.yaml fixtures/manifests/scaffold-keda-cpu-profile.yaml
test-profiles: ## nightly: bench run on the rate- and arrival-profile fixtures (one emulated cluster)
	$(GO) run ./cmd/bench run --ingress-addr 127.0.0.1:0 --out scalebench-results/profiles $(foreach s,$(PROFILE_SCENARIOS),--scenario $(s))

build: ## build bin/bench
	$(GO) build -o bin/bench ./cmd/bench

run: ## run the default scenarios (hpa-cpu, keda-cpu) on the emulated cluster
	$(GO) run ./cmd/bench run

compare: ## compare hpa-cpu and keda-cpu over 5 interleaved trials each on the emulated cluster (compare.md, .json, .html)
	$(GO) run ./cmd/bench compare

# The scale benchmark: keda-http-fast (from zero) and keda-cpu-fast (from
# one) with K = SCALE_APPS apps at once each, one scenario per K (named
# <scenario>-k<K>) on one emulated cluster; report.md's "Apps at once" table
# gives the per-app reaction distributions as a function of K. Nightly
# (.github/workflows/nightly.yml) gates it with bench diff against the last
# good run's report.json.
SCALE_APPS ?= 1,5,25,100
SCALE_OUT ?= scalebench-results/scale
bench-scale: ## the scale benchmark: keda-http-fast and keda-cpu-fast at SCALE_APPS (1,5,25,100) apps at once (reports in SCALE_OUT)
	$(GO) run ./cmd/bench run --scenario keda-http-fast --scenario keda-cpu-fast --apps $(SCALE_APPS) --ingress-addr 127.0.0.1:0 --out $(SCALE_OUT)

# Scenarios in parallel: hpa-cpu-fast and keda-cpu-fast alone (one bench
# run, one after the other), then together (bench run --parallel, a second
# run), each run on its own emulated cluster with the same knobs; then bench
# diff checks that every reaction metric of each scenario together differs
# from alone by at most one HPA sync period (read from the reports'
# environment.knobs hpa.syncPeriod) plus PARALLEL_MARGIN seconds, either
# way, and that both scenarios passed every check in both runs. Exit 1 when
# a run or the check fails (every step runs regardless); diff.md is the
# job summary. Nightly.
PARALLEL_SCENARIOS = --scenario hpa-cpu-fast --scenario keda-cpu-fast
PARALLEL_METRICS = decisionSeconds,firstScaleUpSeconds,firstReadySeconds,timeToPeakSeconds,scaleDownSeconds
PARALLEL_MARGIN ?= 2
PARALLEL_OUT ?= scalebench-results/parallel
bench-parallel: ## hpa-cpu-fast and keda-cpu-fast alone, then together (--parallel): reaction metrics within one HPA sync period + PARALLEL_MARGIN s (PARALLEL_OUT/diff.md)
	rm -rf $(PARALLEL_OUT) && mkdir -p $(PARALLEL_OUT)
	$(GO) build -o bin/bench ./cmd/bench
	status=0; \
	bin/bench run $(PARALLEL_SCENARIOS) --ingress-addr 127.0.0.1:0 --progress never --out $(PARALLEL_OUT)/alone || status=1; \
	bin/bench run --parallel $(PARALLEL_SCENARIOS) --ingress-addr 127.0.0.1:0 --progress never --out $(PARALLEL_OUT)/together || status=1; \
	bin/bench diff --rel 0 --two-sided --sync-periods 1 --abs-seconds $(PARALLEL_MARGIN) --require-pass --metrics $(PARALLEL_METRICS) \
	  --md $(PARALLEL_OUT)/diff.md $(PARALLEL_OUT)/alone/report.json $(PARALLEL_OUT)/together/report.json || status=1; \
	exit $$status

scenarios: ## list the built-in scenarios
	$(GO) run ./cmd/bench scenarios

bench: ## micro-benchmarks (load generator vs bombardier)
	$(GO) test -run '^$$' -bench . -benchtime 3x ./load/...

# The emulated cluster at scale (clusters/emulated/replicasbench): one app
# (fixtures/scale/hpa-1000-replicas.yaml's workload) at BENCH_REPLICAS
# replicas, then BENCH_APPS apps × replicas, each on its own cluster with the
# nodes derived from the replicas; ready time, CPU and memory per replica,
# observation lag. Tables and JSON in BENCH_REPLICAS_OUT. Nightly.
BENCH_REPLICAS ?= 10,100,1000
BENCH_APPS ?= 100x10
BENCH_REPLICAS_OUT ?= $(CURDIR)/scalebench-results/bench-replicas
bench-replicas: ## measure 10/100/1000 replicas of one app and 100 apps × 10 on the emulated cluster (ready time, CPU and memory per replica, observation lag)
	mkdir -p $(BENCH_REPLICAS_OUT)
	SCALEBENCH_BENCH_REPLICAS=$(BENCH_REPLICAS) SCALEBENCH_BENCH_APPS=$(BENCH_APPS) SCALEBENCH_BENCH_OUT=$(BENCH_REPLICAS_OUT) \
	  $(GO) test -count=1 -timeout 60m -v -run '^Test(Replicas|Apps)Benchmark$$' ./clusters/emulated/replicasbench/

clean: ## remove build output and local results
	rm -rf bin scalebench-results
