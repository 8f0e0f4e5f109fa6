package emulated

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"

	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/clusters/emulated/components"
	"github.com/scalebench/scalebench/clusters/emulated/dataplane"
	"github.com/scalebench/scalebench/kube"
)

// TestHTTPAddOnEndToEnd runs the KEDA HTTP add-on's path on an emulated
// cluster: ingress → interceptor (holds the request) → KEDA activates the
// app 0 → 1 through the external scaler → the interceptor forwards through
// the service network; then load scales it out, and it returns to 0 after
// scaledownPeriod. About two and a half minutes.
func TestHTTPAddOnEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts a cluster and sends load (~2.5 min)")
	}
	requireCachedBinaries(t)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	logger := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	p := &Provider{IngressAddr: "127.0.0.1:0"}
	start := time.Now()
	c, err := p.CreateCluster(ctx, clusters.Options{
		Name: "addon", RunID: "addon-" + time.Now().Format("150405"), WorkDir: t.TempDir(),
		Logger: logger, Progress: testWriter{t},
	})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	t.Logf("MEASURED cluster ready in %s (timings %+v)", time.Since(start).Round(10*time.Millisecond), c.Timings())
	defer func() {
		if t.Failed() {
			for _, n := range []string{ComponentHTTPAddOnInterceptor, ComponentHTTPAddOnScaler, ComponentHTTPAddOnOperator, ComponentKEDAOperator} {
				t.Logf("log tail of %s:\n%s", n, tailFile(c.ComponentLogPath(n), 30))
			}
		}
		if err := c.Delete(context.Background()); err != nil {
			t.Errorf("delete: %v", err)
		}
	}()

	env := c.Environment()
	if got, want := env.Components["http-add-on"], components.DefaultHTTPAddOnVersion; got != want {
		t.Errorf("Environment().Components[http-add-on] = %q, want %q", got, want)
	}
	if !slices.ContainsFunc(env.Emulated, func(s string) bool { return strings.Contains(s, "service-network proxy") }) {
		t.Errorf("Environment().Emulated does not mention the service-network proxy: %q", env.Emulated)
	}
	for _, n := range []string{ComponentHTTPAddOnOperator, ComponentHTTPAddOnScaler, ComponentHTTPAddOnInterceptor} {
		if !slices.Contains(c.Components(), n) {
			t.Errorf("component %s not supervised: %v", n, c.Components())
		}
	}

	cs := kubernetes.NewForConfigOrDie(c.RESTConfig())
	const ns, app, host = "web", "hello", "hello.example"
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitSA(t, ctx, cs, ns)
	if err := EnsureSpinAppExecutor(ctx, c.dynamic, ns, c.RunID()); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, ctx, c, kube.SpinApps, ns, map[string]any{
		"apiVersion": "core.spinkube.dev/v1alpha1", "kind": "SpinApp",
		"metadata": map[string]any{"name": app, "namespace": ns},
		"spec": map[string]any{
			"image":             "ghcr.io/spinkube/containerd-shim-spin/examples/spin-rust-hello:v0.13.0",
			"executor":          SpinAppExecutorName,
			"enableAutoscaling": true,
			"podAnnotations":    map[string]any{dataplane.AnnotationModel: "hello"},
			"resources": map[string]any{
				"requests": map[string]any{"cpu": "100m", "memory": "128Mi"},
				"limits":   map[string]any{"cpu": "500m", "memory": "128Mi"},
			},
		},
	})
	mustCreate(t, ctx, c, kube.HTTPScaledObjects, ns, map[string]any{
		"apiVersion": "http.keda.sh/v1alpha1", "kind": "HTTPScaledObject",
		"metadata": map[string]any{"name": app, "namespace": ns},
		"spec": map[string]any{
			"hosts": []any{host},
			"scaleTargetRef": map[string]any{
				"name": app, "kind": "Deployment", "apiVersion": "apps/v1", "service": app, "port": int64(80),
			},
			"replicas":        map[string]any{"min": int64(0), "max": int64(10)},
			"scaledownPeriod": int64(30),
			"scalingMetric":   map[string]any{"concurrency": map[string]any{"targetValue": int64(5)}},
		},
	})
	pt := networkingv1.PathTypePrefix
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: app + "-interceptor", Namespace: KEDANamespace},
		Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{
			Host: host,
			IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
				Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: &pt, Backend: networkingv1.IngressBackend{
					Service: &networkingv1.IngressServiceBackend{
						Name: HTTPAddOnInterceptorProxyService,
						Port: networkingv1.ServiceBackendPort{Number: HTTPAddOnInterceptorProxyPort},
					},
				}}},
			}},
		}}},
	}
	if _, err := cs.NetworkingV1().Ingresses(KEDANamespace).Create(ctx, ing, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	// Hop: add-on operator → ScaledObject naming the external scaler.
	t.Run("operator generates a ScaledObject with the scaler's address", func(t *testing.T) {
		var addr string
		err := kube.Poll(ctx, 200*time.Millisecond, "ScaledObject "+ns+"/"+app, func(ctx context.Context) (bool, string, error) {
			so, err := c.dynamic.Resource(kube.ScaledObjects).Namespace(ns).Get(ctx, app, metav1.GetOptions{})
			if err != nil {
				return false, err.Error(), nil
			}
			trig, _, _ := unstructured.NestedSlice(so.Object, "spec", "triggers")
			if len(trig) == 0 {
				return false, "no triggers", nil
			}
			addr, _, _ = unstructured.NestedString(trig[0].(map[string]any), "metadata", "scalerAddress")
			return addr != "", "scalerAddress " + addr, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if want := "keda-add-ons-http-external-scaler.keda:9090"; addr != want {
			t.Fatalf("scalerAddress = %q, want %q", addr, want)
		}
	})

	// Hop: KEDA operator → external scaler (gRPC through CONNECT): KEDA
	// marks the ScaledObject Ready only once the scaler answered.
	t.Run("KEDA reaches the external scaler", func(t *testing.T) {
		err := kube.Poll(ctx, 200*time.Millisecond, "ScaledObject Ready", func(ctx context.Context) (bool, string, error) {
			so, err := c.dynamic.Resource(kube.ScaledObjects).Namespace(ns).Get(ctx, app, metav1.GetOptions{})
			if err != nil {
				return false, err.Error(), nil
			}
			return hasCondition(so, "Ready"), conditionsOf(so), nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})

	t0 := time.Now()
	waitReplicas(t, ctx, cs, ns, app, 0, 2*time.Minute)
	t.Logf("Deployment %s/%s at 0 replicas %s after the HTTPScaledObject", ns, app, time.Since(t0).Round(100*time.Millisecond))

	client := &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 64}, Timeout: 60 * time.Second}
	get := func() (*http.Response, string, time.Duration, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.IngressURL()+"/", nil)
		req.Host = host
		t0 := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return nil, "", time.Since(t0), err
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b), time.Since(t0), err
	}

	// Hops: ingress → interceptor → (KEDA activates 0 → 1) → interceptor →
	// service network → the app's emulated instance.
	t.Run("cold start", func(t *testing.T) {
		rec := watchReplicas(ctx, cs, ns, app, 50*time.Millisecond)
		sent := time.Now()
		resp, body, d, err := get()
		tl := rec.stop()
		if err != nil {
			t.Fatalf("cold request: %v after %s", err, d)
		}
		t.Logf("MEASURED cold start: %s → %s, X-Keda-Http-Cold-Start %q, body %q", d.Round(time.Millisecond), resp.Status, resp.Header.Get("X-Keda-Http-Cold-Start"), strings.TrimSpace(body))
		scaled, ready := tl.firstAt(func(s replicaSample) bool { return s.spec >= 1 }), tl.firstAt(func(s replicaSample) bool { return s.ready >= 1 })
		if !scaled.IsZero() && !ready.IsZero() {
			t.Logf("MEASURED cold start breakdown: request → Deployment scaled to 1 (KEDA activation) %s; → pod Ready (kwok stage delays %s + %s) %s; → response %s",
				scaled.Sub(sent).Round(time.Millisecond), DefaultPodTiming.CreateDelay, DefaultPodTiming.ReadyDelay,
				ready.Sub(scaled).Round(time.Millisecond), sent.Add(d).Sub(ready).Round(time.Millisecond))
		}
		if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Keda-Http-Cold-Start") != "true" {
			t.Errorf("cold request: %s, cold-start header %q, body %q", resp.Status, resp.Header.Get("X-Keda-Http-Cold-Start"), body)
		}
		if !hasEvent(ctx, cs, ns, app, "KEDAScaleTargetActivated") {
			t.Error("no KEDAScaleTargetActivated event for the ScaledObject")
		}
		resp, _, d, err = get()
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("MEASURED warm request: %s → %s, X-Keda-Http-Cold-Start %q", d.Round(100*time.Microsecond), resp.Status, resp.Header.Get("X-Keda-Http-Cold-Start"))
		if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Keda-Http-Cold-Start") != "false" {
			t.Errorf("warm request: %s, cold-start header %q", resp.Status, resp.Header.Get("X-Keda-Http-Cold-Start"))
		}
	})

	// Hop: interceptor admin → scaler → KEDA → HPA: concurrency 40 against
	// a target of 5 scales out.
	var loadEnd time.Time
	t.Run("40 connections scale out without errors", func(t *testing.T) {
		const conns, dur = 40, 30 * time.Second
		rec := watchReplicas(ctx, cs, ns, app, 250*time.Millisecond)
		loadStart := time.Now()
		var ok, failed atomic.Int64
		var mu sync.Mutex
		failures := map[string]int{}
		var wg sync.WaitGroup
		deadline := time.Now().Add(dur)
		for range conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Now().Before(deadline) {
					resp, _, _, err := get()
					if err == nil && resp.StatusCode == http.StatusOK {
						ok.Add(1)
						continue
					}
					failed.Add(1)
					why := fmt.Sprint(err)
					if err == nil {
						why = resp.Status
					}
					mu.Lock()
					failures[why]++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		loadEnd = time.Now()
		timeline := rec.stop()
		t.Logf("MEASURED load: %d ok, %d failed in %s (%.0f req/s); replicas since load start: %s",
			ok.Load(), failed.Load(), loadEnd.Sub(loadStart).Round(100*time.Millisecond),
			float64(ok.Load())/loadEnd.Sub(loadStart).Seconds(), timeline.String(loadStart))
		if failed.Load() > 0 {
			t.Errorf("%d failed requests: %v", failed.Load(), failures)
		}
		if timeline.max() < 2 {
			t.Errorf("never scaled above 1 replica: %s", timeline.String(loadStart))
		}
	})

	t.Run("back to 0 after scaledownPeriod", func(t *testing.T) {
		if loadEnd.IsZero() {
			t.Skip("no load was sent")
		}
		waitReplicas(t, ctx, cs, ns, app, 0, 3*time.Minute)
		t.Logf("MEASURED back to 0 replicas %s after the load ended (scaledownPeriod 30s)", time.Since(loadEnd).Round(100*time.Millisecond))
		if !hasEvent(ctx, cs, ns, app, "KEDAScaleTargetDeactivated") {
			t.Error("no KEDAScaleTargetDeactivated event for the ScaledObject")
		}
	})
}

// tailFile is the last n lines of a file, for failure reports.
func tailFile(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

func mustCreate(t *testing.T, ctx context.Context, c *Cluster, gvr schema.GroupVersionResource, ns string, obj map[string]any) {
	t.Helper()
	if _, err := c.dynamic.Resource(gvr).Namespace(ns).Create(ctx, &unstructured.Unstructured{Object: obj}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create %s: %v", gvr.Resource, err)
	}
}

func conditionsOf(u *unstructured.Unstructured) string {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	var out []string
	for _, c := range conds {
		m, _ := c.(map[string]any)
		out = append(out, fmt.Sprintf("%v=%v (%v)", m["type"], m["status"], m["message"]))
	}
	return strings.Join(out, "; ")
}

// waitReplicas waits until a Deployment's controller observed its current
// generation and spec, status and ready replicas all equal n.
func waitReplicas(t *testing.T, ctx context.Context, cs kubernetes.Interface, ns, name string, n int32, timeout time.Duration) {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	err := kube.Poll(wctx, 200*time.Millisecond, fmt.Sprintf("deployment %s/%s at %d replicas", ns, name, n), func(ctx context.Context) (bool, string, error) {
		d, err := cs.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err.Error(), nil
		}
		spec := int32(1)
		if d.Spec.Replicas != nil {
			spec = *d.Spec.Replicas
		}
		return d.Status.ObservedGeneration >= d.Generation && spec == n && d.Status.Replicas == n && d.Status.ReadyReplicas == n,
			fmt.Sprintf("spec %d, replicas %d, ready %d", spec, d.Status.Replicas, d.Status.ReadyReplicas), nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func hasEvent(ctx context.Context, cs kubernetes.Interface, ns, scaledObject, reason string) bool {
	found := false
	_ = kube.Poll(ctx, 200*time.Millisecond, "event "+reason, func(ctx context.Context) (bool, string, error) {
		evs, err := cs.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: "reason=" + reason})
		if err != nil {
			return false, err.Error(), nil
		}
		for _, e := range evs.Items {
			if e.InvolvedObject.Kind == "ScaledObject" && e.InvolvedObject.Name == scaledObject {
				found = true
			}
		}
		return found, "", nil
	})
	return found
}

// replicaSample is a Deployment's spec and ready replicas at a time.
type replicaSample struct {
	at          time.Time
	spec, ready int32
}

// replicaTimeline records a Deployment's replicas as they change.
type replicaTimeline []replicaSample

func (tl replicaTimeline) max() int32 {
	var m int32
	for _, p := range tl {
		m = max(m, p.spec)
	}
	return m
}

// firstAt is the time of the first sample that satisfies ok (zero if none).
func (tl replicaTimeline) firstAt(ok func(replicaSample) bool) time.Time {
	for _, p := range tl {
		if ok(p) {
			return p.at
		}
	}
	return time.Time{}
}

// String lists the spec replica changes since a start time.
func (tl replicaTimeline) String(since time.Time) string {
	var parts []string
	last := int32(-1)
	for _, p := range tl {
		if p.spec != last {
			parts = append(parts, fmt.Sprintf("%.1fs:%d", p.at.Sub(since).Seconds(), p.spec))
			last = p.spec
		}
	}
	return strings.Join(parts, " ")
}

type replicaRecorder struct {
	stopc chan struct{}
	done  chan replicaTimeline
}

func (r *replicaRecorder) stop() replicaTimeline {
	close(r.stopc)
	return <-r.done
}

// watchReplicas polls a Deployment every interval and records each change
// of its spec or ready replicas.
func watchReplicas(ctx context.Context, cs kubernetes.Interface, ns, name string, interval time.Duration) *replicaRecorder {
	r := &replicaRecorder{stopc: make(chan struct{}), done: make(chan replicaTimeline, 1)}
	go func() {
		var tl replicaTimeline
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			if d, err := cs.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{}); err == nil && d.Spec.Replicas != nil {
				s := replicaSample{at: time.Now(), spec: *d.Spec.Replicas, ready: d.Status.ReadyReplicas}
				if n := len(tl); n == 0 || tl[n-1].spec != s.spec || tl[n-1].ready != s.ready {
					tl = append(tl, s)
				}
			}
			select {
			case <-r.stopc:
				r.done <- tl
				return
			case <-ctx.Done():
				r.done <- tl
				return
			case <-tick.C:
			}
		}
	}()
	return r
}
