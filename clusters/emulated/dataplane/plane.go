package dataplane

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"net"
	"net/http"
	"sort"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
)

// Defaults.
const (
	DefaultIngressAddr = "127.0.0.1:8081"
	// DefaultUsageInterval is how often usage is sampled: a busy pod's
	// CPU-seconds counter is at most this stale when metrics-server scrapes.
	DefaultUsageInterval = time.Second
	// DefaultUsageWindow is the span the usage-rate annotation averages.
	DefaultUsageWindow = 5 * time.Second
	// DefaultUsageWritesPerSecond caps the pod usage writes per second, so
	// that the API server (and every pod watch: the controllers', kwok's,
	// the observer's) gets O(1) writes per second, not O(replicas): below
	// it every busy pod's counter is written every UsageInterval; above it
	// the pods take turns, the least recently written first.
	DefaultUsageWritesPerSecond = 200
)

// Config configures a data plane.
type Config struct {
	// RESTConfig reaches the cluster's API server. Required.
	RESTConfig *rest.Config
	// IngressAddr is where the ingress listens; default DefaultIngressAddr
	// (the docs' k3d load balancer port). "127.0.0.1:0" picks a free port.
	IngressAddr string
	// Logger receives structured logs; nil discards them.
	Logger *slog.Logger
	// UsageInterval is how often CPU usage is sampled and, when changed,
	// written (the CPU-seconds counter of a busy pod every interval); default
	// DefaultUsageInterval.
	UsageInterval time.Duration
	// UsageWindow is the span the usage-rate annotation (kwok's
	// usage-from-annotation, node metrics) averages; default
	// DefaultUsageWindow.
	UsageWindow time.Duration
	// UsageWritesPerSecond caps the usage annotation writes per second
	// (DefaultUsageWritesPerSecond when 0; negative: no cap).
	UsageWritesPerSecond int
	// NodeCPUMilli is the CPU capacity of every node in millicores: the pods
	// of one node share it (weighted by their CPU requests, each capped at
	// its limit). 0: unlimited, every pod gets up to its limit.
	NodeCPUMilli int64
	// Models adds or replaces models by name (DefaultModels are built in);
	// the sqs-transformer model is registered here.
	Models map[string]NewModelFunc
	// ProxyAddr, when set, is where the service-network proxy listens
	// ("127.0.0.1:0" picks a free port): an HTTP forward proxy (plain
	// requests and CONNECT) for component processes started with
	// HTTP_PROXY/HTTPS_PROXY = ProxyURL() and NO_PROXY=127.0.0.1,localhost,0.0.0.0.
	// It resolves "<svc>.<ns>[.svc[.cluster.local]]:<port>", endpoint IPs,
	// and the HTTP add-on's hosts to emulated instances or mapped endpoints.
	ProxyAddr string
}

// Plane is a running data plane: emulated app instances for ready pods, their
// CPU usage annotations, and the ingress.
type Plane struct {
	log       *slog.Logger
	instances *instances
	routes    *routes
	dispatch  *dispatcher
	ln        net.Listener
	srv       *http.Server
	proxyLn   net.Listener // nil without Config.ProxyAddr
	proxySrv  *http.Server

	cancel   context.CancelFunc
	wg       sync.WaitGroup
	stopOnce sync.Once
	stopErr  error
}

// Start watches the cluster, waits until its caches are in sync and starts
// the ingress. ctx bounds the start-up only; the plane runs until Stop.
func Start(ctx context.Context, cfg Config) (*Plane, error) {
	if cfg.RESTConfig == nil {
		return nil, errors.New("dataplane: Config.RESTConfig is required")
	}
	rc := rest.CopyConfig(cfg.RESTConfig)
	// Usage writes are capped at Config.UsageWritesPerSecond (default 200);
	// the client's limit leaves room above that for the env lookups.
	rc.QPS, rc.Burst = 300, 600
	if rc.UserAgent == "" {
		rc.UserAgent = "scalebench-dataplane"
	}
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("dataplane: client for %s: %w", rc.Host, err)
	}
	dyn, err := dynamic.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("dataplane: dynamic client for %s: %w", rc.Host, err)
	}
	return start(ctx, cfg, client, dyn, RealClock{})
}

// start is Start with the clients and clock injected (tests pass fakes);
// dyn may be nil when cfg.ProxyAddr is empty.
func start(ctx context.Context, cfg Config, client kubernetes.Interface, dyn dynamic.Interface, clock Clock) (*Plane, error) {
	if cfg.IngressAddr == "" {
		cfg.IngressAddr = DefaultIngressAddr
	}
	if cfg.UsageInterval <= 0 {
		cfg.UsageInterval = DefaultUsageInterval
	}
	if cfg.UsageWindow <= 0 {
		cfg.UsageWindow = DefaultUsageWindow
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "dataplane")
	models := DefaultModels()
	maps.Copy(models, cfg.Models)

	ln, err := net.Listen("tcp", cfg.IngressAddr)
	if err != nil {
		return nil, fmt.Errorf("dataplane: ingress listen on %s: %w", cfg.IngressAddr, err)
	}
	var proxyLn net.Listener
	if cfg.ProxyAddr != "" {
		if proxyLn, err = net.Listen("tcp", cfg.ProxyAddr); err != nil {
			ln.Close()
			return nil, fmt.Errorf("dataplane: service proxy listen on %s: %w", cfg.ProxyAddr, err)
		}
	}
	closeListeners := func() {
		ln.Close()
		if proxyLn != nil {
			proxyLn.Close()
		}
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	p := &Plane{
		log:       log,
		instances: newInstances(runCtx, clock, log, models, cfg.UsageInterval),
		routes:    newRoutes(),
		ln:        ln,
		proxyLn:   proxyLn,
		cancel:    cancel,
	}
	p.instances.window = cfg.UsageWindow
	p.instances.nodeCPUMilli = cfg.NodeCPUMilli
	if cfg.UsageWritesPerSecond == 0 {
		cfg.UsageWritesPerSecond = DefaultUsageWritesPerSecond
	}
	if cfg.UsageWritesPerSecond > 0 {
		p.instances.writeBudget = max(1, int(math.Ceil(float64(cfg.UsageWritesPerSecond)*cfg.UsageInterval.Seconds())))
	}
	p.dispatch = newDispatcher(p.routes, p.instances, log)
	p.srv = &http.Server{
		Handler:           p.dispatch,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       90 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		// No BaseContext from runCtx: a request's context ends only when its
		// client goes, so requests cut by Stop get a 502, not an empty 200.
	}
	if proxyLn != nil {
		p.proxySrv = &http.Server{
			Handler:           newServiceProxy(p.routes, p.dispatch),
			ReadHeaderTimeout: 10 * time.Second,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		}
	}

	factory := informers.NewSharedInformerFactory(client, 0)
	if err := p.watch(factory); err != nil {
		cancel()
		closeListeners()
		return nil, err
	}
	factory.Start(runCtx.Done())
	for typ, ok := range factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			cancel()
			factory.Shutdown()
			closeListeners()
			return nil, fmt.Errorf("dataplane: sync %v informer: %w", typ, context.Cause(ctx))
		}
	}

	p.wg.Add(3)
	go func() {
		defer p.wg.Done()
		<-runCtx.Done()
		factory.Shutdown()
	}()
	go func() {
		defer p.wg.Done()
		if err := p.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("ingress stopped", "addr", ln.Addr().String(), "err", err)
		}
	}()
	go func() {
		defer p.wg.Done()
		p.usageLoop(runCtx, clientPatcher{client: client}, cfg.UsageInterval)
	}()
	if proxyLn != nil {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			if err := p.proxySrv.Serve(proxyLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("service proxy stopped", "addr", proxyLn.Addr().String(), "err", err)
			}
		}()
		if dyn != nil {
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				watchAddonRoutes(runCtx, client.Discovery(), dyn, p.routes, log)
			}()
		}
	}
	log.Info("data plane started", "ingress", p.IngressURL(), "proxy", p.ProxyURL(), "usageInterval", cfg.UsageInterval, "usageWindow", cfg.UsageWindow, "nodeCPUMilli", cfg.NodeCPUMilli)
	return p, nil
}

// watch registers the informers' handlers: pure state updates.
func (p *Plane) watch(f informers.SharedInformerFactory) error {
	type reg struct {
		name string
		inf  cache.SharedIndexInformer
		h    cache.ResourceEventHandlerFuncs
	}
	regs := []reg{
		{"pods", f.Core().V1().Pods().Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc:    func(o any) { p.onPod(o, false) },
			UpdateFunc: func(_, o any) { p.onPod(o, false) },
			DeleteFunc: func(o any) { p.onPod(o, true) },
		}},
		{"ingresses", f.Networking().V1().Ingresses().Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc:    func(o any) { p.onIngress(o, false) },
			UpdateFunc: func(_, o any) { p.onIngress(o, false) },
			DeleteFunc: func(o any) { p.onIngress(o, true) },
		}},
		{"services", f.Core().V1().Services().Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc:    func(o any) { p.onService(o, false) },
			UpdateFunc: func(_, o any) { p.onService(o, false) },
			DeleteFunc: func(o any) { p.onService(o, true) },
		}},
		{"endpointslices", f.Discovery().V1().EndpointSlices().Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc:    func(o any) { p.onSlice(o, false) },
			UpdateFunc: func(_, o any) { p.onSlice(o, false) },
			DeleteFunc: func(o any) { p.onSlice(o, true) },
		}},
	}
	for _, r := range regs {
		if err := r.inf.SetTransform(stripManagedFields); err != nil {
			return fmt.Errorf("dataplane: %s informer: %w", r.name, err)
		}
		if _, err := r.inf.AddEventHandler(r.h); err != nil {
			return fmt.Errorf("dataplane: %s informer: %w", r.name, err)
		}
	}
	return nil
}

// stripManagedFields drops managed fields from cached objects (memory).
func stripManagedFields(o any) (any, error) {
	if a, err := meta.Accessor(o); err == nil {
		a.SetManagedFields(nil)
	}
	return o, nil
}

func unwrapTombstone(o any) any {
	if t, ok := o.(cache.DeletedFinalStateUnknown); ok {
		return t.Obj
	}
	return o
}

func (p *Plane) onPod(o any, deleted bool) {
	pod, ok := unwrapTombstone(o).(*corev1.Pod)
	if !ok {
		return
	}
	if deleted {
		p.instances.podDeleted(pod)
		return
	}
	p.instances.podChanged(pod)
}

func (p *Plane) onIngress(o any, deleted bool) {
	ing, ok := unwrapTombstone(o).(*networkingv1.Ingress)
	if !ok {
		return
	}
	if deleted {
		p.routes.deleteIngress(ing.Namespace, ing.Name)
		return
	}
	p.routes.setIngress(ing)
}

func (p *Plane) onService(o any, deleted bool) {
	svc, ok := unwrapTombstone(o).(*corev1.Service)
	if !ok {
		return
	}
	if deleted {
		p.routes.deleteService(svc.Namespace, svc.Name)
		return
	}
	p.routes.setService(svc)
}

func (p *Plane) onSlice(o any, deleted bool) {
	s, ok := unwrapTombstone(o).(*discoveryv1.EndpointSlice)
	if !ok {
		return
	}
	if deleted {
		p.routes.deleteSlice(s.Namespace, s.Name)
		return
	}
	p.routes.setSlice(s)
}

func (p *Plane) usageLoop(ctx context.Context, patcher usagePatcher, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			reportUsage(ctx, p.instances, patcher, p.log)
		}
	}
}

// FailRequests makes every emulated app instance answer status (a 5xx) to
// every request for d, as an app with a bad release or a broken dependency
// would; the requests cost no CPU. A later call replaces an earlier one; d
// 0 ends the fault.
func (p *Plane) FailRequests(status int, d time.Duration) {
	p.dispatch.fault.Store(&appFault{status: status, until: time.Now().Add(d)})
}

// IngressURL is the base URL of the ingress ("http://127.0.0.1:8081").
func (p *Plane) IngressURL() string { return "http://" + p.ln.Addr().String() }

// ProxyURL is the service-network proxy's URL ("http://127.0.0.1:port"),
// for HTTP_PROXY/HTTPS_PROXY; "" without Config.ProxyAddr.
func (p *Plane) ProxyURL() string {
	if p.proxyLn == nil {
		return ""
	}
	return proxyURL(p.proxyLn.Addr())
}

// MapEndpoint sends requests for an endpoint address (a Service's
// EndpointSlice entry that no emulated pod backs, such as the KEDA HTTP
// add-on interceptor's) to a real local listener, with a reverse proxy that
// keeps the Host header. An empty localAddr removes the mapping. A mapping
// wins over an emulated instance at the same IP.
func (p *Plane) MapEndpoint(ip string, port int32, localAddr string) {
	p.dispatch.mapEndpoint(ip, port, localAddr)
}

// InstanceStatus describes one emulated instance, for diagnostics.
type InstanceStatus struct {
	Namespace, Name string
	IP              string
	Model           string
	Draining        bool
	Inflight        int
	// CPUUsedSeconds is the instance's cumulative CPU time.
	CPUUsedSeconds float64
}

// SetCPUUtilization holds every serving instance of a pod in namespace that
// matches podSelector (a label selector), and those that start serving
// later, at percent % of the pod's CPU request: a steady use besides its
// requests' work, capped at its limit with them and shared with the node's
// other pods like them. 0 returns the pods to idle. Draining instances get
// none.
func (p *Plane) SetCPUUtilization(namespace, podSelector string, percent float64) error {
	sel, err := labels.Parse(podSelector)
	if err != nil {
		return fmt.Errorf("data plane: pod selector %q: %w", podSelector, err)
	}
	if percent < 0 || math.IsNaN(percent) || math.IsInf(percent, 0) {
		return fmt.Errorf("data plane: CPU utilization %g%%: want a non-negative percentage", percent)
	}
	p.instances.setCPUUtilization(namespace, sel, percent)
	return nil
}

// Instances lists the emulated instances, serving and draining, sorted by
// pod.
func (p *Plane) Instances() []InstanceStatus {
	var out []InstanceStatus
	for _, in := range p.instances.all() {
		out = append(out, InstanceStatus{
			Namespace: in.ns, Name: in.name, IP: in.ip, Model: in.modelName,
			Draining: in.Draining(), Inflight: in.Inflight(),
			CPUUsedSeconds: in.model.CPUUsed().Seconds(),
		})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Namespace != out[j].Namespace {
			return out[i].Namespace < out[j].Namespace
		}
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return !out[i].Draining && out[j].Draining
	})
	return out
}

// Stop kills every instance (in-flight requests end with 502), stops the
// ingress, the service proxy and the watches. It is safe to call more than once.
func (p *Plane) Stop() error {
	p.stopOnce.Do(func() {
		p.cancel()
		p.instances.killAll()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := p.srv.Shutdown(ctx); err != nil {
			p.stopErr = errors.Join(p.stopErr, fmt.Errorf("dataplane: shut down ingress %s: %w", p.ln.Addr(), err))
			p.srv.Close()
		}
		if p.proxySrv != nil {
			// Hijacked tunnels are not tracked by Shutdown; Close ends the
			// listener and idle connections, tunnels end with their peers.
			if err := p.proxySrv.Shutdown(ctx); err != nil {
				p.stopErr = errors.Join(p.stopErr, fmt.Errorf("dataplane: shut down service proxy %s: %w", p.proxyLn.Addr(), err))
				p.proxySrv.Close()
			}
		}
		p.wg.Wait()
		p.dispatch.transport.CloseIdleConnections()
		p.log.Info("data plane stopped")
	})
	return p.stopErr
}
