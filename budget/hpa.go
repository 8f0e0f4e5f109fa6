package budget

import (
	"math"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
)

// This file is the HorizontalPodAutoscaler controller's arithmetic, as
// kube-controller-manager documents and implements it (pkg/controller/
// podautoscaler): the replica calculation with its tolerance and its
// treatment of pods without a usable CPU sample, the stabilization windows,
// and the scale-up/scale-down limits — the legacy ones when an HPA has no
// behavior, the policies when it has one. Times are milliseconds.

// Defaults of autoscaling/v2 (k8s.io/kubernetes pkg/apis/autoscaling/v2
// defaults.go) and of kube-controller-manager.
const (
	defaultScaleUpPods    = 4
	defaultScaleUpPercent = 100
	defaultPolicyPeriod   = 15 // seconds, scale-up and scale-down
	defaultScaleDownPct   = 100
	// legacyScaleUpFactor and legacyScaleUpMinimum bound a scale-up of an
	// HPA without behavior to max(2 × current, 4) per sync.
	legacyScaleUpFactor  = 2
	legacyScaleUpMinimum = 4
)

// policy is one HPAScalingPolicy.
type policy struct {
	pods   bool // Pods (else Percent)
	value  int32
	period int64 // ms
}

// rules are one direction's HPAScalingRules, defaults filled in.
type rules struct {
	window   int64 // stabilization window, ms
	policies []policy
	selectP  autoscalingv2.ScalingPolicySelect
}

// controller is one HPA's state in the controller: its recommendations and
// scale events, and its limits.
type controller struct {
	behavior   bool  // the HPA has spec.behavior (else the legacy rules)
	up, down   rules // with behavior
	downWindow int64 // legacy: the controller's --horizontal-pod-autoscaler-downscale-stabilization
	min, max   int32
	recs       []sample // unstabilized recommendations
	upEvents   []sample // with behavior: scale-up changes
	downEvents []sample
}

type sample struct {
	at int64
	n  int32
}

// limit says what bounded a normalized recommendation.
type limit int

const (
	limitNone      limit = iota
	limitRate            // a scale-up or scale-down limit (policies or the legacy max(2×, 4))
	limitStabilize       // a stabilization window held the count
	limitBounds          // min or max replicas
)

// newRules fills an HPAScalingRules with the autoscaling/v2 defaults:
// scale-up window 0, policies Pods 4 and Percent 100 per 15 s, select Max;
// scale-down policy Percent 100 per 15 s, select Max, and its window nil
// (the controller's downscale stabilization then applies: downDefault).
func newRules(r *autoscalingv2.HPAScalingRules, up bool, downDefault int64) rules {
	out := rules{selectP: autoscalingv2.MaxChangePolicySelect}
	if up {
		out.policies = []policy{{pods: true, value: defaultScaleUpPods, period: defaultPolicyPeriod * 1000}, {value: defaultScaleUpPercent, period: defaultPolicyPeriod * 1000}}
	} else {
		out.window = downDefault
		out.policies = []policy{{value: defaultScaleDownPct, period: defaultPolicyPeriod * 1000}}
	}
	if r == nil {
		return out
	}
	if r.SelectPolicy != nil {
		out.selectP = *r.SelectPolicy
	}
	if r.StabilizationWindowSeconds != nil {
		out.window = int64(*r.StabilizationWindowSeconds) * 1000
	}
	if r.Policies != nil {
		out.policies = nil
		for _, p := range r.Policies {
			out.policies = append(out.policies, policy{pods: p.Type == autoscalingv2.PodsScalingPolicy, value: p.Value, period: int64(p.PeriodSeconds) * 1000})
		}
	}
	return out
}

// inWindow reports whether a record taken at `at` is still inside a window
// of length w at time now. A record exactly w old has left it: the
// controller keeps records strictly after now − w, and its syncs drift a
// few milliseconds later each period, so an exact tie resolves this way.
func inWindow(at, now, w int64) bool { return now-at < w }

// normalize turns the unstabilized recommendation raw at time now, with
// current replicas, into the replicas the controller sets, and records the
// recommendation and the scale event as the controller does.
func (c *controller) normalize(now int64, current, raw int32) (int32, limit) {
	var out int32
	var why limit
	if c.behavior {
		out, why = c.withBehavior(now, current, raw)
		switch {
		case out > current:
			c.upEvents = append(c.upEvents, sample{now, out - current})
		case out < current:
			c.downEvents = append(c.downEvents, sample{now, current - out})
		}
	} else {
		out, why = c.legacy(now, current, raw)
	}
	c.recs = append(c.recs, sample{now, raw})
	return out, why
}

// legacy: stabilize a scale-down over the downscale window (the highest
// recommendation within it), then bound a scale-up to max(2 × current, 4).
func (c *controller) legacy(now int64, current, raw int32) (int32, limit) {
	stab := raw
	for _, r := range c.recs {
		if inWindow(r.at, now, c.downWindow) && r.n > stab {
			stab = r.n
		}
	}
	why := limitNone
	if stab != raw {
		why = limitStabilize
	}
	upLimit := max(legacyScaleUpFactor*current, legacyScaleUpMinimum)
	maxAllowed := min(c.max, upLimit)
	switch {
	case stab < c.min:
		return c.min, limitBounds
	case stab > maxAllowed:
		if maxAllowed == c.max && upLimit >= c.max {
			return maxAllowed, limitBounds
		}
		return maxAllowed, limitRate
	}
	return stab, why
}

// withBehavior: the recommendation is held between the lowest of the
// scale-up window and the highest of the scale-down window, then bounded
// by the policies over their periods.
func (c *controller) withBehavior(now int64, current, raw int32) (int32, limit) {
	upRec, downRec := raw, raw
	for _, r := range c.recs {
		if inWindow(r.at, now, c.up.window) {
			upRec = min(upRec, r.n)
		}
		if inWindow(r.at, now, c.down.window) {
			downRec = max(downRec, r.n)
		}
	}
	rec := current
	if rec < upRec {
		rec = upRec
	}
	if rec > downRec {
		rec = downRec
	}
	why := limitNone
	if rec != raw {
		why = limitStabilize
	}
	switch {
	case rec > current:
		lim := scaleUpLimit(now, current, c.upEvents, c.downEvents, c.up)
		if lim < current {
			lim = current
		}
		maxAllowed := min(c.max, lim)
		if rec > maxAllowed {
			if lim >= c.max {
				return maxAllowed, limitBounds
			}
			return maxAllowed, limitRate
		}
	case rec < current:
		lim := scaleDownLimit(now, current, c.upEvents, c.downEvents, c.down)
		if lim > current {
			lim = current
		}
		minAllowed := max(c.min, lim)
		if rec < minAllowed {
			if lim <= c.min {
				return minAllowed, limitBounds
			}
			return minAllowed, limitRate
		}
	}
	if rec < c.min {
		return c.min, limitBounds
	}
	return rec, why
}

// changeInPeriod sums the changes recorded within the last period.
func changeInPeriod(now, period int64, events []sample) int32 {
	var n int32
	for _, e := range events {
		if inWindow(e.at, now, period) {
			n += e.n
		}
	}
	return n
}

// scaleUpLimit is the highest count the scale-up policies allow: each
// policy from the count at the start of its period (current − added +
// removed within it), Pods adding its value, Percent multiplying by
// 1 + value/100 rounded up; select Max takes the largest, Min the smallest,
// Disabled the current count.
func scaleUpLimit(now int64, current int32, up, down []sample, r rules) int32 {
	if r.selectP == autoscalingv2.DisabledPolicySelect {
		return current
	}
	result := int32(math.MinInt32)
	if r.selectP == autoscalingv2.MinChangePolicySelect {
		result = math.MaxInt32
	}
	for _, p := range r.policies {
		start := current - changeInPeriod(now, p.period, up) + changeInPeriod(now, p.period, down)
		var proposed int32
		if p.pods {
			proposed = start + p.value
		} else {
			proposed = int32(math.Ceil(float64(start) * (1 + float64(p.value)/100)))
		}
		if r.selectP == autoscalingv2.MinChangePolicySelect {
			result = min(result, proposed)
		} else {
			result = max(result, proposed)
		}
	}
	return result
}

// scaleDownLimit is the lowest count the scale-down policies allow: Pods
// removes its value, Percent multiplies by 1 − value/100 rounded down;
// select Max takes the lowest count (the largest change), Min the highest.
func scaleDownLimit(now int64, current int32, up, down []sample, r rules) int32 {
	if r.selectP == autoscalingv2.DisabledPolicySelect {
		return current
	}
	result := int32(math.MaxInt32)
	if r.selectP == autoscalingv2.MinChangePolicySelect {
		result = math.MinInt32
	}
	for _, p := range r.policies {
		start := current - changeInPeriod(now, p.period, up) + changeInPeriod(now, p.period, down)
		var proposed int32
		if p.pods {
			proposed = start - p.value
		} else {
			proposed = int32(float64(start) * (1 - float64(p.value)/100))
		}
		if r.selectP == autoscalingv2.MinChangePolicySelect {
			result = max(result, proposed)
		} else {
			result = min(result, proposed)
		}
	}
	return result
}

// cpuDesired is the replica calculation for a CPU utilization target.
// usage holds the utilization ratio (usage ÷ request ÷ target) of each pod
// with a usable sample; others are the pods without one (not ready, or not
// yet a whole metric window since ready, or no sample yet). On a scale-up
// those count as using nothing; if that brings the ratio within the
// tolerance, or turns its direction, the count stays. ok is false when no
// pod has a usable sample (the controller then reports an error and does
// not scale).
func cpuDesired(current int32, usage []float64, others int, tolerance float64) (int32, bool) {
	if len(usage) == 0 {
		return current, false
	}
	var sum float64
	for _, u := range usage {
		sum += u
	}
	ratio := sum / float64(len(usage))
	if others == 0 {
		if math.Abs(1-ratio) <= tolerance {
			return current, true
		}
		return int32(math.Ceil(ratio * float64(len(usage)))), true
	}
	if ratio <= 1 {
		// A scale-down with pods whose sample is missing: the model keeps the
		// count (the controller counts missing ready pods as at the target,
		// which this model does not need: it scales down only with every
		// pod sampled).
		return current, true
	}
	n := len(usage) + others
	newRatio := sum / float64(n)
	if math.Abs(1-newRatio) <= tolerance || newRatio < 1 {
		return current, true
	}
	return int32(math.Ceil(newRatio * float64(n))), true
}

// externalDesired is the replica calculation for an external metric with
// an AverageValue target: ceil(value ÷ target), unless value ÷ (target ×
// current) is within the tolerance.
func externalDesired(current int32, value, target float64, tolerance float64) int32 {
	if current > 0 && math.Abs(1-value/(target*float64(current))) <= tolerance {
		return current
	}
	return int32(math.Ceil(value / target))
}
