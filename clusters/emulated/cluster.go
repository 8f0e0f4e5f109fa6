package emulated

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/clusters/emulated/components"
	"github.com/scalebench/scalebench/clusters/emulated/dataplane"
	"github.com/scalebench/scalebench/proc"
)

// Cluster is a running emulated cluster.
type Cluster struct {
	name, kwokName, runID string
	workDir               string
	logger                *slog.Logger
	progress              io.Writer
	progressMu            sync.Mutex
	keep                  bool

	versions components.Versions
	hpa      HPASettings
	shape    NodeShape
	// nodes are the KWOK nodes created, nodeSource how they were chosen.
	nodes      []nodeSpec
	nodeSource string
	cost       CPUCost // cpu-load-gen's default CPU time per request
	timing     PodTiming
	bins       components.Binaries
	// parts are the optional platform parts this cluster runs.
	parts platformParts

	kwokWorkDir string
	home        string
	kubeconfig  string
	kubeVersion string // as the API server reports it
	restConfig  *rest.Config
	clientset   kubernetes.Interface
	dynamic     dynamic.Interface

	sup    *proc.Supervisor
	specMu sync.Mutex
	specs  map[string]specEntry
	// cpSpecs is how kwokctl started each control-plane process
	// (snapshotControlPlane), for restarts after a fault test killed one.
	cpSpecs map[string]proc.Spec

	ingressAddr string
	proxyAddr   string // the service-network proxy, chosen before KEDA starts
	models      map[string]dataplane.NewModelFunc
	dataPlane   *dataplane.Plane
	// stopLoadPods stops the in-cluster load pods' commands (loadpods.go).
	stopLoadPods func()

	builder *components.Builder // finds binaries started later (goaws)
	sqsSide sqsSide             // goaws and Redis, started by SQSEnv

	timings Timings
	// metricsEndpoints are the autoscaling components' /metrics.
	metricsEndpoints []clusters.MetricsEndpoint

	deleteOnce sync.Once
	deleteErr  error
}

// specEntry is how a supervised component was started, for restarts.
type specEntry struct {
	spec proc.Spec
}

// Timings are how long Create's phases took.
type Timings struct {
	// Binaries is the time to find (or build) the component binaries.
	Binaries time.Duration
	// ControlPlane is kwokctl create cluster until the API server is ready.
	ControlPlane time.Duration
	// KEDA is from starting the KEDA processes until the external metrics
	// API is available and the admission webhook answers.
	KEDA time.Duration
	// HTTPAddOn is from starting the KEDA HTTP add-on's processes until the
	// scaler reaches the interceptor and the add-on's Services answer
	// through the data plane's service network (which starts meanwhile).
	HTTPAddOn time.Duration
	// Calibration is the time to resolve the cpu-load-gen cost (measuring
	// it the first time on a machine, else reading the cache).
	Calibration time.Duration
	// Ready is from the end of Binaries until Create returned.
	Ready time.Duration
}

var (
	_ clusters.Cluster           = (*Cluster)(nil)
	_ clusters.HTTPIngress       = (*Cluster)(nil)
	_ clusters.AutoscalerMetrics = (*Cluster)(nil)
)

// AutoscalerMetricsEndpoints are KEDA's operator's metrics (plain HTTP on
// loopback) and kube-controller-manager's (its secure port on loopback,
// self-signed, /metrics allowed without authorization by kwokctl's flags).
func (c *Cluster) AutoscalerMetricsEndpoints() []clusters.MetricsEndpoint {
	return append([]clusters.MetricsEndpoint(nil), c.metricsEndpoints...)
}

// Timings reports how long Create's phases took.
func (c *Cluster) Timings() Timings { return c.timings }

// RESTConfig reaches the cluster's API server (a copy each call).
func (c *Cluster) RESTConfig() *rest.Config { return rest.CopyConfig(c.restConfig) }

// KubeconfigPath is the cluster's admin kubeconfig.
func (c *Cluster) KubeconfigPath() string { return c.kubeconfig }

// IngressURL is the data plane's HTTP ingress (by default the docs'
// localhost:8081).
func (c *Cluster) IngressURL() string {
	if c.dataPlane != nil {
		return c.dataPlane.IngressURL()
	}
	return "http://" + c.ingressAddr
}

var (
	_ clusters.CPUDriver       = (*Cluster)(nil)
	_ clusters.HPAKnobReporter = (*Cluster)(nil)
)

// HPAKnobs are the controller-manager's HPA flags this cluster runs with.
func (c *Cluster) HPAKnobs() clusters.HPAKnobs {
	return clusters.HPAKnobs{SyncPeriod: c.hpa.SyncPeriod, DownscaleStabilization: c.hpa.DownscaleStabilization, Tolerance: c.hpa.Tolerance}
}

// SetCPUUtilization holds the matching pods at a CPU utilization through
// the data plane (clusters.CPUDriver).
func (c *Cluster) SetCPUUtilization(namespace, podSelector string, percent float64) error {
	if c.dataPlane == nil {
		return errors.New("emulated cluster: no data plane running")
	}
	return c.dataPlane.SetCPUUtilization(namespace, podSelector, percent)
}

// DataPlane is the running emulated data plane (instances, ingress, and the
// service-network proxy for components that reach cluster services).
func (c *Cluster) DataPlane() *dataplane.Plane { return c.dataPlane }

// RunID is the run id the cluster labels its objects with.
func (c *Cluster) RunID() string { return c.runID }

// kwokctl runs one kwokctl command for this cluster.
func (c *Cluster) kwokctl(ctx context.Context, args ...string) ([]byte, error) {
	return proc.Run(ctx, proc.Cmd{
		Argv:   kwokctlArgs(c.bins[components.Kwokctl], c.kwokName, args...),
		Env:    kwokctlEnv(c.kwokWorkDir, c.home),
		Dir:    c.workDir,
		Logger: c.logger,
	})
}

// startComponent starts a supervised process and remembers its spec.
func (c *Cluster) startComponent(s proc.Spec) error {
	if _, err := c.sup.Start(s); err != nil {
		return err
	}
	c.specMu.Lock()
	c.specs[s.Name] = specEntry{spec: s}
	c.specMu.Unlock()
	return nil
}

// Components lists the supervised components (StopComponent's names).
func (c *Cluster) Components() []string {
	c.specMu.Lock()
	defer c.specMu.Unlock()
	var out []string
	for n := range c.specs {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// StopComponent stops a supervised component gracefully (SIGTERM, then
// SIGKILL after 10 s): ComponentKEDAOperator, ComponentKEDAAdapter,
// ComponentKEDAWebhooks, ComponentSpinOperator, ComponentHTTPAddOnOperator,
// ComponentHTTPAddOnScaler or ComponentHTTPAddOnInterceptor. The control-plane
// processes belong to kwokctl and cannot be stopped this way.
func (c *Cluster) StopComponent(ctx context.Context, name string) error {
	if err := c.knownComponent(name); err != nil {
		return err
	}
	if err := c.sup.Stop(ctx, name); err != nil {
		return fmt.Errorf("emulated: stop component %q: %w", name, err)
	}
	c.logger.Info("component stopped on request", "component", name)
	return nil
}

// RestartComponent starts a stopped (or died) component again with its
// original command line; a running one is stopped first.
//
// A control-plane process kwokctl started (kube-apiserver, etcd,
// metrics-server, ...) is started again with its recorded command line,
// environment and folder, from then on under the supervisor.
func (c *Cluster) RestartComponent(ctx context.Context, name string) error {
	if s, ok := c.controlPlaneSpec(name); ok {
		return c.restartControlPlane(ctx, name, s)
	}
	if err := c.knownComponent(name); err != nil {
		return err
	}
	if _, running := c.sup.Process(name); running {
		if err := c.sup.Stop(ctx, name); err != nil {
			return fmt.Errorf("emulated: restart component %q: %w", name, err)
		}
	}
	c.specMu.Lock()
	s := c.specs[name].spec
	c.specMu.Unlock()
	if _, err := c.sup.Start(s); err != nil {
		return fmt.Errorf("emulated: restart component %q: %w", name, err)
	}
	return nil
}

func (c *Cluster) knownComponent(name string) error {
	c.specMu.Lock()
	_, ok := c.specs[name]
	c.specMu.Unlock()
	if !ok {
		return fmt.Errorf("emulated: unknown component %q (supervised: %s)", name, strings.Join(c.Components(), ", "))
	}
	return nil
}

// ComponentExit describes a supervised component that exited.
type ComponentExit = proc.Exit

// ComponentExits delivers every later unexpected exit of a supervised
// component (one that was not stopped or killed through the Cluster).
func (c *Cluster) ComponentExits() <-chan ComponentExit {
	if c.sup == nil {
		return make(chan ComponentExit)
	}
	return c.sup.Subscribe()
}

// CheckComponents returns nil when every supervised component and every
// control-plane process kwokctl started is running; otherwise an error naming
// each one that is not, why, and (for unexpected exits) the end of its log.
func (c *Cluster) CheckComponents() error {
	if c.sup == nil {
		return errors.New("emulated: no component was started")
	}
	var errs []error
	died := map[string]proc.Exit{}
	for _, e := range c.sup.Exits() {
		died[e.Name] = e
	}
	for _, n := range c.Components() {
		if _, ok := c.sup.Process(n); ok {
			continue
		}
		if e, ok := died[n]; ok {
			errs = append(errs, e)
			continue
		}
		errs = append(errs, fmt.Errorf("component %q is not running (stopped on request)", n))
	}
	// The control plane (etcd, API server, controller manager, scheduler,
	// kwok, metrics-server) runs as processes kwokctl started.
	for _, n := range c.deadKwokctlProcesses() {
		errs = append(errs, fmt.Errorf("control-plane process %q (started by kwokctl) is not running; its log: %s", n,
			filepath.Join(c.kwokWorkDir, "clusters", c.kwokName, "logs", n+".log")))
	}
	return errors.Join(errs...)
}

// ComponentLogPath is the log file of a supervised component.
func (c *Cluster) ComponentLogPath(name string) string { return c.sup.LogPath(name) }

// Delete stops every process the cluster started and deletes its files, or,
// with Options.Keep, leaves it all running and prints the kubeconfig path.
// It is safe to call more than once (callers defer it).
func (c *Cluster) Delete(ctx context.Context) error {
	c.deleteOnce.Do(func() {
		if c.keep {
			if c.sup != nil {
				c.sup.Release()
			}
			c.progressf("emulated cluster %q kept running: export KUBECONFIG=%s", c.name, c.kubeconfig)
			return
		}
		// Teardown must finish even when the caller's context is already
		// done (an interrupted run): keep its values, not its cancellation.
		tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
		defer cancel()
		start := time.Now()
		c.deleteErr = c.teardown(tctx)
		c.progressf("emulated cluster %q deleted in %s", c.name, roundDur(time.Since(start)))
	})
	return c.deleteErr
}

// teardown stops the data plane and the supervised processes, deletes the
// kwokctl cluster and removes the work files. Errors are joined.
func (c *Cluster) teardown(ctx context.Context) error {
	var errs []error
	if c.stopLoadPods != nil {
		c.stopLoadPods()
	}
	if c.dataPlane != nil {
		if err := c.dataPlane.Stop(); err != nil {
			errs = append(errs, fmt.Errorf("stop data plane: %w", err))
		}
	}
	c.closeSQSForwarder()
	if c.sup != nil {
		if err := c.sup.StopAll(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if c.kwokWorkDir != "" && c.bins[components.Kwokctl] != "" {
		// The pids before kwokctl delete removes its pid files: a process
		// still shutting down when kwokctl returns (an API server on a
		// loaded machine) is then still known, and killed.
		running := c.controlPlanePids()
		if _, err := os.Stat(filepath.Join(c.kwokWorkDir, "clusters", c.kwokName)); err == nil {
			// --kubeconfig must name a file: kwokctl removes its context from it.
			if _, err := c.kwokctl(ctx, "delete", "cluster", "--kubeconfig="+filepath.Join(c.home, "kubeconfig-unused")); err != nil {
				errs = append(errs, fmt.Errorf("delete control plane: %w", err))
			}
		}
		if err := c.killLeftovers(running); err != nil {
			errs = append(errs, err)
		}
	}
	// Remove only what Create made inside WorkDir.
	for _, p := range []string{"kwok", "home", "keda", "sqs", "logs", "kwokctl.yaml"} {
		if err := os.RemoveAll(filepath.Join(c.workDir, p)); err != nil {
			errs = append(errs, fmt.Errorf("remove %s: %w", p, err))
		}
	}
	return errors.Join(errs...)
}

func roundDur(d time.Duration) time.Duration {
	if d > 10*time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(10 * time.Millisecond)
}
