package load

import (
	"math"
	"time"
)

// A Pacer decides when requests start. It is a pure function, after vegeta's
// lib/pacer.go: given the time elapsed since the pacer started and the number
// of hits (requests) already started, it returns how long to wait before the
// next hit. stop reports that the pacer will give no further hits.
//
// Pace(elapsed, hits) is 0 when hit number hits (counting from 0) is already
// due, so a caller that fell behind catches up; the generator bounds that
// backlog (see Options.Rate).
type Pacer interface {
	Pace(elapsed time.Duration, hits uint64) (wait time.Duration, stop bool)
}

// A Schedule is a Pacer that also says when each hit is due. An open loop
// needs it to measure latency from the scheduled send time, and to know
// which second a missed hit belonged to. Pace(elapsed, n) is Due(n) -
// elapsed (at least 0), and stops when Due(n) is not ok.
type Schedule interface {
	Pacer
	// Due is the offset at which hit n (from 0) is due; ok is false when
	// the schedule gives no hit n.
	Due(n uint64) (at time.Duration, ok bool)
}

var (
	_ Schedule = ConstantPacer{}
	_ Schedule = RampPacer{}
)

// ConstantPacer starts Rate hits per second, the first at elapsed 0.
// A Rate of zero or less never waits (no cap).
type ConstantPacer struct {
	Rate float64
}

// Pace implements Pacer.
func (p ConstantPacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if p.Rate <= 0 || math.IsNaN(p.Rate) {
		return 0, false
	}
	return waitUntil(float64(hits)/p.Rate, elapsed), false
}

// Due implements Schedule: hit n is due at n/Rate. Without a rate every hit
// is due at once.
func (p ConstantPacer) Due(n uint64) (time.Duration, bool) {
	if p.Rate <= 0 || math.IsNaN(p.Rate) {
		return 0, true
	}
	return fromSeconds(float64(n) / p.Rate), true
}

// RampPacer changes the rate linearly from From to To hits per second over
// Over, then holds To. Both rates must be zero or more; when the rate has
// settled at zero the pacer stops.
type RampPacer struct {
	From, To float64
	Over     time.Duration
}

// Pace implements Pacer.
func (p RampPacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	due, ok := p.due(float64(hits))
	if !ok {
		return 0, true
	}
	return waitUntil(due, elapsed), false
}

// Due implements Schedule.
func (p RampPacer) Due(n uint64) (time.Duration, bool) {
	due, ok := p.due(float64(n))
	if !ok {
		return 0, false
	}
	return fromSeconds(due), true
}

// hitsBy is the expected number of hits started by t seconds: the integral of
// the rate from 0 to t.
func (p RampPacer) hitsBy(t float64) float64 {
	over := p.Over.Seconds()
	if over <= 0 {
		return p.To * t
	}
	if t <= over {
		return p.From*t + (p.To-p.From)*t*t/(2*over)
	}
	return p.From*over + (p.To-p.From)*over/2 + p.To*(t-over)
}

// due is the time in seconds at which hit n (from 0) is due: the smallest t
// with hitsBy(t) >= n. ok is false when that never happens.
func (p RampPacer) due(n float64) (float64, bool) {
	if n == 0 && (p.From > 0 || p.To > 0) {
		return 0, true
	}
	over := p.Over.Seconds()
	if over <= 0 {
		if p.To <= 0 {
			return 0, false
		}
		return n / p.To, true
	}
	if end := p.hitsBy(over); n > end {
		if p.To <= 0 {
			return 0, false
		}
		return over + (n-end)/p.To, true
	}
	// Solve a t² + b t - n = 0 on [0, over] with a = (To-From)/(2 over), b = From.
	a, b := (p.To-p.From)/(2*over), p.From
	if a == 0 {
		if b <= 0 {
			return 0, false
		}
		return n / b, true
	}
	disc := b*b + 4*a*n
	if disc < 0 { // only for a falling ramp whose remaining hits n never reach
		disc = 0
	}
	// The numerically stable root for b >= 0: 2n / (b + sqrt(disc)).
	den := b + math.Sqrt(disc)
	if den <= 0 {
		return 0, false
	}
	return 2 * n / den, true
}

func waitUntil(dueSeconds float64, elapsed time.Duration) time.Duration {
	due := fromSeconds(dueSeconds)
	if due <= elapsed {
		return 0
	}
	return due - elapsed
}

// fromSeconds converts seconds to a Duration, saturating at the largest one.
func fromSeconds(s float64) time.Duration {
	if s >= math.MaxInt64/float64(time.Second) {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(s * float64(time.Second))
}
