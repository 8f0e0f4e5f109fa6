package dataplane

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/labels"
)

func newTestInstances(t *testing.T) (*instances, *fakeClock) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	clk := newFakeClock()
	return newInstances(ctx, clk, testLogger(t), DefaultModels(), 5*time.Second), clk
}

func TestInstancesFollowReadiness(t *testing.T) {
	s, _ := newTestInstances(t)
	p := pod("default", "a", "10.244.0.5", ModelCPULoadGen, "500m")

	s.podChanged(unready(p))
	if s.byAddress("10.244.0.5") != nil {
		t.Fatal("instance for an unready pod")
	}
	s.podChanged(p)
	in := s.byAddress("10.244.0.5")
	if in == nil || s.byPod("default", "a") != in {
		t.Fatal("no instance for a ready pod, by IP and by name")
	}
	s.podChanged(p) // resync: same instance
	if s.byAddress("10.244.0.5") != in {
		t.Fatal("update of an unchanged pod replaced the instance")
	}

	s.podChanged(pod("default", "plain", "10.244.0.6", "", "500m"))
	if s.byAddress("10.244.0.6") != nil {
		t.Error("instance for a pod without the model annotation")
	}
	s.podChanged(pod("default", "odd", "10.244.0.7", "no-such-model", "500m"))
	if s.byAddress("10.244.0.7") != nil {
		t.Error("instance for an unknown model")
	}
	s.podChanged(pod("default", "bad", "10.244.0.8", ModelCPULoadGen, "500m", AnnotationCPUPerRequest, "lots"))
	if s.byAddress("10.244.0.8") != nil {
		t.Error("instance despite a bad cpu-per-request annotation")
	}
}

func TestInstanceDrainsWhenUnready(t *testing.T) {
	s, clk := newTestInstances(t)
	p := pod("default", "a", "10.244.0.5", ModelCPULoadGen, "500m", AnnotationCPUPerRequest, "1s")
	s.podChanged(p)
	in := s.byAddress("10.244.0.5")
	res := serveAsync(context.Background(), in)
	eventually(t, "request in flight", func() bool { return load(in) == 1 })

	s.podChanged(unready(p))
	if !in.Draining() {
		t.Fatal("instance not draining after the pod became unready")
	}
	if s.byAddress("10.244.0.5") != nil {
		t.Fatal("draining instance still serves new requests")
	}
	if r := <-serveAsync(context.Background(), in); !errors.Is(r.err, errDraining) {
		t.Fatalf("new request on a draining instance: %v, want errDraining", r.err)
	}
	clk.Step(2 * time.Second) // 1s CPU at 0.5 cores
	r := <-res
	if r.code != http.StatusOK || !strings.HasPrefix(r.body, "fib(43) = ") {
		t.Fatalf("in-flight request: %d %q", r.code, r.body)
	}
	select {
	case <-in.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("drained instance not removed")
	}

	// Ready again: a new instance.
	s.podChanged(p)
	if n := s.byAddress("10.244.0.5"); n == nil || n == in {
		t.Fatal("no new instance after the pod became ready again")
	}
}

func TestInstanceKilledAtEndOfGrace(t *testing.T) {
	s, clk := newTestInstances(t)
	p := pod("default", "a", "10.244.0.5", ModelCPULoadGen, "500m", AnnotationCPUPerRequest, "100s")
	s.podChanged(p)
	in := s.byAddress("10.244.0.5")
	res := serveAsync(context.Background(), in)
	eventually(t, "request in flight", func() bool { return load(in) == 1 })

	s.podChanged(deleting(p, 30))
	// kwok then force-deletes the pod: the first grace seen counts.
	s.podDeleted(deleting(p, 0))
	clk.Step(29 * time.Second)
	select {
	case r := <-res:
		t.Fatalf("request ended within the grace period: %+v", r)
	case <-time.After(20 * time.Millisecond):
	}
	clk.Step(time.Second)
	r := <-res
	if r.code != http.StatusBadGateway {
		t.Fatalf("request on a killed instance: %d %q, want 502", r.code, r.body)
	}
	select {
	case <-in.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("killed instance not removed")
	}
	eventually(t, "pod forgotten", func() bool { return len(s.all()) == 0 && len(s.usageDue(clk.Now())) == 0 })
}

func TestInstanceIdleDrainIsImmediate(t *testing.T) {
	s, _ := newTestInstances(t)
	p := pod("default", "a", "10.244.0.5", ModelHello, "")
	s.podChanged(p)
	in := s.byAddress("10.244.0.5")
	s.podDeleted(p)
	select {
	case <-in.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("idle instance not removed at once on delete")
	}
}

func TestInstanceReplacedOnNewUID(t *testing.T) {
	s, _ := newTestInstances(t)
	p := pod("default", "a", "10.244.0.5", ModelHello, "")
	s.podChanged(p)
	old := s.byAddress("10.244.0.5")
	q := pod("default", "a", "10.244.0.9", ModelHello, "")
	q.UID = "other"
	s.podChanged(q)
	if s.byAddress("10.244.0.5") != nil {
		t.Error("old pod IP still served")
	}
	if n := s.byAddress("10.244.0.9"); n == nil || n == old {
		t.Error("no instance for the new pod")
	}
	select {
	case <-old.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("old instance not removed")
	}
}

func TestClientGivingUpReleasesCPU(t *testing.T) {
	s, clk := newTestInstances(t)
	s.podChanged(pod("default", "a", "10.244.0.5", ModelCPULoadGen, "500m", AnnotationCPUPerRequest, "1s"))
	in := s.byAddress("10.244.0.5")
	ctx, cancel := context.WithCancel(context.Background())
	gaveUp := serveAsync(ctx, in)
	stays := serveAsync(context.Background(), in)
	eventually(t, "two requests in flight", func() bool { return load(in) == 2 })
	clk.Step(2 * time.Second) // each has 0.5s
	cancel()
	<-gaveUp
	eventually(t, "share released", func() bool { return load(in) == 1 })
	clk.Step(time.Second)
	if r := <-stays; r.code != http.StatusOK {
		t.Fatalf("remaining request: %d", r.code)
	}
	if got := in.Inflight(); got != 0 {
		t.Errorf("inflight = %d", got)
	}
}

func TestHelloLatency(t *testing.T) {
	s, clk := newTestInstances(t)
	s.podChanged(pod("default", "h", "10.244.0.5", ModelHello, "", AnnotationLatency, "200ms", AnnotationCPUPerRequest, "0s"))
	in := s.byAddress("10.244.0.5")
	res := serveAsync(context.Background(), in)
	eventually(t, "timer set", func() bool { return clk.pending() == 1 })
	clk.Step(199 * time.Millisecond)
	select {
	case r := <-res:
		t.Fatalf("answered before its latency: %+v", r)
	case <-time.After(10 * time.Millisecond):
	}
	clk.Step(time.Millisecond)
	if r := <-res; r.code != http.StatusOK || r.body != "Hello from Spin!\n" {
		t.Fatalf("hello: %d %q", r.code, r.body)
	}
}

func TestNoUsageForPodsThatNeverServed(t *testing.T) {
	s, clk := newTestInstances(t)
	s.podChanged(unready(pod("default", "a", "10.244.0.5", ModelCPULoadGen, "500m")))
	clk.Step(10 * time.Second)
	if w := s.usageDue(clk.Now()); len(w) != 0 {
		t.Fatalf("usage written for a pod that never became ready: %+v", w)
	}
}

// A CPU utilization target holds the matching serving pods at a share of
// their request (capped at the limit), reaches pods that start later, and
// leaves others alone.
func TestCPUUtilizationTarget(t *testing.T) {
	s, clk := newTestInstances(t)
	a := pod("default", "a", "10.244.0.5", ModelCPULoadGen, "500m") // request defaults to the limit
	other := pod("default", "b", "10.244.0.6", ModelCPULoadGen, "500m")
	s.podChanged(a)
	s.podChanged(other)
	sel, err := labels.Parse("app=a")
	if err != nil {
		t.Fatal(err)
	}
	s.setCPUUtilization("default", sel, 60)
	clk.Step(10 * time.Second)
	used := func(name string) time.Duration { return s.byPod("default", name).model.CPUUsed() }
	if got := used("a"); got != 3*time.Second {
		t.Errorf("60 %% of a 500m request for 10 s: used %v, want 3s", got)
	}
	if got := used("b"); got != 0 {
		t.Errorf("a pod the selector does not match used %v", got)
	}
	s.setCPUUtilization("default", sel, 180) // capped at the 500m limit
	clk.Step(10 * time.Second)
	if got := used("a"); got != 8*time.Second {
		t.Errorf("180 %% capped at the limit for 10 s more: used %v, want 8s", got)
	}
	// A pod of the app that becomes ready later joins at the level.
	a2 := pod("default", "a2", "10.244.0.7", ModelCPULoadGen, "500m")
	a2.Labels["app"] = "a"
	s.podChanged(a2)
	clk.Step(2 * time.Second)
	if got := used("a2"); got != time.Second {
		t.Errorf("a pod ready later: used %v in 2 s, want 1s", got)
	}
	s.setCPUUtilization("default", sel, 0)
	clk.Step(10 * time.Second)
	if got := used("a"); got != 9*time.Second {
		t.Errorf("after 0 %%: used %v, want it to stay at 9s", got)
	}
}
