// Package emulated is the emulated cluster provider: a real Kubernetes
// control plane (kube-apiserver, controller-manager with the HPA, scheduler,
// etcd) started by kwokctl from locally built binaries, KWOK nodes, the real
// metrics-server, KEDA (operator, metrics adapter, admission webhooks), the
// KEDA HTTP add-on (operator, external scaler, interceptor) and spin-operator
// as local processes, and an emulated data plane for the Spin app pods. No
// container runtime, no images, no internet.
//
// What is emulated: kubelets and nodes (KWOK: pods become Running/Ready after
// configurable stage delays, CPU usage comes from pod annotations), and the
// Spin apps themselves (package dataplane). Everything that decides scaling —
// HPA controller, metrics pipeline, KEDA — is the real code.
package emulated

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/clusters/emulated/calibrate"
	"github.com/scalebench/scalebench/clusters/emulated/components"
	"github.com/scalebench/scalebench/clusters/emulated/dataplane"
	"github.com/scalebench/scalebench/scenario"
)

// Provider creates emulated clusters. The zero value is usable.
type Provider struct {
	// Builder supplies the component binaries and module sources; nil means a
	// components.Builder with the default cache and versions. Create builds
	// whatever is not cached (minutes, once per version).
	Builder *components.Builder
	// NodeShape sizes each node; zero means DefaultNodeShape. Its CPU is
	// also the capacity the data plane's pods share on a node.
	NodeShape NodeShape
	// Nodes is how many nodes the cluster has; 0 means DefaultNodeCount.
	// PlanNodes sets it (and NodeShape) from the run's scenarios.
	Nodes int
	// nodeSource says how Nodes and NodeShape were chosen (PlanNodes).
	nodeSource string
	// CPUCost is the cpu-load-gen model's CPU time per request when a
	// scenario sets none. Zero means this machine's calibration (package
	// calibrate: measured at the first Create, in seconds, then cached), or
	// AssumedCPUCost, saying why, when calibration fails.
	CPUCost CPUCost
	// PodTiming sets the pods' default start-up delays; nil means
	// DefaultPodTiming. Pods override them with the Annotation* annotations.
	PodTiming *PodTiming
	// HPA holds the controller-manager's HPA settings; zero fields take the
	// Kubernetes defaults (DefaultHPASettings).
	HPA HPASettings
	// IngressAddr is where the data plane's HTTP ingress listens unless
	// clusters.Options.IngressAddr says otherwise; "" means
	// 127.0.0.1:8081 (the docs' load balancer port); "127.0.0.1:0" picks a
	// free port (see Cluster.IngressURL).
	IngressAddr string
	// DataPlaneModels adds or replaces data-plane app models by name
	// (dataplane.Config.Models).
	DataPlaneModels map[string]dataplane.NewModelFunc
	// ReadyTimeout bounds Create once the binaries are there; 0 means 3 min.
	ReadyTimeout time.Duration
	// Calibration configures the calibration of the cpu-load-gen cost when
	// CPUCost is zero; the zero value measures with calibrate's defaults
	// into the default cache.
	Calibration calibrate.Options
}

var (
	_ clusters.Provider    = (*Provider)(nil)
	_ clusters.NodePlanner = (*Provider)(nil)
)

// HPASettings are kube-controller-manager's horizontal-pod-autoscaler flags.
type HPASettings struct {
	SyncPeriod              time.Duration
	DownscaleStabilization  time.Duration
	Tolerance               float64
	CPUInitializationPeriod time.Duration
	InitialReadinessDelay   time.Duration
}

// DefaultHPASettings are Kubernetes' defaults; the provider passes them
// explicitly so the values in force are the values reported.
var DefaultHPASettings = HPASettings{
	SyncPeriod:              15 * time.Second,
	DownscaleStabilization:  5 * time.Minute,
	Tolerance:               0.1,
	CPUInitializationPeriod: 5 * time.Minute,
	InitialReadinessDelay:   30 * time.Second,
}

func (h HPASettings) withDefaults() HPASettings {
	d := DefaultHPASettings
	if h.SyncPeriod > 0 {
		d.SyncPeriod = h.SyncPeriod
	}
	if h.DownscaleStabilization > 0 {
		d.DownscaleStabilization = h.DownscaleStabilization
	}
	if h.Tolerance > 0 {
		d.Tolerance = h.Tolerance
	}
	if h.CPUInitializationPeriod > 0 {
		d.CPUInitializationPeriod = h.CPUInitializationPeriod
	}
	if h.InitialReadinessDelay > 0 {
		d.InitialReadinessDelay = h.InitialReadinessDelay
	}
	return d
}

// controllerManagerArgs renders the HPA settings as kube-controller-manager flags.
func (h HPASettings) controllerManagerArgs() [][2]string {
	return [][2]string{
		{"horizontal-pod-autoscaler-sync-period", h.SyncPeriod.String()},
		{"horizontal-pod-autoscaler-downscale-stabilization", h.DownscaleStabilization.String()},
		{"horizontal-pod-autoscaler-tolerance", fmt.Sprint(h.Tolerance)},
		{"horizontal-pod-autoscaler-cpu-initialization-period", h.CPUInitializationPeriod.String()},
		{"horizontal-pod-autoscaler-initial-readiness-delay", h.InitialReadinessDelay.String()},
	}
}

// metricsServerResolution is kwokctl's (fixed) metrics-server --metric-resolution.
const metricsServerResolution = 15 * time.Second

// Name is "emulated".
func (p *Provider) Name() string { return "emulated" }

var _ clusters.CPUDriverProvider = (*Provider)(nil)

// DrivesCPU says the emulated cluster's data plane drives CPU profiles.
func (p *Provider) DrivesCPU() bool { return true }

// Create brings up an emulated cluster. On failure everything started so far
// is torn down (unless opts.Keep) and the error names the step.
func (p *Provider) Create(ctx context.Context, opts clusters.Options) (clusters.Cluster, error) {
	c, err := p.CreateCluster(ctx, opts)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// coreBinaries are the component binaries every emulated cluster runs.
var coreBinaries = []string{
	components.KubeAPIServer, components.KubeControllerManager, components.KubeScheduler,
	components.Kubectl, components.EtcdBinary, components.KwokBinary, components.Kwokctl,
	components.MetricsServerBinary,
	components.SpinOperatorBinary,
}

// platformParts are the optional parts of an emulated cluster's platform.
type platformParts struct {
	keda      bool // KEDA's operator, metrics adapter and webhooks, with their CRDs
	httpAddOn bool // the KEDA HTTP add-on (needs KEDA)
	sqs       bool // goaws, built and started when a scenario first asks for a queue
}

// allParts is every part: what a cluster starts when it is not told which
// autoscalers its scenarios use.
var allParts = platformParts{keda: true, httpAddOn: true, sqs: true}

// partsFor returns the parts scenarios with these autoscaler types need
// (nil: all of them). An unknown type asks for everything.
func partsFor(autoscalers []string) platformParts {
	if autoscalers == nil {
		return allParts
	}
	var p platformParts
	for _, a := range autoscalers {
		switch a {
		case scenario.HPA:
		case scenario.KEDACPU:
			p.keda = true
		case scenario.KEDASQS:
			p.keda, p.sqs = true, true
		case scenario.KEDAHTTP:
			p.keda, p.httpAddOn = true, true
		default:
			return allParts
		}
	}
	return p
}

// binaries are the component binaries a cluster with these parts starts
// in Create (goaws, started on a scenario's demand, is not among them).
func (p platformParts) binaries() []string {
	out := slices.Clone(coreBinaries)
	if p.keda {
		out = append(out, components.KEDAOperator, components.KEDAAdapter, components.KEDAWebhooks)
	}
	if p.httpAddOn {
		out = append(out, components.HTTPAddOnOperator, components.HTTPAddOnScaler, components.HTTPAddOnInterceptor)
	}
	return out
}

// names lists the optional parts present, for progress lines.
func (p platformParts) names() []string {
	var out []string
	if p.keda {
		out = append(out, "KEDA")
	}
	if p.httpAddOn {
		out = append(out, "the HTTP add-on")
	}
	return out
}

// RequiredBinaries names the component binaries an emulated cluster runs
// for scenarios with these autoscaler types (nil: every scenario, so every
// binary), grouped by component in build order: what Create builds when
// they are not cached, and goaws, which a cluster builds and starts on a
// keda-sqs scenario's demand, when a keda-sqs scenario is among them.
func RequiredBinaries(autoscalers []string) []string {
	p := partsFor(autoscalers)
	need := p.binaries()
	if p.sqs {
		need = append(need, components.GoawsBinary)
	}
	var out []string
	for _, b := range components.BinaryNames() {
		if slices.Contains(need, b) {
			out = append(out, b)
		}
	}
	return out
}

// MissingBinaries names, as binary@version, the component binaries a
// cluster runs for every scenario that b has not cached yet (what Create
// would build first).
func MissingBinaries(b *components.Builder) []string {
	need := allParts.binaries()
	var missing []string
	for _, st := range b.Status() {
		if slices.Contains(need, st.Binary) && !st.Cached {
			missing = append(missing, st.Binary+"@"+st.Version)
		}
	}
	return missing
}

// CreateCluster is Create with the concrete type, for callers that use
// StopComponent and the other emulated-only methods.
func (p *Provider) CreateCluster(ctx context.Context, opts clusters.Options) (_ *Cluster, err error) {
	if opts.WorkDir == "" {
		return nil, errors.New("emulated: create: Options.WorkDir is empty")
	}
	workDir, err := filepath.Abs(opts.WorkDir)
	if err != nil {
		return nil, fmt.Errorf("emulated: create: work dir: %w", err)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	name := opts.Name
	if name == "" {
		name = "scalebench"
	}
	logger = logger.With("provider", "emulated", "cluster", name)
	reapOrphans(filepath.Dir(workDir), logger)
	if err := os.MkdirAll(workDir, 0o755); err != nil {
		return nil, fmt.Errorf("emulated: create: work dir: %w", err)
	}
	// A kept cluster outlives its harness on purpose: marked so, Create
	// leaves it alone and bench cleanup removes it only when asked.
	if err := writeHarnessPID(workDir, opts.Keep); err != nil {
		return nil, fmt.Errorf("emulated: create: %w", err)
	}

	builder := p.Builder
	if builder == nil {
		builder = &components.Builder{Logger: logger, Progress: opts.Progress}
	}
	c := &Cluster{
		name:     name,
		kwokName: kwokClusterName(name),
		runID:    opts.RunID,
		workDir:  workDir,
		logger:   logger,
		progress: opts.Progress,
		keep:     opts.Keep,
		versions: resolvedVersions(builder.Versions),
		hpa:      p.HPA.withDefaults(),
		shape:    p.NodeShape,
		cost:     p.CPUCost,
		timing:   DefaultPodTiming,
		specs:    map[string]specEntry{},
		parts:    partsFor(opts.Autoscalers),
	}
	c.shape, c.nodes, c.nodeSource = p.nodePlan()
	if p.PodTiming != nil {
		c.timing = *p.PodTiming
	}
	c.models = p.DataPlaneModels
	c.builder = builder
	c.ingressAddr = opts.IngressAddr
	if c.ingressAddr == "" {
		c.ingressAddr = p.IngressAddr
	}
	if c.ingressAddr == "" {
		c.ingressAddr = "127.0.0.1:8081"
	}

	// Binaries first, outside the ready timeout: a cold build takes minutes.
	start := time.Now()
	bins, err := builder.Ensure(ctx, c.parts.binaries()...)
	if err != nil {
		return nil, fmt.Errorf("emulated: create %q: component binaries: %w", name, err)
	}
	c.bins = bins
	c.timings.Binaries = time.Since(start)

	// The cpu-load-gen cost, also outside the ready timeout: measured once
	// per machine (seconds; the first time also a Go build for wasip1).
	start = time.Now()
	cost, how, err := resolveCPUCost(ctx, p.CPUCost, p.Calibration, opts.Progress, logger)
	if err != nil {
		return nil, fmt.Errorf("emulated: create %q: %w", name, err)
	}
	c.cost = cost
	c.timings.Calibration = time.Since(start)
	c.progressf("cpu-load-gen costs %s of CPU per request (%s)", cost.PerRequest, how)

	readyTimeout := p.ReadyTimeout
	if readyTimeout <= 0 {
		readyTimeout = 3 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()

	// From here on, a failure (or a panic) tears down what was started.
	ok := false
	defer func() {
		if ok {
			return
		}
		if c.keep {
			c.progressf("emulated cluster %q failed to start; kept for debugging, kubeconfig %s", name, c.kubeconfig)
			if c.sup != nil {
				c.sup.Release()
			}
			return
		}
		tctx, tcancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer tcancel()
		if terr := c.teardown(tctx); terr != nil {
			err = errors.Join(err, fmt.Errorf("emulated: teardown after failed create: %w", terr))
		}
	}()

	if err := c.start(ctx, builder); err != nil {
		return nil, fmt.Errorf("emulated: create %q: %w", name, err)
	}
	ok = true
	return c, nil
}

// resolvedVersions fills empty fields from the defaults, as the builder does.
func resolvedVersions(v components.Versions) components.Versions {
	d := components.DefaultVersions()
	for _, f := range []struct{ val, def *string }{
		{&v.Kubernetes, &d.Kubernetes}, {&v.Etcd, &d.Etcd}, {&v.Kwok, &d.Kwok},
		{&v.MetricsServer, &d.MetricsServer}, {&v.KEDA, &d.KEDA}, {&v.SpinOperator, &d.SpinOperator},
		{&v.HTTPAddOn, &d.HTTPAddOn}, {&v.Goaws, &d.Goaws},
	} {
		if *f.val == "" {
			*f.val = *f.def
		}
		if *f.val != "" && (*f.val)[0] != 'v' {
			*f.val = "v" + *f.val
		}
	}
	return v
}

// moduleDirs looks up the module sources the cluster reads assets from.
func moduleDirs(ctx context.Context, b *components.Builder, names ...string) (map[string]string, error) {
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		out  = map[string]string{}
		errs []error
	)
	for _, n := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dir, err := b.ModuleDir(ctx, n)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			out[n] = dir
		}()
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

func (c *Cluster) progressf(format string, args ...any) {
	if c.progress == nil {
		return
	}
	c.progressMu.Lock()
	defer c.progressMu.Unlock()
	fmt.Fprintf(c.progress, format+"\n", args...)
}

// writeFile writes data to path, creating its directory.
func writeFile(path string, data []byte, perm os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, data, perm)
}
