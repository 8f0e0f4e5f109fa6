package emulated

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"

	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/clusters/emulated/components"
	"github.com/scalebench/scalebench/clusters/emulated/dataplane"
	"github.com/scalebench/scalebench/kube"
)

// testWriter sends progress lines to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func requireCachedBinaries(t *testing.T) {
	t.Helper()
	if missing := MissingBinaries(&components.Builder{}); len(missing) > 0 {
		t.Skipf("component binaries not cached (go run ./cmd/bench components builds them; a cold build takes ~20 min): %s", strings.Join(missing, ", "))
	}
}

// TestEmulatedClusterEndToEnd brings up a cluster from cached binaries and
// checks every promise of the provider; it takes about two minutes.
func TestEmulatedClusterEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts a control plane and KEDA (~2 min)")
	}
	requireCachedBinaries(t)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	workDir := t.TempDir()
	logger := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	p := &Provider{IngressAddr: "127.0.0.1:0"} // 8081 may be taken by another run
	start := time.Now()
	c, err := p.CreateCluster(ctx, clusters.Options{
		Name: "it", RunID: "it-" + time.Now().Format("150405"), WorkDir: workDir,
		Logger: logger, Progress: testWriter{t},
	})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	t.Logf("MEASURED cluster ready in %s with cached components (timings %+v)", time.Since(start).Round(10*time.Millisecond), c.Timings())

	// Remember every process so we can check teardown left none.
	pids := c.controlPlanePids()
	for _, n := range c.Components() {
		if pr, ok := c.sup.Process(n); ok {
			pids[n] = pr.Pid()
		}
	}
	if len(pids) < 8 {
		t.Errorf("expected the control plane and 4 supervised components, found %v", pids)
	}
	deleted := false
	defer func() {
		if !deleted {
			if err := c.Delete(context.Background()); err != nil {
				t.Errorf("delete: %v", err)
			}
		}
	}()

	cs := kubernetes.NewForConfigOrDie(c.RESTConfig())

	t.Run("nodes", func(t *testing.T) {
		ok, state, _ := nodesReady(ctx, cs, c.nodes)
		if !ok {
			t.Fatal(state)
		}
		t.Log(state)
	})

	t.Run("environment", func(t *testing.T) {
		env := c.Environment()
		if env.Provider != "emulated" || env.KubernetesVersion == "" || env.Components["keda"] == "" || env.Knobs["hpa.syncPeriod"] != "15s" {
			t.Errorf("environment = %+v", env)
		}
	})

	t.Run("external metrics APIService available", func(t *testing.T) {
		ok, state, _ := c.apiServiceAvailable(ctx, kedaExternalMetricsAPISvc)
		if !ok {
			t.Fatal(state)
		}
	})

	ns := "it"
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitSA(t, ctx, cs, ns)

	t.Run("SpinApp becomes a Deployment with a Ready pod on a KWOK node", func(t *testing.T) {
		if err := EnsureSpinAppExecutor(ctx, c.dynamic, ns, c.RunID()); err != nil {
			t.Fatal(err)
		}
		app := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "core.spinkube.dev/v1alpha1", "kind": "SpinApp",
			"metadata": map[string]any{"name": "hello", "namespace": ns},
			"spec": map[string]any{
				"image":          "ghcr.io/spinframework/spin-operator/cpu-load-gen:20250625-200717-g19414c1",
				"executor":       SpinAppExecutorName,
				"replicas":       int64(1),
				"podAnnotations": map[string]any{dataplane.AnnotationModel: "hello"},
				"resources": map[string]any{
					"requests": map[string]any{"cpu": "100m", "memory": "400Mi"},
					"limits":   map[string]any{"cpu": "500m", "memory": "500Mi"},
				},
			},
		}}
		if _, err := c.dynamic.Resource(kube.SpinApps).Namespace(ns).Create(ctx, app, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		t0 := time.Now()
		waitReadyReplicas(t, ctx, cs, ns, "hello", 1, time.Minute)
		t.Logf("SpinApp → 1 Ready pod in %s", time.Since(t0).Round(100*time.Millisecond))
		pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "core.spinkube.dev/app-name=hello"})
		if err != nil || len(pods.Items) != 1 {
			t.Fatalf("pods: %v %v", pods, err)
		}
		pod := pods.Items[0]
		if !strings.HasPrefix(pod.Spec.NodeName, "scalebench-") || pod.Spec.RuntimeClassName == nil || *pod.Spec.RuntimeClassName != RuntimeClassName || pod.Status.PodIP == "" {
			t.Errorf("pod node=%q runtimeClass=%v ip=%q", pod.Spec.NodeName, pod.Spec.RuntimeClassName, pod.Status.PodIP)
		}
	})

	t.Run("ingress routes to the SpinApp's emulated instance", func(t *testing.T) {
		pt := networkingv1.PathTypePrefix
		ing := &networkingv1.Ingress{
			ObjectMeta: metav1.ObjectMeta{Name: "hello", Namespace: ns},
			Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{
				IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
					Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: &pt, Backend: networkingv1.IngressBackend{
						Service: &networkingv1.IngressServiceBackend{Name: "hello", Port: networkingv1.ServiceBackendPort{Number: 80}},
					}}},
				}},
			}}},
		}
		if _, err := cs.NetworkingV1().Ingresses(ns).Create(ctx, ing, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		var body string
		err := kube.Poll(ctx, 200*time.Millisecond, "GET "+c.IngressURL(), func(ctx context.Context) (bool, string, error) {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.IngressURL()+"/", nil)
			resp, err := directHTTP.Do(req)
			if err != nil {
				return false, err.Error(), nil
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			body = string(b)
			return resp.StatusCode == http.StatusOK, fmt.Sprintf("%s: %q", resp.Status, b), nil
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("GET %s/ → %q", c.IngressURL(), body)
	})

	t.Run("pod start-up follows the kwok stage delays", func(t *testing.T) {
		t0 := time.Now()
		mustCreateDeployment(t, ctx, cs, ns, "fast", 1, "")
		waitReadyReplicas(t, ctx, cs, ns, "fast", 1, time.Minute)
		fast := time.Since(t0)
		t0 = time.Now()
		mustCreateDeploymentWith(t, ctx, cs, ns, "slow", 1, map[string]string{AnnotationPodReadyDelay: "4s"})
		waitReadyReplicas(t, ctx, cs, ns, "slow", 1, time.Minute)
		slow := time.Since(t0)
		t.Logf("Deployment → Ready pod: default %s, with %s=4s %s", fast.Round(10*time.Millisecond), AnnotationPodReadyDelay, slow.Round(10*time.Millisecond))
		if slow < 4*time.Second || slow-fast < 2*time.Second {
			t.Errorf("ready delay annotation not honoured: default %s, annotated %s", fast, slow)
		}
	})

	t.Run("KEDA webhook denies a cpu-only ScaledObject with minReplicaCount 0", func(t *testing.T) {
		mustCreateDeployment(t, ctx, cs, ns, "keda-target", 1, "")
		so := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
			"metadata": map[string]any{"name": "cpu-to-zero", "namespace": ns},
			"spec": map[string]any{
				"scaleTargetRef":  map[string]any{"name": "keda-target"},
				"minReplicaCount": int64(0),
				"maxReplicaCount": int64(5),
				"triggers": []any{map[string]any{
					"type": "cpu", "metricType": "Utilization", "metadata": map[string]any{"value": "50"},
				}},
			},
		}}
		_, err := c.dynamic.Resource(kube.ScaledObjects).Namespace(ns).Create(ctx, so, metav1.CreateOptions{})
		const want = "scaledobject has only cpu/memory triggers AND minReplica is 0 (scale to zero doesn't work in this case)"
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("create = %v, want denial %q", err, want)
		}
	})

	t.Run("KEDA scales through the external metrics API (adapter → operator gRPC)", func(t *testing.T) {
		// kubernetes-workload: the metric is the number of pods matching the
		// selector (the 1 "slow" pod); target 0.5 per replica → 2 replicas.
		so := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
			"metadata": map[string]any{"name": "workload", "namespace": ns},
			"spec": map[string]any{
				"scaleTargetRef":  map[string]any{"name": "keda-target"},
				"pollingInterval": int64(2),
				"minReplicaCount": int64(1),
				"maxReplicaCount": int64(5),
				"triggers": []any{map[string]any{
					"type": "kubernetes-workload", "metadata": map[string]any{"podSelector": "app=slow", "value": "0.5"},
				}},
			},
		}}
		if _, err := c.dynamic.Resource(kube.ScaledObjects).Namespace(ns).Create(ctx, so, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		t0 := time.Now()
		waitReadyReplicas(t, ctx, cs, ns, "keda-target", 2, 2*time.Minute)
		t.Logf("keda-hpa-workload scaled keda-target 1 → 2 in %s", time.Since(t0).Round(100*time.Millisecond))
	})

	t.Run("HPA scales a Deployment up through the real metrics-server", func(t *testing.T) {
		mustCreateDeployment(t, ctx, cs, ns, "busy", 1, "450m")
		min, util := int32(1), int32(50)
		hpa := &autoscalingv2.HorizontalPodAutoscaler{
			ObjectMeta: metav1.ObjectMeta{Name: "busy", Namespace: ns},
			Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
				ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "busy"},
				MinReplicas:    &min, MaxReplicas: 10,
				Metrics: []autoscalingv2.MetricSpec{{
					Type: autoscalingv2.ResourceMetricSourceType,
					Resource: &autoscalingv2.ResourceMetricSource{
						Name:   corev1.ResourceCPU,
						Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &util},
					},
				}},
			},
		}
		if _, err := cs.AutoscalingV2().HorizontalPodAutoscalers(ns).Create(ctx, hpa, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		t0 := time.Now()
		var timeline []string
		last := int32(-1)
		err := kube.Poll(ctx, time.Second, "HPA to scale busy to >= 4", func(ctx context.Context) (bool, string, error) {
			d, err := cs.AppsV1().Deployments(ns).Get(ctx, "busy", metav1.GetOptions{})
			if err != nil {
				return false, err.Error(), nil
			}
			if *d.Spec.Replicas != last {
				last = *d.Spec.Replicas
				timeline = append(timeline, fmt.Sprintf("%s:%d", time.Since(t0).Round(time.Second), last))
			}
			h, _ := cs.AutoscalingV2().HorizontalPodAutoscalers(ns).Get(ctx, "busy", metav1.GetOptions{})
			state := fmt.Sprintf("replicas %d, timeline %v", last, timeline)
			if h != nil {
				for _, cond := range h.Status.Conditions {
					if cond.Status != corev1.ConditionTrue {
						state += fmt.Sprintf("; %s=%s %s", cond.Type, cond.Reason, cond.Message)
					}
				}
			}
			return last >= 4, state, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("HPA timeline (since HPA created): %v", timeline)
	})

	// metrics-server drops nodes whose usage is zero, so node metrics appear
	// once pods (each uses at least 1m) run on them.
	t.Run("metrics API serves node metrics", func(t *testing.T) {
		wctx, wcancel := context.WithTimeout(ctx, 2*time.Minute)
		defer wcancel()
		t0 := time.Now()
		err := kube.Poll(wctx, time.Second, "node metrics", func(ctx context.Context) (bool, string, error) {
			raw, err := cs.Discovery().RESTClient().Get().AbsPath("/apis/metrics.k8s.io/v1beta1/nodes").DoRaw(ctx)
			if err != nil {
				return false, err.Error(), nil
			}
			var list struct {
				Items []struct {
					Metadata struct{ Name string } `json:"metadata"`
					Usage    map[string]string     `json:"usage"`
				} `json:"items"`
			}
			if err := json.Unmarshal(raw, &list); err != nil {
				return false, "", err
			}
			return len(list.Items) >= 1, fmt.Sprintf("%d node metrics: %s", len(list.Items), raw), nil
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("node metrics served (%s more)", time.Since(t0).Round(100*time.Millisecond))
	})

	t.Run("diagnostics", func(t *testing.T) {
		dir := t.TempDir()
		if err := c.CollectDiagnostics(ctx, dir); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"logs/keda-operator.log", "logs/spin-operator.log", "state/pods.yaml", "state/horizontalpodautoscalers.yaml", "state/scaledobjects.yaml", "kwokctl.yaml"} {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				t.Errorf("diagnostics lack %s: %v", f, err)
			}
		}
		kw, _ := filepath.Glob(filepath.Join(dir, "kwokctl-logs", "*.log"))
		if len(kw) == 0 {
			t.Errorf("no kwokctl logs collected")
		}
	})

	t.Run("a component that dies is reported", func(t *testing.T) {
		exits := c.ComponentExits()
		pr, ok := c.sup.Process(ComponentKEDAOperator)
		if !ok {
			t.Fatal("keda-operator not running")
		}
		// A crash, not a requested stop.
		if err := syscall.Kill(pr.Pid(), syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		select {
		case e := <-exits:
			if e.Name != ComponentKEDAOperator || e.Requested {
				t.Fatalf("exit = %+v", e)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no exit reported")
		}
		err := c.CheckComponents()
		if err == nil || !strings.Contains(err.Error(), `"keda-operator"`) {
			t.Fatalf("CheckComponents = %v", err)
		}
		t.Logf("CheckComponents: %v", err)
		if err := c.RestartComponent(ctx, ComponentKEDAOperator); err != nil {
			t.Fatal(err)
		}
		if err := c.StopComponent(ctx, ComponentKEDAWebhooks); err != nil {
			t.Fatal(err)
		}
		if err := c.StopComponent(ctx, "kube-apiserver"); err == nil {
			t.Error("stopping an unsupervised component succeeded")
		}
	})

	// Teardown leaves no process and no files behind.
	if pr, ok := c.sup.Process(ComponentKEDAOperator); ok {
		pids["keda-operator-restarted"] = pr.Pid()
	}
	deleted = true
	t0 := time.Now()
	if err := c.Delete(context.Background()); err != nil {
		t.Fatalf("delete: %v", err)
	}
	t.Logf("deleted in %s", time.Since(t0).Round(10*time.Millisecond))
	for name, pid := range pids {
		// Every process's command line names a file in the work dir (binary
		// or kubeconfig); a match means it survived (pid reuse would not match).
		if processBelongsTo(pid, workDir) {
			t.Errorf("%s (pid %d) still running after Delete", name, pid)
		}
	}
	for _, f := range []string{"kwok", "logs", "keda"} {
		if _, err := os.Stat(filepath.Join(workDir, f)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s left in the work dir", f)
		}
	}
}

func waitSA(t *testing.T, ctx context.Context, cs kubernetes.Interface, ns string) {
	t.Helper()
	err := kube.Poll(ctx, 100*time.Millisecond, "default service account in "+ns, func(ctx context.Context) (bool, string, error) {
		_, err := cs.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{})
		return err == nil, fmt.Sprint(err), nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func mustCreateDeployment(t *testing.T, ctx context.Context, cs kubernetes.Interface, ns, name string, replicas int32, usageCPU string) {
	t.Helper()
	ann := map[string]string{}
	if usageCPU != "" {
		ann[AnnotationUsageCPU] = usageCPU
	}
	mustCreateDeploymentWith(t, ctx, cs, ns, name, replicas, ann)
}

func mustCreateDeploymentWith(t *testing.T, ctx context.Context, cs kubernetes.Interface, ns, name string, replicas int32, ann map[string]string) {
	t.Helper()
	rc := RuntimeClassName
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}, Annotations: ann},
				Spec: corev1.PodSpec{
					RuntimeClassName: &rc,
					Containers: []corev1.Container{{
						Name: name, Image: "example.invalid/spin-app:1", Command: []string{"/"},
						Resources: corev1.ResourceRequirements{
							Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("400Mi")},
							Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("500Mi")},
						},
					}},
				},
			},
		},
	}
	if _, err := cs.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func waitReadyReplicas(t *testing.T, ctx context.Context, cs kubernetes.Interface, ns, name string, n int32, timeout time.Duration) {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	err := kube.Poll(wctx, 200*time.Millisecond, fmt.Sprintf("deployment %s/%s to have %d ready replicas", ns, name, n), func(ctx context.Context) (bool, string, error) {
		d, err := cs.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err.Error(), nil
		}
		return d.Status.ObservedGeneration >= d.Generation && d.Status.ReadyReplicas >= n,
			fmt.Sprintf("ready %d/%d updated %d", d.Status.ReadyReplicas, n, d.Status.UpdatedReplicas), nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestEmulatedClusterStartsOnlyThePartsItsScenariosNeed brings up a cluster
// for HPA scenarios only: no KEDA and no HTTP add-on process, CRD or
// namespace, and a fingerprint that does not name them.
func TestEmulatedClusterStartsOnlyThePartsItsScenariosNeed(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts a control plane (~1 min)")
	}
	requireCachedBinaries(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	p := &Provider{IngressAddr: "127.0.0.1:0"}
	start := time.Now()
	c, err := p.CreateCluster(ctx, clusters.Options{
		Name: "hpaonly", RunID: "it-" + time.Now().Format("150405"), WorkDir: t.TempDir(),
		Progress: testWriter{t}, Autoscalers: []string{"hpa"},
	})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	t.Logf("MEASURED HPA-only cluster ready in %s with cached components (timings %+v)", time.Since(start).Round(10*time.Millisecond), c.Timings())
	defer func() {
		if err := c.Delete(context.WithoutCancel(ctx)); err != nil {
			t.Errorf("delete: %v", err)
		}
	}()
	for _, n := range c.Components() {
		if strings.HasPrefix(n, "keda") || strings.HasPrefix(n, "http-add-on") {
			t.Errorf("component %s runs on an HPA-only cluster (components %v)", n, c.Components())
		}
	}
	if !slices.Contains(c.Components(), ComponentSpinOperator) {
		t.Errorf("spin-operator is not running: %v", c.Components())
	}
	crds, err := c.dynamic.Resource(kube.CustomResourceDefinitions).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, crd := range crds.Items {
		names = append(names, crd.GetName())
		if strings.HasSuffix(crd.GetName(), ".keda.sh") {
			t.Errorf("CRD %s installed on an HPA-only cluster", crd.GetName())
		}
	}
	if !slices.Contains(names, "spinapps.core.spinkube.dev") {
		t.Errorf("spin-operator's SpinApp CRD missing: %v", names)
	}
	if _, err := c.clientset.CoreV1().Namespaces().Get(ctx, KEDANamespace, metav1.GetOptions{}); err == nil {
		t.Errorf("namespace %s exists on an HPA-only cluster", KEDANamespace)
	}
	env := c.Environment()
	if env.Components["keda"] != "" || env.Components["http-add-on"] != "" || env.Knobs["keda.pollingIntervalDefault"] != "" {
		t.Errorf("the fingerprint names parts that did not run: components %v", env.Components)
	}
	if env.Components["metrics-server"] == "" || env.Knobs["hpa.syncPeriod"] != "15s" {
		t.Errorf("fingerprint: components %v, hpa.syncPeriod %q", env.Components, env.Knobs["hpa.syncPeriod"])
	}
}
