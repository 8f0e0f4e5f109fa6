package compare

import (
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/scalebench/scalebench/budget"
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
	// Knobs are the report's environment.knobs (the cluster-wide timing
	// settings in force, e.g. hpa.syncPeriod).
	Knobs map[string]string
	// Failed maps scenario → why some trial (or app) of it did not pass:
	// its failed checks by name, its error, or that the run was
	// interrupted; absent when every trial passed.
	Failed map[string][]string
	// RanWith maps scenario → the scenarios it ran at the same time with
	// (bench run --parallel); absent when it ran alone.
	RanWith map[string][]string
}

func newFigures(knobs map[string]string) Figures {
	return Figures{Values: map[string]map[string]float64{}, Trials: map[string]int{}, Knobs: knobs,
		Failed: map[string][]string{}, RanWith: map[string][]string{}}
}

// noteOutcome records a trial that did not pass, and whom it ran with.
func (f Figures) noteOutcome(name string, s results.Scenario) {
	for _, w := range s.RanWith {
		if !slices.Contains(f.RanWith[name], w) {
			f.RanWith[name] = append(f.RanWith[name], w)
		}
	}
	if s.Passed {
		return
	}
	var why []string
	if s.Error != "" {
		why = append(why, "error: "+s.Error)
	}
	runs := []results.Scenario{s}
	if s.Apps != nil {
		runs = s.Apps.Results
	}
	for _, r := range runs {
		if s.Apps != nil && r.Error != "" {
			why = append(why, r.Name+": error: "+r.Error)
		}
		for _, c := range r.Checks {
			if c.State() == results.CheckFailed {
				n := c.Name
				if s.Apps != nil {
					n = r.Name + ": " + n
				}
				why = append(why, n)
			}
		}
	}
	if len(why) == 0 {
		why = append(why, "no check tested")
	}
	for _, w := range why {
		if !slices.Contains(f.Failed[name], w) {
			f.Failed[name] = append(f.Failed[name], w)
		}
	}
}

// FiguresOfReport takes the medians of a report.json's trials. The apps
// of a multi-app scenario are its samples (the median across its apps, of
// every trial), and an app that errored is left out as a trial would be.
func FiguresOfReport(r results.Report) Figures {
	f := newFigures(r.Environment.Knobs)
	samples := map[string]map[string][]float64{}
	for _, s := range r.Scenarios {
		if _, ok := samples[s.Name]; !ok {
			f.Scenarios = append(f.Scenarios, s.Name)
			samples[s.Name] = map[string][]float64{}
		}
		f.noteOutcome(s.Name, s)
		if r.Interrupted && !slices.Contains(f.Failed[s.Name], "run interrupted") {
			f.Failed[s.Name] = append(f.Failed[s.Name], "run interrupted")
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
	f := newFigures(c.Environment.Knobs)
	f.Scenarios = slices.Clone(c.Scenarios)
	for _, s := range c.Scenarios {
		f.Values[s] = map[string]float64{}
		if c.Error != "" {
			f.Failed[s] = append(f.Failed[s], "comparison stopped: "+c.Error)
		}
	}
	for _, t := range c.Trials {
		if t.Used {
			f.Trials[t.Scenario]++
		}
		f.noteOutcome(t.Scenario, t.Result)
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
// A relative threshold of 0 leaves the absolute one alone to decide.
type Thresholds struct {
	// Relative is the allowed change as a fraction of the old value.
	Relative float64
	// Absolute is the allowed change by unit (results.Unit*).
	Absolute map[string]float64
	// AbsoluteWhy says, by unit, how an absolute threshold was made up
	// when it is not a plain figure (e.g. a margin plus one HPA sync
	// period read from the reports); the Markdown shows it.
	AbsoluteWhy map[string]string
}

// DefaultThresholds: 20 % and 2 s, 2 percentage points, 20 replica·s,
// 1 request/s.
func DefaultThresholds() Thresholds {
	return Thresholds{Relative: 0.20, Absolute: map[string]float64{
		results.UnitSeconds: 2, results.UnitRatio: 0.02, results.UnitReplicaSeconds: 20, results.UnitPerSecond: 1,
	}}
}

// DiffOptions say what Diff compares and what fails it.
type DiffOptions struct {
	Thresholds
	// Metrics limits the comparison to these metric keys (Metrics' Key),
	// in Metrics' order; empty compares every metric.
	Metrics []string
	// TwoSided fails a change beyond both thresholds in either direction:
	// the question is whether two runs agree, not whether the new one got
	// worse.
	TwoSided bool
	// RequirePass fails a scenario that did not pass (a failed check, an
	// error, an interrupted run) in either report.
	RequirePass bool
}

// CheckMetrics returns an error naming the allowed keys when a key is not
// a compared metric.
func CheckMetrics(keys []string) error {
	for _, k := range keys {
		if _, ok := MetricByKey(k); !ok {
			allowed := make([]string, len(Metrics))
			for i, m := range Metrics {
				allowed[i] = m.Key
			}
			return fmt.Errorf("unknown metric %q (allowed: %s)", k, strings.Join(allowed, ", "))
		}
	}
	return nil
}

// SyncPeriod is the HPA sync period both figures state in their
// environment knobs (budget.KnobSyncPeriod); an error when either does not
// state it, states something that is not a duration, or they differ.
func SyncPeriod(old, cur Figures) (time.Duration, error) {
	var got [2]time.Duration
	for i, f := range []Figures{old, cur} {
		which := [2]string{"OLD", "NEW"}[i]
		v, ok := f.Knobs[budget.KnobSyncPeriod]
		if !ok {
			return 0, fmt.Errorf("%s states no environment.knobs[%q]", which, budget.KnobSyncPeriod)
		}
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return 0, fmt.Errorf("%s: environment.knobs[%q] %q is not a positive duration", which, budget.KnobSyncPeriod, v)
		}
		got[i] = d
	}
	if got[0] != got[1] {
		return 0, fmt.Errorf("environment.knobs[%q] differs: OLD %s, NEW %s", budget.KnobSyncPeriod, got[0], got[1])
	}
	return got[0], nil
}

// DiffRow is one metric of one scenario, old against new.
type DiffRow struct {
	Scenario string
	Metric   string
	Unit     string
	Old, New *float64
	// OldText and NewText stand for Old and New on a row that is not a
	// figure (a scenario's verdict).
	OldText, NewText string
	// Change is New − Old; Relative is Change / |Old| (absent when Old is 0).
	Change, Relative *float64
	Regressed        bool
	// Verdict says in a few words what happened.
	Verdict string
}

// DiffResult is the whole comparison of two reports.
type DiffResult struct {
	Rows []DiffRow
	// Regressions counts the failing rows (with TwoSided, differences
	// beyond the thresholds either way).
	Regressions int
	Options     DiffOptions
	// RanWith says, per report ("old", "new"), which scenarios ran at the
	// same time as which.
	RanWith [2]map[string][]string
}

// Diff compares the new figures with the old. A metric regresses when it
// got worse beyond both thresholds (or changed beyond them, TwoSided), or
// was measured before and is not now; a scenario of the old report missing
// from the new one regresses too, and with RequirePass so does a scenario
// that did not pass in either.
func Diff(old, cur Figures, opts DiffOptions) DiffResult {
	th := opts.Thresholds
	res := DiffResult{Options: opts, RanWith: [2]map[string][]string{old.RanWith, cur.RanWith}}
	metrics := Metrics
	if len(opts.Metrics) > 0 {
		metrics = nil
		for _, m := range Metrics {
			if slices.Contains(opts.Metrics, m.Key) {
				metrics = append(metrics, m)
			}
		}
	}
	verdictOf := func(f Figures, sc string) string {
		if w := f.Failed[sc]; len(w) > 0 {
			return "failed: " + strings.Join(w, "; ")
		}
		return "passed"
	}
	for _, sc := range old.Scenarios {
		ov, nv := old.Values[sc], cur.Values[sc]
		if !slices.Contains(cur.Scenarios, sc) {
			res.Rows = append(res.Rows, DiffRow{Scenario: sc, Metric: "(scenario)", Regressed: true, Verdict: "REGRESSION: scenario not in the new report"})
			res.Regressions++
			continue
		}
		if opts.RequirePass {
			row := DiffRow{Scenario: sc, Metric: "(verdict)", OldText: verdictOf(old, sc), NewText: verdictOf(cur, sc)}
			switch {
			case len(old.Failed[sc]) > 0 || len(cur.Failed[sc]) > 0:
				row.Regressed = true
				row.Verdict = "FAILED: not passed in both reports"
			default:
				row.Verdict = "passed in both"
			}
			if row.Regressed {
				res.Regressions++
			}
			res.Rows = append(res.Rows, row)
		}
		for _, m := range metrics {
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
				beyond := "more than " + thresholdText(th, m.Unit)
				switch {
				case ch == 0:
					row.Verdict = "unchanged"
				case opts.TwoSided && absOver && relOver:
					row.Regressed = true
					row.Verdict = "DIFFERENT: by " + beyond
				case opts.TwoSided:
					row.Verdict = "within thresholds"
				case worse && absOver && relOver:
					row.Regressed = true
					row.Verdict = "REGRESSION: worse by " + beyond
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

// thresholdText is "2 s and 20 %", or the absolute threshold alone when
// the relative one is 0.
func thresholdText(th Thresholds, unit string) string {
	abs := results.FormatValue(th.Absolute[unit], unit, false)
	if th.Relative == 0 {
		return abs
	}
	return fmt.Sprintf("%s and %g %%", abs, th.Relative*100)
}

// WriteMarkdown writes the diff as a Markdown table for a job summary.
func (d DiffResult) WriteMarkdown(w io.Writer, oldName, newName string) error {
	var b strings.Builder
	o := d.Options
	verdict := "no regression"
	if o.TwoSided {
		verdict = "every difference within the thresholds"
	}
	switch {
	case d.Regressions > 0 && (o.TwoSided || o.RequirePass):
		verdict = fmt.Sprintf("**%d failed**", d.Regressions)
	case d.Regressions > 0:
		verdict = fmt.Sprintf("**%d regressions**", d.Regressions)
	}
	fmt.Fprintf(&b, "# scalebench diff: %s\n\nOld: `%s` · new: `%s`. Medians over each scenario's trials. ", verdict, oldName, newName)
	switch {
	case o.TwoSided && o.Relative == 0:
		b.WriteString("A metric fails when it differs, either way, by more than its unit's absolute threshold (")
	case o.TwoSided:
		fmt.Fprintf(&b, "A metric fails when it differs, either way, by more than %g %% **and** by more than its unit's absolute threshold (", o.Relative*100)
	case o.Relative == 0:
		b.WriteString("A regression is worse by more than the unit's absolute threshold (")
	default:
		fmt.Fprintf(&b, "A regression is worse by more than %g %% **and** by more than the unit's absolute threshold (", o.Relative*100)
	}
	metrics := Metrics
	if len(o.Metrics) > 0 {
		metrics = nil
		for _, m := range Metrics {
			if slices.Contains(o.Metrics, m.Key) {
				metrics = append(metrics, m)
			}
		}
	}
	var units []string
	for _, u := range []string{results.UnitSeconds, results.UnitRatio, results.UnitReplicaSeconds, results.UnitPerSecond} {
		if !slices.ContainsFunc(metrics, func(m Metric) bool { return m.Unit == u }) {
			continue
		}
		t := results.FormatValue(o.Absolute[u], u, false)
		if why := o.AbsoluteWhy[u]; why != "" {
			t += " = " + why
		}
		units = append(units, t)
	}
	fmt.Fprintf(&b, "%s), or when it was measured before and is absent now.", strings.Join(units, ", "))
	if len(o.Metrics) > 0 {
		keys := make([]string, len(metrics))
		for i, m := range metrics {
			keys[i] = "`" + m.Key + "`"
		}
		fmt.Fprintf(&b, " Metrics compared: %s.", strings.Join(keys, ", "))
	}
	if o.RequirePass {
		b.WriteString(" A scenario that did not pass every check (or errored, or was interrupted) in either report fails too.")
	}
	b.WriteString("\n")
	for i, name := range []string{"old", "new"} {
		ran := d.RanWith[i]
		scs := slices.Sorted(maps.Keys(ran))
		for _, sc := range scs {
			fmt.Fprintf(&b, "\nIn %s, `%s` ran at the same time as %s on the same cluster (bench run --parallel).", name, sc, "`"+strings.Join(ran[sc], "`, `")+"`")
		}
		if len(scs) > 0 {
			b.WriteString("\n")
		}
	}
	b.WriteString("\n| scenario | metric | old | new | change | verdict |\n|---|---|---|---|---|---|\n")
	for _, r := range d.Rows {
		opt := func(p *float64, text string, signed bool) string {
			if text != "" {
				return text
			}
			if p == nil {
				return "–"
			}
			return results.FormatValue(*p, r.Unit, signed)
		}
		change := opt(r.Change, "", true)
		if r.Relative != nil {
			change += fmt.Sprintf(" (%+.0f %%)", *r.Relative*100)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", r.Scenario, r.Metric, opt(r.Old, r.OldText, false), opt(r.New, r.NewText, false), change, r.Verdict)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
