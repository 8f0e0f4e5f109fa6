package dataplane

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

func TestUsageSamplerRateLimits(t *testing.T) {
	const iv = 5 * time.Second
	var s usageSampler
	step := func(d time.Duration, used time.Duration) (int64, bool) {
		return s.observe(at(d), used, iv, 1, 500)
	}
	if m, ok := step(0, 0); !ok || m != 1 {
		t.Fatalf("first sample = %d, %v; want the idle 1m written", m, ok)
	}
	if _, ok := step(4*time.Second, 2*time.Second); ok {
		t.Fatal("wrote before an interval had passed")
	}
	// 2.5s CPU over 5s = 500m, + 1m idle, capped at the 500m limit.
	if m, ok := step(5*time.Second, 2500*time.Millisecond); !ok || m != 500 {
		t.Fatalf("loaded sample = %d, %v; want 500", m, ok)
	}
	// 2.45s more over 5s = 490m+1: within 5% of 500 → not written.
	if m, ok := step(10*time.Second, 4950*time.Millisecond); ok {
		t.Fatalf("wrote %d for a change within 5%%", m)
	}
	// 2.0s over 5s = 400m+1: written.
	if m, ok := step(15*time.Second, 6950*time.Millisecond); !ok || m != 401 {
		t.Fatalf("sample = %d, %v; want 401", m, ok)
	}
	// Idle: back to 1m.
	if m, ok := step(20*time.Second, 6950*time.Millisecond); !ok || m != 1 {
		t.Fatalf("idle sample = %d, %v; want 1", m, ok)
	}
	// Small values: a change under 2m is not written, 2m is.
	if _, ok := step(25*time.Second, 6955*time.Millisecond); ok { // 1m+1m
		t.Fatal("wrote a 1m change")
	}
	if m, ok := step(30*time.Second, 6965*time.Millisecond); !ok || m != 3 { // 2m+1m
		t.Fatalf("sample = %d, %v; want 3", m, ok)
	}
	s.forget()
	if m, ok := step(35*time.Second, 6975*time.Millisecond); !ok || m != 3 {
		t.Fatalf("after forget = %d, %v; want 3 rewritten", m, ok)
	}
}

func TestUsageSamplerUnlimited(t *testing.T) {
	var s usageSampler
	s.observe(at(0), 0, time.Second, 1, 0)
	if m, ok := s.observe(at(time.Second), 3*time.Second, time.Second, 1, 0); !ok || m != 3001 {
		t.Fatalf("unlimited = %d, %v; want 3001", m, ok)
	}
}

func TestUsageFollowsInstances(t *testing.T) {
	s, clk := newTestInstances(t)
	p := pod("default", "a", "10.244.0.5", ModelCPULoadGen, "500m", AnnotationCPUPerRequest, "1s")
	s.podChanged(p)
	if w := s.usageDue(clk.Now()); len(w) != 1 || w[0].milli != 1 || w[0].name != "a" || w[0].uid != p.UID {
		t.Fatalf("first usage = %+v; want a=1m", w)
	}
	in := s.byAddress("10.244.0.5")
	r1, r2 := serveAsync(context.Background(), in), serveAsync(context.Background(), in)
	eventually(t, "two requests", func() bool { return load(in) == 2 })
	clk.Step(5 * time.Second) // 2 CPU-seconds over 5s
	<-r1
	<-r2
	if w := s.usageDue(clk.Now()); len(w) != 1 || w[0].milli != 401 {
		t.Fatalf("loaded usage = %+v; want 401m", w)
	}
	clk.Step(time.Second)
	if w := s.usageDue(clk.Now()); len(w) != 0 {
		t.Fatalf("wrote %+v within the interval", w)
	}

	// Unready: the instance drains and goes, the pod lives on and idles.
	s.podChanged(unready(p))
	eventually(t, "instance removed", func() bool { return len(s.all()) == 0 })
	clk.Step(5 * time.Second)
	if w := s.usageDue(clk.Now()); len(w) != 1 || w[0].milli != 1 {
		t.Fatalf("usage of an unready pod = %+v; want 1m", w)
	}

	// Deleting: nothing more is written.
	s.podChanged(deleting(unready(p), 30))
	clk.Step(10 * time.Second)
	if w := s.usageDue(clk.Now()); len(w) != 0 {
		t.Fatalf("usage written for a deleting pod: %+v", w)
	}
}

type recordingPatcher struct {
	mu     sync.Mutex
	writes []usageWrite
	fail   int
}

func (r *recordingPatcher) patchUsage(_ context.Context, w usageWrite) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail > 0 {
		r.fail--
		return errors.New("apiserver unavailable")
	}
	r.writes = append(r.writes, w)
	return nil
}

func TestReportUsageRetriesFailedWrites(t *testing.T) {
	s, clk := newTestInstances(t)
	s.podChanged(pod("default", "a", "10.244.0.5", ModelHello, "500m"))
	p := &recordingPatcher{fail: 1}
	reportUsage(context.Background(), s, p, testLogger(t))
	if len(p.writes) != 0 {
		t.Fatal("failed write recorded")
	}
	clk.Step(5 * time.Second)
	reportUsage(context.Background(), s, p, testLogger(t))
	if len(p.writes) != 1 || p.writes[0].milli != 1 {
		t.Fatalf("writes = %+v; want the idle 1m retried", p.writes)
	}
	clk.Step(5 * time.Second)
	reportUsage(context.Background(), s, p, testLogger(t))
	if len(p.writes) != 1 {
		t.Fatalf("unchanged usage rewritten: %+v", p.writes)
	}
}

func TestClientPatcherWritesAnnotation(t *testing.T) {
	p := pod("default", "a", "10.244.0.5", ModelHello, "500m")
	cs := fake.NewClientset(p)
	w := usageWrite{ns: "default", name: "a", uid: p.UID, milli: 450}
	if err := (clientPatcher{client: cs}).patchUsage(context.Background(), w); err != nil {
		t.Fatal(err)
	}
	got, err := cs.CoreV1().Pods("default").Get(context.Background(), "a", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if v := got.Annotations[AnnotationUsageCPU]; v != "450m" {
		t.Fatalf("%s = %q, want 450m", AnnotationUsageCPU, v)
	}
	if got.Annotations[AnnotationModel] != ModelHello {
		t.Fatal("merge patch dropped other annotations")
	}
	err = (clientPatcher{client: cs}).patchUsage(context.Background(), usageWrite{ns: "default", name: "gone", milli: 1})
	if err == nil {
		t.Fatal("patching a missing pod succeeded")
	}
}
