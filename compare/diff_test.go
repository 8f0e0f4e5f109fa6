package compare

import (
	"bytes"
	"strings"
	"testing"

	"github.com/scalebench/scalebench/results"
)

func reportOf(trials []results.Trial) results.Report {
	r := results.Report{SchemaVersion: results.SchemaVersion}
	for _, t := range trials {
		r.Scenarios = append(r.Scenarios, t.Result)
	}
	return r
}

func TestDiffItselfHasNoRegression(t *testing.T) {
	f := FiguresOfReport(reportOf(syntheticTrials()))
	d := Diff(f, f, DiffOptions{Thresholds: DefaultThresholds()})
	if d.Regressions != 0 {
		t.Fatalf("%d regressions against itself", d.Regressions)
	}
	for _, r := range d.Rows {
		if r.Verdict != "unchanged" {
			t.Fatalf("row %+v", r)
		}
	}
	c := syntheticComparison()
	if d := Diff(FiguresOfComparison(c), f, DiffOptions{Thresholds: DefaultThresholds()}); d.Regressions != 0 {
		t.Fatalf("comparison vs its own trials: %d regressions: %+v", d.Regressions, d.Rows)
	}
}

func TestDiffFlagsAWorseFirstScaleUp(t *testing.T) {
	old := syntheticTrials()
	cur := syntheticTrials()
	for i := range cur {
		m := &cur[i].Result.Metrics
		if cur[i].Scenario == "fast" {
			*m.FirstScaleUpSeconds += 5 // 10.8 → 15.8: +46 %, +5 s
		} else {
			*m.ScaleDownSeconds += 1.5 // within 2 s
		}
	}
	d := Diff(FiguresOfReport(reportOf(old)), FiguresOfReport(reportOf(cur)), DiffOptions{Thresholds: DefaultThresholds()})
	if d.Regressions != 1 {
		t.Fatalf("%d regressions, want 1: %+v", d.Regressions, d.Rows)
	}
	var md bytes.Buffer
	if err := d.WriteMarkdown(&md, "old.json", "new.json"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| fast | firstScaleUpSeconds | 10.8 s | 15.8 s | +5 s (+46 %) | REGRESSION", "| slow | scaleDownSeconds | 41 s | 42.5 s | +1.5 s (+4 %) | worse, within thresholds |", "**1 regressions**"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md.String())
		}
	}
	// A looser threshold lets it pass.
	th := DefaultThresholds()
	th.Relative = 0.5
	if d := Diff(FiguresOfReport(reportOf(old)), FiguresOfReport(reportOf(cur)), DiffOptions{Thresholds: th}); d.Regressions != 0 {
		t.Fatalf("50 %% threshold: %d regressions", d.Regressions)
	}
}

func TestDiffAbsentAndMissing(t *testing.T) {
	old := syntheticTrials()
	var cur []results.Trial
	for _, tr := range syntheticTrials() {
		if tr.Scenario == "fast" {
			tr.Result.Metrics.FirstScaleUpSeconds = nil // never scaled up
			cur = append(cur, tr)
		}
	}
	d := Diff(FiguresOfReport(reportOf(old)), FiguresOfReport(reportOf(cur)), DiffOptions{Thresholds: DefaultThresholds()})
	var got []string
	for _, r := range d.Rows {
		if r.Regressed {
			got = append(got, r.Scenario+"/"+r.Metric)
		}
	}
	if strings.Join(got, " ") != "slow/(scenario) fast/firstScaleUpSeconds" {
		t.Fatalf("regressions %q", got)
	}
	// Higher is better for goodput: a drop regresses.
	low := syntheticTrials()
	for i := range low {
		*low[i].Result.Metrics.GoodputPerSecond -= 3
	}
	d = Diff(FiguresOfReport(reportOf(old)), FiguresOfReport(reportOf(low)), DiffOptions{Thresholds: Thresholds{Relative: 0.2, Absolute: map[string]float64{results.UnitPerSecond: 1}}})
	if d.Regressions != 2 {
		t.Fatalf("goodput drop: %d regressions, want 2", d.Regressions)
	}
}

// A multi-app scenario's apps are its samples: the median across the apps
// that ran to their end, and a slower median across apps is a regression.
func TestDiffOfAppsAcrossApps(t *testing.T) {
	rep := func(ups ...float64) results.Report {
		var apps []results.Scenario
		for _, up := range ups {
			apps = append(apps, results.Scenario{Name: "web", Metrics: results.Metrics{FirstScaleUpSeconds: results.F64(up)}})
		}
		apps = append(apps, results.Scenario{Name: "web-err", Error: "not within 3m", Metrics: results.Metrics{FirstScaleUpSeconds: results.F64(1000)}})
		return results.Report{SchemaVersion: results.SchemaVersion, Scenarios: []results.Scenario{{Name: "web-k3", Apps: &results.Apps{Count: len(apps), Results: apps}}}}
	}
	old := FiguresOfReport(rep(10, 20, 30))
	if old.Values["web-k3"]["firstScaleUpSeconds"] != 20 || old.Trials["web-k3"] != 3 {
		t.Fatalf("figures %+v", old)
	}
	d := Diff(old, FiguresOfReport(rep(40, 50, 60)), DiffOptions{Thresholds: DefaultThresholds()})
	if d.Regressions == 0 {
		t.Errorf("a median across apps 30 s slower is no regression: %+v", d.Rows)
	}
}

// alonePair is one scenario's reaction metrics, alone and together
// (bench run, then bench run --parallel), on clusters stating a 15 s sync.
func alonePair(aloneUp, togetherUp float64, togetherChecks []results.Check) (Figures, Figures) {
	rep := func(up float64, ranWith []string, checks []results.Check) results.Report {
		passed := true
		for _, c := range checks {
			passed = passed && c.State() != results.CheckFailed
		}
		return results.Report{SchemaVersion: results.SchemaVersion,
			Environment: results.Environment{Knobs: map[string]string{"hpa.syncPeriod": "15s"}},
			Scenarios: []results.Scenario{{Name: "keda-cpu-fast", Passed: passed, RanWith: ranWith, Checks: checks, Metrics: results.Metrics{
				FirstScaleUpSeconds: results.F64(up), ScaleDownSeconds: results.F64(46), ReplicaSeconds: results.F64(2000)}}}}
	}
	alone := rep(aloneUp, nil, []results.Check{{Name: "max-replicas", Passed: true}})
	together := rep(togetherUp, []string{"hpa-cpu-fast"}, togetherChecks)
	together.Scenarios[0].Metrics.ReplicaSeconds = results.F64(3000) // not a reaction metric
	return FiguresOfReport(alone), FiguresOfReport(together)
}

func parallelOptions(t *testing.T, old, cur Figures) DiffOptions {
	t.Helper()
	sync, err := SyncPeriod(old, cur)
	if err != nil {
		t.Fatal(err)
	}
	th := DefaultThresholds()
	th.Relative = 0
	th.Absolute[results.UnitSeconds] = 2 + sync.Seconds()
	return DiffOptions{Thresholds: th, TwoSided: true, RequirePass: true,
		Metrics: []string{"decisionSeconds", "firstScaleUpSeconds", "firstReadySeconds", "timeToPeakSeconds", "scaleDownSeconds"}}
}

func TestDiffTwoSidedAbsoluteOnly(t *testing.T) {
	passed := []results.Check{{Name: "max-replicas", Passed: true}}
	for _, tc := range []struct {
		name          string
		alone, togeth float64
		want          int
		verdict       string
	}{
		{"one sync later", 14.4, 29.3, 0, "within thresholds"},
		{"two syncs later", 14.4, 44.3, 1, "DIFFERENT: by more than 17 s"},
		{"two syncs earlier", 44.3, 14.4, 1, "DIFFERENT: by more than 17 s"},
		{"a little later, +100 %", 1, 2, 0, "within thresholds"},
		{"unchanged", 14.4, 14.4, 0, "unchanged"},
	} {
		old, cur := alonePair(tc.alone, tc.togeth, passed)
		d := Diff(old, cur, parallelOptions(t, old, cur))
		if d.Regressions != tc.want {
			t.Errorf("%s: %d failed, want %d: %+v", tc.name, d.Regressions, tc.want, d.Rows)
		}
		var keys []string
		for _, r := range d.Rows {
			keys = append(keys, r.Metric)
			if r.Metric == "firstScaleUpSeconds" && r.Verdict != tc.verdict {
				t.Errorf("%s: verdict %q, want %q", tc.name, r.Verdict, tc.verdict)
			}
		}
		// Only the chosen metrics: replicaSeconds (2000 → 3000) is not compared.
		if got := strings.Join(keys, " "); got != "(verdict) firstScaleUpSeconds scaleDownSeconds" {
			t.Errorf("%s: rows %q", tc.name, got)
		}
	}
	// One-sided, the earlier one is better, not a failure.
	old, cur := alonePair(44.3, 14.4, passed)
	opts := parallelOptions(t, old, cur)
	opts.TwoSided = false
	if d := Diff(old, cur, opts); d.Regressions != 0 {
		t.Errorf("one-sided: %d failed: %+v", d.Regressions, d.Rows)
	}
}

func TestDiffRequirePass(t *testing.T) {
	old, cur := alonePair(14.4, 14.5, []results.Check{{Name: "max-replicas", Passed: true}, {Name: "scale-down", Detail: "not back at 1"}, {Name: "spacing", Skipped: true}})
	opts := parallelOptions(t, old, cur)
	d := Diff(old, cur, opts)
	if d.Regressions != 1 || d.Rows[0].Metric != "(verdict)" || !d.Rows[0].Regressed || d.Rows[0].OldText != "passed" || d.Rows[0].NewText != "failed: scale-down" {
		t.Fatalf("a failed check in NEW: %d failed, rows %+v", d.Regressions, d.Rows)
	}
	var md bytes.Buffer
	if err := d.WriteMarkdown(&md, "alone/report.json", "together/report.json"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"# scalebench diff: **1 failed**",
		"differs, either way, by more than its unit's absolute threshold (17 s)",
		"Metrics compared: `decisionSeconds`, `firstScaleUpSeconds`, `firstReadySeconds`, `timeToPeakSeconds`, `scaleDownSeconds`.",
		"In new, `keda-cpu-fast` ran at the same time as `hpa-cpu-fast` on the same cluster",
		"| keda-cpu-fast | (verdict) | passed | failed: scale-down | – | FAILED: not passed in both reports |",
		"| keda-cpu-fast | firstScaleUpSeconds | 14.4 s | 14.5 s | +0.1 s (+1 %) | within thresholds |",
	} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md.String())
		}
	}
	// Without RequirePass the verdicts are not compared.
	opts.RequirePass = false
	if d := Diff(old, cur, opts); d.Regressions != 0 {
		t.Errorf("without RequirePass: %d failed", d.Regressions)
	}
	// An error, an interrupted run, a multi-app scenario's failed app.
	rep := results.Report{Interrupted: true, Scenarios: []results.Scenario{
		{Name: "a", Passed: true},
		{Name: "b", Error: "timed out", ErrorKind: results.ErrorTimeout},
		{Name: "c", Apps: &results.Apps{Results: []results.Scenario{{Name: "c-01", Passed: true}, {Name: "c-02", Checks: []results.Check{{Name: "first-scale-up"}}}}}},
		{Name: "d"},
	}}
	f := FiguresOfReport(rep)
	for sc, want := range map[string]string{"a": "run interrupted", "b": "error: timed out; run interrupted", "c": "c-02: first-scale-up; run interrupted", "d": "no check tested; run interrupted"} {
		if got := strings.Join(f.Failed[sc], "; "); got != want {
			t.Errorf("%s: failed %q, want %q", sc, got, want)
		}
	}
}

func TestSyncPeriod(t *testing.T) {
	with := func(v string) Figures {
		if v == "" {
			return Figures{}
		}
		return Figures{Knobs: map[string]string{"hpa.syncPeriod": v}}
	}
	if d, err := SyncPeriod(with("15s"), with("15s")); err != nil || d.Seconds() != 15 {
		t.Fatalf("15s: %v %v", d, err)
	}
	for _, tc := range [][3]string{
		{"", "15s", `OLD states no environment.knobs["hpa.syncPeriod"]`},
		{"15s", "", `NEW states no environment.knobs["hpa.syncPeriod"]`},
		{"15s", "soon", `NEW: environment.knobs["hpa.syncPeriod"] "soon" is not a positive duration`},
		{"15s", "30s", `environment.knobs["hpa.syncPeriod"] differs: OLD 15s, NEW 30s`},
	} {
		_, err := SyncPeriod(with(tc[0]), with(tc[1]))
		if err == nil || err.Error() != tc[2] {
			t.Errorf("%q %q: %v, want %s", tc[0], tc[1], err, tc[2])
		}
	}
	if err := CheckMetrics([]string{"decisionSeconds", "nope"}); err == nil || !strings.Contains(err.Error(), `unknown metric "nope" (allowed: decisionSeconds, firstScaleUpSeconds,`) {
		t.Errorf("CheckMetrics: %v", err)
	}
}

// A compare.json's scenario fails RequirePass when one of its trials did
// not pass, or when the comparison stopped early.
func TestFiguresOfComparisonVerdicts(t *testing.T) {
	c := syntheticComparison()
	for i := range c.Trials {
		c.Trials[i].Result.Passed = true
	}
	if f := FiguresOfComparison(c); len(f.Failed) != 0 || f.Knobs["hpaSyncPeriod"] != "15s" {
		t.Fatalf("every trial passed: failed %v, knobs %v", f.Failed, f.Knobs)
	}
	c.Trials[3].Result.Passed = false
	c.Trials[3].Result.Checks = []results.Check{{Name: "scale-down", Detail: "late"}}
	f := FiguresOfComparison(c)
	sc := c.Trials[3].Scenario
	if got := strings.Join(f.Failed[sc], "; "); got != "scale-down" || len(f.Failed) != 1 {
		t.Fatalf("failed %v", f.Failed)
	}
	c.Error = "interrupted"
	if got := FiguresOfComparison(c).Failed[c.Scenarios[0]]; len(got) == 0 || got[0] != "comparison stopped: interrupted" {
		t.Fatalf("stopped comparison: %v", got)
	}
}
