package loadjob

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/scalebench/scalebench/kube"
	"github.com/scalebench/scalebench/load"
)

// DefaultStartDelay is how long after the Job is applied its pods start
// their load: the time they have to be scheduled, pull the image and start.
const DefaultStartDelay = 30 * time.Second

// Generator runs load as a Job in the cluster (load.Generator). It has no
// per-request results: Run's callback is never called; the summary's
// per-second buckets are complete.
type Generator struct {
	Clients *kube.Clients
	// Spec is the Job; Run sets its Options and StartAt.
	Spec Spec
	// StartDelay is the barrier's distance from the Job's creation
	// (DefaultStartDelay when zero).
	StartDelay time.Duration
	// Progress receives human progress lines; nil is quiet.
	Progress func(format string, args ...any)
	Logger   *slog.Logger
	// Pods, after Run, are the pods' own totals.
	Pods []PodTotals
}

var _ load.Generator = (*Generator)(nil)

func (g *Generator) progressf(format string, args ...any) {
	if g.Progress != nil {
		g.Progress(format, args...)
	}
}

// Run applies the Job, waits for its pods to run by the barrier, merges
// their log lines and deletes the Job and its pods, whatever happened.
func (g *Generator) Run(ctx context.Context, o load.Options, _ func(load.Result)) (sum load.Summary, err error) {
	if g.Logger == nil {
		g.Logger = slog.New(slog.DiscardHandler)
	}
	delay := g.StartDelay
	if delay <= 0 {
		delay = DefaultStartDelay
	}
	s := g.Spec
	s.Options = o
	now := time.Now()
	s.StartAt = now.Add(delay).Truncate(time.Millisecond)
	job, err := Render(s, now)
	if err != nil {
		return sum, err
	}
	defer func() {
		// Teardown runs however the load ended, interrupted too (then
		// within a short bound, without waiting for the pods to go).
		interrupted := ctx.Err() != nil
		bound := time.Minute
		if interrupted {
			bound = 10 * time.Second
		}
		tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), bound)
		defer cancel()
		if terr := Teardown(tctx, g.Clients, job, !interrupted); terr != nil {
			err = errors.Join(err, terr)
		}
	}()
	if err := g.Clients.Apply(ctx, s.RunID, job); err != nil {
		return sum, fmt.Errorf("load job: %w", err)
	}
	g.progressf("load job %s/%s: %d pods, start barrier %s (in %s)", s.Namespace, s.Name, s.Parallelism, s.StartAt.Format(time.RFC3339), delay)
	pods, err := g.waitRunning(ctx, s)
	if err != nil {
		return sum, err
	}
	g.progressf("load job %s: %d pods running, reading their logs", s.Name, len(pods))
	m := NewMerger(s.StartAt)
	for _, p := range pods {
		m.Expect(p)
	}
	// Bound: the load, its last requests' timeout, and two minutes for the
	// last lines to come through.
	rctx, cancel := context.WithTimeout(ctx, s.deadline(now)+time.Minute)
	defer cancel()
	events := make(chan podEvent)
	for _, p := range pods {
		go g.follow(rctx, s.Namespace, p, events)
	}
	var podErrs []error
	ended := map[string]bool{}
	for len(ended) < len(pods) {
		select {
		case ev := <-events:
			switch {
			case ev.err != nil:
				podErrs = append(podErrs, ev.err)
				ended[ev.pod] = true
			case m.Add(ev.pod, ev.line):
				ended[ev.pod] = true
			}
		case <-rctx.Done():
			sum, _ = m.Summary()
			if ctx.Err() != nil {
				return sum, ctx.Err()
			}
			return sum, fmt.Errorf("load job %s: no done line by the deadline from pods %s", s.Name, strings.Join(m.Missing(), ", "))
		}
	}
	cancel()
	g.Pods = m.Pods()
	sum, merr := m.Summary()
	return sum, errors.Join(append(podErrs, merr)...)
}

// podEvent is a line from a pod's log, or why its log ended without its
// done line.
type podEvent struct {
	pod  string
	line Line
	err  error
}

// waitRunning waits until the Job's pods all run, by the barrier; a pod
// that failed, or any not running by then, is an error naming it.
func (g *Generator) waitRunning(ctx context.Context, s Spec) ([]string, error) {
	wctx, cancel := context.WithDeadline(ctx, s.StartAt)
	defer cancel()
	var running []string
	err := kube.Poll(wctx, 500*time.Millisecond, fmt.Sprintf("the %d pods of load job %s to run", s.Parallelism, s.Name), func(ctx context.Context) (bool, string, error) {
		list, err := g.Clients.Kube.CoreV1().Pods(s.Namespace).List(ctx, metav1.ListOptions{LabelSelector: s.Selector()})
		if err != nil {
			return false, "", err
		}
		running = running[:0]
		var waiting []string
		for _, p := range list.Items {
			switch p.Status.Phase {
			case corev1.PodRunning, corev1.PodSucceeded:
				running = append(running, p.Name)
			case corev1.PodFailed:
				return false, "", fmt.Errorf("load job %s: pod %s failed: %s", s.Name, p.Name, describePod(&p))
			default:
				waiting = append(waiting, fmt.Sprintf("%s (%s)", p.Name, describePod(&p)))
			}
		}
		sort.Strings(running)
		sort.Strings(waiting)
		if len(running) >= s.Parallelism {
			return true, "", nil
		}
		state := fmt.Sprintf("%d of %d pods running", len(running), s.Parallelism)
		if len(waiting) > 0 {
			state += "; not running: " + strings.Join(waiting, ", ")
		}
		if missing := s.Parallelism - len(list.Items); missing > 0 {
			state += fmt.Sprintf("; %d not created", missing)
		}
		return false, state, nil
	})
	if err != nil {
		if ctx.Err() == nil && wctx.Err() != nil {
			return nil, fmt.Errorf("load job %s: pods not running by the start barrier: %w", s.Name, err)
		}
		return nil, err
	}
	return running, nil
}

// podState says where a pod is: its phase and, for a container not
// running, the waiting or termination reason and message.
func describePod(p *corev1.Pod) string {
	st := string(p.Status.Phase)
	if p.Status.Reason != "" {
		st += " " + p.Status.Reason
	}
	for _, cs := range p.Status.ContainerStatuses {
		switch {
		case cs.State.Waiting != nil:
			st += fmt.Sprintf(", container %s waiting: %s %s", cs.Name, cs.State.Waiting.Reason, cs.State.Waiting.Message)
		case cs.State.Terminated != nil:
			t := cs.State.Terminated
			st += fmt.Sprintf(", container %s exited %d: %s %s", cs.Name, t.ExitCode, t.Reason, strings.TrimSpace(t.Message))
		}
	}
	if p.Status.Message != "" {
		st += ": " + p.Status.Message
	}
	return strings.TrimSpace(st)
}

// follow reads a pod's log (follow) and sends its lines until the done
// line. A stream that ends early is read again from the start (the merger
// drops the lines it has) while the pod runs; once the pod has ended, the
// missing done line is an error naming the pod and its last words.
func (g *Generator) follow(ctx context.Context, ns, pod string, events chan<- podEvent) {
	send := func(ev podEvent) bool {
		select {
		case events <- ev:
			return true
		case <-ctx.Done():
			return false
		}
	}
	var last string
	const maxAttempts = 30
	for attempt := 1; ; attempt++ {
		done, text, err := g.readLog(ctx, ns, pod, send)
		if text != "" {
			last = text
		}
		if done || ctx.Err() != nil {
			return
		}
		p, gerr := g.Clients.Kube.CoreV1().Pods(ns).Get(ctx, pod, metav1.GetOptions{})
		switch {
		case gerr != nil && apierrors.IsNotFound(gerr):
			send(podEvent{pod: pod, err: fmt.Errorf("pod %s: deleted before its done line", pod)})
			return
		case gerr == nil && (p.Status.Phase == corev1.PodFailed || p.Status.Phase == corev1.PodSucceeded):
			msg := fmt.Sprintf("pod %s ended without its done line: %s", pod, describePod(p))
			if last != "" {
				msg += "; its last log line: " + last
			}
			if err != nil {
				msg += fmt.Sprintf(" (reading its log: %v)", err)
			}
			send(podEvent{pod: pod, err: errors.New(msg)})
			return
		case attempt >= maxAttempts:
			send(podEvent{pod: pod, err: fmt.Errorf("pod %s: log stream ended %d times without its done line (last: %v)", pod, attempt, err)})
			return
		}
		g.Logger.Debug("load pod log ended early; reading it again", "pod", pod, "attempt", attempt, "err", err)
		t := time.NewTimer(time.Second)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// readLog reads one log stream of pod: done when its done line was sent;
// text is the last line that was not a Line (an error message).
func (g *Generator) readLog(ctx context.Context, ns, pod string, send func(podEvent) bool) (done bool, text string, err error) {
	rc, err := g.Clients.Kube.CoreV1().Pods(ns).GetLogs(pod, &corev1.PodLogOptions{Container: Container, Follow: true}).Stream(ctx)
	if err != nil {
		return false, "", err
	}
	defer rc.Close()
	sc := bufio.NewScanner(rc)
	sc.Buffer(make([]byte, 64*1024), 64*1024*1024)
	for sc.Scan() {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var l Line
		if b[0] != '{' || json.Unmarshal(b, &l) != nil || l.Seq == 0 {
			text = string(b)
			continue
		}
		if !send(podEvent{pod: pod, line: l}) {
			return false, text, ctx.Err()
		}
		if l.Type == LineDone {
			return true, text, nil
		}
	}
	return false, text, sc.Err()
}

// Teardown deletes the Job and its pods; with wait, it waits (within ctx)
// until the pods are gone.
func Teardown(ctx context.Context, c *kube.Clients, job *unstructured.Unstructured, wait bool) error {
	err := c.Delete(ctx, job)
	ns := job.GetNamespace()
	sel := LabelJob + "=" + job.GetName()
	if derr := c.Kube.CoreV1().Pods(ns).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{LabelSelector: sel}); derr != nil && !apierrors.IsNotFound(derr) {
		err = errors.Join(err, fmt.Errorf("delete load pods %s: %w", sel, derr))
	}
	if err != nil || !wait {
		return err
	}
	return kube.Poll(ctx, 500*time.Millisecond, "the load job's pods to go", func(ctx context.Context) (bool, string, error) {
		list, err := c.Kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: sel})
		if err != nil {
			return false, "", err
		}
		return len(list.Items) == 0, fmt.Sprintf("%d pods left", len(list.Items)), nil
	})
}
