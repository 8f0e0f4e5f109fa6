package emulated

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/scalebench/scalebench/kube"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

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
	cost     CPUCost // cpu-load-gen's default CPU time per request
	timing   PodTiming
	bins     components.Binaries

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

	ingressAddr string
	proxyAddr   string // the service-network proxy, chosen before KEDA starts
	models      map[string]dataplane.NewModelFunc
	dataPlane   *dataplane.Plane

	builder *components.Builder // finds binaries started later (goaws)
	sqsSide sqsSide             // goaws and Redis, started by SQSEnv

	timings Timings

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
	// Ready is from the end of Binaries until Create returned.
	Ready time.Duration
}

var (
	_ clusters.Cluster     = (*Cluster)(nil)
	_ clusters.HTTPIngress = (*Cluster)(nil)
)

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

// RunID is the run id the cluster labels its objects with.
func (c *Cluster) RunID() string { return c.runID }

// start runs every step of Create after the binaries are known.
func (c *Cluster) start(ctx context.Context, b *components.Builder) error {
	t0 := time.Now()
	defer func() { c.timings.Ready = time.Since(t0) }()

	dirs, err := moduleDirs(ctx, b, components.Kwok, components.MetricsServer, components.KEDA, components.SpinOperator, components.HTTPAddOn)
	if err != nil {
		return fmt.Errorf("module sources: %w", err)
	}
	c.kwokWorkDir = filepath.Join(c.workDir, "kwok")
	c.home = filepath.Join(c.workDir, "home")
	for _, d := range []string{c.workDir, c.kwokWorkDir, c.home} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("work dir: %w", err)
		}
	}
	sup, err := proc.New(proc.Options{LogDir: filepath.Join(c.workDir, "logs"), Logger: c.logger, Detach: c.keep})
	if err != nil {
		return err
	}
	c.sup = sup

	ports, err := freePorts(7 + 8 + 2 + 7 + 1)
	if err != nil {
		return err
	}
	kp := kwokctlPorts{
		APIServer: ports[0], Etcd: ports[1], EtcdPeer: ports[2], KwokController: ports[3],
		MetricsServer: ports[4], ControllerManager: ports[5], Scheduler: ports[6],
	}
	kedaPorts := kedaPorts{
		OperatorMetrics: ports[7], OperatorProbe: ports[8], OperatorGRPC: ports[9],
		AdapterSecure: ports[10], AdapterMetrics: ports[11],
		Webhooks: ports[12], WebhooksMetrics: ports[13], WebhooksProbe: ports[14],
	}
	spinProbe, spinMetrics := ports[15], ports[16]
	addOnPorts := httpAddOnPorts{
		OperatorProbe: ports[17], OperatorMetrics: ports[18],
		ScalerGRPC: ports[19], ScalerMetrics: ports[20],
		InterceptorProxy: ports[21], InterceptorAdmin: ports[22], InterceptorMetrics: ports[23],
	}
	// The KEDA operator and the add-on get the service-network proxy's URL
	// when they start; the data plane listens there from step 3 on.
	c.proxyAddr = loopback(ports[24])
	proxyURL := "http://" + c.proxyAddr

	stages, err := kwokStages(dirs[components.Kwok], c.timing)
	if err != nil {
		return err
	}
	cfg, err := renderKwokctlConfig(kwokctlParams{
		KubeVersion:            c.versions.Kubernetes,
		KwokVersion:            c.versions.Kwok,
		KubeAPIServer:          c.bins[components.KubeAPIServer],
		KubeControllerManager:  c.bins[components.KubeControllerManager],
		KubeScheduler:          c.bins[components.KubeScheduler],
		Kwok:                   c.bins[components.KwokBinary],
		Etcd:                   c.bins[components.EtcdBinary],
		MetricsServer:          c.bins[components.MetricsServerBinary],
		Kubectl:                c.bins[components.Kubectl],
		MetricsServerManifests: filepath.Join(dirs[components.MetricsServer], "manifests", "base"),
		Ports:                  kp,
		ControllerManagerArgs:  c.hpa.controllerManagerArgs(),
		Stages:                 stages,
	})
	if err != nil {
		return err
	}
	cfgPath := filepath.Join(c.workDir, "kwokctl.yaml")
	if err := writeFile(cfgPath, cfg, 0o644); err != nil {
		return fmt.Errorf("kwokctl config: %w", err)
	}

	// KEDA's certificates do not depend on the cluster: make them while
	// kwokctl starts it.
	type certResult struct {
		certs *kedaCerts
		err   error
	}
	certCh := make(chan certResult, 1)
	go func() {
		certs, err := generateKEDACerts(time.Now(), kedaCertDNSNames())
		certCh <- certResult{certs, err}
	}()

	// 1. Control plane.
	c.progressf("starting control plane…")
	tcp := time.Now()
	if _, err := c.kwokctl(ctx, "--config", cfgPath, "create", "cluster", "--kubeconfig="); err != nil {
		return fmt.Errorf("start control plane: %w", err)
	}
	c.kubeconfig = filepath.Join(c.kwokWorkDir, "clusters", c.kwokName, "kubeconfig.yaml")
	if err := c.connect(); err != nil {
		return err
	}
	if err := kube.Poll(ctx, 100*time.Millisecond, "API server ready", c.apiServerReady); err != nil {
		return err
	}
	c.timings.ControlPlane = time.Since(tcp)
	c.progressf("control plane up in %s (Kubernetes %s)", roundDur(c.timings.ControlPlane), c.kubeVersion)

	cr := <-certCh
	if cr.err != nil {
		return cr.err
	}
	keda := kedaSetup{
		Operator:   c.bins[components.KEDAOperator],
		Adapter:    c.bins[components.KEDAAdapter],
		Webhooks:   c.bins[components.KEDAWebhooks],
		ModuleDir:  dirs[components.KEDA],
		Kubeconfig: c.kubeconfig,
		ClusterCA:  filepath.Join(c.kwokWorkDir, "clusters", c.kwokName, "pki", "ca.crt"),
		CertDir:    filepath.Join(c.workDir, "keda", "certs"),
		Certs:      cr.certs,
		Ports:      kedaPorts,
		Home:       c.home,
		ProxyURL:   proxyURL,
	}
	addOn := httpAddOnSetup{
		Operator:    c.bins[components.HTTPAddOnOperator],
		Scaler:      c.bins[components.HTTPAddOnScaler],
		Interceptor: c.bins[components.HTTPAddOnInterceptor],
		Kubeconfig:  c.kubeconfig,
		Home:        c.home,
		ProxyURL:    proxyURL,
		Ports:       addOnPorts,
	}
	ap, err := kube.NewClients(c.restConfig)
	if err != nil {
		return err
	}

	// 2. Nodes, platform objects and processes, concurrently.
	var kedaStarted, addOnStarted time.Time
	err = parallel(
		func() error {
			if err := createNodes(ctx, c.clientset, c.shape, c.runID); err != nil {
				return err
			}
			return kube.Poll(ctx, 100*time.Millisecond, "nodes Ready", func(ctx context.Context) (bool, string, error) {
				return nodesReady(ctx, c.clientset)
			})
		},
		func() error {
			crds, err := platformCRDs(dirs[components.KEDA], dirs[components.SpinOperator], dirs[components.HTTPAddOn])
			if err != nil {
				return err
			}
			if err := ap.Apply(ctx, c.runID, append(crds, runtimeClass())...); err != nil {
				return err
			}
			if err := c.waitCRDsEstablished(ctx, crds); err != nil {
				return err
			}
			return parallel(
				func() error {
					return c.startComponent(spinOperatorSpec(c.bins[components.SpinOperatorBinary], c.kubeconfig, c.home, spinProbe, spinMetrics))
				},
				func() error {
					objs, err := keda.objects()
					if err != nil {
						return err
					}
					if err := ap.Apply(ctx, c.runID, objs...); err != nil {
						return err
					}
					if err := keda.writeCertDir(); err != nil {
						return err
					}
					kedaStarted = time.Now()
					for _, s := range keda.specs() {
						if err := c.startComponent(s); err != nil {
							return err
						}
					}
					// The add-on's Services live in KEDA's namespace.
					return ap.Apply(ctx, c.runID, addOn.objects()...)
				},
				func() error {
					addOnStarted = time.Now()
					for _, s := range addOn.specs() {
						if err := c.startComponent(s); err != nil {
							return err
						}
					}
					return nil
				},
			)
		},
	)
	if err != nil {
		return err
	}
	c.progressf("nodes ready, KEDA, the HTTP add-on and spin-operator started (%s)", roundDur(time.Since(t0)))

	// 3. Wait until everything answers; meanwhile start the data plane and
	// connect the add-on's Services to its processes through it.
	err = parallel(
		func() error {
			err := parallel(
				func() error {
					return c.pollComponents(ctx, "external metrics API (KEDA adapter) available", func(ctx context.Context) (bool, string, error) {
						return c.apiServiceAvailable(ctx, kedaExternalMetricsAPISvc)
					})
				},
				func() error {
					return c.pollComponents(ctx, "KEDA operator gRPC metrics service listening", func(ctx context.Context) (bool, string, error) {
						return tcpListening(loopback(kedaPorts.OperatorGRPC))
					})
				},
				func() error {
					return c.pollComponents(ctx, "KEDA admission webhook answering", c.webhookAnswers)
				},
			)
			if err == nil {
				c.timings.KEDA = time.Since(kedaStarted)
				c.progressf("KEDA ready in %s", roundDur(c.timings.KEDA))
			}
			return err
		},
		func() error {
			return c.pollComponents(ctx, "spin-operator ready", func(ctx context.Context) (bool, string, error) {
				return httpOK(ctx, "http://"+loopback(spinProbe)+"/readyz")
			})
		},
		func() error {
			if err := c.startDataPlane(ctx); err != nil {
				return err
			}
			err := parallel(
				func() error { return c.waitHTTPAddOnProcesses(ctx, addOnPorts) },
				func() error { return c.connectHTTPAddOn(ctx, addOn) },
			)
			if err == nil {
				c.timings.HTTPAddOn = time.Since(addOnStarted)
				c.progressf("HTTP add-on ready in %s", roundDur(c.timings.HTTPAddOn))
			}
			return err
		},
	)
	if err != nil {
		return err
	}
	c.progressf("emulated cluster %q ready in %s (kubeconfig %s)", c.name, roundDur(time.Since(t0)), c.kubeconfig)
	return nil
}

// kwokctl runs one kwokctl command for this cluster.
func (c *Cluster) kwokctl(ctx context.Context, args ...string) ([]byte, error) {
	return proc.Run(ctx, proc.Cmd{
		Argv:   kwokctlArgs(c.bins[components.Kwokctl], c.kwokName, args...),
		Env:    kwokctlEnv(c.kwokWorkDir, c.home),
		Dir:    c.workDir,
		Logger: c.logger,
	})
}

// connect builds the clients from the kubeconfig kwokctl wrote.
func (c *Cluster) connect() error {
	cfg, err := clientcmd.BuildConfigFromFlags("", c.kubeconfig)
	if err != nil {
		return fmt.Errorf("kubeconfig %s: %w", c.kubeconfig, err)
	}
	cfg.QPS, cfg.Burst = 50, 100
	// Never through a proxy, whatever the harness's environment says.
	cfg.Proxy = func(*http.Request) (*url.URL, error) { return nil, nil }
	c.restConfig = cfg
	if c.clientset, err = kubernetes.NewForConfig(cfg); err != nil {
		return fmt.Errorf("kubernetes client: %w", err)
	}
	if c.dynamic, err = dynamic.NewForConfig(cfg); err != nil {
		return fmt.Errorf("dynamic client: %w", err)
	}
	return nil
}

func (c *Cluster) apiServerReady(ctx context.Context) (bool, string, error) {
	body, err := c.clientset.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
	if err != nil {
		return false, "readyz: " + err.Error(), nil
	}
	v, err := c.clientset.Discovery().ServerVersion()
	if err != nil {
		return false, "version: " + err.Error(), nil
	}
	c.kubeVersion = v.GitVersion
	return true, "readyz: " + strings.TrimSpace(string(body)), nil
}

// pollComponents polls check and fails early when a supervised component
// died meanwhile.
func (c *Cluster) pollComponents(ctx context.Context, what string, check func(context.Context) (bool, string, error)) error {
	return kube.Poll(ctx, 200*time.Millisecond, what, func(ctx context.Context) (bool, string, error) {
		if exits := c.sup.Exits(); len(exits) > 0 {
			return false, "", exits[0]
		}
		return check(ctx)
	})
}

// platformCRDs are KEDA's, spin-operator's and the KEDA HTTP add-on's CRDs
// from their modules.
func platformCRDs(kedaDir, spinDir, httpAddOnDir string) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	for _, d := range []string{
		filepath.Join(kedaDir, "config", "crd", "bases"),
		filepath.Join(spinDir, "config", "crd", "bases"),
		filepath.Join(httpAddOnDir, filepath.FromSlash(components.HTTPAddOnCRDDir)),
	} {
		objs, err := readManifestDir(d)
		if err != nil {
			return nil, fmt.Errorf("CRDs: %w", err)
		}
		for _, o := range objs {
			if o.GetKind() != "CustomResourceDefinition" {
				return nil, fmt.Errorf("CRDs: %s holds a %s", d, o.GetKind())
			}
		}
		out = append(out, objs...)
	}
	return out, nil
}

func (c *Cluster) waitCRDsEstablished(ctx context.Context, crds []*unstructured.Unstructured) error {
	return kube.Poll(ctx, 100*time.Millisecond, "CRDs established", func(ctx context.Context) (bool, string, error) {
		var pending []string
		for _, crd := range crds {
			u, err := c.dynamic.Resource(kube.CustomResourceDefinitions).Get(ctx, crd.GetName(), metav1.GetOptions{})
			if err != nil || !hasCondition(u, "Established") {
				pending = append(pending, crd.GetName())
			}
		}
		if len(pending) > 0 {
			return false, "not established: " + strings.Join(pending, ", "), nil
		}
		return true, "", nil
	})
}

func (c *Cluster) apiServiceAvailable(ctx context.Context, name string) (bool, string, error) {
	u, err := c.dynamic.Resource(kube.APIServices).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return false, "APIService " + name + ": " + err.Error(), nil
	}
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	state := "APIService " + name + ": no conditions"
	for _, cc := range conds {
		m, _ := cc.(map[string]any)
		if m["type"] == "Available" {
			state = fmt.Sprintf("APIService %s: Available=%v %v: %v", name, m["status"], m["reason"], m["message"])
			if m["status"] == "True" {
				return true, state, nil
			}
		}
	}
	return false, state, nil
}

func hasCondition(u *unstructured.Unstructured, typ string) bool {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, cc := range conds {
		if m, ok := cc.(map[string]any); ok && m["type"] == typ && m["status"] == "True" {
			return true
		}
	}
	return false
}

// webhookAnswers dry-run-creates a ScaledObject the webhook must deny.
func (c *Cluster) webhookAnswers(ctx context.Context) (bool, string, error) {
	probe := kedaWebhookProbe()
	_, err := c.dynamic.Resource(kube.ScaledObjects).Namespace(KEDANamespace).Create(ctx, probe, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	switch {
	case isWebhookDenial(err):
		return true, "denied by the webhook", nil
	case err == nil:
		return false, "", errors.New("a ScaledObject with a 75-character name was accepted: is KEDA's webhook configured?")
	default:
		return false, err.Error(), nil
	}
}

func tcpListening(addr string) (bool, string, error) {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false, err.Error(), nil
	}
	conn.Close()
	return true, addr + " listening", nil
}

var directHTTP = &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 2 * time.Second}

func httpOK(ctx context.Context, u string) (bool, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return false, "", err
	}
	resp, err := directHTTP.Do(req)
	if err != nil {
		return false, err.Error(), nil
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK, fmt.Sprintf("GET %s: %s", u, resp.Status), nil
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

// KillComponent kills a supervised component with SIGKILL, as a crash would.
func (c *Cluster) KillComponent(ctx context.Context, name string) error {
	if err := c.knownComponent(name); err != nil {
		return err
	}
	if err := c.sup.Kill(ctx, name); err != nil {
		return fmt.Errorf("emulated: kill component %q: %w", name, err)
	}
	c.logger.Info("component killed on request", "component", name)
	return nil
}

// RestartComponent starts a stopped (or died) component again with its
// original command line; a running one is stopped first.
func (c *Cluster) RestartComponent(ctx context.Context, name string) error {
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

// CheckComponents returns nil when every supervised component is running;
// otherwise an error naming each one that is not, why, and (for unexpected
// exits) the end of its log.
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
		if _, err := os.Stat(filepath.Join(c.kwokWorkDir, "clusters", c.kwokName)); err == nil {
			// --kubeconfig must name a file: kwokctl removes its context from it.
			if _, err := c.kwokctl(ctx, "delete", "cluster", "--kubeconfig="+filepath.Join(c.home, "kubeconfig-unused")); err != nil {
				errs = append(errs, fmt.Errorf("delete control plane: %w", err))
			}
		}
		if err := c.killLeftovers(); err != nil {
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

// parallel runs fns concurrently and joins their errors.
func parallel(fns ...func() error) error {
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, f := range fns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if r := recover(); r != nil {
					errs[i] = fmt.Errorf("panic: %v", r)
				}
			}()
			errs[i] = f()
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
