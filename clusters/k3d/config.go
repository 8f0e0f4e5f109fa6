package k3d

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	conf "github.com/k3d-io/k3d/v5/pkg/config/v1alpha5"
	k3dtypes "github.com/k3d-io/k3d/v5/pkg/types"

	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/clusters/internal/real"
)

// Defaults, as in the SpinKube autoscaling tutorials.
const (
	// DefaultImage is the last containerd-shim-spin release with a k3d
	// image (k3s v1.35.2).
	DefaultImage  = "ghcr.io/spinframework/containerd-shim-spin/k3d:v0.24.0"
	DefaultAgents = 2
	// RunIDLabel labels every container k3d creates for a run.
	RunIDLabel = "dev.scalebench.run-id"
	// HarnessLabel says which harness created the cluster ("host/pid"), so
	// bench cleanup leaves the clusters of running harnesses alone.
	HarnessLabel = "dev.scalebench.harness"
	// KeepLabel is "true" on clusters created with --keep.
	KeepLabel = "dev.scalebench.keep"
	// Timeout bounds the cluster's creation, image pulls included.
	Timeout = 10 * time.Minute
)

// DefaultPorts maps the docs' load balancer port.
var DefaultPorts = []string{"8081:80@loadbalancer"}

// Config is what a run asks of its k3d cluster.
type Config struct {
	Name  string
	RunID string
	// Harness is the creating harness ("host/pid"); Keep is --keep.
	Harness string
	Keep    bool
	Image   string
	Agents  int
	Ports   []string
}

// ConfigFor applies a run's settings to the defaults.
func ConfigFor(opts clusters.Options) Config {
	c := Config{Name: ClusterName(opts.Name, opts.RunID), RunID: opts.RunID, Harness: real.Harness(), Keep: opts.Keep, Image: DefaultImage, Agents: DefaultAgents, Ports: DefaultPorts}
	if opts.NodeImage != "" {
		c.Image = opts.NodeImage
	}
	if opts.Agents != nil {
		c.Agents = *opts.Agents
	}
	if len(opts.Ports) > 0 {
		c.Ports = opts.Ports
	}
	return c
}

// ClusterName is the k3d cluster's exact name: base and the run id's random
// suffix, within k3d's 32 characters, so parallel runs never share one.
func ClusterName(base, runID string) string {
	if base == "" {
		base = "scalebench"
	}
	suffix := runID
	if i := strings.LastIndex(runID, "-"); i >= 0 {
		suffix = runID[i+1:]
	}
	name := base
	if suffix != "" {
		name = base + "-" + suffix
	}
	if len(name) > k3dtypes.DefaultClusterNameMaxLength {
		name = name[len(name)-k3dtypes.DefaultClusterNameMaxLength:]
		name = strings.TrimLeft(name, "-")
	}
	return name
}

// Validate names the field and the allowed values of a bad setting.
func (c Config) Validate() error {
	if c.Agents < 0 || c.Agents > 10 {
		return fmt.Errorf("k3d: agents %d: allowed 0..10", c.Agents)
	}
	if c.Image == "" {
		return fmt.Errorf("k3d: image: must not be empty")
	}
	for _, p := range c.Ports {
		if !strings.Contains(p, ":") || !strings.Contains(p, "@") {
			return fmt.Errorf("k3d: port %q: want HOST:CONTAINER@NODEFILTER (e.g. 8081:80@loadbalancer)", p)
		}
	}
	return nil
}

// SimpleConfig is the k3d configuration file (k3d.io/v1alpha5 Simple) for
// c: one server, c.Agents agents, the ports, the run id as a label on every
// container and node, readiness waited for, the default kubeconfig left
// alone (the kubeconfig goes to the run folder).
func (c Config) SimpleConfig() conf.SimpleConfig {
	s := conf.SimpleConfig{
		Servers: 1,
		Agents:  c.Agents,
		Image:   c.Image,
		Options: conf.SimpleConfigOptions{
			K3dOptions: conf.SimpleConfigOptionsK3d{Wait: true, Timeout: Timeout},
			KubeconfigOptions: conf.SimpleConfigOptionsKubeconfig{
				UpdateDefaultKubeconfig: false, SwitchCurrentContext: false,
			},
			Runtime: conf.SimpleConfigOptionsRuntime{
				Labels: []conf.LabelWithNodeFilters{
					{Label: RunIDLabel + "=" + c.RunID, NodeFilters: []string{"all"}},
					{Label: HarnessLabel + "=" + c.Harness, NodeFilters: []string{"all"}},
					{Label: KeepLabel + "=" + strconv.FormatBool(c.Keep), NodeFilters: []string{"all"}},
				},
			},
			K3sOptions: conf.SimpleConfigOptionsK3s{
				NodeLabels: []conf.LabelWithNodeFilters{{Label: RunIDLabel + "=" + c.RunID, NodeFilters: []string{"server:*", "agent:*"}}},
			},
		},
	}
	s.APIVersion, s.Kind = conf.ApiVersion, "Simple"
	s.Name = c.Name
	for _, p := range c.Ports {
		host, filter, _ := strings.Cut(p, "@")
		s.Ports = append(s.Ports, conf.PortWithNodeFilters{Port: host, NodeFilters: []string{filter}})
	}
	return s
}
