package app

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/scalebench/scalebench/reports"
	"github.com/scalebench/scalebench/results"
	"github.com/scalebench/scalebench/scenario"
)

// fakeRest replaces the rest wait and namespace deletion for one test.
func fakeRest(t *testing.T) *[]string {
	t.Helper()
	oldA, oldD := compareAtRest, compareDeleteNamespace
	t.Cleanup(func() { compareAtRest, compareDeleteNamespace = oldA, oldD })
	var log []string
	compareAtRest = func(context.Context, []string) (string, error) { return "at rest (fake)", nil }
	compareDeleteNamespace = func(_ context.Context, ns string) { log = append(log, ns) }
	return &log
}

func TestCompareWritesTheThreeFiles(t *testing.T) {
	p := &fakeProvider{}
	n := map[string]int{}
	fake(t, p, func(s *scenario.Scenario) results.Scenario {
		n[s.Metadata.Name]++
		up := 20.0 + float64(n[s.Metadata.Name])
		if s.Metadata.Name == "keda-cpu" {
			up -= 10
		}
		if !strings.HasPrefix(s.Spec.Namespace, "cmp-"+s.Metadata.Name+"-t") {
			t.Errorf("trial ran in namespace %q", s.Spec.Namespace)
		}
		r := passed(s)
		r.Metrics.FirstScaleUpSeconds = results.F64(up)
		return r
	})
	deleted := fakeRest(t)
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), []string{"compare", "--trials", "4", "--out", out, "--seed", "3"}, &stdout, &stderr)
	if code != ExitOK {
		t.Fatalf("exit %d, stderr %s", code, stderr.String())
	}
	if len(*deleted) != 8 || (*deleted)[0] != "cmp-hpa-cpu-t1" || (*deleted)[1] != "cmp-keda-cpu-t1" {
		t.Fatalf("deleted namespaces %q", *deleted)
	}
	for _, f := range []string{reports.CompareJSONFile, reports.CompareMarkdownFile, reports.CompareHTMLFile, reports.JSONFile} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	md, _ := os.ReadFile(filepath.Join(out, reports.CompareMarkdownFile))
	if !strings.Contains(string(md), `| firstScaleUpSeconds (s; lower is better) | 22.5 \[21 – 24\] (4) | 12.5 \[11 – 14\] (4) | -10 \[-12, -8\]`) || !strings.Contains(string(md), "**keda-cpu** better") {
		t.Errorf("compare.md:\n%s", md)
	}
	b, _ := os.ReadFile(filepath.Join(out, reports.CompareJSONFile))
	var c results.Comparison
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	if c.Kind != results.CompareKind || c.Statistics.Bootstrap.Seed != 3 || len(c.Trials) != 8 || c.Trials[1].Scenario != "keda-cpu" {
		t.Fatalf("compare.json: kind %q seed %d trials %d", c.Kind, c.Statistics.Bootstrap.Seed, len(c.Trials))
	}
	if !strings.Contains(stdout.String(), "keda-cpu better") || !strings.Contains(stdout.String(), "bootstrap seed 3") {
		t.Errorf("stdout:\n%s", stdout.String())
	}
	if p.cluster.deletes != 1 {
		t.Errorf("cluster deleted %d times", p.cluster.deletes)
	}
}

func TestCompareUsage(t *testing.T) {
	fakeRest(t)
	for _, args := range [][]string{
		{"compare", "--scenario", "hpa-cpu"},
		{"compare", "--trials", "0"},
		{"compare", "--scenario", "hpa-cpu", "--scenario", "hpa-cpu"},
		{"compare", "--cluster", "nope"},
		{"compare", "--progress", "loud"},
	} {
		var stdout, stderr bytes.Buffer
		if code := Main(context.Background(), args, &stdout, &stderr); code != ExitUsage {
			t.Errorf("%q: exit %d, want %d (%s)", args, code, ExitUsage, stderr.String())
		}
	}
}

func TestDiffExitCodes(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, up float64) string {
		r := results.Report{SchemaVersion: results.SchemaVersion, RunID: "r", Scenarios: []results.Scenario{
			{Name: "hpa-cpu", Passed: true, Metrics: results.Metrics{FirstScaleUpSeconds: results.F64(up), ScaleDownSeconds: results.F64(40)}},
		}}
		var b bytes.Buffer
		if err := reports.WriteJSON(&b, r); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	base := write("old.json", 20)
	worse := write("worse.json", 30)
	var stdout, stderr bytes.Buffer
	if code := Main(context.Background(), []string{"diff", base, base}, &stdout, &stderr); code != ExitOK {
		t.Fatalf("diff with itself: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	stdout.Reset()
	summary := filepath.Join(dir, "summary.md")
	if code := Main(context.Background(), []string{"diff", base, worse, "--md", summary}, &stdout, &stderr); code != ExitViolation {
		t.Fatalf("diff with a worse firstScaleUpSeconds: exit %d\n%s", code, stdout.String())
	}
	if !strings.Contains(stdout.String(), "| hpa-cpu | firstScaleUpSeconds | 20 s | 30 s | +10 s (+50 %) | REGRESSION") {
		t.Errorf("stdout:\n%s", stdout.String())
	}
	if b, err := os.ReadFile(summary); err != nil || !bytes.Equal(b, stdout.Bytes()) {
		t.Errorf("--md file differs from stdout (%v)", err)
	}
	if code := Main(context.Background(), []string{"diff", base, worse, "--rel", "0.6"}, &stdout, &stderr); code != ExitOK {
		t.Errorf("--rel 0.6: exit %d", code)
	}
	for _, args := range [][]string{{"diff", base}, {"diff", base, filepath.Join(dir, "missing.json")}, {"diff", base, base, "--rel", "-1"}} {
		if code := Main(context.Background(), args, &stdout, &stderr); code != ExitUsage {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
}

// A comparison with a keda-sqs scenario asks the cluster for the SQS side
// (Valkey and LocalStack on a real cluster), as bench run does; one without
// does not.
func TestCompareAsksForTheSQSSideWhenAScenarioNeedsIt(t *testing.T) {
	for _, c := range []struct {
		scenarios []string
		want      bool
	}{
		{[]string{"keda-sqs", "keda-http-fast"}, true},
		{[]string{"hpa-cpu-fast", "keda-cpu-fast"}, false},
	} {
		p := &fakeProvider{}
		fake(t, p, passed)
		fakeRest(t)
		args := []string{"compare", "--trials", "1", "--out", t.TempDir()}
		for _, s := range c.scenarios {
			args = append(args, "--scenario", s)
		}
		var stdout, stderr bytes.Buffer
		if code := Main(context.Background(), args, &stdout, &stderr); code != ExitOK {
			t.Fatalf("%v: exit %d, stderr %s", c.scenarios, code, stderr.String())
		}
		if p.opts.NeedsSQS != c.want {
			t.Errorf("%v: the cluster was created with NeedsSQS %v, want %v", c.scenarios, p.opts.NeedsSQS, c.want)
		}
	}
}

// bench diff as make bench-parallel calls it: absolute-only, two-sided,
// one HPA sync period from the reports plus a margin, the reaction metrics
// only, and both verdicts required.
func TestDiffAloneAgainstTogether(t *testing.T) {
	dir := t.TempDir()
	write := func(name, sync string, up float64, passed bool) string {
		r := results.Report{SchemaVersion: results.SchemaVersion, RunID: "r", Scenarios: []results.Scenario{
			{Name: "keda-cpu-fast", Passed: passed, Metrics: results.Metrics{FirstScaleUpSeconds: results.F64(up), ReplicaSeconds: results.F64(up * 100)}},
		}}
		if sync != "" {
			r.Environment.Knobs = map[string]string{"hpa.syncPeriod": sync}
		}
		var b bytes.Buffer
		if err := reports.WriteJSON(&b, r); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	alone := write("alone.json", "15s", 14.4, true)
	oneLater := write("later.json", "15s", 29.3, true)
	twoEarlier := write("earlier.json", "15s", 14.4-30, true)
	failed := write("failed.json", "15s", 14.4, false)
	noSync := write("nosync.json", "", 14.4, true)
	otherSync := write("sync30.json", "30s", 14.4, true)
	check := []string{"diff", "--rel", "0", "--two-sided", "--sync-periods", "1", "--abs-seconds", "2", "--require-pass",
		"--metrics", "decisionSeconds,firstScaleUpSeconds,firstReadySeconds,timeToPeakSeconds,scaleDownSeconds"}
	for _, tc := range []struct {
		cur  string
		want int
		out  string
	}{
		{oneLater, ExitOK, "| keda-cpu-fast | firstScaleUpSeconds | 14.4 s | 29.3 s | +14.9 s (+103 %) | within thresholds |"},
		{twoEarlier, ExitViolation, "DIFFERENT: by more than 17 s"},
		{failed, ExitViolation, "| keda-cpu-fast | (verdict) | passed | failed: no check tested | – | FAILED"},
		{noSync, ExitUsage, `--sync-periods: NEW states no environment.knobs["hpa.syncPeriod"]`},
		{otherSync, ExitUsage, "differs: OLD 15s, NEW 30s"},
	} {
		var stdout, stderr bytes.Buffer
		code := Main(context.Background(), append(slices.Clone(check), alone, tc.cur), &stdout, &stderr)
		if code != tc.want || !strings.Contains(stdout.String()+stderr.String(), tc.out) {
			t.Errorf("%s: exit %d, want %d with %q:\n%s%s", filepath.Base(tc.cur), code, tc.want, tc.out, stdout.String(), stderr.String())
		}
	}
	var stdout, stderr bytes.Buffer
	if code := Main(context.Background(), []string{"diff", "--metrics", "decisionSeconds,speed", alone, alone}, &stdout, &stderr); code != ExitUsage ||
		!strings.Contains(stderr.String(), `--metrics: unknown metric "speed" (allowed: decisionSeconds,`) {
		t.Errorf("--metrics speed: exit %d: %s", code, stderr.String())
	}
	if code := Main(context.Background(), []string{"diff", "--sync-periods", "-1", alone, alone}, &stdout, &stderr); code != ExitUsage {
		t.Errorf("--sync-periods -1: exit %d", code)
	}
}
