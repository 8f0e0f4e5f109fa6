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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
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
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(ctx)
	o := &Observer{cancel: cancel}
	sk := newSink(cfg.Recorder)
	sk.keep = cfg.Objects
	apply, st := sk.apply, sk.st

	f := informers.NewSharedInformerFactoryWithOptions(cfg.Client, 0, informers.WithNamespace(cfg.Namespace))
	pf := informers.NewSharedInformerFactoryWithOptions(cfg.Client, 0, informers.WithNamespace(cfg.Namespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = cfg.PodSelector }))

	var synced []cache.InformerSynced
	add := func(inf cache.SharedIndexInformer, h cache.ResourceEventHandler) error {
		if _, err := inf.AddEventHandler(h); err != nil {
			return err
		}
		synced = append(synced, inf.HasSynced)
		return nil
	}
	errs := []error{
		add(f.Apps().V1().Deployments().Informer(), cache.ResourceEventHandlerFuncs{
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
		add(pf.Core().V1().Pods().Informer(), cache.ResourceEventHandlerFuncs{
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
			return nil, fmt.Errorf("observe: add handler: %w", err)
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
		return nil, fmt.Errorf("observe: informer caches in namespace %q did not sync within 60s", cfg.Namespace)
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
	return o, nil
}

// sink applies informer notifications to a State and records the events.
// Handlers of different informers run concurrently: the state update and the
// recording happen under one lock, so events are recorded — and stamped —
// in the order their notifications were applied, never one informer's
// older news after another's newer.
type sink struct {
	mu   sync.Mutex
	st   *State
	rec  *timeline.Recorder
	keep func(object string) bool // nil: every event
}

func newSink(rec *timeline.Recorder) *sink { return &sink{st: NewState(), rec: rec} }

func (s *sink) apply(f func() []timeline.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range f() {
		if s.keep == nil || s.keep(e.Object) {
			s.rec.Record(e)
		}
	}
}

// Stop ends the watches.
func (o *Observer) Stop() {
	o.cancel()
	o.wg.Wait()
}
