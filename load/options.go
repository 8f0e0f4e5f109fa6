package load

import (
	"errors"
	"fmt"
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
)

// Describe says in a sentence how the attack sends requests, for reports
// and timeline markers: the mode, its parameters, and what latency is
// measured from.
func (o Options) Describe() string {
	o = o.withDefaults()
	var b strings.Builder
	b.WriteString("closed-loop: ")
	if len(o.Steps) > 0 {
		fmt.Fprintf(&b, "%d steps over %s (up to %d connections)", len(o.Steps), newPlan(o).end(), newPlan(o).maxConns())
	} else {
		fmt.Fprintf(&b, "%d connections for %s", o.Connections, o.Duration)
		if o.Rate > 0 {
			fmt.Fprintf(&b, " at most %s requests/s", strconv.FormatFloat(o.Rate, 'f', -1, 64))
		}
	}
	fmt.Fprintf(&b, ", each sending its next request when its response arrived; latency from the actual send; timeout %s", o.Timeout)
	return b.String()
}

// Options describe one attack. The zero values of Connections, Duration and
// Timeout mean the defaults.
type Options struct {
	// URL is the target; the method is always GET.
	URL string
	// Host overrides the Host header (the KEDA HTTP add-on routes by it).
	Host string
	// Connections is the number of closed-loop workers, each with at most one
	// request in flight (bombardier -c).
	Connections int
	// Duration is how long new requests are started (bombardier -d). Requests
	// in flight at the end complete, bounded by Timeout. Must be zero with Steps.
	Duration time.Duration
	// Timeout bounds each request from send to the last body byte
	// (bombardier -t). A request that hits it is a KindTimeout error.
	Timeout time.Duration
	// Rate caps the requests started per second across all workers
	// (bombardier -r); zero means no cap. When the workers are all busy the
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

// Step is one stage of stepped load. A step is
//   - paced when Rate > 0 or Ramp: Connections workers (Options.Connections
//     if zero) start requests at Rate per second;
//   - closed-loop when not paced and Connections > 0: that many workers send
//     back to back;
//   - idle otherwise: no requests for Duration (to watch a scale-down).
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
	if o.Connections == 0 {
		o.Connections = DefaultConnections
	}
	if o.Duration == 0 && len(o.Steps) == 0 {
		o.Duration = DefaultDuration
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	return o
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
	pacer Pacer
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
