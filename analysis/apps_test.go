package analysis

import (
	"strings"
	"testing"

	"github.com/scalebench/scalebench/results"
	"github.com/scalebench/scalebench/scenario"
	"github.com/scalebench/scalebench/timeline"
)

// threeApps is keda-cpu with three apps; each app's own scenario.
func threeApps(t *testing.T) (*scenario.Scenario, []*scenario.Scenario) {
	t.Helper()
	s := builtin(t, "keda-cpu")
	s.SetApps(3)
	apps := make([]*scenario.Scenario, 3)
	for i := range apps {
		a, err := scenario.ForApp(s, i+1)
		if err != nil {
			t.Fatal(err)
		}
		apps[i] = a
	}
	return s, apps
}

// appSeed is kedaCPUSeed for one app, its first decision at up (seconds).
func appSeed(a *scenario.Scenario, up float64) *tl {
	b := &tl{workload: a.Spec.Workload.Name, hpaName: a.HPAName()}
	b.deploy(0, 1, 1).mark(10, timeline.MarkerLoadStart)
	b.upSteps(up, 1, 2, 4, 8, 16, 20)
	b.mark(190, timeline.MarkerLoadStop)
	b.hpaOf(a.HPAName(), 505, 20, 1).deploy(505.2, 1, 20).deploy(506, 1, 1)
	return b
}

func TestAppsDistributionsAndAFailingApp(t *testing.T) {
	s, apps := threeApps(t)
	var res []results.Scenario
	// Apps 1 and 2 scale up 60 and 75 s after the load start; app 3's
	// autoscaler never acts (its Deployment stays at 1).
	for i, up := range []float64{70, 85} {
		res = append(res, Analyze(Input{Scenario: apps[i], Events: appSeed(apps[i], up).evs, Load: &LoadTotals{Requests: 2000, Errors: 20}}))
	}
	idle := &tl{workload: apps[2].Spec.Workload.Name, hpaName: apps[2].HPAName()}
	idle.deploy(0, 1, 1).mark(10, timeline.MarkerLoadStart).mark(190, timeline.MarkerLoadStop)
	res = append(res, Analyze(Input{Scenario: apps[2], Events: idle.evs, Load: &LoadTotals{Requests: 1000, Errors: 500}}))
	if !res[0].Passed || !res[1].Passed || res[2].Passed {
		t.Fatalf("per-app verdicts %v %v %v, want pass pass fail", res[0].Passed, res[1].Passed, res[2].Passed)
	}

	got := AnalyzeApps(s, res)
	if got.Passed {
		t.Error("a scenario with a failing app passed")
	}
	a := got.Apps
	if a == nil || a.Count != 3 || a.Passed != 2 || len(a.Failed) != 1 || a.Failed[0] != "keda-cpu-3" || a.Load != scenario.AppsLoadReplicate {
		t.Fatalf("apps %+v", a)
	}
	if c := check(t, got, "app keda-cpu-3"); c.Passed || !strings.Contains(c.Detail, `"`+CheckScaleUp+`"`) {
		t.Errorf("the failing app's check must name its failed check: %+v", c)
	}
	if c := check(t, got, "app keda-cpu-1"); !c.Passed {
		t.Errorf("app 1's check: %+v", c)
	}
	up := a.Metrics["firstScaleUpSeconds"]
	// 60.2 and 75.2 s: nearest rank, p50 is the first, p95 the second.
	if up == nil || up.N != 2 || up.Min != 60.2 || up.P50 != 60.2 || up.P95 != 75.2 || up.Max != 75.2 {
		t.Errorf("firstScaleUpSeconds %+v", up)
	}
	if why := up.Absent["keda-cpu-3"]; why == "" || len(up.Absent) != 1 {
		t.Errorf("firstScaleUpSeconds must be absent in keda-cpu-3 only, with a reason: %+v", up.Absent)
	}
	// Scale-down does not apply to the app that never scaled up: absent,
	// with its own reason, not a zero sample.
	down := a.Metrics["scaleDownSeconds"]
	if down == nil || down.N != 2 || down.Min == 0 || !strings.Contains(down.Absent["keda-cpu-3"], res[2].Metrics.Absent["scaleDownSeconds"]) {
		t.Errorf("scaleDownSeconds %+v (app 3 absent: %q)", down, res[2].Metrics.Absent["scaleDownSeconds"])
	}
	if pk := a.Metrics["peakReplicas"]; pk == nil || pk.N != 3 || pk.Min != 1 || pk.Max != 20 {
		t.Errorf("peakReplicas %+v", pk)
	}
	if er := a.Metrics["errorRate"]; er == nil || er.Max != 0.5 || er.Min != 0.01 {
		t.Errorf("errorRate %+v", er)
	}
	// No app had a cold start: nothing to distribute, so no entry at all.
	if cs, ok := a.Metrics["coldStartSeconds"]; ok {
		t.Errorf("coldStartSeconds distributed over no sample: %+v", cs)
	}
	if got.Knobs["apps"] != "3" || got.Knobs["appsLoad"] != "replicate" {
		t.Errorf("knobs %v", got.Knobs)
	}
}

func TestAppsVerdict(t *testing.T) {
	s, apps := threeApps(t)
	var res []results.Scenario
	for i, a := range apps {
		res = append(res, Analyze(Input{Scenario: a, Events: appSeed(a, 70+float64(i)).evs, Load: &LoadTotals{Requests: 2000, Errors: 20}}))
	}
	if got := AnalyzeApps(s, res); !got.Passed || got.Error != "" || got.Apps.Passed != 3 || len(got.Apps.Failed) != 0 {
		t.Errorf("every app passed, the scenario did not: %+v", got.Apps)
	}
	// One app's harness error is the scenario's, naming the app.
	res[1].Error, res[1].ErrorKind, res[1].Passed = "HPA keda-hpa-cpu-scaling-2 to read its metric: not within 3m0s", results.ErrorTimeout, false
	got := AnalyzeApps(s, res)
	if got.Passed || got.ErrorKind != results.ErrorTimeout || !strings.Contains(got.Error, "app keda-cpu-2 (timeout)") || !strings.Contains(got.Error, "1 of 3 apps") {
		t.Errorf("harness error on one app: passed %v, %s: %s", got.Passed, got.ErrorKind, got.Error)
	}
	// No app at all decides nothing: not a pass.
	if got := AnalyzeApps(s, nil); got.Passed {
		t.Error("a scenario with no app result passed")
	}
}
