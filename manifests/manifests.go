// Package manifests reads a user's own Kubernetes manifests (a file, a
// folder of .yaml/.yml/.json files, or "-" for stdin; multi-document YAML)
// and finds what scalebench needs to know about them: the scale target
// (SpinApp or Deployment), the autoscaler (HorizontalPodAutoscaler, KEDA
// ScaledObject, HTTP add-on HTTPScaledObject or InterceptorRoute with its
// ScaledObject) with its kind, replicas, targets and behavior. What cannot
// run as given is an error naming the object and the field.
package manifests

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// Kinds scalebench understands.
var Kinds = []string{"SpinApp", "SpinAppExecutor", "Deployment", "Service", "HorizontalPodAutoscaler", "ScaledObject", "TriggerAuthentication", "Secret", "HTTPScaledObject", "InterceptorRoute"}

// Autoscaler types, as a scenario names them.
const (
	TypeHPA      = "hpa"
	TypeKEDACPU  = "keda-cpu"
	TypeKEDASQS  = "keda-sqs"
	TypeKEDAHTTP = "keda-http"
)

// Config is what the manifests say.
type Config struct {
	Source  string
	Objects []*unstructured.Unstructured
	Target  Target
	Scaler  Autoscaler
	// Notes are what scalebench assumed or ignores, one sentence each.
	Notes []string
}

// Target is the scaled workload.
type Target struct {
	Kind     string // SpinApp or Deployment
	Name     string
	Image    string
	Executor string
	// CPURequest, CPULimit, MemoryRequest, MemoryLimit are quantities as
	// written; a request defaults to the limit, as Kubernetes does.
	CPURequest, CPULimit, MemoryRequest, MemoryLimit string
}

// Autoscaler is the autoscaler and its knobs.
type Autoscaler struct {
	// Kind and Name of the object (HorizontalPodAutoscaler, ScaledObject,
	// HTTPScaledObject, InterceptorRoute).
	Kind, Name string
	// Type is hpa, keda-cpu, keda-sqs or keda-http.
	Type              string
	MinReplicas       int32
	MaxReplicas       int32
	CPUUtilization    *int32
	Behavior          *autoscalingv2.HorizontalPodAutoscalerBehavior
	PollingInterval   *int32
	CooldownPeriod    *int32
	QueueLength       *int32
	ActivationQueue   *int32
	ScaledownPeriod   *int32
	Hosts             []string
	ConcurrencyTarget *int32
	RequestRateTarget *int32
	// HPAName is the HPA that ends up scaling the target (KEDA's
	// keda-hpa-<ScaledObject>).
	HPAName string
	// ScaledObjectName is the KEDA ScaledObject, if any.
	ScaledObjectName string
}

// Error lists every reason the manifests cannot run as given, by object
// and field.
type Error struct {
	Source string
	Errs   field.ErrorList
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "manifests %s cannot run as given:", e.Source)
	for _, fe := range e.Errs {
		b.WriteString("\n  - ")
		b.WriteString(fe.Error())
	}
	return b.String()
}

// Load reads manifests from path: a file, a folder (its .yaml, .yml and
// .json files, sorted, not recursive) or "-" for stdin.
func Load(path string, stdin io.Reader) (*Config, error) {
	var data []byte
	switch fi, err := os.Stat(path); {
	case path == "-":
		if data, err = io.ReadAll(stdin); err != nil {
			return nil, fmt.Errorf("manifests: read stdin: %w", err)
		}
	case err != nil:
		return nil, fmt.Errorf("manifests: %w", err)
	case fi.IsDir():
		entries, err := os.ReadDir(path)
		if err != nil {
			return nil, fmt.Errorf("manifests: %w", err)
		}
		var names []string
		for _, e := range entries {
			if ext := filepath.Ext(e.Name()); !e.IsDir() && (ext == ".yaml" || ext == ".yml" || ext == ".json") {
				names = append(names, e.Name())
			}
		}
		sort.Strings(names)
		if len(names) == 0 {
			return nil, fmt.Errorf("manifests: folder %s has no .yaml, .yml or .json file", path)
		}
		for _, n := range names {
			b, err := os.ReadFile(filepath.Join(path, n))
			if err != nil {
				return nil, fmt.Errorf("manifests: %w", err)
			}
			data = append(append(data, "\n---\n"...), b...)
		}
	default:
		if data, err = os.ReadFile(path); err != nil {
			return nil, fmt.Errorf("manifests: %w", err)
		}
	}
	return Parse(data, path)
}

// Parse reads multi-document YAML (or JSON) manifests.
func Parse(data []byte, source string) (*Config, error) {
	c := &Config{Source: source}
	var errs field.ErrorList
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for i := 0; ; i++ {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, &Error{Source: source, Errs: field.ErrorList{field.Invalid(field.NewPath(fmt.Sprintf("document %d", i+1)), nil, "not valid YAML: "+err.Error())}}
		}
		if len(m) == 0 {
			continue
		}
		u := &unstructured.Unstructured{Object: m}
		p := field.NewPath(fmt.Sprintf("document %d", i+1))
		switch {
		case u.GetKind() == "":
			errs = append(errs, field.Required(p.Child("kind"), "every object needs a kind"))
			continue
		case !slices.Contains(Kinds, u.GetKind()):
			errs = append(errs, field.NotSupported(p.Child("kind"), u.GetKind(), Kinds))
			continue
		case u.GetName() == "":
			errs = append(errs, field.Required(p.Child("metadata", "name"), u.GetKind()+" needs a name"))
			continue
		}
		c.Objects = append(c.Objects, u)
	}
	if len(c.Objects) == 0 && len(errs) == 0 {
		errs = append(errs, field.Required(field.NewPath("manifests"), "no objects found"))
	}
	if len(errs) == 0 {
		errs = c.understand()
	}
	if len(errs) > 0 {
		return nil, &Error{Source: source, Errs: errs}
	}
	return c, nil
}

// objPath roots a field path at an object: "HorizontalPodAutoscaler/web".
func objPath(u *unstructured.Unstructured) *field.Path {
	return field.NewPath(u.GetKind() + "/" + u.GetName())
}

func (c *Config) byKind(kinds ...string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range c.Objects {
		if slices.Contains(kinds, o.GetKind()) {
			out = append(out, o)
		}
	}
	return out
}

func (c *Config) find(kind, name string) *unstructured.Unstructured {
	for _, o := range c.Objects {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	return nil
}

// understand finds the autoscaler and its target and checks that they can
// run as given.
func (c *Config) understand() field.ErrorList {
	var errs field.ErrorList
	scalers := c.byKind("HorizontalPodAutoscaler", "ScaledObject", "HTTPScaledObject")
	switch len(scalers) {
	case 0:
		return field.ErrorList{field.Required(field.NewPath("manifests"), "no autoscaler: want one HorizontalPodAutoscaler, ScaledObject or HTTPScaledObject")}
	case 1:
	default:
		var names []string
		for _, s := range scalers {
			names = append(names, s.GetKind()+"/"+s.GetName())
		}
		return field.ErrorList{field.Invalid(field.NewPath("manifests"), strings.Join(names, ", "), "more than one autoscaler: scalebench runs one autoscaler per scenario")}
	}
	s := scalers[0]
	var targetName string
	switch s.GetKind() {
	case "HorizontalPodAutoscaler":
		targetName, errs = c.hpa(s)
	case "ScaledObject":
		targetName, errs = c.scaledObject(s)
	case "HTTPScaledObject":
		targetName, errs = c.httpScaledObject(s)
	}
	if targetName == "" {
		return errs
	}
	return append(errs, c.target(s, targetName)...)
}

func (c *Config) scaleTarget(s *unstructured.Unstructured, path ...string) (string, field.ErrorList) {
	p := objPath(s).Child("spec", path...)
	name, _, _ := unstructured.NestedString(s.Object, append([]string{"spec"}, append(path, "name")...)...)
	kind, _, _ := unstructured.NestedString(s.Object, append([]string{"spec"}, append(path, "kind")...)...)
	if name == "" {
		return "", field.ErrorList{field.Required(p.Child("name"), "the Deployment to scale")}
	}
	if kind != "" && kind != "Deployment" {
		return "", field.ErrorList{field.NotSupported(p.Child("kind"), kind, []string{"Deployment"})}
	}
	return name, nil
}

func int32At(u *unstructured.Unstructured, fields ...string) (*int32, error) {
	v, found, err := unstructured.NestedFieldNoCopy(u.Object, fields...)
	if err != nil || !found {
		return nil, err
	}
	switch n := v.(type) {
	case int64:
		return ptr32(int32(n)), nil
	case float64:
		return ptr32(int32(n)), nil
	case string:
		i, err := strconv.Atoi(n)
		if err != nil {
			return nil, fmt.Errorf("want a whole number, got %q", n)
		}
		return ptr32(int32(i)), nil
	}
	return nil, fmt.Errorf("want a whole number, got %v", v)
}

func ptr32(v int32) *int32 { return &v }

func (c *Config) hpa(s *unstructured.Unstructured) (string, field.ErrorList) {
	p := objPath(s).Child("spec")
	target, errs := c.scaleTarget(s, "scaleTargetRef")
	var h autoscalingv2.HorizontalPodAutoscaler
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(s.Object, &h); err != nil {
		return "", append(errs, field.Invalid(p, nil, "not an autoscaling/v2 HorizontalPodAutoscaler: "+err.Error()))
	}
	if v := s.GetAPIVersion(); v != "autoscaling/v2" {
		errs = append(errs, field.NotSupported(objPath(s).Child("apiVersion"), v, []string{"autoscaling/v2"}))
	}
	a := Autoscaler{Kind: s.GetKind(), Name: s.GetName(), Type: TypeHPA, MinReplicas: 1, MaxReplicas: h.Spec.MaxReplicas, Behavior: h.Spec.Behavior, HPAName: s.GetName()}
	if h.Spec.MinReplicas != nil {
		a.MinReplicas = *h.Spec.MinReplicas
	}
	if len(h.Spec.Metrics) == 0 {
		a.CPUUtilization = ptr32(80)
		c.Notes = append(c.Notes, "HorizontalPodAutoscaler/"+s.GetName()+" has no metrics: autoscaling/v2 defaults to CPU at 80 % utilization")
	}
	for i, m := range h.Spec.Metrics {
		mp := p.Child("metrics").Index(i)
		switch {
		case m.Type == autoscalingv2.ResourceMetricSourceType && m.Resource != nil && m.Resource.Name == "cpu":
			if m.Resource.Target.Type != autoscalingv2.UtilizationMetricType || m.Resource.Target.AverageUtilization == nil {
				errs = append(errs, field.NotSupported(mp.Child("resource", "target", "type"), string(m.Resource.Target.Type), []string{"Utilization (with averageUtilization)"}))
				continue
			}
			a.CPUUtilization = m.Resource.Target.AverageUtilization
		case m.Type == autoscalingv2.ResourceMetricSourceType && m.Resource != nil && m.Resource.Name == "memory":
			c.Notes = append(c.Notes, fmt.Sprintf("%s: a memory metric: scalebench does not drive memory (it stays at the pods' idle usage), so the CPU metric decides", mp))
		default:
			errs = append(errs, field.NotSupported(mp.Child("type"), describeMetric(m), []string{"Resource cpu (Utilization)", "Resource memory (not driven)"}))
		}
	}
	if a.CPUUtilization == nil && len(errs) == 0 {
		errs = append(errs, field.Required(p.Child("metrics"), "no metric scalebench can drive: it drives CPU through the data plane; add a Resource cpu Utilization metric"))
	}
	c.Scaler = a
	return target, errs
}

func describeMetric(m autoscalingv2.MetricSpec) string {
	if m.Type == autoscalingv2.ResourceMetricSourceType && m.Resource != nil {
		return "Resource " + string(m.Resource.Name)
	}
	return string(m.Type)
}

// needs says what a trigger type scalebench cannot provide would need.
var needs = map[string]string{
	"prometheus":         "a Prometheus server answering the trigger's query (serverAddress) with a series scalebench would have to feed",
	"kafka":              "a Kafka broker with the topic and a consumer group whose lag the load would create",
	"rabbitmq":           "a RabbitMQ broker with the queue the load would fill",
	"redis":              "a Redis list the load would fill",
	"azure-queue":        "an Azure Storage queue (or an emulator such as Azurite) the load would fill",
	"aws-sqs-queue":      "",
	"cron":               "nothing but time: a cron trigger does not follow load, so there is nothing to measure",
	"memory":             "",
	"cpu":                "",
	"external-push":      "",
	"metrics-api":        "an HTTP endpoint serving the metric the load would move",
	"postgresql":         "a PostgreSQL database and a query the load would move",
	"gcp-pubsub":         "a Google Pub/Sub subscription (or its emulator) the load would fill",
	"nats-jetstream":     "a NATS JetStream stream and consumer the load would fill",
	"aws-kinesis-stream": "an AWS Kinesis stream (or an emulator) the load would fill",
}

func (c *Config) scaledObject(s *unstructured.Unstructured) (string, field.ErrorList) {
	p := objPath(s).Child("spec")
	target, errs := c.scaleTarget(s, "scaleTargetRef")
	a := Autoscaler{Kind: s.GetKind(), Name: s.GetName(), MinReplicas: 0, MaxReplicas: 100, HPAName: "keda-hpa-" + s.GetName(), ScaledObjectName: s.GetName()}
	for _, f := range []struct {
		name string
		dst  **int32
	}{{"minReplicaCount", nil}, {"maxReplicaCount", nil}, {"pollingInterval", &a.PollingInterval}, {"cooldownPeriod", &a.CooldownPeriod}} {
		v, err := int32At(s, "spec", f.name)
		if err != nil {
			errs = append(errs, field.Invalid(p.Child(f.name), nil, err.Error()))
			continue
		}
		switch {
		case v == nil:
		case f.name == "minReplicaCount":
			a.MinReplicas = *v
		case f.name == "maxReplicaCount":
			a.MaxReplicas = *v
		default:
			*f.dst = v
		}
	}
	if b, found, _ := unstructured.NestedMap(s.Object, "spec", "advanced", "horizontalPodAutoscalerConfig", "behavior"); found {
		var beh autoscalingv2.HorizontalPodAutoscalerBehavior
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(b, &beh); err != nil {
			errs = append(errs, field.Invalid(p.Child("advanced", "horizontalPodAutoscalerConfig", "behavior"), nil, err.Error()))
		} else {
			a.Behavior = &beh
		}
	}
	triggers, _, _ := unstructured.NestedSlice(s.Object, "spec", "triggers")
	if len(triggers) == 0 {
		errs = append(errs, field.Required(p.Child("triggers"), "a ScaledObject needs a trigger"))
	}
	cpuOnly := true
	for i, t := range triggers {
		tp := p.Child("triggers").Index(i)
		tm, _ := t.(map[string]any)
		typ, _ := tm["type"].(string)
		md, _ := tm["metadata"].(map[string]any)
		mdInt := func(key string) *int32 {
			if s, ok := md[key].(string); ok {
				if n, err := strconv.Atoi(s); err == nil {
					return ptr32(int32(n))
				}
				errs = append(errs, field.Invalid(tp.Child("metadata", key), s, "want a whole number in a string"))
			}
			return nil
		}
		switch typ {
		case "cpu":
			if mt, _ := tm["metricType"].(string); mt != "" && mt != "Utilization" {
				errs = append(errs, field.NotSupported(tp.Child("metricType"), mt, []string{"Utilization"}))
				continue
			}
			if a.CPUUtilization = mdInt("value"); a.CPUUtilization == nil {
				errs = append(errs, field.Required(tp.Child("metadata", "value"), "the target CPU utilization, e.g. \"50\""))
			}
			setType(&a, TypeKEDACPU, tp, &errs)
		case "memory":
			c.Notes = append(c.Notes, fmt.Sprintf("%s: a memory trigger: scalebench does not drive memory (it stays at the pods' idle usage), so the other triggers decide", tp))
		case "aws-sqs-queue":
			cpuOnly = false
			a.QueueLength = mdInt("queueLength")
			if a.QueueLength == nil {
				a.QueueLength = ptr32(5)
			}
			a.ActivationQueue = mdInt("activationQueueLength")
			setType(&a, TypeKEDASQS, tp, &errs)
		case "external-push":
			cpuOnly = false
			if r, _ := md["interceptorRoute"].(string); r != "" {
				if ir := c.find("InterceptorRoute", r); ir == nil {
					errs = append(errs, field.NotFound(tp.Child("metadata", "interceptorRoute"), r))
				} else {
					interceptorRoute(ir, &a)
				}
				setType(&a, TypeKEDAHTTP, tp, &errs)
				continue
			}
			errs = append(errs, field.NotSupported(tp.Child("type"), typ+" (not the HTTP add-on's)", []string{"cpu", "memory", "aws-sqs-queue", "external-push with metadata.interceptorRoute"}))
		default:
			cpuOnly = false
			need := needs[typ]
			if need == "" {
				need = "an event source of that type reachable from KEDA, which the load would move"
			}
			errs = append(errs, field.NotSupported(tp.Child("type"), typ, []string{"cpu", "memory", "aws-sqs-queue", "external-push (HTTP add-on InterceptorRoute)"}))
			errs[len(errs)-1].Detail += "; scalebench cannot provide a " + strconv.Quote(typ) + " trigger: it would need " + need
		}
	}
	if a.Type == "" && len(errs) == 0 {
		errs = append(errs, field.Required(p.Child("triggers"), "no trigger scalebench can drive (cpu, aws-sqs-queue, external-push for the HTTP add-on)"))
	}
	if a.Type == TypeKEDAHTTP {
		// The ScaledObject's own cooldown is the add-on's scaledownPeriod.
		a.ScaledownPeriod = a.CooldownPeriod
	}
	if cpuOnly && a.MinReplicas == 0 && a.Type == TypeKEDACPU {
		errs = append(errs, field.Invalid(p.Child("minReplicaCount"), 0, "only cpu/memory triggers with minReplicaCount 0: KEDA's webhook rejects it (a CPU metric cannot wake a workload at zero); set minReplicaCount >= 1"))
	}
	if a.MaxReplicas < max(a.MinReplicas, 1) {
		errs = append(errs, field.Invalid(p.Child("maxReplicaCount"), a.MaxReplicas, fmt.Sprintf("must be >= minReplicaCount (%d) and >= 1", a.MinReplicas)))
	}
	c.Scaler = a
	return target, errs
}

func setType(a *Autoscaler, t string, p *field.Path, errs *field.ErrorList) {
	if a.Type != "" && a.Type != t {
		*errs = append(*errs, field.Invalid(p, t, "a second kind of trigger ("+a.Type+" already): scalebench drives one kind of trigger per scenario"))
		return
	}
	a.Type = t
}

// interceptorRoute reads what an InterceptorRoute adds to its ScaledObject:
// the hosts it routes and its scaling metric's target.
func interceptorRoute(ir *unstructured.Unstructured, a *Autoscaler) {
	rules, _, _ := unstructured.NestedSlice(ir.Object, "spec", "rules")
	for _, r := range rules {
		if rm, ok := r.(map[string]any); ok {
			hosts, _, _ := unstructured.NestedStringSlice(rm, "hosts")
			a.Hosts = append(a.Hosts, hosts...)
		}
	}
	a.ConcurrencyTarget, _ = int32At(ir, "spec", "scalingMetric", "concurrency", "targetValue")
	a.RequestRateTarget, _ = int32At(ir, "spec", "scalingMetric", "requestRate", "targetValue")
}

func (c *Config) httpScaledObject(s *unstructured.Unstructured) (string, field.ErrorList) {
	p := objPath(s).Child("spec")
	target, errs := c.scaleTarget(s, "scaleTargetRef")
	a := Autoscaler{Kind: s.GetKind(), Name: s.GetName(), Type: TypeKEDAHTTP, MinReplicas: 0, MaxReplicas: 100, HPAName: "keda-hpa-" + s.GetName(), ScaledObjectName: s.GetName()}
	if v, _ := int32At(s, "spec", "replicas", "min"); v != nil {
		a.MinReplicas = *v
	}
	if v, _ := int32At(s, "spec", "replicas", "max"); v != nil {
		a.MaxReplicas = *v
	}
	a.ScaledownPeriod, _ = int32At(s, "spec", "scaledownPeriod")
	a.ConcurrencyTarget, _ = int32At(s, "spec", "scalingMetric", "concurrency", "targetValue")
	a.RequestRateTarget, _ = int32At(s, "spec", "scalingMetric", "requestRate", "targetValue")
	hosts, _, _ := unstructured.NestedStringSlice(s.Object, "spec", "hosts")
	if len(hosts) == 0 {
		errs = append(errs, field.Required(p.Child("hosts"), "the Host names the add-on routes to the target; scalebench's load sends one of them"))
	}
	a.Hosts = hosts
	if svc, _, _ := unstructured.NestedString(s.Object, "spec", "scaleTargetRef", "service"); svc == "" {
		errs = append(errs, field.Required(p.Child("scaleTargetRef", "service"), "the Service the add-on forwards to"))
	}
	c.Scaler = a
	return target, errs
}

// target finds the scale target (a Deployment, or the SpinApp that makes
// the Deployment of the same name) and checks its shape.
func (c *Config) target(s *unstructured.Unstructured, name string) field.ErrorList {
	refPath := objPath(s).Child("spec", "scaleTargetRef", "name")
	sa := c.find("SpinApp", name)
	d := c.find("Deployment", name)
	var errs field.ErrorList
	switch {
	case sa == nil && d == nil:
		return field.ErrorList{field.NotFound(refPath, name)}
	case sa != nil:
		p := objPath(sa).Child("spec")
		c.Target = Target{Kind: "SpinApp", Name: name}
		c.Target.Image, _, _ = unstructured.NestedString(sa.Object, "spec", "image")
		c.Target.Executor, _, _ = unstructured.NestedString(sa.Object, "spec", "executor")
		if c.Target.Image == "" {
			errs = append(errs, field.Required(p.Child("image"), "a SpinApp needs an image"))
		}
		auto, _, _ := unstructured.NestedBool(sa.Object, "spec", "enableAutoscaling")
		_, hasReplicas, _ := unstructured.NestedFieldNoCopy(sa.Object, "spec", "replicas")
		switch {
		case auto && hasReplicas:
			errs = append(errs, field.Forbidden(p.Child("replicas"), "set together with spec.enableAutoscaling: true; the Spin operator's webhook rejects a SpinApp with both"))
		case !auto:
			errs = append(errs, field.Required(p.Child("enableAutoscaling"), "must be true for a SpinApp that "+s.GetKind()+"/"+s.GetName()+" scales: otherwise the Spin operator sets spec.replicas back on every reconcile"))
		}
		c.resources(sa, p.Child("resources"), []string{"spec", "resources"}, s, &errs)
	default:
		p := objPath(d).Child("spec", "template", "spec", "containers").Index(0)
		c.Target = Target{Kind: "Deployment", Name: name}
		cs, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
		if len(cs) == 0 {
			return append(errs, field.Required(p, "a Deployment needs a container"))
		}
		c0, _ := cs[0].(map[string]any)
		c.Target.Image, _ = c0["image"].(string)
		c.resources(&unstructured.Unstructured{Object: c0}, p.Child("resources"), []string{"resources"}, s, &errs)
	}
	return errs
}

func (c *Config) resources(u *unstructured.Unstructured, p *field.Path, at []string, scaler *unstructured.Unstructured, errs *field.ErrorList) {
	get := func(kind, res string) string {
		v, _, _ := unstructured.NestedFieldNoCopy(u.Object, append(append([]string{}, at...), kind, res)...)
		switch x := v.(type) {
		case string:
			return x
		case int64:
			return strconv.FormatInt(x, 10)
		case float64:
			return strconv.FormatFloat(x, 'f', -1, 64)
		}
		return ""
	}
	t := &c.Target
	t.CPULimit, t.CPURequest = get("limits", "cpu"), get("requests", "cpu")
	t.MemoryLimit, t.MemoryRequest = get("limits", "memory"), get("requests", "memory")
	for _, q := range []struct {
		path string
		v    string
	}{{"limits.cpu", t.CPULimit}, {"requests.cpu", t.CPURequest}, {"limits.memory", t.MemoryLimit}, {"requests.memory", t.MemoryRequest}} {
		if q.v == "" {
			continue
		}
		if _, err := resource.ParseQuantity(q.v); err != nil {
			kind, res, _ := strings.Cut(q.path, ".")
			*errs = append(*errs, field.Invalid(p.Child(kind, res), q.v, "want a Kubernetes quantity like 500m"))
		}
	}
	if t.CPURequest == "" && t.CPULimit != "" {
		t.CPURequest = t.CPULimit
		c.Notes = append(c.Notes, fmt.Sprintf("%s: no requests.cpu: Kubernetes sets it to limits.cpu (%s)", p, t.CPULimit))
	}
	if t.MemoryRequest == "" && t.MemoryLimit != "" {
		t.MemoryRequest = t.MemoryLimit
	}
	cpuTarget := c.Scaler.Type == TypeHPA || c.Scaler.Type == TypeKEDACPU
	if cpuTarget && t.CPURequest == "" {
		*errs = append(*errs, field.Required(p.Child("requests", "cpu"), scaler.GetKind()+"/"+scaler.GetName()+" targets CPU utilization, a share of the CPU request: set requests.cpu (or limits.cpu, which it defaults to)"))
	}
}
