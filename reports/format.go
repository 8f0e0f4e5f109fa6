package reports

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/scalebench/scalebench/budget"
	"github.com/scalebench/scalebench/results"
	"github.com/scalebench/scalebench/stats"
	"github.com/scalebench/scalebench/timeline"
)

// absent is shown for a metric that does not apply; never "0".
const absent = results.Absent

// fmtAt formats an offset from the run start to a tenth of a second.
func fmtAt(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// loadPlacement says where a cluster-placed load came from: a Job of N
// pods (and how, when the pods were emulated). The row is only shown then:
// without it the load came from the bench process.
func loadPlacement(m results.Metrics) string {
	s := m.LoadPlacement
	if m.LoadPods != nil {
		s += fmt.Sprintf(", %d pods", *m.LoadPods)
	}
	if m.LoadPlacementNote != "" {
		s += " (" + m.LoadPlacementNote + ")"
	}
	return s
}

func optString(s string) string {
	if s == "" {
		return absent
	}
	return s
}

// fmtNumber formats an aggregate of a metric: integers stay integers.
func fmtNumber(v float64, integer bool) string {
	if integer {
		if v == math.Trunc(v) {
			return strconv.FormatFloat(v, 'f', 0, 64)
		}
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return results.Seconds(v)
}

// scenarioTitle names one scenario trial.
func scenarioTitle(s results.Scenario) string {
	if s.Trial > 0 {
		return fmt.Sprintf("%s (trial %d)", s.Name, s.Trial)
	}
	return s.Name
}

// outcome is "error" when the harness failed, else "pass" or "fail".
func outcome(s results.Scenario) string {
	switch {
	case s.Error != "":
		return "error"
	case s.Passed:
		return "pass"
	default:
		return "fail"
	}
}

func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }

// failedFirst returns the checks failed first, then passed, then not
// tested, each group in its original order.
func failedFirst(cs []results.Check) []results.Check {
	out := make([]results.Check, 0, len(cs))
	for _, state := range []string{results.CheckFailed, results.CheckPassed, results.CheckSkipped} {
		for _, c := range cs {
			if c.State() == state {
				out = append(out, c)
			}
		}
	}
	return out
}

// span is the offset of the last timeline event in seconds (0 when empty).
func span(s results.Scenario) float64 {
	var last time.Duration
	for _, e := range s.Timeline {
		last = max(last, e.At)
	}
	return last.Seconds()
}

// column is one metric column of the summary table.
type column struct {
	Header  string
	Integer bool
	// PerTrialStatistic marks a metric that is itself a statistic of the
	// trial's requests (a percentile), so its aggregate is labelled.
	PerTrialStatistic bool
	get               func(results.Metrics) (float64, bool)
}

func (c column) cell(m results.Metrics) string {
	v, ok := c.get(m)
	if !ok {
		return absent
	}
	return fmtNumber(v, c.Integer)
}

func secondsOf(f func(results.Metrics) *float64) func(results.Metrics) (float64, bool) {
	return func(m results.Metrics) (float64, bool) {
		if p := f(m); p != nil {
			return *p, true
		}
		return 0, false
	}
}

func countOf[T int | int32 | int64](f func(results.Metrics) *T) func(results.Metrics) (float64, bool) {
	return func(m results.Metrics) (float64, bool) {
		if p := f(m); p != nil {
			return float64(*p), true
		}
		return 0, false
	}
}

// summaryColumns are the main metrics, in table order.
var summaryColumns = []column{
	{Header: "decision s", get: secondsOf(func(m results.Metrics) *float64 { return m.DecisionSeconds })},
	{Header: "first scale-up s", get: secondsOf(func(m results.Metrics) *float64 { return m.FirstScaleUpSeconds })},
	{Header: "first ready s", get: secondsOf(func(m results.Metrics) *float64 { return m.FirstReadySeconds })},
	{Header: "time to peak s", get: secondsOf(func(m results.Metrics) *float64 { return m.TimeToPeakSeconds })},
	{Header: "peak replicas", Integer: true, get: countOf(func(m results.Metrics) *int32 { return m.PeakReplicas })},
	{Header: "scale-down s", get: secondsOf(func(m results.Metrics) *float64 { return m.ScaleDownSeconds })},
	{Header: "cold start s", get: secondsOf(func(m results.Metrics) *float64 { return m.ColdStartSeconds })},
	{Header: "p99 s", PerTrialStatistic: true, get: secondsOf(func(m results.Metrics) *float64 { return m.P99LatencySeconds })},
	{Header: "errors", Integer: true, get: countOf(func(m results.Metrics) *int64 { return m.Errors })},
	{Header: "successful", Integer: true, get: countOf(func(m results.Metrics) *int64 { return m.SuccessfulRequests })},
	{Header: "goodput/s", get: secondsOf(func(m results.Metrics) *float64 { return m.GoodputPerSecond })},
	{Header: "messages lost", Integer: true, get: countOf(func(m results.Metrics) *int64 { return m.MessagesLost })},
}

// aggregateColumns are the metrics summarised across trials.
var aggregateColumns = append(slices.Clone(summaryColumns),
	column{Header: "replica-seconds", get: secondsOf(func(m results.Metrics) *float64 { return m.ReplicaSeconds })},
	column{Header: "flaps", Integer: true, get: countOf(func(m results.Metrics) *int { return m.Flaps })},
)

// metricRow is one line of a scenario's full metrics table.
type metricRow struct {
	Name  string
	Value string
}

// metricRows lists every metric of m; absent ones show as absent.
func metricRows(m results.Metrics) []metricRow {
	rows := []metricRow{
		{"decision (s)", results.FormatSeconds(m.DecisionSeconds)},
		{"first scale-up (s)", results.FormatSeconds(m.FirstScaleUpSeconds)},
		{"first ready (s)", results.FormatSeconds(m.FirstReadySeconds)},
		{"time to peak (s)", results.FormatSeconds(m.TimeToPeakSeconds)},
		{"peak replicas", results.FormatCount(m.PeakReplicas)},
		{"scale-down (s)", results.FormatSeconds(m.ScaleDownSeconds)},
		{"flaps", results.FormatCount(m.Flaps)},
		{"replica-seconds", results.FormatSeconds(m.ReplicaSeconds)},
		{"cold start (s)", results.FormatSeconds(m.ColdStartSeconds)},
		{"load mode", optString(m.LoadMode)},
		{"requests", results.FormatCount(m.Requests)},
		{"errors", results.FormatCount(m.Errors)},
		{"successful requests", results.FormatCount(m.SuccessfulRequests)},
		{"error rate", results.FormatPercent(m.ErrorRate)},
		{"goodput (successful/s)", results.FormatSeconds(m.GoodputPerSecond)},
		{"p50 latency, all requests (s)", results.FormatSeconds(m.P50LatencySeconds)},
		{"p99 latency, all requests (s)", results.FormatSeconds(m.P99LatencySeconds)},
		{"p50 latency, successful (s)", results.FormatSeconds(m.SuccessP50LatencySeconds)},
		{"p99 latency, successful (s)", results.FormatSeconds(m.SuccessP99LatencySeconds)},
		{"missed requests", results.FormatCount(m.MissedRequests)},
		{"dropped results", results.FormatCount(m.DroppedResults)},
		{"messages sent", results.FormatCount(m.MessagesSent)},
		{"messages processed", results.FormatCount(m.MessagesProcessed)},
		{"messages invalid", results.FormatCount(m.MessagesInvalid)},
		{"messages lost", results.FormatCount(m.MessagesLost)},
		{"messages still in the queues", results.FormatCount(m.MessagesInQueue)},
	}
	if m.LoadPlacement != "" {
		rows = append(rows, metricRow{"load placement", loadPlacement(m)})
	}
	if w := m.ReplicaSecondsWindow; w != nil {
		rows = append(rows, metricRow{"replica-seconds window", fmt.Sprintf("%s s (%s) → %s s (%s)", fmtAt(w.FromSeconds), w.From, fmtAt(w.ToSeconds), w.To)})
	}
	if g := m.Goodput; g != nil {
		for _, ph := range []struct {
			name string
			p    *results.Phase
		}{{"before scale-up", g.BeforeScaleUp}, {"during scale-up", g.DuringScaleUp}, {"at peak", g.AtPeak}} {
			v := absent
			if ph.p != nil {
				v = fmt.Sprintf("%s/s (%d of %d requests succeeded, %s → %s s)", results.Seconds(ph.p.GoodputPerSecond), ph.p.SuccessfulRequests, ph.p.Requests, fmtAt(ph.p.FromSeconds), fmtAt(ph.p.ToSeconds))
			}
			rows = append(rows, metricRow{"goodput " + ph.name, v})
		}
	}
	for _, k := range slices.Sorted(maps.Keys(m.Absent)) {
		rows = append(rows, metricRow{"absent: " + k, m.Absent[k]})
	}
	if c := m.ColdStart; c != nil {
		rows = append(rows,
			metricRow{"cold start: activated (s)", results.FormatSeconds(c.ActivatedSeconds)},
			metricRow{"cold start: scaled (s)", results.FormatSeconds(c.ScaledSeconds)},
			metricRow{"cold start: pod ready (s)", results.FormatSeconds(c.PodReadySeconds)},
			metricRow{"cold start: response (s)", results.Seconds(c.ResponseSeconds)},
			metricRow{"cold start: status", strconv.Itoa(c.Status)},
		)
		if c.ColdStartHeader != "" {
			rows = append(rows, metricRow{"cold start: header", c.ColdStartHeader})
		}
	}
	if s := m.ColdStartSeries; s != nil {
		rows = append(rows,
			metricRow{"cold starts: samples", strconv.Itoa(len(s.Samples))},
			metricRow{"cold starts: mean (s)", results.Seconds(s.MeanSeconds)},
			metricRow{"cold starts: p50 (s)", results.Seconds(s.P50Seconds)},
			metricRow{"cold starts: max (s)", results.Seconds(s.MaxSeconds)},
		)
	}
	return rows
}

// group is the trials of one scenario, in report order.
type group struct {
	Name   string
	Trials []results.Scenario
	// Index is the report index of each trial.
	Index []int
}

// groups collects scenarios by name in order of first appearance.
func groups(ss []results.Scenario) []group {
	var out []group
	at := map[string]int{}
	for i, s := range ss {
		g, ok := at[s.Name]
		if !ok {
			g = len(out)
			at[s.Name] = g
			out = append(out, group{Name: s.Name})
		}
		out[g].Trials = append(out[g].Trials, s)
		out[g].Index = append(out[g].Index, i)
	}
	return out
}

// aggregate is one metric summarised across trials.
type aggregate struct {
	Metric           string
	N                int
	Median, Min, Max string
}

// aggregates summarises the main metrics across trials; metrics no trial has
// are left out.
func aggregates(trials []results.Scenario) []aggregate {
	var out []aggregate
	for _, c := range aggregateColumns {
		var vs []float64
		for _, t := range trials {
			if v, ok := c.get(t.Metrics); ok {
				vs = append(vs, v)
			}
		}
		if len(vs) == 0 {
			continue
		}
		s := stats.Summarize(vs)
		name := c.Header
		if c.PerTrialStatistic {
			// Each trial's value is itself a percentile: their median is
			// not the percentile of the pooled requests.
			name += " (median of the trials' values, not pooled)"
		}
		out = append(out, aggregate{
			Metric: name,
			N:      s.N,
			Median: fmtNumber(s.Median, c.Integer),
			Min:    fmtNumber(s.Min, c.Integer),
			Max:    fmtNumber(s.Max, c.Integer),
		})
	}
	return out
}

// passedTrials counts the passed trials.
func passedTrials(trials []results.Scenario) int {
	n := 0
	for _, t := range trials {
		if t.Passed {
			n++
		}
	}
	return n
}

// describe is a one-line, human summary of an event's payload.
func describe(e timeline.Event) string {
	switch {
	case e.Deployment != nil:
		d := e.Deployment
		return fmt.Sprintf("spec %d · ready %d · updated %d · available %d · current %d", d.Spec, d.Ready, d.Updated, d.Available, d.Current)
	case e.Autoscaler != nil:
		a := e.Autoscaler
		s := fmt.Sprintf("current %d · desired %d", a.Current, a.Desired)
		if a.Metric != "" {
			s += " · metric " + a.Metric
		}
		return s
	case e.Condition != nil:
		c := e.Condition
		s := c.Type + "=" + c.Status
		if c.Reason != "" {
			s += " (" + c.Reason + ")"
		}
		if c.Message != "" {
			s += ": " + c.Message
		}
		return s
	case e.KubeEvent != nil:
		k := e.KubeEvent
		s := k.Reason
		if k.Type != "" {
			s = k.Type + " " + s
		}
		if k.Message != "" {
			s += ": " + k.Message
		}
		if k.Source != "" {
			s += " [" + k.Source + "]"
		}
		return s
	case e.Pod != nil:
		p := e.Pod
		s := p.Name + " " + p.Transition
		if p.Node != "" {
			s += " on " + p.Node
		}
		return s
	case e.Marker != nil:
		s := e.Marker.Name
		if e.Marker.Detail != "" {
			s += ": " + e.Marker.Detail
		}
		return s
	case e.Load != nil:
		l := e.Load
		s := fmt.Sprintf("second %d · %d req · %d err · p50 %s s · p99 %s s · max %s s",
			l.Second, l.Requests, l.Errors, results.Seconds(l.P50LatencySeconds), results.Seconds(l.P99LatencySeconds), results.Seconds(l.MaxLatencySeconds))
		if len(l.ErrorsByKind) > 0 {
			var kinds []string
			for _, k := range slices.Sorted(maps.Keys(l.ErrorsByKind)) {
				kinds = append(kinds, fmt.Sprintf("%s %d", k, l.ErrorsByKind[k]))
			}
			s += " (" + strings.Join(kinds, ", ") + ")"
		}
		return s
	case e.Queue != nil:
		q := e.Queue
		s := fmt.Sprintf("visible %d · in flight %d", q.Visible, q.InFlight)
		if q.Processed > 0 {
			s += fmt.Sprintf(" · processed %d", q.Processed)
		}
		return s
	case e.Request != nil:
		r := e.Request
		s := fmt.Sprintf("%s · sent at %s s · status %d · %s s", r.Purpose, fmtAt(r.SentAtSeconds), r.Status, results.Seconds(r.LatencySeconds))
		if r.Error != "" {
			s += " · error: " + r.Error
		}
		for _, k := range slices.Sorted(maps.Keys(r.Headers)) {
			s += " · " + k + ": " + r.Headers[k]
		}
		return s
	}
	return ""
}

// firstLine is the first line of s, for one-line contexts.
func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// budgetRow is one estimate of a budget beside the observed metric.
type budgetRow struct {
	Name, Observed, Budget, Fastest, Dominant string
}

// budgetRows pairs each estimate of s's budget with the metric it names.
// Reaching max compares with timeToPeakSeconds only when the peak was
// maxReplicas; otherwise the observed cell says what the peak was.
func budgetRows(s results.Scenario) []budgetRow {
	b := s.Budget
	if b == nil {
		return nil
	}
	m := s.Metrics
	var rows []budgetRow
	add := func(name string, e *budget.Estimate, observed string) {
		if e == nil {
			return
		}
		rows = append(rows, budgetRow{Name: name, Observed: observed, Budget: results.Seconds(e.MaxSeconds), Fastest: results.Seconds(e.MinSeconds), Dominant: e.Dominant})
	}
	if e := b.FirstScaleUp; e != nil {
		add(fmt.Sprintf("first scale-up from %d (%s)", e.Replicas, e.Observed), e, results.FormatSeconds(m.FirstScaleUpSeconds))
	}
	if e := b.ReachMax; e != nil {
		obs := results.FormatSeconds(m.TimeToPeakSeconds)
		if m.PeakReplicas != nil && *m.PeakReplicas < e.Replicas {
			obs = fmt.Sprintf("%s (peak %d)", absent, *m.PeakReplicas)
		}
		add(fmt.Sprintf("%d Ready (%s)", e.Replicas, e.Observed), e, obs)
	}
	if e := b.BackToMin; e != nil {
		add(fmt.Sprintf("back at %d (%s)", e.Replicas, e.Observed), e, results.FormatSeconds(m.ScaleDownSeconds))
	}
	return rows
}
