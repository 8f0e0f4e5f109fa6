// Package results holds the versioned report schema: what a run measured and
// concluded. It is pure data; analysis fills it, reports render it.
//
// Durations are float64 seconds with the unit in the key name. A metric that
// does not apply to a scenario is absent (nil), never zero-filled.
package results

import (
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/scalebench/scalebench/budget"
	"github.com/scalebench/scalebench/timeline"
)

// SchemaVersion is the version of the report.json schema. Version 2 added
// a scenario's apps (a multi-app scenario's per-app results and their
// distributions); a version 1 report reads as a version 2 one without them.
const SchemaVersion = 2

// MinSchemaVersion is the oldest report.json schema this build reads.
const MinSchemaVersion = 1

// Report is the content of report.json.
type Report struct {
	SchemaVersion int         `json:"schemaVersion"`
	RunID         string      `json:"runId"`
	StartedAt     time.Time   `json:"startedAt"`
	FinishedAt    time.Time   `json:"finishedAt,omitempty"`
	Environment   Environment `json:"environment"`
	// Interrupted is true when the run was stopped (a signal, the caller)
	// before its plan ended: the report holds what ran, and the timeline of
	// the scenario cut short up to the interruption.
	Interrupted bool `json:"interrupted,omitempty"`
	// Diagnostics is the folder, relative to the report, that holds what
	// was collected after a failure (events, autoscaler status history,
	// component logs, applied manifests); empty when nothing was collected.
	Diagnostics string     `json:"diagnostics,omitempty"`
	Scenarios   []Scenario `json:"scenarios"`
	// Aggregates summarise the trials of each scenario run more than once.
	Aggregates []Aggregate `json:"aggregates,omitempty"`
}

// Aggregate summarises one scenario's trials: for each metric measured in
// at least one trial, the series of its values.
type Aggregate struct {
	Scenario string             `json:"scenario"`
	Trials   int                `json:"trials"`
	Passed   int                `json:"passed"`
	Metrics  map[string]*Series `json:"metrics"`
}

// Passed reports whether every scenario passed and the run was not
// interrupted (a plan not run to its end promises nothing).
func (r Report) Passed() bool {
	if r.Interrupted {
		return false
	}
	for _, s := range r.Scenarios {
		if !s.Passed {
			return false
		}
	}
	return len(r.Scenarios) > 0
}

// Environment is the fingerprint of where a run happened.
type Environment struct {
	// Provider is the cluster kind: emulated, k3d, kind or existing.
	Provider          string `json:"provider"`
	KubernetesVersion string `json:"kubernetesVersion,omitempty"`
	// Components maps component name to version (real components).
	Components map[string]string `json:"components,omitempty"`
	// Platform says, per platform component (cert-manager, spin-operator,
	// keda, http-add-on), what the harness found on a cluster it connected
	// to or installed itself: "found: CRD …, APIService …, Helm release …",
	// "installed by this run with Helm", or "missing: …". Absent on the
	// emulated cluster, whose components the harness starts.
	Platform map[string]string `json:"platform,omitempty"`
	// Emulated names the parts that were emulated, not real (e.g. "kubelet
	// (KWOK nodes)", "spin apps (emulated data plane)").
	Emulated []string `json:"emulated"`
	// Knobs are the cluster-wide timing settings in force (HPA sync period,
	// metric resolution, ...), as strings with their units.
	Knobs map[string]string `json:"knobs,omitempty"`
	// Host describes the machine that ran the harness.
	Host Host `json:"host"`
}

// Host describes the machine that ran the harness.
type Host struct {
	OS        string `json:"os"`
	Arch      string `json:"arch"`
	CPUs      int    `json:"cpus"`
	GoVersion string `json:"goVersion"`
	Hostname  string `json:"hostname,omitempty"`
	// CPUModel is /proc/cpuinfo's model name (Linux); empty elsewhere.
	CPUModel string `json:"cpuModel,omitempty"`
}

// LocalHost fingerprints the machine running the harness.
func LocalHost() Host {
	name, _ := os.Hostname() // a host without a name is still fingerprinted
	return Host{OS: runtime.GOOS, Arch: runtime.GOARCH, CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), Hostname: name, CPUModel: cpuModel()}
}

// cpuModel is /proc/cpuinfo's first model name, or "" where there is none.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// Scenario is the outcome of one scenario trial.
type Scenario struct {
	Name       string `json:"name"`
	Autoscaler string `json:"autoscaler"`
	// Trial numbers repeated runs of the same scenario, from 1.
	Trial int `json:"trial,omitempty"`
	// RanWith names the scenarios that ran at the same time on the same
	// cluster (bench run --parallel); absent when it ran alone.
	RanWith []string `json:"ranWith,omitempty"`
	// Description is the scenario's own description (e.g. that it is a fast
	// variant with shortened stabilization windows).
	Description string  `json:"description,omitempty"`
	Passed      bool    `json:"passed"`
	Metrics     Metrics `json:"metrics"`
	Steps       []Step  `json:"steps"`
	Checks      []Check `json:"checks"`
	// Knobs are the scenario's configured timing budgets and settings.
	Knobs map[string]string `json:"knobs,omitempty"`
	// Budget is what the scenario's autoscaler knobs imply (package
	// budget): first scale-up, reach max and back to min, each beside the
	// observed metric it names; BudgetAbsent says why there is none.
	Budget       *budget.Budget `json:"budget,omitempty"`
	BudgetAbsent string         `json:"budgetAbsent,omitempty"`
	// DerivedExpectations are the expectations the scenario file did not
	// give, derived from the budget, one sentence each.
	DerivedExpectations []string `json:"derivedExpectations,omitempty"`
	// Profile is the load's arrival profile (load.http.profile,
	// load.sqs.profile) step by step, scheduled beside sent; nil without one.
	Profile []ProfileStep `json:"profile,omitempty"`
	// Error is set when the harness failed to run the scenario to the end;
	// the partial metrics and timeline are still reported.
	Error string `json:"error,omitempty"`
	// ErrorKind classifies Error (set together with it).
	ErrorKind ErrorKind `json:"errorKind,omitempty"`
	// Apps is set on a multi-app scenario (spec.apps.count > 1): the apps'
	// own results and the distributions of their metrics. The scenario's
	// Checks then hold one check per app, and its Metrics and Timeline
	// are empty (each app has its own).
	Apps *Apps `json:"apps,omitempty"`
	// AutoscalerLag is the autoscalers' own lag during the scenario (of a
	// multi-app scenario: over all its apps; each app has its own KEDA
	// scale-loop latency).
	AutoscalerLag *AutoscalerLag   `json:"autoscalerLag,omitempty"`
	Timeline      []timeline.Event `json:"timeline"`
}

// ErrorKind says why a scenario did not run to the end.
type ErrorKind string

// Error kinds.
const (
	// ErrorHarness: scalebench itself failed (a bug, a client error, a
	// missing capability).
	ErrorHarness ErrorKind = "harness"
	// ErrorRejected: the API server or an admission webhook refused an
	// object of the scenario (e.g. KEDA's webhook denying a ScaledObject).
	ErrorRejected ErrorKind = "rejected"
	// ErrorPlatform: a platform component failed during the run (it died,
	// or the platform was not healthy at the start).
	ErrorPlatform ErrorKind = "platform"
	// ErrorInterrupted: the run was cancelled (a signal, the caller).
	ErrorInterrupted ErrorKind = "interrupted"
	// ErrorTimeout: something the scenario waits for did not happen within
	// its budget; the error holds the last observed state.
	ErrorTimeout ErrorKind = "timeout"
)

// ErrorKinds are the allowed error kinds.
var ErrorKinds = []ErrorKind{ErrorHarness, ErrorRejected, ErrorPlatform, ErrorInterrupted, ErrorTimeout}

// Metrics are computed from a timeline. Nil means "does not apply"; where
// the analysis knows why a metric is absent, Absent says so by JSON key.
type Metrics struct {
	DecisionSeconds *float64 `json:"decisionSeconds,omitempty"`
	// FirstScaleUpSeconds is the first raise of spec.replicas above the
	// baseline observed before the load start.
	FirstScaleUpSeconds *float64 `json:"firstScaleUpSeconds,omitempty"`
	FirstReadySeconds   *float64 `json:"firstReadySeconds,omitempty"`
	TimeToPeakSeconds   *float64 `json:"timeToPeakSeconds,omitempty"`
	// ScaleDownSeconds is from the load end to back at the target; absent
	// when the workload never scaled up (nothing to scale down).
	ScaleDownSeconds *float64 `json:"scaleDownSeconds,omitempty"`
	ColdStartSeconds *float64 `json:"coldStartSeconds,omitempty"`
	// ReplicaSeconds integrates ready replicas over ReplicaSecondsWindow.
	ReplicaSeconds       *float64 `json:"replicaSeconds,omitempty"`
	ReplicaSecondsWindow *Window  `json:"replicaSecondsWindow,omitempty"`
	PeakReplicas         *int32   `json:"peakReplicas,omitempty"`
	// LoadMode is how the HTTP load was generated: "closed-loop" (each
	// connection sends its next request when the previous one ends, so a
	// slow server is sent less: latency hides coordinated omission) or
	// "open-loop" (requests at a constant arrival rate).
	LoadMode string `json:"loadMode,omitempty"`
	// LoadPlacement is "cluster" when the load came from a Job of LoadPods
	// pods in the cluster (load.placement: cluster), with LoadPlacementNote
	// saying how (e.g. emulated pods); absent when the bench process sent it.
	LoadPlacement     string `json:"loadPlacement,omitempty"`
	LoadPods          *int   `json:"loadPods,omitempty"`
	LoadPlacementNote string `json:"loadPlacementNote,omitempty"`
	// LoadPodRequests are each load pod's own request total, by pod name
	// (they add up to Requests).
	LoadPodRequests map[string]int64 `json:"loadPodRequests,omitempty"`
	// Requests counts every request sent; Errors those that failed
	// (transport error, timeout, or a status of 400 or more).
	Requests *int64 `json:"requests,omitempty"`
	Errors   *int64 `json:"errors,omitempty"`
	// SuccessfulRequests counts the requests answered in time with a status
	// below 400 (1xx–3xx; the generator follows no redirect, so a 3xx is
	// the app's own answer): Requests − Errors.
	SuccessfulRequests *int64 `json:"successfulRequests,omitempty"`
	// ErrorRate is Errors / Requests (0..1).
	ErrorRate *float64 `json:"errorRate,omitempty"`
	// GoodputPerSecond is successful requests per second of load.
	GoodputPerSecond *float64 `json:"goodputPerSecond,omitempty"`
	// Goodput splits the load into scaling phases; a phase that did not
	// occur is absent.
	Goodput *GoodputPhases `json:"goodput,omitempty"`
	// P50LatencySeconds and P99LatencySeconds are over all requests,
	// failed ones included (a timeout counts at the timeout).
	P50LatencySeconds *float64 `json:"p50LatencySeconds,omitempty"`
	P99LatencySeconds *float64 `json:"p99LatencySeconds,omitempty"`
	// SuccessP50LatencySeconds and SuccessP99LatencySeconds are over the
	// successful requests only; absent when none succeeded.
	SuccessP50LatencySeconds *float64 `json:"successP50LatencySeconds,omitempty"`
	SuccessP99LatencySeconds *float64 `json:"successP99LatencySeconds,omitempty"`
	// MissedRequests are requests a rate-limited (or open-loop) generator
	// was due to send but could not; DroppedResults are results the
	// generator could not record. Present only when a rate was set.
	MissedRequests *int64 `json:"missedRequests,omitempty"`
	DroppedResults *int64 `json:"droppedResults,omitempty"`
	MessagesSent   *int64 `json:"messagesSent,omitempty"`
	// MessagesProcessed are valid messages with a correct record in the store.
	MessagesProcessed *int64 `json:"messagesProcessed,omitempty"`
	MessagesInvalid   *int64 `json:"messagesInvalid,omitempty"`
	// MessagesLost are valid messages sent, neither stored correctly nor
	// still waiting in the queue (a valid message in the dead-letter queue
	// is lost).
	MessagesLost *int64 `json:"messagesLost,omitempty"`
	// MessagesInQueue are messages still in the queue or its dead-letter
	// queue at the end, valid or not.
	MessagesInQueue *int64 `json:"messagesInQueue,omitempty"`
	// Flaps counts reversals of spec.replicas that are not the intended
	// up-then-down of one load cycle: a scale-down during the load, or a
	// scale-up after the load ended.
	Flaps *int `json:"flaps,omitempty"`
	// ColdStart is the breakdown of the first cold start, when measured.
	ColdStart *ColdStart `json:"coldStart,omitempty"`
	// ColdStartSeries summarises repeated cold starts.
	ColdStartSeries *Series `json:"coldStartSeries,omitempty"`
	// Absent says, by JSON key, why a metric that could apply is absent.
	Absent map[string]string `json:"absent,omitempty"`
}

// Window is a stated interval of the run, in seconds from its start.
type Window struct {
	FromSeconds float64 `json:"fromSeconds"`
	ToSeconds   float64 `json:"toSeconds"`
	// From and To name the events that bound the window (e.g. "load start",
	// "back at minReplicas", "end of observation").
	From string `json:"from"`
	To   string `json:"to"`
}

// GoodputPhases is the goodput of the phases of one load cycle. Each phase
// is bounded by whole seconds of load samples.
type GoodputPhases struct {
	// BeforeScaleUp: load start → first scale-up (spec.replicas raised).
	BeforeScaleUp *Phase `json:"beforeScaleUp,omitempty"`
	// DuringScaleUp: first scale-up → peak ready replicas reached.
	DuringScaleUp *Phase `json:"duringScaleUp,omitempty"`
	// AtPeak: peak reached → load stop.
	AtPeak *Phase `json:"atPeak,omitempty"`
}

// Phase is the load served during one phase.
type Phase struct {
	FromSeconds        float64 `json:"fromSeconds"`
	ToSeconds          float64 `json:"toSeconds"`
	Requests           int64   `json:"requests"`
	SuccessfulRequests int64   `json:"successfulRequests"`
	// GoodputPerSecond is successful requests per second of the phase.
	GoodputPerSecond float64 `json:"goodputPerSecond"`
	// SuccessP99LatencySeconds is the p99 (nearest rank) of the latencies
	// of the phase's successful requests, pooled over its seconds; absent
	// when none succeeded or their latencies were not kept (bombardier).
	SuccessP99LatencySeconds *float64 `json:"successP99LatencySeconds,omitempty"`
}

// ColdStart breaks one cold start into stages, each in seconds from the
// request being sent. A stage not observed is nil.
type ColdStart struct {
	ActivatedSeconds *float64 `json:"activatedSeconds,omitempty"`
	ScaledSeconds    *float64 `json:"scaledSeconds,omitempty"`
	PodReadySeconds  *float64 `json:"podReadySeconds,omitempty"`
	ResponseSeconds  float64  `json:"responseSeconds"`
	ColdStartHeader  string   `json:"coldStartHeader,omitempty"`
	Status           int      `json:"status"`
}

// Series summarises repeated samples of one quantity, in seconds.
type Series struct {
	// Statistic says what each sample is when it is not a plain duration,
	// e.g. that a latency series holds one p99 per trial (so its mean is a
	// mean of p99s, not a pooled p99).
	Statistic   string    `json:"statistic,omitempty"`
	Samples     []float64 `json:"samplesSeconds"`
	MeanSeconds float64   `json:"meanSeconds"`
	P50Seconds  float64   `json:"p50Seconds"`
	MinSeconds  float64   `json:"minSeconds"`
	MaxSeconds  float64   `json:"maxSeconds"`
}

// ProfileStep is one step of an arrival profile: its rate (From to To per
// second, equal unless Ramp) over StartSeconds..EndSeconds of the run, the
// arrivals it scheduled and those sent. Unit is "requests" or "messages".
type ProfileStep struct {
	Unit          string  `json:"unit"`
	StartSeconds  float64 `json:"startSeconds"`
	EndSeconds    float64 `json:"endSeconds"`
	FromPerSecond float64 `json:"fromPerSecond"`
	ToPerSecond   float64 `json:"toPerSecond"`
	Ramp          bool    `json:"ramp,omitempty"`
	// Scheduled counts the arrivals the step's schedule gave (within one of
	// the integral of its rate).
	Scheduled int64 `json:"scheduled"`
	// Sent counts those sent: HTTP requests by their scheduled second,
	// messages by their send time.
	Sent int64 `json:"sent"`
	// Missed counts scheduled requests never sent (HTTP, open loop); nil
	// for messages, which are never dropped.
	Missed *int64 `json:"missed,omitempty"`
}

// AchievedPerSecond is Sent over the step's length.
func (p ProfileStep) AchievedPerSecond() float64 {
	if d := p.EndSeconds - p.StartSeconds; d > 0 {
		return float64(p.Sent) / d
	}
	return 0
}

// Step is one change of the Deployment's spec.replicas.
type Step struct {
	AtSeconds float64 `json:"atSeconds"`
	From      int32   `json:"from"`
	To        int32   `json:"to"`
}

// Check is one evaluated expectation.
type Check struct {
	Name string `json:"name"`
	// Passed is true only for a check that was tested and held.
	Passed bool `json:"passed"`
	// Skipped marks a check that was not tested (it could not fail in this
	// run, e.g. step spacing with fewer than two steps); Detail says why.
	// A skipped check is neither passed nor failed and does not decide the
	// scenario's verdict.
	Skipped bool `json:"skipped,omitempty"`
	// Detail says what was expected and what was observed.
	Detail string `json:"detail"`
}

// Check states.
const (
	CheckPassed  = "passed"
	CheckFailed  = "failed"
	CheckSkipped = "not tested"
)

// State is CheckPassed, CheckFailed or CheckSkipped.
func (c Check) State() string {
	switch {
	case c.Skipped:
		return CheckSkipped
	case c.Passed:
		return CheckPassed
	default:
		return CheckFailed
	}
}

// F64 returns a pointer to v.
func F64(v float64) *float64 { return &v }

// I64 returns a pointer to v.
func I64(v int64) *int64 { return &v }

// I32 returns a pointer to v.
func I32(v int32) *int32 { return &v }
