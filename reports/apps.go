package reports

import (
	"fmt"
	"sort"
	"strings"

	"github.com/scalebench/scalebench/results"
)

// expandApps lists every app of a multi-app scenario right after it, as a
// scenario of its own (its timeline, chart, checks and steps), for the
// Markdown, HTML and JUnit reports; report.json keeps them nested.
func expandApps(r results.Report) results.Report {
	has := false
	for _, s := range r.Scenarios {
		has = has || s.Apps != nil
	}
	if !has {
		return r
	}
	out := make([]results.Scenario, 0, len(r.Scenarios))
	for _, s := range r.Scenarios {
		out = append(out, s)
		if s.Apps != nil {
			out = append(out, s.Apps.Results...)
		}
	}
	r.Scenarios = out
	return r
}

// appsRow is one metric's distribution across the apps, formatted.
type appsRow struct {
	Metric, N, Min, P50, P95, Max, Absent string
}

// appsMetricOrder is the order of the distribution table: the reaction
// timings first, then cost, service and stability.
var appsMetricOrder = []string{
	"decisionSeconds", "firstScaleUpSeconds", "firstReadySeconds", "coldStartSeconds", "timeToPeakSeconds", "scaleDownSeconds",
	"peakReplicas", "replicaSeconds", "errorRate", "goodputPerSecond", "p99LatencySeconds", "successP99LatencySeconds", "flaps",
}

// appsRows formats a's distributions in appsMetricOrder (others after, by
// name); Absent names the apps without the metric and why (the first
// reason, and how many share it).
func appsRows(a *results.Apps) []appsRow {
	keys := make([]string, 0, len(a.Metrics))
	for k := range a.Metrics {
		keys = append(keys, k)
	}
	rank := func(k string) int {
		for i, o := range appsMetricOrder {
			if o == k {
				return i
			}
		}
		return len(appsMetricOrder)
	}
	sort.Slice(keys, func(i, j int) bool {
		if ri, rj := rank(keys[i]), rank(keys[j]); ri != rj {
			return ri < rj
		}
		return keys[i] < keys[j]
	})
	rows := make([]appsRow, 0, len(keys))
	for _, k := range keys {
		d := a.Metrics[k]
		f := func(v float64) string { return results.Seconds(v) }
		switch {
		case k == "errorRate":
			f = func(v float64) string { return results.FormatPercent(&v) }
		case k == "peakReplicas" || k == "flaps":
			f = func(v float64) string { return fmt.Sprint(int64(v)) }
		}
		rows = append(rows, appsRow{Metric: k, N: fmt.Sprintf("%d/%d", d.N, a.Count), Min: f(d.Min), P50: f(d.P50), P95: f(d.P95), Max: f(d.Max), Absent: absentSummary(d.Absent)})
	}
	return rows
}

// absentSummary says which apps lack a metric: "app-03: why; 2 more: why".
func absentSummary(m map[string]string) string {
	if len(m) == 0 {
		return ""
	}
	byWhy := map[string][]string{}
	for app, why := range m {
		byWhy[why] = append(byWhy[why], app)
	}
	whys := make([]string, 0, len(byWhy))
	for w := range byWhy {
		whys = append(whys, w)
	}
	sort.Strings(whys)
	parts := make([]string, 0, len(whys))
	for _, w := range whys {
		apps := byWhy[w]
		sort.Strings(apps)
		parts = append(parts, fmt.Sprintf("%s: %s", strings.Join(apps, ", "), w))
	}
	return strings.Join(parts, "; ")
}

// appsSummary is the line above the distribution table.
func appsSummary(a *results.Apps) string {
	s := fmt.Sprintf("%d apps at once, load %s; %d passed", a.Count, a.Load, a.Passed)
	if len(a.Failed) > 0 {
		s += fmt.Sprintf(", failed: %s", strings.Join(a.Failed, ", "))
	}
	return s + ". Verdict: " + a.Verdict + "."
}

// lagRows states the autoscalers' own lag, one row per figure (absent
// figures with why).
func lagRows(l *results.AutoscalerLag) []kv {
	if l == nil {
		return nil
	}
	dist := func(d *results.Distribution, unit string) string {
		return fmt.Sprintf("p50 %s%s, p95 %s%s, max %s%s (%d readings)", results.Seconds(d.P50), unit, results.Seconds(d.P95), unit, results.Seconds(d.Max), unit, d.N)
	}
	var rows []kv
	if d := l.KEDAScaleLoopLatencySeconds; d != nil {
		rows = append(rows, kv{"KEDA scale-loop latency", dist(d, " s")})
	}
	if d := l.HPAWorkqueueDepth; d != nil {
		rows = append(rows, kv{"HPA workqueue depth", dist(d, "")})
	}
	if l.HPAWorkqueueAdds != nil {
		rows = append(rows, kv{"HPA workqueue adds", fmt.Sprint(*l.HPAWorkqueueAdds)})
	}
	if l.HPAWorkqueueWaitMeanSeconds != nil {
		v := "mean " + results.Seconds(*l.HPAWorkqueueWaitMeanSeconds) + " s"
		if b := l.HPAWorkqueueWaitP95BoundSeconds; b != nil {
			v += ", p95 ≤ " + results.Seconds(*b) + " s"
		}
		rows = append(rows, kv{"HPA workqueue wait", v})
	}
	if l.HPAWorkqueueWorkMeanSeconds != nil {
		rows = append(rows, kv{"HPA sync duration", "mean " + results.Seconds(*l.HPAWorkqueueWorkMeanSeconds) + " s"})
	}
	for _, k := range sortedKeys(l.Absent) {
		rows = append(rows, kv{k, "absent: " + l.Absent[k]})
	}
	return rows
}

// scaleColumns are the reaction metrics of the apps-at-once table.
var scaleColumns = []string{"firstScaleUpSeconds", "firstReadySeconds", "coldStartSeconds", "timeToPeakSeconds", "scaleDownSeconds"}

// scaleRow is one multi-app scenario in the apps-at-once table: its apps
// and, per reaction metric, "p50 / p95 / max" across them.
type scaleRow struct {
	Name, Apps, Load, Passed string
	Cells                    []string
	KEDALoop, HPADepth       string
}

// scaleRows are the multi-app scenarios of r, in report order: the
// reaction metrics' distributions as a function of K when a run swept it.
func scaleRows(r results.Report) []scaleRow {
	var rows []scaleRow
	for _, s := range r.Scenarios {
		a := s.Apps
		if a == nil {
			continue
		}
		row := scaleRow{Name: s.Name, Apps: fmt.Sprint(a.Count), Load: a.Load, Passed: fmt.Sprintf("%d/%d", a.Passed, a.Count), KEDALoop: absent, HPADepth: absent}
		for _, k := range scaleColumns {
			cell := absent
			if d := a.Metrics[k]; d != nil {
				cell = fmt.Sprintf("%s / %s / %s", results.Seconds(d.P50), results.Seconds(d.P95), results.Seconds(d.Max))
				if d.N < a.Count {
					cell += fmt.Sprintf(" (%d apps)", d.N)
				}
			}
			row.Cells = append(row.Cells, cell)
		}
		if l := s.AutoscalerLag; l != nil {
			if d := l.KEDAScaleLoopLatencySeconds; d != nil {
				row.KEDALoop = fmt.Sprintf("%s / %s / %s", results.Seconds(d.P50), results.Seconds(d.P95), results.Seconds(d.Max))
			}
			if d := l.HPAWorkqueueDepth; d != nil {
				row.HPADepth = fmt.Sprintf("%g / %g", d.P95, d.Max)
			}
		}
		rows = append(rows, row)
	}
	return rows
}
