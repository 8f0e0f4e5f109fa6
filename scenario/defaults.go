package scenario

import (
	"fmt"
	"strconv"
	"time"

	"k8s.io/utils/ptr"
)

// Defaults from the Spin operator's cpu-load-gen sample and the SpinKube docs.
const (
	DefaultNamespace   = "default"
	DefaultExecutor    = "containerd-shim-spin"
	DefaultCPULimit    = "500m"
	DefaultMemLimit    = "500Mi"
	DefaultCPURequest  = "100m"
	DefaultMemRequest  = "400Mi"
	DefaultConnections = 40
	DefaultDuration    = 3 * time.Minute
	DefaultTimeout     = 5 * time.Second
	DefaultBatchSize   = 10
	// DefaultMaxErrorRate is the share of failed HTTP requests a scenario
	// tolerates unless it sets expectations.maxErrorRate: 5 %, i.e. 95 % of
	// the requests sent during the load, scale-up included, must succeed.
	// It leaves room for the requests a saturated replica loses before the
	// autoscaler's first reaction (a few sync periods of a 3-minute load),
	// and fails any run in which the app was not served most of the time.
	DefaultMaxErrorRate = 0.05
	// KEDACPUScaledObjectName is the keda-cpu ScaledObject's name, the
	// SpinKube KEDA tutorial's.
	KEDACPUScaledObjectName = "cpu-scaling"
	// HPASyncPeriod is kube-controller-manager's default
	// --horizontal-pod-autoscaler-sync-period.
	HPASyncPeriod = 15 * time.Second
)

// Default fills unset fields with their documented defaults.
func Default(s *Scenario) {
	if s.APIVersion == "" {
		s.APIVersion = APIVersion
	}
	if s.Kind == "" {
		s.Kind = Kind
	}
	sp := &s.Spec
	if sp.Namespace == "" {
		sp.Namespace = DefaultNamespace
	}
	defaultApps(sp.Apps)
	if sp.Workload.Manifests != "" && s.Manifests == nil {
		// The workload and autoscaler come from the manifests: package
		// manifests fills them and defaults the rest then.
		return
	}
	w := &sp.Workload
	if w.Kind == "" {
		w.Kind = WorkloadSpinApp
	}
	if w.Executor == "" && w.Kind == WorkloadSpinApp {
		w.Executor = DefaultExecutor
	}
	setStr(&w.Resources.Limits.CPU, DefaultCPULimit)
	setStr(&w.Resources.Limits.Memory, DefaultMemLimit)
	setStr(&w.Resources.Requests.CPU, DefaultCPURequest)
	setStr(&w.Resources.Requests.Memory, DefaultMemRequest)

	a := &sp.Autoscaler
	if a.MinReplicas == nil {
		switch a.Type {
		case KEDASQS, KEDAHTTP:
			a.MinReplicas = ptr.To[int32](0)
		default:
			a.MinReplicas = ptr.To[int32](1)
		}
	}
	switch a.Type {
	case HPA, KEDACPU:
		if a.CPUUtilization == nil {
			a.CPUUtilization = ptr.To[int32](50)
		}
	}
	// KEDA's polling and cooldown matter only to scale to and from zero:
	// defaulted for keda-sqs, left to KEDA (and reported unset) otherwise.
	switch a.Type {
	case KEDASQS:
		if a.PollingInterval == nil {
			a.PollingInterval = ptr.To[int32](30)
		}
		if a.CooldownPeriod == nil {
			a.CooldownPeriod = ptr.To[int32](300)
		}
	}
	if a.Type == KEDASQS && a.QueueLength == nil {
		a.QueueLength = ptr.To[int32](5)
	}
	if a.Type == KEDAHTTP && a.ScaledownPeriod == nil {
		a.ScaledownPeriod = ptr.To[int32](300)
	}
	if a.Type == KEDAHTTP && a.API == "" {
		a.API = HTTPAPIInterceptorRoute
	}

	l := &sp.Load
	if l.Type == "" && l.CPU != nil {
		l.Type = LoadCPU
	}
	if l.Type == "" {
		if a.Type == KEDASQS {
			l.Type = LoadSQS
		} else {
			l.Type = LoadHTTP
		}
	}
	defaultPlacement(l)
	if l.Type == LoadHTTP {
		if l.HTTP == nil {
			l.HTTP = &HTTPLoad{}
		}
		h := l.HTTP
		if h.Mode == "" && len(h.Profile) > 0 {
			h.Mode = LoadOpenLoop // a profile is arrivals at its rates
		}
		if h.Mode == "" {
			h.Mode = LoadClosedLoop
		}
		if h.Connections == 0 && len(h.Steps) == 0 && h.Mode == LoadClosedLoop && len(h.Profile) == 0 {
			h.Connections = DefaultConnections
		}
		if h.Duration.Duration == 0 && len(h.Steps) == 0 && len(h.Profile) == 0 {
			h.Duration = D(DefaultDuration)
		}
		if h.Timeout.Duration == 0 {
			h.Timeout = D(DefaultTimeout)
		}
		if h.Generator == "" {
			h.Generator = GeneratorBuiltin
		}
		if h.Path == "" {
			h.Path = "/"
		}
		if h.Host == "" && a.Type == KEDAHTTP && len(a.Hosts) > 0 {
			h.Host = a.Hosts[0]
		}
	}
	if l.Type == LoadSQS {
		if l.SQS == nil {
			l.SQS = &SQSLoad{}
		}
		if l.SQS.BatchSize == 0 {
			l.SQS.BatchSize = DefaultBatchSize
		}
		if l.SQS.Queue == "" {
			l.SQS.Queue = w.Name
		}
	}
	if e := sp.Expectations.ScaleUp; e != nil && e.Replicas == 0 {
		e.Replicas = a.MaxReplicas
	}
	if l.Type == LoadHTTP && sp.Expectations.MaxErrorRate == nil {
		sp.Expectations.MaxErrorRate = ptr.To(DefaultMaxErrorRate)
	}
	if e := sp.Expectations.ScaleDown; e != nil && e.Replicas == nil {
		e.Replicas = ptr.To(*a.MinReplicas)
	}
}

func setStr(p *string, v string) {
	if *p == "" {
		*p = v
	}
}

// Summary is the load in a few words: mode, connections or rate, timeout and
// duration, e.g. "closed-loop -c 40 -t 5s -d 3m0s".
func (h *HTTPLoad) Summary() string {
	rate := strconv.FormatFloat(h.Rate, 'f', -1, 64)
	switch {
	case len(h.Profile) > 0:
		return fmt.Sprintf("open-loop profile %s -t %s", DescribeProfile(h.Profile), h.Timeout)
	case h.Mode == LoadOpenLoop && len(h.Steps) > 0:
		return fmt.Sprintf("open-loop %d rate steps -t %s -d %s", len(h.Steps), h.Timeout, h.TotalDuration())
	case h.Mode == LoadOpenLoop:
		return fmt.Sprintf("open-loop %s/s -t %s -d %s", rate, h.Timeout, h.TotalDuration())
	case len(h.Steps) > 0:
		return fmt.Sprintf("closed-loop %d steps -t %s -d %s", len(h.Steps), h.Timeout, h.TotalDuration())
	case h.Rate > 0:
		return fmt.Sprintf("closed-loop -c %d -r %s -t %s -d %s", h.Connections, rate, h.Timeout, h.TotalDuration())
	default:
		return fmt.Sprintf("closed-loop -c %d -t %s -d %s", h.Connections, h.Timeout, h.TotalDuration())
	}
}

// TotalDuration is the total duration of the HTTP load (steps summed).
func (h *HTTPLoad) TotalDuration() time.Duration {
	if len(h.Profile) > 0 {
		return ProfileDuration(h.Profile)
	}
	if len(h.Steps) == 0 {
		return h.Duration.Duration
	}
	var d time.Duration
	for _, s := range h.Steps {
		d += s.Duration.Duration
	}
	return d
}

// ScaledObjectName is the KEDA ScaledObject that scales the workload: the
// one scalebench applies (keda-cpu, keda-sqs, keda-http with an
// InterceptorRoute) or the one the HTTP add-on makes of the
// HTTPScaledObject (keda-http), named as the workload. Empty for hpa.
func (s *Scenario) ScaledObjectName() string {
	if m := s.Manifests; m != nil {
		return m.ScaledObjectName
	}
	switch s.Spec.Autoscaler.Type {
	case KEDACPU:
		return KEDACPUScaledObjectName + s.App
	case KEDASQS, KEDAHTTP:
		return s.Spec.Workload.Name
	}
	return ""
}

// HPAName is the HorizontalPodAutoscaler that ends up scaling the workload:
// scalebench's own (hpa) or KEDA's keda-hpa-<ScaledObject>.
func (s *Scenario) HPAName() string {
	if m := s.Manifests; m != nil {
		return m.HPAName
	}
	if so := s.ScaledObjectName(); so != "" {
		return "keda-hpa-" + so
	}
	return s.Spec.Workload.Name
}
