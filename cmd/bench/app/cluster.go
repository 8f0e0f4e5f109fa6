package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/client-go/kubernetes"

	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/clusters/existing"
	"github.com/scalebench/scalebench/platform"
	"github.com/scalebench/scalebench/runner"
)

// clusterFlags are the settings of real clusters, shared by the commands
// that create or connect to one.
type clusterFlags struct {
	kubeconfig      string
	context         string
	installPlatform bool
	nodeImage       string
	agents          int
	ports           stringList
	platform        stringList
}

func (c *clusterFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.kubeconfig, "kubeconfig", "", "existing: the cluster's kubeconfig (default: KUBECONFIG or ~/.kube/config)")
	fs.StringVar(&c.context, "context", "", "existing: the kubeconfig context (default: its current context)")
	fs.BoolVar(&c.installPlatform, "install-platform", false, "existing: install the platform parts the cluster lacks (never changes those it has)")
	fs.StringVar(&c.nodeImage, "node-image", "", "k3d, kind: the node image (default: the containerd-shim-spin image of the kind)")
	fs.IntVar(&c.agents, "agents", -1, "k3d, kind: worker nodes besides the server (default 2)")
	fs.Var(&c.platform, "platform-version", "k3d, kind, existing: a platform component's version to install, NAME=VERSION (repeatable; names: "+strings.Join(platform.Names, ", ")+")")
	fs.Var(&c.ports, "port", "k3d, kind: host port mapping, repeatable (default k3d 8081:80@loadbalancer, kind 8081:80)")
}

func (c *clusterFlags) settings(fs *flag.FlagSet) (clusters.Settings, error) {
	s := clusters.Settings{
		Kubeconfig: c.kubeconfig, Context: c.context, InstallPlatform: c.installPlatform,
		NodeImage: c.nodeImage, Ports: c.ports, PlatformVersions: c.platform,
	}
	var v platform.Versions
	for _, o := range c.platform {
		if err := v.Set(o); err != nil {
			return s, fmt.Errorf("--platform-version: %w", err)
		}
	}
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == "agents" })
	if set {
		if c.agents < 0 {
			return s, fmt.Errorf("--agents %d: must be >= 0", c.agents)
		}
		a := c.agents
		s.Agents = &a
	}
	return s, nil
}

// preflight asks a provider that can tell whether its prerequisites are
// there, before anything (not even the report folder) is created: a
// missing prerequisite is one line naming the install step, exit 3.
func preflight(ctx context.Context, p clusters.Provider, opts clusters.Options) error {
	pf, ok := p.(clusters.Preflighter)
	if !ok {
		return nil
	}
	err := pf.Preflight(ctx, opts)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, clusters.ErrPrerequisite):
		return harnessErr(err)
	}
	return usageErr("%v", err)
}

const clusterUsage = `Usage:
  bench cluster up [--ingress-addr ADDR] [--dir DIR] [--progress auto|always|never]
      start an emulated cluster (control plane, KEDA, the HTTP add-on, the Spin
      data plane), print its kubeconfig, and keep it running until interrupted
      (Ctrl-C); use it with bench run --cluster existing --kubeconfig FILE, or kubectl.
      Where its ingress, SQS endpoint and Redis store are (they live in this
      process) and its environment go into the ConfigMap
      kube-public/scalebench-cluster, which --cluster existing reads.
`

func clusterCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "up" {
		fmt.Fprint(stderr, clusterUsage)
		if len(args) == 0 {
			return usageErr("cluster: no subcommand given (allowed: up)")
		}
		return usageErr("cluster: unknown subcommand %q (allowed: up)", args[0])
	}
	return clusterUpCmd(ctx, args[1:], stdout, stderr)
}

// clusterUpReady, when set by a test, receives the kubeconfig path once the
// cluster is up.
var clusterUpReady func(kubeconfig string)

func clusterUpCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("cluster up", stderr)
	ingressAddr := fs.String("ingress-addr", "127.0.0.1:8081", "where the cluster's ingress listens (the docs' load balancer port); 127.0.0.1:0 picks a free port")
	dir := fs.String("dir", "", "folder for the cluster's files, kubeconfig included (default: a new temporary folder, removed on exit)")
	progress := fs.String("progress", "auto", "progress lines on stderr: auto (when a terminal), always, never")
	verbose := fs.Bool("v", false, "verbose logs on stderr")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr("cluster up: unexpected arguments %q", fs.Args())
	}
	if *progress != "auto" && *progress != "always" && *progress != "never" {
		return usageErr("cluster up: --progress %q: allowed: auto, always, never", *progress)
	}
	provider, err := providerFor("emulated")
	if err != nil {
		return harnessErr(err)
	}
	runID := runner.NewRunID()
	workDir, own := *dir, false
	if workDir == "" {
		if workDir, err = os.MkdirTemp("", "scalebench-cluster-"); err != nil {
			return harnessErr(err)
		}
		own = true
	} else if err := os.MkdirAll(workDir, 0o755); err != nil {
		return harnessErr(err)
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelDebug
	}
	opts := clusters.Options{
		Name: "scalebench", RunID: runID, WorkDir: workDir, IngressAddr: *ingressAddr,
		Logger:   slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})),
		Progress: progressWriter(stderr, *progress),
	}
	cl, err := provider.Create(ctx, opts)
	if err != nil {
		if own {
			os.RemoveAll(workDir)
		}
		return harnessErr(fmt.Errorf("cluster up: %w", err))
	}
	kubeconfig, _ := filepath.Abs(cl.KubeconfigPath())
	ingress := ""
	if in, ok := cl.(clusters.HTTPIngress); ok {
		ingress = strings.TrimSuffix(in.IngressURL(), "/")
	}
	info := existing.Info{Provider: provider.Name(), RunID: runID, IngressURL: ingress}
	sqsLine := "none"
	if sp, ok := cl.(clusters.SQSProvider); ok {
		// Started now, not on a scenario's demand: runs that connect to this
		// cluster read where it is from the ConfigMap.
		env, err := sp.SQSEnv(ctx)
		if err != nil {
			sqsLine = "unavailable (keda-sqs cannot run on this cluster): " + err.Error()
		} else {
			info.SQS = &env
			sqsLine = fmt.Sprintf("%s (region %s); store (Redis protocol) %s", env.Endpoint, env.Region, env.RedisAddr)
		}
	}
	info.Environment = cl.Environment()
	cs, err := kubernetes.NewForConfig(cl.RESTConfig())
	if err == nil {
		err = existing.Publish(ctx, cs, info)
	}
	if err != nil {
		derr := cl.Delete(context.WithoutCancel(ctx))
		if own {
			derr = errors.Join(derr, os.RemoveAll(workDir))
		}
		return harnessErr(errors.Join(fmt.Errorf("cluster up: %w", err), derr))
	}
	fmt.Fprintf(stdout, "cluster %s is up (%s); interrupt (Ctrl-C) to stop it\n", runID, provider.Name())
	fmt.Fprintf(stdout, "kubeconfig: %s\n", kubeconfig)
	if ingress != "" {
		fmt.Fprintf(stdout, "ingress: %s\n", ingress)
	}
	fmt.Fprintf(stdout, "sqs: %s\n", sqsLine)
	fmt.Fprintf(stdout, "cluster info: ConfigMap %s/%s (ingress, SQS endpoint and store, environment; read by --cluster existing)\n", existing.InfoNamespace, existing.InfoName)
	fmt.Fprintf(stdout, "use it: bench run --cluster existing --kubeconfig %s\n", kubeconfig)
	if clusterUpReady != nil {
		clusterUpReady(kubeconfig)
	}
	<-ctx.Done()
	fmt.Fprintln(stdout, "stopping the cluster")
	derr := cl.Delete(context.WithoutCancel(ctx))
	if own {
		derr = errors.Join(derr, os.RemoveAll(workDir))
	}
	if derr != nil {
		return harnessErr(fmt.Errorf("cluster up: stop: %w", derr))
	}
	return nil
}
