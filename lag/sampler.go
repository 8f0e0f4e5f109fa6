package lag

import (
	"context"
	"crypto/tls"
	"fmt"
	"math"
	"net/http"
	"sync"
	"time"

	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/results"
)

// DefaultInterval is how often a Sampler scrapes: a third of the HPA
// controller's 15 s sync period, half of KEDA's fastest polling in the
// built-in scenarios.
const DefaultInterval = 5 * time.Second

// Readings are what a Sampler collected.
type Readings struct {
	Interval time.Duration
	Samples  int
	// KEDA holds each ScaledObject's scale-loop latency readings, by
	// "namespace/name"; KEDAAbsent says why there are none at all.
	KEDA       map[string][]float64
	KEDAAbsent string
	// Queues are the HPA workqueue's readings, in order; QueueAbsent says
	// why there are none.
	Queues      []Queue
	QueueAbsent string
}

// Sampler scrapes a cluster's autoscaler metrics until stopped.
type Sampler struct {
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	r      Readings
	// clients are the sampler's own, closed when it stops.
	clients clients
}

// Start samples c's autoscaler metrics every interval (DefaultInterval
// when 0) until Stop. A cluster without clusters.AutoscalerMetrics is
// sampled not at all, and its readings say why.
func Start(ctx context.Context, c clusters.Cluster, interval time.Duration) *Sampler {
	if interval <= 0 {
		interval = DefaultInterval
	}
	ctx, cancel := context.WithCancel(ctx)
	s := &Sampler{cancel: cancel, done: make(chan struct{}), r: Readings{Interval: interval, KEDA: map[string][]float64{}}, clients: newClients()}
	am, ok := c.(clusters.AutoscalerMetrics)
	var keda, kcm *clusters.MetricsEndpoint
	if ok {
		for _, e := range am.AutoscalerMetricsEndpoints() {
			switch e.Component {
			case clusters.ComponentKEDAOperator:
				keda = &e
			case clusters.ComponentControllerManager:
				kcm = &e
			}
		}
	}
	kind := fmt.Sprintf("%T", c)
	if keda == nil {
		s.r.KEDAAbsent = "this cluster kind (" + kind + ") does not expose the KEDA operator's metrics endpoint to the harness"
	}
	if kcm == nil {
		s.r.QueueAbsent = "this cluster kind (" + kind + ") does not expose kube-controller-manager's metrics endpoint to the harness (managed or containerised control planes keep it private)"
	}
	go func() {
		defer close(s.done)
		// The sampler's connections end with it: idle keep-alive
		// connections left in a transport outlive the run (the fault
		// suite's leftover check found them).
		defer s.clients.closeIdle()
		if keda == nil && kcm == nil {
			return
		}
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			s.scrape(ctx, keda, kcm)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// Stop ends the sampling and returns what was read.
func (s *Sampler) Stop() Readings {
	s.cancel()
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.r
}

func (s *Sampler) scrape(ctx context.Context, keda, kcm *clusters.MetricsEndpoint) {
	var kedaVals map[string]float64
	var kedaErr, queueErr error
	var q Queue
	var kedaFound, queueFound bool
	if keda != nil {
		kedaErr = s.clients.fetch(ctx, *keda, func(resp *http.Response) (err error) {
			kedaVals, kedaFound, err = ParseKEDA(resp.Body)
			return err
		})
	}
	if kcm != nil {
		queueErr = s.clients.fetch(ctx, *kcm, func(resp *http.Response) (err error) {
			q, queueFound, err = ParseQueue(resp.Body)
			return err
		})
	}
	if ctx.Err() != nil {
		return // cut short by Stop: not a reading
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.r.Samples++
	switch {
	case keda == nil:
	case kedaErr != nil:
		s.r.KEDAAbsent = "scraping the KEDA operator failed: " + kedaErr.Error()
	case kedaFound:
		for k, v := range kedaVals {
			s.r.KEDA[k] = append(s.r.KEDA[k], v)
		}
	}
	switch {
	case kcm == nil:
	case queueErr != nil:
		s.r.QueueAbsent = "scraping kube-controller-manager failed: " + queueErr.Error()
	case queueFound:
		s.r.Queues = append(s.r.Queues, q)
	default:
		s.r.QueueAbsent = "kube-controller-manager's metrics have no horizontalpodautoscaler workqueue"
	}
}

// clients scrape plain HTTP and a component's self-signed HTTPS on
// loopback.
type clients struct{ plain, insecure *http.Client }

func newClients() clients {
	return clients{
		plain: &http.Client{Timeout: 4 * time.Second, Transport: &http.Transport{Proxy: nil}}, // loopback: never through a proxy
		insecure: &http.Client{Timeout: 4 * time.Second, Transport: &http.Transport{
			Proxy:           nil,
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // a component's own self-signed certificate on loopback
		}},
	}
}

func (c clients) closeIdle() {
	c.plain.CloseIdleConnections()
	c.insecure.CloseIdleConnections()
}

func (c clients) fetch(ctx context.Context, e clusters.MetricsEndpoint, read func(*http.Response) error) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.URL, nil)
	if err != nil {
		return err
	}
	cl := c.plain
	if e.InsecureSkipVerify {
		cl = c.insecure
	}
	resp, err := cl.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", e.URL, resp.Status)
	}
	return read(resp)
}

// Summary states r for a scenario whose ScaledObjects are scaledObjects
// ("namespace/name"; none for an HPA scenario).
func (r Readings) Summary(scaledObjects []string) *results.AutoscalerLag {
	out := &results.AutoscalerLag{SampleIntervalSeconds: r.Interval.Seconds(), Samples: r.Samples, Absent: map[string]string{}}
	absent := func(key, why string) { out.Absent[key] = why }
	switch {
	case len(scaledObjects) == 0:
		absent("kedaScaleLoopLatencySeconds", "the scenario has no KEDA ScaledObject")
	case r.KEDAAbsent != "" && len(r.KEDA) == 0:
		absent("kedaScaleLoopLatencySeconds", r.KEDAAbsent)
	default:
		var pooled []float64
		for _, so := range scaledObjects {
			pooled = append(pooled, r.KEDA[so]...)
		}
		if out.KEDAScaleLoopLatencySeconds = results.NewDistribution(pooled); out.KEDAScaleLoopLatencySeconds == nil {
			absent("kedaScaleLoopLatencySeconds", "KEDA reported no scale-loop latency for the scenario's ScaledObjects while sampled")
		}
	}
	if len(r.Queues) == 0 {
		why := r.QueueAbsent
		if why == "" {
			why = "no sample was taken"
		}
		for _, k := range []string{"hpaWorkqueueDepth", "hpaWorkqueueAdds", "hpaWorkqueueWaitMeanSeconds", "hpaWorkqueueWaitP95BoundSeconds", "hpaWorkqueueWorkMeanSeconds"} {
			absent(k, why)
		}
	} else {
		depths := make([]float64, len(r.Queues))
		for i, q := range r.Queues {
			depths[i] = q.Depth
		}
		out.HPAWorkqueueDepth = results.NewDistribution(depths)
		first, last := r.Queues[0], r.Queues[len(r.Queues)-1]
		out.HPAWorkqueueAdds = results.I64(int64(max(last.Adds-first.Adds, 0)))
		wait, work := last.Queue.Since(first.Queue), last.Work.Since(first.Work)
		if wait.Count > 0 {
			out.HPAWorkqueueWaitMeanSeconds = results.F64(wait.Sum / float64(wait.Count))
			switch b, _ := wait.UpperBound(0.95); {
			case math.IsInf(b, 1):
				absent("hpaWorkqueueWaitP95BoundSeconds", fmt.Sprintf("the 95th percentile wait is above the histogram's largest bucket (%g s)", wait.Bounds[max(len(wait.Bounds)-2, 0)]))
			default:
				out.HPAWorkqueueWaitP95BoundSeconds = results.F64(b)
			}
		} else {
			absent("hpaWorkqueueWaitMeanSeconds", "no HPA key left the queue between the first and the last sample")
			absent("hpaWorkqueueWaitP95BoundSeconds", "no HPA key left the queue between the first and the last sample")
		}
		if work.Count > 0 {
			out.HPAWorkqueueWorkMeanSeconds = results.F64(work.Sum / float64(work.Count))
		} else {
			absent("hpaWorkqueueWorkMeanSeconds", "no HPA sync ended between the first and the last sample")
		}
	}
	if len(out.Absent) == 0 {
		out.Absent = nil
	}
	return out
}
