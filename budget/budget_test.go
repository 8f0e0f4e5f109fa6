package budget

import (
	"errors"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/scalebench/scalebench/scenario"
)

func builtin(t *testing.T, name string) *scenario.Scenario {
	t.Helper()
	s, err := scenario.Resolve(name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func stepsOf(ss []Step) string {
	var b strings.Builder
	for i, s := range ss {
		if i == 0 {
			b.WriteString(itoa(s.From))
		}
		b.WriteString("→" + itoa(s.To))
	}
	return b.String()
}

func itoa(v int32) string { return resource.NewQuantity(int64(v), resource.DecimalSI).String() }

// The seed HPA table: with the load showing whole in the first scrape, the
// HPA without behavior goes 1 → 4 → 8 → 10, one sync apart.
func TestHPASeedTable(t *testing.T) {
	s := builtin(t, "hpa-cpu")
	sp, err := SpecOf(*s)
	if err != nil {
		t.Fatal(err)
	}
	m, err := newModel(sp, DefaultCluster())
	if err != nil {
		t.Fatal(err)
	}
	// First scrape and first sync both 15 s after the load start.
	r := m.simUp(15*sec, 15*sec, 0)
	if got := stepsOf(r.steps); got != "1→4→8→10" {
		t.Fatalf("steps %s, want 1→4→8→10", got)
	}
	for i, want := range []float64{15, 30, 45} {
		if r.steps[i].AtSeconds != want {
			t.Errorf("step %d at %v s, want %v", i, r.steps[i].AtSeconds, want)
		}
	}
	if r.reached != 46*sec {
		t.Errorf("10 Ready at %d ms, want 46 s (last step + 1 s start-up)", r.reached)
	}
	// A scrape 2 s after the load start sees 2/15 of a busy window:
	// utilization 10 × 2/15 = 1.33 × target, so ceil(1.33) = 2.
	r = m.simUp(15*sec, 2*sec, 0)
	if got := stepsOf(r.steps); !strings.HasPrefix(got, "1→2→") {
		t.Errorf("steps %s, want a first step 1→2 from a partly busy window", got)
	}
}

func TestForBuiltins(t *testing.T) {
	for _, tc := range []struct {
		name string
		// bounds on the budgets, seconds
		firstMax, reachMax, backMax [2]float64
		dominantBack                string
	}{
		// first: load in a scrape (≤ 15 s + the 1.1/10 of a window it takes
		// to exceed the tolerance) + a sync (≤ 15 s).
		{"hpa-cpu", [2]float64{29, 31.7}, [2]float64{60, 64}, [2]float64{315, 331}, KnobDownscaleStabilization},
		{"hpa-cpu-fast", [2]float64{29, 31.7}, [2]float64{45, 64}, [2]float64{45, 61}, ""},
		{"keda-cpu", [2]float64{29, 31.7}, [2]float64{75, 79}, [2]float64{315, 331}, KnobDownscaleStabilization},
		// KEDA activation within one pollingInterval (2 s), then the HPA:
		// 1 → 4 → 8 → 10 at three syncs; zero one cooldown (30 s) after the
		// last active poll.
		{"keda-sqs", [2]float64{1.9, 2}, [2]float64{46, 48}, [2]float64{29, 30}, KnobCooldownPeriod},
		{"keda-http", [2]float64{0.9, 1}, [2]float64{46, 47}, [2]float64{29, 30}, KnobScaledownPeriod},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := For(*builtin(t, tc.name))
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range []struct {
				what string
				e    *Estimate
				in   [2]float64
			}{{"first scale-up", b.FirstScaleUp, tc.firstMax}, {"reach max", b.ReachMax, tc.reachMax}, {"back to min", b.BackToMin, tc.backMax}} {
				if e.e == nil {
					t.Fatalf("%s: no estimate", e.what)
				}
				if e.e.MaxSeconds < e.in[0] || e.e.MaxSeconds > e.in[1] {
					t.Errorf("%s budget %.2f s, want in %v", e.what, e.e.MaxSeconds, e.in)
				}
				if e.e.MinSeconds > e.e.MaxSeconds {
					t.Errorf("%s: min %.2f > max %.2f", e.what, e.e.MinSeconds, e.e.MaxSeconds)
				}
				var sum float64
				for _, tm := range e.e.Terms {
					sum += tm.Seconds
				}
				if d := sum - e.e.MaxSeconds; d > 0.01 || d < -0.01 {
					t.Errorf("%s terms sum to %.2f, budget %.2f", e.what, sum, e.e.MaxSeconds)
				}
			}
			if tc.dominantBack != "" && b.BackToMin.Dominant != tc.dominantBack {
				t.Errorf("back to min dominated by %q, want %q", b.BackToMin.Dominant, tc.dominantBack)
			}
			if n := len(b.Steps); n == 0 || b.Steps[n-1].To != builtin(t, tc.name).Spec.Autoscaler.MaxReplicas {
				t.Errorf("steps %v do not end at maxReplicas", b.Steps)
			}
		})
	}
}

// The legacy scale-up limit dominates reaching 20 from 1 (four limited steps).
func TestDominantScaleUpLimit(t *testing.T) {
	b, err := For(*builtin(t, "keda-cpu"))
	if err != nil {
		t.Fatal(err)
	}
	if b.ReachMax.Dominant != KnobLegacyScaleUpLimit {
		t.Errorf("dominant %q, want %q; terms %v", b.ReachMax.Dominant, KnobLegacyScaleUpLimit, b.ReachMax.Terms)
	}
}

func cpuSpec(request, limit string, target int32) Spec {
	return Spec{Autoscaler: "hpa", Metric: MetricCPU, MinReplicas: 1, MaxReplicas: 3, TargetUtilization: target,
		CPURequest: resource.MustParse(request), CPULimit: resource.MustParse(limit)}
}

func TestNoScaleUp(t *testing.T) {
	// Requests equal to limits (spin kube scaffold's default) and a 100 %
	// target: a saturated pod is at the target, never above it.
	b, err := ForSpec(cpuSpec("500m", "500m", 100), DefaultCluster())
	if err != nil {
		t.Fatal(err)
	}
	if b.ReachMax != nil || !strings.Contains(b.NoScaleUp, "never scales up") {
		t.Errorf("NoScaleUp %q, ReachMax %v; want no scale-up", b.NoScaleUp, b.ReachMax)
	}
	// At 50 % the same pod is at 2 × target: 1 → 2 → 3, metric-bound.
	b, err = ForSpec(cpuSpec("500m", "500m", 50), DefaultCluster())
	if err != nil {
		t.Fatal(err)
	}
	if b.ReachMax == nil || b.NoScaleUp != "" {
		t.Fatalf("no reach-max estimate: %q", b.NoScaleUp)
	}
}

func TestForSpecErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		sp   Spec
		want string
	}{
		{"no limit", cpuSpec("100m", "0", 50), "budget: invalid autoscaler hpa: no CPU limit: a saturated pod's usage is unbounded; the model needs a CPU limit"},
		{"no request", cpuSpec("0", "500m", 50), "budget: invalid autoscaler hpa: a CPU utilization target needs a CPU request"},
		{"min above max", Spec{Autoscaler: "hpa", Metric: MetricCPU, MinReplicas: 3, MaxReplicas: 2}, "budget: invalid autoscaler hpa: replicas min 3 max 2: want 0 <= min <= max, max >= 1"},
		{"cpu from zero", func() Spec { s := cpuSpec("100m", "500m", 50); s.MinReplicas = 0; return s }(), "budget: invalid autoscaler hpa: minReplicas 0 with a CPU metric: a CPU metric cannot wake a workload at zero"},
		{"zero without cooldown", Spec{Autoscaler: "keda-sqs", Metric: MetricExternal, MaxReplicas: 2, Activation: time.Second, ActivationKnob: KnobPollingInterval}, "budget: invalid autoscaler keda-sqs: scale to zero needs a positive cooldown"},
		{"unknown metric", Spec{Autoscaler: "x", Metric: "memory", MinReplicas: 1, MaxReplicas: 2}, `budget: invalid autoscaler x: metric "memory": allowed: cpu-utilization, external`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ForSpec(tc.sp, DefaultCluster())
			if err == nil || err.Error() != tc.want || !errors.Is(err, ErrInvalid) {
				t.Errorf("err %v\nwant %s", err, tc.want)
			}
		})
	}
}

func TestDerive(t *testing.T) {
	s := builtin(t, "hpa-cpu-fast")
	s.Spec.Expectations.ScaleUp = nil
	s.Spec.Expectations.ScaleDown = nil
	got, err := Derive(s)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || len(s.Derived) != 2 {
		t.Fatalf("derived %q, want scaleUp and scaleDown", got)
	}
	b, _ := For(*s)
	up := s.Spec.Expectations.ScaleUp
	if up == nil || up.Replicas != 10 || up.Within.Seconds() < b.ReachMax.MaxSeconds+15 || up.Within.Seconds() > b.ReachMax.MaxSeconds+16 {
		t.Errorf("scaleUp %+v, want 10 within budget %.1f s + 15 s margin", up, b.ReachMax.MaxSeconds)
	}
	down := s.Spec.Expectations.ScaleDown
	if down == nil || *down.Replicas != 1 || down.Within.Seconds() < b.BackToMin.MaxSeconds+15 {
		t.Errorf("scaleDown %+v, want 1 within budget %.1f s + margin", down, b.BackToMin.MaxSeconds)
	}
	if !strings.Contains(got[0], "derived") {
		t.Errorf("sentence %q does not say it was derived", got[0])
	}
	// The derived expectations are valid ones.
	if errs := scenario.Validate(s); len(errs) > 0 {
		t.Errorf("derived expectations invalid: %v", errs)
	}
	// Given expectations stay.
	s2 := builtin(t, "hpa-cpu-fast")
	before := *s2.Spec.Expectations.ScaleUp
	got, err = Derive(s2)
	if err != nil || len(got) != 0 || *s2.Spec.Expectations.ScaleUp != before {
		t.Errorf("Derive changed given expectations: %q %v", got, err)
	}
	// Scale from zero also derives the activation.
	s3 := builtin(t, "keda-sqs")
	s3.Spec.Expectations.Activation = nil
	got, err = Derive(s3)
	if err != nil || len(got) != 1 || s3.Spec.Expectations.Activation == nil || s3.Spec.Expectations.Activation.Within.Duration != 17*time.Second {
		t.Errorf("activation %v (%q, %v), want 2 s budget + 15 s margin", s3.Spec.Expectations.Activation, got, err)
	}
}

// The margin is one sync or 20 % of the budget, whichever is larger.
func TestMargin(t *testing.T) {
	if got := Margin(30, 15*time.Second); got != 15*time.Second {
		t.Errorf("Margin(30 s) = %s, want 15s", got)
	}
	if got := Margin(300, 15*time.Second); got != 60*time.Second {
		t.Errorf("Margin(300 s) = %s, want 1m0s", got)
	}
}

func TestWriteText(t *testing.T) {
	b, err := For(*builtin(t, "hpa-cpu"))
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	if err := b.WriteText(&sb); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"reach max (to 10 replicas", "dominated by " + KnobLegacyScaleUpLimit, "8 → 10  (maxReplicas)", "hpa.syncPeriod = 15s (cluster default)"} {
		if !strings.Contains(sb.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, sb.String())
		}
	}
}
