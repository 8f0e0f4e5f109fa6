package dataplane

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// Pod annotations the data plane reads.
const (
	// AnnotationModel selects the emulated app ("cpu-load-gen", "hello", …).
	// Pods without it get no instance.
	AnnotationModel = "scalebench.dev/model"
	// AnnotationCPUPerRequest is the CPU time one request costs, a Go duration
	// ("3.5s"). Defaults: DefaultFib43CPU for cpu-load-gen, DefaultHelloCPU for hello.
	AnnotationCPUPerRequest = "scalebench.dev/cpu-per-request"
	// AnnotationLatency is the non-CPU time a hello request waits before it
	// answers (a Go duration, default 0).
	AnnotationLatency = "scalebench.dev/latency"
	// AnnotationMaxConcurrency caps the requests served at once; the rest
	// queue in arrival order. Default 0: every in-flight request shares the CPU.
	AnnotationMaxConcurrency = "scalebench.dev/max-concurrency"
	// AnnotationIdleCPU is the CPU an instance reports on top of its requests
	// (a quantity, default DefaultIdleCPUMilli as "1m").
	AnnotationIdleCPU = "scalebench.dev/idle-cpu"
)

// AnnotationUsageCPU is the pod annotation the data plane writes: kwok's
// "usage-from-annotation" ClusterResourceUsage turns it into the CPU usage
// metrics-server reports for the pod.
const AnnotationUsageCPU = "kwok.x-k8s.io/usage-cpu"

// AnnotationCPUSeconds is the pod annotation the data plane writes with the
// pod's cumulative CPU time in CPU-seconds ("12.345678"): the emulated
// cluster's kwok Metric serves it as container_cpu_usage_seconds_total, the
// counter metrics-server turns into a rate between two scrapes.
const AnnotationCPUSeconds = "scalebench.dev/cpu-usage-seconds"

// Model names.
const (
	ModelCPULoadGen = "cpu-load-gen"
	ModelHello      = "hello"
	// ModelSQSTransformer is the SQS customer-transformer sample; it needs a
	// Kubernetes client to resolve its pod's env, so the emulated cluster
	// registers it (NewSQSTransformerFunc) rather than DefaultModels.
	ModelSQSTransformer = "sqs-transformer"
)

// Calibrated defaults.
const (
	// DefaultFib43CPU is the CPU time of one cpu-load-gen request: naive
	// fib(43) (the sample's Go handler, 1.13e9 calls). Native Go (gc) takes
	// 2.1–2.6 CPU-seconds on the 2-core VMs the harness runs on (18 runs,
	// thread CPU time, median 2.45 s). The sample is built with TinyGo for
	// WASI (size-optimised) and run by wasmtime, assumed 1.5× slower than
	// native Go: 2.45 s × 1.5 ≈ 3.7 s. At the samples' 500m limit one request
	// alone takes 7.4 s — longer than the docs' bombardier timeout (-t 5s).
	DefaultFib43CPU = 3700 * time.Millisecond
	// DefaultHelloCPU is the CPU time of one hello request (instantiating a
	// small component and writing a response).
	DefaultHelloCPU = 300 * time.Microsecond
	// DefaultIdleCPUMilli is the usage an idle instance reports: 1m, like
	// kwok's own default for pods without the annotation. Not 0 on purpose:
	// metrics-server drops containers whose cumulative CPU is 0, and the HPA
	// counts pods without metrics as using 100% of their request when it
	// considers scaling down, which would hold back scale-down.
	DefaultIdleCPUMilli = 1
)

// ModelSpec is what a model is built from: one ready pod.
type ModelSpec struct {
	Namespace, Name string
	// PodIP is the instance's address.
	PodIP string
	// Annotations are the pod's annotations (model parameters).
	Annotations map[string]string
	// CPULimitMilli is the sum of the containers' CPU limits in millicores;
	// 0 when a container has none (unlimited).
	CPULimitMilli int64
	// CPURequestMilli is the sum of the containers' CPU requests: the pod's
	// weight when its node's CPUs are contended.
	CPURequestMilli int64
	// Node is the CPU of the pod's node, shared with the node's other pods;
	// nil: the pod is alone on an unlimited node.
	Node   *NodeCPU
	Clock  Clock
	Logger *slog.Logger
}

// Model is the behaviour of one emulated app instance.
//
// The instance around it tracks in-flight HTTP requests and drains them;
// models with background work (an SQS poller) start it in Start and end it in
// Stop.
type Model interface {
	// Start begins background work; ctx ends when the instance is killed.
	// HTTP-only models return nil at once.
	Start(ctx context.Context) error
	// ServeHTTP serves one request. It must return soon after r.Context()
	// is done (the client gave up or the instance was killed), writing
	// nothing in that case.
	ServeHTTP(w http.ResponseWriter, r *http.Request)
	// CPUUsed is the cumulative CPU time the instance has consumed.
	CPUUsed() time.Duration
	// Stop stops taking new background work and returns when the work in
	// hand is done or ctx is done (the pod's grace period ran out).
	Stop(ctx context.Context) error
}

// SteadyCPU is implemented by models whose CPU can hold a steady use
// besides their requests' work (a CPU profile's level, Plane.SetCPUUtilization).
type SteadyCPU interface {
	// SetSteadyCPU holds the instance at milli millicores (capped at its
	// limit with its requests' work); 0 stops it.
	SetSteadyCPU(milli int64)
}

// NewModelFunc builds a model for one ready pod.
type NewModelFunc func(spec ModelSpec) (Model, error)

// DefaultModels are the built-in models by name.
func DefaultModels() map[string]NewModelFunc {
	return map[string]NewModelFunc{
		ModelCPULoadGen: NewCPULoadGen,
		ModelHello:      NewHello,
	}
}

// Duration reads a Go duration annotation, def when absent.
func (s ModelSpec) Duration(key string, def time.Duration) (time.Duration, error) {
	v, ok := s.Annotations[key]
	if !ok || v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("pod %s/%s: annotation %s=%q: want a non-negative duration", s.Namespace, s.Name, key, v)
	}
	return d, nil
}

// Int reads an integer annotation, def when absent.
func (s ModelSpec) Int(key string, def int) (int, error) {
	v, ok := s.Annotations[key]
	if !ok || v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("pod %s/%s: annotation %s=%q: want a non-negative integer", s.Namespace, s.Name, key, v)
	}
	return n, nil
}

// NewCPU is the pod's CPU: on its node when Node is set, alone otherwise,
// limited to CPULimitMilli and running at most maxRunning jobs at once.
func (s ModelSpec) NewCPU(maxRunning int) *CPU {
	if s.Node == nil {
		return NewCPU(s.Clock, s.CPULimitMilli, maxRunning)
	}
	return s.Node.NewCPU(s.CPULimitMilli, s.CPURequestMilli, maxRunning)
}

// podCPURequestMilli sums the containers' CPU requests (a container without
// one requests its limit, as the API server defaults it, or nothing).
func podCPURequestMilli(pod *corev1.Pod) int64 {
	var sum int64
	for _, c := range pod.Spec.Containers {
		if q, ok := c.Resources.Requests[corev1.ResourceCPU]; ok {
			sum += q.MilliValue()
		} else if q, ok := c.Resources.Limits[corev1.ResourceCPU]; ok {
			sum += q.MilliValue()
		}
	}
	return sum
}

// podCPULimitMilli sums the containers' CPU limits; 0 means unlimited (a
// container without a limit).
func podCPULimitMilli(pod *corev1.Pod) int64 {
	var sum int64
	for _, c := range pod.Spec.Containers {
		q, ok := c.Resources.Limits[corev1.ResourceCPU]
		if !ok || q.IsZero() {
			return 0
		}
		sum += q.MilliValue()
	}
	return sum
}

// idleCPUMilli reads AnnotationIdleCPU.
func idleCPUMilli(pod *corev1.Pod) (int64, error) {
	v, ok := pod.Annotations[AnnotationIdleCPU]
	if !ok || v == "" {
		return DefaultIdleCPUMilli, nil
	}
	q, err := resource.ParseQuantity(v)
	if err != nil || q.Sign() < 0 {
		return 0, fmt.Errorf("pod %s/%s: annotation %s=%q: want a CPU quantity", pod.Namespace, pod.Name, AnnotationIdleCPU, v)
	}
	return q.MilliValue(), nil
}

func specFor(pod *corev1.Pod, clock Clock, node *NodeCPU, log *slog.Logger) ModelSpec {
	return ModelSpec{
		Namespace:       pod.Namespace,
		Name:            pod.Name,
		PodIP:           pod.Status.PodIP,
		Annotations:     pod.Annotations,
		CPULimitMilli:   podCPULimitMilli(pod),
		CPURequestMilli: podCPURequestMilli(pod),
		Node:            node,
		Clock:           clock,
		Logger:          log.With("pod", pod.Namespace+"/"+pod.Name),
	}
}
