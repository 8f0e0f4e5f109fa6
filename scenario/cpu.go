package scenario

import (
	"math"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
)

// CPUCeiling is the highest utilization (percent of the CPU request) a pod
// of the workload can show: its limit ÷ its request × 100, +Inf without a
// limit or request.
func (w *Workload) CPUCeiling() float64 {
	lim, err1 := resource.ParseQuantity(w.Resources.Limits.CPU)
	req, err2 := resource.ParseQuantity(w.Resources.Requests.CPU)
	if err1 != nil || err2 != nil || req.MilliValue() <= 0 || lim.MilliValue() <= 0 {
		return math.Inf(1)
	}
	return float64(lim.MilliValue()) / float64(req.MilliValue()) * 100
}

// CPUStepAt is one step of a CPU profile placed in time, with the
// utilization the pods reach (capped at the limit).
type CPUStepAt struct {
	Start, End time.Duration
	// Utilization is the step's, Effective what a pod can use of it
	// (capped at its CPU limit).
	Utilization, Effective float64
}

// CPUProfile places a cpu load's steps in time from the load start; Stop
// is the load's end as the expectations count it: the start of the last
// run of steps below the autoscaler's target (the moment it has reason to
// scale down), or the profile's end when the last step is not below it.
// Peak is the first step whose effective utilization is the profile's
// highest. Nil for other loads.
func (s *Scenario) CPUProfile() (steps []CPUStepAt, stop time.Duration, peak int) {
	l := s.Spec.Load
	if l.Type != LoadCPU || l.CPU == nil {
		return nil, 0, 0
	}
	ceil := s.Spec.Workload.CPUCeiling()
	var at time.Duration
	for i, st := range l.CPU.Profile {
		eff := math.Min(st.Utilization.Value, ceil)
		steps = append(steps, CPUStepAt{Start: at, End: at + st.For.Duration, Utilization: st.Utilization.Value, Effective: eff})
		if eff > steps[peak].Effective {
			peak = i
		}
		at += st.For.Duration
	}
	stop = at
	target := float64(50)
	if t := s.Spec.Autoscaler.CPUUtilization; t != nil {
		target = float64(*t)
	}
	for i := len(steps) - 1; i >= 0 && steps[i].Effective < target; i-- {
		stop = steps[i].Start
	}
	return steps, stop, peak
}
