package runner_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/scalebench/scalebench/clusters/emulated"
	"github.com/scalebench/scalebench/clusters/emulated/components"
	"github.com/scalebench/scalebench/results"
	"github.com/scalebench/scalebench/runner"
	"github.com/scalebench/scalebench/scenario"
)

type logWriter struct{ t *testing.T }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestParallelScenariosReactAsAlone runs hpa-cpu-fast and keda-cpu-fast
// each alone, then both together (bench run --parallel), on one emulated
// cluster, and checks that every reaction metric of the together run is
// within one HPA sync period (15 s, the cluster's
// --horizontal-pod-autoscaler-sync-period; KEDA's cpu trigger scales
// through an HPA too) of the same scenario's alone run. About 12 minutes:
// make test-parallel (nightly).
func TestParallelScenariosReactAsAlone(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: three runs of the fast CPU scenarios on an emulated cluster (~12 min)")
	}
	if missing := emulated.MissingBinaries(&components.Builder{}); len(missing) > 0 {
		t.Skipf("component binaries not cached (go run ./cmd/bench components): %s", strings.Join(missing, ", "))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	var scs []*scenario.Scenario
	for _, n := range []string{"hpa-cpu-fast", "keda-cpu-fast"} {
		s, err := scenario.Resolve(n)
		if err != nil {
			t.Fatal(err)
		}
		scs = append(scs, s)
	}
	plan := runner.Plan{Scenarios: scs, Parallel: true}
	sess := runner.NewSession(runner.SessionConfig{
		Provider: &emulated.Provider{}, IngressAddr: "127.0.0.1:0", Progress: logWriter{t},
		Autoscalers: plan.Autoscalers(),
	})
	defer sess.Close(ctx)
	if err := sess.Create(ctx); err != nil {
		t.Fatal(err)
	}
	sync := runner.BudgetCluster(sess.Cluster()).SyncPeriod
	if sync != 15*time.Second {
		t.Fatalf("HPA sync period %s, want the default 15s this test's tolerance is", sync)
	}
	alone := map[string]results.Scenario{}
	for _, sc := range scs {
		res := sess.RunScenario(ctx, sc, runner.Options{})
		alone[sc.Metadata.Name] = res
	}
	sess.RunPlan(ctx, plan)
	rep, err := sess.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	together := map[string]results.Scenario{}
	for _, r := range rep.Scenarios {
		if len(r.RanWith) > 0 {
			together[r.Name] = r
		}
	}
	for _, sc := range scs {
		name := sc.Metadata.Name
		a, tg := alone[name], together[name]
		for _, r := range []results.Scenario{a, tg} {
			if !r.Passed || r.Error != "" {
				t.Errorf("%s (ranWith %v): passed %v, error %q, checks %+v", name, r.RanWith, r.Passed, r.Error, r.Checks)
			}
		}
		for _, m := range []struct {
			metric      string
			alone, with *float64
		}{
			{"decisionSeconds", a.Metrics.DecisionSeconds, tg.Metrics.DecisionSeconds},
			{"firstScaleUpSeconds", a.Metrics.FirstScaleUpSeconds, tg.Metrics.FirstScaleUpSeconds},
			{"firstReadySeconds", a.Metrics.FirstReadySeconds, tg.Metrics.FirstReadySeconds},
			{"timeToPeakSeconds", a.Metrics.TimeToPeakSeconds, tg.Metrics.TimeToPeakSeconds},
		} {
			if m.alone == nil || m.with == nil {
				t.Errorf("%s %s: alone %s, together %s; want both measured", name, m.metric, show(m.alone), show(m.with))
				continue
			}
			d := *m.with - *m.alone
			t.Logf("MEASURED %s %s: alone %.1f s, together %.1f s (%+.1f s)", name, m.metric, *m.alone, *m.with, d)
			if math.Abs(d) > sync.Seconds() {
				t.Errorf("%s %s: together %.1f s vs alone %.1f s: differs by more than one HPA sync period (%s)", name, m.metric, *m.with, *m.alone, sync)
			}
		}
	}
}

func show(p *float64) string {
	if p == nil {
		return "absent"
	}
	return fmt.Sprintf("%.1f s", *p)
}
