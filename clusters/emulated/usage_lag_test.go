package emulated

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/clusters/emulated/dataplane"
	"github.com/scalebench/scalebench/kube"
)

// TestUsageToHPALag measures how long a CPU change in the data plane takes
// to reach metrics-server's PodMetrics and the HPA's status.currentMetrics:
// one pod at its 500m limit (a request that never finishes) or idle, in
// turns, with both polled every 250 ms. For each change it records when the
// metric first moved (the first sample after the change: part of its window
// is before it) and when it showed the whole change. It takes about 5 min.
//
//	go test -run TestUsageToHPALag -v ./clusters/emulated/
func TestUsageToHPALag(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts an emulated cluster (~5 min)")
	}
	requireCachedBinaries(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	logger := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	p := &Provider{IngressAddr: "127.0.0.1:0"}
	c, err := p.CreateCluster(ctx, clusters.Options{
		Name: "lag", RunID: "lag-" + time.Now().Format("150405"), WorkDir: t.TempDir(), Logger: logger,
	})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	defer func() {
		if err := c.Delete(context.Background()); err != nil {
			t.Errorf("delete: %v", err)
		}
	}()
	cs := kubernetes.NewForConfigOrDie(c.RESTConfig())
	const ns, name = "lag", "lag"
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitSA(t, ctx, cs, ns)
	mustCreateDeploymentWith(t, ctx, cs, ns, name, 1, map[string]string{
		dataplane.AnnotationModel:         dataplane.ModelCPULoadGen,
		dataplane.AnnotationCPUPerRequest: "1h", // busy until the client gives up
	})
	mustRoute(t, ctx, cs, ns, name)
	one, util := int32(1), int32(50)
	hpa := &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: name},
			MinReplicas:    &one, MaxReplicas: 1, // measure, never scale
			Metrics: []autoscalingv2.MetricSpec{{
				Type: autoscalingv2.ResourceMetricSourceType,
				Resource: &autoscalingv2.ResourceMetricSource{Name: corev1.ResourceCPU,
					Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &util}},
			}},
		},
	}
	if _, err := cs.AutoscalingV2().HorizontalPodAutoscalers(ns).Create(ctx, hpa, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitReadyReplicas(t, ctx, cs, ns, name, 1, time.Minute)
	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=" + name})
	if err != nil || len(pods.Items) != 1 {
		t.Fatalf("pods: %v", err)
	}
	pod := pods.Items[0].Name

	read := func(ctx context.Context) (podMilli, hpaMilli int64, window time.Duration) {
		podMilli, hpaMilli = -1, -1
		raw, err := cs.Discovery().RESTClient().Get().AbsPath("/apis/metrics.k8s.io/v1beta1/namespaces", ns, "pods", pod).DoRaw(ctx)
		if err == nil {
			var pm struct {
				Window     string `json:"window"`
				Containers []struct {
					Usage map[string]string `json:"usage"`
				} `json:"containers"`
			}
			if json.Unmarshal(raw, &pm) == nil && len(pm.Containers) > 0 {
				if q, err := resource.ParseQuantity(pm.Containers[0].Usage["cpu"]); err == nil {
					podMilli = q.MilliValue()
				}
				window, _ = time.ParseDuration(pm.Window)
			}
		}
		h, err := cs.AutoscalingV2().HorizontalPodAutoscalers(ns).Get(ctx, name, metav1.GetOptions{})
		if err == nil {
			for _, m := range h.Status.CurrentMetrics {
				switch {
				case m.Resource == nil:
				case m.Resource.Current.AverageValue != nil:
					hpaMilli = m.Resource.Current.AverageValue.MilliValue()
				case m.Resource.Current.AverageUtilization != nil:
					// Percent of the 100m request.
					hpaMilli = int64(*m.Resource.Current.AverageUtilization)
				}
			}
		}
		return podMilli, hpaMilli, window
	}
	// Wait for both to show the idle pod.
	err = kube.Poll(ctx, time.Second, "PodMetrics and the HPA's currentMetrics for the idle pod", func(ctx context.Context) (bool, string, error) {
		pm, hm, _ := read(ctx)
		return pm >= 0 && pm < 20 && hm >= 0 && hm < 20, fmt.Sprintf("pod %dm, HPA %dm", pm, hm), nil
	})
	if err != nil {
		t.Fatal(err)
	}

	const busy = 500 // the pod's limit, millicores
	type lag struct{ first, full time.Duration }
	var podLags, hpaLags []lag
	var windows []time.Duration
	var stop context.CancelFunc
	for i := range 6 {
		up := i%2 == 0
		// Spread the changes over metrics-server's 15 s scrape phase.
		time.Sleep(time.Duration(i) * 2300 * time.Millisecond)
		at := time.Now()
		if up {
			var rctx context.Context
			rctx, stop = context.WithCancel(ctx)
			go func() {
				req, _ := http.NewRequestWithContext(rctx, http.MethodGet, c.IngressURL()+"/", nil)
				if resp, err := (&http.Client{Transport: &http.Transport{Proxy: nil}}).Do(req); err == nil { // no client timeout
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}()
		} else {
			stop()
		}
		moved := func(m int64) bool {
			if up {
				return m > 20
			}
			return m < busy-20
		}
		done := func(m int64) bool {
			if up {
				return m >= busy*95/100
			}
			return m < 20
		}
		var pl, hl lag
		err := kube.Poll(ctx, 250*time.Millisecond, fmt.Sprintf("change %d (busy=%v) to show", i, up), func(ctx context.Context) (bool, string, error) {
			pm, hm, w := read(ctx)
			el := time.Since(at)
			if pl.first == 0 && pm >= 0 && moved(pm) {
				pl.first = el
			}
			if pl.full == 0 && pm >= 0 && done(pm) {
				pl.full = el
				windows = append(windows, w)
			}
			if hl.first == 0 && hm >= 0 && moved(hm) {
				hl.first = el
			}
			if hl.full == 0 && hm >= 0 && done(hm) {
				hl.full = el
			}
			return pl.full > 0 && hl.full > 0, fmt.Sprintf("pod %dm, HPA %dm after %s", pm, hm, el.Round(time.Second)), nil
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("change %d (busy=%v): PodMetrics first moved after %s, whole after %s; HPA currentMetrics %s, %s",
			i, up, pl.first.Round(100*time.Millisecond), pl.full.Round(100*time.Millisecond), hl.first.Round(100*time.Millisecond), hl.full.Round(100*time.Millisecond))
		podLags, hpaLags = append(podLags, pl), append(hpaLags, hl)
	}
	if stop != nil {
		stop()
	}
	stats := func(ls []lag, f func(lag) time.Duration) string {
		var d []time.Duration
		for _, l := range ls {
			d = append(d, f(l))
		}
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		return fmt.Sprintf("p50 %.1fs max %.1fs", d[len(d)/2].Seconds(), slices.Max(d).Seconds())
	}
	first := func(l lag) time.Duration { return l.first }
	full := func(l lag) time.Duration { return l.full }
	t.Logf("MEASURED usage → PodMetrics over %d changes: first moved %s; whole change %s (window %v)", len(podLags), stats(podLags, first), stats(podLags, full), windows)
	t.Logf("MEASURED usage → HPA currentMetrics over %d changes: first moved %s; whole change %s", len(hpaLags), stats(hpaLags, first), stats(hpaLags, full))
	// metrics-server scrapes every 15 s and a sample averages its window, so
	// a whole change shows within two scrapes and the HPA's next sync.
	for i, l := range hpaLags {
		if l.full > 2*metricsServerResolution+DefaultHPASettings.SyncPeriod+5*time.Second {
			t.Errorf("change %d reached the HPA after %s, want within two scrapes and a sync (%s)", i, l.full, 2*metricsServerResolution+DefaultHPASettings.SyncPeriod+5*time.Second)
		}
	}
}

// mustRoute creates a Service for app=name on port 80 and an Ingress for it.
func mustRoute(t *testing.T, ctx context.Context, cs kubernetes.Interface, ns, name string) {
	t.Helper()
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": name},
			Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(80)}}},
	}
	if _, err := cs.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pt := networkingv1.PathTypePrefix
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{
			IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
				Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: &pt, Backend: networkingv1.IngressBackend{
					Service: &networkingv1.IngressServiceBackend{Name: name, Port: networkingv1.ServiceBackendPort{Number: 80}},
				}}},
			}},
		}}},
	}
	if _, err := cs.NetworkingV1().Ingresses(ns).Create(ctx, ing, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}
