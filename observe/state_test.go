package observe

import (
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"

	"github.com/scalebench/scalebench/timeline"
)

func deployment(gen, observed int64, spec, ready int32) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: "default", Generation: gen},
		Spec:       appsv1.DeploymentSpec{Replicas: ptr.To(spec)},
		Status:     appsv1.DeploymentStatus{ObservedGeneration: observed, Replicas: spec, UpdatedReplicas: spec, ReadyReplicas: ready, AvailableReplicas: ready},
	}
}

func TestDeploymentCountsOnlyObservedGenerations(t *testing.T) {
	s := NewState()
	if evs := s.Deployment(deployment(1, 1, 1, 1)); len(evs) != 1 || evs[0].Deployment.Spec != 1 {
		t.Fatalf("first observation: %+v", evs)
	}
	// spec raised to 4 but the controller has not observed generation 2 yet:
	// the status still describes generation 1, so nothing is recorded.
	if evs := s.Deployment(deployment(2, 1, 4, 1)); len(evs) != 0 {
		t.Fatalf("stale generation recorded: %+v", evs[0].Deployment)
	}
	evs := s.Deployment(deployment(2, 2, 4, 1))
	if len(evs) != 1 || *evs[0].Deployment != (timeline.Replicas{Spec: 4, Current: 4, Updated: 4, Ready: 1, Available: 1}) {
		t.Fatalf("observed generation: %+v", evs)
	}
	if evs := s.Deployment(deployment(2, 2, 4, 1)); len(evs) != 0 {
		t.Fatalf("unchanged state recorded again: %+v", evs)
	}
	if evs := s.Deployment(deployment(2, 2, 4, 4)); len(evs) != 1 || evs[0].Deployment.Ready != 4 || evs[0].Object != "Deployment/default/app" {
		t.Fatalf("ready change: %+v", evs)
	}
}

func TestHPAStatusAndConditions(t *testing.T) {
	s := NewState()
	h := &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: "default", Generation: 1}}
	h.Status.ObservedGeneration = ptr.To[int64](1)
	h.Status.CurrentReplicas, h.Status.DesiredReplicas = 1, 4
	h.Status.CurrentMetrics = []autoscalingv2.MetricStatus{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricStatus{Name: corev1.ResourceCPU, Current: autoscalingv2.MetricValueStatus{AverageUtilization: ptr.To[int32](450)}}}}
	h.Status.Conditions = []autoscalingv2.HorizontalPodAutoscalerCondition{{Type: autoscalingv2.AbleToScale, Status: corev1.ConditionTrue, Reason: "SucceededRescale"}}
	evs := s.HPA(h)
	if len(evs) != 2 || evs[0].Autoscaler.Desired != 4 || evs[0].Autoscaler.Metric != "cpu 450%" || evs[1].Condition.Reason != "SucceededRescale" {
		t.Fatalf("%+v", evs)
	}
	if evs := s.HPA(h); len(evs) != 0 {
		t.Fatalf("repeat recorded: %+v", evs)
	}
}

func TestPodTransitions(t *testing.T) {
	s := NewState()
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "app-1", Namespace: "default", UID: "u1"}}
	got := func(evs []timeline.Event) []string {
		var out []string
		for _, e := range evs {
			out = append(out, e.Pod.Transition)
		}
		return out
	}
	if g := got(s.Pod(p)); len(g) != 1 || g[0] != timeline.PodCreated {
		t.Fatalf("created: %v", g)
	}
	p.Spec.NodeName = "agent-0"
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	if g := got(s.Pod(p)); len(g) != 2 || g[0] != timeline.PodScheduled || g[1] != timeline.PodReady {
		t.Fatalf("scheduled+ready: %v", g)
	}
	p.DeletionTimestamp = &metav1.Time{}
	if g := got(s.Pod(p)); len(g) != 1 || g[0] != timeline.PodUnready {
		t.Fatalf("terminating: %v", g)
	}
	if g := got(s.PodDeleted(p)); len(g) != 1 || g[0] != timeline.PodDeleted {
		t.Fatalf("deleted: %v", g)
	}
}

func TestCustomResourceConditions(t *testing.T) {
	s := NewState()
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
		"metadata": map[string]any{"name": "so", "namespace": "default"},
		"status": map[string]any{"conditions": []any{
			map[string]any{"type": "Ready", "status": "True", "reason": "ScaledObjectReady"},
			map[string]any{"type": "Active", "status": "False"},
		}},
	}}
	if evs := s.CustomResource(u); len(evs) != 2 || evs[0].Object != "ScaledObject/default/so" {
		t.Fatalf("%+v", evs)
	}
	unstructured.SetNestedSlice(u.Object, []any{
		map[string]any{"type": "Ready", "status": "True", "reason": "ScaledObjectReady"},
		map[string]any{"type": "Active", "status": "True", "reason": "ScalerActive"},
	}, "status", "conditions")
	if evs := s.CustomResource(u); len(evs) != 1 || evs[0].Condition.Type != "Active" || evs[0].Condition.Status != "True" {
		t.Fatalf("%+v", evs)
	}
}

func TestHPAStatusCountsOnlyForTheObservedGeneration(t *testing.T) {
	s := NewState()
	h := &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: "default", Generation: 2}}
	// Never synced by the HPA controller: an empty status.
	if evs := s.HPA(h); len(evs) != 0 {
		t.Fatalf("status of an unsynced HPA recorded: %+v", evs)
	}
	h.Status.CurrentReplicas, h.Status.DesiredReplicas = 1, 4
	// Observed the previous generation: the status belongs to the old spec.
	h.Status.ObservedGeneration = ptr.To[int64](1)
	if evs := s.HPA(h); len(evs) != 0 {
		t.Fatalf("stale status recorded: %+v", evs)
	}
	h.Status.ObservedGeneration = ptr.To[int64](2)
	if evs := s.HPA(h); len(evs) != 1 || evs[0].Autoscaler.Desired != 4 {
		t.Fatalf("current status: %+v", evs)
	}
	// Kubernetes' controller (1.35) writes no observedGeneration: its
	// status counts.
	k := NewState()
	h.Status.ObservedGeneration = nil
	if evs := k.HPA(h); len(evs) != 1 || evs[0].Autoscaler.Desired != 4 {
		t.Fatalf("status without observedGeneration: %+v", evs)
	}
}

// Notifications applied concurrently by several informers' handlers are
// recorded, and stamped, in the order they were applied.
func TestSinkRecordsInTheOrderApplied(t *testing.T) {
	var tick atomic.Int64
	start := time.Unix(0, 0)
	// The clock yields, so a handler that recorded outside the lock would be
	// overtaken between applying and stamping.
	rec := timeline.NewRecorderAt(start, func() time.Time {
		runtime.Gosched()
		return start.Add(time.Duration(tick.Add(1)) * time.Millisecond)
	})
	sk := newSink()
	sk.subscribe(rec, nil)
	seq := 0
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				sk.apply(func() []timeline.Event {
					seq++ // under the sink's lock: the order of application
					return []timeline.Event{{Kind: timeline.KindMarker, Marker: &timeline.Marker{Name: "n", Detail: strconv.Itoa(seq)}}}
				})
			}
		}()
	}
	wg.Wait()
	evs := rec.Events()
	if len(evs) != 400 {
		t.Fatalf("%d events", len(evs))
	}
	for i, e := range evs {
		if e.Marker.Detail != strconv.Itoa(i+1) {
			t.Fatalf("event %d is application %s: recorded out of order", i+1, e.Marker.Detail)
		}
	}
}

// A shared sink applies each notification once and records each event
// only for the subscribers whose filter accepts it, from their
// subscription until they leave.
func TestSharedSinkRecordsForTheAcceptingSubscribers(t *testing.T) {
	sk := newSink()
	a, b, all := timeline.NewRecorder(), timeline.NewRecorder(), timeline.NewRecorder()
	only := func(name string) func(string) bool {
		return func(object string) bool { return object == "" || object == "Deployment/ns/"+name }
	}
	leaveA := sk.subscribe(a, only("a"))
	sk.subscribe(b, only("b"))
	sk.subscribe(all, nil)
	dep := func(name string, ready int32) *appsv1.Deployment {
		d := deployment(1, 1, 2, ready)
		d.Name, d.Namespace = name, "ns"
		return d
	}
	applied := 0
	feed := func(d *appsv1.Deployment) {
		sk.apply(func() []timeline.Event { applied++; return sk.st.Deployment(d) })
	}
	feed(dep("a", 1))
	feed(dep("b", 1))
	feed(dep("a", 1)) // unchanged: no event for anyone
	sk.apply(func() []timeline.Event {
		return []timeline.Event{{Kind: timeline.KindMarker, Marker: &timeline.Marker{Name: "about no object"}}}
	})
	leaveA()
	feed(dep("a", 2))
	if applied != 4 {
		t.Errorf("%d notifications applied, want 4 (once each, whatever the subscribers)", applied)
	}
	objects := func(r *timeline.Recorder) (out []string) {
		for _, e := range r.Events() {
			out = append(out, e.Object)
		}
		return out
	}
	for _, c := range []struct {
		name string
		rec  *timeline.Recorder
		want []string
	}{
		{"a", a, []string{"Deployment/ns/a", ""}},
		{"b", b, []string{"Deployment/ns/b", ""}},
		{"all", all, []string{"Deployment/ns/a", "Deployment/ns/b", "", "Deployment/ns/a"}},
	} {
		if got := objects(c.rec); !slices.Equal(got, c.want) {
			t.Errorf("subscriber %s recorded %q, want %q", c.name, got, c.want)
		}
	}
}
