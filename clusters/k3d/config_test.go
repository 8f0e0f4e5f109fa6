package k3d

import (
	"context"
	"strings"
	"testing"

	"github.com/k3d-io/k3d/v5/pkg/runtimes"
	k3dtypes "github.com/k3d-io/k3d/v5/pkg/types"

	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/clusters/internal/real"
)

const runID = "20261201-234500-a1b2c3"

func TestConfigDefaults(t *testing.T) {
	c := ConfigFor(clusters.Options{Name: "scalebench", RunID: runID})
	if c.Name != "scalebench-a1b2c3" || c.Image != DefaultImage || c.Agents != 2 || strings.Join(c.Ports, ",") != "8081:80@loadbalancer" {
		t.Fatalf("defaults: %+v", c)
	}
	s := c.SimpleConfig()
	if s.Kind != "Simple" || s.APIVersion != "k3d.io/v1alpha5" || s.Name != c.Name || s.Servers != 1 || s.Agents != 2 || s.Image != DefaultImage {
		t.Fatalf("simple config: %+v", s)
	}
	if len(s.Ports) != 1 || s.Ports[0].Port != "8081:80" || s.Ports[0].NodeFilters[0] != "loadbalancer" {
		t.Fatalf("ports: %+v", s.Ports)
	}
	if !s.Options.K3dOptions.Wait || s.Options.KubeconfigOptions.UpdateDefaultKubeconfig || s.Options.KubeconfigOptions.SwitchCurrentContext {
		t.Fatalf("options: wait for readiness, leave the user's kubeconfig alone: %+v", s.Options)
	}
	if l := s.Options.Runtime.Labels; len(l) != 3 || l[0].Label != RunIDLabel+"="+runID || l[1].Label != HarnessLabel+"="+real.Harness() || l[2].Label != KeepLabel+"=false" {
		t.Fatalf("runtime labels: %+v", l)
	}
}

func TestConfigOverrides(t *testing.T) {
	agents := 0
	c := ConfigFor(clusters.Options{Name: "x", RunID: runID, Settings: clusters.Settings{
		NodeImage: "example.invalid/node:v1", Agents: &agents, Ports: []string{"9090:80@loadbalancer", "6443:6443@server:0"},
	}})
	if c.Image != "example.invalid/node:v1" || c.Agents != 0 || len(c.Ports) != 2 {
		t.Fatalf("overrides: %+v", c)
	}
	if got := ingressURL(c.Ports); got != "http://localhost:9090" {
		t.Fatalf("ingress %q", got)
	}
	if got := ingressURL([]string{"127.0.0.2:8081:80@loadbalancer"}); got != "http://127.0.0.2:8081" {
		t.Fatalf("ingress with host ip %q", got)
	}
	if got := ingressURL([]string{"6443:6443@server:0"}); got != "" {
		t.Fatalf("no ingress port: %q", got)
	}
}

func TestConfigValidate(t *testing.T) {
	bad := []struct {
		c    Config
		want string
	}{
		{Config{Image: "i", Agents: -1}, "agents -1: allowed 0..10"},
		{Config{Image: "", Agents: 1}, "image: must not be empty"},
		{Config{Image: "i", Ports: []string{"8081"}}, `port "8081": want HOST:CONTAINER@NODEFILTER`},
	}
	for _, b := range bad {
		if err := b.c.Validate(); err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%+v: error %v, want %q", b.c, err, b.want)
		}
	}
}

func TestClusterName(t *testing.T) {
	for _, c := range []struct{ base, id, want string }{
		{"scalebench", runID, "scalebench-a1b2c3"},
		{"", "abc", "scalebench-abc"},
		{strings.Repeat("n", 40), runID, strings.Repeat("n", 25) + "-a1b2c3"},
	} {
		got := ClusterName(c.base, c.id)
		if got != c.want || len(got) > k3dtypes.DefaultClusterNameMaxLength {
			t.Errorf("ClusterName(%q, %q) = %q, want %q", c.base, c.id, got, c.want)
		}
	}
}

// The k3d library turns the simple config into the cluster it would create
// without a Docker engine: one server, two agents, the load balancer with
// the docs' port, every container labelled with the run id.
func TestClusterConfig(t *testing.T) {
	c := ConfigFor(clusters.Options{Name: "scalebench", RunID: runID})
	cc, err := clusterConfig(context.Background(), runtimes.SelectedRuntime, c.SimpleConfig())
	if err != nil {
		t.Fatal(err)
	}
	if cc.Name != c.Name || cc.Network.Name != "k3d-"+c.Name {
		t.Fatalf("cluster %q network %q", cc.Name, cc.Network.Name)
	}
	roles := map[k3dtypes.Role]int{}
	var lb *k3dtypes.Node
	for _, n := range cc.Nodes {
		roles[n.Role]++
		if n.RuntimeLabels[RunIDLabel] != runID {
			t.Errorf("node %s (%s): runtime labels %v, want %s=%s", n.Name, n.Role, n.RuntimeLabels, RunIDLabel, runID)
		}
		if n.Role != k3dtypes.LoadBalancerRole && n.Image != DefaultImage {
			t.Errorf("node %s: image %s", n.Name, n.Image)
		}
		if n.Role == k3dtypes.LoadBalancerRole {
			lb = n
		}
	}
	if roles[k3dtypes.ServerRole] != 1 || roles[k3dtypes.AgentRole] != 2 || lb == nil {
		t.Fatalf("roles %v", roles)
	}
	found := false
	for port, bindings := range lb.Ports {
		for _, b := range bindings {
			if port.Port() == "80" && b.HostPort == "8081" {
				found = true
			}
		}
	}
	if !found {
		t.Fatalf("load balancer ports %v: want 8081 -> 80", lb.Ports)
	}
	if !cc.ClusterCreateOpts.WaitForServer || cc.KubeconfigOpts.UpdateDefaultKubeconfig {
		t.Fatalf("create opts %+v kubeconfig %+v", cc.ClusterCreateOpts, cc.KubeconfigOpts)
	}
}
