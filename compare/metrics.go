package compare

import (
	"github.com/scalebench/scalebench/budget"
	"github.com/scalebench/scalebench/results"
)

// Metric is one quantity compared across scenarios.
type Metric struct {
	// Key is the metric's JSON key (for phase metrics, a compare-only key).
	Key  string
	Unit string
	// HigherIsBetter is false for times, costs, errors and latencies.
	HigherIsBetter bool
	// What says in a few words what the metric measures.
	What string
	// Get returns the metric of one trial, or false with the reason it is
	// absent ("" when the trial gives none).
	Get func(results.Metrics) (float64, bool, string)
	// Budget is the budget model's estimate of the metric, when it has one.
	Budget func(*budget.Budget) *budget.Estimate
	// Toward, when set, is the replica count a trial's figure is measured
	// toward (the peak, for a time to peak): two scenarios whose medians of
	// it differ measured different things, and no winner is named.
	Toward func(results.Metrics) (float64, bool)
}

// Metrics are the compared metrics, in report order.
var Metrics = []Metric{
	seconds("decisionSeconds", "load start → the autoscaler's first scale-up decision", func(m results.Metrics) *float64 { return m.DecisionSeconds }),
	withBudget(seconds("firstScaleUpSeconds", "load start → spec.replicas first raised", func(m results.Metrics) *float64 { return m.FirstScaleUpSeconds }),
		func(b *budget.Budget) *budget.Estimate { return b.FirstScaleUp }),
	seconds("firstReadySeconds", "load start → first new replica ready", func(m results.Metrics) *float64 { return m.FirstReadySeconds }),
	toward(withBudget(seconds("timeToPeakSeconds", "load start → peak ready replicas", func(m results.Metrics) *float64 { return m.TimeToPeakSeconds }),
		func(b *budget.Budget) *budget.Estimate { return b.ReachMax }), peakReplicas),
	withBudget(seconds("scaleDownSeconds", "load end → back at the scale-down target", func(m results.Metrics) *float64 { return m.ScaleDownSeconds }),
		func(b *budget.Budget) *budget.Estimate { return b.BackToMin }),
	{Key: "replicaSeconds", Unit: results.UnitReplicaSeconds, What: "ready replicas integrated from the load start to back at the target (cost)",
		Get: field("replicaSeconds", func(m results.Metrics) *float64 { return m.ReplicaSeconds })},
	{Key: "scaleUpErrorRate", Unit: results.UnitRatio, What: "failed / sent requests while scaling up (first scale-up → peak)", Get: scaleUpErrorRate},
	{Key: "scaleUpSuccessP99LatencySeconds", Unit: results.UnitSeconds, What: "p99 latency of the successful requests while scaling up", Get: scaleUpP99},
	{Key: "errorRate", Unit: results.UnitRatio, What: "failed / sent requests over the whole load",
		Get: field("errorRate", func(m results.Metrics) *float64 { return m.ErrorRate })},
	{Key: "goodputPerSecond", Unit: results.UnitPerSecond, HigherIsBetter: true, What: "successful requests per second of load",
		Get: field("goodputPerSecond", func(m results.Metrics) *float64 { return m.GoodputPerSecond })},
	seconds("coldStartSeconds", "first request at zero replicas → its response", func(m results.Metrics) *float64 { return m.ColdStartSeconds }),
}

// MetricByKey finds a compared metric.
func MetricByKey(key string) (Metric, bool) {
	for _, m := range Metrics {
		if m.Key == key {
			return m, true
		}
	}
	return Metric{}, false
}

func toward(m Metric, f func(results.Metrics) (float64, bool)) Metric {
	m.Toward = f
	return m
}

func peakReplicas(m results.Metrics) (float64, bool) {
	if m.PeakReplicas == nil {
		return 0, false
	}
	return float64(*m.PeakReplicas), true
}

func withBudget(m Metric, f func(*budget.Budget) *budget.Estimate) Metric {
	m.Budget = f
	return m
}

func seconds(key, what string, f func(results.Metrics) *float64) Metric {
	return Metric{Key: key, Unit: results.UnitSeconds, What: what, Get: field(key, f)}
}

func field(key string, f func(results.Metrics) *float64) func(results.Metrics) (float64, bool, string) {
	return func(m results.Metrics) (float64, bool, string) {
		if p := f(m); p != nil {
			return *p, true, ""
		}
		return 0, false, m.Absent[key]
	}
}

func scaleUpPhase(m results.Metrics) (*results.Phase, string) {
	switch {
	case m.Goodput != nil && m.Goodput.DuringScaleUp != nil:
		return m.Goodput.DuringScaleUp, ""
	case m.Requests == nil:
		return nil, "" // no HTTP load: does not apply
	case m.Absent["goodput"] != "":
		return nil, m.Absent["goodput"]
	case m.FirstScaleUpSeconds == nil:
		return nil, "the workload did not scale up under load"
	}
	return nil, "no load was sent while scaling up"
}

func scaleUpErrorRate(m results.Metrics) (float64, bool, string) {
	p, why := scaleUpPhase(m)
	if p == nil {
		return 0, false, why
	}
	if p.Requests == 0 {
		return 0, false, "no request was sent while scaling up"
	}
	return float64(p.Requests-p.SuccessfulRequests) / float64(p.Requests), true, ""
}

func scaleUpP99(m results.Metrics) (float64, bool, string) {
	p, why := scaleUpPhase(m)
	switch {
	case p == nil:
		return 0, false, why
	case p.SuccessP99LatencySeconds != nil:
		return *p.SuccessP99LatencySeconds, true, ""
	case p.SuccessfulRequests == 0:
		return 0, false, "no request succeeded while scaling up"
	}
	return 0, false, "the load generator kept no per-request latencies"
}
