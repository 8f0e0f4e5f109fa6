package dataplane

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

// usageSampler turns a pod's cumulative CPU time into the usage annotation,
// rate limited: a value is produced at most once per interval, and only when
// it moved by at least max(2m, 5%) from the last value written.
type usageSampler struct {
	started  bool
	lastAt   time.Time
	lastUsed time.Duration
	written  int64 // -1: nothing written (or the last write failed)
}

// observe samples cumulative CPU time used at now. It returns the
// millicores to write — the average use since the previous sample plus
// idle, capped at limit (when limit > 0) — and whether to write them. The
// first observation writes idle.
func (s *usageSampler) observe(now time.Time, used, interval time.Duration, idle, limit int64) (int64, bool) {
	if !s.started {
		s.started, s.lastAt, s.lastUsed, s.written = true, now, used, -1
		return s.decide(idle, limit)
	}
	el := now.Sub(s.lastAt)
	if el < interval {
		return 0, false
	}
	milli := int64(math.Round(float64(used-s.lastUsed) / float64(el) * 1000))
	s.lastAt, s.lastUsed = now, used
	return s.decide(max(milli, 0)+idle, limit)
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

// forget makes the next change-check write whatever the value is.
func (s *usageSampler) forget() { s.written = -1 }

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
			"annotations": map[string]string{AnnotationUsageCPU: formatMilli(w.milli)},
		},
	})
	if err != nil {
		return fmt.Errorf("pod %s/%s: encode usage patch: %w", w.ns, w.name, err)
	}
	_, err = c.client.CoreV1().Pods(w.ns).Patch(ctx, w.name, types.MergePatchType, patch, metav1.PatchOptions{})
	if err != nil {
		return fmt.Errorf("pod %s/%s: patch %s=%s: %w", w.ns, w.name, AnnotationUsageCPU, formatMilli(w.milli), err)
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
	const workers = 8
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
