// Package scenario is the declarative model of a scalebench scenario: the
// workload, the autoscaler and its knobs, the load, and the expectations.
// Scenarios are YAML files; the built-in ones are embedded from fixtures/.
package scenario

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// APIVersion and Kind of scenario files.
const (
	APIVersion = "scalebench.dev/v1alpha1"
	Kind       = "Scenario"
)

// Autoscaler types.
const (
	HPA      = "hpa"
	KEDACPU  = "keda-cpu"
	KEDASQS  = "keda-sqs"
	KEDAHTTP = "keda-http"
)

// AutoscalerTypes lists the supported autoscaler types.
var AutoscalerTypes = []string{HPA, KEDACPU, KEDASQS, KEDAHTTP}

// KEDA HTTP add-on APIs (autoscaler.api of keda-http).
const (
	// HTTPAPIInterceptorRoute is the add-on's current API (v0.14 on): an
	// InterceptorRoute (http.keda.sh/v1beta1) routes and meters the
	// requests, and a ScaledObject with an external-push trigger naming it
	// scales the workload.
	HTTPAPIInterceptorRoute = "InterceptorRoute"
	// HTTPAPIHTTPScaledObject is the deprecated HTTPScaledObject
	// (http.keda.sh/v1alpha1), of which the add-on's operator makes the
	// ScaledObject itself.
	HTTPAPIHTTPScaledObject = "HTTPScaledObject"
)

// HTTPAPIs lists the keda-http APIs, the default first.
var HTTPAPIs = []string{HTTPAPIInterceptorRoute, HTTPAPIHTTPScaledObject}

// Workload kinds.
const (
	WorkloadSpinApp    = "SpinApp"
	WorkloadDeployment = "Deployment"
)

// Load types.
const (
	LoadHTTP = "http"
	LoadSQS  = "sqs"
	// LoadCPU holds the workload's pods at CPU utilizations over time
	// (clusters that implement clusters.CPUDriver: the emulated one).
	LoadCPU = "cpu"
)

// HTTP load modes.
const (
	// LoadClosedLoop: each connection sends its next request when its
	// previous response arrived (bombardier's way, the default).
	LoadClosedLoop = "closed-loop"
	// LoadOpenLoop: requests arrive at a constant rate whatever the
	// responses; latency from the scheduled send time.
	LoadOpenLoop = "open-loop"
)

// HTTP load generators.
const (
	GeneratorBuiltin    = "builtin"
	GeneratorBombardier = "bombardier"
)

// Emulation models (what the emulated data plane runs for the workload's pods).
const (
	ModelCPULoadGen     = "cpu-load-gen"
	ModelHello          = "hello"
	ModelSQSTransformer = "sqs-transformer"
)

// Scenario is one scenario file.
type Scenario struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Metadata   Metadata `json:"metadata"`
	Spec       Spec     `json:"spec"`
	// Source is where the scenario was read from ("builtin" or a path).
	Source string `json:"-"`
	// Manifests are the user's own objects when spec.workload.manifests is
	// set (filled by package manifests); nil otherwise.
	Manifests *Manifests `json:"-"`
	// Derived says which expectations were not in the file but derived
	// from the budget its knobs imply (package budget), one sentence each.
	Derived []string `json:"-"`
	// App is set on one app's copy of a multi-app scenario (ForApp): the
	// suffix its objects' names carry; "" for a single app.
	App string `json:"-"`
}

// Metadata names a scenario.
type Metadata struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Labels select scenarios in suites (e.g. "fast: true").
	Labels map[string]string `json:"labels,omitempty"`
}

// Spec is what a scenario runs and expects.
type Spec struct {
	// Namespace the scenario's objects are created in (default "default").
	Namespace    string       `json:"namespace,omitempty"`
	Workload     Workload     `json:"workload"`
	Autoscaler   Autoscaler   `json:"autoscaler"`
	Load         Load         `json:"load"`
	Expectations Expectations `json:"expectations"`
	// Apps runs K independent copies of the app at once (see Apps); nil
	// is one app.
	Apps *Apps `json:"apps,omitempty"`
	// Cluster says what the scenario needs of the cluster; only the
	// emulated cluster uses it.
	Cluster *ClusterNeeds `json:"cluster,omitempty"`
}

// ClusterNeeds is what a scenario asks of the cluster it runs on.
type ClusterNeeds struct {
	// Nodes sets the emulated cluster's node count and per-node capacity;
	// what it leaves out is derived from the scenario's maximum replicas ×
	// its pods' requests (the count) or the defaults (the capacity).
	Nodes *NodeNeeds `json:"nodes,omitempty"`
}

// NodeNeeds are emulated nodes: how many, and each one's capacity.
type NodeNeeds struct {
	Count  int32  `json:"count,omitempty"`
	CPU    string `json:"cpu,omitempty"`
	Memory string `json:"memory,omitempty"`
	Pods   int32  `json:"pods,omitempty"`
}

// Manifests are the user's own objects a scenario applies as they are
// instead of rendering its workload and autoscaler.
type Manifests struct {
	// Source is the path they were read from ("-" for stdin).
	Source string
	// Objects are every object, in file order.
	Objects []*unstructured.Unstructured
	// Autoscaler is the autoscaler object (applied once the workload is
	// ready); its Kind and Name.
	AutoscalerKind, AutoscalerName string
	// HPAName is the HPA that ends up scaling the target (KEDA's
	// keda-hpa-<ScaledObject>); ScaledObjectName the ScaledObject, if any.
	HPAName, ScaledObjectName string
	// Notes are what scalebench assumed or ignores, one sentence each.
	Notes []string
}

// Workload is the Spin app under test.
type Workload struct {
	// Manifests is a file, a folder or "-" (stdin) of the user's own
	// Kubernetes manifests (relative to the scenario file): the target and
	// its autoscaler come from them, applied as they are; the other
	// workload fields but emulation, and the whole autoscaler, must then be
	// left out.
	Manifests string `json:"manifests,omitempty"`
	// Kind is SpinApp (default) or Deployment (a plain Deployment with the
	// Spin runtime class, for apps that need env, like the SQS transformer).
	Kind      string    `json:"kind,omitempty"`
	Name      string    `json:"name"`
	Image     string    `json:"image"`
	Executor  string    `json:"executor,omitempty"`
	Resources Resources `json:"resources,omitempty"`
	// Emulation describes what the emulated data plane runs for each pod.
	// Only the emulated cluster uses it.
	Emulation Emulation `json:"emulation,omitempty"`
}

// Resources are the container's limits and requests.
type Resources struct {
	Limits   ResourceList `json:"limits,omitempty"`
	Requests ResourceList `json:"requests,omitempty"`
}

// ResourceList is a CPU and memory quantity pair ("500m", "500Mi").
type ResourceList struct {
	CPU    string `json:"cpu,omitempty"`
	Memory string `json:"memory,omitempty"`
}

// Emulation is the workload's behaviour on the emulated data plane.
type Emulation struct {
	Model string `json:"model,omitempty"`
	// CPUPerRequest is the CPU time one request costs (cpu-load-gen).
	CPUPerRequest Duration `json:"cpuPerRequest,omitempty"`
	// StartupLatency is how long a pod takes from scheduled to Ready.
	StartupLatency Duration `json:"startupLatency,omitempty"`
	// Latency is the response time of the hello model.
	Latency Duration `json:"latency,omitempty"`
}

// Autoscaler is what scales the workload, with its knobs. Knobs that do not
// belong to Type are rejected by validation.
type Autoscaler struct {
	Type        string `json:"type"`
	MinReplicas *int32 `json:"minReplicas,omitempty"`
	MaxReplicas int32  `json:"maxReplicas,omitempty"`
	// CPUUtilization is the target average CPU utilization in percent of
	// requests (hpa, keda-cpu).
	CPUUtilization *int32 `json:"cpuUtilization,omitempty"`
	// Behavior is the HPA scaling behavior (hpa; keda-* through
	// advanced.horizontalPodAutoscalerConfig.behavior).
	Behavior *autoscalingv2.HorizontalPodAutoscalerBehavior `json:"behavior,omitempty"`
	// PollingInterval in seconds (keda-cpu, keda-sqs).
	PollingInterval *int32 `json:"pollingInterval,omitempty"`
	// CooldownPeriod in seconds before scaling to zero (keda-cpu, keda-sqs).
	CooldownPeriod *int32 `json:"cooldownPeriod,omitempty"`
	// QueueLength is the target messages per replica (keda-sqs).
	QueueLength *int32 `json:"queueLength,omitempty"`
	// ActivationQueueLength is the depth above which KEDA activates 0→1 (keda-sqs).
	ActivationQueueLength *int32 `json:"activationQueueLength,omitempty"`
	// ScaledownPeriod in seconds without traffic before scaling to zero (keda-http).
	ScaledownPeriod *int32 `json:"scaledownPeriod,omitempty"`
	// ScalingMetric is the HTTP add-on's metric (keda-http).
	ScalingMetric *HTTPScalingMetric `json:"scalingMetric,omitempty"`
	// Hosts the HTTP add-on routes to the workload (keda-http).
	Hosts []string `json:"hosts,omitempty"`
	// API is the HTTP add-on API the scenario applies (keda-http):
	// InterceptorRoute (default) or HTTPScaledObject (deprecated).
	API string `json:"api,omitempty"`
	// Patch is a JSON merge patch (RFC 7386) applied to the rendered
	// autoscaler objects (HPA, ScaledObject, HTTPScaledObject, or both the
	// InterceptorRoute and its ScaledObject), for fields
	// scalebench does not model. The autoscaler's own validation still applies.
	Patch map[string]any `json:"patch,omitempty"`
}

// HTTPScalingMetric is one of concurrency or requestRate.
type HTTPScalingMetric struct {
	Concurrency *HTTPConcurrency `json:"concurrency,omitempty"`
	RequestRate *HTTPRequestRate `json:"requestRate,omitempty"`
}

// HTTPConcurrency targets in-flight requests per replica.
type HTTPConcurrency struct {
	TargetValue int32 `json:"targetValue"`
}

// HTTPRequestRate targets requests per second per replica.
type HTTPRequestRate struct {
	TargetValue int32    `json:"targetValue"`
	Window      Duration `json:"window,omitempty"`
	Granularity Duration `json:"granularity,omitempty"`
}

// Load is what the scenario sends.
type Load struct {
	Type string    `json:"type"`
	HTTP *HTTPLoad `json:"http,omitempty"`
	SQS  *SQSLoad  `json:"sqs,omitempty"`
	CPU  *CPULoad  `json:"cpu,omitempty"`
	// Delay before the load starts, after the workload is ready.
	Delay Duration `json:"delay,omitempty"`
	// Placement is where the HTTP load generator runs: PlacementBench (the
	// default) or PlacementCluster (a Job in the cluster; see Cluster).
	Placement string `json:"placement,omitempty"`
	// Cluster configures PlacementCluster.
	Cluster *ClusterLoad `json:"cluster,omitempty"`
}

// HTTPLoad is HTTP load: closed-loop by default (bombardier -c -t -d), or
// open-loop at a constant arrival rate.
type HTTPLoad struct {
	// Mode is closed-loop (default: Connections each send their next request
	// when the previous response arrived; latency from the actual send) or
	// open-loop (requests arrive at Rate whatever the responses; latency and
	// Timeout from the scheduled send time, free of coordinated omission).
	Mode string `json:"mode,omitempty"`
	// Connections are the closed loop's workers; not used in open-loop mode.
	Connections int      `json:"connections,omitempty"`
	Duration    Duration `json:"duration,omitempty"`
	Timeout     Duration `json:"timeout,omitempty"`
	// Rate, closed-loop: caps requests per second across connections (0:
	// unlimited). Open-loop: the arrival rate in requests per second.
	Rate float64 `json:"rate,omitempty"`
	// MaxInFlight caps the requests in flight in open-loop mode (0: rate ×
	// timeout + 1, enough that only a stalled generator misses); a request
	// due while that many are in flight is missed, not sent.
	MaxInFlight int `json:"maxInFlight,omitempty"`
	// Steps replace Connections/Duration/Rate with a sequence.
	Steps []LoadStep `json:"steps,omitempty"`
	// Profile is an open-loop arrival profile of constant rates, ramps and
	// pauses; it replaces Duration, Rate, Connections and Steps.
	Profile []RateStep `json:"profile,omitempty"`
	// Host overrides the Host header (the HTTP add-on routes by it).
	Host string `json:"host,omitempty"`
	// Path is appended to the cluster's ingress URL.
	Path string `json:"path,omitempty"`
	// Generator is builtin (default) or bombardier.
	Generator string `json:"generator,omitempty"`
	// ColdStarts is how many cold-start probes to send from zero (keda-http).
	ColdStarts int `json:"coldStarts,omitempty"`
}

// LoadStep is one step of stepped load: closed-loop with Connections (or
// the load's), paced at Rate; open-loop at the arrival rate Rate.
type LoadStep struct {
	Duration    Duration `json:"duration"`
	Connections int      `json:"connections,omitempty"`
	Rate        float64  `json:"rate,omitempty"`
}

// SQSLoad is messages sent to a queue in batches.
type SQSLoad struct {
	Messages  int `json:"messages,omitempty"`
	BatchSize int `json:"batchSize,omitempty"`
	// Rate is batches per second (0: as fast as possible).
	Rate float64 `json:"rate,omitempty"`
	// InvalidShare is the fraction of messages that are invalid on purpose.
	InvalidShare float64 `json:"invalidShare,omitempty"`
	Queue        string  `json:"queue,omitempty"`
	// Profile is a message arrival profile (messages per second, ramps,
	// pauses); it replaces Messages and Rate: the count is its schedule's.
	Profile []RateStep `json:"profile,omitempty"`
}

// Describe says what is sent: "200 messages in batches of 10" or
// "arrivals 20/s for 30s, pause 10s in batches of 10".
func (q *SQSLoad) Describe() string {
	if len(q.Profile) > 0 {
		return fmt.Sprintf("message arrivals %s, in batches of up to %d", DescribeProfile(q.Profile), q.BatchSize)
	}
	return fmt.Sprintf("%d messages in batches of %d", q.Messages, q.BatchSize)
}

// CPULoad holds every Ready pod of the workload at a CPU utilization over
// time: a step at utilization U makes each pod use U % of its CPU request
// (100 % = exactly its request, the figure kubectl get hpa shows), capped at
// its CPU limit as CFS throttling would, on top of what requests cost it.
// It is a per-pod level, not a fixed total: pods that become Ready join at
// the step's level, and adding pods does not lower it. The last step holds
// until the run ends.
type CPULoad struct {
	Profile []CPUStep `json:"profile"`
}

// CPUStep is one step of a CPU profile.
type CPUStep struct {
	Utilization Percent  `json:"utilization"`
	For         Duration `json:"for"`
}

// Percent is a percentage written "180%" (or a bare number, 180).
type Percent struct{ Value float64 }

// MarshalJSON writes "180%".
func (p Percent) MarshalJSON() ([]byte, error) {
	return json.Marshal(strconv.FormatFloat(p.Value, 'f', -1, 64) + "%")
}

// UnmarshalJSON reads "180%", "180" or 180.
func (p *Percent) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	switch x := v.(type) {
	case float64:
		p.Value = x
		return nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(x), "%")), 64)
		if err != nil {
			return fmt.Errorf("want a percentage like \"180%%\"")
		}
		p.Value = f
		return nil
	}
	return fmt.Errorf("want a percentage like \"180%%\"")
}

// String is "180%".
func (p Percent) String() string { return strconv.FormatFloat(p.Value, 'f', -1, 64) + "%" }

// TotalDuration is the profile's length (the last step's end).
func (c *CPULoad) TotalDuration() time.Duration {
	var d time.Duration
	for _, s := range c.Profile {
		d += s.For.Duration
	}
	return d
}

// Expectations are checked against the observed timeline.
type Expectations struct {
	// ScaleUp: ready replicas reach Replicas within Within of the load start.
	ScaleUp *ScaleUpExpectation `json:"scaleUp,omitempty"`
	// MinStepInterval: consecutive scale-up steps no closer than this (the
	// HPA sync period).
	MinStepInterval Duration `json:"minStepInterval,omitempty"`
	// ScaleDown: back at Replicas within Within of the load end (or the
	// queue drained).
	ScaleDown *ScaleDownExpectation `json:"scaleDown,omitempty"`
	// Activation: KEDA activates the workload 0→1 within Within of the load
	// start (keda-sqs, keda-http).
	Activation *ActivationExpectation `json:"activation,omitempty"`
	// ColdStart: first response at zero replicas within Max (keda-http).
	ColdStart *ColdStartExpectation `json:"coldStart,omitempty"`
	// MaxMessagesLost (keda-sqs): messages neither processed nor left in the queue.
	MaxMessagesLost *int64 `json:"maxMessagesLost,omitempty"`
	// MaxErrorRate is the highest tolerated share of failed requests (0..1).
	// Every HTTP scenario checks it; DefaultMaxErrorRate when unset.
	MaxErrorRate *float64 `json:"maxErrorRate,omitempty"`
	// MaxReplicas: spec and ready replicas never exceed this from the load
	// start to the end of the run. Set it to the starting count to say the
	// workload must not scale. It must be below autoscaler.maxReplicas (the
	// autoscaler never exceeds its own maximum, so that could not fail).
	MaxReplicas *int32 `json:"maxReplicas,omitempty"`
}

// ScaleUpExpectation bounds the scale-up.
type ScaleUpExpectation struct {
	// Replicas to reach (ready). MaxReplicas if zero.
	Replicas int32 `json:"replicas,omitempty"`
	// AtMost: peak ready replicas must not exceed this. Unset, or at the
	// autoscaler's maxReplicas, it is not tested: the autoscaler itself
	// never goes above its maximum.
	AtMost int32    `json:"atMost,omitempty"`
	Within Duration `json:"within"`
}

// ScaleDownExpectation bounds the scale-down.
type ScaleDownExpectation struct {
	// Replicas to return to (MinReplicas by default; 0 for scale to zero).
	Replicas *int32   `json:"replicas,omitempty"`
	Within   Duration `json:"within"`
}

// ActivationExpectation bounds KEDA's 0→1 activation.
type ActivationExpectation struct {
	Within Duration `json:"within"`
}

// ColdStartExpectation bounds the cold start.
type ColdStartExpectation struct {
	Max Duration `json:"max"`
}

// Duration is a time.Duration written as a Go duration string ("3m", "15s").
type Duration struct{ time.Duration }

// D makes a Duration.
func D(d time.Duration) Duration { return Duration{d} }

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("want a duration string like \"30s\" or \"3m\"")
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("want a duration string like \"30s\" or \"3m\": %w", err)
	}
	d.Duration = v
	return nil
}

// IsZero reports an unset duration (for omitempty in YAML output).
func (d Duration) IsZero() bool { return d.Duration == 0 }
