package observe

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/scalebench/scalebench/timeline"
)

// Config says what to watch.
type Config struct {
	Client    kubernetes.Interface
	Dynamic   dynamic.Interface
	Namespace string
	// PodSelector selects the workload's pods (label selector string).
	PodSelector string
	// CustomResources are watched for condition changes, when their CRDs exist
	// (kube.ScaledObjects, kube.HTTPScaledObjects, kube.InterceptorRoutes, ...).
	CustomResources []schema.GroupVersionResource
	Recorder        *timeline.Recorder
	Logger          *slog.Logger
	// Objects, when set, keeps only the events about the objects it
	// accepts (by their timeline name, "Kind/namespace/name"); the others
	// still update the state. An app of a multi-app scenario keeps its own
	// objects' news, not its neighbours' in the namespace.
	Objects func(object string) bool
}

// Observer feeds the recorder until stopped.
type Observer struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Start begins watching and returns once the informers' caches have synced.
// Objects that existed before Start are recorded as their first state;
// Kubernetes Events that existed before are not.
func Start(ctx context.Context, cfg Config) (*Observer, error) {
	sk := newSink()
	sk.subscribe(cfg.Recorder, cfg.Objects)
	o, _, err := start(ctx, cfg, sk)
	return o, err
}

// Shared watches one namespace for several runs at once (the apps of a
// multi-app scenario): one set of informers and one State, each
// notification applied once and its events recorded by every subscriber
// whose filter accepts them. K apps each watching the namespace would
// receive, decode and filter every app's news: K² deliveries where K do.
// Its Deployment cache answers the runs' replica waits without a request
// to the API server.
type Shared struct {
	*Observer
	sink      *sink
	listers   listers
	namespace string
}

// listers read the informers' caches.
type listers struct {
	deployments appslisters.DeploymentLister
	pods        corelisters.PodLister
}

// StartShared begins watching for subscribers and returns once the
// informers' caches have synced. cfg.Recorder and cfg.Objects are not used:
// each subscriber brings its own. cfg.PodSelector must select every
// subscriber's pods. A subscriber records the news from its subscription on,
// not the state of objects that existed before.
func StartShared(ctx context.Context, cfg Config) (*Shared, error) {
	sk := newSink()
	o, ls, err := start(ctx, cfg, sk)
	if err != nil {
		return nil, err
	}
	return &Shared{Observer: o, sink: sk, listers: ls, namespace: cfg.Namespace}, nil
}

// Subscribe records the events keep accepts (by their timeline name; nil:
// all) in rec until the returned function is called.
func (s *Shared) Subscribe(rec *timeline.Recorder, keep func(object string) bool) (unsubscribe func()) {
	return s.sink.subscribe(rec, keep)
}

// Deployment is the watched namespace's Deployment name as last seen by
// the watch (nil, nil when there is none).
func (s *Shared) Deployment(name string) (*appsv1.Deployment, error) {
	d, err := s.listers.deployments.Deployments(s.namespace).Get(name)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	return d, err
}

// Pods are the watched pods that selector selects, as last seen by the
// watch.
func (s *Shared) Pods(selector labels.Selector) ([]*corev1.Pod, error) {
	return s.listers.pods.Pods(s.namespace).List(selector)
}

func start(ctx context.Context, cfg Config, sk *sink) (*Observer, listers, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(ctx)
	o := &Observer{cancel: cancel}
	apply, st := sk.apply, sk.st

	f := informers.NewSharedInformerFactoryWithOptions(cfg.Client, 0, informers.WithNamespace(cfg.Namespace))
	pf := informers.NewSharedInformerFactoryWithOptions(cfg.Client, 0, informers.WithNamespace(cfg.Namespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = cfg.PodSelector }))
	deployments, pods := f.Apps().V1().Deployments(), pf.Core().V1().Pods()

	var synced []cache.InformerSynced
	add := func(inf cache.SharedIndexInformer, h cache.ResourceEventHandler) error {
		if _, err := inf.AddEventHandler(h); err != nil {
			return err
		}
		synced = append(synced, inf.HasSynced)
		return nil
	}
	errs := []error{
		add(deployments.Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc:    func(obj any) { apply(func() []timeline.Event { return st.Deployment(obj.(*appsv1.Deployment)) }) },
			UpdateFunc: func(_, obj any) { apply(func() []timeline.Event { return st.Deployment(obj.(*appsv1.Deployment)) }) },
		}),
		add(f.Autoscaling().V2().HorizontalPodAutoscalers().Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc: func(obj any) {
				apply(func() []timeline.Event { return st.HPA(obj.(*autoscalingv2.HorizontalPodAutoscaler)) })
			},
			UpdateFunc: func(_, obj any) {
				apply(func() []timeline.Event { return st.HPA(obj.(*autoscalingv2.HorizontalPodAutoscaler)) })
			},
		}),
		add(f.Core().V1().Events().Informer(), cache.ResourceEventHandlerDetailedFuncs{
			AddFunc: func(obj any, initial bool) {
				if !initial {
					apply(func() []timeline.Event { return st.Event(obj.(*corev1.Event)) })
				}
			},
			UpdateFunc: func(old, obj any) {
				// A repeated event (count bumped) is news too.
				if old.(*corev1.Event).Count != obj.(*corev1.Event).Count {
					apply(func() []timeline.Event { return st.Event(obj.(*corev1.Event)) })
				}
			},
		}),
		add(pods.Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc:    func(obj any) { apply(func() []timeline.Event { return st.Pod(obj.(*corev1.Pod)) }) },
			UpdateFunc: func(_, obj any) { apply(func() []timeline.Event { return st.Pod(obj.(*corev1.Pod)) }) },
			DeleteFunc: func(obj any) {
				if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
					obj = t.Obj
				}
				if p, ok := obj.(*corev1.Pod); ok {
					apply(func() []timeline.Event { return st.PodDeleted(p) })
				}
			},
		}),
	}
	var df dynamicinformer.DynamicSharedInformerFactory
	if cfg.Dynamic != nil && len(cfg.CustomResources) > 0 {
		df = dynamicinformer.NewFilteredDynamicSharedInformerFactory(cfg.Dynamic, 0, cfg.Namespace, nil)
		for _, gvr := range cfg.CustomResources {
			if _, err := cfg.Dynamic.Resource(gvr).Namespace(cfg.Namespace).List(ctx, metav1.ListOptions{Limit: 1}); err != nil {
				log.Debug("not watching custom resource", "resource", gvr.String(), "err", err)
				continue
			}
			h := func(obj any) {
				if u, ok := obj.(*unstructured.Unstructured); ok {
					apply(func() []timeline.Event { return st.CustomResource(u) })
				}
			}
			errs = append(errs, add(df.ForResource(gvr).Informer(), cache.ResourceEventHandlerFuncs{AddFunc: h, UpdateFunc: func(_, o any) { h(o) }}))
		}
	}
	for _, err := range errs {
		if err != nil {
			cancel()
			return nil, listers{}, fmt.Errorf("observe: add handler: %w", err)
		}
	}
	f.Start(ctx.Done())
	pf.Start(ctx.Done())
	if df != nil {
		df.Start(ctx.Done())
	}
	syncCtx, syncCancel := context.WithTimeout(ctx, 60*time.Second)
	defer syncCancel()
	if !cache.WaitForCacheSync(syncCtx.Done(), synced...) {
		cancel()
		return nil, listers{}, fmt.Errorf("observe: informer caches in namespace %q did not sync within 60s", cfg.Namespace)
	}
	o.wg.Add(1)
	go func() {
		defer o.wg.Done()
		<-ctx.Done()
		f.Shutdown()
		pf.Shutdown()
		if df != nil {
			df.Shutdown()
		}
	}()
	return o, listers{deployments: deployments.Lister(), pods: pods.Lister()}, nil
}

// sink applies informer notifications to a State and records the events
// for its subscribers. Handlers of different informers run concurrently:
// the state update and the recording happen under one lock, so events are
// recorded — and stamped — in the order their notifications were applied,
// never one informer's older news after another's newer.
type sink struct {
	mu   sync.Mutex
	st   *State
	subs map[*subscriber]struct{}
}

// subscriber records the events keep accepts (nil: every event) in rec.
type subscriber struct {
	rec  *timeline.Recorder
	keep func(object string) bool
}

func newSink() *sink { return &sink{st: NewState(), subs: map[*subscriber]struct{}{}} }

func (s *sink) subscribe(rec *timeline.Recorder, keep func(object string) bool) (unsubscribe func()) {
	sub := &subscriber{rec: rec, keep: keep}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.subs[sub] = struct{}{}
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.subs, sub)
	}
}

func (s *sink) apply(f func() []timeline.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range f() {
		for sub := range s.subs {
			if sub.keep == nil || sub.keep(e.Object) {
				sub.rec.Record(e)
			}
		}
	}
}

// Stop ends the watches.
func (o *Observer) Stop() {
	o.cancel()
	o.wg.Wait()
}
