// Package budget computes the reaction budget a scenario's autoscaler knobs
// imply: how long, at most, the autoscaler should take to first scale up,
// to have maxReplicas Ready under a saturating load, and to be back at its
// minimum (or zero) after the load ends; the replica steps it should take on
// the way; and which knob dominates each figure. It is pure: no cluster, no
// clock.
//
// The model is the HorizontalPodAutoscaler controller's documented
// arithmetic (desired = ceil(current × metric ÷ target), skipped within the
// tolerance of 0.1; pods without a whole CPU sample since Ready count as
// using nothing on a scale-up; stabilization windows; the scale-up and
// scale-down policies of spec.behavior, or max(2 × current, 4) per sync
// without one), run at the HPA's sync period against metrics-server's
// scrapes (one window each) and, for KEDA, its polls: pollingInterval
// governs 0 ↔ 1 only, 1 ↔ N follows the HPA sync, and cooldownPeriod (the
// HTTP add-on's scaledownPeriod) the return to zero. Each clock's alignment
// with the load start is swept: the slowest alignment gives the budget
// (MaxSeconds), the fastest MinSeconds. A saturating load keeps every Ready
// pod at its CPU limit (an external metric above maxReplicas × target) from
// the load start to its end; the scale-down starts from a steady state at
// maxReplicas.
//
// Callers:
//
//	b, err := budget.For(s)                 // scenario knobs, Kubernetes' default cluster knobs
//	b, err := budget.ForCluster(s, cluster) // with the cluster's knobs in force
//	b, err := budget.ForSpec(spec, cluster) // an autoscaler described directly (e.g. from manifests)
//	derived, err := budget.Derive(s)        // fill the expectations a scenario leaves out
//
// b.FirstScaleUp, b.ReachMax and b.BackToMin compare with a report's
// firstScaleUpSeconds, timeToPeakSeconds (when the peak is maxReplicas) and
// scaleDownSeconds; b.Parameters lists every input with its source.
package budget

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/scalebench/scalebench/scenario"
)

// Knob names, as a budget's terms and dominant knobs name them. The
// cluster's are the keys of a report's environment.knobs.
const (
	KnobMetricResolution       = "metricsServer.metricResolution"
	KnobSyncPeriod             = "hpa.syncPeriod"
	KnobDownscaleStabilization = "hpa.downscaleStabilization"
	KnobLegacyScaleUpLimit     = "hpa.scaleUpLimit (no behavior: max(2 × current, 4) per sync)"
	KnobScaleUpPolicies        = "behavior.scaleUp.policies"
	KnobScaleUpWindow          = "behavior.scaleUp.stabilizationWindowSeconds"
	KnobScaleDownPolicies      = "behavior.scaleDown.policies"
	KnobScaleDownWindow        = "behavior.scaleDown.stabilizationWindowSeconds"
	KnobPollingInterval        = "keda.pollingInterval"
	KnobCooldownPeriod         = "keda.cooldownPeriod"
	KnobHTTPPolling            = "keda-http activation (the add-on scaler's external-push, with either API)"
	KnobScaledownPeriod        = "keda-http.scaledownPeriod"
	KnobStartup                = "workload.startupLatency"
)

// Metric kinds the model drives.
const (
	MetricCPU      = "cpu-utilization"
	MetricExternal = "external"
)

// Cluster holds the cluster-wide knobs (kube-controller-manager's and
// metrics-server's flags).
type Cluster struct {
	// SyncPeriod is --horizontal-pod-autoscaler-sync-period.
	SyncPeriod time.Duration
	// MetricResolution is metrics-server's --metric-resolution: its scrape
	// period and the window of each CPU sample.
	MetricResolution time.Duration
	// Tolerance is --horizontal-pod-autoscaler-tolerance.
	Tolerance float64
	// DownscaleStabilization is
	// --horizontal-pod-autoscaler-downscale-stabilization, the scale-down
	// window of an HPA whose behavior does not set one.
	DownscaleStabilization time.Duration
	// StartupLatency is pod created → Ready when the scenario gives none.
	StartupLatency time.Duration
	// HTTPAddonPolling is how soon KEDA learns that a keda-http workload at
	// zero has requests: the add-on's scaler pushes activity through the
	// ScaledObject's external-push trigger (the InterceptorRoute's, or the
	// one the add-on makes of an HTTPScaledObject), not at its
	// pollingInterval.
	HTTPAddonPolling time.Duration
}

// DefaultCluster is Kubernetes' and metrics-server's defaults (sync 15 s,
// resolution 15 s as the usual manifests set it, tolerance 0.1, downscale
// stabilization 5 m), a Spin pod's start-up (≈ 1 s through containerd) and
// the HTTP add-on's polling (1 s).
func DefaultCluster() Cluster {
	return Cluster{
		SyncPeriod:             15 * time.Second,
		MetricResolution:       15 * time.Second,
		Tolerance:              0.1,
		DownscaleStabilization: 5 * time.Minute,
		StartupLatency:         time.Second,
		HTTPAddonPolling:       time.Second,
	}
}

// Spec is an autoscaler as the model sees it.
type Spec struct {
	// Autoscaler names it (a scenario's autoscaler type, or a manifest kind).
	Autoscaler string
	// Metric is MetricCPU (a CPU utilization target) or MetricExternal (an
	// AverageValue target on a KEDA scaler's metric).
	Metric string
	// MinReplicas is the workload's floor: 0 when KEDA scales it to zero.
	MinReplicas int32
	MaxReplicas int32
	// TargetUtilization (percent of the CPU request), CPURequest and
	// CPULimit: MetricCPU. A saturated pod runs at its limit.
	TargetUtilization int32
	CPURequest        resource.Quantity
	CPULimit          resource.Quantity
	// Behavior is the HPA's spec.behavior (nil: the legacy limits).
	Behavior *autoscalingv2.HorizontalPodAutoscalerBehavior
	// Activation is the period of KEDA's 0 ↔ 1 check and ActivationKnob
	// its name; Cooldown and CooldownKnob the wait before scaling to zero.
	Activation     time.Duration
	ActivationKnob string
	Cooldown       time.Duration
	CooldownKnob   string
	// StartupLatency is pod created → Ready (0: the cluster's).
	StartupLatency time.Duration
	// Tail is what each pod uses after the load end, step by step (a CPU
	// profile's last run of steps below the target); the pods are idle
	// after its last step. Nil: idle from the load end (a saturating load
	// that stops). MetricCPU only.
	Tail []TailStep
	// Sources say where each input came from, by Parameter name.
	Sources map[string]string
}

// TailStep is one step of a Spec's Tail.
type TailStep struct {
	// Utilization is the percent of the CPU request each pod uses (capped
	// at its limit).
	Utilization float64
	For         time.Duration
}

// Budget is what the knobs imply.
type Budget struct {
	Autoscaler string `json:"autoscaler"`
	Metric     string `json:"metric"`
	// Load states the model's load.
	Load string `json:"load"`
	// Parameters are every input of the model, with its value and source.
	Parameters []Parameter `json:"parameters"`
	// FirstScaleUp: load start → spec.replicas first raised (KEDA's
	// activation when scaling from zero).
	FirstScaleUp *Estimate `json:"firstScaleUp,omitempty"`
	// ReachMax: load start → maxReplicas Ready.
	ReachMax *Estimate `json:"reachMax,omitempty"`
	// BackToMin: load end → spec.replicas back at the minimum (or zero).
	BackToMin *Estimate `json:"backToMin,omitempty"`
	// Steps are the predicted replica steps of the slowest alignment, from
	// the load start; ScaleDownSteps from the load end.
	Steps          []Step `json:"steps,omitempty"`
	ScaleDownSteps []Step `json:"scaleDownSteps,omitempty"`
	// NoScaleUp says why no scale-up is predicted (e.g. a saturated pod
	// does not exceed the target by more than the tolerance).
	NoScaleUp string `json:"noScaleUp,omitempty"`
	// Margin is what Derive adds to a budget to make an expectation.
	MarginRule string `json:"marginRule"`
	// PeakStepSeconds is a CPU profile's peak step length; ReachMaxNote says
	// when it is shorter than the reach-max budget (nothing is derived then).
	PeakStepSeconds float64 `json:"peakStepSeconds,omitempty"`
	ReachMaxNote    string  `json:"reachMaxNote,omitempty"`
}

// Estimate is one predicted duration.
type Estimate struct {
	// Replicas is the count it is about (the maximum, or the minimum).
	Replicas int32 `json:"replicas"`
	// From is "load start" or "load end".
	From string `json:"from"`
	// Observed is the report metric it compares with.
	Observed string `json:"observed"`
	// MinSeconds is the fastest alignment of the clocks, MaxSeconds the
	// slowest: the budget.
	MinSeconds float64 `json:"minSeconds"`
	MaxSeconds float64 `json:"maxSeconds"`
	// Terms break MaxSeconds down by the knob each wait is owed to.
	Terms []Term `json:"terms"`
	// Dominant is the knob with the largest term.
	Dominant string `json:"dominant"`
}

// Term is the share of an estimate owed to one knob.
type Term struct {
	Knob    string  `json:"knob"`
	Seconds float64 `json:"seconds"`
}

// Step is one predicted change of spec.replicas.
type Step struct {
	AtSeconds float64 `json:"atSeconds"`
	From      int32   `json:"from"`
	To        int32   `json:"to"`
	// Why says what bounded it (a policy, the metric, maxReplicas, ...).
	Why string `json:"why"`
}

// Parameter is one input of the model.
type Parameter struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Source string `json:"source"`
}

// Sources of parameters.
const (
	SourceScenario = "scenario"
	SourceDefault  = "default"
	SourceCluster  = "cluster default"
)

// For is the budget of a scenario's knobs on a cluster with Kubernetes'
// default knobs (DefaultCluster).
func For(s scenario.Scenario) (Budget, error) { return ForCluster(s, DefaultCluster()) }

// ForCluster is the budget of a scenario's knobs on a cluster with c's.
func ForCluster(s scenario.Scenario, c Cluster) (Budget, error) {
	sp, err := SpecOf(s)
	if err != nil {
		return Budget{}, err
	}
	b, err := ForSpec(sp, c)
	if err != nil {
		return b, err
	}
	if steps, stop, peak := s.CPUProfile(); len(steps) > 0 {
		cpuProfile(&b, steps, stop, peak)
	}
	return b, nil
}

// KnobCPUProfile names the part of a budget owed to a CPU profile's steps
// before its peak.
const KnobCPUProfile = "load.cpu.profile (steps before the peak)"

// KnobCPUProfileTail names the part of a scale-down owed to a CPU profile's
// steps after the load end (its use keeping the metric from asking for
// fewer replicas).
const KnobCPUProfileTail = "load.cpu.profile (steps after the load end)"

// cpuProfile places a budget computed for the profile's peak level (SpecOf)
// in the profile: the scale-up figures and steps count from the load start,
// so the steps before the peak are added; the scale-down counts from the
// load end (the start of the last run of steps below the target).
func cpuProfile(b *Budget, steps []scenario.CPUStepAt, stop time.Duration, peak int) {
	p := steps[peak]
	off := p.Start.Seconds()
	b.Load = fmt.Sprintf("CPU profile: its peak step (%g%% of the request from %s to %s, a pod reaching %g%%) as the saturating load; %s; load end at %s (the last run of steps below the target)",
		p.Utilization, p.Start, p.End, p.Effective, b.Load, stop)
	b.PeakStepSeconds = (p.End - p.Start).Seconds()
	for _, e := range []*Estimate{b.FirstScaleUp, b.ReachMax} {
		if e == nil || off == 0 {
			continue
		}
		e.MinSeconds += off
		e.MaxSeconds += off
		e.Terms = append(e.Terms, Term{Knob: KnobCPUProfile, Seconds: off})
		sortTerms(e.Terms)
		e.Dominant = dominant(e.Terms)
	}
	for i := range b.Steps {
		b.Steps[i].AtSeconds += off
	}
	if b.ReachMax != nil && b.ReachMax.MaxSeconds-off > b.PeakStepSeconds {
		b.ReachMaxNote = fmt.Sprintf("the peak step lasts %.0f s, less than the %.1f s the knobs need to reach %d replicas: the maximum may not be reached", b.PeakStepSeconds, b.ReachMax.MaxSeconds-off, b.ReachMax.Replicas)
	}
}

// SpecOf describes a (defaulted) scenario's autoscaler for the model.
func SpecOf(s scenario.Scenario) (Spec, error) {
	a := s.Spec.Autoscaler
	w := s.Spec.Workload
	if a.MinReplicas == nil {
		return Spec{}, fmt.Errorf("budget: scenario %s: autoscaler.minReplicas unset (defaults not applied)", s.Metadata.Name)
	}
	sp := Spec{
		Autoscaler:     a.Type,
		MinReplicas:    *a.MinReplicas,
		MaxReplicas:    a.MaxReplicas,
		Behavior:       a.Behavior,
		StartupLatency: w.Emulation.StartupLatency.Duration,
		Sources:        map[string]string{},
	}
	if sp.StartupLatency > 0 {
		sp.Sources["startupLatency"] = SourceScenario
	}
	src := func(name string, set bool) {
		if set {
			sp.Sources[name] = SourceScenario
		} else {
			sp.Sources[name] = SourceDefault
		}
	}
	switch a.Type {
	case scenario.HPA, scenario.KEDACPU:
		sp.Metric = MetricCPU
		if a.CPUUtilization == nil {
			return Spec{}, fmt.Errorf("budget: scenario %s: autoscaler.cpuUtilization unset", s.Metadata.Name)
		}
		sp.TargetUtilization = *a.CPUUtilization
		var err error
		if sp.CPURequest, err = resource.ParseQuantity(w.Resources.Requests.CPU); err != nil {
			return Spec{}, fmt.Errorf("budget: scenario %s: workload.resources.requests.cpu: %w", s.Metadata.Name, err)
		}
		if w.Resources.Limits.CPU != "" {
			if sp.CPULimit, err = resource.ParseQuantity(w.Resources.Limits.CPU); err != nil {
				return Spec{}, fmt.Errorf("budget: scenario %s: workload.resources.limits.cpu: %w", s.Metadata.Name, err)
			}
		}
		if steps, stop, peak := s.CPUProfile(); len(steps) > 0 {
			// A CPU profile's peak holds each pod at that share of its
			// request (capped at its limit): the model's saturated pod.
			milli := int64(math.Round(steps[peak].Effective / 100 * float64(sp.CPURequest.MilliValue())))
			sp.CPULimit = *resource.NewMilliQuantity(milli, resource.DecimalSI)
			sp.Sources["cpuProfilePeak"] = SourceScenario
			// Its steps from the load end on are what the scale-down reads.
			for _, st := range steps {
				if st.Start >= stop && st.End > st.Start {
					sp.Tail = append(sp.Tail, TailStep{Utilization: st.Effective, For: st.End - st.Start})
				}
			}
		}
	case scenario.KEDASQS:
		sp.Metric = MetricExternal
		sp.Activation = secs(a.PollingInterval, 30)
		sp.ActivationKnob = KnobPollingInterval
		sp.Cooldown = secs(a.CooldownPeriod, 300)
		sp.CooldownKnob = KnobCooldownPeriod
		src("pollingInterval", a.PollingInterval != nil)
		src("cooldownPeriod", a.CooldownPeriod != nil)
	case scenario.KEDAHTTP:
		sp.Metric = MetricExternal
		sp.ActivationKnob = KnobHTTPPolling
		sp.Cooldown = secs(a.ScaledownPeriod, 300)
		sp.CooldownKnob = KnobScaledownPeriod
		src("scaledownPeriod", a.ScaledownPeriod != nil)
	default:
		return Spec{}, fmt.Errorf("budget: scenario %s: autoscaler type %q has no model (allowed: %v)", s.Metadata.Name, a.Type, scenario.AutoscalerTypes)
	}
	if a.Type == scenario.KEDACPU {
		// KEDA's polling does not touch a CPU trigger's 1 ↔ N, and cpu
		// triggers cannot scale to zero.
		sp.ActivationKnob = KnobPollingInterval
	}
	return sp, nil
}

func secs(p *int32, def int32) time.Duration {
	if p != nil {
		return time.Duration(*p) * time.Second
	}
	return time.Duration(def) * time.Second
}

// ErrInvalid marks a Spec the model cannot evaluate.
var ErrInvalid = errors.New("budget: invalid autoscaler")

// ForSpec is the budget of an autoscaler described directly.
func ForSpec(sp Spec, c Cluster) (Budget, error) {
	m, err := newModel(sp, c)
	if err != nil {
		return Budget{}, err
	}
	b := Budget{Autoscaler: sp.Autoscaler, Metric: sp.Metric, Parameters: m.parameters(c), MarginRule: MarginRule}
	if sp.Metric == MetricCPU {
		b.Load = fmt.Sprintf("saturating: every Ready pod at its CPU limit (%s of a %s request, %.0f%% utilization = %.2f × the %d%% target) from the load start to its end",
			sp.CPULimit.String(), sp.CPURequest.String(), m.ratio*float64(sp.TargetUtilization), m.ratio, sp.TargetUtilization)
		if m.tailBusy {
			b.Load += fmt.Sprintf("; after the load end each pod uses, of its request, %s, then nothing, each scrape of that read at its level and ±%g%% (the tolerance) around it", tailText(sp.Tail), m.tol*100)
		}
	} else {
		b.Load = "saturating: the scaler's metric above maxReplicas × its target from the load start to its end, zero after"
	}
	if sp.MaxReplicas > max(sp.MinReplicas, 1) || sp.MinReplicas == 0 {
		if !m.external && m.ratio <= 1+m.tol {
			b.NoScaleUp = fmt.Sprintf("a saturated pod uses %s of its %s CPU request: %.0f%% utilization, not above the %d%% target by more than the tolerance (%.0f%%), so the HPA never scales up; raise the limit or lower the request or the target",
				sp.CPULimit.String(), sp.CPURequest.String(), m.ratio*float64(sp.TargetUtilization), sp.TargetUtilization, m.tol*100)
		} else {
			m.sweepUp(&b)
		}
	} else {
		b.NoScaleUp = fmt.Sprintf("maxReplicas (%d) leaves no room above the starting count", sp.MaxReplicas)
	}
	if b.NoScaleUp == "" {
		m.sweepDown(&b)
	}
	return b, nil
}

func newModel(sp Spec, c Cluster) (*model, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w %s: %s", ErrInvalid, sp.Autoscaler, fmt.Sprintf(format, args...))
	}
	if c.SyncPeriod <= 0 || c.MetricResolution <= 0 {
		return nil, bad("cluster sync period and metric resolution must be positive")
	}
	if sp.MaxReplicas < 1 || sp.MinReplicas < 0 || sp.MaxReplicas < sp.MinReplicas {
		return nil, bad("replicas min %d max %d: want 0 <= min <= max, max >= 1", sp.MinReplicas, sp.MaxReplicas)
	}
	m := &model{
		spec:     sp,
		external: sp.Metric == MetricExternal,
		tol:      c.Tolerance,
		sync:     c.SyncPeriod.Milliseconds(),
		res:      c.MetricResolution.Milliseconds(),
		startup:  c.StartupLatency.Milliseconds(),
		hpaMin:   max(sp.MinReplicas, 1),
		behavior: sp.Behavior != nil,
		downFlag: c.DownscaleStabilization.Milliseconds(),
	}
	if sp.StartupLatency > 0 {
		m.startup = sp.StartupLatency.Milliseconds()
	}
	switch sp.Metric {
	case MetricCPU:
		if sp.MinReplicas == 0 {
			return nil, bad("minReplicas 0 with a CPU metric: a CPU metric cannot wake a workload at zero")
		}
		if sp.TargetUtilization < 1 {
			return nil, bad("CPU target utilization %d%%: want >= 1", sp.TargetUtilization)
		}
		if sp.CPURequest.IsZero() {
			return nil, bad("a CPU utilization target needs a CPU request")
		}
		lim := sp.CPULimit
		if lim.IsZero() {
			return nil, bad("no CPU limit: a saturated pod's usage is unbounded; the model needs a CPU limit")
		}
		m.ratio = float64(lim.MilliValue()) / float64(sp.CPURequest.MilliValue()) * 100 / float64(sp.TargetUtilization)
	case MetricExternal:
		if sp.MinReplicas == 0 && sp.Activation <= 0 {
			if sp.ActivationKnob == KnobHTTPPolling {
				sp.Activation = c.HTTPAddonPolling
				m.spec.Activation = c.HTTPAddonPolling
			} else {
				return nil, bad("scale from zero needs a positive activation (polling) period")
			}
		}
		if sp.MinReplicas == 0 && sp.Cooldown <= 0 {
			return nil, bad("scale to zero needs a positive cooldown")
		}
	default:
		return nil, bad("metric %q: allowed: %s, %s", sp.Metric, MetricCPU, MetricExternal)
	}
	if len(sp.Tail) > 0 {
		if m.external {
			return nil, bad("a tail of CPU use after the load end needs a CPU metric")
		}
		var at int64
		for i, st := range sp.Tail {
			if st.Utilization < 0 || math.IsNaN(st.Utilization) || math.IsInf(st.Utilization, 0) || st.For <= 0 {
				return nil, bad("tail step %d: %g%% for %s: want a non-negative utilization for a positive duration", i, st.Utilization, st.For)
			}
			end := at + st.For.Milliseconds()
			m.tail = append(m.tail, tailSeg{start: at, end: end, ratio: st.Utilization / float64(sp.TargetUtilization)})
			if st.Utilization > 0 {
				m.tailBusy = true
			}
			at = end
		}
	}
	m.poll = m.spec.Activation.Milliseconds()
	m.cooldown = sp.Cooldown.Milliseconds()
	if m.behavior {
		m.up = newRules(sp.Behavior.ScaleUp, true, m.downFlag)
		m.down = newRules(sp.Behavior.ScaleDown, false, m.downFlag)
	}
	return m, nil
}

// parameters lists the model's inputs.
func (m *model) parameters(c Cluster) []Parameter {
	sp := m.spec
	src := func(name, def string) string {
		if s, ok := sp.Sources[name]; ok {
			return s
		}
		return def
	}
	ps := []Parameter{
		{KnobSyncPeriod, c.SyncPeriod.String(), SourceCluster},
		{"hpa.tolerance", strconv.FormatFloat(c.Tolerance, 'f', -1, 64), SourceCluster},
		{"minReplicas", fmt.Sprint(sp.MinReplicas), SourceScenario},
		{"maxReplicas", fmt.Sprint(sp.MaxReplicas), SourceScenario},
		{KnobStartup, time.Duration(m.startup * int64(time.Millisecond)).String(), src("startupLatency", SourceCluster)},
	}
	if !m.external {
		limitName := "cpu request / limit"
		if _, ok := sp.Sources["cpuProfilePeak"]; ok {
			limitName = "cpu request / a pod's use at the CPU profile's peak (capped at the limit)"
		}
		ps = append(ps,
			Parameter{KnobMetricResolution, c.MetricResolution.String(), SourceCluster},
			Parameter{"targetCPUUtilization", fmt.Sprintf("%d%%", sp.TargetUtilization), SourceScenario},
			Parameter{limitName, sp.CPURequest.String() + " / " + sp.CPULimit.String(), SourceScenario},
			Parameter{"saturation ratio (limit ÷ request ÷ target)", strconv.FormatFloat(m.ratio, 'f', 2, 64), "derived"},
		)
	}
	if m.tailBusy {
		ps = append(ps,
			Parameter{KnobCPUProfileTail + ", percent of the request", tailText(sp.Tail) + ", then idle", SourceScenario},
			Parameter{"tail reading band", fmt.Sprintf("±%g%% of each tail level", m.tol*100), "the HPA tolerance"},
		)
	}
	if m.behavior {
		ps = append(ps,
			Parameter{KnobScaleUpPolicies, policyText(m.up), SourceScenario + " (defaults filled in)"},
			Parameter{KnobScaleUpWindow, time.Duration(m.up.window * int64(time.Millisecond)).String(), SourceScenario + " (defaults filled in)"},
			Parameter{KnobScaleDownPolicies, policyText(m.down), SourceScenario + " (defaults filled in)"},
			Parameter{KnobScaleDownWindow, time.Duration(m.down.window * int64(time.Millisecond)).String(), downWindowSource(sp)},
		)
	} else {
		ps = append(ps,
			Parameter{KnobLegacyScaleUpLimit, "max(2 × current, 4) per sync", "no behavior"},
			Parameter{KnobDownscaleStabilization, c.DownscaleStabilization.String(), SourceCluster},
		)
	}
	if m.spec.ActivationKnob != "" && m.poll > 0 {
		def := SourceDefault
		if m.spec.ActivationKnob == KnobHTTPPolling {
			def = SourceCluster
		}
		ps = append(ps, Parameter{m.spec.ActivationKnob, m.spec.Activation.String(), src("pollingInterval", def)})
	}
	if m.spec.CooldownKnob != "" {
		name := "cooldownPeriod"
		if m.spec.CooldownKnob == KnobScaledownPeriod {
			name = "scaledownPeriod"
		}
		ps = append(ps, Parameter{m.spec.CooldownKnob, m.spec.Cooldown.String(), src(name, SourceDefault)})
	}
	return ps
}

// grid is the alignments tried for a clock of the given period: evenly
// spread in (0, period].
func grid(period int64) []int64 {
	if period <= 0 {
		return []int64{0}
	}
	out := make([]int64, gridPoints)
	for i := range out {
		out[i] = period * int64(i+1) / gridPoints
	}
	return out
}

// alignments are the (sync, scrape, poll) phases that matter to the model.
func (m *model) alignments(needPoll bool) [][3]int64 {
	scrapes := []int64{m.res}
	if !m.external {
		scrapes = grid(m.res)
	}
	polls := []int64{m.poll}
	if needPoll && m.poll > 0 {
		polls = grid(m.poll)
	}
	var out [][3]int64
	for _, s := range grid(m.sync) {
		for _, r := range scrapes {
			for _, p := range polls {
				out = append(out, [3]int64{s, r, p})
			}
		}
	}
	return out
}

func (m *model) sweepUp(b *Budget) {
	var first, reach extreme
	for _, a := range m.alignments(m.spec.MinReplicas == 0) {
		r := m.simUp(a[0], a[1], a[2])
		if r.first >= 0 {
			first.see(r.first, r)
		}
		if r.reached >= 0 {
			reach.see(r.reached, r)
		} else {
			reach.never = true
		}
	}
	if first.n > 0 {
		// The terms of the first scale-up are the slowest run's up to its
		// first step.
		b.FirstScaleUp = &Estimate{Replicas: m.spec.MinReplicas, From: "load start", Observed: "firstScaleUpSeconds",
			MinSeconds: ms(first.lo), MaxSeconds: ms(first.hi), Terms: terms(first.worst.atFirst)}
		b.FirstScaleUp.Dominant = dominant(b.FirstScaleUp.Terms)
	}
	if reach.n > 0 && !reach.never {
		b.ReachMax = &Estimate{Replicas: m.spec.MaxReplicas, From: "load start", Observed: "timeToPeakSeconds",
			MinSeconds: ms(reach.lo), MaxSeconds: ms(reach.hi), Terms: terms(reach.worst.terms)}
		b.ReachMax.Dominant = dominant(b.ReachMax.Terms)
		b.Steps = reach.worst.steps
	} else if first.n > 0 {
		b.Steps = first.worst.steps
		b.NoScaleUp = fmt.Sprintf("maxReplicas (%d) not reached within %s of saturating load at some alignment of the clocks", m.spec.MaxReplicas, time.Duration(horizon)*time.Millisecond)
	}
}

func (m *model) sweepDown(b *Budget) {
	var back extreme
	// A tail is read at its level and at the edges of the band around it
	// (readingLow, readingHigh): where a reading's few percent move
	// current × usage ÷ target across an integer, the count the HPA picks
	// depends on them, so both outcomes are swept.
	readings := []int{readingNominal}
	if m.tailBusy {
		readings = []int{readingLow, readingNominal, readingHigh}
	}
	for _, a := range m.alignments(m.spec.MinReplicas == 0) {
		for _, rd := range readings {
			r := m.simDown(a[0], a[1], a[2], rd)
			if r.reached >= 0 {
				back.see(r.reached, r)
			} else {
				back.never = true
			}
		}
	}
	if back.n == 0 || back.never {
		return
	}
	b.BackToMin = &Estimate{Replicas: m.spec.MinReplicas, From: "load end", Observed: "scaleDownSeconds",
		MinSeconds: ms(back.lo), MaxSeconds: ms(back.hi), Terms: terms(back.worst.terms)}
	b.BackToMin.Dominant = dominant(b.BackToMin.Terms)
	b.ScaleDownSteps = back.worst.steps
}

type extreme struct {
	n      int
	lo, hi int64
	worst  run
	never  bool
}

func (e *extreme) see(v int64, r run) {
	if e.n == 0 || v < e.lo {
		e.lo = v
	}
	if e.n == 0 || v > e.hi {
		e.hi, e.worst = v, r
	}
	e.n++
}

func terms(m map[string]int64) []Term {
	var out []Term
	for k, v := range m {
		if v > 0 {
			out = append(out, Term{Knob: k, Seconds: ms(v)})
		}
	}
	sortTerms(out)
	return out
}

// sortTerms orders terms largest first, then by name.
func sortTerms(ts []Term) {
	for i := 1; i < len(ts); i++ {
		for j := i; j > 0 && (ts[j].Seconds > ts[j-1].Seconds || (ts[j].Seconds == ts[j-1].Seconds && ts[j].Knob < ts[j-1].Knob)); j-- {
			ts[j], ts[j-1] = ts[j-1], ts[j]
		}
	}
}

func dominant(ts []Term) string {
	if len(ts) == 0 {
		return ""
	}
	return ts[0].Knob
}

func tailText(tail []TailStep) string {
	var steps []string
	for _, st := range tail {
		steps = append(steps, fmt.Sprintf("%g%% for %s", st.Utilization, st.For))
	}
	return strings.Join(steps, ", ")
}

func downWindowSource(sp Spec) string {
	if b := sp.Behavior; b != nil && b.ScaleDown != nil && b.ScaleDown.StabilizationWindowSeconds != nil {
		return SourceScenario
	}
	return SourceCluster + " (unset: the controller's downscale stabilization)"
}
