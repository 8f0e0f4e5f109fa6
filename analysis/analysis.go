// Package analysis turns a scenario's timeline into metrics, scale steps and
// checked expectations. It is pure: everything comes from the recorded
// events, so recorded or synthetic timelines are its test data.
package analysis

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/scalebench/scalebench/results"
	"github.com/scalebench/scalebench/scenario"
	"github.com/scalebench/scalebench/timeline"
)

// Input is what a run hands to the analysis.
type Input struct {
	Scenario *scenario.Scenario
	Events   []timeline.Event
	// Load is the load generator's whole-run summary (HTTP scenarios).
	Load *LoadTotals
	// Messages are the SQS message counts (SQS scenarios).
	Messages *MessageTotals
}

// LoadTotals summarise the HTTP load of a run.
type LoadTotals struct {
	// Mode is how requests were sent: load.ClosedLoop ("closed-loop": each
	// connection sends its next request when the previous response arrived,
	// latency from the actual send) or load.OpenLoop ("open-loop": requests
	// at a constant arrival rate whatever the responses, latency from the
	// scheduled send time, so it is free of coordinated omission).
	Mode string
	// Description says the same in a sentence with the load's parameters,
	// for the report.
	Description string
	// Rate is the target arrival rate (open loop) or the rate cap (closed
	// loop), requests/s; nil when there is no single rate (an uncapped closed
	// loop, or steps).
	Rate *float64
	// MaxInFlight is the open loop's cap on requests in flight; 0 for a
	// closed loop, whose connections are its cap.
	MaxInFlight int

	Requests          int64
	Errors            int64
	P50LatencySeconds float64
	P99LatencySeconds float64
	// Successes = Requests - Errors.
	Successes int64
	// SuccessP50LatencySeconds and SuccessP99LatencySeconds are over the
	// successful requests only; nil when none succeeded.
	SuccessP50LatencySeconds *float64
	SuccessP99LatencySeconds *float64
	// Missed counts paced requests that were due but never sent (not in
	// Requests); nil when the load was not paced (an uncapped closed loop
	// cannot miss) or the generator cannot tell (bombardier).
	Missed *int64
	// Dropped counts results in these totals that are missing from the
	// timeline's per-second load samples; nil when there are no per-second
	// samples at all (bombardier).
	Dropped *int64
}

// MessageTotals count the SQS messages of a run.
type MessageTotals struct {
	Sent int64
	// Processed valid messages whose record was found correct in the store.
	Processed int64
	// Invalid messages sent on purpose.
	Invalid int64
	// LeftInQueue are messages still in the queue or its dead-letter queue at
	// the end (visible or in flight): the invalid ones, and valid ones not
	// processed (not lost).
	LeftInQueue int64
	// StoreError is set when the store could not be read at the end: then
	// what was processed (and so what was lost) is unknown.
	StoreError string
}

// Events the autoscalers emit.
const (
	ReasonKEDAActivated   = "KEDAScaleTargetActivated"
	ReasonKEDADeactivated = "KEDAScaleTargetDeactivated"
)

// Purposes of recorded requests.
const PurposeColdStart = "cold-start"

// Analyze computes metrics, steps and checks. It never fails: what cannot be
// computed is absent, and checks that depend on it fail saying so.
func Analyze(in Input) results.Scenario {
	s := in.Scenario
	out := results.Scenario{
		Name:        s.Metadata.Name,
		Autoscaler:  s.Spec.Autoscaler.Type,
		Description: s.Metadata.Description,
		Knobs:       Knobs(s),
		Timeline:    in.Events,
	}
	v := newView(in.Events, s.Spec.Workload.Name)
	out.Steps = v.steps()
	out.Metrics = v.metrics(in)
	out.Checks = checks(s, v, out.Metrics, out.Steps, in.Messages)
	out.Passed = len(out.Checks) > 0
	for _, c := range out.Checks {
		if !c.Passed {
			out.Passed = false
		}
	}
	return out
}

// view indexes a timeline for the analysis.
type view struct {
	deploy     []timeline.Event // workload Deployment replica observations
	autoscaler []timeline.Event
	kube       []timeline.Event
	load       []timeline.Event
	requests   []timeline.Event
	markers    map[string]time.Duration // first occurrence of each marker
	end        time.Duration            // last event
}

func newView(evs []timeline.Event, workload string) *view {
	v := &view{markers: map[string]time.Duration{}}
	sorted := append([]timeline.Event(nil), evs...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].At < sorted[j].At })
	for _, e := range sorted {
		if e.At > v.end {
			v.end = e.At
		}
		switch e.Kind {
		case timeline.KindDeployment:
			if e.Deployment != nil && (workload == "" || objectName(e.Object) == workload) {
				v.deploy = append(v.deploy, e)
			}
		case timeline.KindAutoscaler:
			if e.Autoscaler != nil {
				v.autoscaler = append(v.autoscaler, e)
			}
		case timeline.KindKubeEvent:
			if e.KubeEvent != nil {
				v.kube = append(v.kube, e)
			}
		case timeline.KindLoad:
			if e.Load != nil {
				v.load = append(v.load, e)
			}
		case timeline.KindRequest:
			if e.Request != nil {
				v.requests = append(v.requests, e)
			}
		case timeline.KindMarker:
			if e.Marker != nil {
				if _, ok := v.markers[e.Marker.Name]; !ok {
					v.markers[e.Marker.Name] = e.At
				}
			}
		}
	}
	return v
}

func objectName(obj string) string {
	for i := len(obj) - 1; i >= 0; i-- {
		if obj[i] == '/' {
			return obj[i+1:]
		}
	}
	return obj
}

func (v *view) marker(name string) (time.Duration, bool) {
	t, ok := v.markers[name]
	return t, ok
}

// loadStart is the reference for scale-up metrics.
func (v *view) loadStart() (time.Duration, bool) { return v.marker(timeline.MarkerLoadStart) }

// loadEnd is the reference for scale-down: the queue drained if recorded,
// else the load stop.
func (v *view) loadEnd() (time.Duration, bool) {
	if t, ok := v.marker(timeline.MarkerQueueDrained); ok {
		return t, true
	}
	return v.marker(timeline.MarkerLoadStop)
}

// stateAt is the last Deployment observation at or before t.
func (v *view) stateAt(t time.Duration) (timeline.Replicas, bool) {
	var r timeline.Replicas
	ok := false
	for _, e := range v.deploy {
		if e.At > t {
			break
		}
		r, ok = *e.Deployment, true
	}
	return r, ok
}

// steps lists changes of spec.replicas after the first observation.
func (v *view) steps() []results.Step {
	steps := []results.Step{}
	var prev int32
	for i, e := range v.deploy {
		if i > 0 && e.Deployment.Spec != prev {
			steps = append(steps, results.Step{AtSeconds: round(e.At.Seconds()), From: prev, To: e.Deployment.Spec})
		}
		prev = e.Deployment.Spec
	}
	return steps
}

func (v *view) metrics(in Input) results.Metrics {
	var m results.Metrics
	start, hasStart := v.loadStart()
	if hasStart {
		base, _ := v.stateAt(start)
		// Decision: first autoscaler wish above the current count, or KEDA activation.
		var decision *time.Duration
		for _, e := range v.autoscaler {
			if e.At >= start && e.Autoscaler.Desired > e.Autoscaler.Current && e.Autoscaler.Desired > base.Spec {
				d := e.At
				decision = &d
				break
			}
		}
		for _, e := range v.kube {
			if e.At >= start && e.KubeEvent.Reason == ReasonKEDAActivated {
				if decision == nil || e.At < *decision {
					d := e.At
					decision = &d
				}
				break
			}
		}
		if decision != nil {
			m.DecisionSeconds = secs(*decision - start)
		}
		var firstUp *time.Duration
		for _, e := range v.deploy {
			if e.At >= start && e.Deployment.Spec > base.Spec {
				d := e.At
				firstUp = &d
				m.FirstScaleUpSeconds = secs(d - start)
				break
			}
		}
		if firstUp != nil {
			for _, e := range v.deploy {
				if e.At >= *firstUp && e.Deployment.Ready > base.Ready {
					m.FirstReadySeconds = secs(e.At - start)
					break
				}
			}
		}
		var peak int32 = -1
		var peakAt time.Duration
		for _, e := range v.deploy {
			if e.At >= start && e.Deployment.Ready > peak {
				peak, peakAt = e.Deployment.Ready, e.At
			}
		}
		if peak < 0 {
			peak = base.Ready
			peakAt = start
		}
		if len(v.deploy) > 0 {
			m.PeakReplicas = results.I32(peak)
			if peak > base.Ready {
				m.TimeToPeakSeconds = secs(peakAt - start)
			}
			m.ReplicaSeconds = results.F64(round(v.replicaSeconds(start, v.end)))
		}
		m.Flaps = intPtr(flaps(v.steps()))
	}
	if end, ok := v.loadEnd(); ok && in.Scenario.Spec.Expectations.ScaleDown != nil {
		target := *in.Scenario.Spec.Expectations.ScaleDown.Replicas
		if t, ok := v.scaledDown(end, target); ok {
			m.ScaleDownSeconds = secs(t - end)
		}
	} else if ok {
		if t, ok := v.scaledDown(end, *in.Scenario.Spec.Autoscaler.MinReplicas); ok {
			m.ScaleDownSeconds = secs(t - end)
		}
	}
	if l := in.Load; l != nil {
		m.Requests = results.I64(l.Requests)
		m.Errors = results.I64(l.Errors)
		if l.Requests > l.Errors {
			m.P50LatencySeconds = results.F64(round(l.P50LatencySeconds))
			m.P99LatencySeconds = results.F64(round(l.P99LatencySeconds))
		}
	}
	if q := in.Messages; q != nil {
		m.MessagesSent = results.I64(q.Sent)
		m.MessagesInvalid = results.I64(q.Invalid)
		m.MessagesInQueue = results.I64(q.LeftInQueue)
		if q.StoreError == "" {
			m.MessagesProcessed = results.I64(q.Processed)
			m.MessagesLost = results.I64(q.Sent - q.Processed - q.LeftInQueue)
		}
	}
	var cold []float64
	for _, e := range v.requests {
		if e.Request.Purpose != PurposeColdStart {
			continue
		}
		cold = append(cold, e.Request.LatencySeconds)
		if m.ColdStart == nil {
			m.ColdStart = v.coldStart(e)
			m.ColdStartSeconds = results.F64(round(e.Request.LatencySeconds))
		}
	}
	if len(cold) > 1 {
		m.ColdStartSeries = Summarize(cold)
	}
	return m
}

// scaledDown is the first time at or after from when spec and ready
// replicas are both at target (and stay observed so until the next change).
func (v *view) scaledDown(from time.Duration, target int32) (time.Duration, bool) {
	if r, ok := v.stateAt(from); ok && r.Spec == target && r.Ready <= target && r.Current <= target {
		return from, true
	}
	for _, e := range v.deploy {
		if e.At >= from && e.Deployment.Spec == target && e.Deployment.Ready <= target && e.Deployment.Current <= target {
			return e.At, true
		}
	}
	return 0, false
}

// replicaSeconds integrates ready replicas over [from, to].
func (v *view) replicaSeconds(from, to time.Duration) float64 {
	cur, _ := v.stateAt(from)
	t := from
	total := 0.0
	for _, e := range v.deploy {
		if e.At <= from {
			continue
		}
		if e.At > to {
			break
		}
		total += float64(cur.Ready) * (e.At - t).Seconds()
		cur, t = *e.Deployment, e.At
	}
	total += float64(cur.Ready) * (to - t).Seconds()
	return total
}

// coldStart breaks a cold-start request into stages.
func (v *view) coldStart(req timeline.Event) *results.ColdStart {
	sent := time.Duration(req.Request.SentAtSeconds * float64(time.Second))
	respond := sent + time.Duration(req.Request.LatencySeconds*float64(time.Second))
	cs := &results.ColdStart{
		ResponseSeconds: round(req.Request.LatencySeconds),
		Status:          req.Request.Status,
		ColdStartHeader: req.Request.Headers["X-Keda-Http-Cold-Start"],
	}
	for _, e := range v.kube {
		if e.At >= sent && e.At <= respond+time.Second && e.KubeEvent.Reason == ReasonKEDAActivated {
			cs.ActivatedSeconds = secs(e.At - sent)
			break
		}
	}
	for _, e := range v.deploy {
		if e.At >= sent && e.Deployment.Spec > 0 && cs.ScaledSeconds == nil {
			cs.ScaledSeconds = secs(e.At - sent)
		}
		if e.At >= sent && e.Deployment.Ready > 0 {
			cs.PodReadySeconds = secs(e.At - sent)
			break
		}
	}
	return cs
}

// Summarize computes mean, median and max of samples (seconds).
func Summarize(samples []float64) *results.Series {
	s := append([]float64(nil), samples...)
	sort.Float64s(s)
	sum := 0.0
	for _, x := range s {
		sum += x
	}
	rounded := make([]float64, len(samples))
	for i, x := range samples {
		rounded[i] = round(x)
	}
	return &results.Series{
		Samples:     rounded,
		MeanSeconds: round(sum / float64(len(s))),
		P50Seconds:  round(Median(s)),
		MinSeconds:  round(s[0]),
		MaxSeconds:  round(s[len(s)-1]),
	}
}

// Median of sorted values.
func Median(sorted []float64) float64 {
	n := len(sorted)
	if n == 0 {
		return math.NaN()
	}
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

func flaps(steps []results.Step) int {
	n, dir := 0, 0
	for _, s := range steps {
		d := 1
		if s.To < s.From {
			d = -1
		}
		if dir != 0 && d != dir {
			n++
		}
		dir = d
	}
	return n
}

func secs(d time.Duration) *float64 { return results.F64(round(d.Seconds())) }

func intPtr(i int) *int { return &i }

// round keeps millisecond precision, so reports are stable and readable.
func round(x float64) float64 { return math.Round(x*1000) / 1000 }

// Knobs are the scenario's configured settings and budgets, printed next to
// what was observed.
func Knobs(s *scenario.Scenario) map[string]string {
	a := s.Spec.Autoscaler
	k := map[string]string{
		"minReplicas": fmt.Sprint(*a.MinReplicas),
		"maxReplicas": fmt.Sprint(a.MaxReplicas),
	}
	if a.CPUUtilization != nil {
		k["cpuUtilizationPercent"] = fmt.Sprint(*a.CPUUtilization)
	}
	for name, p := range map[string]*int32{"pollingIntervalSeconds": a.PollingInterval, "cooldownPeriodSeconds": a.CooldownPeriod, "queueLength": a.QueueLength, "activationQueueLength": a.ActivationQueueLength, "scaledownPeriodSeconds": a.ScaledownPeriod} {
		if p != nil {
			k[name] = fmt.Sprint(*p)
		}
	}
	if b := a.Behavior; b != nil {
		if b.ScaleDown != nil && b.ScaleDown.StabilizationWindowSeconds != nil {
			k["scaleDownStabilizationSeconds"] = fmt.Sprint(*b.ScaleDown.StabilizationWindowSeconds)
		}
		if b.ScaleUp != nil && b.ScaleUp.StabilizationWindowSeconds != nil {
			k["scaleUpStabilizationSeconds"] = fmt.Sprint(*b.ScaleUp.StabilizationWindowSeconds)
		}
	}
	if h := s.Spec.Load.HTTP; h != nil {
		k["loadConnections"] = fmt.Sprint(h.Connections)
		k["loadDuration"] = h.TotalDuration().String()
		k["loadTimeout"] = h.Timeout.String()
	}
	if q := s.Spec.Load.SQS; q != nil {
		k["messages"] = fmt.Sprint(q.Messages)
		k["batchSize"] = fmt.Sprint(q.BatchSize)
	}
	e := s.Spec.Expectations
	if e.ScaleUp != nil {
		k["budgetScaleUp"] = fmt.Sprintf("%d replicas within %s", e.ScaleUp.Replicas, e.ScaleUp.Within)
	}
	if e.ScaleDown != nil {
		k["budgetScaleDown"] = fmt.Sprintf("%d replicas within %s", *e.ScaleDown.Replicas, e.ScaleDown.Within)
	}
	if e.Activation != nil {
		k["budgetActivation"] = e.Activation.Within.String()
	}
	if e.ColdStart != nil {
		k["budgetColdStart"] = e.ColdStart.Max.String()
	}
	return k
}

// Aggregate summarises the trials of one scenario.
func Aggregate(name string, trials []results.Scenario) results.Aggregate {
	a := results.Aggregate{Scenario: name, Trials: len(trials), Metrics: map[string]*results.Series{}}
	vals := map[string][]float64{}
	for _, t := range trials {
		if t.Passed {
			a.Passed++
		}
		m := t.Metrics
		for name, p := range map[string]*float64{
			"decisionSeconds": m.DecisionSeconds, "firstScaleUpSeconds": m.FirstScaleUpSeconds, "firstReadySeconds": m.FirstReadySeconds,
			"timeToPeakSeconds": m.TimeToPeakSeconds, "scaleDownSeconds": m.ScaleDownSeconds, "coldStartSeconds": m.ColdStartSeconds,
			"replicaSeconds": m.ReplicaSeconds, "p99LatencySeconds": m.P99LatencySeconds,
		} {
			if p != nil {
				vals[name] = append(vals[name], *p)
			}
		}
		// Every cold start of every trial is a sample, not just each trial's first.
		if cs := m.ColdStartSeries; cs != nil {
			v := vals["coldStartSeconds"]
			if m.ColdStartSeconds != nil && len(v) > 0 {
				v = v[:len(v)-1] // the first sample is in the series too
			}
			vals["coldStartSeconds"] = append(v, cs.Samples...)
		}
	}
	for name, v := range vals {
		a.Metrics[name] = Summarize(v)
	}
	return a
}
