package scenario

import (
	"fmt"
	"math"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// knobOwners says which autoscaler types each knob belongs to.
var knobOwners = map[string][]string{
	"cpuUtilization":        {HPA, KEDACPU},
	"behavior":              {HPA, KEDACPU, KEDASQS, KEDAHTTP},
	"pollingInterval":       {KEDACPU, KEDASQS},
	"cooldownPeriod":        {KEDACPU, KEDASQS},
	"queueLength":           {KEDASQS},
	"activationQueueLength": {KEDASQS},
	"scaledownPeriod":       {KEDAHTTP},
	"scalingMetric":         {KEDAHTTP},
	"hosts":                 {KEDAHTTP},
	"api":                   {KEDAHTTP},
}

// Validate checks a defaulted scenario and returns every problem by path.
func Validate(s *Scenario) field.ErrorList {
	var errs field.ErrorList
	if s.APIVersion != APIVersion {
		errs = append(errs, field.NotSupported(field.NewPath("apiVersion"), s.APIVersion, []string{APIVersion}))
	}
	if s.Kind != Kind {
		errs = append(errs, field.NotSupported(field.NewPath("kind"), s.Kind, []string{Kind}))
	}
	md := field.NewPath("metadata")
	if s.Metadata.Name == "" {
		errs = append(errs, field.Required(md.Child("name"), "a scenario needs a name"))
	} else {
		for _, m := range validation.IsDNS1123Label(s.Metadata.Name) {
			errs = append(errs, field.Invalid(md.Child("name"), s.Metadata.Name, m))
		}
	}
	sp := field.NewPath("spec")
	for _, m := range validation.IsDNS1123Label(s.Spec.Namespace) {
		errs = append(errs, field.Invalid(sp.Child("namespace"), s.Spec.Namespace, m))
	}
	errs = append(errs, validateApps(sp.Child("apps"), &s.Spec)...)
	errs = append(errs, validateCluster(sp.Child("cluster"), s.Spec.Cluster)...)
	if s.Spec.Workload.Manifests != "" && s.Manifests == nil {
		// The rest is validated once the manifests are read (package
		// manifests), with the workload and autoscaler they describe.
		return append(errs, validateFromManifests(sp, &s.Spec)...)
	}
	errs = append(errs, validateWorkload(sp.Child("workload"), &s.Spec.Workload, s.Spec.Autoscaler.Type)...)
	errs = append(errs, validateAutoscaler(sp.Child("autoscaler"), &s.Spec.Autoscaler)...)
	errs = append(errs, validateLoad(sp.Child("load"), &s.Spec.Load, &s.Spec.Autoscaler)...)
	errs = append(errs, validateExpectations(sp.Child("expectations"), &s.Spec)...)
	return errs
}

// Bounds of spec.cluster.nodes (the emulated cluster's: one pod CIDR per
// node, at most 1000 pods in it).
const (
	MaxClusterNodes = 1000
	MaxNodePods     = 1000
)

func validateCluster(p *field.Path, c *ClusterNeeds) field.ErrorList {
	if c == nil || c.Nodes == nil {
		return nil
	}
	var errs field.ErrorList
	np := p.Child("nodes")
	n := c.Nodes
	if n.Count < 0 || n.Count > MaxClusterNodes {
		errs = append(errs, field.Invalid(np.Child("count"), n.Count, fmt.Sprintf("want 1 to %d nodes (leave it out to derive it from the maximum replicas)", MaxClusterNodes)))
	}
	if n.Pods < 0 || n.Pods > MaxNodePods {
		errs = append(errs, field.Invalid(np.Child("pods"), n.Pods, fmt.Sprintf("want 1 to %d pods per node", MaxNodePods)))
	}
	if n.CPU != "" {
		if q, err := resource.ParseQuantity(n.CPU); err != nil || q.MilliValue() < 1 {
			errs = append(errs, field.Invalid(np.Child("cpu"), n.CPU, "want a positive CPU quantity such as 32 or 3500m"))
		}
	}
	if n.Memory != "" {
		if q, err := resource.ParseQuantity(n.Memory); err != nil || q.Sign() <= 0 {
			errs = append(errs, field.Invalid(np.Child("memory"), n.Memory, "want a positive memory quantity such as 256Gi"))
		}
	}
	return errs
}

// validateFromManifests checks that a scenario whose workload comes from
// manifests leaves the workload (but its emulation) and the autoscaler to
// them.
func validateFromManifests(sp *field.Path, s *Spec) field.ErrorList {
	var errs field.ErrorList
	wp := sp.Child("workload")
	w := s.Workload
	for name, set := range map[string]bool{
		"kind": w.Kind != "", "name": w.Name != "", "image": w.Image != "", "executor": w.Executor != "",
		"resources": w.Resources != (Resources{}),
	} {
		if set {
			errs = append(errs, field.Forbidden(wp.Child(name), "set with workload.manifests: the manifests say it"))
		}
	}
	if !reflect.DeepEqual(s.Autoscaler, Autoscaler{}) {
		errs = append(errs, field.Forbidden(sp.Child("autoscaler"), "set with workload.manifests: the autoscaler comes from the manifests (an HPA, ScaledObject or HTTPScaledObject)"))
	}
	sort.Slice(errs, func(i, j int) bool { return errs[i].Field < errs[j].Field })
	return errs
}

func validateWorkload(p *field.Path, w *Workload, autoscaler string) field.ErrorList {
	var errs field.ErrorList
	if !slices.Contains([]string{WorkloadSpinApp, WorkloadDeployment}, w.Kind) {
		errs = append(errs, field.NotSupported(p.Child("kind"), w.Kind, []string{WorkloadSpinApp, WorkloadDeployment}))
	}
	if w.Name == "" {
		errs = append(errs, field.Required(p.Child("name"), "the workload's name"))
	} else {
		for _, m := range validation.IsDNS1123Label(w.Name) {
			errs = append(errs, field.Invalid(p.Child("name"), w.Name, m))
		}
	}
	if w.Image == "" {
		errs = append(errs, field.Required(p.Child("image"), "an OCI reference of the Spin app"))
	}
	if w.Kind == WorkloadDeployment && w.Executor != "" {
		errs = append(errs, field.Forbidden(p.Child("executor"), "only for kind SpinApp"))
	}
	rp := p.Child("resources")
	for _, q := range []struct {
		path *field.Path
		v    string
	}{
		{rp.Child("limits", "cpu"), w.Resources.Limits.CPU},
		{rp.Child("limits", "memory"), w.Resources.Limits.Memory},
		{rp.Child("requests", "cpu"), w.Resources.Requests.CPU},
		{rp.Child("requests", "memory"), w.Resources.Requests.Memory},
	} {
		if _, err := resource.ParseQuantity(q.v); err != nil {
			errs = append(errs, field.Invalid(q.path, q.v, "want a Kubernetes quantity like 500m or 400Mi"))
		}
	}
	if lim, err1 := resource.ParseQuantity(w.Resources.Limits.CPU); err1 == nil {
		if req, err2 := resource.ParseQuantity(w.Resources.Requests.CPU); err2 == nil && req.Cmp(lim) > 0 {
			errs = append(errs, field.Invalid(rp.Child("requests", "cpu"), w.Resources.Requests.CPU, "must not exceed limits.cpu "+w.Resources.Limits.CPU))
		}
	}
	ep := p.Child("emulation")
	models := []string{ModelCPULoadGen, ModelHello, ModelSQSTransformer}
	if w.Emulation.Model != "" && !slices.Contains(models, w.Emulation.Model) {
		errs = append(errs, field.NotSupported(ep.Child("model"), w.Emulation.Model, models))
	}
	for name, d := range map[string]Duration{"cpuPerRequest": w.Emulation.CPUPerRequest, "startupLatency": w.Emulation.StartupLatency, "latency": w.Emulation.Latency} {
		if d.Duration < 0 {
			errs = append(errs, field.Invalid(ep.Child(name), d.String(), "must not be negative"))
		}
	}
	return errs
}

func validateAutoscaler(p *field.Path, a *Autoscaler) field.ErrorList {
	var errs field.ErrorList
	if !slices.Contains(AutoscalerTypes, a.Type) {
		errs = append(errs, field.NotSupported(p.Child("type"), a.Type, AutoscalerTypes))
		return errs
	}
	set := map[string]bool{
		"cpuUtilization":        a.CPUUtilization != nil,
		"behavior":              a.Behavior != nil,
		"pollingInterval":       a.PollingInterval != nil,
		"cooldownPeriod":        a.CooldownPeriod != nil,
		"queueLength":           a.QueueLength != nil,
		"activationQueueLength": a.ActivationQueueLength != nil,
		"scaledownPeriod":       a.ScaledownPeriod != nil,
		"scalingMetric":         a.ScalingMetric != nil,
		"hosts":                 len(a.Hosts) > 0,
		"api":                   a.API != "",
	}
	for _, knob := range sortedKeys(knobOwners) {
		if set[knob] && !slices.Contains(knobOwners[knob], a.Type) {
			errs = append(errs, field.Forbidden(p.Child(knob), fmt.Sprintf("not a knob of autoscaler type %q (it belongs to: %v)", a.Type, knobOwners[knob])))
		}
	}
	min := *a.MinReplicas
	if min < 0 {
		errs = append(errs, field.Invalid(p.Child("minReplicas"), min, "must be >= 0"))
	}
	if min == 0 && (a.Type == HPA || a.Type == KEDACPU) {
		errs = append(errs, field.Invalid(p.Child("minReplicas"), min, "must be >= 1 for "+a.Type+": a CPU metric cannot wake a workload at zero (scale to zero needs keda-sqs or keda-http)"))
	}
	if a.MaxReplicas < 1 {
		errs = append(errs, field.Required(p.Child("maxReplicas"), "must be >= 1"))
	} else if a.MaxReplicas < min {
		errs = append(errs, field.Invalid(p.Child("maxReplicas"), a.MaxReplicas, fmt.Sprintf("must be >= minReplicas (%d)", min)))
	}
	if a.CPUUtilization != nil && (*a.CPUUtilization < 1 || *a.CPUUtilization > 1000) {
		errs = append(errs, field.Invalid(p.Child("cpuUtilization"), *a.CPUUtilization, "a percentage of the CPU request, 1..1000"))
	}
	for name, v := range map[string]*int32{"pollingInterval": a.PollingInterval, "cooldownPeriod": a.CooldownPeriod, "scaledownPeriod": a.ScaledownPeriod, "queueLength": a.QueueLength} {
		if v != nil && *v < 1 {
			errs = append(errs, field.Invalid(p.Child(name), *v, "must be >= 1"))
		}
	}
	if v := a.ActivationQueueLength; v != nil && *v < 0 {
		errs = append(errs, field.Invalid(p.Child("activationQueueLength"), *v, "must be >= 0"))
	}
	if a.Type == KEDAHTTP {
		if len(a.Hosts) == 0 {
			errs = append(errs, field.Required(p.Child("hosts"), "the Host names the HTTP add-on routes to the workload"))
		}
		for i, h := range a.Hosts {
			for _, m := range validation.IsDNS1123Subdomain(h) {
				errs = append(errs, field.Invalid(p.Child("hosts").Index(i), h, m))
			}
		}
		if !slices.Contains(HTTPAPIs, a.API) {
			errs = append(errs, field.NotSupported(p.Child("api"), a.API, HTTPAPIs))
		}
		if a.API == HTTPAPIHTTPScaledObject && a.Behavior != nil {
			errs = append(errs, field.Forbidden(p.Child("behavior"), "an HTTPScaledObject has no HPA behavior (the add-on makes its ScaledObject without one); use api: "+HTTPAPIInterceptorRoute))
		}
		if m := a.ScalingMetric; m != nil {
			mp := p.Child("scalingMetric")
			if (m.Concurrency == nil) == (m.RequestRate == nil) {
				errs = append(errs, field.Invalid(mp, "", "set exactly one of: concurrency, requestRate"))
			}
			if m.Concurrency != nil && m.Concurrency.TargetValue < 1 {
				errs = append(errs, field.Invalid(mp.Child("concurrency", "targetValue"), m.Concurrency.TargetValue, "must be >= 1"))
			}
			if m.RequestRate != nil && m.RequestRate.TargetValue < 1 {
				errs = append(errs, field.Invalid(mp.Child("requestRate", "targetValue"), m.RequestRate.TargetValue, "must be >= 1"))
			}
		}
	}
	return errs
}

func validateLoad(p *field.Path, l *Load, a *Autoscaler) field.ErrorList {
	var errs field.ErrorList
	types := []string{LoadHTTP, LoadSQS, LoadCPU}
	if !slices.Contains(types, l.Type) {
		return append(errs, field.NotSupported(p.Child("type"), l.Type, types))
	}
	errs = append(errs, validatePlacement(p, l)...)
	if l.Type != LoadCPU && l.CPU != nil {
		errs = append(errs, field.Forbidden(p.Child("cpu"), "only for load type cpu"))
	}
	if l.Type == LoadCPU {
		return append(errs, validateCPULoad(p, l, a)...)
	}
	if l.Type == LoadSQS && a.Type != KEDASQS {
		errs = append(errs, field.Invalid(p.Child("type"), l.Type, "sqs load needs autoscaler type keda-sqs"))
	}
	if l.Type == LoadHTTP && a.Type == KEDASQS {
		errs = append(errs, field.NotSupported(p.Child("type"), l.Type, []string{LoadSQS}))
	}
	if l.Type == LoadHTTP && l.SQS != nil {
		errs = append(errs, field.Forbidden(p.Child("sqs"), "only for load type sqs"))
	}
	if l.Type == LoadSQS && l.HTTP != nil {
		errs = append(errs, field.Forbidden(p.Child("http"), "only for load type http"))
	}
	if l.Delay.Duration < 0 {
		errs = append(errs, field.Invalid(p.Child("delay"), l.Delay.String(), "must not be negative"))
	}
	if h := l.HTTP; h != nil && l.Type == LoadHTTP {
		errs = append(errs, validateHTTPLoad(p.Child("http"), h, a)...)
	}
	if q := l.SQS; q != nil && l.Type == LoadSQS {
		qp := p.Child("sqs")
		switch {
		case len(q.Profile) > 0:
			errs = append(errs, validateRateProfile(qp.Child("profile"), q.Profile, "messages")...)
			if q.Messages != 0 {
				errs = append(errs, field.Forbidden(qp.Child("messages"), "set either profile or messages: the profile's schedule gives the count"))
			}
			if q.Rate != 0 {
				errs = append(errs, field.Forbidden(qp.Child("rate"), "set either profile or rate: the profile gives the rates"))
			}
		case q.Messages < 1:
			errs = append(errs, field.Invalid(qp.Child("messages"), q.Messages, "must be >= 1 (or an arrival profile: profile: [{rate: 20/s, for: 30s}])"))
		}
		if q.BatchSize < 1 || q.BatchSize > 10 {
			errs = append(errs, field.Invalid(qp.Child("batchSize"), q.BatchSize, "1..10 (SQS SendMessageBatch takes at most 10)"))
		}
		if q.Rate < 0 {
			errs = append(errs, field.Invalid(qp.Child("rate"), q.Rate, "must not be negative"))
		}
		if q.InvalidShare < 0 || q.InvalidShare >= 1 {
			errs = append(errs, field.Invalid(qp.Child("invalidShare"), q.InvalidShare, "a fraction in [0, 1)"))
		}
	}
	return errs
}

// validateCPULoad checks a CPU-utilization profile: it drives a CPU
// metric, so it needs an autoscaler that reads one.
func validateCPULoad(p *field.Path, l *Load, a *Autoscaler) field.ErrorList {
	var errs field.ErrorList
	if a.Type != HPA && a.Type != KEDACPU {
		errs = append(errs, field.Invalid(p.Child("type"), l.Type, "a CPU profile needs an autoscaler that reads CPU utilization (hpa, keda-cpu), not "+a.Type))
	}
	for name, set := range map[string]bool{"http": l.HTTP != nil, "sqs": l.SQS != nil} {
		if set {
			errs = append(errs, field.Forbidden(p.Child(name), "only for load type "+name))
		}
	}
	if l.Delay.Duration < 0 {
		errs = append(errs, field.Invalid(p.Child("delay"), l.Delay.String(), "must not be negative"))
	}
	cp := p.Child("cpu", "profile")
	if l.CPU == nil || len(l.CPU.Profile) == 0 {
		return append(errs, field.Required(cp, "at least one step: {utilization: 180%, for: 3m}"))
	}
	for i, st := range l.CPU.Profile {
		if u := st.Utilization.Value; u < 0 || u > 1000 || math.IsNaN(u) {
			errs = append(errs, field.Invalid(cp.Index(i).Child("utilization"), st.Utilization.String(), "a percentage of the pods' CPU request, 0%..1000%"))
		}
		if st.For.Duration < time.Second {
			errs = append(errs, field.Invalid(cp.Index(i).Child("for"), st.For.String(), "at least 1s"))
		}
	}
	return errs
}

// validateHTTPLoad checks the HTTP load: the mode and what it shapes
// (connections, rate, steps, maxInFlight, which generator can send it), the
// timeout, generator, path and cold starts.
func validateHTTPLoad(hp *field.Path, h *HTTPLoad, a *Autoscaler) field.ErrorList {
	var errs field.ErrorList
	modes := []string{LoadClosedLoop, LoadOpenLoop}
	if !slices.Contains(modes, h.Mode) {
		errs = append(errs, field.NotSupported(hp.Child("mode"), h.Mode, modes))
	}
	open := h.Mode == LoadOpenLoop
	if len(h.Profile) > 0 {
		errs = append(errs, validateRateProfile(hp.Child("profile"), h.Profile, "requests")...)
		if !open {
			errs = append(errs, field.Invalid(hp.Child("mode"), h.Mode, "a profile is open-loop (requests arrive at the profile's rates whatever the responses): leave mode unset or open-loop"))
		}
		for _, f := range []struct {
			name string
			set  bool
		}{{"duration", h.Duration.Duration != 0}, {"rate", h.Rate != 0}, {"steps", len(h.Steps) > 0}} {
			if f.set {
				errs = append(errs, field.Forbidden(hp.Child(f.name), "set either profile or "+f.name+": the profile gives the rates and their durations"))
			}
		}
	} else if len(h.Steps) > 0 {
		if h.Duration.Duration != 0 {
			errs = append(errs, field.Forbidden(hp.Child("duration"), "set either duration or steps"))
		}
		if h.Rate != 0 {
			errs = append(errs, field.Forbidden(hp.Child("rate"), "with steps, set the rate per step"))
		}
		for i, st := range h.Steps {
			sp := hp.Child("steps").Index(i)
			if st.Duration.Duration <= 0 {
				errs = append(errs, field.Required(sp.Child("duration"), "each step needs a positive duration"))
			}
			switch {
			case open && st.Connections != 0:
				errs = append(errs, field.Forbidden(sp.Child("connections"), "open-loop steps have no connections: set the arrival rate"))
			case open && !(st.Rate > 0):
				errs = append(errs, field.Invalid(sp.Child("rate"), st.Rate, "each open-loop step needs an arrival rate > 0 (requests/s)"))
			case !open && (st.Connections < 0 || st.Rate < 0 || (st.Connections == 0 && st.Rate == 0 && h.Connections == 0)):
				errs = append(errs, field.Invalid(sp, "", "each step needs connections >= 1 (here or in http.connections) or a rate > 0"))
			}
		}
	} else {
		if h.Duration.Duration < time.Second {
			errs = append(errs, field.Invalid(hp.Child("duration"), h.Duration.String(), "at least 1s"))
		}
		if !open && (h.Connections < 1 || h.Connections > 10000) {
			errs = append(errs, field.Invalid(hp.Child("connections"), h.Connections, "1..10000"))
		}
		if open && !(h.Rate > 0) {
			errs = append(errs, field.Invalid(hp.Child("rate"), h.Rate, "open-loop mode needs the arrival rate, > 0 requests/s"))
		}
	}
	if open {
		if h.Connections != 0 {
			errs = append(errs, field.Forbidden(hp.Child("connections"), "open-loop mode sends at the arrival rate whatever the responses; bound the requests in flight with maxInFlight"))
		}
		if h.MaxInFlight < 0 || h.MaxInFlight > 10000 {
			errs = append(errs, field.Invalid(hp.Child("maxInFlight"), h.MaxInFlight, "0 (default: rate × timeout + 1) or 1..10000"))
		}
		if h.Generator == GeneratorBombardier {
			errs = append(errs, field.Invalid(hp.Child("mode"), h.Mode, "generator bombardier is closed-loop only (-c connections, -r caps their rate); use generator builtin"))
		}
	} else if h.MaxInFlight != 0 {
		errs = append(errs, field.Forbidden(hp.Child("maxInFlight"), "only in open-loop mode; a closed loop's connections bound its requests in flight"))
	}
	if h.Generator == GeneratorBombardier {
		if len(h.Steps) > 0 {
			errs = append(errs, field.Forbidden(hp.Child("steps"), "generator bombardier has no steps; use generator builtin"))
		}
		if h.Rate > 0 && (h.Rate < 1 || h.Rate != math.Round(h.Rate)) {
			errs = append(errs, field.Invalid(hp.Child("rate"), h.Rate, "generator bombardier takes whole requests per second (-r)"))
		}
	}
	if h.Timeout.Duration <= 0 {
		errs = append(errs, field.Invalid(hp.Child("timeout"), h.Timeout.String(), "must be positive"))
	}
	if h.Rate < 0 && !open {
		errs = append(errs, field.Invalid(hp.Child("rate"), h.Rate, "must not be negative"))
	}
	gens := []string{GeneratorBuiltin, GeneratorBombardier}
	if !slices.Contains(gens, h.Generator) {
		errs = append(errs, field.NotSupported(hp.Child("generator"), h.Generator, gens))
	}
	if u, err := url.Parse(h.Path); err != nil || u.Host != "" || len(h.Path) == 0 || h.Path[0] != '/' {
		errs = append(errs, field.Invalid(hp.Child("path"), h.Path, "an absolute path like /"))
	}
	if h.ColdStarts < 0 {
		errs = append(errs, field.Invalid(hp.Child("coldStarts"), h.ColdStarts, "must not be negative"))
	}
	if h.ColdStarts > 0 && a.Type != KEDAHTTP {
		errs = append(errs, field.Forbidden(hp.Child("coldStarts"), "cold starts from zero need autoscaler type keda-http"))
	}
	return errs
}

func validateExpectations(p *field.Path, sp *Spec) field.ErrorList {
	var errs field.ErrorList
	e := &sp.Expectations
	a := &sp.Autoscaler
	if u := e.ScaleUp; u != nil {
		up := p.Child("scaleUp")
		if u.Within.Duration <= 0 {
			errs = append(errs, field.Required(up.Child("within"), "a positive duration"))
		}
		switch {
		case u.Replicas < 1 || (a.MaxReplicas > 0 && u.Replicas > a.MaxReplicas):
			errs = append(errs, field.Invalid(up.Child("replicas"), u.Replicas, fmt.Sprintf("1..maxReplicas (%d)", a.MaxReplicas)))
		case a.MinReplicas != nil && u.Replicas <= *a.MinReplicas:
			errs = append(errs, field.Invalid(up.Child("replicas"), u.Replicas, fmt.Sprintf("must be above minReplicas (%d): reaching the starting count is no scale-up; to say the workload must not scale, set expectations.maxReplicas: %d instead", *a.MinReplicas, *a.MinReplicas)))
		}
		if u.AtMost != 0 && u.AtMost < u.Replicas {
			errs = append(errs, field.Invalid(up.Child("atMost"), u.AtMost, "must be >= replicas"))
		}
		if u.AtMost > a.MaxReplicas && a.MaxReplicas > 0 {
			errs = append(errs, field.Invalid(up.Child("atMost"), u.AtMost, fmt.Sprintf("must be <= autoscaler.maxReplicas (%d)", a.MaxReplicas)))
		}
	}
	if m := e.MaxReplicas; m != nil {
		mp := p.Child("maxReplicas")
		switch {
		case a.MinReplicas != nil && *m < *a.MinReplicas:
			errs = append(errs, field.Invalid(mp, *m, fmt.Sprintf("must be >= autoscaler.minReplicas (%d)", *a.MinReplicas)))
		case *m >= a.MaxReplicas && a.MaxReplicas > 0:
			errs = append(errs, field.Invalid(mp, *m, fmt.Sprintf("must be below autoscaler.maxReplicas (%d): the autoscaler never exceeds its own maximum, so this could not fail", a.MaxReplicas)))
		case e.ScaleUp != nil && *m < e.ScaleUp.Replicas:
			errs = append(errs, field.Invalid(mp, *m, fmt.Sprintf("must be >= scaleUp.replicas (%d)", e.ScaleUp.Replicas)))
		}
	}
	if d := e.ScaleDown; d != nil {
		dp := p.Child("scaleDown")
		if d.Within.Duration <= 0 {
			errs = append(errs, field.Required(dp.Child("within"), "a positive duration"))
		}
		if a.MinReplicas != nil && *d.Replicas < *a.MinReplicas {
			errs = append(errs, field.Invalid(dp.Child("replicas"), *d.Replicas, fmt.Sprintf("must be >= minReplicas (%d)", *a.MinReplicas)))
		}
	}
	if c := e.Activation; c != nil {
		if a.Type != KEDAHTTP && a.Type != KEDASQS {
			errs = append(errs, field.Forbidden(p.Child("activation"), "only for autoscalers that scale from zero (keda-sqs, keda-http)"))
		}
		if c.Within.Duration <= 0 {
			errs = append(errs, field.Required(p.Child("activation", "within"), "a positive duration"))
		}
	}
	if c := e.ColdStart; c != nil {
		if a.Type != KEDAHTTP {
			errs = append(errs, field.Forbidden(p.Child("coldStart"), "only for autoscaler type keda-http (the first request at zero replicas)"))
		}
		if c.Max.Duration <= 0 {
			errs = append(errs, field.Required(p.Child("coldStart", "max"), "a positive duration"))
		}
	}
	if e.MaxMessagesLost != nil {
		if a.Type != KEDASQS {
			errs = append(errs, field.Forbidden(p.Child("maxMessagesLost"), "only for autoscaler type keda-sqs"))
		} else if *e.MaxMessagesLost < 0 {
			errs = append(errs, field.Invalid(p.Child("maxMessagesLost"), *e.MaxMessagesLost, "must be >= 0"))
		}
	}
	if r := e.MaxErrorRate; r != nil {
		switch {
		case sp.Load.Type != LoadHTTP:
			errs = append(errs, field.Forbidden(p.Child("maxErrorRate"), "only for load type http"))
		case *r < 0 || *r >= 1:
			errs = append(errs, field.Invalid(p.Child("maxErrorRate"), *r, "a fraction in [0, 1): at 1 every request could fail"))
		}
	}
	if e.MinStepInterval.Duration < 0 {
		errs = append(errs, field.Invalid(p.Child("minStepInterval"), e.MinStepInterval.String(), "must not be negative"))
	}
	return errs
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
