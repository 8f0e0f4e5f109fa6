package compare

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/scalebench/scalebench/results"
	"github.com/scalebench/scalebench/stats"
)

// Figures are what one report says about each scenario: per metric the
// median over the scenario's trials (trials that errored left out).
type Figures struct {
	// Scenarios in report order.
	Scenarios []string
	// Values maps scenario → metric key → median.
	Values map[string]map[string]float64
	// Trials maps scenario → trials that count.
	Trials map[string]int
}

// FiguresOfReport takes the medians of a report.json's trials. The apps
// of a multi-app scenario are its samples (the median across its apps, of
// every trial), and an app that errored is left out as a trial would be.
func FiguresOfReport(r results.Report) Figures {
	f := Figures{Values: map[string]map[string]float64{}, Trials: map[string]int{}}
	samples := map[string]map[string][]float64{}
	for _, s := range r.Scenarios {
		if _, ok := samples[s.Name]; !ok {
			f.Scenarios = append(f.Scenarios, s.Name)
			samples[s.Name] = map[string][]float64{}
		}
		runs := []results.Scenario{s}
		if s.Apps != nil {
			runs = s.Apps.Results
		}
		for _, run := range runs {
			if run.Error != "" {
				continue
			}
			f.Trials[s.Name]++
			for _, m := range Metrics {
				if v, ok, _ := m.Get(run.Metrics); ok {
					samples[s.Name][m.Key] = append(samples[s.Name][m.Key], v)
				}
			}
		}
	}
	for name, byMetric := range samples {
		f.Values[name] = map[string]float64{}
		for k, vs := range byMetric {
			f.Values[name][k] = stats.Median(vs)
		}
	}
	return f
}

// FiguresOfComparison takes the medians of a compare.json.
func FiguresOfComparison(c results.Comparison) Figures {
	f := Figures{Scenarios: slices.Clone(c.Scenarios), Values: map[string]map[string]float64{}, Trials: map[string]int{}}
	for _, s := range c.Scenarios {
		f.Values[s] = map[string]float64{}
	}
	for _, t := range c.Trials {
		if t.Used {
			f.Trials[t.Scenario]++
		}
	}
	for _, m := range c.Metrics {
		for _, s := range m.Scenarios {
			if s.Median != nil && f.Values[s.Scenario] != nil {
				f.Values[s.Scenario][m.Metric] = *s.Median
			}
		}
	}
	return f
}

// Thresholds say how much worse a metric may get before it is a
// regression: both the relative and the unit's absolute threshold must be
// exceeded, so noise on small values and drift on large ones both pass.
type Thresholds struct {
	// Relative is the allowed change as a fraction of the old value.
	Relative float64
	// Absolute is the allowed change by unit (results.Unit*).
	Absolute map[string]float64
}

// DefaultThresholds: 20 % and 2 s, 2 percentage points, 20 replica·s,
// 1 request/s.
func DefaultThresholds() Thresholds {
	return Thresholds{Relative: 0.20, Absolute: map[string]float64{
		results.UnitSeconds: 2, results.UnitRatio: 0.02, results.UnitReplicaSeconds: 20, results.UnitPerSecond: 1,
	}}
}

// DiffRow is one metric of one scenario, old against new.
type DiffRow struct {
	Scenario string
	Metric   string
	Unit     string
	Old, New *float64
	// Change is New − Old; Relative is Change / |Old| (absent when Old is 0).
	Change, Relative *float64
	Regressed        bool
	// Verdict says in a few words what happened.
	Verdict string
}

// DiffResult is the whole comparison of two reports.
type DiffResult struct {
	Rows        []DiffRow
	Regressions int
	Thresholds  Thresholds
}

// Diff compares the new figures with the old. A metric regresses when it
// got worse beyond both thresholds, or was measured before and is not now;
// a scenario of the old report missing from the new one regresses too.
func Diff(old, cur Figures, th Thresholds) DiffResult {
	res := DiffResult{Thresholds: th}
	for _, sc := range old.Scenarios {
		ov, nv := old.Values[sc], cur.Values[sc]
		if !slices.Contains(cur.Scenarios, sc) {
			res.Rows = append(res.Rows, DiffRow{Scenario: sc, Metric: "(scenario)", Regressed: true, Verdict: "REGRESSION: scenario not in the new report"})
			res.Regressions++
			continue
		}
		for _, m := range Metrics {
			o, hasO := ov[m.Key]
			n, hasN := nv[m.Key]
			row := DiffRow{Scenario: sc, Metric: m.Key, Unit: m.Unit}
			switch {
			case !hasO && !hasN:
				continue
			case !hasO:
				row.New = &n
				row.Verdict = "newly measured"
			case !hasN:
				row.Old = &o
				row.Regressed = true
				row.Verdict = "REGRESSION: measured before, absent now"
			default:
				row.Old, row.New = &o, &n
				ch := n - o
				row.Change = &ch
				if o != 0 {
					rel := ch / math.Abs(o)
					row.Relative = &rel
				}
				worse := ch > 0
				if m.HigherIsBetter {
					worse = ch < 0
				}
				absOver := math.Abs(ch) > th.Absolute[m.Unit]
				relOver := row.Relative == nil || math.Abs(*row.Relative) > th.Relative
				switch {
				case ch == 0:
					row.Verdict = "unchanged"
				case worse && absOver && relOver:
					row.Regressed = true
					row.Verdict = fmt.Sprintf("REGRESSION: worse by more than %s and %g %%", results.FormatValue(th.Absolute[m.Unit], m.Unit, false), th.Relative*100)
				case worse:
					row.Verdict = "worse, within thresholds"
				case absOver && relOver:
					row.Verdict = "better"
				default:
					row.Verdict = "better, within thresholds"
				}
			}
			if row.Regressed {
				res.Regressions++
			}
			res.Rows = append(res.Rows, row)
		}
	}
	for _, sc := range cur.Scenarios {
		if !slices.Contains(old.Scenarios, sc) {
			res.Rows = append(res.Rows, DiffRow{Scenario: sc, Metric: "(scenario)", Verdict: "new scenario, no baseline"})
		}
	}
	return res
}

// WriteMarkdown writes the diff as a Markdown table for a job summary.
func (d DiffResult) WriteMarkdown(w io.Writer, oldName, newName string) error {
	var b strings.Builder
	verdict := "no regression"
	if d.Regressions > 0 {
		verdict = fmt.Sprintf("**%d regressions**", d.Regressions)
	}
	fmt.Fprintf(&b, "# scalebench diff: %s\n\nOld: `%s` · new: `%s`. Medians over each scenario's trials. A regression is worse by more than %g %% **and** by more than the unit's absolute threshold (",
		verdict, oldName, newName, d.Thresholds.Relative*100)
	var units []string
	for _, u := range []string{results.UnitSeconds, results.UnitRatio, results.UnitReplicaSeconds, results.UnitPerSecond} {
		units = append(units, results.FormatValue(d.Thresholds.Absolute[u], u, false))
	}
	fmt.Fprintf(&b, "%s), or measured before and absent now.\n\n", strings.Join(units, ", "))
	b.WriteString("| scenario | metric | old | new | change | verdict |\n|---|---|---|---|---|---|\n")
	for _, r := range d.Rows {
		opt := func(p *float64, signed bool) string {
			if p == nil {
				return "–"
			}
			return results.FormatValue(*p, r.Unit, signed)
		}
		change := opt(r.Change, true)
		if r.Relative != nil {
			change += fmt.Sprintf(" (%+.0f %%)", *r.Relative*100)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", r.Scenario, r.Metric, opt(r.Old, false), opt(r.New, false), change, r.Verdict)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
