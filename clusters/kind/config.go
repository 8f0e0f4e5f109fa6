package kind

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/semver"
	"sigs.k8s.io/kind/pkg/apis/config/v1alpha4"

	"github.com/scalebench/scalebench/clusters"
)

const (
	// DefaultShimVersion is the containerd-shim-spin release whose kind
	// node image is used by default.
	DefaultShimVersion = "v0.25.0"
	// FirstKindImage is the first shim release that publishes a kind node
	// image (ghcr.io/spinframework/containerd-shim-spin/kind:<version>);
	// older releases published k3d images only.
	FirstKindImage = "v0.25.0"
	// ShimKindImageRepo is the shim's kind node image repository.
	ShimKindImageRepo = "ghcr.io/spinframework/containerd-shim-spin/kind"
	// PlainNodeImage is the kind node image the shim's kind image is built
	// on; for a shim release without a kind image the SpinKube node
	// installer puts the shim on it.
	PlainNodeImage = "kindest/node:v1.35.0"
	// NodeInstallerRepo is the SpinKube node installer image (the
	// runtime-class-manager/kwasm installer with only the Spin shim).
	NodeInstallerRepo = "ghcr.io/spinframework/containerd-shim-spin/node-installer"
	DefaultAgents     = 2
	// RunIDLabel labels every node with the run id.
	RunIDLabel = "dev.scalebench.run-id"
)

// SpinRuntimePatch registers the Spin shim as containerd runtime "spin"
// (the handler of RuntimeClass wasmtime-spin-v2) on every node.
const SpinRuntimePatch = `[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.spin]
  runtime_type = "io.containerd.spin.v2"
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.spin.options]
  SystemdCgroup = false`

// DefaultPorts maps the docs' load balancer port to port 80 of the control
// plane node, where the ingress controller listens (kind's ingress guide).
var DefaultPorts = []string{"8081:80"}

// Config is what a run asks of its kind cluster.
type Config struct {
	Name        string
	RunID       string
	ShimVersion string
	// NodeImage is the node image; "" derives it from ShimVersion.
	NodeImage string
	Agents    int
	Ports     []string
}

// ConfigFor applies a run's settings to the defaults. A --node-image of the
// shim's kind repository sets the shim version from its tag.
func ConfigFor(opts clusters.Options) Config {
	c := Config{Name: ClusterName(opts.Name, opts.RunID), RunID: opts.RunID, ShimVersion: DefaultShimVersion, Agents: DefaultAgents, Ports: DefaultPorts}
	if opts.NodeImage != "" {
		c.NodeImage = opts.NodeImage
		if repo, tag, ok := strings.Cut(opts.NodeImage, ":"); ok && repo == ShimKindImageRepo {
			c.ShimVersion, c.NodeImage = tag, ""
		}
	}
	if opts.Agents != nil {
		c.Agents = *opts.Agents
	}
	if len(opts.Ports) > 0 {
		c.Ports = opts.Ports
	}
	return c
}

// ClusterName is the kind cluster's exact name: base and the run id's
// random suffix, so parallel runs never share one.
func ClusterName(base, runID string) string {
	if base == "" {
		base = "scalebench"
	}
	if i := strings.LastIndex(runID, "-"); i >= 0 {
		runID = runID[i+1:]
	}
	if runID == "" {
		return base
	}
	return base + "-" + runID
}

// ShimImage reports whether the shim comes in the node image (a release
// with a kind image) rather than from the node installer.
func (c Config) ShimImage() bool {
	return c.NodeImage == "" && semver.IsValid(c.ShimVersion) && semver.Compare(c.ShimVersion, FirstKindImage) >= 0
}

// Image is the node image of every node.
func (c Config) Image() string {
	switch {
	case c.NodeImage != "":
		return c.NodeImage
	case c.ShimImage():
		return ShimKindImageRepo + ":" + c.ShimVersion
	}
	return PlainNodeImage
}

// NeedsNodeInstaller reports whether the shim must be installed on the
// nodes after creation.
func (c Config) NeedsNodeInstaller() bool { return !c.ShimImage() }

// Validate names the field and the allowed values of a bad setting.
func (c Config) Validate() error {
	if c.Agents < 0 || c.Agents > 10 {
		return fmt.Errorf("kind: agents %d: allowed 0..10", c.Agents)
	}
	if !semver.IsValid(c.ShimVersion) {
		return fmt.Errorf("kind: shim version %q: want a release tag such as %s", c.ShimVersion, DefaultShimVersion)
	}
	for _, p := range c.Ports {
		if _, err := portMapping(p); err != nil {
			return err
		}
	}
	return nil
}

// Cluster is the kind configuration (kind.x-k8s.io/v1alpha4) for c: one
// control plane carrying the ingress port mappings and the ingress-ready
// label, c.Agents workers, every node labelled with the run id, and the
// containerd patch registering the spin runtime when the node image has
// the shim.
func (c Config) Cluster() (*v1alpha4.Cluster, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	cl := &v1alpha4.Cluster{TypeMeta: v1alpha4.TypeMeta{Kind: "Cluster", APIVersion: "kind.x-k8s.io/v1alpha4"}, Name: c.Name}
	labels := map[string]string{RunIDLabel: c.RunID}
	cp := v1alpha4.Node{Role: v1alpha4.ControlPlaneRole, Image: c.Image(), Labels: map[string]string{RunIDLabel: c.RunID, "ingress-ready": "true"}}
	for _, p := range c.Ports {
		pm, _ := portMapping(p)
		cp.ExtraPortMappings = append(cp.ExtraPortMappings, pm)
	}
	cl.Nodes = append(cl.Nodes, cp)
	for range c.Agents {
		cl.Nodes = append(cl.Nodes, v1alpha4.Node{Role: v1alpha4.WorkerRole, Image: c.Image(), Labels: labels})
	}
	if c.ShimImage() {
		cl.ContainerdConfigPatches = []string{SpinRuntimePatch}
	}
	v1alpha4.SetDefaultsCluster(cl)
	return cl, nil
}

// portMapping parses [LISTEN_ADDRESS:]HOST_PORT:CONTAINER_PORT.
func portMapping(p string) (v1alpha4.PortMapping, error) {
	parts := strings.Split(p, ":")
	bad := fmt.Errorf("kind: port %q: want [ADDRESS:]HOST_PORT:CONTAINER_PORT (e.g. 8081:80)", p)
	if len(parts) < 2 || len(parts) > 3 {
		return v1alpha4.PortMapping{}, bad
	}
	n := len(parts)
	host, err1 := strconv.ParseInt(parts[n-2], 10, 32)
	ctr, err2 := strconv.ParseInt(parts[n-1], 10, 32)
	if err1 != nil || err2 != nil || host < 1 || host > 65535 || ctr < 1 || ctr > 65535 {
		return v1alpha4.PortMapping{}, bad
	}
	pm := v1alpha4.PortMapping{HostPort: int32(host), ContainerPort: int32(ctr), Protocol: v1alpha4.PortMappingProtocolTCP}
	if n == 3 {
		pm.ListenAddress = parts[0]
	}
	return pm, nil
}

// ingressURL is where the first mapping to the control plane's port 80
// listens on this machine.
func ingressURL(ports []string) string {
	for _, p := range ports {
		pm, err := portMapping(p)
		if err != nil || pm.ContainerPort != 80 {
			continue
		}
		host := pm.ListenAddress
		if host == "" || host == "0.0.0.0" {
			host = "localhost"
		}
		return fmt.Sprintf("http://%s:%d", host, pm.HostPort)
	}
	return ""
}
