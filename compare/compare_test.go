package compare

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scalebench/scalebench/reports"
	"github.com/scalebench/scalebench/results"
	"github.com/scalebench/scalebench/scenario"
	"github.com/scalebench/scalebench/stats"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

var DefaultBootstrapForTests = stats.Bootstrap{Seed: 7, Resamples: 10000, Confidence: 0.95}

func metric(t *testing.T, ms []results.MetricComparison, key string) results.MetricComparison {
	t.Helper()
	for _, m := range ms {
		if m.Metric == key {
			return m
		}
	}
	t.Fatalf("metric %s not compared", key)
	return results.MetricComparison{}
}

func TestBuildVerdicts(t *testing.T) {
	c := syntheticComparison()
	up := metric(t, c.Metrics, "firstScaleUpSeconds")
	if got := *up.Scenarios[0].Median; got != 21.0 {
		t.Errorf("slow median %v, want 21", got)
	}
	if got := *up.Scenarios[1].Median; got != 10.8 {
		t.Errorf("fast median %v, want 10.8", got)
	}
	if *up.Scenarios[0].Min != 19.8 || *up.Scenarios[0].Max != 23.2 || len(up.Scenarios[0].Samples) != 5 {
		t.Errorf("slow range %+v", up.Scenarios[0])
	}
	p := up.Pairs[0]
	if p.A != "slow" || p.B != "fast" || p.Verdict != results.VerdictWinner || p.Winner != "fast" {
		t.Fatalf("firstScaleUpSeconds pair %+v, want fast the winner", p)
	}
	if d := p.Difference; d.Estimate != -10.2 || d.High >= 0 {
		t.Fatalf("difference %+v, want -10.2 with an interval below 0", d)
	}
	// Scale-down overlaps: no difference shown.
	sd := metric(t, c.Metrics, "scaleDownSeconds").Pairs[0]
	if sd.Verdict != results.VerdictNoDifference || sd.Winner != "" || !strings.Contains(sd.Detail, "contains zero") {
		t.Fatalf("scaleDownSeconds pair %+v, want no difference shown", sd)
	}
	// Cold start applies to neither: not compared at all (absent, not 0).
	for _, m := range c.Metrics {
		if m.Metric == "coldStartSeconds" {
			t.Fatal("coldStartSeconds compared though no trial measured it")
		}
	}
	if b := up.Scenarios[0].Budget; b == nil || b.MaxSeconds <= 0 || b.Dominant == "" {
		t.Errorf("slow firstScaleUpSeconds budget %+v", b)
	}
	if b := metric(t, c.Metrics, "decisionSeconds").Scenarios[0].Budget; b != nil {
		t.Errorf("decisionSeconds has a budget %+v; the model gives none", b)
	}
	if c.Statistics.Bootstrap.Seed != 7 || c.Statistics.Alpha != 0.05 {
		t.Fatalf("statistics %+v", c.Statistics)
	}
}

// A metric measured for one scenario only is "not measured", and its
// absence reasons are kept.
func TestBuildNotMeasured(t *testing.T) {
	trials := syntheticTrials()
	for i := range trials {
		if trials[i].Scenario == "fast" {
			trials[i].Result.Metrics.ColdStartSeconds = results.F64(1.5)
		} else {
			trials[i].Result.Metrics.FirstScaleUpSeconds = nil
			trials[i].Result.Metrics.Absent = map[string]string{"firstScaleUpSeconds": "spec.replicas never rose"}
		}
	}
	trials[0].Used = false // an errored trial is not counted
	ms, _ := Build([]string{"slow", "fast"}, trials, DefaultBootstrapForTests)
	up := metric(t, ms, "firstScaleUpSeconds")
	if up.Pairs[0].Verdict != results.VerdictNotMeasured || up.Scenarios[0].Median != nil || up.Scenarios[0].Absent != 4 {
		t.Fatalf("firstScaleUpSeconds %+v", up)
	}
	if len(up.Scenarios[0].Reasons) != 1 || up.Scenarios[0].Reasons[0] != "spec.replicas never rose" {
		t.Fatalf("reasons %q", up.Scenarios[0].Reasons)
	}
	cs := metric(t, ms, "coldStartSeconds")
	if cs.Pairs[0].Verdict != results.VerdictNotMeasured || len(cs.Scenarios[1].Samples) != 5 {
		t.Fatalf("coldStartSeconds %+v", cs)
	}
}

// Three trials each, completely separated: the interval excludes zero but
// no winner is named.
func TestBuildTooFewTrials(t *testing.T) {
	var trials []results.Trial
	for _, tr := range syntheticTrials() {
		if tr.Trial <= 3 {
			trials = append(trials, tr)
		}
	}
	ms, _ := Build([]string{"slow", "fast"}, trials, DefaultBootstrapForTests)
	p := metric(t, ms, "firstScaleUpSeconds").Pairs[0]
	if p.Verdict != results.VerdictNoDifference || !p.Difference.ExcludesZero() || !strings.Contains(p.Detail, "by chance 10 %") {
		t.Fatalf("pair %+v", p)
	}
}

func TestSchedule(t *testing.T) {
	a := &scenario.Scenario{Metadata: scenario.Metadata{Name: "a"}}
	b := &scenario.Scenario{Metadata: scenario.Metadata{Name: "b"}}
	var got []string
	for _, tr := range Schedule([]*scenario.Scenario{a, b}, 3) {
		got = append(got, tr.Namespace)
	}
	want := "cmp-a-t1 cmp-b-t1 cmp-a-t2 cmp-b-t2 cmp-a-t3 cmp-b-t3"
	if strings.Join(got, " ") != want {
		t.Fatalf("schedule %q, want %q", got, want)
	}
	long := TrialNamespace(strings.Repeat("x", 80), 12)
	if len(long) != 63 || !strings.HasSuffix(long, "-t12") {
		t.Fatalf("long namespace %q (%d)", long, len(long))
	}
}

// Run interleaves, gives each trial its fresh namespace, waits for rest
// before each, leaves errored trials out, and shows progress with the time
// left.
func TestRunInterleavesAndWaitsForRest(t *testing.T) {
	a := &scenario.Scenario{Metadata: scenario.Metadata{Name: "a"}}
	b := &scenario.Scenario{Metadata: scenario.Metadata{Name: "b"}}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	var log []string
	var progress bytes.Buffer
	trials, err := Run(context.Background(), nil, Config{
		Scenarios: []*scenario.Scenario{a, b}, Trials: 2, Progress: &progress, Now: clock,
		DeleteNamespace: func(_ context.Context, ns string) { log = append(log, "delete "+ns) },
		AtRest: func(_ context.Context, earlier []string) (string, error) {
			log = append(log, "rest after "+strings.Join(earlier, ","))
			now = now.Add(10 * time.Second)
			return "at rest", nil
		},
		RunTrial: func(_ context.Context, sc *scenario.Scenario, trial int) results.Scenario {
			log = append(log, "run "+sc.Metadata.Name+" in "+sc.Spec.Namespace)
			now = now.Add(50 * time.Second)
			r := results.Scenario{Name: sc.Metadata.Name, Trial: trial, Passed: true}
			if sc.Metadata.Name == "b" && trial == 2 {
				r.Error, r.ErrorKind, r.Passed = "boom", results.ErrorPlatform, false
			}
			return r
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"rest after ", "run a in cmp-a-t1", "delete cmp-a-t1",
		"rest after cmp-a-t1", "run b in cmp-b-t1", "delete cmp-b-t1",
		"rest after cmp-a-t1,cmp-b-t1", "run a in cmp-a-t2", "delete cmp-a-t2",
		"rest after cmp-a-t1,cmp-b-t1,cmp-a-t2", "run b in cmp-b-t2", "delete cmp-b-t2",
	}
	if strings.Join(log, "|") != strings.Join(want, "|") {
		t.Fatalf("order:\n%s\nwant:\n%s", strings.Join(log, "\n"), strings.Join(want, "\n"))
	}
	if len(trials) != 4 || !trials[2].Used || trials[3].Used || trials[1].RestWaitSeconds != 10 {
		t.Fatalf("trials %+v", trials)
	}
	if a.Spec.Namespace != "" {
		t.Fatal("Run changed the caller's scenario")
	}
	out := progress.String()
	for _, s := range []string{"trial 1 of 4: a (its trial 1 of 2); estimating", "trial 3 of 4: a (its trial 2 of 2); about 2m0s left", "b #2 error (platform)"} {
		if !strings.Contains(out, s) {
			t.Errorf("progress lacks %q:\n%s", s, out)
		}
	}
}

func TestRunStopsWhenNotAtRest(t *testing.T) {
	a := &scenario.Scenario{Metadata: scenario.Metadata{Name: "a"}}
	b := &scenario.Scenario{Metadata: scenario.Metadata{Name: "b"}}
	n := 0
	trials, err := Run(context.Background(), nil, Config{
		Scenarios: []*scenario.Scenario{a, b}, Trials: 2, DeleteNamespace: func(context.Context, string) {},
		AtRest: func(_ context.Context, earlier []string) (string, error) {
			if len(earlier) == 1 {
				return "", context.DeadlineExceeded
			}
			return "", nil
		},
		RunTrial: func(_ context.Context, sc *scenario.Scenario, trial int) results.Scenario {
			n++
			return results.Scenario{Name: sc.Metadata.Name, Trial: trial}
		},
	})
	if err == nil || !strings.Contains(err.Error(), "did not come to rest") || n != 1 || len(trials) != 1 {
		t.Fatalf("err %v, ran %d, trials %d", err, n, len(trials))
	}
	if _, err := Run(context.Background(), nil, Config{Scenarios: []*scenario.Scenario{a}, Trials: 2}); err == nil {
		t.Fatal("one scenario accepted")
	}
}

func TestRestTracker(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var tr restTracker
	steps := []struct {
		s    restState
		want bool
	}{
		{restState{metricsAPI: true, namespaces: 1, pods: 3, nodes: 3, nodeCPU: 2000, nodeStamp: t0}, false},
		{restState{metricsAPI: true, nodes: 3, nodeCPU: 2000, nodeStamp: t0}, false},                                     // same reading
		{restState{metricsAPI: true, nodes: 3, nodeCPU: 600, nodeStamp: t0.Add(15 * time.Second)}, false},                // still falling
		{restState{metricsAPI: true, nodes: 3, nodeCPU: 580, nodeStamp: t0.Add(30 * time.Second)}, true},                 // settled
		{restState{metricsAPI: true, podMetrics: 1, nodes: 3, nodeCPU: 580, nodeStamp: t0.Add(45 * time.Second)}, false}, // a pod metric left
	}
	for i, st := range steps {
		got, desc := tr.observe(st.s)
		if got != st.want {
			t.Fatalf("step %d: at rest %v, want %v (%s)", i, got, st.want, desc)
		}
	}
	var noAPI restTracker
	if ok, desc := noAPI.observe(restState{}); !ok || !strings.Contains(desc, "not served") {
		t.Fatalf("without metrics API: %v %s", ok, desc)
	}

	// An idle emulated cluster: metrics-server lists no node (every node's
	// usage is zero). At rest once that has lasted noNodeMetricsRest, and
	// only when no earlier trial's object is left; a node reading starts
	// the count again.
	var idle restTracker
	idleSteps := []struct {
		s    restState
		want bool
	}{
		{restState{metricsAPI: true, at: t0}, false},
		{restState{metricsAPI: true, at: t0.Add(10 * time.Second)}, false},
		{restState{metricsAPI: true, pods: 1, at: t0.Add(25 * time.Second)}, false}, // a pod left
		{restState{metricsAPI: true, at: t0.Add(26 * time.Second)}, true},
		{restState{metricsAPI: true, nodes: 1, nodeCPU: 400, nodeStamp: t0.Add(30 * time.Second), at: t0.Add(30 * time.Second)}, false},
		{restState{metricsAPI: true, at: t0.Add(32 * time.Second)}, false}, // the count starts again
		{restState{metricsAPI: true, at: t0.Add(52 * time.Second)}, true},
	}
	for i, st := range idleSteps {
		got, desc := idle.observe(st.s)
		if got != st.want {
			t.Fatalf("idle step %d: at rest %v, want %v (%s)", i, got, st.want, desc)
		}
	}
}

// TestGolden renders the synthetic comparison; go test ./compare -update
// rewrites testdata.
func TestGolden(t *testing.T) {
	c := syntheticComparison()
	dir := t.TempDir()
	if *update {
		dir = "testdata"
	}
	if err := reports.WriteCompareAll(dir, c); err != nil {
		t.Fatal(err)
	}
	if *update {
		return
	}
	for _, f := range []string{reports.CompareJSONFile, reports.CompareMarkdownFile, reports.CompareHTMLFile} {
		got, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			t.Fatalf("%v (run go test ./compare -update)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from testdata (run go test ./compare -update and review the diff)", f)
		}
	}
	// The JSON reads back as a comparison.
	b, _ := os.ReadFile(filepath.Join(dir, reports.CompareJSONFile))
	doc, err := reports.ReadDocument(bytes.NewReader(b))
	if err != nil || doc.Comparison == nil || len(doc.Comparison.Trials) != 10 {
		t.Fatalf("read back: %v %+v", err, doc)
	}
}

// A time to peak toward different peaks (hpa-cpu's maximum 10 against
// keda-cpu's 20) names no winner, however clear the difference; the same
// trials with equal peaks do.
func TestTimeToDifferentPeaksIsNotComparable(t *testing.T) {
	var trials []results.Trial
	for i, r := range []float64{20.1, 22.4, 19.8, 21.0, 23.2} {
		trials = append(trials, syntheticTrial("a", "hpa", i+1, r, 40, 10, 0),
			syntheticTrial("b", "keda-cpu", i+1, r+15, 40, 20, 0))
	}
	ms, _ := Build([]string{"a", "b"}, trials, DefaultBootstrapForTests)
	p := metric(t, ms, "timeToPeakSeconds").Pairs[0]
	if p.Verdict != results.VerdictNotComparable || p.Winner != "" || p.Difference == nil ||
		!strings.Contains(p.Detail, "different peaks (a 10, b 20 replicas") {
		t.Fatalf("time to different peaks: %+v, want not comparable, the difference kept, no winner", p)
	}
	if got := reports.VerdictText(p); got != "not comparable: different peaks (a 10, b 20 replicas, medians of the trials)" {
		t.Errorf("verdict text %q", got)
	}
	// The reaction itself is still compared: b is 15 s slower in every trial.
	if up := metric(t, ms, "firstScaleUpSeconds").Pairs[0]; up.Verdict != results.VerdictWinner || up.Winner != "a" {
		t.Errorf("firstScaleUpSeconds %+v, want a the winner", up)
	}
	for i := range trials {
		trials[i].Result.Metrics.PeakReplicas = results.I32(10)
	}
	ms, _ = Build([]string{"a", "b"}, trials, DefaultBootstrapForTests)
	if p := metric(t, ms, "timeToPeakSeconds").Pairs[0]; p.Verdict != results.VerdictWinner || p.Winner != "a" {
		t.Fatalf("time to the same peak: %+v, want a the winner", p)
	}
}
