package manifests_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scalebench/scalebench/budget"
	"github.com/scalebench/scalebench/manifests"
)

// The scenario files beside the fixtures run the folders as they are; the
// budget they imply comes from the manifests' own numbers. hpa-behavior's
// profile is built so that its policies set every step (its peak asks for
// far more than 2 pods per 30 s, even while new pods have no sample, and
// the return goes by half per minute), which TestHPABehaviorUnderCPUProfile
// then observes on the emulated cluster.
func TestProfileScenarioBudgets(t *testing.T) {
	for _, tc := range []struct {
		file       string
		up, down   string
		upGap      float64 // seconds between predicted scale-up steps (0: one step)
		downGap    float64
		upWhy      string // of each step before the last (maxReplicas)
		downWhy    string // of each step before the last (minReplicas)
		scaleUp    string
		scaleDown  string
		autoscaler string
	}{
		{"hpa-behavior-cpu-profile.yaml", "[1→3 3→5 5→7 7→8]", "[8→4 4→2 2→1]", 30, 60,
			"limited by Max of [2 pods per 30s]", "limited by Max of [50% per 60s]", "3m2s", "4m10s", "hpa"},
		{"scaffold-keda-cpu-profile.yaml", "[2→3]", "[3→2]", 0, 0, "", "", "1m25s", "6m30s", "keda-cpu"},
		{"scaffold-hpa-cpu-profile.yaml", "[2→3]", "[3→2]", 0, 0, "", "", "2m0s", "6m30s", "hpa"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			s, err := manifests.Resolve(filepath.Join("..", "fixtures", "manifests", tc.file), nil)
			if err != nil {
				t.Fatal(err)
			}
			b, err := budget.For(*s)
			if err != nil {
				t.Fatal(err)
			}
			if b.Autoscaler != tc.autoscaler || b.NoScaleUp != "" || b.ReachMaxNote != "" {
				t.Fatalf("autoscaler %q, no scale-up %q, reach-max note %q", b.Autoscaler, b.NoScaleUp, b.ReachMaxNote)
			}
			show := func(ss []budget.Step) string {
				var out []string
				for _, st := range ss {
					out = append(out, fmt.Sprintf("%d→%d", st.From, st.To))
				}
				return fmt.Sprint(out)
			}
			if got := show(b.Steps); got != tc.up {
				t.Errorf("predicted scale-up steps %s, want %s", got, tc.up)
			}
			if got := show(b.ScaleDownSteps); got != tc.down {
				t.Errorf("predicted scale-down steps %s, want %s", got, tc.down)
			}
			for _, c := range []struct {
				ss        []budget.Step
				gap       float64
				why, last string
			}{{b.Steps, tc.upGap, tc.upWhy, "maxReplicas"}, {b.ScaleDownSteps, tc.downGap, tc.downWhy, "minReplicas"}} {
				for i, st := range c.ss {
					if i > 0 && st.AtSeconds-c.ss[i-1].AtSeconds != c.gap {
						t.Errorf("step %d→%d %.1f s after the previous one, want %.0f s (the policy's period)", st.From, st.To, st.AtSeconds-c.ss[i-1].AtSeconds, c.gap)
					}
					want := c.why
					if i == len(c.ss)-1 {
						want = c.last
					}
					if st.Why != want {
						t.Errorf("step %d→%d: why %q, want %q", st.From, st.To, st.Why, want)
					}
				}
			}
			derived := strings.Join(s.Derived, "\n")
			if _, err := budget.Derive(s); err != nil {
				t.Fatal(err)
			}
			e := s.Spec.Expectations
			if e.ScaleUp == nil || e.ScaleDown == nil || e.ScaleUp.Within.String() != tc.scaleUp || e.ScaleDown.Within.String() != tc.scaleDown {
				t.Errorf("derived expectations %q (before: %q); want scaleUp within %s, scaleDown within %s", s.Derived, derived, tc.scaleUp, tc.scaleDown)
			}
		})
	}
}
