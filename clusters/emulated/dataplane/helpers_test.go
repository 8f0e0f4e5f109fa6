package dataplane

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("DATAPLANE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// pod is a Ready, Running pod on a KWOK node with one container limited to
// cpuLimit (empty: no limit).
func pod(ns, name, ip, model, cpuLimit string, ann ...string) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: ns, Name: name, UID: types.UID(ns + "-" + name + "-uid"),
			Annotations: map[string]string{},
			Labels:      map[string]string{"app": name},
		},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app"}}},
		Status: corev1.PodStatus{
			Phase: corev1.PodRunning, PodIP: ip,
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
		},
	}
	if model != "" {
		p.Annotations[AnnotationModel] = model
	}
	if cpuLimit != "" {
		p.Spec.Containers[0].Resources.Limits = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpuLimit)}
	}
	for i := 0; i+1 < len(ann); i += 2 {
		p.Annotations[ann[i]] = ann[i+1]
	}
	return p
}

func unready(p *corev1.Pod) *corev1.Pod {
	p = p.DeepCopy()
	p.Status.Conditions[0].Status = corev1.ConditionFalse
	return p
}

func deleting(p *corev1.Pod, grace int64) *corev1.Pod {
	p = p.DeepCopy()
	now := metav1.Now()
	p.DeletionTimestamp = &now
	p.DeletionGracePeriodSeconds = &grace
	return p
}

// eventually polls cond (real time) for up to 5s.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// load is the running+queued jobs of a CPU-based model.
func load(in *instance) int {
	type loader interface{ Load() (int, int) }
	if l, ok := in.model.(loader); ok {
		r, q := l.Load()
		return r + q
	}
	return 0
}

// serveAsync sends a request to an instance in the background.
type result struct {
	code int
	body string
	err  error
}

func serveAsync(ctx context.Context, in *instance) <-chan result {
	ch := make(chan result, 1)
	go func() {
		req := httptest.NewRequest(http.MethodGet, "http://app.example/", nil).WithContext(ctx)
		rec := httptest.NewRecorder()
		err := in.Serve(rec, req)
		ch <- result{code: rec.Code, body: rec.Body.String(), err: err}
	}()
	return ch
}
