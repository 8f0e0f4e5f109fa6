package results

import (
	"math"
	"slices"

	"github.com/scalebench/scalebench/stats"
)

// Apps is the outcome of a multi-app scenario (spec.apps.count K > 1): K
// independent copies of the app, each with its own autoscaler and load,
// run at once. Every app's own result (metrics, steps, checks, timeline)
// is in Results; Metrics are the distributions across the apps.
type Apps struct {
	Count int `json:"count"`
	// Load is how the scenario's load was shared: replicate (every app got
	// the whole load) or split (the apps shared it).
	Load string `json:"load"`
	// Verdict says what the scenario's verdict means over K apps.
	Verdict string `json:"verdict"`
	// Passed counts the apps that passed; Failed names those that did not
	// (a check failed, none was tested, or the harness failed on them).
	Passed int      `json:"passed"`
	Failed []string `json:"failed,omitempty"`
	// Metrics are, by the per-app metric's JSON key, its distribution
	// across the apps.
	Metrics map[string]*Distribution `json:"metrics"`
	// Results are the apps' own results, in app order.
	Results []Scenario `json:"results"`
}

// AppsVerdict is what a multi-app scenario's verdict means.
const AppsVerdict = "every app must pass: the scenario fails when any app fails a check, has no tested check, or did not run to its end; the failed apps are named"

// Distribution is one metric across the apps of a multi-app scenario, in
// the metric's own unit (its key says which): nearest-rank percentiles of
// the apps that measured it. Apps where the metric is absent are not
// samples; Absent says why, per app.
type Distribution struct {
	// N counts the apps that measured the metric.
	N   int     `json:"n"`
	Min float64 `json:"min"`
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	Max float64 `json:"max"`
	// Absent maps an app without the metric to why (the app's own
	// metrics.absent reason when it gave one).
	Absent map[string]string `json:"absent,omitempty"`
}

// NewDistribution describes samples (any order; not modified): n, min,
// nearest-rank p50 and p95, max, each rounded to 1e-6. nil when empty.
func NewDistribution(samples []float64) *Distribution {
	if len(samples) == 0 {
		return nil
	}
	v := slices.Clone(samples)
	slices.Sort(v)
	r := func(x float64) float64 { return math.Round(x*1e6) / 1e6 }
	return &Distribution{N: len(v), Min: r(v[0]), P50: r(stats.PercentileSorted(v, 0.50)), P95: r(stats.PercentileSorted(v, 0.95)), Max: r(v[len(v)-1])}
}
