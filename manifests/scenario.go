package manifests

import (
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
