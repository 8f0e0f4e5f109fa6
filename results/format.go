package results

import (
	"math"
	"strconv"
)

// Absent is how an absent metric reads in text and tables.
const Absent = "–"

// Seconds formats seconds with about three significant digits.
func Seconds(v float64) string {
	a := math.Abs(v)
	dec := 3
	switch {
	case a >= 100:
		dec = 0
	case a >= 10:
		dec = 1
	case a >= 1:
		dec = 2
	case a > 0 && a < 0.01:
		dec = 4
	}
	return strconv.FormatFloat(v, 'f', dec, 64)
}

// FormatSeconds formats a duration (or rate) metric with Seconds, or
// Absent when absent.
func FormatSeconds(p *float64) string {
	if p == nil {
		return Absent
	}
	return Seconds(*p)
}

// FormatCount formats a count metric, or Absent when absent.
func FormatCount[T ~int | ~int32 | ~int64](p *T) string {
	if p == nil {
		return Absent
	}
	return strconv.FormatInt(int64(*p), 10)
}

// FormatPercent formats a 0..1 share as a percentage with two decimals, or
// Absent when absent.
func FormatPercent(p *float64) string {
	if p == nil {
		return Absent
	}
	return strconv.FormatFloat(*p*100, 'f', 2, 64) + "%"
}

// ServedLine states what an HTTP scenario served, or "" when it sent no
// HTTP load: requests, successful ones (a response with a status below 400
// within the timeout), error rate and goodput overall and at peak.
func (m Metrics) ServedLine() string {
	if m.Requests == nil {
		return ""
	}
	s := FormatCount(m.SuccessfulRequests) + " of " + FormatCount(m.Requests) + " requests succeeded (error rate " +
		FormatPercent(m.ErrorRate) + "), goodput " + FormatSeconds(m.GoodputPerSecond) + "/s"
	if m.Goodput != nil && m.Goodput.AtPeak != nil {
		s += ", at peak " + Seconds(m.Goodput.AtPeak.GoodputPerSecond) + "/s"
	} else {
		s += ", at peak – (peak replicas not reached during the load)"
	}
	return s
}
