package workloads

import (
	"fmt"
	"strings"
	"testing"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"

	"github.com/scalebench/scalebench/scenario"
)

func render(t *testing.T, name string) *Set {
	t.Helper()
	s, err := scenario.Resolve(name)
	if err != nil {
		t.Fatal(err)
	}
	set, err := Render(s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func kinds(objs []*unstructured.Unstructured) string {
	var k []string
	for _, o := range objs {
		k = append(k, o.GetKind())
	}
	return strings.Join(k, ",")
}

func TestHPAScenarioMatchesTheTutorial(t *testing.T) {
	set := render(t, "hpa-cpu")
	if got := kinds(set.Workload); got != "SpinAppExecutor,SpinApp,Ingress" {
		t.Errorf("workload objects %s", got)
	}
	app := set.Workload[1]
	if v, _, _ := unstructured.NestedBool(app.Object, "spec", "enableAutoscaling"); !v {
		t.Error("SpinApp must enable autoscaling (and set no replicas)")
	}
	if _, found, _ := unstructured.NestedFieldNoCopy(app.Object, "spec", "replicas"); found {
		t.Error("SpinApp with enableAutoscaling must not set replicas (the webhook rejects it)")
	}
	if v, _, _ := unstructured.NestedString(app.Object, "spec", "resources", "limits", "cpu"); v != "500m" {
		t.Errorf("limits.cpu %q", v)
	}
	if v, _, _ := unstructured.NestedString(app.Object, "spec", "podAnnotations", AnnotationModel); v != "cpu-load-gen" {
		t.Errorf("model annotation %q", v)
	}
	h := set.Autoscaler[0]
	if h.GetKind() != "HorizontalPodAutoscaler" || set.AutoscalerHPA != "cpu-load-gen" {
		t.Fatalf("autoscaler %s %s", h.GetKind(), set.AutoscalerHPA)
	}
	if v, _, _ := unstructured.NestedInt64(h.Object, "spec", "maxReplicas"); v != 10 {
		t.Errorf("maxReplicas %d", v)
	}
	ms, _, _ := unstructured.NestedSlice(h.Object, "spec", "metrics")
	if u, _, _ := unstructured.NestedInt64(ms[0].(map[string]any), "resource", "target", "averageUtilization"); u != 50 {
		t.Errorf("target %d", u)
	}
	if set.PodSelector != "core.spinkube.dev/app-name=cpu-load-gen" {
		t.Errorf("selector %q", set.PodSelector)
	}
}

func TestKEDACPUScenarioMatchesTheTutorial(t *testing.T) {
	set := render(t, "keda-cpu-fast")
	so := set.Autoscaler[0]
	if so.GetKind() != "ScaledObject" || so.GetName() != "cpu-scaling" || set.AutoscalerHPA != "keda-hpa-cpu-scaling" {
		t.Fatalf("%s %s %s", so.GetKind(), so.GetName(), set.AutoscalerHPA)
	}
	tr, _, _ := unstructured.NestedSlice(so.Object, "spec", "triggers")
	trig := tr[0].(map[string]any)
	if trig["type"] != "cpu" || trig["metricType"] != "Utilization" || trig["metadata"].(map[string]any)["value"] != "50" {
		t.Errorf("trigger %v", trig)
	}
	if v, _, _ := unstructured.NestedInt64(so.Object, "spec", "maxReplicaCount"); v != 20 {
		t.Errorf("max %d", v)
	}
	if v, _, _ := unstructured.NestedInt64(so.Object, "spec", "advanced", "horizontalPodAutoscalerConfig", "behavior", "scaleDown", "stabilizationWindowSeconds"); v != 30 {
		t.Errorf("behavior not passed through: %d", v)
	}
}

func TestHTTPScenarioRoutesThroughTheInterceptor(t *testing.T) {
	set := render(t, "keda-http")
	in := set.Workload[len(set.Workload)-1]
	if in.GetKind() != "Ingress" || in.GetNamespace() != "keda" {
		t.Fatalf("ingress %s/%s", in.GetNamespace(), in.GetName())
	}
	rules, _, _ := unstructured.NestedSlice(in.Object, "spec", "rules")
	if rules[0].(map[string]any)["host"] != "hello.example" {
		t.Errorf("rule %v", rules[0])
	}
}

// The default API: an InterceptorRoute (applied first) and the ScaledObject
// that names it, shaped as the add-on's own ScaledObjects.
func TestHTTPScenarioDefaultsToInterceptorRoute(t *testing.T) {
	set := render(t, "keda-http")
	if got := kinds(set.Autoscaler); got != "InterceptorRoute,ScaledObject" {
		t.Fatalf("autoscaler objects %s", got)
	}
	ir, so := set.Autoscaler[0], set.Autoscaler[1]
	if ir.GetAPIVersion() != "http.keda.sh/v1beta1" || ir.GetName() != "hello" {
		t.Errorf("route %s %s", ir.GetAPIVersion(), ir.GetName())
	}
	if v, _, _ := unstructured.NestedString(ir.Object, "spec", "target", "service"); v != "hello" {
		t.Errorf("target service %q", v)
	}
	if v, _, _ := unstructured.NestedInt64(ir.Object, "spec", "target", "port"); v != 80 {
		t.Errorf("target port %d", v)
	}
	rules, _, _ := unstructured.NestedSlice(ir.Object, "spec", "rules")
	if hosts, _, _ := unstructured.NestedStringSlice(rules[0].(map[string]any), "hosts"); len(hosts) != 1 || hosts[0] != "hello.example" {
		t.Errorf("rule hosts %v", hosts)
	}
	if v, _, _ := unstructured.NestedInt64(ir.Object, "spec", "scalingMetric", "concurrency", "targetValue"); v != 5 {
		t.Errorf("concurrency target %d", v)
	}
	if so.GetName() != "hello" || set.AutoscalerHPA != "keda-hpa-hello" {
		t.Errorf("ScaledObject %s, HPA %s: the analysis looks for the workload's name", so.GetName(), set.AutoscalerHPA)
	}
	for k, want := range map[string]int64{"minReplicaCount": 0, "maxReplicaCount": 10, "pollingInterval": HTTPPollingInterval, "cooldownPeriod": 30} {
		if v, _, _ := unstructured.NestedInt64(so.Object, "spec", k); v != want {
			t.Errorf("%s = %d, want %d", k, v, want)
		}
	}
	tr, _, _ := unstructured.NestedSlice(so.Object, "spec", "triggers")
	trig := tr[0].(map[string]any)
	md := trig["metadata"].(map[string]any)
	if trig["type"] != "external-push" || md["interceptorRoute"] != "hello" || md["scalerAddress"] != ExternalScalerAddress {
		t.Errorf("trigger %v", trig)
	}
	if v, _, _ := unstructured.NestedString(so.Object, "spec", "scaleTargetRef", "name"); v != "hello" {
		t.Errorf("scale target %q", v)
	}

	// Without a scalingMetric the route still has the one it requires.
	s, _ := scenario.Resolve("keda-http")
	s.Spec.Autoscaler.ScalingMetric = nil
	s.Spec.Autoscaler.Behavior = &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleDown: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: ptr.To[int32](7)}}
	set, err := Render(s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if v, _, _ := unstructured.NestedInt64(set.Autoscaler[0].Object, "spec", "scalingMetric", "concurrency", "targetValue"); v != HTTPDefaultConcurrency {
		t.Errorf("default concurrency target %d", v)
	}
	if v, _, _ := unstructured.NestedInt64(set.Autoscaler[1].Object, "spec", "advanced", "horizontalPodAutoscalerConfig", "behavior", "scaleDown", "stabilizationWindowSeconds"); v != 7 {
		t.Errorf("behavior not passed to the ScaledObject: %d", v)
	}
}

func TestHTTPScenarioLegacyHTTPScaledObject(t *testing.T) {
	s, _ := scenario.Resolve("keda-http")
	s.Spec.Autoscaler.API = scenario.HTTPAPIHTTPScaledObject
	set, err := Render(s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := kinds(set.Autoscaler); got != "HTTPScaledObject" {
		t.Fatalf("autoscaler objects %s", got)
	}
	hso := set.Autoscaler[0]
	if v, _, _ := unstructured.NestedInt64(hso.Object, "spec", "replicas", "min"); v != 0 {
		t.Errorf("min %d", v)
	}
	if v, _, _ := unstructured.NestedString(hso.Object, "spec", "scaleTargetRef", "service"); v != "hello" {
		t.Errorf("service %q", v)
	}
	if v, _, _ := unstructured.NestedInt64(hso.Object, "spec", "scaledownPeriod"); v != 30 {
		t.Errorf("scaledownPeriod %d", v)
	}
	if hso.GetName() != "hello" || set.AutoscalerHPA != "keda-hpa-hello" {
		t.Errorf("HTTPScaledObject %s, HPA %s", hso.GetName(), set.AutoscalerHPA)
	}
	s.Spec.Autoscaler.API = "Gateway"
	if _, err := Render(s, Options{}); err == nil || !strings.Contains(err.Error(), "InterceptorRoute") {
		t.Errorf("unknown api: %v", err)
	}
}

func TestSQSWiring(t *testing.T) {
	s, _ := scenario.Resolve("keda-sqs")
	if _, err := Render(s, Options{}); err == nil || !strings.Contains(err.Error(), "no SQS queue") {
		t.Errorf("want a clear error without a queue, got %v", err)
	}
	set, err := Render(s, Options{SQS: &SQSWiring{QueueURL: "http://127.0.0.1:4100/100010001000/customers", Endpoint: "http://127.0.0.1:4100", Region: "us-east-1", AccessKeyID: "a", SecretAccessKey: "b", RedisAddr: "127.0.0.1:6379"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := kinds(set.Workload); got != "Secret,Deployment" {
		t.Errorf("workload %s", got)
	}
	if got := kinds(set.Autoscaler); got != "TriggerAuthentication,ScaledObject" {
		t.Errorf("autoscaler %s", got)
	}
	d := set.Workload[1]
	if rc, _, _ := unstructured.NestedString(d.Object, "spec", "template", "spec", "runtimeClassName"); rc != RuntimeClass {
		t.Errorf("runtime class %q", rc)
	}
	if r, _, _ := unstructured.NestedInt64(d.Object, "spec", "replicas"); r != 0 {
		t.Errorf("replicas %d", r)
	}
	so := set.Autoscaler[1]
	tr, _, _ := unstructured.NestedSlice(so.Object, "spec", "triggers")
	md := tr[0].(map[string]any)["metadata"].(map[string]any)
	if md["queueLength"] != "10" || md["awsEndpoint"] != "http://127.0.0.1:4100" || md["scaleOnInFlight"] != "false" || md["awsRegion"] != "us-east-1" {
		t.Errorf("trigger metadata %v", md)
	}
	for k, want := range map[string]int64{"minReplicaCount": 0, "maxReplicaCount": 10, "pollingInterval": 2, "cooldownPeriod": 30} {
		if v, _, _ := unstructured.NestedInt64(so.Object, "spec", k); v != want {
			t.Errorf("%s = %d, want %d", k, v, want)
		}
	}
	sec := set.Workload[0]
	for k, want := range map[string]string{EnvRedis: "redis://127.0.0.1:6379", EnvSpinRedisHost: "127.0.0.1", EnvSpinRedisPort: "6379",
		EnvQueueURL: "http://127.0.0.1:4100/100010001000/customers", EnvRegion: "us-east-1", EnvDefaultRegion: "us-east-1"} {
		if v, _, _ := unstructured.NestedString(sec.Object, "stringData", k); v != want {
			t.Errorf("secret %s = %q, want %q", k, v, want)
		}
	}
	// The Deployment names the Secret's keys, never a value.
	cs, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	for _, e := range cs[0].(map[string]any)["env"].([]any) {
		em := e.(map[string]any)
		if _, ok := em["value"]; ok {
			t.Errorf("env %v carries a value", em)
		}
		if k, _, _ := unstructured.NestedString(em, "valueFrom", "secretKeyRef", "key"); k != em["name"] {
			t.Errorf("env %v: not the Secret's key of the same name", em)
		}
	}
}

// The one SQS wiring: Secret, environment and TriggerAuthentication agree,
// with and without a session token and without static credentials; its
// text (what logs and reports may show) holds no credential.
func TestSQSWiringCredentials(t *testing.T) {
	base := SQSWiring{QueueURL: "https://sqs.eu-west-1.amazonaws.com/123456789012/customers", Region: "eu-west-1",
		AccessKeyID: "AKIAEXAMPLE", SecretAccessKey: "s3cr3t-value", RedisAddr: "valkey:6379"}
	withToken := base
	withToken.SessionToken = "t0ken-value"
	noCreds := base
	noCreds.AccessKeyID, noCreds.SecretAccessKey = "", ""
	for _, tc := range []struct {
		name     string
		w        SQSWiring
		keys     string
		authRefs string
	}{
		{"static", base, "AWS_ACCESS_KEY_ID,AWS_DEFAULT_REGION,AWS_REGION,AWS_SECRET_ACCESS_KEY,REDIS_CONNECTION_STRING,SPIN_VARIABLE_REDIS_HOST,SPIN_VARIABLE_REDIS_PORT,SQS_QUEUE_URL",
			"awsAccessKeyID=AWS_ACCESS_KEY_ID,awsSecretAccessKey=AWS_SECRET_ACCESS_KEY"},
		{"session token", withToken, "AWS_ACCESS_KEY_ID,AWS_DEFAULT_REGION,AWS_REGION,AWS_SECRET_ACCESS_KEY,AWS_SESSION_TOKEN,REDIS_CONNECTION_STRING,SPIN_VARIABLE_REDIS_HOST,SPIN_VARIABLE_REDIS_PORT,SQS_QUEUE_URL",
			"awsAccessKeyID=AWS_ACCESS_KEY_ID,awsSecretAccessKey=AWS_SECRET_ACCESS_KEY,awsSessionToken=AWS_SESSION_TOKEN"},
		{"default chain", noCreds, "AWS_DEFAULT_REGION,AWS_REGION,REDIS_CONNECTION_STRING,SPIN_VARIABLE_REDIS_HOST,SPIN_VARIABLE_REDIS_PORT,SQS_QUEUE_URL", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := tc.w
			keys, err := w.SecretKeys()
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(keys, ","); got != tc.keys {
				t.Errorf("secret keys %s, want %s", got, tc.keys)
			}
			sec, err := w.Secret("ns", "app-sqs")
			if err != nil {
				t.Fatal(err)
			}
			data, _, _ := unstructured.NestedStringMap(sec.Object, "stringData")
			if len(data) != len(keys) || (w.SessionToken != "" && data[EnvSessionToken] != w.SessionToken) {
				t.Errorf("secret data keys %d, token %q", len(data), data[EnvSessionToken])
			}
			env, err := w.Env("app-sqs")
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, e := range env {
				if e.Value != "" || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil || e.ValueFrom.SecretKeyRef.Name != "app-sqs" {
					t.Errorf("env %+v: want a reference into the Secret", e)
				}
				names = append(names, e.Name)
			}
			if got := strings.Join(names, ","); got != tc.keys {
				t.Errorf("env %s, want the Secret's keys %s", got, tc.keys)
			}
			ta := w.TriggerAuthentication("ns", "app-aws", "app-sqs")
			refs, _, _ := unstructured.NestedSlice(ta.Object, "spec", "secretTargetRef")
			var pairs []string
			for _, r := range refs {
				m := r.(map[string]any)
				if m["name"] != "app-sqs" || data[m["key"].(string)] == "" {
					t.Errorf("ref %v: not a key of the Secret", m)
				}
				pairs = append(pairs, fmt.Sprint(m["parameter"], "=", m["key"]))
			}
			if got := strings.Join(pairs, ","); got != tc.authRefs {
				t.Errorf("TriggerAuthentication refs %s, want %s", got, tc.authRefs)
			}
			if p, _, _ := unstructured.NestedString(ta.Object, "spec", "podIdentity", "provider"); (p == "aws") != !w.StaticCredentials() {
				t.Errorf("podIdentity provider %q with static credentials %v", p, w.StaticCredentials())
			}
			for _, text := range []string{w.String(), fmt.Sprintf("%v %+v %#v %s", w, w, w, &w), strings.Join(keys, " ")} {
				for _, secret := range []string{"AKIAEXAMPLE", "s3cr3t-value", "t0ken-value"} {
					if strings.Contains(text, secret) {
						t.Errorf("%q shows a credential", text)
					}
				}
			}
		})
	}
	bad := base
	bad.SecretAccessKey = ""
	if _, err := bad.Secret("ns", "x"); err == nil || strings.Contains(err.Error(), "AKIAEXAMPLE") {
		t.Errorf("a key id without its secret: %v", err)
	}
	bad = base
	bad.RedisAddr = "valkey"
	if _, err := bad.Secret("ns", "x"); err == nil {
		t.Error("a store address without a port: want an error")
	}
}

func TestAutoscalerPatch(t *testing.T) {
	s, _ := scenario.Resolve("keda-cpu")
	s.Spec.Autoscaler.Patch = map[string]any{"spec": map[string]any{"minReplicaCount": int64(0), "cooldownPeriod": nil}}
	set, err := Render(s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	so := set.Autoscaler[0]
	if v, found, _ := unstructured.NestedFieldNoCopy(so.Object, "spec", "minReplicaCount"); !found || v != float64(0) {
		t.Errorf("minReplicaCount %v", v)
	}
	_ = so.DeepCopy() // a Go int in the patch must not reach the object (DeepCopy panics on it)
	if _, found, _ := unstructured.NestedFieldNoCopy(so.Object, "spec", "cooldownPeriod"); found {
		t.Error("null must delete")
	}
	if v, _, _ := unstructured.NestedInt64(so.Object, "spec", "maxReplicaCount"); v != 20 {
		t.Errorf("untouched fields must stay: max %d", v)
	}
}

// An app of a multi-app CPU scenario has its own ScaledObject, targeting
// its own Deployment, and an Ingress rule for its own Host only; one app
// alone keeps the tutorial's any-host rule.
func TestAppOfAMultiAppScenario(t *testing.T) {
	s, err := scenario.Resolve("keda-cpu-fast")
	if err != nil {
		t.Fatal(err)
	}
	if in := render(t, "keda-cpu-fast").Workload[2]; in.GetKind() != "Ingress" || ingressHost(in) != "" {
		t.Fatalf("one app: %s host %q", in.GetKind(), ingressHost(in))
	}
	s.SetApps(12)
	a, err := scenario.ForApp(s, 3)
	if err != nil {
		t.Fatal(err)
	}
	set, err := Render(a, Options{})
	if err != nil {
		t.Fatal(err)
	}
	so := set.Autoscaler[0]
	target, _, _ := unstructured.NestedString(so.Object, "spec", "scaleTargetRef", "name")
	if so.GetName() != "cpu-scaling-03" || target != "cpu-load-gen-03" || set.AutoscalerHPA != "keda-hpa-cpu-scaling-03" || set.DeploymentName != "cpu-load-gen-03" {
		t.Errorf("ScaledObject %s → %s, HPA %s, Deployment %s", so.GetName(), target, set.AutoscalerHPA, set.DeploymentName)
	}
	in := set.Workload[len(set.Workload)-1]
	if in.GetKind() != "Ingress" || in.GetName() != "cpu-load-gen-03" || ingressHost(in) != "cpu-load-gen-03."+scenario.AppsHostDomain {
		t.Errorf("ingress %s %s host %q", in.GetKind(), in.GetName(), ingressHost(in))
	}
}

func ingressHost(in *unstructured.Unstructured) string {
	rules, _, _ := unstructured.NestedSlice(in.Object, "spec", "rules")
	if len(rules) == 0 {
		return "<no rule>"
	}
	h, _, _ := unstructured.NestedString(rules[0].(map[string]any), "host")
	return h
}
