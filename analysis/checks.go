package analysis

import (
	"fmt"
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
	CheckScaleUp        = "scale-up"
	CheckPeakAtMost     = "peak within maxReplicas"
	CheckStepInterval   = "scale-up steps spaced by the sync period"
	CheckScaleDown      = "scale-down"
	CheckColdStart      = "cold start"
	CheckActivation     = "activation from zero"
	CheckMessagesLost   = "no message lost"
	CheckErrorRate      = "error rate"
	CheckColdStartOK    = "cold-start request succeeded"
	CheckMessagesStored = "every valid message stored"
)

func checks(s *scenario.Scenario, v *view, m results.Metrics, steps []results.Step, msgs *MessageTotals) []results.Check {
	storeErr := ""
	if msgs != nil {
		storeErr = msgs.StoreError
	}
	var out []results.Check
	add := func(name string, ok bool, format string, args ...any) {
		out = append(out, results.Check{Name: name, Passed: ok, Detail: fmt.Sprintf(format, args...)})
	}
	e := s.Spec.Expectations
	start, hasStart := v.loadStart()
	if !hasStart {
		add(CheckLoadStarted, false, "expected a load-start marker in the timeline; none was recorded, so nothing was measured")
		return out
	}
	if u := e.ScaleUp; u != nil {
		at, ok := v.firstReadyAtLeast(start, u.Replicas)
		peak := int32(0)
		if m.PeakReplicas != nil {
			peak = *m.PeakReplicas
		}
		switch {
		case ok && at-start <= u.Within.Duration:
			add(CheckScaleUp, true, "expected ≥ %d ready replicas within %s of load start; observed %d at %.1f s", u.Replicas, u.Within, u.Replicas, (at - start).Seconds())
		case ok:
			add(CheckScaleUp, false, "expected ≥ %d ready replicas within %s of load start; observed only at %.1f s (%.1f s late)", u.Replicas, u.Within, (at - start).Seconds(), (at - start - u.Within.Duration).Seconds())
		default:
			add(CheckScaleUp, false, "expected ≥ %d ready replicas within %s of load start; never reached, observed a peak of %d ready", u.Replicas, u.Within, peak)
		}
		if u.AtMost > 0 {
			add(CheckPeakAtMost, peak <= u.AtMost, "expected peak ready replicas ≤ %d; observed %d", u.AtMost, peak)
		}
	}
	if min := e.MinStepInterval.Duration; min > 0 {
		var closest time.Duration = -1
		var bad []string
		var prevAt float64 = -1
		for _, st := range steps {
			// Only autoscaler-driven 1→N steps: KEDA's 0→1 activation is not
			// paced by the HPA sync period, and scale-downs have their own window.
			if st.To <= st.From || st.From == 0 {
				continue
			}
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
			add(CheckStepInterval, true, "expected scale-up steps ≥ %s apart; observed fewer than two scale-up steps, nothing to space", min)
		case len(bad) > 0:
			add(CheckStepInterval, false, "expected scale-up steps ≥ %s apart (tolerance %s); observed %s", min, StepTolerance, strings.Join(bad, "; "))
		default:
			add(CheckStepInterval, true, "expected scale-up steps ≥ %s apart (tolerance %s); closest observed %.1f s", min, StepTolerance, closest.Seconds())
		}
	}
	if d := e.ScaleDown; d != nil {
		end, ok := v.loadEnd()
		switch {
		case !ok:
			add(CheckScaleDown, false, "expected %d replicas within %s of the load end; the load never ended (no load-stop or queue-drained marker)", *d.Replicas, d.Within)
		case m.ScaleDownSeconds == nil:
			last, _ := v.stateAt(v.end)
			add(CheckScaleDown, false, "expected %d replicas within %s of the load end; observed %d spec / %d ready when the run ended %.1f s after it", *d.Replicas, d.Within, last.Spec, last.Ready, (v.end - end).Seconds())
		default:
			got := *m.ScaleDownSeconds
			add(CheckScaleDown, got <= d.Within.Seconds(), "expected %d replicas within %s of the load end; observed at %.1f s", *d.Replicas, d.Within, got)
		}
	}
	if a := e.Activation; a != nil {
		if act, ok := v.activation(start); ok {
			add(CheckActivation, act-start <= a.Within.Duration, "expected KEDA to activate the workload (0→1) within %s of the load start; observed %s at %.1f s", a.Within, ReasonKEDAActivated, (act - start).Seconds())
		} else {
			add(CheckActivation, false, "expected KEDA to activate the workload (0→1) within %s of the load start; no %s event was observed", a.Within, ReasonKEDAActivated)
		}
	}
	if c := e.ColdStart; c != nil {
		switch {
		case m.ColdStartSeconds == nil:
			add(CheckColdStart, false, "expected the first response at zero replicas within %s; no cold-start request was recorded", c.Max)
		case m.ColdStartSeries != nil:
			cs := m.ColdStartSeries
			add(CheckColdStart, cs.MaxSeconds <= c.Max.Seconds(), "expected every first response at zero replicas within %s; observed %d cold starts: mean %.3f s, p50 %.3f s, max %.3f s", c.Max, len(cs.Samples), cs.MeanSeconds, cs.P50Seconds, cs.MaxSeconds)
		default:
			add(CheckColdStart, *m.ColdStartSeconds <= c.Max.Seconds(), "expected the first response at zero replicas within %s; observed %.3f s", c.Max, *m.ColdStartSeconds)
		}
		if m.ColdStart != nil {
			failed := v.failedColdStarts()
			add(CheckColdStartOK, len(failed) == 0, "expected a 2xx response to every cold-start request; observed %s", describeFailed(failed, v.coldStartCount()))
		}
	}
	if max := e.MaxMessagesLost; max != nil {
		switch {
		case m.MessagesLost == nil && m.MessagesInQueue != nil:
			add(CheckMessagesLost, false, "expected at most %d messages lost; could not be verified: %s; observed %d of %d messages still in the queue (not lost)", *max, storeErr, *m.MessagesInQueue, deref(m.MessagesSent))
		case m.MessagesLost == nil:
			add(CheckMessagesLost, false, "expected at most %d messages lost; message counts were not collected", *max)
		default:
			add(CheckMessagesLost, *m.MessagesLost <= *max, "expected at most %d messages lost; observed %d (sent %d, processed %d, invalid %d)", *max, *m.MessagesLost, deref(m.MessagesSent), deref(m.MessagesProcessed), deref(m.MessagesInvalid))
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
	if r := e.MaxErrorRate; r != nil {
		if m.Requests == nil || *m.Requests == 0 {
			add(CheckErrorRate, false, "expected an error rate ≤ %.2f%%; no requests were recorded", *r*100)
		} else {
			rate := float64(*m.Errors) / float64(*m.Requests)
			add(CheckErrorRate, rate <= *r, "expected an error rate ≤ %.2f%%; observed %.2f%% (%d of %d requests failed)", *r*100, rate*100, *m.Errors, *m.Requests)
		}
	}
	return out
}

func (v *view) firstReadyAtLeast(from time.Duration, n int32) (time.Duration, bool) {
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

// failedColdStarts describes the cold-start requests that did not get a 2xx.
func (v *view) failedColdStarts() []string {
	var out []string
	for _, e := range v.requests {
		r := e.Request
		if r.Purpose != PurposeColdStart || (r.Status >= 200 && r.Status < 300) {
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
