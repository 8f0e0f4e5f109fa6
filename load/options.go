package load

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Defaults, as in the SpinKube docs' `bombardier -c 40 -t 5s -d 3m`.
const (
	DefaultConnections = 40
	DefaultDuration    = 3 * time.Minute
	DefaultTimeout     = 5 * time.Second
)

// Mode says how requests are sent.
type Mode string

const (
	// ClosedLoop (the default): Connections workers, each sending its next
	// request only when the previous response arrived (or, with a rate, when
	// the pacer says and it is free). A slow target therefore receives fewer
	// requests, and latency is measured from the actual send: the time a
	// request waited for a free worker is not in it (coordinated omission).
	ClosedLoop Mode = "closed-loop"
	// OpenLoop sends requests at their scheduled times (Rate, or the Steps'
	// rates) whatever the responses, each on an idle connection of a pool of
	// at most MaxInFlight. Latency is measured from the scheduled send time,
	// so a slow target cannot hide its delay by slowing the load down (free
	// of coordinated omission); the per-request timeout also runs from the
	// scheduled time. A request is missed, not sent, when it falls due while
	// MaxInFlight requests are in flight, or when the generator itself could
	// not send it within OpenLoopMaxLag of its time (a stalled generator must
	// not pass its own delay off as the target's).
	OpenLoop Mode = "open-loop"
)

// Modes lists the modes.
var Modes = []Mode{ClosedLoop, OpenLoop}

const (
	// OpenLoopMaxLag is how late after its scheduled time an open-loop
	// request may still be sent; later ones are missed.
	OpenLoopMaxLag = 100 * time.Millisecond
	// MaxMaxInFlight is the largest open-loop in-flight cap (one connection
	// each), and the default cap's ceiling.
	MaxMaxInFlight = 10000
)

// Describe says in a sentence how the attack sends requests, for reports
// and timeline markers: the mode, its parameters, and what latency is
// measured from. Options must be valid.
func (o Options) Describe() string {
	o = o.withDefaults()
	p := newPlan(o)
	var b strings.Builder
	rate := strconv.FormatFloat(o.Rate, 'f', -1, 64)
	if o.Mode == OpenLoop {
		b.WriteString("open-loop: ")
		if len(o.Steps) > 0 {
			fmt.Fprintf(&b, "%d steps of paced arrivals over %s (%s)", len(o.Steps), p.end(), describeSteps(o.Steps))
		} else {
			fmt.Fprintf(&b, "%s requests/s for %s", rate, o.Duration)
		}
		fmt.Fprintf(&b, ", sent at their scheduled times whatever the responses, at most %d in flight "+
			"(a request due with that many in flight, or not sent within %s of its time, is missed); "+
			"latency and the %s timeout from the scheduled send time (free of coordinated omission)",
			o.MaxInFlight, OpenLoopMaxLag, o.Timeout)
		return b.String()
	}
	b.WriteString("closed-loop: ")
	if len(o.Steps) > 0 {
		fmt.Fprintf(&b, "%d steps over %s (up to %d connections)", len(o.Steps), p.end(), p.maxConns())
	} else {
		fmt.Fprintf(&b, "%d connections for %s", o.Connections, o.Duration)
		if o.Rate > 0 {
			fmt.Fprintf(&b, " at most %s requests/s", rate)
		}
	}
	fmt.Fprintf(&b, ", each sending its next request when its response arrived; latency from the actual send; timeout %s", o.Timeout)
	return b.String()
}

// describeSteps lists open-loop steps: "5/s for 1m0s, ramp to 50/s over
// 2m0s, idle 30s".
func describeSteps(steps []Step) string {
	parts := make([]string, len(steps))
	for i, s := range steps {
		r := strconv.FormatFloat(s.Rate, 'f', -1, 64) + "/s"
		switch {
		case s.Ramp:
			parts[i] = fmt.Sprintf("ramp to %s over %s", r, s.Duration)
		case s.paced():
			parts[i] = fmt.Sprintf("%s for %s", r, s.Duration)
		default:
			parts[i] = fmt.Sprintf("idle %s", s.Duration)
		}
	}
	return strings.Join(parts, ", ")
}

// Scheduled is, for each step of an open loop's plan (one for a single
// rate), how many requests it schedules: those due within the step, sent
// or missed. A ramp's count is within 1 of the integral of its rate.
// Options must be valid.
func (o Options) Scheduled() []int64 {
	var out []int64
	o.eachDue(func(step int, _ time.Duration) { out[step]++ }, func(n int) { out = make([]int64, n) })
	return out
}

// Arrivals lists, for each step of an open loop's plan, the offsets from
// the start at which it schedules its hits, ascending: the same schedule
// as Scheduled counts, for a sender other than the HTTP generator (SQS
// messages). Options must be valid.
func (o Options) Arrivals() [][]time.Duration {
	var out [][]time.Duration
	o.eachDue(func(step int, at time.Duration) { out[step] = append(out[step], at) },
		func(n int) { out = make([][]time.Duration, n) })
	return out
}

// eachDue calls steps with the plan's step count, then hit for each hit in
// order with its step and offset.
func (o Options) eachDue(hit func(step int, at time.Duration), steps func(n int)) {
	p := newPlan(o.withDefaults())
	steps(len(p))
	for i, ph := range p {
		if ph.pacer == nil {
			continue
		}
		for n := uint64(0); ; n++ {
			due, ok := ph.pacer.Due(n)
			if !ok || due >= ph.end-ph.start {
				break
			}
			hit(i, ph.start+due)
		}
	}
}

// Options describe one attack. The zero values of Connections, Duration and
// Timeout mean the defaults.
type Options struct {
	// URL is the target; the method is always GET.
	URL string
	// Host overrides the Host header (the KEDA HTTP add-on routes by it).
	Host string
	// Mode is ClosedLoop (the default when empty) or OpenLoop.
	Mode Mode
	// Connections is the number of closed-loop workers, each with at most one
	// request in flight (bombardier -c). Must be zero in an open loop.
	Connections int
	// MaxInFlight caps the requests in flight in an open loop (each on its
	// own connection, opened when first needed); zero means enough for the
	// peak rate with every request taking Timeout (peak rate × Timeout + 1),
	// at most MaxMaxInFlight. Must be zero in a closed loop.
	MaxInFlight int
	// Duration is how long new requests are started (bombardier -d). Requests
	// in flight at the end complete, bounded by Timeout. Must be zero with Steps.
	Duration time.Duration
	// Timeout bounds each request from send to the last body byte
	// (bombardier -t). A request that hits it is a KindTimeout error.
	Timeout time.Duration
	// Rate, in an open loop, is the arrival rate in requests per second
	// (required without Steps). In a closed loop it caps the requests started
	// per second across all workers (bombardier -r); zero means no cap. When
	// the workers are all busy the
	// rate falls behind; then at most one overdue request per worker is sent
	// at once and older ones are dropped (counted in Summary.Missed), so a
	// stalled target is not hit by a replayed backlog when it recovers.
	Rate float64
	// Steps, when set, replace Duration and Rate with a sequence.
	Steps []Step
	// RecordHeaders names response headers copied into Result.Headers, such as
	// "X-Keda-Http-Cold-Start".
	RecordHeaders []string
}

// Step is one stage of stepped load. In a closed loop a step is
//   - paced when Rate > 0 or Ramp: Connections workers (Options.Connections
//     if zero) start requests at Rate per second;
//   - closed-loop when not paced and Connections > 0: that many workers send
//     back to back;
//   - idle otherwise: no requests for Duration (to watch a scale-down).
//
// In an open loop Connections must be zero: a step is paced (requests arrive
// at Rate) or idle.
type Step struct {
	Duration    time.Duration
	Connections int
	Rate        float64
	// Ramp changes the rate linearly over the step, from the rate the previous
	// step ended at (zero after a closed-loop or idle step, or first) to Rate.
	Ramp bool
}

func (s Step) paced() bool { return s.Rate > 0 || s.Ramp }

// withDefaults fills zero values with the defaults.
func (o Options) withDefaults() Options {
	if o.Mode == "" {
		o.Mode = ClosedLoop
	}
	if o.Connections == 0 && o.Mode == ClosedLoop {
		o.Connections = DefaultConnections
	}
	if o.Duration == 0 && len(o.Steps) == 0 {
		o.Duration = DefaultDuration
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Mode == OpenLoop && o.MaxInFlight == 0 {
		o.MaxInFlight = defaultMaxInFlight(o)
	}
	return o
}

// defaultMaxInFlight is enough in-flight requests for the peak arrival rate
// with every request taking the whole timeout, so only a stalled generator
// misses: ceil(peak rate × Timeout) + 1, within 1..MaxMaxInFlight.
func defaultMaxInFlight(o Options) int {
	peak := o.Rate
	for _, s := range o.Steps {
		peak = max(peak, s.Rate)
	}
	n := math.Ceil(peak*o.Timeout.Seconds()) + 1
	if n != n || n > MaxMaxInFlight {
		return MaxMaxInFlight
	}
	return max(int(n), 1)
}

// validate checks defaulted options.
func (o Options) validate() error {
	var errs []error
	u, err := url.Parse(o.URL)
	switch {
	case o.URL == "":
		errs = append(errs, errors.New("URL is empty"))
	case err != nil:
		errs = append(errs, fmt.Errorf("URL: %w", err))
	case u.Scheme != "http" && u.Scheme != "https":
		errs = append(errs, fmt.Errorf("URL %q: scheme must be http or https", o.URL))
	case u.Host == "":
		errs = append(errs, fmt.Errorf("URL %q: no host", o.URL))
	}
	if o.Connections < 0 {
		errs = append(errs, fmt.Errorf("connections %d < 0", o.Connections))
	}
	switch o.Mode {
	case ClosedLoop:
		if o.MaxInFlight != 0 {
			errs = append(errs, fmt.Errorf("max in flight %d: only for mode %s (a closed loop's connections are its cap)", o.MaxInFlight, OpenLoop))
		}
	case OpenLoop:
		if o.Connections != 0 {
			errs = append(errs, fmt.Errorf("connections %d: must be 0 in mode %s (MaxInFlight bounds the requests in flight)", o.Connections, OpenLoop))
		}
		if o.MaxInFlight < 0 || o.MaxInFlight > MaxMaxInFlight {
			errs = append(errs, fmt.Errorf("max in flight %d: must be 1..%d (0: the default)", o.MaxInFlight, MaxMaxInFlight))
		}
		if len(o.Steps) == 0 && !(o.Rate > 0) {
			errs = append(errs, fmt.Errorf("rate %v: mode %s needs an arrival rate > 0", o.Rate, OpenLoop))
		}
		for i, s := range o.Steps {
			if s.Connections != 0 {
				errs = append(errs, fmt.Errorf("step %d: connections %d: must be 0 in mode %s", i, s.Connections, OpenLoop))
			}
		}
	default:
		errs = append(errs, fmt.Errorf("mode %q: must be %q or %q", o.Mode, ClosedLoop, OpenLoop))
	}
	if o.Duration < 0 {
		errs = append(errs, fmt.Errorf("duration %v < 0", o.Duration))
	}
	if o.Timeout < 0 {
		errs = append(errs, fmt.Errorf("timeout %v < 0", o.Timeout))
	}
	if o.Rate < 0 || o.Rate != o.Rate {
		errs = append(errs, fmt.Errorf("rate %v must be >= 0", o.Rate))
	}
	if len(o.Steps) > 0 {
		if o.Duration != 0 {
			errs = append(errs, errors.New("duration and steps are exclusive"))
		}
		if o.Rate != 0 {
			errs = append(errs, errors.New("rate and steps are exclusive"))
		}
	}
	for i, s := range o.Steps {
		if s.Duration <= 0 {
			errs = append(errs, fmt.Errorf("step %d: duration %v must be > 0", i, s.Duration))
		}
		if s.Connections < 0 {
			errs = append(errs, fmt.Errorf("step %d: connections %d < 0", i, s.Connections))
		}
		if s.Rate < 0 || s.Rate != s.Rate {
			errs = append(errs, fmt.Errorf("step %d: rate %v must be >= 0", i, s.Rate))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("load: options: %w", err)
	}
	return nil
}

// phase is one step of a plan with absolute offsets.
type phase struct {
	start, end time.Duration
	conns      int
	// pacer is nil for closed-loop and idle phases.
	pacer Schedule
}

// plan is the schedule of an attack: contiguous phases from offset 0.
type plan []phase

// newPlan turns defaulted, valid options into phases.
func newPlan(o Options) plan {
	if len(o.Steps) == 0 {
		ph := phase{end: o.Duration, conns: o.Connections}
		if o.Rate > 0 {
			ph.pacer = ConstantPacer{Rate: o.Rate}
		}
		return plan{ph}
	}
	p := make(plan, 0, len(o.Steps))
	var at time.Duration
	var prevRate float64 // the rate the previous step ended at
	for _, s := range o.Steps {
		ph := phase{start: at, end: at + s.Duration, conns: s.Connections}
		switch {
		case s.paced():
			if ph.conns == 0 {
				ph.conns = o.Connections
			}
			if s.Ramp {
				ph.pacer = RampPacer{From: prevRate, To: s.Rate, Over: s.Duration}
			} else {
				ph.pacer = ConstantPacer{Rate: s.Rate}
			}
			prevRate = s.Rate
		default:
			prevRate = 0
		}
		p = append(p, ph)
		at = ph.end
	}
	return p
}

// at returns the index of the phase containing offset el, starting the search
// at hint (phases only move forward). ok is false once the plan has ended.
func (p plan) at(el time.Duration, hint int) (i int, ok bool) {
	if hint < 0 {
		hint = 0
	}
	for i = hint; i < len(p); i++ {
		if el < p[i].end {
			return i, true
		}
	}
	return len(p), false
}

// end is the offset at which the plan ends.
func (p plan) end() time.Duration {
	if len(p) == 0 {
		return 0
	}
	return p[len(p)-1].end
}

// maxConns is the largest worker count of any phase.
func (p plan) maxConns() int {
	m := 0
	for _, ph := range p {
		m = max(m, ph.conns)
	}
	return m
}
