package dataplane

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

// usageParams are the sampler's settings for one pod.
type usageParams struct {
	// interval is how often the sampler is called (the usage loop's tick).
	interval time.Duration
	// window is the span the rate annotation averages over.
	window time.Duration
	// idle is the pod's idle use (millicores), limit its CPU limit (0: none).
	idle, limit int64
}

// counterRefresh is how long an unchanged counter (an idle pod's) goes
// without a write: its idle share still reaches metrics-server every
// metrics-server resolution.
const counterRefresh = 15 * time.Second

// usageSampler turns a pod's cumulative CPU time into its two usage
// annotations:
//
//   - AnnotationCPUSeconds, the pod's cumulative CPU-seconds (idle share
//     included) since its first instance started: a kubelet's
//     container_cpu_usage_seconds_total. kwok serves it as that counter, so
//     metrics-server computes the rate between two of its scrapes, as it
//     does from cAdvisor: the first sample after load starts averages idle
//     and busy time. Written every tick while the pod uses CPU beyond its
//     idle share, else every counterRefresh.
//   - AnnotationUsageCPU, the average use over the last window plus idle,
//     capped at the limit (kwok's usage-from-annotation: node metrics and
//     pods without a counter), written only when it moved by at least
//     max(2m, 5%).
//
// A tick that fires a little early (a ticker's jitter) still closes its
// window: a window closes once at least half a tick short of its span has
// passed, and the average is over the time that actually passed.
type usageSampler struct {
	started bool
	startAt time.Time

	rateAt   time.Time
	rateUsed time.Duration
	written  int64 // -1: nothing written (or the last write failed)

	counterAt   time.Time     // last counter write
	counterUsed time.Duration // busy CPU at the last counter write
	counterOK   bool          // a counter has been written
}

// usageUpdate is what one observation wants written.
type usageUpdate struct {
	milli        int64 // AnnotationUsageCPU, when writeRate
	writeRate    bool
	seconds      float64 // AnnotationCPUSeconds, when writeCounter
	writeCounter bool
}

func (u usageUpdate) any() bool { return u.writeRate || u.writeCounter }

// observe samples cumulative CPU time used at now. The first observation
// writes the idle rate and no counter (a counter of 0 is dropped by
// metrics-server).
func (s *usageSampler) observe(now time.Time, used time.Duration, p usageParams) usageUpdate {
	var u usageUpdate
	if !s.started {
		s.started, s.startAt, s.rateAt, s.rateUsed, s.written = true, now, now, used, -1
		s.counterAt, s.counterUsed = now, used
		u.milli, u.writeRate = s.decide(p.idle, p.limit)
		return u
	}
	slack := p.interval / 2
	if el := now.Sub(s.rateAt); el > 0 && el >= p.window-slack {
		milli := int64(math.Round(float64(used-s.rateUsed) / float64(el) * 1000))
		s.rateAt, s.rateUsed = now, used
		u.milli, u.writeRate = s.decide(max(milli, 0)+p.idle, p.limit)
	}
	if el := now.Sub(s.counterAt); el >= p.interval-slack {
		busy := used != s.counterUsed
		if busy || !s.counterOK || el >= counterRefresh-slack {
			u.seconds = used.Seconds() + float64(p.idle)/1000*now.Sub(s.startAt).Seconds()
			if u.seconds > 0 {
				u.writeCounter = true
				s.counterAt, s.counterUsed, s.counterOK = now, used, true
			}
		}
	}
	return u
}

func (s *usageSampler) decide(milli, limit int64) (int64, bool) {
	if limit > 0 && milli > limit {
		milli = limit
	}
	if s.written >= 0 {
		diff := milli - s.written
		if diff < 0 {
			diff = -diff
		}
		if diff < max(2, s.written/20) {
			return 0, false
		}
	}
	s.written = milli
	return milli, true
}

// forget makes the next observation write both annotations whatever their
// values (a write failed).
func (s *usageSampler) forget() {
	s.written = -1
	s.counterUsed = -1
}

// formatSeconds renders a counter in CPU-seconds with microsecond precision.
func formatSeconds(s float64) string { return strconv.FormatFloat(s, 'f', 6, 64) }

// formatMilli renders millicores as a quantity ("450m").
func formatMilli(m int64) string { return fmt.Sprintf("%dm", m) }

// usagePatcher writes a pod's usage annotation.
type usagePatcher interface {
	patchUsage(ctx context.Context, w usageWrite) error
}

// clientPatcher patches pods through the API with a JSON merge patch.
type clientPatcher struct{ client kubernetes.Interface }

func (c clientPatcher) patchUsage(ctx context.Context, w usageWrite) error {
	patch, err := json.Marshal(map[string]any{
		"metadata": map[string]any{
			// The UID precondition keeps a write from landing on a new pod
			// that took the old one's name.
			"uid":         w.uid,
			"annotations": w.annotations(),
		},
	})
	if err != nil {
		return fmt.Errorf("pod %s/%s: encode usage patch: %w", w.ns, w.name, err)
	}
	_, err = c.client.CoreV1().Pods(w.ns).Patch(ctx, w.name, types.MergePatchType, patch, metav1.PatchOptions{})
	if err != nil {
		return fmt.Errorf("pod %s/%s: patch usage %v: %w", w.ns, w.name, w.annotations(), err)
	}
	return nil
}

// reportUsage samples every pod once and writes the annotations due, a few
// at a time; writes that fail are retried on the next round (pods that are
// gone are not).
func reportUsage(ctx context.Context, s *instances, p usagePatcher, log *slog.Logger) {
	writes := s.usageDue(s.clock.Now())
	if len(writes) == 0 {
		return
	}
	const workers = 16
	ch := make(chan usageWrite)
	var wg sync.WaitGroup
	for range min(workers, len(writes)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for w := range ch {
				pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				err := p.patchUsage(pctx, w)
				cancel()
				switch {
				case err == nil:
				case apierrors.IsNotFound(err) || apierrors.IsConflict(err):
					// Gone or replaced: the informer will tell.
				default:
					if ctx.Err() == nil {
						log.Warn("writing CPU usage", "err", err)
					}
					s.usageFailed(w)
				}
			}
		}()
	}
	for _, w := range writes {
		select {
		case ch <- w:
		case <-ctx.Done():
		}
	}
	close(ch)
	wg.Wait()
}
