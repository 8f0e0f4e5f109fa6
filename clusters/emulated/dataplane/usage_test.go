package dataplane

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes/fake"
)

func TestUsageSamplerRateLimits(t *testing.T) {
	p := usageParams{interval: 5 * time.Second, window: 5 * time.Second, idle: 1, limit: 500}
	var s usageSampler
	step := func(d time.Duration, used time.Duration) (int64, bool) {
		u := s.observe(at(d), used, p)
		return u.milli, u.writeRate
	}
	if m, ok := step(0, 0); !ok || m != 1 {
		t.Fatalf("first sample = %d, %v; want the idle 1m written", m, ok)
	}
	if _, ok := step(2*time.Second, 2*time.Second); ok {
		t.Fatal("wrote before a window had passed")
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

// A ticker that fires a little early must not skip a window: the bug was
// "elapsed < interval" with the ticker's own interval, so a tick 1ms early
// waited a whole extra tick (windows of 10s instead of 5s).
func TestUsageSamplerEarlyTickClosesWindow(t *testing.T) {
	p := usageParams{interval: 5 * time.Second, window: 5 * time.Second, idle: 1, limit: 0}
	var s usageSampler
	s.observe(at(0), 0, p)
	now, used := time.Duration(0), time.Duration(0)
	for i := range 6 {
		now += 5*time.Second - time.Millisecond // early tick
		used += time.Duration(i+1) * 500 * time.Millisecond
		u := s.observe(at(now), used, p)
		if !u.writeRate {
			t.Fatalf("tick %d at %v: window not closed", i, now)
		}
		// The average is over the time that passed (4.999s), not the nominal 5s.
		want := int64(math.Round(float64(time.Duration(i+1)*500*time.Millisecond)/float64(5*time.Second-time.Millisecond)*1000)) + 1
		if u.milli != want {
			t.Fatalf("tick %d: %dm, want %dm", i, u.milli, want)
		}
		if !u.writeCounter {
			t.Fatalf("tick %d: busy counter not written", i)
		}
	}

	// With a 1s tick and a 5s window, the window closes on the fifth tick
	// even when every tick is early.
	p = usageParams{interval: time.Second, window: 5 * time.Second, idle: 0}
	s = usageSampler{}
	s.observe(at(0), 0, p)
	for i := 1; i <= 5; i++ {
		u := s.observe(at(time.Duration(i)*(time.Second-time.Millisecond)), time.Duration(i)*100*time.Millisecond, p)
		if u.writeRate != (i == 5) {
			t.Fatalf("tick %d: rate written = %v, want only on tick 5", i, u.writeRate)
		}
	}
}

// The counter is the pod's cumulative CPU-seconds including its idle share:
// written every tick while busy, every counterRefresh when idle, never 0.
func TestUsageSamplerCounter(t *testing.T) {
	p := usageParams{interval: time.Second, window: 5 * time.Second, idle: 1, limit: 500}
	var s usageSampler
	if u := s.observe(at(0), 0, p); u.writeCounter {
		t.Fatalf("first observation wrote a counter of %v", u.seconds)
	}
	// First tick: idle only, but never written yet → written (1m × 1s).
	if u := s.observe(at(time.Second), 0, p); !u.writeCounter || math.Abs(u.seconds-0.001) > 1e-9 {
		t.Fatalf("first counter = %+v; want 0.001 written", u)
	}
	// Idle ticks: not written until counterRefresh has passed.
	for i := 2; i < 16; i++ {
		if u := s.observe(at(time.Duration(i)*time.Second), 0, p); u.writeCounter {
			t.Fatalf("idle tick %d wrote the counter", i)
		}
	}
	if u := s.observe(at(16*time.Second), 0, p); !u.writeCounter || math.Abs(u.seconds-0.016) > 1e-9 {
		t.Fatalf("refresh = %+v; want 0.016 written after 15s idle", u)
	}
	// Busy: every tick, cumulative.
	if u := s.observe(at(17*time.Second), 500*time.Millisecond, p); !u.writeCounter || math.Abs(u.seconds-0.517) > 1e-9 {
		t.Fatalf("busy counter = %+v; want 0.517", u)
	}
	if u := s.observe(at(18*time.Second), time.Second, p); !u.writeCounter || math.Abs(u.seconds-1.018) > 1e-9 {
		t.Fatalf("busy counter = %+v; want 1.018", u)
	}
	// A tick far too early (a second reportUsage call) writes nothing.
	if u := s.observe(at(18*time.Second+100*time.Millisecond), 1100*time.Millisecond, p); u.writeCounter {
		t.Fatal("counter written twice within a tick")
	}
	// A failed write is retried on the next tick even when idle.
	s.forget()
	if u := s.observe(at(19*time.Second), 1100*time.Millisecond, p); !u.writeCounter {
		t.Fatal("counter not rewritten after a failed write")
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
	if w := s.usageDue(clk.Now()); len(w) != 1 || w[0].milli != 401 || !w[0].writeCounter || math.Abs(w[0].seconds-2.005) > 1e-6 {
		t.Fatalf("loaded usage = %+v; want 401m and a counter of 2.005 CPU-s (2s + 5s of 1m idle)", w)
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
	w := usageWrite{ns: "default", name: "a", uid: p.UID, usageUpdate: usageUpdate{milli: 450, writeRate: true, seconds: 12.5, writeCounter: true}}
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
	if v := got.Annotations[AnnotationCPUSeconds]; v != "12.500000" {
		t.Fatalf("%s = %q, want 12.500000", AnnotationCPUSeconds, v)
	}
	if got.Annotations[AnnotationModel] != ModelHello {
		t.Fatal("merge patch dropped other annotations")
	}
	err = (clientPatcher{client: cs}).patchUsage(context.Background(), usageWrite{ns: "default", name: "gone", usageUpdate: usageUpdate{milli: 1, writeRate: true}})
	if err == nil {
		t.Fatal("patching a missing pod succeeded")
	}
}

// Pods on one node share its capacity; pods on another node do not.
func TestInstancesShareTheirNodesCPU(t *testing.T) {
	s, clk := newTestInstances(t)
	s.nodeCPUMilli = 500
	onNode := func(p *corev1.Pod, node string) *corev1.Pod { p.Spec.NodeName = node; return p }
	s.podChanged(onNode(pod("default", "a", "10.244.0.5", ModelCPULoadGen, "500m", AnnotationCPUPerRequest, "1s"), "n1"))
	s.podChanged(onNode(pod("default", "b", "10.244.0.6", ModelCPULoadGen, "500m", AnnotationCPUPerRequest, "1s"), "n1"))
	s.podChanged(onNode(pod("default", "c", "10.244.0.7", ModelCPULoadGen, "500m", AnnotationCPUPerRequest, "1s"), "n2"))
	var rs []<-chan result
	for _, ip := range []string{"10.244.0.5", "10.244.0.6", "10.244.0.7"} {
		in := s.byAddress(ip)
		rs = append(rs, serveAsync(context.Background(), in))
		eventually(t, "request running on "+ip, func() bool { return load(in) == 1 })
	}
	// c is alone on n2 at its 500m limit: done at 2s. a and b share n1's
	// 500m: 250m each, done at 4s.
	clk.Step(2 * time.Second)
	if r := <-rs[2]; r.code != 200 {
		t.Fatalf("c: %+v", r)
	}
	select {
	case r := <-rs[0]:
		t.Fatalf("a finished at 2s on a shared node: %+v", r)
	default:
	}
	clk.Step(2 * time.Second)
	for i, ch := range rs[:2] {
		if r := <-ch; r.code != 200 {
			t.Fatalf("request %d: %+v", i, r)
		}
	}
}

// With more busy pods than the write budget, each round writes at most the
// budget, the pods take turns (least recently written first), and every
// counter written is the pod's exact cumulative use at that time.
func TestUsageWriteBudgetRotatesBusyPods(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	clk := newFakeClock()
	s := newInstances(ctx, clk, testLogger(t), DefaultModels(), time.Second)
	s.writeBudget = 2
	for i := range 5 {
		p := pod("default", fmt.Sprintf("p%d", i), fmt.Sprintf("10.244.0.%d", i+1), ModelCPULoadGen, "500m")
		p.Labels = map[string]string{"app": "busy"}
		p.Spec.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")}
		s.podChanged(p)
	}
	s.setCPUUtilization("default", labels.SelectorFromSet(labels.Set{"app": "busy"}), 200) // 200m each
	last := map[string]int{}
	counters := map[string]float64{}
	for round := 1; round <= 12; round++ {
		clk.Step(time.Second)
		w := s.usageDue(clk.Now())
		if len(w) > 2 {
			t.Fatalf("round %d wrote %d pods, budget 2", round, len(w))
		}
		for _, u := range w {
			if prev, ok := last[u.name]; ok && round-prev > 3 {
				t.Errorf("%s written in rounds %d and %d: more than ⌈5/2⌉ rounds apart", u.name, prev, round)
			}
			last[u.name] = round
			if u.writeCounter {
				// 200m steady since round 0, plus 1m idle since the pod's
				// first sampling (at most round seconds).
				want := 0.2 * float64(round)
				if u.seconds < want-1e-6 || u.seconds > want+0.001*float64(round)+1e-6 || u.seconds < counters[u.name] {
					t.Errorf("%s counter in round %d = %.4f, want %.4f (exact at the write)", u.name, round, u.seconds, want)
				}
				counters[u.name] = u.seconds
			}
		}
	}
	if len(counters) != 5 {
		t.Fatalf("counters written for %d pods, want all 5: %v", len(counters), counters)
	}
}
