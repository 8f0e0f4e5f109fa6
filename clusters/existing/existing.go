// Package existing runs scenarios on a cluster that exists already, reached
// through a kubeconfig and context. It finds which platform parts are there
// (reported in the environment), installs only the missing ones when asked
// (--install-platform), and never deletes or changes what it did not
// create.
package existing

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/clusters/internal/real"
	"github.com/scalebench/scalebench/results"
	"github.com/scalebench/scalebench/sqs"
)

// ReadyTimeout bounds the wait for a Ready node.
const ReadyTimeout = time.Minute

// Provider connects to an existing cluster.
type Provider struct{}

var (
	_ clusters.Provider    = (*Provider)(nil)
	_ clusters.Preflighter = (*Provider)(nil)
)

func (p *Provider) Name() string { return "existing" }

// Preflight checks that a kubeconfig is given (--kubeconfig or KUBECONFIG
// or the default file) and has the context asked for.
func (p *Provider) Preflight(ctx context.Context, opts clusters.Options) error {
	rules := loadingRules(opts.Kubeconfig)
	cfg, err := rules.Load()
	if err != nil {
		return &clusters.PrerequisiteError{Kind: "existing", Missing: "a readable kubeconfig (" + err.Error() + ")", Step: "pass --kubeconfig FILE (and --context NAME)"}
	}
	if len(cfg.Contexts) == 0 {
		return &clusters.PrerequisiteError{Kind: "existing", Missing: "a kubeconfig with a context (none found" + where(opts.Kubeconfig) + ")", Step: "pass --kubeconfig FILE, e.g. the one `bench cluster up` prints"}
	}
	if opts.Context != "" {
		if _, ok := cfg.Contexts[opts.Context]; !ok {
			var names []string
			for n := range cfg.Contexts {
				names = append(names, n)
			}
			return fmt.Errorf("existing: --context %q: not in the kubeconfig (allowed: %s)", opts.Context, strings.Join(names, ", "))
		}
	} else if cfg.CurrentContext == "" {
		return fmt.Errorf("existing: the kubeconfig%s has no current context: pass --context NAME", where(opts.Kubeconfig))
	}
	return nil
}

func loadingRules(path string) *clientcmd.ClientConfigLoadingRules {
	if path != "" {
		return &clientcmd.ClientConfigLoadingRules{ExplicitPath: path}
	}
	return clientcmd.NewDefaultClientConfigLoadingRules()
}

func where(path string) string {
	if path != "" {
		return " " + path
	}
	if env := os.Getenv("KUBECONFIG"); env != "" {
		return " KUBECONFIG=" + env
	}
	return " " + clientcmd.RecommendedHomeFile
}

// Create connects, waits for a Ready node and finds the platform parts.
// Missing parts are installed only with --install-platform; the cluster's
// Delete removes only what this run installed, never the cluster.
func (p *Provider) Create(ctx context.Context, opts clusters.Options) (clusters.Cluster, error) {
	if err := p.Preflight(ctx, opts); err != nil {
		return nil, err
	}
	cl, err := real.Open(ctx, "existing", opts.Kubeconfig, opts.Context)
	if err != nil {
		return nil, err
	}
	wctx, cancel := context.WithTimeout(ctx, ReadyTimeout)
	defer cancel()
	if err := cl.WaitNodesReady(wctx, 1); err != nil {
		return nil, fmt.Errorf("existing cluster at %s: %w", cl.Config.Host, err)
	}
	cl.Knobs = map[string]string{"api server": cl.Config.Host}
	if opts.Context != "" {
		cl.Knobs["context"] = opts.Context
	}
	info, hasInfo, err := ReadInfo(ctx, cl.Clients.Kube)
	if err != nil {
		return nil, fmt.Errorf("existing cluster at %s: %w", cl.Config.Host, err)
	}
	if hasInfo {
		cl.Ingress = info.IngressURL
		cl.Knobs["cluster info"] = fmt.Sprintf("ConfigMap %s/%s (%s cluster, run %s)", InfoNamespace, InfoName, info.Provider, info.RunID)
	}
	// Only the missing parts are installed, labelled with the run id; Delete
	// uninstalls exactly those and never the cluster or what it had.
	cl.Keep = opts.Keep
	if hasInfo && info.SQS != nil {
		// The cluster names its own SQS side (bench cluster up): no Valkey or LocalStack is needed.
		opts.NeedsSQS = false
	}
	err = cl.EnsurePlatform(ctx, opts, real.PlatformSettings{
		Install: opts.InstallPlatform, Hint: "pass --install-platform to install them (only the missing parts; nothing the cluster has is changed)",
		UninstallOnDelete: true,
	})
	if opts.Progress != nil {
		for _, part := range cl.Parts {
			state := "missing"
			switch {
			case part.InstalledByRun:
				state = "installed " + part.Version
			case part.Present && part.Version != "":
				state = "found " + part.Version
			case part.Present:
				state = "found, version unknown"
			}
			fmt.Fprintf(opts.Progress, "existing: %s: %s (%s)\n", part.Name, state, part.Detail)
		}
	}
	if err != nil {
		// A partial install is removed again (unless --keep).
		return nil, errors.Join(err, cl.Delete(context.WithoutCancel(ctx)))
	}
	c := &Cluster{Cluster: cl}
	if hasInfo {
		c.info = &info
	}
	return c, nil
}

// Cluster is an existing cluster; what its scalebench-cluster ConfigMap
// says (a cluster `bench cluster up` started) completes its environment
// and gives keda-sqs its SQS endpoint and store.
type Cluster struct {
	*real.Cluster
	info *Info
}

var _ clusters.SQSProvider = (*Cluster)(nil)

// Environment is what the run found (Kubernetes version, the platform parts
// detected, with their versions and evidence) plus what the cluster says of
// itself: the parts it emulates, its knobs, and the versions of components
// detection cannot see (the control plane's, the SQS side's).
func (c *Cluster) Environment() results.Environment {
	env := c.Cluster.Environment()
	if c.info == nil {
		return env
	}
	decl := c.info.Environment
	if decl.Emulated != nil {
		env.Emulated = decl.Emulated
	}
	for k, v := range decl.Knobs {
		if _, ok := env.Knobs[k]; !ok {
			env.Knobs[k] = v
		}
	}
	for k, v := range decl.Components {
		if env.Components == nil {
			env.Components = map[string]string{}
		}
		have, ok := env.Components[k]
		switch {
		case !ok:
			env.Components[k] = v
		case have == real.UnknownVersion && v != "":
			// Found, but nothing on the cluster tells its version (no Helm
			// release, no Deployment, no version label): the cluster's own word.
			env.Components[k] = v
			env.Platform[k] += fmt.Sprintf("; version %s as the ConfigMap %s/%s says (nothing on the cluster tells it)", v, InfoNamespace, InfoName)
		}
	}
	return env
}

// SQSEnv is the SQS endpoint and store the cluster's ConfigMap names (a
// cluster `bench cluster up` started), else the platform's Valkey and
// LocalStack (found, or installed with --install-platform).
func (c *Cluster) SQSEnv(ctx context.Context) (sqs.Env, error) {
	if c.info != nil && c.info.SQS != nil {
		return *c.info.SQS, nil
	}
	env, err := c.Cluster.SQSEnv(ctx)
	if err != nil {
		return sqs.Env{}, fmt.Errorf("%w; a cluster `bench cluster up` started names its own in the ConfigMap %s/%s", err, InfoNamespace, InfoName)
	}
	return env, nil
}
