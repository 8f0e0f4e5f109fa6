// Package k3d creates k3d clusters (k3s in Docker) from the
// containerd-shim-spin node image with the k3d Go library, as the SpinKube
// autoscaling tutorials do by hand with the k3d command.
package k3d

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"

	k3dclient "github.com/k3d-io/k3d/v5/pkg/client"
	k3dconfig "github.com/k3d-io/k3d/v5/pkg/config"
	conf "github.com/k3d-io/k3d/v5/pkg/config/v1alpha5"
	"github.com/k3d-io/k3d/v5/pkg/runtimes"
	runtimeErr "github.com/k3d-io/k3d/v5/pkg/runtimes/errors"
	k3dtypes "github.com/k3d-io/k3d/v5/pkg/types"

	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/clusters/internal/docker"
	"github.com/scalebench/scalebench/clusters/internal/real"
)

// Provider creates k3d clusters.
type Provider struct {
	// Runtime is the container runtime; nil is k3d's Docker runtime.
	Runtime runtimes.Runtime
	// Images pulls the cluster's images before anything is created; nil
	// pulls with k3d's Docker client.
	Images ImagePuller
}

var (
	_ clusters.Provider    = (*Provider)(nil)
	_ clusters.Preflighter = (*Provider)(nil)
)

func (p *Provider) Name() string { return "k3d" }

func (p *Provider) images() ImagePuller {
	if p.Images != nil {
		return p.Images
	}
	return dockerImages{}
}

func (p *Provider) runtime() runtimes.Runtime {
	if p.Runtime != nil {
		return p.Runtime
	}
	return runtimes.SelectedRuntime
}

// Preflight checks the settings and that a Docker engine answers, before
// anything is created.
func (p *Provider) Preflight(ctx context.Context, opts clusters.Options) error {
	if err := ConfigFor(opts).Validate(); err != nil {
		return err
	}
	_, err := p.runtime().Info()
	return docker.Engine("k3d", err)
}

// Plan is the k3d cluster configuration a run would create, after k3d's own
// defaulting (the load balancer, the port mappings on their nodes).
func (p *Provider) Plan(ctx context.Context, opts clusters.Options) (*conf.ClusterConfig, error) {
	c := ConfigFor(opts)
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return clusterConfig(ctx, p.runtime(), c.SimpleConfig())
}

func clusterConfig(ctx context.Context, rt runtimes.Runtime, simple conf.SimpleConfig) (*conf.ClusterConfig, error) {
	if err := k3dconfig.ProcessSimpleConfig(&simple); err != nil {
		return nil, fmt.Errorf("k3d: config: %w", err)
	}
	cc, err := k3dconfig.TransformSimpleToClusterConfig(ctx, rt, simple, "")
	if err != nil {
		return nil, fmt.Errorf("k3d: config: %w", err)
	}
	cc, err = k3dconfig.ProcessClusterConfig(*cc)
	if err != nil {
		return nil, fmt.Errorf("k3d: config: %w", err)
	}
	return cc, nil
}

// Create creates the cluster, waits until its nodes are Ready, writes its
// kubeconfig into the run folder and finds the platform parts on it. On
// failure it deletes the cluster it started (by its exact name).
func (p *Provider) Create(ctx context.Context, opts clusters.Options) (clusters.Cluster, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	k3dLogs(log)
	if err := p.Preflight(ctx, opts); err != nil {
		return nil, err
	}
	c := ConfigFor(opts)
	rt := p.runtime()
	cc, err := clusterConfig(ctx, rt, c.SimpleConfig())
	if err != nil {
		return nil, err
	}
	if err := k3dconfig.ValidateClusterConfig(ctx, rt, *cc); err != nil {
		return nil, fmt.Errorf("k3d: config: %w", err)
	}
	if _, err := k3dclient.ClusterGet(ctx, rt, &k3dtypes.Cluster{Name: c.Name}); err == nil {
		return nil, fmt.Errorf("k3d: cluster %q exists already (a run with the same id?); delete it with `k3d cluster delete %s`", c.Name, c.Name)
	}
	if err := ensureImages(ctx, p.images(), c, opts.Progress); err != nil {
		return nil, err
	}
	progress(opts.Progress, "k3d: creating cluster %s (image %s, 1 server, %d agents, ports %s)", c.Name, c.Image, c.Agents, strings.Join(c.Ports, ", "))
	log.Info("k3d: create cluster", "name", c.Name, "image", c.Image, "agents", c.Agents, "ports", c.Ports)
	teardown := func(ctx context.Context) error { return Delete(ctx, rt, c.Name) }
	fail := func(err error) (clusters.Cluster, error) {
		if opts.Keep {
			return nil, fmt.Errorf("%w (cluster %s kept: --keep)", err, c.Name)
		}
		return nil, errors.Join(err, teardown(context.WithoutCancel(ctx)))
	}
	if err := k3dclient.ClusterRun(ctx, rt, cc); err != nil {
		return fail(fmt.Errorf("k3d: create cluster %q from image %s: %w%s", c.Name, c.Image, err, pullHint(err, c.Image)))
	}
	kubeconfig := filepath.Join(opts.WorkDir, "kubeconfig")
	if _, err := k3dclient.KubeconfigGetWrite(ctx, rt, &cc.Cluster, kubeconfig, &k3dclient.WriteKubeConfigOptions{OverwriteExisting: true}); err != nil {
		return fail(fmt.Errorf("k3d: cluster %q: write kubeconfig: %w", c.Name, err))
	}
	progress(opts.Progress, "k3d: kubeconfig %s", kubeconfig)
	cl, err := real.Open(ctx, "k3d", kubeconfig, "")
	if err != nil {
		return fail(err)
	}
	if err := cl.WaitNodesReady(ctx, 1+c.Agents); err != nil {
		return fail(fmt.Errorf("k3d: cluster %q: %w", c.Name, err))
	}
	cl.Teardown, cl.Keep = teardown, opts.Keep
	cl.Ingress = ingressURL(c.Ports)
	cl.Knobs = map[string]string{"k3d cluster": c.Name, "k3d image": c.Image, "k3d agents": fmt.Sprint(c.Agents), "k3d ports": strings.Join(c.Ports, ",")}
	if err := preparePlatform(ctx, cl, opts); err != nil {
		return fail(err)
	}
	return cl, nil
}

// Delete deletes the k3d cluster with exactly this name (its nodes, load
// balancer, network and image volume); a cluster that is not there is not
// an error. k3d deletes a cluster's network and volume only with its nodes:
// those of a creation that failed before any node ran are removed here, by
// k3d's names for them and the volume's cluster label.
func Delete(ctx context.Context, rt runtimes.Runtime, name string) error {
	err := k3dclient.ClusterDelete(ctx, rt, &k3dtypes.Cluster{Name: name}, k3dtypes.ClusterDeleteOpts{SkipRegistryCheck: true})
	if err != nil && !errors.Is(err, k3dclient.ClusterGetNoNodesFoundError) {
		return fmt.Errorf("k3d: delete cluster %q: %w", name, err)
	}
	return deleteNodeless(ctx, rt, name)
}

// deleteNodeless removes the network and image volume k3d prepares for
// cluster name before its nodes, when no node uses them.
func deleteNodeless(ctx context.Context, rt runtimes.Runtime, name string) error {
	var errs []error
	vols, err := rt.GetVolumesByLabel(ctx, map[string]string{k3dtypes.LabelClusterName: name})
	if err != nil {
		errs = append(errs, err)
	}
	for _, v := range vols {
		if err := rt.DeleteVolume(ctx, v); err != nil {
			errs = append(errs, err)
		}
	}
	network := k3dtypes.DefaultObjectNamePrefix + "-" + name
	if _, err := rt.GetNetwork(ctx, &k3dtypes.ClusterNetwork{Name: network}); err == nil {
		errs = append(errs, rt.DeleteNetwork(ctx, network))
	} else if !errors.Is(err, runtimeErr.ErrRuntimeNetworkNotExists) {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("k3d: delete cluster %q: its network or image volume: %w", name, err)
	}
	return nil
}

// ingressURL is where the first port mapping to the load balancer's port 80
// listens on this machine.
func ingressURL(ports []string) string {
	for _, p := range ports {
		mapping, filter, _ := strings.Cut(p, "@")
		if !strings.HasPrefix(filter, "loadbalancer") {
			continue
		}
		parts := strings.Split(mapping, ":")
		if len(parts) >= 2 && parts[len(parts)-1] == "80" {
			host := "localhost"
			if len(parts) == 3 {
				host = parts[0]
			}
			return "http://" + host + ":" + parts[len(parts)-2]
		}
	}
	return ""
}

// pullHint explains an image pull failure.
func pullHint(err error, image string) string {
	s := strings.ToLower(err.Error())
	if strings.Contains(s, "pull") || strings.Contains(s, "manifest") || strings.Contains(s, "not found") {
		return fmt.Sprintf(" (hint: the node image %s could not be pulled: check the registry is reachable (docker pull %s), or pass another image with --node-image)", image, image)
	}
	return ""
}

func progress(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, format+"\n", args...)
	}
}
