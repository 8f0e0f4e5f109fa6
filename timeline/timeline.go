// Package timeline is the typed, append-only record of everything that moves
// during a scenario run: replica counts, autoscaler status, KEDA events, pod
// life cycles, load and queue samples. Every event carries a monotonic offset
// from the start of the run (At) and the wall-clock receive time (Wall).
package timeline

import (
	"sort"
	"sync"
	"time"
)

// Kind says what an event describes; exactly one payload field matches it.
type Kind string

const (
	// KindDeployment: a Deployment's spec/status replica counts changed.
	KindDeployment Kind = "deployment"
	// KindAutoscaler: an HPA's (or KEDA's generated HPA's) current/desired replicas changed.
	KindAutoscaler Kind = "autoscaler"
	// KindCondition: a condition of a ScaledObject/HTTPScaledObject/HPA changed.
	KindCondition Kind = "condition"
	// KindKubeEvent: a Kubernetes Event was received (e.g. KEDAScaleTargetActivated).
	KindKubeEvent Kind = "event"
	// KindPod: a pod phase transition (created, scheduled, ready, unready, deleted).
	KindPod Kind = "pod"
	// KindMarker: a harness marker (load start/stop, queue drained, fault injected).
	KindMarker Kind = "marker"
	// KindLoad: one second of HTTP load results.
	KindLoad Kind = "load"
	// KindQueue: a queue depth sample.
	KindQueue Kind = "queue"
	// KindRequest: one notable request (e.g. a cold-start probe) with its result.
	KindRequest Kind = "request"
)

// Markers the harness records.
const (
	MarkerLoadStart    = "load-start"
	MarkerLoadStop     = "load-stop"
	MarkerQueueDrained = "queue-drained"
	MarkerFault        = "fault"
	// MarkerCPUStep is a CPU profile's step as the data plane took it; its
	// detail is the utilization ("180%": of each pod's CPU request).
	MarkerCPUStep = "cpu-step"
	// MarkerAPIWarning is a warning the API server returned (deprecations,
	// knobs an operator's webhook calls irrelevant).
	MarkerAPIWarning = "api-warning"
)

// Pod transitions.
const (
	PodCreated   = "created"
	PodScheduled = "scheduled"
	PodReady     = "ready"
	PodUnready   = "unready"
	PodDeleted   = "deleted"
)

// Event is one entry of a timeline. Exactly one of the payload pointers is set,
// matching Kind.
type Event struct {
	// At is the monotonic offset from the timeline's start.
	At time.Duration `json:"-"`
	// Wall is the wall-clock receive time.
	Wall time.Time `json:"wall"`
	Kind Kind      `json:"kind"`
	// Object names the subject, "Kind/namespace/name".
	Object string `json:"object,omitempty"`

	Deployment *Replicas         `json:"deployment,omitempty"`
	Autoscaler *AutoscalerStatus `json:"autoscaler,omitempty"`
	Condition  *Condition        `json:"condition,omitempty"`
	KubeEvent  *KubeEvent        `json:"event,omitempty"`
	Pod        *Pod              `json:"pod,omitempty"`
	Marker     *Marker           `json:"marker,omitempty"`
	Load       *LoadSample       `json:"load,omitempty"`
	Queue      *QueueSample      `json:"queue,omitempty"`
	Request    *Request          `json:"request,omitempty"`
}

// Seconds is At in seconds.
func (e Event) Seconds() float64 { return e.At.Seconds() }

// Replicas is a Deployment's replica state. It is recorded only when the
// controller has observed the current generation (ObservedGeneration >= Generation).
type Replicas struct {
	Spec      int32 `json:"spec"`
	Current   int32 `json:"current"`
	Updated   int32 `json:"updated"`
	Ready     int32 `json:"ready"`
	Available int32 `json:"available"`
}

// AutoscalerStatus is an HPA's status.
type AutoscalerStatus struct {
	Current int32 `json:"current"`
	Desired int32 `json:"desired"`
	// Metric is the current value of the first metric, as the HPA reports it
	// (e.g. CPU utilization percent, or an external metric's average value).
	Metric string `json:"metric,omitempty"`
}

// Condition is a condition of a custom resource.
type Condition struct {
	Type    string `json:"type"`
	Status  string `json:"status"`
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
}

// KubeEvent is a Kubernetes Event.
type KubeEvent struct {
	Reason  string `json:"reason"`
	Type    string `json:"type,omitempty"`
	Message string `json:"message,omitempty"`
	Source  string `json:"source,omitempty"`
}

// Pod is a pod transition.
type Pod struct {
	Name       string `json:"name"`
	Transition string `json:"transition"`
	Node       string `json:"node,omitempty"`
}

// Marker is a harness marker.
type Marker struct {
	Name   string `json:"name"`
	Detail string `json:"detail,omitempty"`
}

// LoadSample is one second of load results, keyed by request start (in an
// open loop, the scheduled send time). Latencies are in seconds; the plain
// percentiles are over every request of the second, failed ones included.
type LoadSample struct {
	Second            int            `json:"second"`
	Requests          int            `json:"requests"`
	Errors            int            `json:"errors"`
	ErrorsByKind      map[string]int `json:"errorsByKind,omitempty"`
	P50LatencySeconds float64        `json:"p50LatencySeconds"`
	P90LatencySeconds float64        `json:"p90LatencySeconds"`
	P99LatencySeconds float64        `json:"p99LatencySeconds"`
	MaxLatencySeconds float64        `json:"maxLatencySeconds"`
	// SuccessP50LatencySeconds and SuccessP99LatencySeconds are over the
	// successful requests of the second only; absent when none succeeded.
	SuccessP50LatencySeconds *float64 `json:"successP50LatencySeconds,omitempty"`
	SuccessP99LatencySeconds *float64 `json:"successP99LatencySeconds,omitempty"`
	// Missed counts paced requests due in this second that were never sent
	// (see load.Summary.Missed); absent when the load was not paced (a closed
	// loop without a rate cannot miss).
	Missed *int `json:"missed,omitempty"`
}

// Successes is the number of requests of the second that succeeded.
func (l LoadSample) Successes() int { return l.Requests - l.Errors }

// QueueSample is a queue depth sample.
type QueueSample struct {
	Visible  int64 `json:"visible"`
	InFlight int64 `json:"inFlight"`
	// Processed counts messages the consumer side reports as done (when known).
	Processed int64 `json:"processed,omitempty"`
}

// Request is one notable request, such as a cold-start probe.
type Request struct {
	Purpose        string            `json:"purpose"`
	SentAtSeconds  float64           `json:"sentAtSeconds"`
	LatencySeconds float64           `json:"latencySeconds"`
	Status         int               `json:"status"`
	Error          string            `json:"error,omitempty"`
	Headers        map[string]string `json:"headers,omitempty"`
}

// Recorder is an append-only, concurrency-safe timeline.
type Recorder struct {
	start time.Time
	mu    sync.Mutex
	evs   []Event
	now   func() time.Time
}

// NewRecorder starts a timeline now.
func NewRecorder() *Recorder { return NewRecorderAt(time.Now(), time.Now) }

// NewRecorderAt starts a timeline at start with the given clock (tests).
func NewRecorderAt(start time.Time, now func() time.Time) *Recorder {
	return &Recorder{start: start, now: now}
}

// Start is the timeline's start time.
func (r *Recorder) Start() time.Time { return r.start }

// Since is the monotonic offset of t from the start.
func (r *Recorder) Since(t time.Time) time.Duration { return t.Sub(r.start) }

// Record appends e. A zero At is stamped with the receive time.
func (r *Recorder) Record(e Event) {
	now := r.now()
	if e.At == 0 {
		e.At = now.Sub(r.start)
	}
	if e.Wall.IsZero() {
		e.Wall = r.start.Add(e.At)
	}
	r.mu.Lock()
	r.evs = append(r.evs, e)
	r.mu.Unlock()
}

// Mark records a marker now.
func (r *Recorder) Mark(name, detail string) {
	r.Record(Event{Kind: KindMarker, Marker: &Marker{Name: name, Detail: detail}})
}

// Events returns a copy of the events, ordered by At (stable).
func (r *Recorder) Events() []Event {
	r.mu.Lock()
	out := append([]Event(nil), r.evs...)
	r.mu.Unlock()
	sort.SliceStable(out, func(i, j int) bool { return out[i].At < out[j].At })
	return out
}
