// Package kind creates kind clusters (Kubernetes in Docker) with the kind Go
// library: from the containerd-shim-spin kind node image with the spin
// runtime registered in containerd, or, for a shim release without one,
// from the plain kind node image with the shim put on the nodes by the
// SpinKube node installer.
package kind

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/kind/pkg/cluster"
	kindexec "sigs.k8s.io/kind/pkg/exec"
	kindlog "sigs.k8s.io/kind/pkg/log"

	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/clusters/internal/docker"
	"github.com/scalebench/scalebench/clusters/internal/real"
	"github.com/scalebench/scalebench/kube"
)

// Timeouts.
const (
	// ReadyTimeout is kind's wait for the control plane.
	ReadyTimeout = 5 * time.Minute
	// InstallerTimeout bounds the node installer on every node.
	InstallerTimeout = 5 * time.Minute
)

// Provider creates kind clusters.
type Provider struct {
	// StateDir holds a marker per cluster a run created, which bench
	// cleanup reads; "" is DefaultStateDir.
	StateDir string
	// Clusters lists and deletes existing clusters for bench cleanup; nil
	// is kind's Docker provider.
	Clusters Clusters
}

func (p *Provider) clusters() Clusters {
	if p.Clusters != nil {
		return p.Clusters
	}
	return cluster.NewProvider(cluster.ProviderWithDocker(), cluster.ProviderWithLogger(logger{slog.New(slog.DiscardHandler)}))
}

var (
	_ clusters.Provider    = (*Provider)(nil)
	_ clusters.Preflighter = (*Provider)(nil)
)

func (p *Provider) Name() string { return "kind" }

// Preflight checks the settings and that the docker command and a Docker
// engine are there, before anything is created.
func (p *Provider) Preflight(ctx context.Context, opts clusters.Options) error {
	if err := ConfigFor(opts).Validate(); err != nil {
		return err
	}
	return docker.CheckCLI(ctx, "kind")
}

// Create creates the cluster, waits until its nodes are Ready, installs the
// shim with the node installer when the node image has none, writes the
// kubeconfig into the run folder and finds the platform parts on it. On
// failure kind deletes the nodes it started (unless --keep).
func (p *Provider) Create(ctx context.Context, opts clusters.Options) (clusters.Cluster, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := p.Preflight(ctx, opts); err != nil {
		return nil, err
	}
	c := ConfigFor(opts)
	cfg, err := c.Cluster()
	if err != nil {
		return nil, err
	}
	kp := cluster.NewProvider(cluster.ProviderWithDocker(), cluster.ProviderWithLogger(logger{log}))
	if existing, err := kp.List(); err == nil {
		for _, n := range existing {
			if n == c.Name {
				return nil, fmt.Errorf("kind: cluster %q exists already (a run with the same id?); delete it with `kind delete cluster --name %s`", c.Name, c.Name)
			}
		}
	}
	kubeconfig := filepath.Join(opts.WorkDir, "kubeconfig")
	installer := "none (the node image has the shim)"
	if c.NeedsNodeInstaller() {
		installer = "SpinKube node installer " + c.ShimVersion
	}
	progress(opts.Progress, "kind: creating cluster %s (image %s, 1 control plane, %d workers, ports %s, shim: %s)", c.Name, c.Image(), c.Agents, strings.Join(c.Ports, ", "), installer)
	// The marker says, should this harness die, that the cluster is
	// scalebench's (bench cleanup); it goes with the cluster.
	if err := p.writeMarker(marker{Cluster: c.Name, RunID: c.RunID, Harness: real.Harness(), Keep: opts.Keep}); err != nil {
		return nil, err
	}
	teardown := func(context.Context) error {
		if err := kp.Delete(c.Name, kubeconfig); err != nil {
			return fmt.Errorf("kind: delete cluster %q: %w", c.Name, err)
		}
		return p.removeMarker(c.Name)
	}
	fail := func(err error) (clusters.Cluster, error) {
		if opts.Keep {
			return nil, fmt.Errorf("%w (cluster %s kept: --keep)", err, c.Name)
		}
		return nil, errors.Join(err, teardown(ctx))
	}
	err = kp.Create(c.Name,
		cluster.CreateWithV1Alpha4Config(cfg),
		cluster.CreateWithWaitForReady(ReadyTimeout),
		cluster.CreateWithKubeconfigPath(kubeconfig),
		cluster.CreateWithRetain(opts.Keep),
		cluster.CreateWithDisplayUsage(false),
		cluster.CreateWithDisplaySalutation(false),
	)
	if err != nil {
		// kind removed the nodes it started unless retained.
		err = fmt.Errorf("kind: create cluster %q from image %s: %w%s%s", c.Name, c.Image(), err, commandReason(err), pullHint(err, c.Image()))
		if !opts.Keep {
			err = errors.Join(err, p.removeMarker(c.Name))
		}
		return nil, err
	}
	progress(opts.Progress, "kind: kubeconfig %s", kubeconfig)
	cl, err := real.Open(ctx, "kind", kubeconfig, "")
	if err != nil {
		return fail(err)
	}
	if err := cl.WaitNodesReady(ctx, 1+c.Agents); err != nil {
		return fail(fmt.Errorf("kind: cluster %q: %w", c.Name, err))
	}
	if c.NeedsNodeInstaller() {
		if err := installShim(ctx, cl.Clients, c); err != nil {
			return fail(err)
		}
	}
	cl.Teardown, cl.Keep = teardown, opts.Keep
	cl.Ingress = ingressURL(c.Ports)
	cl.Knobs = map[string]string{"kind cluster": c.Name, "kind image": c.Image(), "kind workers": fmt.Sprint(c.Agents),
		"kind ports": strings.Join(c.Ports, ","), "shim": c.ShimVersion + " (" + installer + ")"}
	// The platform, with the Helm SDK; deleting the cluster removes it.
	if err := cl.EnsurePlatform(ctx, opts, real.PlatformSettings{Install: true}); err != nil {
		return fail(err)
	}
	return cl, nil
}

// installShim runs the node installer on every node and waits until each
// has finished.
func installShim(ctx context.Context, k *kube.Clients, c Config) error {
	ds := NodeInstaller(c.ShimVersion, c.RunID)
	if err := k.Apply(ctx, c.RunID, ds); err != nil {
		return fmt.Errorf("kind: node installer: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, InstallerTimeout)
	defer cancel()
	return kube.Poll(ctx, 2*time.Second, "the Spin node installer on every node", func(ctx context.Context) (bool, string, error) {
		d, err := k.Kube.AppsV1().DaemonSets(InstallerNamespace).Get(ctx, InstallerName, metav1.GetOptions{})
		if err != nil {
			return false, err.Error(), nil
		}
		st := d.Status
		return st.DesiredNumberScheduled > 0 && st.NumberReady == st.DesiredNumberScheduled,
			fmt.Sprintf("%d/%d nodes done", st.NumberReady, st.DesiredNumberScheduled), nil
	})
}

// commandReason is the last line a docker command kind ran printed (kind's
// error has only the exit status): ": <why>", or "".
func commandReason(err error) string {
	if re := kindexec.RunErrorForError(err); re != nil {
		if l := docker.LastLine(string(re.Output)); l != "" {
			return ": " + l
		}
	}
	return ""
}

// pullHint explains an image pull failure.
func pullHint(err error, image string) string {
	s := strings.ToLower(err.Error())
	if strings.Contains(s, "pull") || strings.Contains(s, "image") {
		return fmt.Sprintf(" (hint: the node image %s could not be pulled: check the registry is reachable (docker pull %s), or pass another image with --node-image)", image, image)
	}
	return ""
}

func progress(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, format+"\n", args...)
	}
}

// logger sends kind's messages to slog.
type logger struct{ l *slog.Logger }

func (g logger) Warn(m string)                      { g.l.Warn("kind: " + m) }
func (g logger) Warnf(f string, a ...any)           { g.l.Warn("kind: " + fmt.Sprintf(f, a...)) }
func (g logger) Error(m string)                     { g.l.Error("kind: " + m) }
func (g logger) Errorf(f string, a ...any)          { g.l.Error("kind: " + fmt.Sprintf(f, a...)) }
func (g logger) V(kindlog.Level) kindlog.InfoLogger { return info(g) }

type info logger

func (i info) Info(m string)            { i.l.Debug("kind: " + m) }
func (i info) Infof(f string, a ...any) { i.l.Debug("kind: " + fmt.Sprintf(f, a...)) }
func (i info) Enabled() bool            { return i.l.Enabled(context.Background(), slog.LevelDebug) }
