// Package results holds the versioned report schema: what a run measured and
// concluded. It is pure data; analysis fills it, reports render it.
//
// Durations are float64 seconds with the unit in the key name. A metric that
// does not apply to a scenario is absent (nil), never zero-filled.
package results

import (
	"time"

	"github.com/scalebench/scalebench/timeline"
)

// SchemaVersion is the version of the report.json schema.
const SchemaVersion = 1

// Report is the content of report.json.
type Report struct {
	SchemaVersion int         `json:"schemaVersion"`
	RunID         string      `json:"runId"`
	StartedAt     time.Time   `json:"startedAt"`
	FinishedAt    time.Time   `json:"finishedAt,omitempty"`
	Environment   Environment `json:"environment"`
	Scenarios     []Scenario  `json:"scenarios"`
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

// Passed reports whether every scenario passed.
func (r Report) Passed() bool {
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
}

// Scenario is the outcome of one scenario trial.
type Scenario struct {
	Name       string `json:"name"`
	Autoscaler string `json:"autoscaler"`
	// Trial numbers repeated runs of the same scenario, from 1.
	Trial int `json:"trial,omitempty"`
	// Description is the scenario's own description (e.g. that it is a fast
	// variant with shortened stabilization windows).
	Description string  `json:"description,omitempty"`
	Passed      bool    `json:"passed"`
	Metrics     Metrics `json:"metrics"`
	Steps       []Step  `json:"steps"`
	Checks      []Check `json:"checks"`
	// Knobs are the scenario's configured timing budgets and settings.
	Knobs map[string]string `json:"knobs,omitempty"`
	// Error is set when the harness failed to run the scenario to the end;
	// the partial metrics and timeline are still reported.
	Error    string           `json:"error,omitempty"`
	Timeline []timeline.Event `json:"timeline"`
}

// Metrics are computed from a timeline. Nil means "does not apply".
type Metrics struct {
	DecisionSeconds     *float64 `json:"decisionSeconds,omitempty"`
	FirstScaleUpSeconds *float64 `json:"firstScaleUpSeconds,omitempty"`
	FirstReadySeconds   *float64 `json:"firstReadySeconds,omitempty"`
	TimeToPeakSeconds   *float64 `json:"timeToPeakSeconds,omitempty"`
	ScaleDownSeconds    *float64 `json:"scaleDownSeconds,omitempty"`
	ColdStartSeconds    *float64 `json:"coldStartSeconds,omitempty"`
	ReplicaSeconds      *float64 `json:"replicaSeconds,omitempty"`
	PeakReplicas        *int32   `json:"peakReplicas,omitempty"`
	Requests            *int64   `json:"requests,omitempty"`
	Errors              *int64   `json:"errors,omitempty"`
	P50LatencySeconds   *float64 `json:"p50LatencySeconds,omitempty"`
	P99LatencySeconds   *float64 `json:"p99LatencySeconds,omitempty"`
	MessagesSent        *int64   `json:"messagesSent,omitempty"`
	MessagesProcessed   *int64   `json:"messagesProcessed,omitempty"`
	MessagesInvalid     *int64   `json:"messagesInvalid,omitempty"`
	MessagesLost        *int64   `json:"messagesLost,omitempty"`
	// MessagesInQueue are messages still in the queue at the end.
	MessagesInQueue *int64 `json:"messagesInQueue,omitempty"`
	// Flaps counts direction changes of spec.replicas (up after down or down after up).
	Flaps *int `json:"flaps,omitempty"`
	// ColdStart is the breakdown of the first cold start, when measured.
	ColdStart *ColdStart `json:"coldStart,omitempty"`
	// ColdStartSeries summarises repeated cold starts.
	ColdStartSeries *Series `json:"coldStartSeries,omitempty"`
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
	Samples     []float64 `json:"samplesSeconds"`
	MeanSeconds float64   `json:"meanSeconds"`
	P50Seconds  float64   `json:"p50Seconds"`
	MinSeconds  float64   `json:"minSeconds"`
	MaxSeconds  float64   `json:"maxSeconds"`
}

// Step is one change of the Deployment's spec.replicas.
type Step struct {
	AtSeconds float64 `json:"atSeconds"`
	From      int32   `json:"from"`
	To        int32   `json:"to"`
}

// Check is one evaluated expectation.
type Check struct {
	Name   string `json:"name"`
	Passed bool   `json:"passed"`
	// Detail says what was expected and what was observed.
	Detail string `json:"detail"`
}

// F64 returns a pointer to v.
func F64(v float64) *float64 { return &v }

// I64 returns a pointer to v.
func I64(v int64) *int64 { return &v }

// I32 returns a pointer to v.
func I32(v int32) *int32 { return &v }
