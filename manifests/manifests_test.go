package manifests

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/scalebench/scalebench/scenario"
	"github.com/scalebench/scalebench/workloads"
)

const spinApp = `apiVersion: core.spinkube.dev/v1alpha1
kind: SpinApp
metadata: {name: app}
spec:
  image: ghcr.io/x/app:v1
  executor: containerd-shim-spin
  enableAutoscaling: true
  resources: {limits: {cpu: 500m, memory: 128Mi}}
`

const hpa = `---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: app-autoscaler}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: app}
  minReplicas: 2
  maxReplicas: 3
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 60}}
`

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, doc, want string
	}{
		{"no autoscaler", spinApp, "manifests t cannot run as given:\n  - manifests: Required value: no autoscaler: want one HorizontalPodAutoscaler, ScaledObject or HTTPScaledObject"},
		{"unknown kind", spinApp + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n", `manifests t cannot run as given:
  - document 2.kind: Unsupported value: "ConfigMap": supported values: "SpinApp", "SpinAppExecutor", "Deployment", "Service", "HorizontalPodAutoscaler", "ScaledObject", "TriggerAuthentication", "Secret", "HTTPScaledObject", "InterceptorRoute"`},
		{"missing target", strings.Replace(spinApp, "name: app}", "name: other}", 1) + hpa, `manifests t cannot run as given:
  - HorizontalPodAutoscaler/app-autoscaler.spec.scaleTargetRef.name: Not found: "app"`},
		{"replicas and enableAutoscaling", strings.Replace(spinApp, "enableAutoscaling: true", "enableAutoscaling: true\n  replicas: 2", 1) + hpa, `manifests t cannot run as given:
  - SpinApp/app.spec.replicas: Forbidden: set together with spec.enableAutoscaling: true; the Spin operator's webhook rejects a SpinApp with both`},
		{"no enableAutoscaling", strings.Replace(spinApp, "enableAutoscaling: true", "enableAutoscaling: false", 1) + hpa, `manifests t cannot run as given:
  - SpinApp/app.spec.enableAutoscaling: Required value: must be true for a SpinApp that HorizontalPodAutoscaler/app-autoscaler scales: otherwise the Spin operator sets spec.replicas back on every reconcile`},
		{"cpu target without requests", strings.Replace(spinApp, "resources: {limits: {cpu: 500m, memory: 128Mi}}", "resources: {limits: {memory: 128Mi}}", 1) + hpa, `manifests t cannot run as given:
  - SpinApp/app.spec.resources.requests.cpu: Required value: HorizontalPodAutoscaler/app-autoscaler targets CPU utilization, a share of the CPU request: set requests.cpu (or limits.cpu, which it defaults to)`},
		{"hpa external metric", spinApp + strings.Replace(hpa, "  - type: Resource\n    resource: {name: cpu, target: {type: Utilization, averageUtilization: 60}}", "  - type: External\n    external: {metric: {name: queue}, target: {type: AverageValue, averageValue: \"5\"}}", 1), `manifests t cannot run as given:
  - HorizontalPodAutoscaler/app-autoscaler.spec.metrics[0].type: Unsupported value: "External": supported values: "Resource cpu (Utilization)", "Resource memory (not driven)"`},
		{"hpa cpu AverageValue", spinApp + strings.Replace(hpa, "{type: Utilization, averageUtilization: 60}", "{type: AverageValue, averageValue: 200m}", 1), `manifests t cannot run as given:
  - HorizontalPodAutoscaler/app-autoscaler.spec.metrics[0].resource.target.type: Unsupported value: "AverageValue": supported values: "Utilization (with averageUtilization)"`},
		{"scaledobject prometheus trigger", spinApp + `---
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: so}
spec:
  scaleTargetRef: {name: app}
  minReplicaCount: 1
  maxReplicaCount: 5
  triggers:
  - type: prometheus
    metadata: {serverAddress: "http://prom:9090", query: "sum(x)", threshold: "5"}
`, `manifests t cannot run as given:
  - ScaledObject/so.spec.triggers[0].type: Unsupported value: "prometheus": supported values: "cpu", "memory", "aws-sqs-queue", "external-push (HTTP add-on InterceptorRoute)"; scalebench cannot provide a "prometheus" trigger: it would need a Prometheus server answering the trigger's query (serverAddress) with a series scalebench would have to feed`},
		{"scaledobject cpu from zero", spinApp + `---
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: so}
spec:
  scaleTargetRef: {name: app}
  minReplicaCount: 0
  maxReplicaCount: 5
  triggers:
  - type: cpu
    metricType: Utilization
    metadata: {value: "50"}
`, `manifests t cannot run as given:
  - ScaledObject/so.spec.minReplicaCount: Invalid value: 0: only cpu/memory triggers with minReplicaCount 0: KEDA's webhook rejects it (a CPU metric cannot wake a workload at zero); set minReplicaCount >= 1`},
		{"two autoscalers", spinApp + hpa + strings.Replace(hpa, "app-autoscaler", "second", 1), `manifests t cannot run as given:
  - manifests: Invalid value: "HorizontalPodAutoscaler/app-autoscaler, HorizontalPodAutoscaler/second": more than one autoscaler: scalebench runs one autoscaler per scenario`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc), "t")
			var me *Error
			if !errors.As(err, &me) {
				t.Fatalf("err %v, want a *Error", err)
			}
			if err.Error() != tc.want {
				t.Errorf("error\n%s\nwant\n%s", err, tc.want)
			}
		})
	}
}

func TestParseScaffoldHPA(t *testing.T) {
	c, err := Parse([]byte(spinApp+hpa), "t")
	if err != nil {
		t.Fatal(err)
	}
	a := c.Scaler
	if a.Type != TypeHPA || a.MinReplicas != 2 || a.MaxReplicas != 3 || *a.CPUUtilization != 60 || a.HPAName != "app-autoscaler" {
		t.Errorf("autoscaler %+v", a)
	}
	if c.Target.Kind != "SpinApp" || c.Target.Name != "app" || c.Target.CPURequest != "500m" || c.Target.CPULimit != "500m" {
		t.Errorf("target %+v (requests default to limits)", c.Target)
	}
	s, err := c.Scenario("m")
	if err != nil {
		t.Fatal(err)
	}
	if *s.Spec.Autoscaler.MinReplicas != 2 || s.Spec.Workload.Resources.Requests.CPU != "500m" {
		t.Errorf("scenario %+v", s.Spec)
	}
}

// The fixtures shaped like spin kube scaffold output parse.
func TestFixtures(t *testing.T) {
	for _, tc := range []struct {
		dir, typ string
		min, max int32
		target   int32
		notes    int
	}{
		{"scaffold-hpa", TypeHPA, 2, 3, 60, 1},
		{"scaffold-keda", TypeKEDACPU, 2, 3, 60, 2},
		{"hpa-behavior", TypeHPA, 1, 8, 50, 0},
		{"keda-cpu", TypeKEDACPU, 1, 5, 50, 0},
		{"deployment-hpa", TypeHPA, 1, 4, 60, 0},
		{"http-interceptorroute", TypeKEDAHTTP, 0, 4, 5, 0}, // target: the route's request rate
	} {
		t.Run(tc.dir, func(t *testing.T) {
			c, err := Load(filepath.Join("..", "fixtures", "manifests", tc.dir), nil)
			if err != nil {
				t.Fatal(err)
			}
			a := c.Scaler
			target := a.CPUUtilization
			if a.Type == TypeKEDAHTTP {
				target = a.RequestRateTarget
			}
			if a.Type != tc.typ || a.MinReplicas != tc.min || a.MaxReplicas != tc.max || target == nil || *target != tc.target || len(c.Notes) != tc.notes {
				t.Errorf("autoscaler %+v notes %q", a, c.Notes)
			}
		})
	}
	// A Deployment is its own scale target; an InterceptorRoute brings its
	// hosts and the ScaledObject's cooldown is the add-on's scale-down period.
	d, err := Load(filepath.Join("..", "fixtures", "manifests", "deployment-hpa"), nil)
	if err != nil || d.Target.Kind != "Deployment" || d.Target.CPURequest != "200m" || d.Target.CPULimit != "500m" {
		t.Errorf("deployment-hpa target %+v, err %v", d.Target, err)
	}
	h, err := Load(filepath.Join("..", "fixtures", "manifests", "http-interceptorroute"), nil)
	if err != nil || strings.Join(h.Scaler.Hosts, ",") != "hello.example" || h.Scaler.ScaledownPeriod == nil || *h.Scaler.ScaledownPeriod != 30 {
		t.Errorf("http-interceptorroute scaler %+v, err %v", h.Scaler, err)
	}
}

func TestLoadStdin(t *testing.T) {
	c, err := Load("-", strings.NewReader(spinApp+hpa))
	if err != nil || c.Source != "-" || c.Scaler.Name != "app-autoscaler" {
		t.Fatalf("Load(-): %v %+v", err, c)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "none"), nil); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing path: %v", err)
	}
}

// What scalebench renders for keda-http, with either HTTP add-on API, reads
// back as the same knobs: the API, hosts, scale-down period, metric target.
func TestHTTPAddOnAPIsRoundTrip(t *testing.T) {
	for _, api := range scenario.HTTPAPIs {
		t.Run(api, func(t *testing.T) {
			s, err := scenario.Resolve("keda-http-fast")
			if err != nil {
				t.Fatal(err)
			}
			s.Spec.Autoscaler.API = api
			set, err := workloads.Render(s, workloads.Options{})
			if err != nil {
				t.Fatal(err)
			}
			var docs []string
			for _, o := range append(set.Workload, set.Autoscaler...) {
				if o.GetKind() == "Ingress" {
					continue // not a kind explain reads
				}
				b, err := yaml.Marshal(o.Object)
				if err != nil {
					t.Fatal(err)
				}
				docs = append(docs, string(b))
			}
			c, err := Parse([]byte(strings.Join(docs, "---\n")), "rendered")
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.Scenario("back")
			if err != nil {
				t.Fatal(err)
			}
			a, want := got.Spec.Autoscaler, s.Spec.Autoscaler
			if a.API != api || strings.Join(a.Hosts, ",") != "hello.example" || *a.ScaledownPeriod != *want.ScaledownPeriod ||
				a.ScalingMetric == nil || a.ScalingMetric.Concurrency == nil || a.ScalingMetric.Concurrency.TargetValue != want.ScalingMetric.Concurrency.TargetValue ||
				*a.MinReplicas != 0 || a.MaxReplicas != want.MaxReplicas {
				t.Errorf("read back %+v, want the knobs of %+v", a, want)
			}
			if got.ScaledObjectName() != "hello" {
				t.Errorf("ScaledObject %q", got.ScaledObjectName())
			}
		})
	}
}
