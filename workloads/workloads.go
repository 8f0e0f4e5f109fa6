// Package workloads renders what a scenario itself applies to a cluster: the
// Spin app (SpinApp, or a Deployment with the Spin runtime class), its
// executor, the ingress route, and the autoscaler (HPA, KEDA ScaledObject,
// the HTTP add-on's InterceptorRoute with its ScaledObject, or the deprecated
// HTTPScaledObject). The platform (operators, CRDs) is the cluster's job.
package workloads

import (
	"encoding/json"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"

	"github.com/scalebench/scalebench/kube"
	"github.com/scalebench/scalebench/scenario"
)

// Names and labels fixed by upstream.
const (
	RuntimeClass     = "wasmtime-spin-v2"
	SpinAppNameLabel = "core.spinkube.dev/app-name"
	ScaledObjectName = scenario.KEDACPUScaledObjectName // the SpinKube KEDA tutorial's name
	// InterceptorService is the KEDA HTTP add-on's proxy Service in namespace keda.
	InterceptorService   = "keda-add-ons-http-interceptor-proxy"
	InterceptorPort      = 8080
	InterceptorNamespace = "keda"
	// ExternalScalerAddress is the HTTP add-on's external scaler, as the
	// chart names its Service: an InterceptorRoute's ScaledObject pushes
	// through it (the add-on's operator writes the same address into the
	// ScaledObjects it makes of HTTPScaledObjects).
	ExternalScalerAddress = "keda-add-ons-http-external-scaler.keda:9090"
	// HTTPPollingInterval is the pollingInterval of an InterceptorRoute's
	// ScaledObject: the add-on operator's for the ScaledObjects it makes,
	// so that both APIs scale alike. The external-push trigger activates on
	// the scaler's push; polling is KEDA's fallback check.
	HTTPPollingInterval = 15
	// HTTPDefaultConcurrency is the concurrency target when the scenario
	// sets no scalingMetric: an InterceptorRoute requires one, and 100 is
	// what the add-on's scaler takes for an HTTPScaledObject without one.
	HTTPDefaultConcurrency = 100
)

// Emulation annotations, read by the emulated data plane and KWOK's stages.
// Real clusters ignore them.
const (
	AnnotationModel         = "scalebench.dev/model"
	AnnotationCPUPerRequest = "scalebench.dev/cpu-per-request"
	AnnotationLatency       = "scalebench.dev/latency"
	AnnotationReadyDelay    = "pod-ready.stage.kwok.x-k8s.io/delay"
)

// Set is everything a scenario applies, in apply order.
type Set struct {
	// Workload creates the app (executor, SpinApp or Deployment, ingress).
	Workload []*unstructured.Unstructured
	// Autoscaler is applied once the workload is ready.
	Autoscaler []*unstructured.Unstructured
	// DeploymentName is the Deployment that scales.
	DeploymentName string
	// PodSelector selects the workload's pods.
	PodSelector string
	// AutoscalerHPA is the HPA that ends up scaling the Deployment (KEDA's
	// generated keda-hpa-<name> for ScaledObjects).
	AutoscalerHPA string
}

// Options carry what a scenario's objects need from its environment.
type Options struct {
	// SQS wires the keda-sqs workload and scaler to a queue and a store.
	SQS *SQSWiring
}

// SQSWiring is where the SQS workload's queue and store are, as pods and
// KEDA's scaler reach them, and the AWS credentials both use. It is the one
// wiring of keda-sqs: the Secret, the app's environment and KEDA's
// TriggerAuthentication are all derived from it (Secret, Env,
// TriggerAuthentication), on every cluster kind. Its String never shows
// the credentials.
type SQSWiring struct {
	QueueURL string
	Endpoint string // empty for real AWS
	Region   string
	// Static credentials; all empty when the default credential chain
	// applies (workload identity: KEDA's TriggerAuthentication then uses
	// podIdentity provider aws). SessionToken is set for temporary ones.
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	// RedisAddr is host:port of the Valkey/Redis store.
	RedisAddr string
}

// Render builds a scenario's objects.
func Render(s *scenario.Scenario, opts Options) (*Set, error) {
	if s.Manifests != nil {
		return renderManifests(s)
	}
	sp := s.Spec
	w := sp.Workload
	ns := sp.Namespace
	set := &Set{DeploymentName: w.Name}
	ann := podAnnotations(w)
	switch w.Kind {
	case scenario.WorkloadSpinApp:
		set.Workload = append(set.Workload, executor(ns, w.Executor), spinApp(s, ann))
		set.PodSelector = SpinAppNameLabel + "=" + w.Name
	case scenario.WorkloadDeployment:
		var env []corev1.EnvVar
		if opts.SQS != nil {
			sec, err := opts.SQS.Secret(ns, sqsSecretName(s))
			if err != nil {
				return nil, err
			}
			set.Workload = append(set.Workload, sec)
			if env, err = opts.SQS.Env(sqsSecretName(s)); err != nil {
				return nil, err
			}
		}
		d, err := deployment(s, ann, env)
		if err != nil {
			return nil, err
		}
		set.Workload = append(set.Workload, d)
		set.PodSelector = "app=" + w.Name
	default:
		return nil, fmt.Errorf("workload kind %q: not supported", w.Kind)
	}
	a := sp.Autoscaler
	switch a.Type {
	case scenario.HPA:
		in, err := ingress(ns, w.Name, loadHost(s), w.Name, 80)
		if err != nil {
			return nil, err
		}
		set.Workload = append(set.Workload, in)
		h, err := hpa(s)
		if err != nil {
			return nil, err
		}
		set.Autoscaler = append(set.Autoscaler, h)
		set.AutoscalerHPA = s.HPAName()
	case scenario.KEDACPU:
		in, err := ingress(ns, w.Name, loadHost(s), w.Name, 80)
		if err != nil {
			return nil, err
		}
		set.Workload = append(set.Workload, in)
		set.Autoscaler = append(set.Autoscaler, scaledObjectCPU(s))
		set.AutoscalerHPA = s.HPAName()
	case scenario.KEDAHTTP:
		in, err := ingress(InterceptorNamespace, w.Name+"-interceptor", a.Hosts[0], InterceptorService, InterceptorPort)
		if err != nil {
			return nil, err
		}
		set.Workload = append(set.Workload, in)
		switch a.API {
		case scenario.HTTPAPIHTTPScaledObject:
			set.Autoscaler = append(set.Autoscaler, httpScaledObject(s))
		case scenario.HTTPAPIInterceptorRoute:
			// The route first: the scaler reads it when KEDA asks for the
			// ScaledObject's metric.
			set.Autoscaler = append(set.Autoscaler, interceptorRoute(s), scaledObjectHTTP(s))
		default:
			return nil, fmt.Errorf("autoscaler %q: api %q not supported (allowed: %v)", a.Type, a.API, scenario.HTTPAPIs)
		}
		set.AutoscalerHPA = s.HPAName()
	case scenario.KEDASQS:
		if opts.SQS == nil {
			return nil, fmt.Errorf("autoscaler %q: no SQS queue to wire (the cluster provides no SQS backend)", a.Type)
		}
		if w.Kind != scenario.WorkloadDeployment {
			return nil, fmt.Errorf("autoscaler %q: workload kind must be Deployment (SpinApp has no env for the queue settings)", a.Type)
		}
		set.Autoscaler = append(set.Autoscaler, opts.SQS.TriggerAuthentication(ns, triggerAuthName(s), sqsSecretName(s)), scaledObjectSQS(s, opts.SQS))
		set.AutoscalerHPA = s.HPAName()
	}
	if a.Patch != nil {
		p, err := jsonValue(a.Patch)
		if err != nil {
			return nil, fmt.Errorf("autoscaler patch: %w", err)
		}
		for _, o := range set.Autoscaler {
			o.Object = MergePatch(o.Object, p)
		}
	}
	return set, nil
}

// jsonValue round-trips v through JSON, so it holds only the types
// unstructured objects can deep-copy (a patch built in Go may hold ints).
func jsonValue(v map[string]any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	err = json.Unmarshal(b, &out)
	return out, err
}

// MergePatch applies a JSON merge patch (RFC 7386): maps merge recursively,
// null deletes, anything else replaces.
func MergePatch(target, patch map[string]any) map[string]any {
	if target == nil {
		target = map[string]any{}
	}
	for k, pv := range patch {
		if pv == nil {
			delete(target, k)
			continue
		}
		if pm, ok := pv.(map[string]any); ok {
			tm, _ := target[k].(map[string]any)
			target[k] = MergePatch(tm, pm)
			continue
		}
		target[k] = pv
	}
	return target
}

func podAnnotations(w scenario.Workload) map[string]string {
	ann := map[string]string{}
	e := w.Emulation
	if e.Model != "" {
		ann[AnnotationModel] = e.Model
	}
	if e.CPUPerRequest.Duration > 0 {
		ann[AnnotationCPUPerRequest] = e.CPUPerRequest.String()
	}
	if e.Latency.Duration > 0 {
		ann[AnnotationLatency] = e.Latency.String()
	}
	if e.StartupLatency.Duration > 0 {
		ann[AnnotationReadyDelay] = e.StartupLatency.String()
	}
	return ann
}

func executor(ns, name string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "core.spinkube.dev/v1alpha1",
		"kind":       "SpinAppExecutor",
		"metadata":   map[string]any{"name": name, "namespace": ns},
		"spec": map[string]any{
			"createDeployment": true,
			"deploymentConfig": map[string]any{"runtimeClassName": RuntimeClass},
		},
	}}
}

func resources(w scenario.Workload) map[string]any {
	r := w.Resources
	return map[string]any{
		"limits":   map[string]any{"cpu": r.Limits.CPU, "memory": r.Limits.Memory},
		"requests": map[string]any{"cpu": r.Requests.CPU, "memory": r.Requests.Memory},
	}
}

func spinApp(s *scenario.Scenario, ann map[string]string) *unstructured.Unstructured {
	w := s.Spec.Workload
	spec := map[string]any{
		"image":             w.Image,
		"executor":          w.Executor,
		"enableAutoscaling": true,
		"resources":         resources(w),
	}
	if len(ann) > 0 {
		a := map[string]any{}
		for k, v := range ann {
			a[k] = v
		}
		spec["podAnnotations"] = a
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "core.spinkube.dev/v1alpha1",
		"kind":       "SpinApp",
		"metadata":   map[string]any{"name": w.Name, "namespace": s.Spec.Namespace},
		"spec":       spec,
	}}
}

// SQS Secret keys: the AWS SDKs' environment (the trigger-sqs plugin's Rust
// SDK and KEDA's scaler among their readers), the Spin variables the
// customer-transformer app reads (its spin.toml), and the queue and store
// as the emulated cluster's app reads them.
const (
	EnvAccessKeyID     = "AWS_ACCESS_KEY_ID"
	EnvSecretAccessKey = "AWS_SECRET_ACCESS_KEY"
	EnvSessionToken    = "AWS_SESSION_TOKEN"
	EnvRegion          = "AWS_REGION"
	EnvDefaultRegion   = "AWS_DEFAULT_REGION"
	EnvEndpointSQS     = "AWS_ENDPOINT_URL_SQS"
	EnvQueueURL        = "SQS_QUEUE_URL"
	EnvRedis           = "REDIS_CONNECTION_STRING"
	// The customer-transformer's Spin variables redis_host and redis_port
	// (the shim's environment provider reads SPIN_VARIABLE_<NAME>).
	EnvSpinRedisHost = "SPIN_VARIABLE_REDIS_HOST"
	EnvSpinRedisPort = "SPIN_VARIABLE_REDIS_PORT"
)

// String describes the wiring without its credentials (only whether there
// are any), so it can be logged.
func (w SQSWiring) String() string {
	creds := "default credential chain"
	switch {
	case w.AccessKeyID != "" && w.SessionToken != "":
		creds = "static credentials with a session token"
	case w.AccessKeyID != "":
		creds = "static credentials"
	}
	endpoint := w.Endpoint
	if endpoint == "" {
		endpoint = "AWS"
	}
	return fmt.Sprintf("queue %s (endpoint %s, region %s, %s), store %s", w.QueueURL, endpoint, w.Region, creds, w.RedisAddr)
}

// GoString keeps %#v from printing the credentials too.
func (w SQSWiring) GoString() string { return "workloads.SQSWiring{" + w.String() + "}" }

// StaticCredentials reports whether the wiring carries credentials (else
// the default chain, workload identity in a cluster, applies).
func (w SQSWiring) StaticCredentials() bool { return w.AccessKeyID != "" }

// SecretData is what the wiring's Secret holds, by key.
func (w SQSWiring) SecretData() (map[string]string, error) {
	host, port, err := net.SplitHostPort(w.RedisAddr)
	if err != nil {
		return nil, fmt.Errorf("sqs wiring: store address %q: want host:port: %w", w.RedisAddr, err)
	}
	if (w.AccessKeyID == "") != (w.SecretAccessKey == "") || (w.SessionToken != "" && w.AccessKeyID == "") {
		return nil, fmt.Errorf("sqs wiring: credentials need both %s and %s (and %s only with them)", EnvAccessKeyID, EnvSecretAccessKey, EnvSessionToken)
	}
	d := map[string]string{
		EnvRegion: w.Region, EnvDefaultRegion: w.Region,
		EnvQueueURL: w.QueueURL, EnvRedis: "redis://" + w.RedisAddr,
		EnvSpinRedisHost: host, EnvSpinRedisPort: port,
	}
	if w.Endpoint != "" {
		d[EnvEndpointSQS] = w.Endpoint
	}
	if w.AccessKeyID != "" {
		d[EnvAccessKeyID], d[EnvSecretAccessKey] = w.AccessKeyID, w.SecretAccessKey
	}
	if w.SessionToken != "" {
		d[EnvSessionToken] = w.SessionToken
	}
	return d, nil
}

// SecretKeys are the keys of the wiring's Secret, sorted: what may be
// logged or reported of it.
func (w SQSWiring) SecretKeys() ([]string, error) {
	d, err := w.SecretData()
	if err != nil {
		return nil, err
	}
	return sortedKeys(d), nil
}

// Secret renders the wiring's Secret.
func (w SQSWiring) Secret(namespace, name string) (*unstructured.Unstructured, error) {
	d, err := w.SecretData()
	if err != nil {
		return nil, err
	}
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace}, StringData: d, Type: corev1.SecretTypeOpaque}
	return kube.ToUnstructured(sec)
}

// Env is the app container's environment: every key of the Secret
// secretName, by reference (no value in the Deployment).
func (w SQSWiring) Env(secretName string) ([]corev1.EnvVar, error) {
	keys, err := w.SecretKeys()
	if err != nil {
		return nil, err
	}
	env := make([]corev1.EnvVar, 0, len(keys))
	for _, k := range keys {
		env = append(env, corev1.EnvVar{Name: k, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: secretName}, Key: k,
		}}})
	}
	return env, nil
}

// TriggerAuthentication renders KEDA's authentication for the aws-sqs-queue
// scaler: the credentials from the Secret secretName (the session token
// too when there is one), or, without static credentials, the pod identity
// of KEDA's operator (provider aws: IRSA or EKS Pod Identity).
func (w SQSWiring) TriggerAuthentication(namespace, name, secretName string) *unstructured.Unstructured {
	spec := map[string]any{}
	if w.StaticCredentials() {
		refs := []any{
			map[string]any{"parameter": "awsAccessKeyID", "name": secretName, "key": EnvAccessKeyID},
			map[string]any{"parameter": "awsSecretAccessKey", "name": secretName, "key": EnvSecretAccessKey},
		}
		if w.SessionToken != "" {
			refs = append(refs, map[string]any{"parameter": "awsSessionToken", "name": secretName, "key": EnvSessionToken})
		}
		spec["secretTargetRef"] = refs
	} else {
		spec["podIdentity"] = map[string]any{"provider": "aws"}
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "keda.sh/v1alpha1",
		"kind":       "TriggerAuthentication",
		"metadata":   map[string]any{"name": name, "namespace": namespace},
		"spec":       spec,
	}}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func sqsSecretName(s *scenario.Scenario) string { return s.Spec.Workload.Name + "-sqs" }

func triggerAuthName(s *scenario.Scenario) string { return s.Spec.Workload.Name + "-aws" }

func scaledObjectSQS(s *scenario.Scenario, w *SQSWiring) *unstructured.Unstructured {
	a := s.Spec.Autoscaler
	md := map[string]any{
		"queueURL":        w.QueueURL,
		"queueLength":     strconv.Itoa(int(*a.QueueLength)),
		"awsRegion":       w.Region,
		"scaleOnInFlight": "false", // emulators count in-flight messages as visible; in-flight ones are being processed
	}
	if w.Endpoint != "" {
		md["awsEndpoint"] = w.Endpoint
	}
	if a.ActivationQueueLength != nil {
		md["activationQueueLength"] = strconv.Itoa(int(*a.ActivationQueueLength))
	}
	spec := map[string]any{
		"scaleTargetRef":  map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "name": s.Spec.Workload.Name},
		"minReplicaCount": int64(*a.MinReplicas),
		"maxReplicaCount": int64(a.MaxReplicas),
		"pollingInterval": int64(*a.PollingInterval),
		"cooldownPeriod":  int64(*a.CooldownPeriod),
		"triggers": []any{map[string]any{
			"type":              "aws-sqs-queue",
			"metadata":          md,
			"authenticationRef": map[string]any{"name": triggerAuthName(s)},
		}},
	}
	return scaledObject(s.Spec.Namespace, s.Spec.Workload.Name, a, spec)
}

func deployment(s *scenario.Scenario, ann map[string]string, env []corev1.EnvVar) (*unstructured.Unstructured, error) {
	w := s.Spec.Workload
	rl, err := resourceList(w.Resources.Limits)
	if err != nil {
		return nil, fmt.Errorf("workload %s limits: %w", w.Name, err)
	}
	rr, err := resourceList(w.Resources.Requests)
	if err != nil {
		return nil, fmt.Errorf("workload %s requests: %w", w.Name, err)
	}
	labels := map[string]string{"app": w.Name}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: w.Name, Namespace: s.Spec.Namespace},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(*s.Spec.Autoscaler.MinReplicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: ann},
				Spec: corev1.PodSpec{
					RuntimeClassName: ptr.To(RuntimeClass),
					Containers: []corev1.Container{{
						Name:      w.Name,
						Image:     w.Image,
						Command:   []string{"/"},
						Env:       env,
						Resources: corev1.ResourceRequirements{Limits: rl, Requests: rr},
					}},
				},
			},
		},
	}
	return kube.ToUnstructured(d)
}

func resourceList(r scenario.ResourceList) (corev1.ResourceList, error) {
	out := corev1.ResourceList{}
	for name, v := range map[corev1.ResourceName]string{corev1.ResourceCPU: r.CPU, corev1.ResourceMemory: r.Memory} {
		if v == "" {
			continue
		}
		q, err := resource.ParseQuantity(v)
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", name, v, err)
		}
		out[name] = q
	}
	return out, nil
}

// loadHost is the Host header the scenario's HTTP load sends: its
// ingress rule matches that host only (the apps of a multi-app scenario
// share the ingress by host, and scenarios run side by side with bench run
// --parallel are told apart by it), any host when the load sets none.
func loadHost(s *scenario.Scenario) string {
	if h := s.Spec.Load.HTTP; h != nil {
		return h.Host
	}
	return ""
}

// ingress routes the docs' load balancer (localhost:8081) to a Service.
func ingress(ns, name, host, service string, port int32) (*unstructured.Unstructured, error) {
	pt := networkingv1.PathTypePrefix
	rule := networkingv1.IngressRule{IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
		Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: &pt, Backend: networkingv1.IngressBackend{
			Service: &networkingv1.IngressServiceBackend{Name: service, Port: networkingv1.ServiceBackendPort{Number: port}},
		}}},
	}}}
	rule.Host = host
	in := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec:       networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{rule}},
	}
	return kube.ToUnstructured(in)
}

func hpa(s *scenario.Scenario) (*unstructured.Unstructured, error) {
	a := s.Spec.Autoscaler
	h := &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: s.Spec.Workload.Name, Namespace: s.Spec.Namespace},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: s.Spec.Workload.Name},
			MinReplicas:    a.MinReplicas,
			MaxReplicas:    a.MaxReplicas,
			Metrics: []autoscalingv2.MetricSpec{{
				Type: autoscalingv2.ResourceMetricSourceType,
				Resource: &autoscalingv2.ResourceMetricSource{
					Name:   corev1.ResourceCPU,
					Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: a.CPUUtilization},
				},
			}},
			Behavior: a.Behavior,
		},
	}
	return kube.ToUnstructured(h)
}

func behavior(a scenario.Autoscaler) map[string]any {
	if a.Behavior == nil {
		return nil
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(a.Behavior)
	if err != nil {
		panic(fmt.Sprintf("workloads: convert behavior: %v", err))
	}
	return m
}

func scaledObjectCPU(s *scenario.Scenario) *unstructured.Unstructured {
	a := s.Spec.Autoscaler
	spec := map[string]any{
		"scaleTargetRef":  map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "name": s.Spec.Workload.Name},
		"minReplicaCount": int64(*a.MinReplicas),
		"maxReplicaCount": int64(a.MaxReplicas),
		"triggers": []any{map[string]any{
			"type":       "cpu",
			"metricType": "Utilization",
			"metadata":   map[string]any{"value": strconv.Itoa(int(*a.CPUUtilization))},
		}},
	}
	if a.PollingInterval != nil {
		spec["pollingInterval"] = int64(*a.PollingInterval)
	}
	if a.CooldownPeriod != nil {
		spec["cooldownPeriod"] = int64(*a.CooldownPeriod)
	}
	return scaledObject(s.Spec.Namespace, s.ScaledObjectName(), a, spec)
}

func httpScaledObject(s *scenario.Scenario) *unstructured.Unstructured {
	a := s.Spec.Autoscaler
	hosts := make([]any, len(a.Hosts))
	for i, h := range a.Hosts {
		hosts[i] = h
	}
	spec := map[string]any{
		"hosts": hosts,
		"scaleTargetRef": map[string]any{
			"name": s.Spec.Workload.Name, "kind": "Deployment", "apiVersion": "apps/v1",
			"service": s.Spec.Workload.Name, "port": int64(80),
		},
		"replicas": map[string]any{"min": int64(*a.MinReplicas), "max": int64(a.MaxReplicas)},
	}
	if a.ScaledownPeriod != nil {
		spec["scaledownPeriod"] = int64(*a.ScaledownPeriod)
	}
	if m := a.ScalingMetric; m != nil {
		spec["scalingMetric"] = scalingMetric(m)
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "http.keda.sh/v1alpha1",
		"kind":       "HTTPScaledObject",
		"metadata":   map[string]any{"name": s.Spec.Workload.Name, "namespace": s.Spec.Namespace},
		"spec":       spec,
	}}
}

// renderManifests applies the user's own objects as they are, each in the
// scenario's namespace, with only what the run itself needs added: the
// executor a SpinApp names when the manifests do not bring it (the platform
// install's, per namespace), the emulation annotations on the pods (real
// clusters ignore them), and the ingress route the load reaches the app by.
func renderManifests(s *scenario.Scenario) (*Set, error) {
	m := s.Manifests
	sp := s.Spec
	w := sp.Workload
	ns := sp.Namespace
	set := &Set{DeploymentName: w.Name, AutoscalerHPA: s.HPAName()}
	ann := podAnnotations(w)
	haveExecutor := false
	for _, o := range m.Objects {
		if o.GetKind() == "SpinAppExecutor" && o.GetName() == w.Executor {
			haveExecutor = true
		}
	}
	if w.Kind == scenario.WorkloadSpinApp && !haveExecutor {
		set.Workload = append(set.Workload, executor(ns, w.Executor))
	}
	for _, o := range m.Objects {
		o = o.DeepCopy()
		o.SetNamespace(ns)
		isTarget := o.GetKind() == w.Kind && o.GetName() == w.Name
		switch {
		case isTarget && w.Kind == scenario.WorkloadSpinApp:
			if err := mergeStrings(o.Object, ann, "spec", "podAnnotations"); err != nil {
				return nil, err
			}
		case isTarget:
			if err := mergeStrings(o.Object, ann, "spec", "template", "metadata", "annotations"); err != nil {
				return nil, err
			}
		}
		switch o.GetKind() {
		case "HorizontalPodAutoscaler", "ScaledObject", "HTTPScaledObject", "InterceptorRoute", "TriggerAuthentication":
			set.Autoscaler = append(set.Autoscaler, o)
		default:
			set.Workload = append(set.Workload, o)
		}
	}
	// The autoscaler object itself goes last, after what it refers to
	// (a TriggerAuthentication, an InterceptorRoute).
	last := len(set.Autoscaler) - 1
	for i, o := range set.Autoscaler {
		if o.GetKind() == m.AutoscalerKind && o.GetName() == m.AutoscalerName && i < last {
			set.Autoscaler[last], set.Autoscaler[i] = set.Autoscaler[i], set.Autoscaler[last]
			break
		}
	}
	switch w.Kind {
	case scenario.WorkloadSpinApp:
		set.PodSelector = SpinAppNameLabel + "=" + w.Name
	default:
		sel, err := deploymentSelector(m, w.Name)
		if err != nil {
			return nil, err
		}
		set.PodSelector = sel
	}
	switch sp.Autoscaler.Type {
	case scenario.HPA, scenario.KEDACPU:
		svc, port := w.Name, int32(80)
		if in, err := ingress(ns, w.Name, loadHost(s), svc, port); err == nil {
			set.Workload = append(set.Workload, in)
		} else {
			return nil, err
		}
	case scenario.KEDAHTTP:
		in, err := ingress(InterceptorNamespace, w.Name+"-interceptor", sp.Autoscaler.Hosts[0], InterceptorService, InterceptorPort)
		if err != nil {
			return nil, err
		}
		set.Workload = append(set.Workload, in)
	}
	return set, nil
}

// mergeStrings adds kv to the string map at path in obj (made if absent),
// keeping what the map has.
func mergeStrings(obj map[string]any, kv map[string]string, path ...string) error {
	if len(kv) == 0 {
		return nil
	}
	cur, _, err := unstructured.NestedStringMap(obj, path...)
	if err != nil {
		return fmt.Errorf("%s: %w", strings.Join(path, "."), err)
	}
	if cur == nil {
		cur = map[string]string{}
	}
	for k, v := range kv {
		if _, ok := cur[k]; !ok {
			cur[k] = v
		}
	}
	return unstructured.SetNestedStringMap(obj, cur, path...)
}

// deploymentSelector is a Deployment's spec.selector.matchLabels as a label
// selector.
func deploymentSelector(m *scenario.Manifests, name string) (string, error) {
	for _, o := range m.Objects {
		if o.GetKind() != "Deployment" || o.GetName() != name {
			continue
		}
		ml, _, err := unstructured.NestedStringMap(o.Object, "spec", "selector", "matchLabels")
		if err != nil || len(ml) == 0 {
			return "", fmt.Errorf("Deployment/%s.spec.selector.matchLabels: scalebench selects the pods by it (matchExpressions are not supported)", name)
		}
		return labels.SelectorFromSet(ml).String(), nil
	}
	return "", fmt.Errorf("Deployment/%s: not in the manifests", name)
}

// scalingMetric is the add-on's scalingMetric, the same in both APIs.
func scalingMetric(m *scenario.HTTPScalingMetric) map[string]any {
	sm := map[string]any{}
	if c := m.Concurrency; c != nil {
		sm["concurrency"] = map[string]any{"targetValue": int64(c.TargetValue)}
	}
	if r := m.RequestRate; r != nil {
		rr := map[string]any{"targetValue": int64(r.TargetValue)}
		if r.Window.Duration > 0 {
			rr["window"] = r.Window.String()
		}
		if r.Granularity.Duration > 0 {
			rr["granularity"] = r.Granularity.String()
		}
		sm["requestRate"] = rr
	}
	return sm
}

// interceptorRoute routes the scenario's hosts to the workload's Service
// and meters its requests (the add-on's current API, http.keda.sh/v1beta1).
func interceptorRoute(s *scenario.Scenario) *unstructured.Unstructured {
	a := s.Spec.Autoscaler
	hosts := make([]any, len(a.Hosts))
	for i, h := range a.Hosts {
		hosts[i] = h
	}
	m := a.ScalingMetric
	if m == nil {
		m = &scenario.HTTPScalingMetric{Concurrency: &scenario.HTTPConcurrency{TargetValue: HTTPDefaultConcurrency}}
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "http.keda.sh/v1beta1",
		"kind":       "InterceptorRoute",
		"metadata":   map[string]any{"name": s.Spec.Workload.Name, "namespace": s.Spec.Namespace},
		"spec": map[string]any{
			"target":        map[string]any{"service": s.Spec.Workload.Name, "port": int64(80)},
			"rules":         []any{map[string]any{"hosts": hosts}},
			"scalingMetric": scalingMetric(m),
		},
	}}
}

// scaledObjectHTTP scales the workload on its InterceptorRoute's metric
// through the add-on's external scaler: the ScaledObject the add-on's
// operator would make of an HTTPScaledObject, written by the user (here,
// scalebench) since v0.14. Named as the workload, as the operator names its.
func scaledObjectHTTP(s *scenario.Scenario) *unstructured.Unstructured {
	a := s.Spec.Autoscaler
	name := s.Spec.Workload.Name
	spec := map[string]any{
		"scaleTargetRef":  map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
		"minReplicaCount": int64(*a.MinReplicas),
		"maxReplicaCount": int64(a.MaxReplicas),
		"pollingInterval": int64(HTTPPollingInterval),
		"cooldownPeriod":  int64(*a.ScaledownPeriod),
		"triggers": []any{map[string]any{
			"type":     "external-push",
			"metadata": map[string]any{"scalerAddress": ExternalScalerAddress, "interceptorRoute": name},
		}},
	}
	return scaledObject(s.Spec.Namespace, name, a, spec)
}

// scaledObject wraps a ScaledObject's spec, adding the scenario's HPA
// behavior (advanced.horizontalPodAutoscalerConfig) when it has one.
func scaledObject(ns, name string, a scenario.Autoscaler, spec map[string]any) *unstructured.Unstructured {
	if b := behavior(a); b != nil {
		spec["advanced"] = map[string]any{"horizontalPodAutoscalerConfig": map[string]any{"behavior": b}}
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "keda.sh/v1alpha1",
		"kind":       "ScaledObject",
		"metadata":   map[string]any{"name": name, "namespace": ns},
		"spec":       spec,
	}}
}
