package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/scalebench/scalebench/analysis"
	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/lag"
	"github.com/scalebench/scalebench/observe"
	"github.com/scalebench/scalebench/results"
	"github.com/scalebench/scalebench/scenario"
	"github.com/scalebench/scalebench/timeline"
	"github.com/scalebench/scalebench/workloads"
)

// runApps runs the K apps of a multi-app scenario at once (scenario.AppCopies):
// each app is a whole run of its own (objects, observer, autoscaler, load,
// scale-down, analysis), and every app's load starts when every app is
// ready for it (or gave up), so the autoscalers react to K loads at once.
// The namespace (created here when missing) and the SpinAppExecutor are
// shared, and deleted once, after the last app.
func runApps(ctx context.Context, opts Options, s *scenario.Scenario) results.Scenario {
	k := s.AppCount()
	apps, err := scenario.AppCopies(s)
	if err != nil {
		return appsError(s, errorf(results.ErrorHarness, "%w", err))
	}
	shared := &run{opts: opts, s: s, rec: timeline.NewRecorder()}
	if shared.opts.Logger == nil {
		shared.opts.Logger = slog.New(slog.DiscardHandler)
	}
	if shared.c, err = newClients(opts.Cluster.RESTConfig()); err != nil {
		return appsError(s, err)
	}
	if err := shared.ensureNamespace(ctx, s.Spec.Namespace); err != nil {
		return appsError(s, err)
	}
	if opts.Progress != nil {
		fmt.Fprintf(opts.Progress, "  [%s] %d apps at once, load %s\n", s.Metadata.Name, k, s.Spec.Apps.Load)
	}
	defer shared.c.Close() // after the observer's Stop (deferred below)
	hub, err := shared.startObserver(ctx, apps)
	if err != nil {
		return appsError(s, err)
	}
	if hub != nil {
		defer hub.Stop() // after the last app's cleanup
	}
	failure := watchApps(ctx, opts.Cluster)
	defer failure.stopWatching()
	sampler := lag.Start(ctx, opts.Cluster, 0)
	if applied := opts.Applied; applied != nil {
		// The apps apply at once; the caller's hook need not be safe for
		// concurrent use.
		var mu sync.Mutex
		opts.Applied = func(objs []*unstructured.Unstructured) {
			mu.Lock()
			defer mu.Unlock()
			applied(objs)
		}
	}
	gate := newBarrier(k)
	res := make([]results.Scenario, k)
	var wg sync.WaitGroup
	var done sync.Mutex
	finished := 0
	for i, a := range apps {
		o := opts
		o.loadGate = gate
		o.inApps = true
		o.observer = hub
		o.failure = failure
		if i > 0 {
			// One app's progress stands for all (they do the same); each
			// app's end is reported below.
			o.Progress = nil
		}
		wg.Go(func() {
			res[i] = Run(ctx, o, a)
			if opts.Progress != nil {
				done.Lock()
				finished++
				fmt.Fprintf(opts.Progress, "  [%s] app %s: %s (%d/%d apps done)\n", s.Metadata.Name, a.Metadata.Name, verdictWord(res[i]), finished, k)
				done.Unlock()
			}
		})
	}
	wg.Wait()
	readings := sampler.Stop()
	var all []string
	for i, a := range apps {
		keys := scaledObjectKeys(a)
		all = append(all, keys...)
		// Each app's own ScaledObject; the HPA controller's queue is
		// cluster-wide, stated once for the scenario.
		l := readings.Summary(keys)
		l.HPAWorkqueueDepth, l.HPAWorkqueueAdds, l.HPAWorkqueueWaitMeanSeconds, l.HPAWorkqueueWaitP95BoundSeconds, l.HPAWorkqueueWorkMeanSeconds = nil, nil, nil, nil, nil
		l.Absent = onlyKEDAAbsent(l.Absent)
		res[i].AutoscalerLag = l
	}
	out := analysis.AnalyzeApps(s, res)
	out.AutoscalerLag = readings.Summary(all)
	if !opts.Keep {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), appsCleanupBound)
		defer cancel()
		if err := shared.cleanupShared(cctx, apps[0]); err != nil {
			shared.opts.Logger.Warn("cleanup", "scenario", s.Metadata.Name, "err", err)
		}
	}
	return out
}

// startObserver starts the one observer of the apps' shared namespace,
// whose pod watch selects every app's pods; nil (each app then watches on
// its own) when their pod selectors do not join into one.
func (r *run) startObserver(ctx context.Context, apps []*scenario.Scenario) (*observe.Shared, error) {
	sels := make([]string, 0, len(apps))
	for _, a := range apps {
		set, err := workloads.Render(a, workloads.Options{SQS: &workloads.SQSWiring{}})
		if err != nil {
			return nil, fmt.Errorf("scenario %s: %w", a.Metadata.Name, err)
		}
		sels = append(sels, set.PodSelector)
	}
	sel, ok := joinSelectors(sels)
	if !ok {
		r.opts.Logger.Info("each app watches on its own: their pod selectors do not join", "selectors", sels)
		return nil, nil
	}
	return observe.StartShared(ctx, observe.Config{
		Client: r.c.Kube, Dynamic: r.c.Dynamic, Namespace: r.s.Spec.Namespace, PodSelector: sel,
		CustomResources: customResources, Logger: r.opts.Logger,
	})
}

// joinSelectors joins label selectors of the form key=value (one key for
// all) into one that selects what any of them does: key in (values).
func joinSelectors(sels []string) (string, bool) {
	var key string
	values := sets.New[string]()
	for _, s := range sels {
		sel, err := labels.Parse(s)
		if err != nil {
			return "", false
		}
		reqs, _ := sel.Requirements()
		if len(reqs) != 1 {
			return "", false
		}
		q := reqs[0]
		if op := q.Operator(); op != selection.Equals && op != selection.DoubleEquals || q.Values().Len() != 1 || key != "" && q.Key() != key {
			return "", false
		}
		key = q.Key()
		values.Insert(q.Values().UnsortedList()...)
	}
	if key == "" {
		return "", false
	}
	q, err := labels.NewRequirement(key, selection.In, sets.List(values))
	if err != nil {
		return "", false
	}
	return labels.NewSelector().Add(*q).String(), true
}

// firstFailure is the first failure the apps' one watchdog subscription
// reported: err is set before done closes.
type firstFailure struct {
	done chan struct{}
	err  error
	stop context.CancelFunc // ends the subscription
}

// watchApps subscribes to the cluster's watchdog once for all the apps; nil
// when the cluster has none (stop is then a no-op).
func watchApps(ctx context.Context, c clusters.Cluster) *firstFailure {
	wd, ok := c.(clusters.Watchdog)
	if !ok {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	f := &firstFailure{done: make(chan struct{}), stop: cancel}
	failures := wd.Failures(ctx)
	go func() {
		select {
		case e, ok := <-failures:
			if ok && e != nil {
				f.err = e
				close(f.done)
			}
		case <-ctx.Done():
		}
	}()
	return f
}

func (f *firstFailure) stopWatching() {
	if f != nil {
		f.stop()
	}
}

// appsCleanupBound bounds deleting what the apps share.
const appsCleanupBound = time.Minute

// cleanupShared deletes what the apps of a multi-app scenario share (the
// executor; each app deleted its own objects), and the namespace when the
// run created it.
func (r *run) cleanupShared(ctx context.Context, app *scenario.Scenario) error {
	set, err := workloads.Render(app, workloads.Options{SQS: &workloads.SQSWiring{}})
	if err != nil {
		return err
	}
	var executors []*unstructured.Unstructured
	for _, o := range set.Workload {
		if o.GetKind() == "SpinAppExecutor" {
			executors = append(executors, o)
		}
	}
	err = r.c.Delete(ctx, executors...)
	if r.ownNamespace {
		ns := r.s.Spec.Namespace
		if derr := r.c.Kube.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); derr != nil && !apierrors.IsNotFound(derr) {
			err = errors.Join(err, fmt.Errorf("namespace %s: %w", ns, derr))
		}
	}
	return err
}

// appsError is the result of a multi-app scenario whose apps could not
// start.
func appsError(s *scenario.Scenario, err error) results.Scenario {
	out := analysis.AnalyzeApps(s, nil)
	out.Error = err.Error()
	out.ErrorKind = KindOf(err)
	out.Passed = false
	return out
}

func verdictWord(r results.Scenario) string {
	switch {
	case r.Error != "":
		return "ERROR"
	case r.Passed:
		return "PASS"
	}
	return "FAIL"
}

// barrier lets n parties start together: each arrives (and waits for the
// others) or leaves (it will not come: it failed before); the last to
// arrive or leave opens it.
type barrier struct {
	mu      sync.Mutex
	pending int
	open    chan struct{}
}

func newBarrier(n int) *barrier { return &barrier{pending: n, open: make(chan struct{})} }

func (b *barrier) count() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.pending == 0 {
		return
	}
	b.pending--
	if b.pending == 0 {
		close(b.open)
	}
}

// arrive counts the caller and waits until every party arrived or left.
func (b *barrier) arrive(ctx context.Context) error {
	b.count()
	select {
	case <-b.open:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// leave counts a party that will not arrive.
func (b *barrier) leave() { b.count() }

// scaledObjectKeys are s's ScaledObjects as lag readings name them.
func scaledObjectKeys(s *scenario.Scenario) []string {
	if so := s.ScaledObjectName(); so != "" {
		return []string{s.Spec.Namespace + "/" + so}
	}
	return nil
}

// onlyKEDAAbsent keeps the reason KEDA's latency is absent, and says where
// the HPA controller's queue figures are.
func onlyKEDAAbsent(m map[string]string) map[string]string {
	out := map[string]string{"hpaWorkqueue": "cluster-wide: in the scenario's autoscalerLag, not per app"}
	if why, ok := m["kedaScaleLoopLatencySeconds"]; ok {
		out["kedaScaleLoopLatencySeconds"] = why
	}
	return out
}

// ownObjects, for an app of a multi-app scenario, accepts the timeline
// names of the app's own objects (its workload and what is named after it:
// ReplicaSets, pods, Service, Ingress; its HPA and ScaledObject) and of
// Events about them, so its timeline holds its own news and not its
// neighbours' (K apps would otherwise each record all K). nil (everything)
// for a scenario run alone.
func (r *run) ownObjects() func(object string) bool {
	if !r.opts.inApps {
		return nil
	}
	w := r.s.Spec.Workload.Name
	own := map[string]bool{w: true, r.s.HPAName(): true}
	if so := r.s.ScaledObjectName(); so != "" {
		own[so] = true
	}
	return func(object string) bool {
		if object == "" {
			return true // not about an object (markers, load)
		}
		name := object[strings.LastIndexByte(object, '/')+1:]
		// The app suffixes have one width, so "hello-01-" is never a
		// prefix of another app's names.
		return own[name] || strings.HasPrefix(name, w+"-")
	}
}
