package runner

import (
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/scalebench/scalebench/results"
	"github.com/scalebench/scalebench/scenario"
	"github.com/scalebench/scalebench/workloads"
)

func builtin(t *testing.T, name string) *scenario.Scenario {
	t.Helper()
	s, err := scenario.Resolve(name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestIsolateGivesEachScenarioItsNamespaceAndHost(t *testing.T) {
	hpa, keda := builtin(t, "hpa-cpu"), builtin(t, "keda-cpu")
	iso, err := Isolate([]*scenario.Scenario{hpa, keda})
	if err != nil {
		t.Fatal(err)
	}
	if iso[0].Spec.Namespace != "hpa-cpu" || iso[1].Spec.Namespace != "keda-cpu" {
		t.Errorf("namespaces %q, %q; want each scenario's own", iso[0].Spec.Namespace, iso[1].Spec.Namespace)
	}
	if h := iso[0].Spec.Load.HTTP.Host; h != "hpa-cpu."+ParallelHostSuffix {
		t.Errorf("hpa-cpu host %q", h)
	}
	// The originals are untouched (the plan may run them alone too).
	if hpa.Spec.Namespace != "default" || hpa.Spec.Load.HTTP.Host != "" {
		t.Errorf("Isolate changed its input: namespace %q, host %q", hpa.Spec.Namespace, hpa.Spec.Load.HTTP.Host)
	}
	// The Ingress the app is reached by names that host, so the two apps'
	// routes do not overlap.
	for _, sc := range iso {
		set, err := workloads.Render(sc, workloads.Options{})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, o := range set.Workload {
			if o.GetKind() != "Ingress" {
				continue
			}
			found = true
			rules, _, _ := unstructured.NestedSlice(o.Object, "spec", "rules")
			if len(rules) != 1 || rules[0].(map[string]any)["host"] != sc.Spec.Load.HTTP.Host || o.GetNamespace() != sc.Spec.Namespace {
				t.Errorf("%s: Ingress %s/%s rules %v, want host %s", sc.Metadata.Name, o.GetNamespace(), o.GetName(), rules, sc.Spec.Load.HTTP.Host)
			}
		}
		if !found {
			t.Errorf("%s renders no Ingress", sc.Metadata.Name)
		}
	}
	// Isolating again changes nothing.
	again, err := Isolate(iso)
	if err != nil {
		t.Fatal(err)
	}
	for i := range iso {
		if again[i].Spec.Namespace != iso[i].Spec.Namespace || again[i].Spec.Load.HTTP.Host != iso[i].Spec.Load.HTTP.Host {
			t.Errorf("Isolate is not idempotent: %q/%q vs %q/%q", again[i].Spec.Namespace, again[i].Spec.Load.HTTP.Host, iso[i].Spec.Namespace, iso[i].Spec.Load.HTTP.Host)
		}
	}
}

func TestIsolateRefusesWhatItCannotSeparate(t *testing.T) {
	for _, tc := range []struct {
		name string
		scs  func() []*scenario.Scenario
		want string
	}{
		{"same scenario twice", func() []*scenario.Scenario {
			return []*scenario.Scenario{builtin(t, "hpa-cpu"), builtin(t, "hpa-cpu")}
		}, "named twice"},
		{"keda-http host in common", func() []*scenario.Scenario {
			b := builtin(t, "keda-http")
			b.Metadata.Name = "keda-http-2"
			return []*scenario.Scenario{builtin(t, "keda-http"), b}
		}, `host "hello.example"`},
		{"SQS queue in common", func() []*scenario.Scenario {
			b := builtin(t, "keda-sqs")
			b.Metadata.Name = "keda-sqs-2"
			return []*scenario.Scenario{builtin(t, "keda-sqs"), b}
		}, "SQS queue"},
		{"a namespace the user's manifests fix", func() []*scenario.Scenario {
			b := builtin(t, "keda-cpu")
			b.Manifests = &scenario.Manifests{Source: "app.yaml"}
			return []*scenario.Scenario{builtin(t, "hpa-cpu"), b}
		}, "app.yaml"},
	} {
		_, err := Isolate(tc.scs())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Isolate error %v, want one saying %q", tc.name, err, tc.want)
		}
	}
	// Different hosts, queues and namespaces are fine.
	if _, err := Isolate([]*scenario.Scenario{builtin(t, "keda-http"), builtin(t, "keda-sqs"), builtin(t, "hpa-cpu")}); err != nil {
		t.Errorf("keda-http, keda-sqs and hpa-cpu: %v", err)
	}
}

func TestSessionRunsAParallelPlanTogether(t *testing.T) {
	out := t.TempDir()
	var running, most atomic.Int32
	var mu sync.Mutex
	seen := map[string]string{} // scenario -> namespace it ran in
	both := make(chan struct{})
	var once sync.Once
	run := func(ctx context.Context, o Options, s *scenario.Scenario) results.Scenario {
		n := running.Add(1)
		defer running.Add(-1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		if n == 2 {
			once.Do(func() { close(both) })
		}
		select { // each waits until both have started: they ran together
		case <-both:
		case <-time.After(10 * time.Second):
		}
		mu.Lock()
		seen[s.Metadata.Name] = s.Spec.Namespace
		mu.Unlock()
		return results.Scenario{Name: s.Metadata.Name, Autoscaler: s.Spec.Autoscaler.Type, Passed: true, Steps: []results.Step{}, Checks: []results.Check{{Name: "ok", Passed: true}}}
	}
	p := &fakeProvider{}
	rep, err := RunSession(context.Background(), SessionConfig{Provider: p, Out: out, RunScenario: run, Autoscalers: []string{"hpa", "keda-cpu"}},
		Plan{Scenarios: []*scenario.Scenario{builtin(t, "hpa-cpu"), builtin(t, "keda-cpu")}, Repeat: 2, Parallel: true})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.opts.Autoscalers, []string{"hpa", "keda-cpu"}) {
		t.Errorf("cluster options' Autoscalers %v", p.opts.Autoscalers)
	}
	if most.Load() != 2 {
		t.Errorf("at most %d scenarios ran at once, want 2", most.Load())
	}
	if seen["hpa-cpu"] != "hpa-cpu" || seen["keda-cpu"] != "keda-cpu" {
		t.Errorf("namespaces %v, want each scenario's own", seen)
	}
	var order []string
	for _, s := range rep.Scenarios {
		order = append(order, s.Name)
	}
	if !slices.Equal(order, []string{"hpa-cpu", "keda-cpu", "hpa-cpu", "keda-cpu"}) {
		t.Errorf("results in order %v, want the plan's order trial by trial", order)
	}
	if got := rep.Scenarios[0].RanWith; !slices.Equal(got, []string{"keda-cpu"}) {
		t.Errorf("hpa-cpu ranWith %v", got)
	}
	if got := rep.Scenarios[1].RanWith; !slices.Equal(got, []string{"hpa-cpu"}) {
		t.Errorf("keda-cpu ranWith %v", got)
	}
	if rep.Scenarios[2].Trial != 2 || len(rep.Aggregates) != 2 {
		t.Errorf("trials %d, aggregates %d; want trial 2 and 2 aggregates", rep.Scenarios[2].Trial, len(rep.Aggregates))
	}
	if written := readReport(t, out); !slices.Equal(written.Scenarios[0].RanWith, []string{"keda-cpu"}) {
		t.Errorf("report.json ranWith %v", written.Scenarios[0].RanWith)
	}
}

func TestSessionRunsAScenarioAloneWithoutRanWith(t *testing.T) {
	rep, err := RunSession(context.Background(), SessionConfig{Provider: &fakeProvider{}, RunScenario: verdicts(map[string]string{"a": "pass"})},
		Plan{Scenarios: []*scenario.Scenario{testScenario(t, "a")}, Parallel: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Scenarios) != 1 || rep.Scenarios[0].RanWith != nil {
		t.Errorf("a plan of one scenario: %+v", rep.Scenarios)
	}
}

func TestPlanAutoscalers(t *testing.T) {
	p := Plan{Scenarios: []*scenario.Scenario{builtin(t, "hpa-cpu"), builtin(t, "keda-cpu"), builtin(t, "hpa-cpu-fast")}}
	if got := p.Autoscalers(); !slices.Equal(got, []string{"hpa", "keda-cpu"}) {
		t.Errorf("Autoscalers() = %v", got)
	}
}
