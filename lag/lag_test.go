package lag

import (
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
)

const kedaText = `# HELP keda_internal_scale_loop_latency_seconds Total deviation (in seconds) between the expected execution time and the actual execution time for the scaling loop.
# TYPE keda_internal_scale_loop_latency_seconds gauge
keda_internal_scale_loop_latency_seconds{namespace="apps",resource="hello-1",type="scaledobject"} 0.012
keda_internal_scale_loop_latency_seconds{namespace="apps",resource="hello-2",type="scaledobject"} 1.5
keda_internal_scale_loop_latency_seconds{namespace="apps",resource="job",type="scaledjob"} 9
# TYPE keda_build_info gauge
keda_build_info{version="2.20.2"} 1
`

func queueText(depth, adds, count, sum float64, le001, le01, le1 float64) string {
	return strings.NewReplacer("DEPTH", f(depth), "ADDS", f(adds), "COUNT", f(count), "SUM", f(sum), "B001", f(le001), "B01", f(le01), "B1", f(le1)).Replace(`# TYPE workqueue_depth gauge
workqueue_depth{name="deployment"} 7
workqueue_depth{name="horizontalpodautoscaler"} DEPTH
# TYPE workqueue_adds_total counter
workqueue_adds_total{name="horizontalpodautoscaler"} ADDS
# TYPE workqueue_queue_duration_seconds histogram
workqueue_queue_duration_seconds_bucket{name="horizontalpodautoscaler",le="0.001"} B001
workqueue_queue_duration_seconds_bucket{name="horizontalpodautoscaler",le="0.01"} B01
workqueue_queue_duration_seconds_bucket{name="horizontalpodautoscaler",le="1"} B1
workqueue_queue_duration_seconds_bucket{name="horizontalpodautoscaler",le="+Inf"} COUNT
workqueue_queue_duration_seconds_sum{name="horizontalpodautoscaler"} SUM
workqueue_queue_duration_seconds_count{name="horizontalpodautoscaler"} COUNT
# TYPE workqueue_work_duration_seconds histogram
workqueue_work_duration_seconds_bucket{name="horizontalpodautoscaler",le="+Inf"} COUNT
workqueue_work_duration_seconds_sum{name="horizontalpodautoscaler"} SUM
workqueue_work_duration_seconds_count{name="horizontalpodautoscaler"} COUNT
`)
}

func f(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func TestParseKEDA(t *testing.T) {
	got, found, err := ParseKEDA(strings.NewReader(kedaText))
	if err != nil || !found {
		t.Fatalf("found %v, %v", found, err)
	}
	if len(got) != 2 || got["apps/hello-1"] != 0.012 || got["apps/hello-2"] != 1.5 {
		t.Errorf("latencies %v (the ScaledJob must not count)", got)
	}
	// An operator whose loops have not run yet has no such metric.
	if _, found, err := ParseKEDA(strings.NewReader("# TYPE keda_build_info gauge\nkeda_build_info 1\n")); found || err != nil {
		t.Errorf("found %v, %v", found, err)
	}
	if _, _, err := ParseKEDA(strings.NewReader("not prometheus {")); err == nil {
		t.Error("garbage parsed")
	}
}

func TestParseQueueAndDeltas(t *testing.T) {
	q0, found, err := ParseQueue(strings.NewReader(queueText(0, 10, 10, 0.01, 5, 10, 10)))
	if err != nil || !found || q0.Depth != 0 || q0.Adds != 10 || q0.Queue.Count != 10 {
		t.Fatalf("first reading %+v, %v, %v", q0, found, err)
	}
	// 20 more keys: 2 waited up to 1 ms, 8 up to 10 ms, 10 up to 1 s.
	q1, _, err := ParseQueue(strings.NewReader(queueText(3, 30, 30, 2.01, 7, 20, 30)))
	if err != nil || q1.Depth != 3 {
		t.Fatalf("second reading %+v, %v", q1, err)
	}
	d := q1.Queue.Since(q0.Queue)
	if d.Count != 20 || math.Abs(d.Sum-2) > 1e-9 {
		t.Errorf("delta %+v", d)
	}
	if b, ok := d.UpperBound(0.95); !ok || b != 1 {
		t.Errorf("p95 bound %v %v, want 1", b, ok)
	}
	if b, _ := d.UpperBound(0.10); b != 0.001 {
		t.Errorf("p10 bound %v, want 0.001", b)
	}
	// A restarted process's counters start again: the later reading alone.
	if r := q0.Queue.Since(q1.Queue); r.Count != 10 {
		t.Errorf("after a reset %+v", r)
	}
	if _, found, _ := ParseQueue(strings.NewReader(kedaText)); found {
		t.Error("an HPA queue found in KEDA's metrics")
	}
}

func TestSummary(t *testing.T) {
	q0, _, _ := ParseQueue(strings.NewReader(queueText(0, 10, 10, 0.01, 5, 10, 10)))
	q1, _, _ := ParseQueue(strings.NewReader(queueText(4, 30, 30, 2.01, 7, 20, 30)))
	r := Readings{Interval: 5 * time.Second, Samples: 2,
		KEDA:   map[string][]float64{"apps/hello-1": {0.01, 0.02}, "apps/hello-2": {3}, "other/x": {100}},
		Queues: []Queue{q0, q1}}
	l := r.Summary([]string{"apps/hello-1", "apps/hello-2"})
	if k := l.KEDAScaleLoopLatencySeconds; k == nil || k.N != 3 || k.Max != 3 || k.P50 != 0.02 {
		t.Errorf("KEDA %+v (another namespace's ScaledObject must not count)", k)
	}
	if l.HPAWorkqueueDepth == nil || l.HPAWorkqueueDepth.Max != 4 || *l.HPAWorkqueueAdds != 20 || math.Abs(*l.HPAWorkqueueWaitMeanSeconds-0.1) > 1e-9 || *l.HPAWorkqueueWaitP95BoundSeconds != 1 {
		t.Errorf("queue %+v", l)
	}
	if len(l.Absent) != 0 {
		t.Errorf("absent %v", l.Absent)
	}

	// An HPA scenario has no ScaledObject; a cluster kind without the
	// endpoints says so; nothing is zero-filled.
	none := Readings{Interval: 5 * time.Second, KEDA: map[string][]float64{}, KEDAAbsent: "this cluster kind (*k3d.Cluster) does not expose …", QueueAbsent: "this cluster kind (*k3d.Cluster) does not expose kube-controller-manager's …"}
	h := none.Summary(nil)
	if h.KEDAScaleLoopLatencySeconds != nil || h.HPAWorkqueueDepth != nil || h.HPAWorkqueueAdds != nil || h.HPAWorkqueueWaitMeanSeconds != nil {
		t.Errorf("figures without readings: %+v", h)
	}
	if !strings.Contains(h.Absent["kedaScaleLoopLatencySeconds"], "no KEDA ScaledObject") || !strings.Contains(h.Absent["hpaWorkqueueDepth"], "kube-controller-manager") {
		t.Errorf("absent %v", h.Absent)
	}
	k := none.Summary([]string{"apps/hello-1"})
	if !strings.Contains(k.Absent["kedaScaleLoopLatencySeconds"], "does not expose") {
		t.Errorf("absent %v", k.Absent)
	}
	// Readings, but none of this scenario's ScaledObjects.
	other := Readings{KEDA: map[string][]float64{"other/x": {1}}, Queues: []Queue{q0}}
	o := other.Summary([]string{"apps/hello-1"})
	if o.KEDAScaleLoopLatencySeconds != nil || !strings.Contains(o.Absent["kedaScaleLoopLatencySeconds"], "no scale-loop latency") {
		t.Errorf("other's readings: %+v", o)
	}
	// One queue reading: a depth, but no wait measured between readings.
	if o.HPAWorkqueueDepth == nil || o.HPAWorkqueueWaitMeanSeconds != nil || o.Absent["hpaWorkqueueWaitMeanSeconds"] == "" {
		t.Errorf("one reading: %+v", o)
	}
}
