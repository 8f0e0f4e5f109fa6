package kind

import (
	"strings"
	"testing"

	"sigs.k8s.io/kind/pkg/apis/config/v1alpha4"
	"sigs.k8s.io/yaml"

	"github.com/scalebench/scalebench/clusters"
)

const runID = "20261201-234500-a1b2c3"

// The default: the shim's kind node image, with the spin runtime
// registered in containerd, the docs' port on the control plane.
func TestClusterShimImage(t *testing.T) {
	c := ConfigFor(clusters.Options{Name: "scalebench", RunID: runID})
	if !c.ShimImage() || c.NeedsNodeInstaller() || c.Image() != ShimKindImageRepo+":"+DefaultShimVersion {
		t.Fatalf("config %+v image %s", c, c.Image())
	}
	cl, err := c.Cluster()
	if err != nil {
		t.Fatal(err)
	}
	if cl.Kind != "Cluster" || cl.APIVersion != "kind.x-k8s.io/v1alpha4" || cl.Name != "scalebench-a1b2c3" {
		t.Fatalf("meta %+v name %q", cl.TypeMeta, cl.Name)
	}
	if len(cl.Nodes) != 3 || cl.Nodes[0].Role != v1alpha4.ControlPlaneRole || cl.Nodes[1].Role != v1alpha4.WorkerRole {
		t.Fatalf("nodes %+v", cl.Nodes)
	}
	for _, n := range cl.Nodes {
		if n.Image != c.Image() || n.Labels[RunIDLabel] != runID {
			t.Errorf("node %s: image %s labels %v", n.Role, n.Image, n.Labels)
		}
	}
	cp := cl.Nodes[0]
	if len(cp.ExtraPortMappings) != 1 || cp.ExtraPortMappings[0].HostPort != 8081 || cp.ExtraPortMappings[0].ContainerPort != 80 || cp.Labels["ingress-ready"] != "true" {
		t.Fatalf("control plane ports %+v labels %v", cp.ExtraPortMappings, cp.Labels)
	}
	if len(cl.ContainerdConfigPatches) != 1 || !strings.Contains(cl.ContainerdConfigPatches[0], `containerd.runtimes.spin]`) ||
		!strings.Contains(cl.ContainerdConfigPatches[0], `runtime_type = "io.containerd.spin.v2"`) {
		t.Fatalf("containerd patches %q", cl.ContainerdConfigPatches)
	}
	// The configuration kind reads, as a file: YAML without tabs.
	b, err := yaml.Marshal(cl)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "\t") {
		t.Errorf("tabs in the kind config:\n%s", b)
	}
	var back v1alpha4.Cluster
	if err := yaml.UnmarshalStrict(b, &back); err != nil {
		t.Fatalf("kind config does not read back: %v\n%s", err, b)
	}
	if got := ingressURL(c.Ports); got != "http://localhost:8081" {
		t.Errorf("ingress %q", got)
	}
}

// A shim release without a kind image: plain kindest/node, no containerd
// patch (the node installer adds the runtime), the installer at that
// version.
func TestClusterNodeInstaller(t *testing.T) {
	agents := 1
	c := ConfigFor(clusters.Options{Name: "sb", RunID: runID, Settings: clusters.Settings{
		NodeImage: ShimKindImageRepo + ":v0.24.0", Agents: &agents, Ports: []string{"127.0.0.1:9090:80"},
	}})
	if c.ShimImage() || !c.NeedsNodeInstaller() || c.Image() != PlainNodeImage || c.ShimVersion != "v0.24.0" {
		t.Fatalf("config %+v image %s", c, c.Image())
	}
	cl, err := c.Cluster()
	if err != nil {
		t.Fatal(err)
	}
	if len(cl.Nodes) != 2 || len(cl.ContainerdConfigPatches) != 0 {
		t.Fatalf("nodes %d patches %q", len(cl.Nodes), cl.ContainerdConfigPatches)
	}
	if pm := cl.Nodes[0].ExtraPortMappings[0]; pm.ListenAddress != "127.0.0.1" || pm.HostPort != 9090 {
		t.Fatalf("port %+v", pm)
	}
	if got := ingressURL(c.Ports); got != "http://127.0.0.1:9090" {
		t.Errorf("ingress %q", got)
	}
	ds := NodeInstaller(c.ShimVersion, runID)
	if ds.GetKind() != "DaemonSet" || ds.GetNamespace() != InstallerNamespace || ds.GetLabels()[RunIDLabel] != runID {
		t.Fatalf("installer %v", ds.Object)
	}
	b, _ := yaml.Marshal(ds.Object)
	for _, want := range []string{"image: " + NodeInstallerRepo + ":v0.24.0", "privileged: true", "hostPID: true", "mountPath: /mnt/node-root", "value: /mnt/node-root", "path: /"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("installer lacks %q:\n%s", want, b)
		}
	}
}

// Any other node image is taken as it is, with the node installer for the
// default shim version.
func TestClusterCustomImage(t *testing.T) {
	c := ConfigFor(clusters.Options{RunID: runID, Settings: clusters.Settings{NodeImage: "kindest/node:v1.36.1"}})
	if c.Image() != "kindest/node:v1.36.1" || !c.NeedsNodeInstaller() {
		t.Fatalf("config %+v", c)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, b := range []struct {
		c    Config
		want string
	}{
		{Config{ShimVersion: "v0.25.0", Agents: 11}, "agents 11: allowed 0..10"},
		{Config{ShimVersion: "latest"}, `shim version "latest": want a release tag`},
		{Config{ShimVersion: "v0.25.0", Ports: []string{"80"}}, `port "80": want [ADDRESS:]HOST_PORT:CONTAINER_PORT`},
		{Config{ShimVersion: "v0.25.0", Ports: []string{"8081:http"}}, `port "8081:http"`},
	} {
		if err := b.c.Validate(); err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%+v: error %v, want %q", b.c, err, b.want)
		}
	}
}
