// Package lag reads the autoscalers' own lag from their Prometheus metrics:
// KEDA's keda_internal_scale_loop_latency_seconds (how late each
// ScaledObject's scale loop ran against its pollingInterval) and the HPA
// controller's workqueue (workqueue_*{name="horizontalpodautoscaler"} of
// kube-controller-manager: how many HPA keys wait, and how long they
// wait and take). Parsing and summarising are pure; Sampler scrapes.
package lag

import (
	"fmt"
	"io"
	"math"
	"sort"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Metric names and labels read.
const (
	KEDAScaleLoopLatency = "keda_internal_scale_loop_latency_seconds"
	WorkqueueDepth       = "workqueue_depth"
	WorkqueueAdds        = "workqueue_adds_total"
	WorkqueueQueue       = "workqueue_queue_duration_seconds"
	WorkqueueWork        = "workqueue_work_duration_seconds"
	// HPAQueue is the HPA controller's workqueue name.
	HPAQueue = "horizontalpodautoscaler"
)

func parse(r io.Reader) (map[string]*dto.MetricFamily, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	mf, err := p.TextToMetricFamilies(r)
	if err != nil {
		return nil, fmt.Errorf("prometheus text: %w", err)
	}
	return mf, nil
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// ParseKEDA reads the scale-loop latency of every ScaledObject in a KEDA
// operator's metrics, by "namespace/name". found is false when the metric
// is not there at all (no scale loop has run yet).
func ParseKEDA(r io.Reader) (latency map[string]float64, found bool, err error) {
	mf, err := parse(r)
	if err != nil {
		return nil, false, err
	}
	f, ok := mf[KEDAScaleLoopLatency]
	if !ok {
		return map[string]float64{}, false, nil
	}
	latency = map[string]float64{}
	for _, m := range f.GetMetric() {
		if label(m, "type") != "scaledobject" {
			continue
		}
		latency[label(m, "namespace")+"/"+label(m, "resource")] = m.GetGauge().GetValue()
	}
	return latency, true, nil
}

// Histogram is a cumulative Prometheus histogram: bucket upper bounds with
// their cumulative counts, ascending, +Inf last.
type Histogram struct {
	Count   uint64
	Sum     float64
	Bounds  []float64
	Buckets []uint64
}

// Queue is one reading of the HPA controller's workqueue.
type Queue struct {
	Depth float64
	Adds  float64
	// Queue is how long keys waited in the queue; Work how long their
	// processing took.
	Queue, Work Histogram
}

// ParseQueue reads the HPA controller's workqueue from
// kube-controller-manager's metrics. found is false when the queue is not
// there (the HPA controller does not run, or its metrics are not exposed).
func ParseQueue(r io.Reader) (q Queue, found bool, err error) {
	mf, err := parse(r)
	if err != nil {
		return Queue{}, false, err
	}
	pick := func(name string) *dto.Metric {
		for _, m := range mf[name].GetMetric() {
			if label(m, "name") == HPAQueue {
				return m
			}
		}
		return nil
	}
	d := pick(WorkqueueDepth)
	if d == nil {
		return Queue{}, false, nil
	}
	q.Depth = d.GetGauge().GetValue()
	if a := pick(WorkqueueAdds); a != nil {
		q.Adds = a.GetCounter().GetValue()
	}
	q.Queue = histogram(pick(WorkqueueQueue))
	q.Work = histogram(pick(WorkqueueWork))
	return q, true, nil
}

func histogram(m *dto.Metric) Histogram {
	h := m.GetHistogram()
	if h == nil {
		return Histogram{}
	}
	out := Histogram{Count: h.GetSampleCount(), Sum: h.GetSampleSum()}
	bs := append([]*dto.Bucket(nil), h.GetBucket()...)
	sort.Slice(bs, func(i, j int) bool { return bs[i].GetUpperBound() < bs[j].GetUpperBound() })
	for _, b := range bs {
		out.Bounds = append(out.Bounds, b.GetUpperBound())
		out.Buckets = append(out.Buckets, b.GetCumulativeCount())
	}
	if len(out.Bounds) == 0 || !math.IsInf(out.Bounds[len(out.Bounds)-1], 1) {
		out.Bounds = append(out.Bounds, math.Inf(1))
		out.Buckets = append(out.Buckets, out.Count)
	}
	return out
}

// Since is h minus an earlier reading of the same histogram: what was
// observed in between. A counter reset (the process restarted) gives h.
func (h Histogram) Since(before Histogram) Histogram {
	if before.Count > h.Count || len(before.Bounds) != len(h.Bounds) {
		return h
	}
	d := Histogram{Count: h.Count - before.Count, Sum: h.Sum - before.Sum, Bounds: h.Bounds, Buckets: make([]uint64, len(h.Buckets))}
	for i := range h.Buckets {
		d.Buckets[i] = h.Buckets[i] - min(before.Buckets[i], h.Buckets[i])
	}
	return d
}

// UpperBound is the upper bound of the bucket that holds the p-quantile
// (0 < p <= 1) of the observations: the quantile is at most that. false
// when there are none.
func (h Histogram) UpperBound(p float64) (float64, bool) {
	if h.Count == 0 {
		return 0, false
	}
	rank := uint64(math.Ceil(p * float64(h.Count)))
	for i, c := range h.Buckets {
		if c >= rank {
			return h.Bounds[i], true
		}
	}
	return math.Inf(1), true
}
