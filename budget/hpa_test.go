package budget

import (
	"testing"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/utils/ptr"
)

const sec = int64(1000)

// scaleUpSequence drives a controller with a saturating recommendation at
// syncs 15 s apart and returns the counts it sets.
func scaleUpSequence(c *controller, from int32) []int32 {
	seq := []int32{from}
	cur := from
	for k := int64(1); k <= 20 && cur < c.max; k++ {
		n, _ := c.normalize(k*15*sec, cur, saturated)
		if n != cur {
			seq = append(seq, n)
			cur = n
		}
	}
	return seq
}

func equal(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestScaleUpLimits(t *testing.T) {
	pods := autoscalingv2.PodsScalingPolicy
	pct := autoscalingv2.PercentScalingPolicy
	for _, tc := range []struct {
		name     string
		behavior *autoscalingv2.HorizontalPodAutoscalerBehavior
		max      int32
		want     []int32
	}{
		// No behavior: max(2 × current, 4) per sync, the seed HPA table.
		{"legacy", nil, 10, []int32{1, 4, 8, 10}},
		{"legacy to 20", nil, 20, []int32{1, 4, 8, 16, 20}},
		// Behavior defaults: max(100 %, 4 pods) per 15 s.
		{"behavior defaults", &autoscalingv2.HorizontalPodAutoscalerBehavior{}, 20, []int32{1, 5, 10, 20}},
		{"percent 100 only", &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: &autoscalingv2.HPAScalingRules{
			Policies: []autoscalingv2.HPAScalingPolicy{{Type: pct, Value: 100, PeriodSeconds: 15}}}}, 10, []int32{1, 2, 4, 8, 10}},
		{"min of pods 4 and percent 100", &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: &autoscalingv2.HPAScalingRules{
			SelectPolicy: ptr.To(autoscalingv2.MinChangePolicySelect),
			Policies:     []autoscalingv2.HPAScalingPolicy{{Type: pods, Value: 4, PeriodSeconds: 15}, {Type: pct, Value: 100, PeriodSeconds: 15}}}}, 10, []int32{1, 2, 4, 8, 10}},
		// A period of 60 s counts the changes of the last 60 s: 2 pods per
		// minute, whatever the sync.
		{"pods 2 per 60 s", &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: &autoscalingv2.HPAScalingRules{
			Policies: []autoscalingv2.HPAScalingPolicy{{Type: pods, Value: 2, PeriodSeconds: 60}}}}, 7, []int32{1, 3, 5, 7}},
		{"disabled", &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: &autoscalingv2.HPAScalingRules{
			SelectPolicy: ptr.To(autoscalingv2.DisabledPolicySelect)}}, 10, []int32{1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := testController(tc.behavior, 1, tc.max)
			if got := scaleUpSequence(c, 1); !equal(got, tc.want) {
				t.Errorf("steps %v, want %v", got, tc.want)
			}
		})
	}
}

func TestPodsPerMinuteSpacing(t *testing.T) {
	b := &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: &autoscalingv2.HPAScalingRules{
		Policies: []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PodsScalingPolicy, Value: 2, PeriodSeconds: 60}}}}
	c := testController(b, 1, 7)
	var at []int64
	cur := int32(1)
	for k := int64(1); k <= 20; k++ {
		if n, _ := c.normalize(k*15*sec, cur, saturated); n != cur {
			at = append(at, k*15)
			cur = n
		}
	}
	// A change exactly one period old has left the period.
	if want := []int64{15, 75, 135}; len(at) != 3 || at[0] != want[0] || at[1] != want[1] || at[2] != want[2] {
		t.Errorf("steps at %v s, want %v", at, want)
	}
}

func testController(b *autoscalingv2.HorizontalPodAutoscalerBehavior, min, max int32) *controller {
	c := &controller{behavior: b != nil, downWindow: 300 * sec, min: min, max: max}
	if b != nil {
		c.up = newRules(b.ScaleUp, true, 300*sec)
		c.down = newRules(b.ScaleDown, false, 300*sec)
	}
	return c
}

func TestScaleDownStabilization(t *testing.T) {
	for _, tc := range []struct {
		name     string
		behavior *autoscalingv2.HorizontalPodAutoscalerBehavior
		// first sync (s after the drop) at which the count falls, and to what
		wantAt int64
		wantTo int32
	}{
		// The controller's --horizontal-pod-autoscaler-downscale-stabilization (5 m).
		{"legacy 300 s", nil, 300, 1},
		{"behavior without a window: the controller's 300 s", &autoscalingv2.HorizontalPodAutoscalerBehavior{}, 300, 1},
		{"window 60 s", &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleDown: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: ptr.To[int32](60)}}, 60, 1},
		// 50 % per 60 s from 10: 5 at the first allowed sync.
		{"window 0, 50 % per 60 s", &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleDown: &autoscalingv2.HPAScalingRules{
			StabilizationWindowSeconds: ptr.To[int32](0),
			Policies:                   []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PercentScalingPolicy, Value: 50, PeriodSeconds: 60}}}}, 15, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := testController(tc.behavior, 1, 10)
			// Recommendations of 10 up to t = 0, then 1.
			for k := int64(-20); k <= 0; k++ {
				c.normalize(k*15*sec, 10, 10)
			}
			for k := int64(1); k <= 30; k++ {
				if n, _ := c.normalize(k*15*sec, 10, 1); n != 10 {
					if k*15 != tc.wantAt || n != tc.wantTo {
						t.Errorf("fell to %d at %d s, want %d at %d s", n, k*15, tc.wantTo, tc.wantAt)
					}
					return
				}
			}
			t.Errorf("never fell; want %d at %d s", tc.wantTo, tc.wantAt)
		})
	}
}

func TestUpscaleStabilizationWindow(t *testing.T) {
	b := &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: ptr.To[int32](60)}}
	c := testController(b, 1, 10)
	for k := int64(-10); k <= 0; k++ {
		c.normalize(k*15*sec, 1, 1)
	}
	// The lowest recommendation of the last 60 s holds the count: the rise
	// from 15 s on shows when the last low recommendation (at 0 s) is a
	// whole window old.
	for k := int64(1); k <= 10; k++ {
		n, why := c.normalize(k*15*sec, 1, 10)
		if n != 1 {
			if k*15 != 60 {
				t.Errorf("rose at %d s, want 60 s", k*15)
			}
			return
		}
		if why != limitStabilize {
			t.Errorf("at %d s held for %v, want the stabilization window", k*15, why)
		}
	}
	t.Error("never rose")
}

func TestCPUDesired(t *testing.T) {
	for _, tc := range []struct {
		name    string
		current int32
		usage   []float64
		others  int
		want    int32
		ok      bool
	}{
		{"ceil(current × metric/target)", 1, []float64{10}, 0, 10, true},
		{"ceil of a fraction", 3, []float64{1.5, 1.5, 1.5}, 0, 5, true},
		{"within tolerance 0.1: no change", 4, []float64{1.09, 1.09, 1.09, 1.09}, 0, 4, true},
		{"just beyond the tolerance", 4, []float64{1.11, 1.11, 1.11, 1.11}, 0, 5, true},
		{"below target beyond tolerance", 4, []float64{0.5, 0.5, 0.5, 0.5}, 0, 2, true},
		{"pods without a sample count as 0 on a scale-up", 4, []float64{10}, 3, 10, true},
		{"which can bring the ratio under 1: no change", 4, []float64{2}, 3, 4, true},
		{"or within the tolerance: no change", 2, []float64{2.09}, 1, 2, true},
		{"no sample at all: no decision", 3, nil, 3, 3, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := cpuDesired(tc.current, tc.usage, tc.others, 0.1)
			if got != tc.want || ok != tc.ok {
				t.Errorf("cpuDesired = %d, %v; want %d, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestExternalDesired(t *testing.T) {
	if got := externalDesired(2, 1000, 10, 0.1); got != 100 {
		t.Errorf("1000 messages at 10 per replica: %d, want 100", got)
	}
	if got := externalDesired(10, 105, 10, 0.1); got != 10 {
		t.Errorf("within tolerance: %d, want 10", got)
	}
	if got := externalDesired(10, 0, 10, 0.1); got != 0 {
		t.Errorf("empty queue: %d, want 0", got)
	}
}
