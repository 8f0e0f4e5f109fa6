package analysis

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/scalebench/scalebench/results"
	"github.com/scalebench/scalebench/scenario"
)

// StepTolerance is how much closer than MinStepInterval two scale-up steps
// may be observed: receive timestamps of watch events jitter by the API
// server's and the informer's latency.
const StepTolerance = time.Second

// Check names.
const (
	CheckLoadStarted    = "load started"
	CheckServed         = "requests served"
	CheckScaleUp        = "scale-up"
	CheckPeakAtMost     = "peak within atMost"
	CheckMaxReplicas    = "replicas within expectations.maxReplicas"
	CheckStepInterval   = "scale-up steps spaced by the sync period"
	CheckHoldsScaleUp   = "scale-up held until the load ends"
	CheckScaleDown      = "scale-down"
	CheckColdStart      = "cold start"
	CheckActivation     = "activation from zero"
	CheckMessagesLost   = "no message lost"
	CheckErrorRate      = "error rate"
	CheckColdStartOK    = "cold-start request succeeded"
	CheckMessagesStored = "every valid message stored"
)

func checks(s *scenario.Scenario, v *view, m results.Metrics, steps []results.Step, in Input) []results.Check {
	msgs := in.Messages
	storeErr := ""
	if msgs != nil {
		storeErr = msgs.StoreError
	}
	var out []results.Check
	add := func(name string, ok bool, format string, args ...any) {
		out = append(out, results.Check{Name: name, Passed: ok, Detail: fmt.Sprintf(format, args...)})
	}
	// skip records a check that was not tested, saying what it expected and
	// why it could not fail in this run.
	skip := func(name string, format string, args ...any) {
		out = append(out, results.Check{Name: name, Skipped: true, Detail: fmt.Sprintf(format, args...)})
	}
	e := s.Spec.Expectations
	a := s.Spec.Autoscaler
	c, hasStart := v.cycle(s)
	if !hasStart {
		add(CheckLoadStarted, false, "expected a load-start marker in the timeline; none was recorded, so nothing was measured")
		return out
	}
	start := c.start
	if s.Spec.Load.Type == scenario.LoadHTTP {
		// Not configurable: a scenario whose app served nothing never passes.
		switch {
		case m.Requests == nil:
			add(CheckServed, false, "expected at least one successful request; observed no load results (the load generator reported nothing)")
		case *m.Requests == 0:
			add(CheckServed, false, "expected at least one successful request; observed no request sent")
		default:
			add(CheckServed, *m.SuccessfulRequests > 0, "expected at least one successful request; observed %d of %d requests succeeded", *m.SuccessfulRequests, *m.Requests)
		}
		if r := e.MaxErrorRate; r != nil {
			if m.Requests == nil || *m.Requests == 0 {
				add(CheckErrorRate, false, "expected an error rate ≤ %s; observed no requests", pct(*r))
			} else {
				rate := float64(*m.Errors) / float64(*m.Requests)
				add(CheckErrorRate, rate <= *r, "expected an error rate ≤ %s; observed %s (%d of %d requests failed%s)", pct(*r), pct(rate), *m.Errors, *m.Requests, errorCauses(in.Load))
			}
		}
	}
	if s.Spec.Load.Type == scenario.LoadCPU {
		// The verdict covers scaling only: say so where the reader looks.
		skip(CheckServed, "not tested: a CPU profile holds the pods at their CPU levels and sends no requests, so this verdict is about scaling, not service")
	}
	peak := int32(0)
	if m.PeakReplicas != nil {
		peak = *m.PeakReplicas
	}
	if u := e.ScaleUp; u != nil {
		at, ok := v.firstReadyAtLeast(start, u.Replicas)
		switch {
		case ok && at == start:
			add(CheckScaleUp, true, "expected ≥ %d ready replicas within %s of load start; observed %d ready already at the load start", u.Replicas, u.Within, u.Replicas)
		case ok && at-start <= u.Within.Duration:
			add(CheckScaleUp, true, "expected ≥ %d ready replicas within %s of load start; observed %d at %.1f s", u.Replicas, u.Within, u.Replicas, (at - start).Seconds())
		case ok:
			add(CheckScaleUp, false, "expected ≥ %d ready replicas within %s of load start; observed only at %.1f s (%.1f s late)", u.Replicas, u.Within, (at - start).Seconds(), (at - start - u.Within.Duration).Seconds())
		default:
			add(CheckScaleUp, false, "expected ≥ %d ready replicas within %s of load start; never reached, observed a peak of %d ready", u.Replicas, u.Within, peak)
		}
		switch {
		case u.AtMost == 0:
		case u.AtMost >= a.MaxReplicas:
			skip(CheckPeakAtMost, "expected peak ready replicas ≤ %d; not tested: the autoscaler's own maxReplicas (%d) bounds the peak, so this could not fail (observed %d)", u.AtMost, a.MaxReplicas, peak)
		default:
			add(CheckPeakAtMost, peak <= u.AtMost, "expected peak ready replicas ≤ %d; observed %d", u.AtMost, peak)
		}
		holdsScaleUp(v, s, c, u.Replicas, at, ok, add, skip)
	}
	if n := e.MaxReplicas; n != nil {
		spec, ready, when := v.peakFrom(start)
		switch {
		case spec < 0:
			add(CheckMaxReplicas, false, "expected at most %d replicas from the load start on; observed no replica count of the workload", *n)
		case spec > *n || ready > *n:
			add(CheckMaxReplicas, false, "expected at most %d replicas from the load start on; observed %d spec / %d ready at %.1f s", *n, spec, ready, (when - start).Seconds())
		default:
			add(CheckMaxReplicas, true, "expected at most %d replicas from the load start on; observed at most %d spec / %d ready", *n, spec, ready)
		}
	}
	if min := e.MinStepInterval.Duration; min > 0 {
		var closest time.Duration = -1
		var bad []string
		var prevAt float64 = -1
		n := 0
		for _, st := range steps {
			// Only autoscaler-driven 1→N steps: KEDA's 0→1 activation is not
			// paced by the HPA sync period, and scale-downs have their own window.
			if st.To <= st.From || st.From == 0 {
				continue
			}
			n++
			if prevAt >= 0 {
				gap := time.Duration((st.AtSeconds - prevAt) * float64(time.Second))
				if closest < 0 || gap < closest {
					closest = gap
				}
				if gap < min-StepTolerance {
					bad = append(bad, fmt.Sprintf("%d→%d at %.1f s only %.1f s after the previous step", st.From, st.To, st.AtSeconds, gap.Seconds()))
				}
			}
			prevAt = st.AtSeconds
		}
		switch {
		case closest < 0:
			skip(CheckStepInterval, "expected scale-up steps ≥ %s apart; not tested: observed %d scale-up step(s) from a running replica, and spacing needs two", min, n)
		case len(bad) > 0:
			add(CheckStepInterval, false, "expected scale-up steps ≥ %s apart (tolerance %s); observed %s", min, StepTolerance, strings.Join(bad, "; "))
		default:
			add(CheckStepInterval, true, "expected scale-up steps ≥ %s apart (tolerance %s); closest observed %.1f s", min, StepTolerance, closest.Seconds())
		}
	}
	if d := e.ScaleDown; d != nil {
		exp := fmt.Sprintf("expected %d replicas within %s of the load end", *d.Replicas, d.Within)
		switch {
		case !c.hasEnd:
			add(CheckScaleDown, false, "%s; the load never ended (no load-stop or queue-drained marker)", exp)
		case m.ScaleDownSeconds != nil:
			got := *m.ScaleDownSeconds
			add(CheckScaleDown, got <= d.Within.Seconds(), "%s; observed at %.1f s", exp, got)
		case !c.scaledUp && !c.upAfterStart:
			skip(CheckScaleDown, "%s; not tested: the workload never scaled up after the load start (observed %s), so there was nothing to scale down", exp, describeBase(c))
		default:
			last, _ := v.stateAt(v.end)
			add(CheckScaleDown, false, "%s; observed %d spec / %d ready when the run ended %.1f s after it", exp, last.Spec, last.Ready, (v.end - c.end).Seconds())
		}
	}
	if act := e.Activation; act != nil {
		if at, ok := v.activation(start); ok {
			add(CheckActivation, at-start <= act.Within.Duration, "expected KEDA to activate the workload (0→1) within %s of the load start; observed %s at %.1f s", act.Within, ReasonKEDAActivated, (at - start).Seconds())
		} else {
			add(CheckActivation, false, "expected KEDA to activate the workload (0→1) within %s of the load start; no %s event about %s was observed", act.Within, ReasonKEDAActivated, v.so)
		}
	}
	if cs := e.ColdStart; cs != nil {
		switch {
		case m.ColdStartSeconds == nil:
			add(CheckColdStart, false, "expected the first response at zero replicas within %s; no cold-start request was recorded", cs.Max)
		case m.ColdStartSeries != nil:
			ser := m.ColdStartSeries
			add(CheckColdStart, ser.MaxSeconds <= cs.Max.Seconds(), "expected every first response at zero replicas within %s; observed %d cold starts: mean %.3f s, p50 %.3f s, max %.3f s", cs.Max, len(ser.Samples), ser.MeanSeconds, ser.P50Seconds, ser.MaxSeconds)
		default:
			add(CheckColdStart, *m.ColdStartSeconds <= cs.Max.Seconds(), "expected the first response at zero replicas within %s; observed %.3f s", cs.Max, *m.ColdStartSeconds)
		}
		if m.ColdStart != nil {
			failed := v.failedColdStarts()
			add(CheckColdStartOK, len(failed) == 0, "expected a successful response (status below 400, in time) to every cold-start request; observed %s", describeFailed(failed, v.coldStartCount()))
		}
	}
	if max := e.MaxMessagesLost; max != nil {
		switch {
		case msgs == nil:
			add(CheckMessagesLost, false, "expected at most %d messages lost; message counts were not collected", *max)
		case m.MessagesLost == nil:
			add(CheckMessagesLost, false, "expected at most %d messages lost; could not be verified: %s; observed %d of %d messages still in the queues", *max, m.Absent["messagesLost"], deref(m.MessagesInQueue), deref(m.MessagesSent))
		default:
			add(CheckMessagesLost, *m.MessagesLost <= *max, "expected at most %d messages lost; observed %d (sent %d, invalid %d, stored %d, still waiting %d)", *max, *m.MessagesLost, deref(m.MessagesSent), deref(m.MessagesInvalid), deref(m.MessagesProcessed), msgs.Sent-msgs.Invalid-msgs.Processed-*m.MessagesLost)
		}
	}
	if q := m.MessagesSent; q != nil {
		valid := *q - deref(m.MessagesInvalid)
		if m.MessagesProcessed == nil {
			add(CheckMessagesStored, false, "expected exactly one correct record per valid message (%d); observed the store unreachable at the end of the run: %s", valid, storeErr)
		} else {
			add(CheckMessagesStored, *m.MessagesProcessed == valid, "expected exactly one correct record per valid message (%d); observed %d", valid, *m.MessagesProcessed)
		}
	}
	return out
}

// holdsScaleUp checks that once n ready replicas were reached (at reachedAt)
// spec.replicas does not drop below n before the load ends: a check that
// can fail where "peak ≤ maxReplicas" cannot.
func holdsScaleUp(v *view, s *scenario.Scenario, c cycle, n int32, reachedAt time.Duration, reached bool,
	add func(string, bool, string, ...any), skip func(string, string, ...any)) {
	exp := fmt.Sprintf("expected spec.replicas to stay ≥ %d from reaching it until the load ends", n)
	if h := s.Spec.Load.HTTP; h != nil && len(h.Steps) > 0 {
		skip(CheckHoldsScaleUp, "%s; not tested: the load is stepped, and its steps may intend a scale-down", exp)
		return
	}
	if h := s.Spec.Load.HTTP; h != nil && len(h.Profile) > 0 {
		skip(CheckHoldsScaleUp, "%s; not tested: the load follows a rate profile, whose later steps may intend a scale-down", exp)
		return
	}
	if !reached {
		skip(CheckHoldsScaleUp, "%s; not tested: %d ready replicas were never reached (observed a peak of %d ready)", exp, n, c.peak)
		return
	}
	if reachedAt > c.end {
		skip(CheckHoldsScaleUp, "%s; not tested: %d ready replicas were observed only at %.1f s, after the load ended", exp, n, (reachedAt - c.start).Seconds())
		return
	}
	for _, e := range v.deploy {
		if e.At > reachedAt && e.At < c.end && e.Deployment.Spec < n {
			add(CheckHoldsScaleUp, false, "%s; observed a drop to %d at %.1f s, %.1f s before the load ended", exp, e.Deployment.Spec, (e.At - c.start).Seconds(), (c.end - e.At).Seconds())
			return
		}
	}
	add(CheckHoldsScaleUp, true, "%s; observed it held for %.1f s, from %.1f s to the load end", exp, (c.end - reachedAt).Seconds(), (reachedAt - c.start).Seconds())
}

// peakFrom is the highest spec and ready replicas observed from t on
// (including the state at t), and when the first of the highest was seen;
// spec is -1 when nothing was observed.
func (v *view) peakFrom(t time.Duration) (spec, ready int32, when time.Duration) {
	spec, ready = -1, -1
	if r, ok := v.stateAt(t); ok {
		spec, ready, when = r.Spec, r.Ready, t
	}
	for _, e := range v.deploy {
		if e.At <= t {
			continue
		}
		d := e.Deployment
		if max(d.Spec, d.Ready) > max(spec, ready) {
			when = e.At
		}
		spec, ready = max(spec, d.Spec), max(ready, d.Ready)
	}
	return spec, ready, when
}

func describeBase(c cycle) string {
	if !c.hasBase {
		return "no replica count before the load start"
	}
	return fmt.Sprintf("%d spec / %d ready at the load start, peak %d ready", c.base.Spec, c.base.Ready, c.peak)
}

// pct formats a fraction as a percentage.
func pct(f float64) string { return fmt.Sprintf("%.2f%%", f*100) }

// firstReadyAtLeast is the first time at or after from (the state at from
// included) with at least n ready replicas.
func (v *view) firstReadyAtLeast(from time.Duration, n int32) (time.Duration, bool) {
	if r, ok := v.stateAt(from); ok && r.Ready >= n {
		return from, true
	}
	for _, e := range v.deploy {
		if e.At >= from && e.Deployment.Ready >= n {
			return e.At, true
		}
	}
	return 0, false
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func (v *view) activation(from time.Duration) (time.Duration, bool) {
	for _, e := range v.kube {
		if e.At >= from && e.KubeEvent.Reason == ReasonKEDAActivated {
			return e.At, true
		}
	}
	return 0, false
}

func (v *view) coldStartCount() int {
	n := 0
	for _, e := range v.requests {
		if e.Request.Purpose == PurposeColdStart {
			n++
		}
	}
	return n
}

// failedColdStarts describes the cold-start requests that did not succeed:
// the same meaning as successfulRequests (a status below 400 in time).
func (v *view) failedColdStarts() []string {
	var out []string
	for _, e := range v.requests {
		r := e.Request
		if r.Purpose != PurposeColdStart || (r.Error == "" && r.Status >= 100 && r.Status < 400) {
			continue
		}
		if r.Error != "" {
			out = append(out, fmt.Sprintf("at %.1f s: %s", r.SentAtSeconds, r.Error))
		} else {
			out = append(out, fmt.Sprintf("at %.1f s: status %d", r.SentAtSeconds, r.Status))
		}
	}
	return out
}

func describeFailed(failed []string, total int) string {
	if len(failed) == 0 {
		return fmt.Sprintf("all %d succeeded", total)
	}
	return fmt.Sprintf("%d of %d failed (%s)", len(failed), total, strings.Join(failed, "; "))
}

// errorCauses is ": 120 http_5xx (the app answered 5xx), 3 timeout" for the
// error-rate check's detail, most frequent first; "" when unknown.
func errorCauses(l *LoadTotals) string {
	if l == nil || len(l.ErrorsByKind) == 0 {
		return ""
	}
	kinds := slices.SortedFunc(maps.Keys(l.ErrorsByKind), func(a, b string) int {
		if c := cmp.Compare(l.ErrorsByKind[b], l.ErrorsByKind[a]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, 0, len(kinds))
	for _, k := range kinds {
		p := fmt.Sprintf("%d %s", l.ErrorsByKind[k], k)
		if w := errorKindMeaning[k]; w != "" {
			p += " (" + w + ")"
		}
		parts = append(parts, p)
	}
	return ": " + strings.Join(parts, ", ")
}

// errorKindMeaning says who failed for each load.ErrorKind.
var errorKindMeaning = map[string]string{
	"http_5xx":           "the app or the ingress answered 5xx",
	"http_4xx":           "answered 4xx",
	"timeout":            "no response within the timeout",
	"connection_refused": "nothing listening",
	"connection_reset":   "connection reset",
}
