package scenario

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestBuiltinsParseAndMatchTheSeedDocuments(t *testing.T) {
	bs, err := Builtins()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*Scenario{}
	for _, b := range bs {
		byName[b.Metadata.Name] = b
	}
	for _, want := range []struct {
		name       string
		autoscaler string
		min, max   int32
	}{
		{"hpa-cpu", HPA, 1, 10},
		{"keda-cpu", KEDACPU, 1, 20},
		{"keda-sqs", KEDASQS, 0, 10},
		{"keda-http", KEDAHTTP, 0, 10},
		{"hpa-cpu-fast", HPA, 1, 10},
		{"keda-cpu-fast", KEDACPU, 1, 20},
		{"hpa-cpu-docs", HPA, 1, 10},
		{"keda-cpu-docs", KEDACPU, 1, 20},
	} {
		s := byName[want.name]
		if s == nil {
			t.Errorf("built-in %s missing (have %v)", want.name, BuiltinNames())
			continue
		}
		a := s.Spec.Autoscaler
		if a.Type != want.autoscaler || *a.MinReplicas != want.min || a.MaxReplicas != want.max {
			t.Errorf("%s: autoscaler %s %d..%d, want %s %d..%d", want.name, a.Type, *a.MinReplicas, a.MaxReplicas, want.autoscaler, want.min, want.max)
		}
	}
	// The -docs variants carry the tutorials' own load; the others serve
	// (10 connections, one per replica at the HPA's peak, a 60 s timeout),
	// and hpa-cpu and keda-cpu send the same load so that bench compare's
	// default pair differs only in the autoscaler.
	for name, conns := range map[string]int{"hpa-cpu-docs": 40, "keda-cpu-docs": 40, "hpa-cpu": 10, "keda-cpu": 10, "hpa-cpu-fast": 10, "keda-cpu-fast": 10} {
		h := byName[name].Spec
		timeout := 60 * time.Second
		if conns == 40 {
			timeout = 5 * time.Second
		}
		duration := 3 * time.Minute
		if strings.HasSuffix(name, "-fast") {
			duration = 100 * time.Second
		}
		if *h.Autoscaler.CPUUtilization != 50 || h.Load.HTTP.Connections != conns || h.Load.HTTP.Timeout.Duration != timeout || h.Load.HTTP.Duration.Duration != duration {
			t.Errorf("%s: want 50 %% CPU and -c %d -t %s -d %s, got %+v %+v", name, conns, timeout, duration, h.Autoscaler, h.Load.HTTP)
		}
	}
	h := byName["hpa-cpu"].Spec
	if r := h.Workload.Resources; r.Limits.CPU != "500m" || r.Limits.Memory != "500Mi" || r.Requests.CPU != "100m" || r.Requests.Memory != "400Mi" {
		t.Errorf("hpa-cpu resources %+v", r)
	}
	q := byName["keda-sqs"].Spec
	if *q.Autoscaler.PollingInterval != 2 || *q.Autoscaler.CooldownPeriod != 30 || *q.Autoscaler.QueueLength != 10 || q.Load.SQS.Messages != 1000 || q.Load.SQS.BatchSize != 10 {
		t.Errorf("keda-sqs knobs %+v load %+v", q.Autoscaler, q.Load.SQS)
	}
	if byName["keda-http"].Spec.Load.HTTP.Host != "hello.example" {
		t.Errorf("keda-http load host %q", byName["keda-http"].Spec.Load.HTTP.Host)
	}
}

func TestDefaults(t *testing.T) {
	s, err := Parse([]byte(`
apiVersion: scalebench.dev/v1alpha1
kind: Scenario
metadata: {name: mine}
spec:
  workload: {name: app, image: example/app:1}
  autoscaler: {type: hpa, maxReplicas: 5}
`), "test")
	if err != nil {
		t.Fatal(err)
	}
	sp := s.Spec
	if sp.Namespace != "default" || sp.Workload.Kind != WorkloadSpinApp || sp.Workload.Executor != DefaultExecutor {
		t.Errorf("workload defaults: %+v", sp)
	}
	if *sp.Autoscaler.MinReplicas != 1 || *sp.Autoscaler.CPUUtilization != 50 {
		t.Errorf("autoscaler defaults: %+v", sp.Autoscaler)
	}
	if sp.Autoscaler.API != "" {
		t.Errorf("api is a keda-http knob, defaulted for hpa to %q", sp.Autoscaler.API)
	}
	h := sp.Load.HTTP
	if sp.Load.Type != LoadHTTP || h == nil || h.Connections != 40 || h.Duration.Duration != 3*time.Minute || h.Timeout.Duration != 5*time.Second || h.Generator != GeneratorBuiltin {
		t.Errorf("load defaults: %+v %+v", sp.Load, h)
	}
}

func TestHTTPAddOnAPIDefaultsToInterceptorRoute(t *testing.T) {
	for _, name := range []string{"keda-http", "keda-http-fast"} {
		s, err := Resolve(name)
		if err != nil {
			t.Fatal(err)
		}
		if s.Spec.Autoscaler.API != HTTPAPIInterceptorRoute {
			t.Errorf("%s: api %q, want the add-on's current API %q", name, s.Spec.Autoscaler.API, HTTPAPIInterceptorRoute)
		}
	}
}

func TestValidationNamesEveryBadFieldByPath(t *testing.T) {
	for _, tc := range []struct {
		name string
		yaml string
		want []string
	}{
		{"unknown fields everywhere", `
apiVersion: scalebench.dev/v1alpha1
kind: Scenario
metadata: {name: x, colour: red}
spec:
  workload: {name: app, image: i, imagePullPolicy: Always}
  autoscaler: {type: hpa, maxReplicas: 3, behavior: {scaleDown: {stabilisationWindowSeconds: 10}}}
  load: {http: {conections: 4, generator: wrk}}
`, []string{
			`spec.load.http.generator: Unsupported value: "wrk": supported values: "builtin", "bombardier"`,
			"metadata.colour: Forbidden: unknown field; allowed fields here: description, labels, name",
			"spec.workload.imagePullPolicy: Forbidden: unknown field",
			"spec.autoscaler.behavior.scaleDown.stabilisationWindowSeconds: Forbidden: unknown field",
			"spec.load.http.conections: Forbidden: unknown field; allowed fields here: coldStarts, connections, duration, generator, host, maxInFlight, mode, path, profile, rate, steps, timeout",
		}},
		{"wrong types", `
apiVersion: scalebench.dev/v1alpha1
kind: Scenario
metadata: {name: x}
spec:
  workload: {name: app, image: i}
  autoscaler: {type: hpa, maxReplicas: "ten"}
  load: {http: {connections: 4.5, duration: forever}}
`, []string{
			`spec.autoscaler.maxReplicas: Invalid value: "ten": want a whole number`,
			`spec.load.http.connections: Invalid value: 4.5: want a whole number`,
			`spec.load.http.duration: Invalid value: "forever": want a duration string`,
		}},
		{"cluster nodes", `
apiVersion: scalebench.dev/v1alpha1
kind: Scenario
metadata: {name: x}
spec:
  workload: {name: app, image: i}
  autoscaler: {type: hpa, maxReplicas: 3}
  cluster: {nodes: {count: 2000, cpu: lots, memory: "-1Gi", pods: 0, size: big}}
`, []string{
			`spec.cluster.nodes.count: Invalid value: 2000: want 1 to 1000 nodes`,
			`spec.cluster.nodes.cpu: Invalid value: "lots": want a positive CPU quantity`,
			`spec.cluster.nodes.memory: Invalid value: "-1Gi": want a positive memory quantity`,
			`spec.cluster.nodes.size: Forbidden: unknown field; allowed fields here: count, cpu, memory, pods`,
		}},
		{"bad values name the allowed ones", `
apiVersion: scalebench.dev/v1alpha1
kind: Scenario
metadata: {name: x}
spec:
  workload: {name: app, image: i, emulation: {model: java}}
  autoscaler: {type: vpa, maxReplicas: 3}
`, []string{
			`spec.workload.emulation.model: Unsupported value: "java": supported values: "cpu-load-gen", "hello", "sqs-transformer"`,
			`spec.autoscaler.type: Unsupported value: "vpa": supported values: "hpa", "keda-cpu", "keda-sqs", "keda-http"`,
		}},
		{"knobs of another autoscaler", `
apiVersion: scalebench.dev/v1alpha1
kind: Scenario
metadata: {name: x}
spec:
  workload: {name: app, image: i}
  autoscaler: {type: hpa, maxReplicas: 3, queueLength: 10, minReplicas: 0}
`, []string{
			`spec.autoscaler.queueLength: Forbidden: not a knob of autoscaler type "hpa" (it belongs to: [keda-sqs])`,
			`spec.autoscaler.minReplicas: Invalid value: 0: must be >= 1 for hpa`,
		}},
		{"the HTTP add-on's API", `
apiVersion: scalebench.dev/v1alpha1
kind: Scenario
metadata: {name: x}
spec:
  workload: {name: app, image: i}
  autoscaler: {type: keda-http, maxReplicas: 3, hosts: [a.example], api: Gateway}
`, []string{
			`spec.autoscaler.api: Unsupported value: "Gateway": supported values: "InterceptorRoute", "HTTPScaledObject"`,
		}},
		{"an HTTPScaledObject has no behavior; api only for keda-http", `
apiVersion: scalebench.dev/v1alpha1
kind: Scenario
metadata: {name: x}
spec:
  workload: {name: app, image: i}
  autoscaler: {type: keda-http, maxReplicas: 3, hosts: [a.example], api: HTTPScaledObject, behavior: {scaleDown: {stabilizationWindowSeconds: 10}}}
`, []string{
			`spec.autoscaler.behavior: Forbidden: an HTTPScaledObject has no HPA behavior`,
		}},
		{"api of another autoscaler", `
apiVersion: scalebench.dev/v1alpha1
kind: Scenario
metadata: {name: x}
spec:
  workload: {name: app, image: i}
  autoscaler: {type: hpa, maxReplicas: 3, api: InterceptorRoute}
`, []string{
			`spec.autoscaler.api: Forbidden: not a knob of autoscaler type "hpa" (it belongs to: [keda-http])`,
		}},
		{"expectations out of range", `
apiVersion: scalebench.dev/v1alpha1
kind: Scenario
metadata: {name: x}
spec:
  workload: {name: app, image: i}
  autoscaler: {type: keda-sqs, maxReplicas: 3}
  load: {sqs: {messages: 0, batchSize: 11}}
  expectations: {scaleUp: {replicas: 5, within: 1m}, maxMessagesLost: -1}
`, []string{
			`spec.load.sqs.messages: Invalid value: 0: must be >= 1`,
			`spec.load.sqs.batchSize: Invalid value: 11: 1..10`,
			`spec.expectations.scaleUp.replicas: Invalid value: 5: 1..maxReplicas (3)`,
			`spec.expectations.maxMessagesLost: Invalid value: -1: must be >= 0`,
		}},
		{"bounds that could not fail, and no-scale-up as scale-up", `
apiVersion: scalebench.dev/v1alpha1
kind: Scenario
metadata: {name: x}
spec:
  workload: {name: app, image: i}
  autoscaler: {type: hpa, minReplicas: 2, maxReplicas: 5}
  expectations: {scaleUp: {replicas: 2, atMost: 6, within: 1m}, maxReplicas: 5, maxErrorRate: 1}
`, []string{
			`spec.expectations.scaleUp.replicas: Invalid value: 2: must be above minReplicas (2): reaching the starting count is no scale-up; to say the workload must not scale, set expectations.maxReplicas: 2 instead`,
			`spec.expectations.scaleUp.atMost: Invalid value: 6: must be <= autoscaler.maxReplicas (5)`,
			`spec.expectations.maxReplicas: Invalid value: 5: must be below autoscaler.maxReplicas (5): the autoscaler never exceeds its own maximum, so this could not fail`,
			`spec.expectations.maxErrorRate: Invalid value: 1: a fraction in [0, 1): at 1 every request could fail`,
		}},
		{"error budget without HTTP load", `
apiVersion: scalebench.dev/v1alpha1
kind: Scenario
metadata: {name: x}
spec:
  workload: {name: app, image: i}
  autoscaler: {type: keda-sqs, maxReplicas: 3}
  load: {sqs: {messages: 10}}
  expectations: {maxErrorRate: 0.1, maxReplicas: 0}
`, []string{
			`spec.expectations.maxErrorRate: Forbidden: only for load type http`,
		}},
		{"load modes", `
apiVersion: scalebench.dev/v1alpha1
kind: Scenario
metadata: {name: x}
spec:
  workload: {name: app, image: i}
  autoscaler: {type: hpa, maxReplicas: 3}
  load: {http: {mode: burst}}
`, []string{
			`spec.load.http.mode: Unsupported value: "burst": supported values: "closed-loop", "open-loop"`,
		}},
		{"open loop without a rate, with connections, via bombardier", `
apiVersion: scalebench.dev/v1alpha1
kind: Scenario
metadata: {name: x}
spec:
  workload: {name: app, image: i}
  autoscaler: {type: hpa, maxReplicas: 3}
  load: {http: {mode: open-loop, connections: 40, maxInFlight: 20000, generator: bombardier}}
`, []string{
			`spec.load.http.rate: Invalid value: 0: open-loop mode needs the arrival rate, > 0 requests/s`,
			`spec.load.http.connections: Forbidden: open-loop mode sends at the arrival rate whatever the responses; bound the requests in flight with maxInFlight`,
			`spec.load.http.maxInFlight: Invalid value: 20000: 0 (default: rate × timeout + 1) or 1..10000`,
			`spec.load.http.mode: Invalid value: "open-loop": generator bombardier is closed-loop only`,
		}},
		{"open-loop steps, closed-loop maxInFlight", `
apiVersion: scalebench.dev/v1alpha1
kind: Scenario
metadata: {name: x}
spec:
  workload: {name: app, image: i}
  autoscaler: {type: hpa, maxReplicas: 3}
  load: {http: {mode: open-loop, steps: [{duration: 10s, rate: 50}, {duration: 10s, connections: 4}, {duration: 10s}]}}
`, []string{
			`spec.load.http.steps[1].connections: Forbidden: open-loop steps have no connections: set the arrival rate`,
			`spec.load.http.steps[2].rate: Invalid value: 0: each open-loop step needs an arrival rate > 0 (requests/s)`,
		}},
		{"closed loop with maxInFlight, bombardier with steps and a fractional rate", `
apiVersion: scalebench.dev/v1alpha1
kind: Scenario
metadata: {name: x}
spec:
  workload: {name: app, image: i}
  autoscaler: {type: hpa, maxReplicas: 3}
  load: {http: {maxInFlight: 10, rate: 2.5, generator: bombardier, steps: [{duration: 10s, connections: 2}]}}
`, []string{
			`spec.load.http.maxInFlight: Forbidden: only in open-loop mode; a closed loop's connections bound its requests in flight`,
			`spec.load.http.steps: Forbidden: generator bombardier has no steps; use generator builtin`,
			`spec.load.http.rate: Invalid value: 2.5: generator bombardier takes whole requests per second (-r)`,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml), "test.yaml")
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("want a *ValidationError, got %v", err)
			}
			msg := err.Error()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error does not contain %q:\n%s", w, msg)
				}
			}
		})
	}
}

func TestErrorBudgetAndMustNotScale(t *testing.T) {
	bs, err := Builtins()
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bs {
		r := b.Spec.Expectations.MaxErrorRate
		switch {
		case b.Spec.Load.Type == LoadHTTP && r == nil:
			t.Errorf("%s: an HTTP scenario without an error budget", b.Metadata.Name)
		case b.Spec.Load.Type != LoadHTTP && r != nil:
			t.Errorf("%s: an error budget without HTTP load", b.Metadata.Name)
		}
	}
	s, err := Parse([]byte(`
apiVersion: scalebench.dev/v1alpha1
kind: Scenario
metadata: {name: idle}
spec:
  workload: {name: app, image: i}
  autoscaler: {type: hpa, maxReplicas: 5}
  load: {http: {connections: 1, duration: 10s}}
  expectations: {maxReplicas: 1}
`), "test")
	if err != nil {
		t.Fatalf("must-not-scale scenario: %v", err)
	}
	e := s.Spec.Expectations
	if *e.MaxReplicas != 1 || *e.MaxErrorRate != DefaultMaxErrorRate || e.ScaleUp != nil {
		t.Errorf("expectations %+v", e)
	}
	if s.HPAName() != "app" || s.ScaledObjectName() != "" {
		t.Errorf("names %q %q", s.HPAName(), s.ScaledObjectName())
	}
	k, _ := Resolve("keda-cpu")
	if k.HPAName() != "keda-hpa-cpu-scaling" || k.ScaledObjectName() != "cpu-scaling" {
		t.Errorf("keda-cpu names %q %q", k.HPAName(), k.ScaledObjectName())
	}
}

func TestOpenLoopScenario(t *testing.T) {
	s, err := Parse([]byte(`
apiVersion: scalebench.dev/v1alpha1
kind: Scenario
metadata: {name: x}
spec:
  workload: {name: app, image: i}
  autoscaler: {type: hpa, maxReplicas: 3}
  load: {http: {mode: open-loop, rate: 200, duration: 2m}}
`), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	h := s.Spec.Load.HTTP
	if h.Mode != LoadOpenLoop || h.Connections != 0 || h.Rate != 200 || h.MaxInFlight != 0 {
		t.Errorf("open-loop load defaulted to %+v; want no connections, rate 200, default maxInFlight", h)
	}
	if got, want := h.Summary(), "open-loop 200/s -t 5s -d 2m0s"; got != want {
		t.Errorf("Summary() = %q, want %q", got, want)
	}
	bs, err := Builtins()
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bs {
		if h := b.Spec.Load.HTTP; h != nil && (h.Mode != LoadClosedLoop || !strings.HasPrefix(h.Summary(), "closed-loop -c ")) {
			t.Errorf("built-in %s: mode %q, summary %q; want closed-loop by default", b.Metadata.Name, h.Mode, h.Summary())
		}
	}
}

func TestLoadUnknownName(t *testing.T) {
	_, err := Resolve("hpa-gpu")
	if err == nil || !strings.Contains(err.Error(), "hpa-cpu") {
		t.Fatalf("want an error listing the built-ins, got %v", err)
	}
}

func TestLoadPlacement(t *testing.T) {
	base := `apiVersion: scalebench.dev/v1alpha1
kind: Scenario
metadata: {name: p}
spec:
  workload: {name: w, image: example.test/app:1}
  autoscaler: {type: hpa, maxReplicas: 4, cpuUtilization: 50}
  load:
`
	s, err := Parse([]byte(base+"    http: {connections: 6}\n    placement: cluster\n    cluster: {parallelism: 3}\n"), "t")
	if err != nil {
		t.Fatal(err)
	}
	if l := s.Spec.Load; l.Placement != PlacementCluster || l.Cluster.Parallelism != 3 || l.Cluster.StartDelay.Duration != DefaultLoadStartDelay {
		t.Errorf("load %+v %+v", l, l.Cluster)
	}
	s, err = Parse([]byte(base+"    http: {connections: 6}\n"), "t")
	if err != nil || s.Spec.Load.Placement != PlacementBench {
		t.Errorf("default placement %q, err %v; want bench", s.Spec.Load.Placement, err)
	}
	for _, c := range []struct{ load, want string }{
		{"    placement: pod\n", `spec.load.placement: Unsupported value: "pod": supported values: "bench", "cluster"`},
		{"    placement: cluster\n    cluster: {parallelism: 101}\n", "spec.load.cluster.parallelism: Invalid value: 101: 1..100 pods"},
		{"    placement: cluster\n    cluster: {parallelism: -1}\n", "spec.load.cluster.parallelism"},
		{"    http: {connections: 2}\n    placement: cluster\n    cluster: {parallelism: 3}\n", "spec.load.http.connections: Invalid value: 2: at least load.cluster.parallelism (3)"},
		{"    http: {generator: bombardier}\n    placement: cluster\n", "spec.load.http.generator"},
		{"    placement: cluster\n    cluster: {url: 'ftp://x'}\n", "spec.load.cluster.url"},
		{"    cluster: {parallelism: 2}\n", "spec.load.cluster: Forbidden: only with placement cluster"},
		{"    type: cpu\n    placement: cluster\n    cpu: {steps: [{duration: 10s, utilization: 50}]}\n", "spec.load.placement: Invalid value: \"cluster\": only HTTP load"},
	} {
		_, err := Parse([]byte(base+c.load), "t")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: err = %v, want %q", c.load, err, c.want)
		}
	}
}
