package emulated

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/kube"
	"github.com/scalebench/scalebench/scenario"
	"github.com/scalebench/scalebench/workloads"
)

// TestScenarioManifestsPassTheRealAPI applies every object every built-in
// scenario applies (rendered by the code bench run and bench plan use), and
// keda-http with each HTTP add-on API, to the emulated cluster's real API
// server: the CRDs' schemas of KEDA, the Spin operator and the HTTP add-on
// and KEDA's admission webhook judge them, so a schema error shows here
// rather than on a real cluster. Each autoscaler must then be taken up by
// its controller: the ScaledObject (applied, or made by the add-on's
// operator of an HTTPScaledObject) Ready, an InterceptorRoute Ready.
// About a minute.
func TestScenarioManifestsPassTheRealAPI(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts a cluster (~1 min)")
	}
	requireCachedBinaries(t)

	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	logger := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	start := time.Now()
	c, err := (&Provider{IngressAddr: "127.0.0.1:0"}).CreateCluster(ctx, clusters.Options{
		Name: "manifests", RunID: "manifests-" + time.Now().Format("150405"), WorkDir: t.TempDir(),
		Logger: logger, Progress: testWriter{t},
	})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	defer func() {
		if t.Failed() {
			for _, n := range []string{ComponentHTTPAddOnOperator, ComponentHTTPAddOnScaler, ComponentKEDAOperator} {
				t.Logf("log tail of %s:\n%s", n, tailFile(c.ComponentLogPath(n), 20))
			}
		}
		if err := c.Delete(context.Background()); err != nil {
			t.Errorf("delete: %v", err)
		}
	}()
	t.Logf("cluster ready in %s", time.Since(start).Round(100*time.Millisecond))
	cl, err := kube.NewClients(c.RESTConfig(), func(msg string) { t.Logf("API warning: %s", msg) })
	if err != nil {
		t.Fatal(err)
	}

	bs, err := scenario.Builtins()
	if err != nil {
		t.Fatal(err)
	}
	var cases []*scenario.Scenario
	for _, s := range bs {
		cases = append(cases, s)
		if s.Spec.Autoscaler.Type == scenario.KEDAHTTP && s.Spec.Autoscaler.API != scenario.HTTPAPIHTTPScaledObject {
			legacy, err := scenario.Resolve(s.Metadata.Name)
			if err != nil {
				t.Fatal(err)
			}
			legacy.Metadata.Name += "-hso"
			legacy.Spec.Autoscaler.API = scenario.HTTPAPIHTTPScaledObject
			cases = append(cases, legacy)
		}
	}
	apis := map[string]bool{}
	for _, s := range cases {
		t.Run(s.Metadata.Name, func(t *testing.T) {
			// One namespace per scenario (the add-on's Ingresses share the
			// keda namespace and their name: each apply takes it over).
			ns := "m-" + s.Metadata.Name
			s.Spec.Namespace = ns
			opts := workloads.Options{}
			if s.Spec.Autoscaler.Type == scenario.KEDASQS {
				// A placeholder queue: the API judges the objects' shape,
				// no pod reaches the queue here.
				opts.SQS = &workloads.SQSWiring{QueueURL: "http://sqs.keda.svc:4100/100010001000/" + s.Spec.Load.SQS.Queue,
					Endpoint: "http://sqs.keda.svc:4100", Region: "us-east-1", AccessKeyID: "x", SecretAccessKey: "y", RedisAddr: "valkey.keda.svc:6379"}
			}
			set, err := workloads.Render(s, opts)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := cl.Kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			if err := cl.Apply(ctx, "manifests", set.Workload...); err != nil {
				t.Fatalf("workload: %v", err)
			}
			// KEDA's webhook reads the scale target's resources: the
			// Deployment (the Spin operator's, for a SpinApp) must exist.
			err = kube.Poll(ctx, 250*time.Millisecond, "Deployment "+set.DeploymentName, func(ctx context.Context) (bool, string, error) {
				_, err := cl.Kube.AppsV1().Deployments(ns).Get(ctx, set.DeploymentName, metav1.GetOptions{})
				return err == nil, fmt.Sprint(err), nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := cl.Apply(ctx, "manifests", set.Autoscaler...); err != nil {
				t.Fatalf("autoscaler: %v", err)
			}
			for _, o := range set.Autoscaler {
				apis[o.GetKind()] = true
				switch o.GetKind() {
				case "InterceptorRoute":
					waitReady(ctx, t, cl, o)
				case "HTTPScaledObject", "ScaledObject":
					if so := s.ScaledObjectName(); so != "" {
						obj := &unstructured.Unstructured{}
						obj.SetAPIVersion("keda.sh/v1alpha1")
						obj.SetKind("ScaledObject")
						obj.SetNamespace(ns)
						obj.SetName(so)
						waitReady(ctx, t, cl, obj)
					}
				}
			}
			if err := cl.Delete(ctx, set.Autoscaler...); err != nil {
				t.Error(err)
			}
		})
	}
	for _, k := range []string{"HorizontalPodAutoscaler", "ScaledObject", "TriggerAuthentication", "InterceptorRoute", "HTTPScaledObject"} {
		if !apis[k] {
			t.Errorf("no scenario applied a %s", k)
		}
	}
}

// waitReady waits until a custom resource's Ready condition is True (for
// the generation it was applied at).
func waitReady(ctx context.Context, t *testing.T, cl *kube.Clients, o *unstructured.Unstructured) {
	t.Helper()
	ri, err := cl.Resource(o)
	if err != nil {
		t.Fatal(err)
	}
	what := o.GetKind() + " " + o.GetNamespace() + "/" + o.GetName() + " Ready"
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	err = kube.Poll(wctx, 250*time.Millisecond, what, func(ctx context.Context) (bool, string, error) {
		u, err := ri.Get(ctx, o.GetName(), metav1.GetOptions{})
		if err != nil {
			return false, err.Error(), nil
		}
		conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
		for _, c := range conds {
			m, _ := c.(map[string]any)
			if m["type"] == "Ready" {
				return m["status"] == "True", fmt.Sprintf("Ready=%v %v: %v", m["status"], m["reason"], m["message"]), nil
			}
		}
		return false, "no Ready condition yet", nil
	})
	if err != nil {
		t.Error(err)
	}
}
