package manifests

import (
	"io"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/scalebench/scalebench/scenario"
)

// Scenario describes the manifests as a scenario's workload and autoscaler
// (with the scenario defaults for the rest), so that the budget model and
// the expectations derived from it apply to the manifests' own numbers.
func (c *Config) Scenario(name string) (*scenario.Scenario, error) {
	a := c.Scaler
	s := &scenario.Scenario{Metadata: scenario.Metadata{Name: name, Description: "from manifests " + c.Source}, Source: c.Source}
	t := c.Target
	if t.CPULimit == "" && (a.Type == TypeHPA || a.Type == TypeKEDACPU) {
		// A request may use one core at most (one thread); the model needs a
		// bound on a saturated pod's usage.
		t.CPULimit = "1"
		c.Notes = append(c.Notes, t.Kind+"/"+t.Name+": no limits.cpu: the budget takes a saturated pod at one core (1000m)")
	}
	s.Spec.Workload = scenario.Workload{Kind: t.Kind, Name: t.Name, Image: t.Image, Executor: t.Executor,
		Resources: scenario.Resources{
			Limits:   scenario.ResourceList{CPU: t.CPULimit, Memory: t.MemoryLimit},
			Requests: scenario.ResourceList{CPU: t.CPURequest, Memory: t.MemoryRequest},
		}}
	sa := scenario.Autoscaler{Type: a.Type, MinReplicas: &a.MinReplicas, MaxReplicas: a.MaxReplicas, Behavior: a.Behavior}
	switch a.Type {
	case TypeHPA, TypeKEDACPU:
		sa.CPUUtilization = a.CPUUtilization
	}
	switch a.Type {
	case TypeKEDACPU, TypeKEDASQS:
		sa.PollingInterval, sa.CooldownPeriod = a.PollingInterval, a.CooldownPeriod
	}
	if a.Type == TypeKEDASQS {
		sa.QueueLength, sa.ActivationQueueLength = a.QueueLength, a.ActivationQueue
	}
	if a.Type == TypeKEDAHTTP {
		sa.API = scenario.HTTPAPIInterceptorRoute
		if a.Kind == "HTTPScaledObject" {
			sa.API = scenario.HTTPAPIHTTPScaledObject
		}
		sa.ScaledownPeriod = a.ScaledownPeriod
		sa.Hosts = a.Hosts
		if len(sa.Hosts) == 0 {
			sa.Hosts = []string{t.Name + ".example"}
		}
		switch {
		case a.ConcurrencyTarget != nil:
			sa.ScalingMetric = &scenario.HTTPScalingMetric{Concurrency: &scenario.HTTPConcurrency{TargetValue: *a.ConcurrencyTarget}}
		case a.RequestRateTarget != nil:
			sa.ScalingMetric = &scenario.HTTPScalingMetric{RequestRate: &scenario.HTTPRequestRate{TargetValue: *a.RequestRateTarget}}
		}
	}
	s.Spec.Autoscaler = sa
	scenario.Default(s)
	if errs := scenario.Validate(s); len(errs) > 0 {
		return nil, &scenario.ValidationError{Source: c.Source + " (as a scenario)", Errs: errs}
	}
	return s, nil
}

// Resolve is scenario.Resolve, with the manifests a scenario file names in
// spec.workload.manifests read and filled in (Fill).
func Resolve(nameOrPath string, stdin io.Reader) (*scenario.Scenario, error) {
	s, err := scenario.Resolve(nameOrPath)
	if err != nil {
		return nil, err
	}
	if s.Spec.Workload.Manifests == "" {
		return s, nil
	}
	return s, Fill(s, stdin)
}

// Fill reads the manifests s.Spec.Workload.Manifests names (a file, a
// folder or "-" for stdin; relative to the scenario file's folder) and
// fills the scenario's workload and autoscaler from them: s.Manifests holds
// the objects, applied as they are. The scenario keeps its load, its
// emulation (cpu-load-gen unless it names a model) and its explicit
// expectations. What cannot run as given is a *Error naming object and
// field; a scenario the manifests make invalid (a CPU profile for an HTTP
// autoscaler) a *scenario.ValidationError.
func Fill(s *scenario.Scenario, stdin io.Reader) error {
	path := s.Spec.Workload.Manifests
	if path != "-" && !filepath.IsAbs(path) && !strings.HasPrefix(s.Source, "builtin:") && s.Source != "" {
		path = filepath.Join(filepath.Dir(s.Source), path)
	}
	c, err := Load(path, stdin)
	if err != nil {
		return err
	}
	if c.Scaler.Type == TypeKEDASQS {
		// The keda-sqs run makes its own queue and wires its own scaler to
		// it; a user's ScaledObject names theirs.
		return &Error{Source: c.Source, Errs: field.ErrorList{field.Forbidden(objPath(c.find(c.Scaler.Kind, c.Scaler.Name)).Child("spec", "triggers"),
			"an aws-sqs-queue trigger from manifests cannot run yet: scalebench would have to point it at the queue it creates; use autoscaler type keda-sqs in the scenario instead")}}
	}
	from, err := c.Scenario(s.Metadata.Name)
	if err != nil {
		return err
	}
	w := from.Spec.Workload
	w.Manifests, w.Emulation = s.Spec.Workload.Manifests, s.Spec.Workload.Emulation
	if w.Emulation.Model == "" {
		w.Emulation.Model = scenario.ModelCPULoadGen
	}
	s.Spec.Workload, s.Spec.Autoscaler = w, from.Spec.Autoscaler
	a := c.Scaler
	s.Manifests = &scenario.Manifests{Source: c.Source, Objects: c.Objects, AutoscalerKind: a.Kind, AutoscalerName: a.Name,
		HPAName: a.HPAName, ScaledObjectName: a.ScaledObjectName, Notes: c.Notes}
	scenario.Default(s)
	if errs := scenario.Validate(s); len(errs) > 0 {
		return &scenario.ValidationError{Source: s.Source + " with manifests " + c.Source, Errs: errs}
	}
	return nil
}
