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
	d := Diff(f, f, DefaultThresholds())
	if d.Regressions != 0 {
		t.Fatalf("%d regressions against itself", d.Regressions)
	}
	for _, r := range d.Rows {
		if r.Verdict != "unchanged" {
			t.Fatalf("row %+v", r)
		}
	}
	c := syntheticComparison()
	if d := Diff(FiguresOfComparison(c), f, DefaultThresholds()); d.Regressions != 0 {
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
	d := Diff(FiguresOfReport(reportOf(old)), FiguresOfReport(reportOf(cur)), DefaultThresholds())
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
	if d := Diff(FiguresOfReport(reportOf(old)), FiguresOfReport(reportOf(cur)), th); d.Regressions != 0 {
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
	d := Diff(FiguresOfReport(reportOf(old)), FiguresOfReport(reportOf(cur)), DefaultThresholds())
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
	d = Diff(FiguresOfReport(reportOf(old)), FiguresOfReport(reportOf(low)), Thresholds{Relative: 0.2, Absolute: map[string]float64{results.UnitPerSecond: 1}})
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
	d := Diff(old, FiguresOfReport(rep(40, 50, 60)), DefaultThresholds())
	if d.Regressions == 0 {
		t.Errorf("a median across apps 30 s slower is no regression: %+v", d.Rows)
	}
}
