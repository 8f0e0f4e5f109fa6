// Package runner runs one scenario on a cluster: it applies the scenario's
// objects, watches everything that moves, generates the load, waits for the
// scale-down, and analyses the timeline. A failed run still returns its
// partial timeline and the reason it failed.
package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/scalebench/scalebench/analysis"
	"github.com/scalebench/scalebench/budget"
	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/kube"
	"github.com/scalebench/scalebench/lag"
	"github.com/scalebench/scalebench/load"
	"github.com/scalebench/scalebench/observe"
	"github.com/scalebench/scalebench/results"
	"github.com/scalebench/scalebench/scenario"
	"github.com/scalebench/scalebench/timeline"
	"github.com/scalebench/scalebench/workloads"
)

// DefaultIngressURL is the docs' k3d load balancer port map (8081:80).
const DefaultIngressURL = "http://localhost:8081"

// Options configure a scenario run.
type Options struct {
	Cluster clusters.Cluster
	RunID   string
	Logger  *slog.Logger
	// Progress receives human progress lines; nil is quiet.
	Progress io.Writer
	// IngressURL overrides where HTTP load is sent (default: the cluster's
	// ingress, or DefaultIngressURL).
	IngressURL string
	// Keep leaves the scenario's objects in the cluster afterwards.
	Keep bool
	// Generator overrides the scenario's HTTP load generator (tests).
	Generator load.Generator
	// ReadyTimeout bounds waiting for the workload and the autoscaler
	// (default 3 minutes).
	ReadyTimeout time.Duration
	// DrainTimeout bounds waiting for the SQS queue to drain after the last
	// message was sent (default 5 minutes).
	DrainTimeout time.Duration
	// ScaleDownGrace is added to the scale-down budget before giving up
	// waiting for it (default 30 s).
	ScaleDownGrace time.Duration
	// Applied, when set, receives every object the run applies (before
	// the API server answers), for the diagnostics' manifests.
	Applied func(objs []*unstructured.Unstructured)

	// loadGate, for an app of a multi-app scenario, holds its load until
	// every app is ready for its own (runApps).
	loadGate *barrier
	// inApps: the run is one app of a multi-app scenario. The apps share
	// the SpinAppExecutor, which runApps deletes after the last app, and
	// runApps samples the autoscalers' lag for all of them.
	inApps bool
	// observer, for an app of a multi-app scenario, watches the shared
	// namespace for every app (runApps): the app subscribes to its own
	// objects' news and reads its Deployment from its cache. nil: the run
	// watches on its own.
	observer *observe.Shared
	// failure, for an app of a multi-app scenario, is the apps' one
	// watchdog subscription's first report (runApps); nil: the run
	// subscribes on its own.
	failure *firstFailure
}

// Run runs s once and returns its result. It never panics on cluster
// trouble: errors become the result's Error, with the partial timeline.
func Run(ctx context.Context, opts Options, s *scenario.Scenario) results.Scenario {
	if s.Spec.Apps != nil {
		// Apps asked for, even one: the report has the apps' shape, so
		// a sweep over K (bench-scale) compares like with like.
		return runApps(ctx, opts, s)
	}
	r := &run{opts: opts, s: s, rec: timeline.NewRecorder()}
	if r.opts.Logger == nil {
		r.opts.Logger = slog.New(slog.DiscardHandler)
	}
	if r.opts.ReadyTimeout == 0 {
		r.opts.ReadyTimeout = 3 * time.Minute
	}
	if r.opts.ScaleDownGrace == 0 {
		r.opts.ScaleDownGrace = 30 * time.Second
	}
	// Expectations the scenario leaves out come from its budget; the
	// report lists them as derived. A scenario the model cannot evaluate
	// keeps what it has (the report says why it has no budget).
	bc := BudgetCluster(opts.Cluster)
	if derived, err := budget.DeriveCluster(s, bc); err != nil {
		r.opts.Logger.Warn("no expectations derived", "scenario", s.Metadata.Name, "err", err)
	} else {
		for _, d := range derived {
			r.progressf("expectation %s", d)
		}
	}
	var sampler *lag.Sampler
	if !opts.inApps {
		sampler = lag.Start(ctx, opts.Cluster, 0)
	}
	err := r.executeSafely(ctx)
	if err != nil && ctx.Err() != nil && KindOf(err) == results.ErrorHarness {
		// Whatever broke, it broke because the caller stopped the run.
		err = &Error{Kind: results.ErrorInterrupted, Err: err}
	}
	res := analysis.Analyze(analysis.Input{Scenario: s, Events: r.rec.Events(), Load: r.loadTotals, Messages: r.messages, Profile: r.profile, Cluster: &bc})
	if sampler != nil {
		res.AutoscalerLag = sampler.Stop().Summary(scaledObjectKeys(s))
	}
	if err != nil {
		res.Error = err.Error()
		res.ErrorKind = KindOf(err)
		res.Passed = false
	}
	return res
}

// BudgetCluster is the budget model's cluster knobs for c: the HPA
// settings it reports (clusters.HPAKnobReporter), Kubernetes' defaults for
// the rest and for clusters that do not say.
func BudgetCluster(c clusters.Cluster) budget.Cluster {
	bc := budget.DefaultCluster()
	if k, ok := c.(clusters.HPAKnobReporter); ok {
		h := k.HPAKnobs()
		if h.SyncPeriod > 0 {
			bc.SyncPeriod = h.SyncPeriod
		}
		if h.DownscaleStabilization > 0 {
			bc.DownscaleStabilization = h.DownscaleStabilization
		}
		if h.Tolerance > 0 {
			bc.Tolerance = h.Tolerance
		}
	}
	return bc
}

// executeSafely turns a panic in the harness into the scenario's error, so
// the caller's teardown still runs and the partial report is written.
func (r *run) executeSafely(ctx context.Context) (err error) {
	defer func() {
		if p := recover(); p != nil {
			r.opts.Logger.Error("scenario panicked", "scenario", r.s.Metadata.Name, "panic", p, "stack", string(debug.Stack()))
			err = fmt.Errorf("internal error (a scalebench bug, please report it): panic: %v", p)
		}
	}()
	return r.execute(ctx)
}

type run struct {
	opts      Options
	s         *scenario.Scenario
	rec       *timeline.Recorder
	c         *kube.Clients
	set       *workloads.Set
	sqsWiring *workloads.SQSWiring
	// ownNamespace: the run created the scenario's namespace (it did not
	// exist), so its cleanup deletes it.
	ownNamespace bool
	sqs          *sqsRun
	loadTotals   *analysis.LoadTotals
	messages     *analysis.MessageTotals
	// profile is the load's arrival profile as scheduled and sent.
	profile []results.ProfileStep
	// arriveAtGate, for an app of a multi-app scenario, waits until every
	// app is ready for its load.
	arriveAtGate func(context.Context) error
}

func (r *run) progressf(format string, args ...any) {
	if r.opts.Progress != nil {
		fmt.Fprintf(r.opts.Progress, "  [%s %6.1fs] %s\n", r.s.Metadata.Name, time.Since(r.rec.Start()).Seconds(), fmt.Sprintf(format, args...))
	}
}

func (r *run) execute(ctx context.Context) (err error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if g := r.opts.loadGate; g != nil {
		// An app that gives up before its load does not hold the others.
		arrived := false
		r.arriveAtGate = func(ctx context.Context) error {
			arrived = true
			r.progressf("waiting for every app to be ready for its load")
			return g.arrive(ctx)
		}
		defer func() {
			if !arrived {
				g.leave()
			}
		}()
	}
	wd, watched := r.opts.Cluster.(clusters.Watchdog)
	if watched {
		// The subscription and this goroutine end with the run (cancel).
		// The apps of a multi-app scenario share one subscription (runApps):
		// the watchdog polls the control plane's processes for each.
		var failures <-chan error
		var shared <-chan struct{}
		if f := r.opts.failure; f != nil {
			shared = f.done
		} else {
			failures = wd.Failures(ctx)
		}
		go func() {
			var e error
			select {
			case e = <-failures:
			case <-shared:
				e = r.opts.failure.err
			case <-ctx.Done():
				return
			}
			r.rec.Mark(timeline.MarkerFault, e.Error())
			cancel(errorf(results.ErrorPlatform, "platform component failed: %w", e))
		}()
	}
	defer func() {
		// A component's death shows in the clients' errors (connection
		// refused) a moment before the watchdog reports it: give the
		// watchdog that moment, so the verdict names the component.
		if watched && err != nil && KindOf(err) == results.ErrorHarness && ctx.Err() == nil {
			t := time.NewTimer(watchdogGrace)
			select {
			case <-ctx.Done():
			case <-t.C:
			}
			t.Stop()
		}
		// A component failure is the reason whatever was waiting gave up:
		// lead with it, and keep its kind.
		var pe *Error
		if cause := context.Cause(ctx); err != nil && errors.As(cause, &pe) && !errors.Is(err, cause) {
			err = &Error{Kind: pe.Kind, Err: fmt.Errorf("%w (%v)", pe.Err, err)}
		}
	}()

	if hc, ok := r.opts.Cluster.(clusters.HealthChecker); ok {
		if err := hc.CheckComponents(); err != nil {
			return errorf(results.ErrorPlatform, "platform not healthy before the run: %w", err)
		}
	}
	r.c, err = newClients(r.opts.Cluster.RESTConfig(), func(msg string) {
		r.rec.Mark(timeline.MarkerAPIWarning, msg)
		r.progressf("API warning: %s", msg)
	})
	if err != nil {
		return err
	}
	// Deferred first, so it runs last: after the cleanup and the observer's Stop, no request or watch is open.
	defer r.c.Close()
	if r.s.Spec.Autoscaler.Type == scenario.KEDASQS {
		defer r.closeSQS() // after the cleanup, before the API clients close
		if err := r.prepareSQS(ctx); err != nil {
			return err
		}
	}
	r.set, err = workloads.Render(r.s, workloads.Options{SQS: r.sqsWiring})
	if err != nil {
		return fmt.Errorf("scenario %s: %w", r.s.Metadata.Name, err)
	}
	ns := r.s.Spec.Namespace
	if err := r.ensureNamespace(ctx, ns); err != nil {
		return err
	}
	if !r.opts.Keep {
		// Registered before the observer's Stop, so it runs after it: the
		// cleanup is not part of the scenario's timeline.
		defer func() {
			// Interrupted, the user waits for the exit: delete the objects
			// without waiting for their pods to go (the next scenario will
			// not run), within a shorter bound.
			interrupted := ctx.Err() != nil && KindOf(context.Cause(ctx)) == results.ErrorInterrupted
			bound := time.Minute
			if interrupted {
				bound = 10 * time.Second
			}
			cctx, ccancel := context.WithTimeout(context.WithoutCancel(ctx), bound)
			defer ccancel()
			if derr := r.cleanup(cctx, !interrupted); derr != nil {
				r.opts.Logger.Warn("cleanup", "scenario", r.s.Metadata.Name, "err", derr)
			}
		}()
	}
	if r.opts.observer != nil {
		defer r.opts.observer.Subscribe(r.rec, r.ownObjects())()
	} else {
		obs, err := observe.Start(ctx, observe.Config{
			Client: r.c.Kube, Dynamic: r.c.Dynamic, Namespace: ns, PodSelector: r.set.PodSelector,
			CustomResources: customResources,
			Recorder:        r.rec, Logger: r.opts.Logger, Objects: r.ownObjects(),
		})
		if err != nil {
			return err
		}
		defer obs.Stop()
	}

	r.progressf("applying %s %s", r.s.Spec.Workload.Kind, r.s.Spec.Workload.Name)
	r.applied(r.set.Workload)
	if err := r.c.Apply(ctx, r.opts.RunID, r.set.Workload...); err != nil {
		if KindOf(err) == results.ErrorRejected {
			return errorf(results.ErrorRejected, "workload rejected: %w", err)
		}
		return err
	}
	min := *r.s.Spec.Autoscaler.MinReplicas
	// One Ready pod before the autoscaler: a SpinApp with
	// enableAutoscaling starts at one replica, and its autoscaler brings it
	// to minReplicas (waited for below).
	if err := r.waitDeployment(ctx, "workload ready", r.opts.ReadyTimeout, func(d *appsv1.Deployment) bool {
		return d.Status.ReadyReplicas >= 1 || (min == 0 && d.Status.ObservedGeneration >= d.Generation)
	}); err != nil {
		return err
	}
	r.progressf("applying autoscaler %s", r.set.Autoscaler[len(r.set.Autoscaler)-1].GetKind())
	r.applied(r.set.Autoscaler)
	if err := r.c.Apply(ctx, r.opts.RunID, r.set.Autoscaler...); err != nil {
		if KindOf(err) == results.ErrorRejected {
			return errorf(results.ErrorRejected, "autoscaler rejected: %w", err)
		}
		return fmt.Errorf("apply autoscaler: %w", err)
	}
	if err := r.waitAutoscaler(ctx); err != nil {
		return err
	}
	if min > 1 {
		if err := r.waitDeployment(ctx, fmt.Sprintf("minReplicas (%d) Ready", min), r.opts.ReadyTimeout, func(d *appsv1.Deployment) bool {
			return d.Status.ReadyReplicas >= min && d.Status.Replicas == d.Status.ReadyReplicas
		}); err != nil {
			return err
		}
	}
	if r.arriveAtGate != nil {
		if err := r.arriveAtGate(ctx); err != nil {
			return err
		}
	}
	if d := r.s.Spec.Load.Delay.Duration; d > 0 {
		if err := sleep(ctx, d); err != nil {
			return err
		}
	}
	if r.s.Spec.Autoscaler.Type == scenario.KEDAHTTP {
		if err := r.coldStarts(ctx, max(r.s.Spec.Load.HTTP.ColdStarts, 1)); err != nil {
			return err
		}
		// The load starts at zero too: its first seconds show what users
		// see while the app scales from zero under load.
		if err := r.waitZero(ctx, time.Duration(*r.s.Spec.Autoscaler.ScaledownPeriod)*time.Second+2*time.Minute); err != nil {
			return err
		}
	}
	switch r.s.Spec.Load.Type {
	case scenario.LoadHTTP:
		if err := r.httpLoad(ctx); err != nil {
			return err
		}
	case scenario.LoadCPU:
		stop, err := r.cpuLoad(ctx)
		defer stop()
		if err != nil {
			return err
		}
	case scenario.LoadSQS:
		defer func() {
			if ferr := r.finishSQS(ctx); ferr != nil && err == nil {
				err = ferr
			}
		}()
		if err := r.sqsLoad(ctx); err != nil {
			return err
		}
	default:
		return fmt.Errorf("load type %q: not implemented yet", r.s.Spec.Load.Type)
	}
	return r.waitScaleDown(ctx)
}

func (r *run) applied(objs []*unstructured.Unstructured) {
	if r.opts.Applied == nil {
		return
	}
	cp := make([]*unstructured.Unstructured, len(objs))
	for i, o := range objs {
		cp[i] = o.DeepCopy()
	}
	r.opts.Applied(cp)
}

func (r *run) ensureNamespace(ctx context.Context, ns string) error {
	_, err := r.c.Kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, err = r.c.Kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
			Name: ns, Labels: map[string]string{kube.LabelRunID: r.opts.RunID, kube.LabelManagedBy: kube.ManagedBy},
		}}, metav1.CreateOptions{})
		r.ownNamespace = err == nil
	}
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("namespace %s: %w", ns, err)
	}
	return nil
}

// waitDeployment polls the workload's Deployment until ok, within timeout;
// on timeout it returns the last observed state.
func (r *run) waitDeployment(ctx context.Context, what string, timeout time.Duration, ok func(*appsv1.Deployment) bool) error {
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, errorf(results.ErrorTimeout, "not within %s", timeout))
	defer cancel()
	name := r.set.DeploymentName
	return kube.Poll(ctx, 500*time.Millisecond, what, func(ctx context.Context) (bool, string, error) {
		d, err := r.deployment(ctx, name)
		switch {
		case ctx.Err() != nil:
			return false, "", nil // keep the last state seen before the end
		case apierrors.IsNotFound(err):
			return false, "Deployment " + name + ": not created yet", nil
		case err != nil:
			return false, "Deployment " + name + ": " + err.Error(), nil // transient: keep polling
		}
		return d.Status.ObservedGeneration >= d.Generation && ok(d), fmt.Sprintf("Deployment %s: spec %d, ready %d, updated %d, observed generation %d/%d",
			name, deref(d.Spec.Replicas), d.Status.ReadyReplicas, d.Status.UpdatedReplicas, d.Status.ObservedGeneration, d.Generation), nil
	})
}

// customResources are the custom resources an observer watches (when
// their CRDs exist).
var customResources = []schema.GroupVersionResource{kube.ScaledObjects, kube.HTTPScaledObjects, kube.InterceptorRoutes}

// deployment gets the run's Deployment name: from the shared observer's
// cache in a multi-app scenario (K apps polling the API server twice a
// second each would cost it 2K requests a second), else from the API
// server.
func (r *run) deployment(ctx context.Context, name string) (*appsv1.Deployment, error) {
	if r.opts.observer == nil {
		return r.c.Kube.AppsV1().Deployments(r.s.Spec.Namespace).Get(ctx, name, metav1.GetOptions{})
	}
	d, err := r.opts.observer.Deployment(name)
	if d == nil && err == nil {
		err = apierrors.NewNotFound(appsv1.Resource("deployments"), name)
	}
	return d, err
}

// podsLeft counts the run's pods still there.
func (r *run) podsLeft(ctx context.Context) (int, error) {
	if r.opts.observer == nil {
		pods, err := r.c.Kube.CoreV1().Pods(r.s.Spec.Namespace).List(ctx, metav1.ListOptions{LabelSelector: r.set.PodSelector})
		if err != nil {
			return 0, err
		}
		return len(pods.Items), nil
	}
	sel, err := labels.Parse(r.set.PodSelector)
	if err != nil {
		return 0, fmt.Errorf("pod selector %q: %w", r.set.PodSelector, err)
	}
	pods, err := r.opts.observer.Pods(sel)
	return len(pods), err
}

// waitAutoscaler waits until the HPA that will scale the workload can read
// its metric (ScalingActive), so the load start measures reaction, not the
// autoscaler's creation. KEDA's HTTP and SQS objects at zero replicas report
// ScalingActive false on purpose; for them the HPA existing is enough.
func (r *run) waitAutoscaler(ctx context.Context) error {
	ctx, cancel := context.WithTimeoutCause(ctx, r.opts.ReadyTimeout, errorf(results.ErrorTimeout, "not within %s", r.opts.ReadyTimeout))
	defer cancel()
	needActive := *r.s.Spec.Autoscaler.MinReplicas > 0
	name := r.set.AutoscalerHPA
	r.progressf("waiting for HPA %s to read its metric", name)
	return kube.Poll(ctx, time.Second, "HPA "+name+" to read its metric", func(ctx context.Context) (bool, string, error) {
		h, err := r.c.Kube.AutoscalingV2().HorizontalPodAutoscalers(r.s.Spec.Namespace).Get(ctx, name, metav1.GetOptions{})
		switch {
		case ctx.Err() != nil:
			return false, "", nil
		case apierrors.IsNotFound(err):
			return false, "not created yet", nil
		case err != nil:
			return false, err.Error(), nil
		case !needActive:
			return true, "", nil
		}
		for _, c := range h.Status.Conditions {
			if c.Type == autoscalingv2.ScalingActive {
				return c.Status == corev1.ConditionTrue, fmt.Sprintf("ScalingActive=%s %s: %s", c.Status, c.Reason, c.Message), nil
			}
		}
		return false, "no conditions yet", nil
	})
}

func (r *run) ingressURL() string {
	if r.opts.IngressURL != "" {
		return r.opts.IngressURL
	}
	if in, ok := r.opts.Cluster.(clusters.HTTPIngress); ok {
		return in.IngressURL()
	}
	return DefaultIngressURL
}

// waitScaleDown waits until the workload is back at the expected replicas
// (and stays there for a few seconds), or the budget plus grace passes. Not
// reaching it is not a harness error: the check reports it.
func (r *run) waitScaleDown(ctx context.Context) error {
	e := r.s.Spec.Expectations.ScaleDown
	if e == nil {
		return nil
	}
	target := *e.Replicas
	r.progressf("waiting up to %s for the scale-down to %d", e.Within.Duration+r.opts.ScaleDownGrace, target)
	err := r.waitDeployment(ctx, "scale-down", e.Within.Duration+r.opts.ScaleDownGrace, func(d *appsv1.Deployment) bool {
		return deref(d.Spec.Replicas) == target && d.Status.ReadyReplicas <= target && d.Status.Replicas <= target
	})
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		r.progressf("no scale-down: %v", err)
		return nil
	}
	// Stays at the target for a moment: a flap right after would show.
	if err := sleep(ctx, 5*time.Second); err != nil {
		return err
	}
	r.progressf("scaled down to %d", target)
	return nil
}

// cleanup deletes the scenario's objects, and its namespace when the run
// created it (on a cluster the run did not create, nothing it made stays);
// with wait, it waits for the app's pods and Deployment to go before
// deleting the executors. The namespace's deletion is not waited for.
func (r *run) cleanup(ctx context.Context, wait bool) error {
	err := r.deleteObjects(ctx, wait)
	if r.ownNamespace {
		ns := r.s.Spec.Namespace
		if derr := r.c.Kube.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); derr != nil && !apierrors.IsNotFound(derr) {
			err = errors.Join(err, fmt.Errorf("namespace %s: %w", ns, derr))
		}
	}
	return err
}

func (r *run) deleteObjects(ctx context.Context, wait bool) error {
	// The executor goes last: spin-operator refuses to delete it while a
	// SpinApp still uses it.
	var executors, rest []*unstructured.Unstructured
	for _, o := range append(append(r.set.Workload[:0:0], r.set.Workload...), r.set.Autoscaler...) {
		if o.GetKind() == "SpinAppExecutor" {
			executors = append(executors, o)
		} else {
			rest = append(rest, o)
		}
	}
	if err := r.c.Delete(ctx, rest...); err != nil {
		return err
	}
	if r.opts.inApps {
		executors = nil // deleted after the last app (runApps)
	}
	if !wait {
		return r.c.Delete(ctx, executors...)
	}
	// Wait for the app and its pods to go, so the next scenario starts from
	// a clean slate.
	err := kube.Poll(ctx, time.Second, "the scenario's pods and Deployment to go", func(ctx context.Context) (bool, string, error) {
		pods, err := r.podsLeft(ctx)
		if err != nil {
			return false, "", err
		}
		_, derr := r.deployment(ctx, r.set.DeploymentName)
		gone := apierrors.IsNotFound(derr)
		return pods == 0 && gone, fmt.Sprintf("%d pods left, Deployment deleted: %v", pods, gone), nil
	})
	if err != nil {
		return err
	}
	return r.c.Delete(ctx, executors...)
}

// watchdogGrace is how long a harness error waits for the cluster's
// watchdog to name a component that died (it polls some every second).
const watchdogGrace = 3 * time.Second

// newClients builds the clients of a cluster; tests replace it with fakes.
var newClients = kube.NewClients

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}

func deref(p *int32) int32 {
	if p == nil {
		return 1
	}
	return *p
}
