package budget

import (
	"fmt"
	"math"
	"sort"
)

// The simulation runs the HPA controller's arithmetic (hpa.go) at its sync
// times against metrics-server's scrapes and KEDA's polls, for one
// alignment of those clocks with the load start (or end). Budget sweeps the
// alignments: the slowest is the budget, the fastest the lower bound. All
// times are integer milliseconds so that ties resolve exactly.

// saturated is the unstabilized recommendation of an external metric under
// a saturating load: more than any maxReplicas, so only the limits bind.
const saturated = 1 << 24

// horizon bounds a simulation: what has not happened within it is reported
// as not reached.
const horizon = int64(4 * 3600 * 1000)

// gridPoints is how many alignments of each clock are tried (evenly spread
// over its period).
const gridPoints = 24

type pod struct {
	old     bool  // running and sampled before the load started
	counted int64 // first time the HPA can use its CPU sample (new pods)
}

// model is a Spec in milliseconds, with what the simulation needs.
type model struct {
	spec     Spec
	external bool
	ratio    float64 // CPU: utilization ÷ target of a saturated pod
	tol      float64
	sync     int64 // HPA sync period
	res      int64 // metrics-server resolution (scrape period and window)
	startup  int64 // pod created → Ready
	poll     int64 // KEDA 0↔1 period
	cooldown int64 // KEDA N→0
	hpaMin   int32 // the HPA's minReplicas (KEDA's: max(min, 1))
	behavior bool
	up, down rules
	downFlag int64 // the controller's downscale stabilization (legacy, or behavior without a window)
	// tail is the use after the load end (Spec.Tail) as ratios to the
	// target; tailBusy says some of it is above zero.
	tail     []tailSeg
	tailBusy bool
}

// tailSeg is one step of the tail, from start to end ms after the load end.
type tailSeg struct {
	start, end int64
	ratio      float64
}

// How simDown reads the tail: at its level, or at the low or high edge of
// the band a reading may stray within (the HPA's tolerance around it: a
// pod's own use on top of the profile, a scrape window's jitter).
const (
	readingLow     = -1
	readingNominal = 0
	readingHigh    = 1
)

// downUsage is a pod's utilization ratio (to the target) in the scrape at
// s, whose window is [s − res, s]: the peak before the load end (t = 0),
// the tail after it read at rd, idle after the tail.
func (m *model) downUsage(s int64, rd int) float64 {
	busy := 1.0
	if s > 0 {
		busy = math.Max(0, 1-float64(s)/float64(m.res))
	}
	u := m.ratio * busy
	scale := 1 + float64(rd)*m.tol
	for _, seg := range m.tail {
		lo, hi := max(seg.start, s-m.res), min(seg.end, s)
		if hi > lo {
			u += seg.ratio * scale * float64(hi-lo) / float64(m.res)
		}
	}
	return u
}

// tailAt is the tail's level (percent of the request) in force at t after
// the load end; 0 when idle.
func (m *model) tailAt(t int64) float64 {
	for i, seg := range m.tail {
		if t >= seg.start && t < seg.end {
			return m.spec.Tail[i].Utilization
		}
	}
	return 0
}

func (m *model) newController() *controller {
	return &controller{behavior: m.behavior, up: m.up, down: m.down, downWindow: m.downFlag, min: m.hpaMin, max: m.spec.MaxReplicas}
}

// scrapeAtOrBefore is the last metrics-server scrape at or before t, with
// scrapes at phase + k × res.
func (m *model) scrapeAtOrBefore(phase, t int64) int64 {
	k := floorDiv(t-phase, m.res)
	return phase + k*m.res
}

func (m *model) scrapeAtOrAfter(phase, t int64) int64 {
	k := -floorDiv(phase-t, m.res)
	return phase + k*m.res
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// run is one simulated alignment.
type run struct {
	steps   []Step
	first   int64 // first raise of spec.replicas; -1 if none
	reached int64 // the target count Ready (up) or set (down); -1 if not within the horizon
	terms   map[string]int64
	// atFirst are the terms up to the first step.
	atFirst map[string]int64
}

func (r *run) add(knob string, d int64) {
	if d > 0 {
		r.terms[knob] += d
	}
}

func (r *run) step(at int64, from, to int32, why string) {
	if len(r.steps) == 0 {
		r.atFirst = map[string]int64{}
		for k, v := range r.terms {
			r.atFirst[k] = v
		}
	}
	r.steps = append(r.steps, Step{AtSeconds: ms(at), From: from, To: to, Why: why})
}

// simUp simulates a saturating load from t = 0 until maxReplicas are Ready.
// phSync, phScrape and phPoll (each in (0, period]) are the first HPA
// sync, metrics-server scrape and KEDA poll after the load start.
func (m *model) simUp(phSync, phScrape, phPoll int64) run {
	r := run{first: -1, reached: -1, terms: map[string]int64{}}
	ctl := m.newController()
	c := m.spec.MinReplicas
	var pods []pod
	for i := int32(0); i < c; i++ {
		pods = append(pods, pod{old: true})
	}
	last := int64(0)
	hpaFirst := true
	if c == 0 {
		// KEDA activates 0 → 1 at its first poll that sees the load.
		r.add(m.spec.ActivationKnob, phPoll)
		r.step(phPoll, 0, 1, "activation: "+m.spec.ActivationKnob)
		r.first, last, c = phPoll, phPoll, 1
		ready := phPoll + m.startup
		pods = append(pods, pod{counted: m.scrapeAtOrAfter(phScrape, ready+m.res)})
		if c == m.spec.MaxReplicas {
			r.reached = ready
			r.add(KnobStartup, m.startup)
			return r
		}
	}
	prev := limitNone
	for k := int64(0); ; k++ {
		t := phSync + k*m.sync
		if t > horizon {
			return r
		}
		if t <= last {
			continue
		}
		var raw int32
		ok := true
		if m.external {
			raw = saturated
		} else {
			raw, ok = m.cpuUp(t, c, pods, phScrape)
		}
		if !ok {
			r.add(KnobMetricResolution, t-last)
			last = t
			continue
		}
		n, why := ctl.normalize(t, c, raw)
		if n <= c {
			switch {
			case raw <= c:
				r.add(KnobMetricResolution, t-last)
			case why == limitStabilize:
				r.add(KnobScaleUpWindow, t-last)
			default:
				r.add(m.upPolicyKnob(), t-last)
			}
			last = t
			continue
		}
		switch {
		case hpaFirst && !m.external && r.first < 0:
			// Waiting for the load to show in a scrape, then for the sync
			// that reads it.
			vis := m.scrapeAtOrBefore(phScrape, t)
			if vis > last {
				r.add(KnobMetricResolution, vis-last)
				last = vis
			}
			r.add(KnobSyncPeriod, t-last)
		case prev == limitRate:
			r.add(m.upPolicyKnob(), t-last)
		default:
			r.add(KnobSyncPeriod, t-last)
		}
		hpaFirst = false
		last = t
		if r.first < 0 {
			r.first = t
		}
		r.step(t, c, n, m.upWhy(n, raw, why))
		for i := c; i < n; i++ {
			pods = append(pods, pod{counted: m.scrapeAtOrAfter(phScrape, t+m.startup+m.res)})
		}
		c, prev = n, why
		if c >= m.spec.MaxReplicas {
			r.reached = t + m.startup
			r.add(KnobStartup, m.startup)
			return r
		}
	}
}

// cpuUp is the CPU recommendation at sync t under a saturating load: pods
// sampled before the load show the busy share of the last scrape's window;
// new pods count only from the first scrape a whole window after they
// became Ready, and until then as using nothing.
func (m *model) cpuUp(t int64, c int32, pods []pod, phScrape int64) (int32, bool) {
	s := m.scrapeAtOrBefore(phScrape, t)
	busy := math.Min(1, math.Max(0, float64(s)/float64(m.res)))
	var usage []float64
	others := 0
	for _, p := range pods {
		switch {
		case p.old:
			usage = append(usage, m.ratio*busy)
		case p.counted <= t:
			usage = append(usage, m.ratio)
		default:
			others++
		}
	}
	return cpuDesired(c, usage, others, m.tol)
}

func (m *model) upWhy(n, raw int32, why limit) string {
	switch {
	case n == m.spec.MaxReplicas:
		return "maxReplicas"
	case why == limitRate:
		return "limited by " + m.upPolicyText()
	case why == limitStabilize:
		return "held by the scale-up stabilization window"
	}
	return fmt.Sprintf("metric: desired %d", raw)
}

func (m *model) upPolicyKnob() string {
	if m.behavior {
		return KnobScaleUpPolicies
	}
	return KnobLegacyScaleUpLimit
}

func (m *model) upPolicyText() string {
	if !m.behavior {
		return "max(2 × current, 4) per sync (no behavior)"
	}
	return policyText(m.up)
}

// simDown simulates the load ending at t = 0 after a steady state at
// maxReplicas, until the workload is back at its minimum (zero through
// KEDA's cooldown when the minimum is 0). After the load end the pods run
// the tail, read at rd, then idle.
func (m *model) simDown(phSync, phScrape, phPoll int64, rd int) run {
	r := run{first: -1, reached: -1, terms: map[string]int64{}}
	ctl := m.newController()
	c := m.spec.MaxReplicas
	steady := int32(saturated)
	if !m.external {
		steady = int32(math.Ceil(m.ratio * float64(c)))
	}
	// The steady state's recommendations, one per sync, back over the
	// longest window.
	back := max(m.up.window, m.down.window, m.downFlag) + m.sync
	for t := phSync - m.sync; t > -back; t -= m.sync {
		ctl.recs = append(ctl.recs, sample{t, steady})
	}
	sort.Slice(ctl.recs, func(i, j int) bool { return ctl.recs[i].at < ctl.recs[j].at })
	zeroAt := int64(-1)
	if m.spec.MinReplicas == 0 {
		// KEDA's last active poll is the last at or before the load end; it
		// scales to zero at the first poll a whole cooldown after it.
		lastActive := phPoll - m.poll
		polls := (m.cooldown + m.poll - 1) / m.poll
		zeroAt = lastActive + polls*m.poll
	}
	last := int64(0)
	prev := limitNone
	for k := int64(0); ; k++ {
		t := phSync + k*m.sync
		if t > horizon || (zeroAt >= 0 && t >= zeroAt) {
			break
		}
		var raw int32
		var s int64   // the scrape the sync reads (CPU)
		var u float64 // a pod's utilization ratio in it
		fromTail := false
		if m.external {
			raw = externalDesired(c, 0, 1, m.tol)
		} else {
			s = m.scrapeAtOrBefore(phScrape, t)
			u = m.downUsage(s, rd)
			usage := make([]float64, c)
			for i := range usage {
				usage[i] = u
			}
			raw, _ = cpuDesired(c, usage, 0, m.tol)
			// A whole window after the load end the reading is the tail's.
			fromTail = m.tailBusy && s-m.res >= 0 && raw > m.hpaMin
		}
		n, why := ctl.normalize(t, c, raw)
		if n >= c {
			switch {
			case raw >= c && fromTail:
				r.add(KnobCPUProfileTail, t-last)
			case raw >= c:
				r.add(m.metricKnob(), t-last)
			case m.behavior && why == limitRate:
				r.add(m.downPolicyKnob(), t-last)
			default:
				// The metric asks for fewer: a stabilization window holds.
				r.add(m.downWindowKnob(), t-last)
			}
			last = t
			continue
		}
		if prev == limitRate {
			r.add(m.downPolicyKnob(), t-last)
		} else {
			r.add(KnobSyncPeriod, t-last)
		}
		last = t
		if r.first < 0 {
			r.first = t
		}
		why2 := "metric"
		if fromTail {
			why2 = m.tailWhy(s, c, raw, u, rd)
			if n != raw && why == limitStabilize {
				why2 = fmt.Sprintf("held at %d by the scale-down window; now %s", n, why2)
			}
		}
		switch {
		case n == m.hpaMin:
			why2 = "minReplicas"
			if m.spec.MinReplicas == 0 {
				why2 = "the HPA's minReplicas (1); KEDA scales to zero"
			}
		case why == limitRate:
			why2 = "limited by " + policyText(m.down)
		}
		r.step(t, c, n, why2)
		c, prev = n, why
		if c == m.spec.MinReplicas {
			r.reached = t
			return r
		}
	}
	if zeroAt >= 0 {
		r.terms = map[string]int64{}
		r.add(m.spec.CooldownKnob, min(m.cooldown, zeroAt))
		r.add(m.spec.ActivationKnob, zeroAt-m.cooldown)
		if r.first < 0 {
			r.first = zeroAt
		}
		r.step(zeroAt, c, 0, "cooldown: "+m.spec.CooldownKnob)
		r.reached = zeroAt
	}
	return r
}

// tailWhy says why a scale-down step stops above the minimum: the tail's
// use in the scrape at s (u per pod, as a ratio to the target), read at rd.
func (m *model) tailWhy(s int64, c, raw int32, u float64, rd int) string {
	how := ""
	switch rd {
	case readingHigh:
		how = fmt.Sprintf(", read %g%% above it", m.tol*100)
	case readingLow:
		how = fmt.Sprintf(", read %g%% below it", m.tol*100)
	}
	return fmt.Sprintf("metric: desired %d = ceil(%d × %.3g) from the profile's %g%% after the load end%s", raw, c, u, m.tailAt(s-1), how)
}

func (m *model) metricKnob() string {
	if m.external {
		return KnobSyncPeriod
	}
	return KnobMetricResolution
}

func (m *model) downWindowKnob() string {
	if m.behavior && m.spec.Behavior != nil && m.spec.Behavior.ScaleDown != nil && m.spec.Behavior.ScaleDown.StabilizationWindowSeconds != nil {
		return KnobScaleDownWindow
	}
	return KnobDownscaleStabilization
}

func (m *model) downPolicyKnob() string {
	if m.behavior {
		return KnobScaleDownPolicies
	}
	return KnobSyncPeriod
}

func policyText(r rules) string {
	s := ""
	for i, p := range r.policies {
		if i > 0 {
			s += ", "
		}
		if p.pods {
			s += fmt.Sprintf("%d pods", p.value)
		} else {
			s += fmt.Sprintf("%d%%", p.value)
		}
		s += fmt.Sprintf(" per %ds", p.period/1000)
	}
	sel := "Max"
	switch r.selectP {
	case "Min":
		sel = "Min"
	case "Disabled":
		return "Disabled (no scaling in this direction)"
	}
	return fmt.Sprintf("%s of [%s]", sel, s)
}

func ms(v int64) float64 { return float64(v) / 1000 }
