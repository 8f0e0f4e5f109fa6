package scenario

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// MaxProfileRate is the highest rate a profile step may ask for (per
// second): beyond it one generator on a laptop is the bottleneck, not the
// autoscaler.
const MaxProfileRate = 10000

// RateStep is one step of an arrival profile (HTTP requests, SQS messages):
// a constant Rate for For, or a linear ramp from the rate the previous step
// ended at (0 first) to RampTo over For. Rate 0 is a pause.
type RateStep struct {
	Rate   *Rate    `json:"rate,omitempty"`
	RampTo *Rate    `json:"rampTo,omitempty"`
	For    Duration `json:"for"`
}

// Rate is a rate per second written "5/s", "300/m" (per minute) or a bare
// number (per second).
type Rate struct{ PerSecond float64 }

// MarshalJSON writes "5/s".
func (r Rate) MarshalJSON() ([]byte, error) { return json.Marshal(r.String()) }

// UnmarshalJSON reads "5/s", "300/m", "5" or 5.
func (r *Rate) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	bad := fmt.Errorf("want a rate like \"5/s\" or \"300/m\"")
	switch x := v.(type) {
	case float64:
		r.PerSecond = x
		return nil
	case string:
		s, per := strings.TrimSpace(x), 1.0
		if n, unit, ok := strings.Cut(s, "/"); ok {
			switch strings.TrimSpace(unit) {
			case "s":
			case "m":
				per = 60
			default:
				return bad
			}
			s = strings.TrimSpace(n)
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return bad
		}
		r.PerSecond = f / per
		return nil
	}
	return bad
}

// String is "5/s".
func (r Rate) String() string { return strconv.FormatFloat(r.PerSecond, 'f', -1, 64) + "/s" }

// RateStepAt is one step of an arrival profile placed in time from the
// load start: the rate goes from From to To (equal unless Ramp).
type RateStepAt struct {
	Start, End time.Duration
	From, To   float64
	Ramp       bool
}

// Total is the number of arrivals the step schedules: the integral of its
// rate (rounded down; a generator's count is within 1 of it).
func (s RateStepAt) Total() float64 { return (s.From + s.To) / 2 * (s.End - s.Start).Seconds() }

// PlaceRates places a profile's steps in time: a ramp starts at the rate
// the previous step ended at (0 for the first step).
func PlaceRates(p []RateStep) []RateStepAt {
	out := make([]RateStepAt, 0, len(p))
	var at time.Duration
	prev := 0.0
	for _, st := range p {
		s := RateStepAt{Start: at, End: at + st.For.Duration}
		switch {
		case st.RampTo != nil:
			s.From, s.To, s.Ramp = prev, st.RampTo.PerSecond, true
		case st.Rate != nil:
			s.From, s.To = st.Rate.PerSecond, st.Rate.PerSecond
		}
		out = append(out, s)
		prev, at = s.To, s.End
	}
	return out
}

// ProfileDuration is a profile's length.
func ProfileDuration(p []RateStep) time.Duration {
	var d time.Duration
	for _, st := range p {
		d += st.For.Duration
	}
	return d
}

// DescribeProfile says a profile in words: "5/s for 1m0s, ramp to 50/s over
// 2m0s, pause 30s".
func DescribeProfile(p []RateStep) string {
	parts := make([]string, 0, len(p))
	for _, st := range p {
		switch {
		case st.RampTo != nil:
			parts = append(parts, fmt.Sprintf("ramp to %s over %s", st.RampTo, st.For))
		case st.Rate != nil && st.Rate.PerSecond == 0:
			parts = append(parts, fmt.Sprintf("pause %s", st.For))
		case st.Rate != nil:
			parts = append(parts, fmt.Sprintf("%s for %s", st.Rate, st.For))
		}
	}
	return strings.Join(parts, ", ")
}

// validateRateProfile checks an arrival profile: each step one of rate or
// rampTo, a rate of 0..MaxProfileRate per second, a whole number of
// seconds (the report counts arrivals per second), and something sent.
func validateRateProfile(pp *field.Path, p []RateStep, what string) field.ErrorList {
	var errs field.ErrorList
	if len(p) == 0 {
		return append(errs, field.Required(pp, "at least one step: {rate: 5/s, for: 1m} or {rampTo: 50/s, for: 2m}"))
	}
	sends := false
	for i, st := range p {
		sp := pp.Index(i)
		r := st.Rate
		switch {
		case st.Rate != nil && st.RampTo != nil:
			errs = append(errs, field.Forbidden(sp.Child("rampTo"), "set one of rate (a constant rate) or rampTo (a linear ramp from the previous step's rate), not both"))
		case st.RampTo != nil:
			r = st.RampTo
		case st.Rate == nil:
			errs = append(errs, field.Required(sp, "one of rate (a constant rate, 0/s for a pause) or rampTo (a linear ramp from the previous step's rate)"))
		}
		if r != nil {
			name := "rate"
			if r == st.RampTo {
				name = "rampTo"
			}
			if v := r.PerSecond; !(v >= 0 && v <= MaxProfileRate) {
				errs = append(errs, field.Invalid(sp.Child(name), r.String(), fmt.Sprintf("%s per second, 0/s..%d/s", what, MaxProfileRate)))
			} else if v > 0 {
				sends = true
			}
		}
		if d := st.For.Duration; d < time.Second || d%time.Second != 0 {
			errs = append(errs, field.Invalid(sp.Child("for"), st.For.String(), "a whole number of seconds, at least 1s"))
		}
	}
	if !sends && len(errs) == 0 {
		errs = append(errs, field.Invalid(pp, DescribeProfile(p), "sends nothing: at least one step needs a rate above 0/s"))
	}
	return errs
}
