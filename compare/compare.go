// Package compare compares scenarios over repeated trials: per metric each
// scenario's median, range and trials, and for each pair the difference of
// medians with a seeded bootstrap interval and a verdict that names a
// winner only when the interval excludes zero. Build is pure; Run drives
// the trials on one cluster through a runner.Session; Diff compares two
// reports for regression gating.
package compare

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/scalebench/scalebench/results"
	"github.com/scalebench/scalebench/stats"
)

// Build computes the statistics of trials (Trial.Used ones only) for the
// scenarios, in their order. A metric is compared when some trial measured
// it or said why it could not.
func Build(scenarios []string, trials []results.Trial, boot stats.Bootstrap) ([]results.MetricComparison, results.CompareStatistics) {
	if boot.Resamples == 0 {
		boot.Resamples = stats.DefaultBootstrap.Resamples
	}
	if boot.Confidence == 0 {
		boot.Confidence = stats.DefaultBootstrap.Confidence
	}
	st := results.CompareStatistics{
		Method: stats.Method, Bootstrap: boot, Alpha: round(1-boot.Confidence, 6), Order: "interleaved",
		Note: "the percentile bootstrap is optimistic with few trials, so a winner also needs complete separation of the trials " +
			"to be unlikely by chance: 2/C(na+nb, na) ≤ alpha (3 trials each give 0.1, 4 each 0.029, 5 each 0.008)",
	}
	var out []results.MetricComparison
	for _, m := range Metrics {
		mc := results.MetricComparison{Metric: m.Key, Unit: m.Unit, HigherIsBetter: m.HigherIsBetter, What: m.What}
		seen := false
		samples := map[string][]float64{}
		towards := map[string][]float64{}
		for _, sc := range scenarios {
			ss := results.ScenarioStats{Scenario: sc, Samples: []float64{}}
			for _, t := range trials {
				if t.Scenario != sc || !t.Used {
					continue
				}
				if ss.Budget == nil && m.Budget != nil && t.Result.Budget != nil {
					ss.Budget = m.Budget(t.Result.Budget)
				}
				v, ok, why := m.Get(t.Result.Metrics)
				switch {
				case ok:
					ss.Samples = append(ss.Samples, v)
					seen = true
					if m.Toward != nil {
						if to, ok := m.Toward(t.Result.Metrics); ok {
							towards[sc] = append(towards[sc], to)
						}
					}
				default:
					ss.Absent++
					if why != "" {
						seen = true
						if !slices.Contains(ss.Reasons, why) {
							ss.Reasons = append(ss.Reasons, why)
						}
					}
				}
			}
			if len(ss.Samples) > 0 {
				s := stats.Summarize(ss.Samples)
				ss.Median, ss.Min, ss.Max = f64(s.Median), f64(s.Min), f64(s.Max)
			}
			samples[sc] = ss.Samples
			mc.Scenarios = append(mc.Scenarios, ss)
		}
		if !seen {
			continue
		}
		for i, a := range scenarios {
			for _, b := range scenarios[i+1:] {
				p := pair(m, a, b, samples[a], samples[b], boot, st.Alpha)
				notComparable(&p, towards[a], towards[b])
				mc.Pairs = append(mc.Pairs, p)
			}
		}
		out = append(out, mc)
	}
	return out, st
}

func pair(m Metric, a, b string, sa, sb []float64, boot stats.Bootstrap, alpha float64) results.Pair {
	p := results.Pair{A: a, B: b}
	if len(sa) == 0 || len(sb) == 0 {
		var missing []string
		if len(sa) == 0 {
			missing = append(missing, a)
		}
		if len(sb) == 0 {
			missing = append(missing, b)
		}
		p.Verdict = results.VerdictNotMeasured
		p.Detail = "not measured in any trial of " + strings.Join(missing, " and ")
		return p
	}
	d, err := stats.DifferenceOfMedians(sa, sb, boot)
	if err != nil {
		p.Verdict = results.VerdictNotMeasured
		p.Detail = err.Error()
		return p
	}
	d.Estimate, d.Low, d.High = round(d.Estimate, 6), round(d.Low, 6), round(d.High, 6)
	p.Difference = &d
	ci := fmt.Sprintf("%s − %s = %s, %g %% interval [%s, %s]", b, a, results.FormatValue(d.Estimate, m.Unit, true),
		boot.Confidence*100, results.FormatValue(d.Low, m.Unit, true), results.FormatValue(d.High, m.Unit, true))
	switch {
	case d.Shown(alpha):
		better := b
		if (d.Estimate > 0) != m.HigherIsBetter {
			better = a
		}
		p.Verdict, p.Winner = results.VerdictWinner, better
		p.Detail = fmt.Sprintf("%s is better: %s", better, ci)
	case d.ExcludesZero():
		p.Verdict = results.VerdictNoDifference
		p.Detail = fmt.Sprintf("%s; the interval excludes zero but with %d and %d trials completely separated trials arise by chance %.0f %% of the time (> %g %%)",
			ci, len(sa), len(sb), d.SeparationChance*100, alpha*100)
	default:
		p.Verdict = results.VerdictNoDifference
		p.Detail = ci + " contains zero"
	}
	return p
}

// notComparable turns a measured pair into VerdictNotComparable when the two
// sides' figures were measured toward different replica counts (their
// medians differ): hpa-cpu's time to its peak of 10 against keda-cpu's time
// to 20 says which reached its own maximum first, not which reacts faster.
// The difference stays, for reading; no winner is named.
func notComparable(p *results.Pair, ta, tb []float64) {
	if p.Difference == nil || len(ta) == 0 || len(tb) == 0 {
		return
	}
	ma, mb := stats.Summarize(ta).Median, stats.Summarize(tb).Median
	if ma == mb {
		return
	}
	p.Verdict, p.Winner = results.VerdictNotComparable, ""
	p.Detail = fmt.Sprintf("different peaks (%s %g, %s %g replicas, medians of the trials); the difference is the time each took to its own peak, not which reacts faster",
		p.A, ma, p.B, mb)
}

func f64(v float64) *float64 { v = round(v, 6); return &v }

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}
