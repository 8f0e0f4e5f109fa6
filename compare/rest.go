package compare

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/scalebench/scalebench/kube"
)

// Node CPU counts as settled when two successive readings of the resource
// metrics API (different timestamps) differ by at most this much, or by at
// most settleFraction of the earlier one.
//
// A cluster whose nodes report no CPU usage at all is at rest once that has
// lasted noNodeMetricsRest: metrics-server omits a node whose usage is zero,
// which is every node of an idle emulated cluster (KWOK derives a node's
// usage from its pods'), so on the emulated cluster the wait ends there.
// It is longer than metrics-server's resolution (15 s on the emulated
// cluster), so a reading that was only late does not count as idle.
const (
	settleMilliCPU    = 50
	settleFraction    = 0.10
	noNodeMetricsRest = 20 * time.Second
)

// restState is what one look at the cluster found.
type restState struct {
	namespaces, pods, podMetrics int
	// metricsAPI is false when the resource metrics API is not served.
	metricsAPI bool
	// nodeCPU is the nodes' total CPU usage in millicores at nodeStamp.
	nodeCPU   int64
	nodeStamp time.Time
	nodes     int
	// at is when the look was taken.
	at time.Time
}

// restTracker decides from successive looks whether the cluster is at
// rest: the earlier trials' namespaces are gone with their pods and pod
// metrics, and the nodes' CPU usage has stopped moving. It is pure.
type restTracker struct {
	prev *restState
	// noNodesSince is when the looks began to find no node metrics.
	noNodesSince time.Time
}

// observe folds in one look and reports whether the cluster is at rest,
// with a description of the state.
func (t *restTracker) observe(s restState) (bool, string) {
	var parts []string
	clean := s.namespaces == 0 && s.pods == 0 && s.podMetrics == 0
	parts = append(parts, fmt.Sprintf("%d earlier trial namespaces left, %d pods, %d pod metrics", s.namespaces, s.pods, s.podMetrics))
	if !s.metricsAPI {
		parts = append(parts, "resource metrics API not served: node usage not checked")
		return clean, strings.Join(parts, "; ")
	}
	settled := false
	switch p := t.prev; {
	case s.nodes == 0:
		if t.noNodesSince.IsZero() {
			t.noNodesSince = s.at
		}
		if idle := s.at.Sub(t.noNodesSince); idle >= noNodeMetricsRest {
			settled = true
			parts = append(parts, fmt.Sprintf("no node has reported CPU usage for %.0f s (metrics-server omits nodes whose usage is zero): idle", idle.Seconds()))
		} else {
			parts = append(parts, fmt.Sprintf("no node metrics for %.0f s (idle once %.0f s)", idle.Seconds(), noNodeMetricsRest.Seconds()))
		}
	case p == nil || p.nodes == 0:
		parts = append(parts, fmt.Sprintf("node CPU %dm at %s (waiting for the next reading)", s.nodeCPU, s.nodeStamp.UTC().Format(time.TimeOnly)))
	case !s.nodeStamp.After(p.nodeStamp):
		parts = append(parts, fmt.Sprintf("node CPU %dm (waiting for a newer reading than %s)", s.nodeCPU, p.nodeStamp.UTC().Format(time.TimeOnly)))
		return false, strings.Join(parts, "; ") // keep the earlier reading
	default:
		delta := math.Abs(float64(s.nodeCPU - p.nodeCPU))
		settled = delta <= settleMilliCPU || delta <= settleFraction*float64(p.nodeCPU)
		state := "settled"
		if !settled {
			state = "still moving"
		}
		parts = append(parts, fmt.Sprintf("node CPU %dm → %dm between readings %.0f s apart: %s (settled: within %dm or %.0f %%)",
			p.nodeCPU, s.nodeCPU, s.nodeStamp.Sub(p.nodeStamp).Seconds(), state, settleMilliCPU, settleFraction*100))
	}
	if s.nodes > 0 {
		cp := s
		t.prev = &cp
		t.noNodesSince = time.Time{}
	}
	return clean && settled, strings.Join(parts, "; ")
}

// WaitAtRest waits, within timeout, until the cluster is at rest after the
// earlier trials (their namespaces, pods and pod metrics gone, node CPU
// usage settled). It returns the state it ended on; on timeout a
// *kube.WaitError with the last state.
func WaitAtRest(ctx context.Context, c *kube.Clients, earlier []string, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var tr restTracker
	var last string
	err := kube.Poll(ctx, 2*time.Second, "the cluster to be at rest", func(ctx context.Context) (bool, string, error) {
		s, err := look(ctx, c, earlier)
		if err != nil {
			if ctx.Err() != nil {
				return false, "", nil
			}
			return false, "reading the cluster: " + err.Error(), nil // transient: keep polling
		}
		ok, state := tr.observe(s)
		last = state
		return ok, state, nil
	})
	return last, err
}

func look(ctx context.Context, c *kube.Clients, earlier []string) (restState, error) {
	s := restState{metricsAPI: true, at: time.Now()}
	for _, ns := range earlier {
		_, err := c.Kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			continue
		case err != nil:
			return s, err
		}
		s.namespaces++
		pods, err := c.Kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return s, err
		}
		s.pods += len(pods.Items)
		pm, err := c.Dynamic.Resource(kube.PodMetrics).Namespace(ns).List(ctx, metav1.ListOptions{})
		switch {
		case apierrors.IsNotFound(err):
			s.metricsAPI = false
		case err != nil:
			return s, fmt.Errorf("pod metrics in %s: %w", ns, err)
		default:
			s.podMetrics += len(pm.Items)
		}
	}
	nm, err := c.Dynamic.Resource(kube.NodeMetrics).List(ctx, metav1.ListOptions{})
	switch {
	case apierrors.IsNotFound(err):
		s.metricsAPI = false
		return s, nil
	case err != nil:
		return s, fmt.Errorf("node metrics: %w", err)
	}
	for _, it := range nm.Items {
		cpu, stamp, ok := nodeUsage(it)
		if !ok {
			continue
		}
		s.nodes++
		s.nodeCPU += cpu
		if stamp.After(s.nodeStamp) {
			s.nodeStamp = stamp
		}
	}
	return s, nil
}

// nodeUsage reads a NodeMetrics object's CPU usage (millicores) and time.
func nodeUsage(o unstructured.Unstructured) (int64, time.Time, bool) {
	cpu, _, _ := unstructured.NestedString(o.Object, "usage", "cpu")
	ts, _, _ := unstructured.NestedString(o.Object, "timestamp")
	q, err := resource.ParseQuantity(cpu)
	if err != nil {
		return 0, time.Time{}, false
	}
	stamp, err := time.Parse(time.RFC3339, ts)
	if err != nil {
		return 0, time.Time{}, false
	}
	return q.MilliValue(), stamp, true
}

// deleteNamespace deletes a trial's namespace; the next trial's rest wait
// waits for it to go. A failure is only logged: the wait reports it.
func deleteNamespace(ctx context.Context, c *kube.Clients, ns string, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	err := c.Kube.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		log.Warn("delete trial namespace", "namespace", ns, "err", err)
	}
}
