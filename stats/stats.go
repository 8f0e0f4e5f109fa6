// Package stats is the statistics scalebench states about repeated trials:
// medians and ranges, nearest-rank percentiles of pooled samples, and the
// difference of two medians with a seeded (reproducible) bootstrap
// confidence interval. It is pure: no clock, no global random source.
package stats

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Summary describes a sample. Median, Min and Max are NaN for an empty one.
type Summary struct {
	N      int
	Median float64
	Min    float64
	Max    float64
	Mean   float64
}

// Summarize describes xs (any order; xs is not modified).
func Summarize(xs []float64) Summary {
	if len(xs) == 0 {
		nan := math.NaN()
		return Summary{Median: nan, Min: nan, Max: nan, Mean: nan}
	}
	s := sorted(xs)
	sum := 0.0
	for _, x := range s {
		sum += x
	}
	return Summary{N: len(s), Median: medianSorted(s), Min: s[0], Max: s[len(s)-1], Mean: sum / float64(len(s))}
}

// Median of xs (any order; xs is not modified); NaN when empty. An even
// count takes the mean of the two middle values.
func Median(xs []float64) float64 { return medianSorted(sorted(xs)) }

// MedianSorted is Median of values already sorted ascending.
func MedianSorted(s []float64) float64 { return medianSorted(s) }

func medianSorted(s []float64) float64 {
	n := len(s)
	switch {
	case n == 0:
		return math.NaN()
	case n%2 == 1:
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Percentile is the nearest-rank p-quantile (0 < p <= 1) of xs: the smallest
// value with at least p of the values at or below it. To state a percentile
// of several trials, pool their samples and take it once; a mean or median
// of per-trial percentiles is a different statistic. NaN when empty.
func Percentile(xs []float64, p float64) float64 {
	return PercentileSorted(sorted(xs), p)
}

// PercentileSorted is Percentile of values already sorted ascending.
func PercentileSorted(s []float64, p float64) float64 {
	n := len(s)
	if n == 0 {
		return math.NaN()
	}
	rank := int(math.Ceil(p*float64(n) - 1e-9)) // tolerate float noise at exact ranks
	rank = min(max(rank, 1), n)
	return s[rank-1]
}

func sorted(xs []float64) []float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s
}

// Bootstrap configures a bootstrap confidence interval. The same
// configuration and samples give the same interval on every machine.
type Bootstrap struct {
	// Seed seeds the resampling (a PCG generator); 0 is a valid seed.
	Seed uint64 `json:"seed"`
	// Resamples is the number of bootstrap resamples (default 10000).
	Resamples int `json:"resamples"`
	// Confidence is the interval's confidence level (default 0.95).
	Confidence float64 `json:"confidence"`
}

// DefaultBootstrap: 10 000 resamples, 95 %, seed 1.
var DefaultBootstrap = Bootstrap{Seed: 1, Resamples: 10000, Confidence: 0.95}

// Method names the interval this package computes, for reports.
const Method = "percentile bootstrap of the difference of medians (each sample resampled with replacement)"

func (b Bootstrap) withDefaults() Bootstrap {
	if b.Resamples == 0 {
		b.Resamples = DefaultBootstrap.Resamples
	}
	if b.Confidence == 0 {
		b.Confidence = DefaultBootstrap.Confidence
	}
	return b
}

// Difference is median(b) − median(a) with its bootstrap confidence
// interval [Low, High].
type Difference struct {
	Estimate float64 `json:"estimate"`
	Low      float64 `json:"low"`
	High     float64 `json:"high"`
	// SeparationChance is the chance that, with no difference at all, the
	// two samples come out completely separated (every value of one below
	// every value of the other): 2 / C(na+nb, na). With few trials the
	// bootstrap interval excludes zero whenever the samples are separated,
	// so this is the smallest false-alarm rate such an interval can have.
	SeparationChance float64 `json:"separationChance"`
}

// ExcludesZero reports whether the interval lies entirely above or below 0.
func (d Difference) ExcludesZero() bool { return d.Low > 0 || d.High < 0 }

// ErrTooFew is returned when a sample is empty.
var ErrTooFew = errors.New("stats: each sample needs at least one value")

// DifferenceOfMedians estimates median(b) − median(a) and its percentile
// bootstrap interval: each resample draws len(a) values from a and len(b)
// from b with replacement, and the interval holds the central Confidence of
// the resampled differences (nearest rank at each tail).
func DifferenceOfMedians(a, b []float64, cfg Bootstrap) (Difference, error) {
	if len(a) == 0 || len(b) == 0 {
		return Difference{}, ErrTooFew
	}
	cfg = cfg.withDefaults()
	if cfg.Resamples < 1 {
		return Difference{}, fmt.Errorf("stats: resamples %d: want >= 1", cfg.Resamples)
	}
	if !(cfg.Confidence > 0 && cfg.Confidence < 1) {
		return Difference{}, fmt.Errorf("stats: confidence %v: want in (0, 1)", cfg.Confidence)
	}
	for _, x := range append(slices.Clone(a), b...) {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return Difference{}, fmt.Errorf("stats: sample value %v: want a finite number", x)
		}
	}
	// The stream depends on the seed only, so the interval is reproducible.
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x9e3779b97f4a7c15))
	ra, rb := make([]float64, len(a)), make([]float64, len(b))
	diffs := make([]float64, cfg.Resamples)
	for i := range diffs {
		diffs[i] = resampledMedian(rng, b, rb) - resampledMedian(rng, a, ra)
	}
	slices.Sort(diffs)
	tail := (1 - cfg.Confidence) / 2
	lowRank := max(int(math.Floor(tail*float64(len(diffs))+1e-9)), 1)
	highRank := min(int(math.Ceil((1-tail)*float64(len(diffs))-1e-9)), len(diffs))
	return Difference{
		Estimate:         Median(b) - Median(a),
		Low:              diffs[lowRank-1],
		High:             diffs[highRank-1],
		SeparationChance: SeparationChance(len(a), len(b)),
	}, nil
}

func resampledMedian(rng *rand.Rand, from, buf []float64) float64 {
	for i := range buf {
		buf[i] = from[rng.IntN(len(from))]
	}
	slices.Sort(buf)
	return medianSorted(buf)
}

// SeparationChance is 2 / C(na+nb, na): the chance that two samples of
// sizes na and nb drawn from one distribution (no ties) come out completely
// separated, one way or the other. 1 when either is empty.
func SeparationChance(na, nb int) float64 {
	if na <= 0 || nb <= 0 {
		return 1
	}
	// C(n, k) in floating point: exact enough for trial counts.
	c := 1.0
	k := min(na, nb)
	n := na + nb
	for i := 1; i <= k; i++ {
		c = c * float64(n-k+i) / float64(i)
	}
	return math.Min(1, 2/c)
}

// Shown reports whether the difference is shown at level alpha (e.g. 0.05
// for a 95 % interval): the interval excludes zero, and the samples are
// large enough that complete separation alone is no likelier than alpha
// under no difference. With 3 trials each, separated trials happen by
// chance 10 % of the time, so no difference is shown below 4 each.
func (d Difference) Shown(alpha float64) bool {
	return d.ExcludesZero() && d.SeparationChance <= alpha+1e-12
}
