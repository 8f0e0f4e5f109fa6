package compare

import (
	"fmt"
	"time"

	"github.com/scalebench/scalebench/budget"
	"github.com/scalebench/scalebench/results"
	"github.com/scalebench/scalebench/scenario"
	"github.com/scalebench/scalebench/timeline"
)

// budgetOf is the budget of a built-in scenario.
func budgetOf(name string) *budget.Budget {
	s, err := scenario.Resolve(name)
	if err != nil {
		panic(err)
	}
	b, err := budget.For(*s)
	if err != nil {
		panic(err)
	}
	return &b
}

var wall0 = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

// syntheticTrial is one trial: load from 5 s to 105 s, the workload scales
// 1 → 4 → peak at react, react+15 (then peak ready 2 s later), back to 1 at
// 105 + down. Its metrics are what the analysis would compute from it.
func syntheticTrial(name, autoscaler string, k int, react, down float64, peak int32, errors int64) results.Trial {
	const loadStart, loadStop = 5.0, 105.0
	at := func(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
	obj := "Deployment/cmp-" + name + fmt.Sprintf("-t%d/app", k)
	dep := func(t float64, spec, ready int32) timeline.Event {
		return timeline.Event{At: at(t), Wall: wall0.Add(at(t)), Kind: timeline.KindDeployment, Object: obj,
			Deployment: &timeline.Replicas{Spec: spec, Current: spec, Updated: spec, Ready: ready, Available: ready}}
	}
	mark := func(t float64, n string) timeline.Event {
		return timeline.Event{At: at(t), Wall: wall0.Add(at(t)), Kind: timeline.KindMarker, Marker: &timeline.Marker{Name: n}}
	}
	up1, up2 := loadStart+react, loadStart+react+15
	back := loadStop + down
	evs := []timeline.Event{
		dep(0, 1, 1), mark(loadStart, timeline.MarkerLoadStart),
		dep(up1, 4, 1), dep(up1+2, 4, 4),
		dep(up2, peak, 4), dep(up2+2, peak, peak),
		mark(loadStop, timeline.MarkerLoadStop),
		dep(back, 1, 1),
	}
	requests := int64(1000)
	p99 := 0.05 + react/100
	m := results.Metrics{
		DecisionSeconds:     results.F64(react - 0.4),
		FirstScaleUpSeconds: results.F64(react),
		FirstReadySeconds:   results.F64(react + 2),
		TimeToPeakSeconds:   results.F64(react + 17),
		ScaleDownSeconds:    results.F64(down),
		ReplicaSeconds:      results.F64(react*1 + 2*4 + 13*4 + 2*4 + (loadStop-up2-2)*float64(peak) + down*float64(peak)),
		PeakReplicas:        results.I32(peak),
		Requests:            results.I64(requests),
		Errors:              results.I64(errors),
		SuccessfulRequests:  results.I64(requests - errors),
		ErrorRate:           results.F64(float64(errors) / float64(requests)),
		GoodputPerSecond:    results.F64(float64(requests-errors) / 100),
		Goodput: &results.GoodputPhases{DuringScaleUp: &results.Phase{FromSeconds: up1, ToSeconds: up2 + 2,
			Requests: 170, SuccessfulRequests: 170 - errors/2, GoodputPerSecond: 9, SuccessP99LatencySeconds: results.F64(p99)}},
	}
	return results.Trial{Scenario: name, Trial: k, Namespace: TrialNamespace(name, k), RestWaitSeconds: 4, Rest: "at rest", Used: true,
		Result: results.Scenario{Name: name, Autoscaler: autoscaler, Trial: k, Passed: true, Metrics: m, Steps: []results.Step{}, Checks: []results.Check{}, Timeline: evs}}
}

// syntheticTrials: "fast" reacts about 10 s sooner than "slow" in every
// one of 5 interleaved trials; scale-down and errors overlap.
func syntheticTrials() []results.Trial {
	var out []results.Trial
	slowReact := []float64{20.1, 22.4, 19.8, 21.0, 23.2}
	fastReact := []float64{10.2, 11.9, 9.7, 12.4, 10.8}
	downs := [][2]float64{{40, 41}, {45, 39}, {38, 44}, {42, 40}, {41, 43}}
	errs := [][2]int64{{10, 12}, {14, 9}, {8, 13}, {11, 10}, {12, 11}}
	slowBudget, fastBudget := budgetOf("hpa-cpu-fast"), budgetOf("keda-cpu-fast")
	for i := range slowReact {
		slow := syntheticTrial("slow", "hpa", i+1, slowReact[i], downs[i][0], 10, errs[i][0])
		fast := syntheticTrial("fast", "keda-cpu", i+1, fastReact[i], downs[i][1], 10, errs[i][1])
		slow.Result.Budget, fast.Result.Budget = slowBudget, fastBudget
		out = append(out, slow, fast)
	}
	return out
}

func syntheticComparison() results.Comparison {
	trials := syntheticTrials()
	c := results.Comparison{
		RunID: "20260314-092653-abcdef", StartedAt: wall0, FinishedAt: wall0.Add(40 * time.Minute),
		Scenarios: []string{"slow", "fast"}, TrialsPerScenario: 5, Trials: trials,
		Environment: results.Environment{Provider: "emulated", KubernetesVersion: "v1.35.4", Emulated: []string{"kubelet (KWOK nodes)"},
			Knobs: map[string]string{"hpaSyncPeriod": "15s"}, Host: results.Host{OS: "linux", Arch: "amd64", CPUs: 2, GoVersion: "go1.26"}},
	}
	c.Metrics, c.Statistics = Build(c.Scenarios, trials, DefaultBootstrapForTests)
	return c
}
