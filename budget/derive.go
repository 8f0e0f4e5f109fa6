package budget

import (
	"fmt"
	"math"
	"time"

	"k8s.io/utils/ptr"

	"github.com/scalebench/scalebench/scenario"
)

// MarginRule is how Derive turns a budget into an expectation.
const MarginRule = "expectation = budget (slowest alignment) + max(one HPA sync period, 20 % of the budget), rounded up to a whole second"

// Margin is what Derive adds to a budget of d seconds on a cluster whose
// HPA syncs every sync: room for a busy machine's scheduling and the API's
// watch latency.
func Margin(d float64, sync time.Duration) time.Duration {
	return max(sync, time.Duration(d*0.2*float64(time.Second)))
}

func within(d float64, sync time.Duration) scenario.Duration {
	total := d + Margin(d, sync).Seconds()
	return scenario.D(time.Duration(math.Ceil(total)) * time.Second)
}

// Derive fills the expectations a defaulted scenario leaves out from its
// budget on a cluster with the default knobs: scaleUp (maxReplicas Ready
// within the reach-max budget), scaleDown (back at minReplicas within the
// back-to-min budget) and, for scaling from zero, activation (within the
// first-scale-up budget), each with the margin of MarginRule. It returns a
// sentence per derived expectation (also kept in s.Derived, for the report)
// and leaves every expectation the scenario gives untouched.
func Derive(s *scenario.Scenario) ([]string, error) {
	return DeriveCluster(s, DefaultCluster())
}

// DeriveCluster is Derive with a cluster's knobs.
func DeriveCluster(s *scenario.Scenario, c Cluster) ([]string, error) {
	e := &s.Spec.Expectations
	a := s.Spec.Autoscaler
	if e.ScaleUp != nil && e.ScaleDown != nil && (e.Activation != nil || *a.MinReplicas > 0) {
		return nil, nil
	}
	b, err := ForCluster(*s, c)
	if err != nil {
		return nil, err
	}
	var out []string
	if e.ScaleUp == nil && b.ReachMaxNote != "" {
		out = append(out, "scaleUp: not derived: "+b.ReachMaxNote)
	}
	if e.ScaleUp == nil && b.ReachMax != nil && b.ReachMaxNote == "" {
		w := within(b.ReachMax.MaxSeconds, c.SyncPeriod)
		e.ScaleUp = &scenario.ScaleUpExpectation{Replicas: a.MaxReplicas, Within: w}
		out = append(out, fmt.Sprintf("scaleUp: %d replicas Ready within %s (derived: reach-max budget %s s, dominated by %s, + margin)", a.MaxReplicas, w, Seconds(b.ReachMax.MaxSeconds), b.ReachMax.Dominant))
	}
	if e.ScaleDown == nil && b.BackToMin != nil {
		w := within(b.BackToMin.MaxSeconds, c.SyncPeriod)
		e.ScaleDown = &scenario.ScaleDownExpectation{Replicas: ptr.To(*a.MinReplicas), Within: w}
		out = append(out, fmt.Sprintf("scaleDown: back at %d replicas within %s of the load end (derived: back-to-min budget %s s, dominated by %s, + margin)", *a.MinReplicas, w, Seconds(b.BackToMin.MaxSeconds), b.BackToMin.Dominant))
	}
	if e.Activation == nil && *a.MinReplicas == 0 && b.FirstScaleUp != nil {
		w := within(b.FirstScaleUp.MaxSeconds, c.SyncPeriod)
		e.Activation = &scenario.ActivationExpectation{Within: w}
		out = append(out, fmt.Sprintf("activation: 0 → 1 within %s (derived: first-scale-up budget %s s, dominated by %s, + margin)", w, Seconds(b.FirstScaleUp.MaxSeconds), b.FirstScaleUp.Dominant))
	}
	s.Derived = append(s.Derived, out...)
	return out, nil
}
