package emulated

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/clusters/emulated/components"
	"github.com/scalebench/scalebench/clusters/emulated/dataplane"
	"github.com/scalebench/scalebench/kube"
	"github.com/scalebench/scalebench/proc"
)

// start runs every phase of Create after the binaries are known: prepare the
// work folders, pick the ports, start the control plane, install and start
// the platform (nodes, CRDs, KEDA, the HTTP add-on, spin-operator), then wait
// until it all answers while the data plane starts.
func (c *Cluster) start(ctx context.Context, b *components.Builder) error {
	t0 := time.Now()
	defer func() { c.timings.Ready = time.Since(t0) }()

	dirs, err := c.prepare(ctx, b)
	if err != nil {
		return err
	}
	ports, named, err := pickClusterPorts()
	if err != nil {
		return err
	}
	c.logger.Debug("emulated cluster ports", "ports", named)
	c.proxyAddr = loopback(ports.proxy)
	c.metricsEndpoints = []clusters.MetricsEndpoint{
		{Component: clusters.ComponentKEDAOperator, URL: "http://" + loopback(ports.keda.OperatorMetrics) + "/metrics"},
		{Component: clusters.ComponentControllerManager, URL: "https://" + loopback(ports.kwokctl.ControllerManager) + "/metrics", InsecureSkipVerify: true},
	}
	cfgPath, err := c.writeKwokctlConfig(dirs, ports.kwokctl)
	if err != nil {
		return err
	}
	// KEDA's certificates do not depend on the cluster: make them while
	// kwokctl starts it.
	certs := generateKEDACertsAsync()

	if err := c.startControlPlane(ctx, cfgPath); err != nil {
		return err
	}
	c.snapshotControlPlane()
	p, err := c.platform(dirs, ports, certs)
	if err != nil {
		return err
	}
	if err := c.startPlatform(ctx, p); err != nil {
		return err
	}
	c.progressf("nodes ready, %s started (%s)", strings.Join(append(c.parts.names(), "spin-operator"), ", "), roundDur(time.Since(t0)))
	if err := c.waitPlatform(ctx, p); err != nil {
		return err
	}
	c.progressf("emulated cluster %q ready in %s (kubeconfig %s)", c.name, roundDur(time.Since(t0)), c.kubeconfig)
	return nil
}

// prepare finds the module sources the cluster reads manifests from, makes
// the work folders and the process supervisor.
func (c *Cluster) prepare(ctx context.Context, b *components.Builder) (map[string]string, error) {
	mods := []string{components.Kwok, components.MetricsServer, components.SpinOperator}
	if c.parts.keda {
		mods = append(mods, components.KEDA)
	}
	if c.parts.httpAddOn {
		mods = append(mods, components.HTTPAddOn)
	}
	dirs, err := moduleDirs(ctx, b, mods...)
	if err != nil {
		return nil, fmt.Errorf("module sources: %w", err)
	}
	c.kwokWorkDir = filepath.Join(c.workDir, "kwok")
	c.home = filepath.Join(c.workDir, "home")
	for _, d := range []string{c.workDir, c.kwokWorkDir, c.home} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("work dir: %w", err)
		}
	}
	sup, err := proc.New(proc.Options{LogDir: filepath.Join(c.workDir, "logs"), Logger: c.logger, Detach: c.keep})
	if err != nil {
		return nil, err
	}
	c.sup = sup
	return dirs, nil
}

// writeKwokctlConfig renders the kwokctl configuration (control-plane
// binaries and flags, metrics-server, kwok's pod stages) into the work folder.
func (c *Cluster) writeKwokctlConfig(dirs map[string]string, ports kwokctlPorts) (string, error) {
	stages, err := kwokStages(dirs[components.Kwok], c.timing)
	if err != nil {
		return "", err
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
		Ports:                  ports,
		ControllerManagerArgs:  append(c.hpa.controllerManagerArgs(), controlPlaneQPSArgs()...),
		SchedulerArgs:          controlPlaneQPSArgs(),
		Stages:                 stages,
	})
	if err != nil {
		return "", err
	}
	path := filepath.Join(c.workDir, "kwokctl.yaml")
	if err := writeFile(path, cfg, 0o644); err != nil {
		return "", fmt.Errorf("kwokctl config: %w", err)
	}
	return path, nil
}

// generateKEDACertsAsync makes KEDA's certificates in the background; the
// returned function waits for them.
func generateKEDACertsAsync() func() (*kedaCerts, error) {
	type result struct {
		certs *kedaCerts
		err   error
	}
	ch := make(chan result, 1)
	go func() {
		certs, err := generateKEDACerts(time.Now(), kedaCertDNSNames())
		ch <- result{certs, err}
	}()
	return func() (*kedaCerts, error) {
		r := <-ch
		return r.certs, r.err
	}
}

// startControlPlane has kwokctl start etcd, the API server, the controller
// manager, the scheduler, kwok and metrics-server, and waits until the API
// server is ready.
func (c *Cluster) startControlPlane(ctx context.Context, cfgPath string) error {
	c.progressf("starting control plane…")
	t0 := time.Now()
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
	// kwokctl may start metrics-server before the API server listens; it
	// then exits at once and nothing restarts it. Start the control plane
	// again (at most twice) when a process kwokctl recorded is already gone.
	for attempt := 1; attempt <= 2; attempt++ {
		dead := c.deadControlPlane(2 * time.Second)
		if len(dead) == 0 {
			break
		}
		c.logger.Warn("control-plane processes exited at start; starting the control plane again", "dead", dead, "attempt", attempt)
		running := c.controlPlanePids()
		if _, err := c.kwokctl(ctx, "delete", "cluster", "--kubeconfig="+filepath.Join(c.home, "kubeconfig-unused")); err != nil {
			return fmt.Errorf("restart control plane (%v exited): %w", dead, err)
		}
		_ = c.killLeftovers(running)
		if _, err := c.kwokctl(ctx, "--config", cfgPath, "create", "cluster", "--kubeconfig="); err != nil {
			return fmt.Errorf("restart control plane: %w", err)
		}
		if err := c.connect(); err != nil {
			return err
		}
		if err := kube.Poll(ctx, 100*time.Millisecond, "API server ready", c.apiServerReady); err != nil {
			return err
		}
	}
	c.timings.ControlPlane = time.Since(t0)
	c.progressf("control plane up in %s (Kubernetes %s)", roundDur(c.timings.ControlPlane), c.kubeVersion)
	return nil
}

// platformSetup is what the platform is installed and started from.
type platformSetup struct {
	dirs  map[string]string // module sources by component
	ports clusterPorts
	keda  kedaSetup
	addOn httpAddOnSetup
	apply *kube.Clients

	// When the KEDA and add-on processes were started (for Timings).
	kedaStarted, addOnStarted time.Time
}

// platform describes KEDA and the HTTP add-on on this cluster, once the
// control plane is up and KEDA's certificates are made.
func (c *Cluster) platform(dirs map[string]string, ports clusterPorts, certs func() (*kedaCerts, error)) (*platformSetup, error) {
	kc, err := certs()
	if err != nil {
		return nil, err
	}
	ap, err := kube.NewClients(c.restConfig)
	if err != nil {
		return nil, err
	}
	proxyURL := "http://" + c.proxyAddr
	return &platformSetup{
		dirs:  dirs,
		ports: ports,
		keda: kedaSetup{
			Operator:   c.bins[components.KEDAOperator],
			Adapter:    c.bins[components.KEDAAdapter],
			Webhooks:   c.bins[components.KEDAWebhooks],
			ModuleDir:  dirs[components.KEDA],
			Kubeconfig: c.kubeconfig,
			ClusterCA:  filepath.Join(c.kwokWorkDir, "clusters", c.kwokName, "pki", "ca.crt"),
			CertDir:    filepath.Join(c.workDir, "keda", "certs"),
			Certs:      kc,
			Ports:      ports.keda,
			Home:       c.home,
			ProxyURL:   proxyURL,
		},
		addOn: httpAddOnSetup{
			Operator:    c.bins[components.HTTPAddOnOperator],
			Scaler:      c.bins[components.HTTPAddOnScaler],
			Interceptor: c.bins[components.HTTPAddOnInterceptor],
			Kubeconfig:  c.kubeconfig,
			Home:        c.home,
			ProxyURL:    proxyURL,
			Ports:       ports.addOn,
		},
		apply: ap,
	}, nil
}

// startPlatform creates the nodes and, concurrently, installs the CRDs and
// the RuntimeClass, then starts spin-operator, KEDA (with its objects) and
// the HTTP add-on.
func (c *Cluster) startPlatform(ctx context.Context, p *platformSetup) error {
	return parallel(
		func() error { return c.startNodes(ctx) },
		func() error {
			crds, err := platformCRDs(p.dirs[components.SpinOperator], p.dirs[components.KEDA], p.dirs[components.HTTPAddOn])
			if err != nil {
				return err
			}
			if err := p.apply.Apply(ctx, c.runID, append(crds, runtimeClass())...); err != nil {
				return err
			}
			if err := c.waitCRDsEstablished(ctx, crds); err != nil {
				return err
			}
			return parallel(
				func() error {
					return c.startComponent(spinOperatorSpec(c.bins[components.SpinOperatorBinary], c.kubeconfig, c.home, p.ports.spinProbe, p.ports.spinMetrics))
				},
				func() error {
					if !c.parts.keda {
						return nil
					}
					return c.startKEDA(ctx, p)
				},
				func() error {
					if !c.parts.httpAddOn {
						return nil
					}
					return c.startHTTPAddOn(p)
				},
			)
		},
	)
}

// startNodes creates the KWOK nodes and waits until they are Ready.
func (c *Cluster) startNodes(ctx context.Context) error {
	if err := createNodes(ctx, c.clientset, c.nodes, c.shape, c.runID); err != nil {
		return err
	}
	return kube.Poll(ctx, 100*time.Millisecond, "nodes Ready", func(ctx context.Context) (bool, string, error) {
		return nodesReady(ctx, c.clientset, c.nodes)
	})
}

// startKEDA applies KEDA's objects, writes its certificates and starts its
// processes, then applies the HTTP add-on's Services (they live in KEDA's
// namespace).
func (c *Cluster) startKEDA(ctx context.Context, p *platformSetup) error {
	objs, err := p.keda.objects()
	if err != nil {
		return err
	}
	if err := p.apply.Apply(ctx, c.runID, objs...); err != nil {
		return err
	}
	if err := p.keda.writeCertDir(); err != nil {
		return err
	}
	p.kedaStarted = time.Now()
	for _, s := range p.keda.specs() {
		if err := c.startComponent(s); err != nil {
			return err
		}
	}
	if !c.parts.httpAddOn {
		return nil
	}
	return p.apply.Apply(ctx, c.runID, p.addOn.objects()...)
}

// startHTTPAddOn starts the add-on's processes.
func (c *Cluster) startHTTPAddOn(p *platformSetup) error {
	p.addOnStarted = time.Now()
	for _, s := range p.addOn.specs() {
		if err := c.startComponent(s); err != nil {
			return err
		}
	}
	return nil
}

// waitPlatform waits until KEDA, spin-operator and the resource metrics API
// answer; meanwhile it starts the data plane and connects the add-on's
// Services to its processes through it.
func (c *Cluster) waitPlatform(ctx context.Context, p *platformSetup) error {
	return parallel(
		func() error {
			if !c.parts.keda {
				return nil
			}
			return c.waitKEDA(ctx, p)
		},
		func() error {
			// metrics-server (started by kwokctl) serves the HPA's CPU
			// metric: a cluster without it would fail every CPU scenario.
			return c.pollComponents(ctx, "resource metrics API (metrics-server) available", func(ctx context.Context) (bool, string, error) {
				return c.apiServiceAvailable(ctx, metricsAPIService)
			})
		},
		func() error {
			return c.pollComponents(ctx, "spin-operator ready", func(ctx context.Context) (bool, string, error) {
				return httpOK(ctx, "http://"+loopback(p.ports.spinProbe)+"/readyz")
			})
		},
		func() error {
			if err := c.startDataPlane(ctx); err != nil {
				return err
			}
			if !c.parts.httpAddOn {
				return nil
			}
			err := parallel(
				func() error { return c.waitHTTPAddOnProcesses(ctx, p.ports.addOn) },
				func() error { return c.connectHTTPAddOn(ctx, p.addOn) },
			)
			if err == nil {
				c.timings.HTTPAddOn = time.Since(p.addOnStarted)
				c.progressf("HTTP add-on ready in %s", roundDur(c.timings.HTTPAddOn))
			}
			return err
		},
	)
}

// waitKEDA waits until the external metrics API is available, the
// operator's gRPC service listens and the admission webhook answers.
func (c *Cluster) waitKEDA(ctx context.Context, p *platformSetup) error {
	err := parallel(
		func() error {
			return c.pollComponents(ctx, "external metrics API (KEDA adapter) available", func(ctx context.Context) (bool, string, error) {
				return c.apiServiceAvailable(ctx, kedaExternalMetricsAPISvc)
			})
		},
		func() error {
			return c.pollComponents(ctx, "KEDA operator gRPC metrics service listening", func(ctx context.Context) (bool, string, error) {
				return tcpListening(loopback(p.ports.keda.OperatorGRPC))
			})
		},
		func() error {
			return c.pollComponents(ctx, "KEDA admission webhook answering", c.webhookAnswers)
		},
	)
	if err == nil {
		c.timings.KEDA = time.Since(p.kedaStarted)
		c.progressf("KEDA ready in %s", roundDur(c.timings.KEDA))
	}
	return err
}

// startDataPlane starts the emulated data plane (package dataplane): app
// instances for the Ready pods, their CPU usage annotations, the HTTP ingress
// on the provider's IngressAddr and the service-network proxy on the
// loopback port chosen before KEDA and the HTTP add-on started (their
// HTTP_PROXY).
func (c *Cluster) startDataPlane(ctx context.Context) error {
	t0 := time.Now()
	plane, err := dataplane.Start(ctx, dataplane.Config{
		RESTConfig:  c.RESTConfig(),
		IngressAddr: c.ingressAddr,
		ProxyAddr:   c.proxyAddr,
		Logger:      c.logger,
		Models:      c.dataPlaneModels(),
		// Pods share their node's CPUs (contention); the node's capacity
		// is what the scheduler sees as allocatable.
		NodeCPUMilli: c.shape.CPU.MilliValue(),
	})
	if err != nil {
		return fmt.Errorf("start data plane: %w", err)
	}
	c.dataPlane = plane
	if c.stopLoadPods, err = runLoadPods(c.clientset, c.dynamic, filepath.Join(c.workDir, "logs", "load-pods"), c.logger); err != nil {
		return err
	}
	c.progressf("data plane ready in %s: ingress %s, service-network proxy %s", roundDur(time.Since(t0)), plane.IngressURL(), plane.ProxyURL())
	return nil
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
// died and does not run again. One that runs again does not count: a
// control-plane process restarted after an attempt that exited at once
// ("address already in use") left that exit behind, and every later wait
// of the cluster failed on it.
func (c *Cluster) pollComponents(ctx context.Context, what string, check func(context.Context) (bool, string, error)) error {
	return kube.Poll(ctx, 200*time.Millisecond, what, func(ctx context.Context) (bool, string, error) {
		if e, dead := c.deadComponent(); dead {
			return false, "", e
		}
		return check(ctx)
	})
}

// deadComponent is the first unexpected exit of a supervised component
// that is not running again.
func (c *Cluster) deadComponent() (proc.Exit, bool) {
	for _, e := range c.sup.Exits() {
		if _, running := c.sup.Process(e.Name); !running {
			return e, true
		}
	}
	return proc.Exit{}, false
}

// platformCRDs are spin-operator's, KEDA's and the KEDA HTTP add-on's CRDs
// from their modules; an empty module dir (a part the cluster leaves out)
// adds none.
func platformCRDs(spinDir, kedaDir, httpAddOnDir string) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	dirs := []string{filepath.Join(spinDir, "config", "crd", "bases")}
	if kedaDir != "" {
		dirs = append(dirs, filepath.Join(kedaDir, "config", "crd", "bases"))
	}
	if httpAddOnDir != "" {
		dirs = append(dirs, filepath.Join(httpAddOnDir, filepath.FromSlash(components.HTTPAddOnCRDDir)))
	}
	for _, d := range dirs {
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

// httpOK reports whether GET u answers 200, not through any proxy.
func httpOK(ctx context.Context, u string) (bool, string, error) {
	return httpOKWith(ctx, directHTTP, u)
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

// deadControlPlane waits settle, then names the control-plane processes
// kwokctl recorded a pid for that are no longer running.
func (c *Cluster) deadControlPlane(settle time.Duration) []string {
	time.Sleep(settle)
	return c.deadKwokctlProcesses()
}

// deadKwokctlProcesses names the control-plane processes kwokctl recorded a
// pid for that are no longer running.
func (c *Cluster) deadKwokctlProcesses() []string {
	if c.kwokWorkDir == "" {
		return nil
	}
	live := c.controlPlanePids()
	files, _ := filepath.Glob(filepath.Join(c.kwokWorkDir, "clusters", c.kwokName, "pids", "*.pid"))
	var dead []string
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".pid")
		if _, ok := live[name]; !ok {
			dead = append(dead, name)
		}
	}
	return dead
}
