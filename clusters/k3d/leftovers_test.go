package k3d

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/k3d-io/k3d/v5/pkg/runtimes"
	runtimeErr "github.com/k3d-io/k3d/v5/pkg/runtimes/errors"
	runtimeTypes "github.com/k3d-io/k3d/v5/pkg/runtimes/types"
	k3dtypes "github.com/k3d-io/k3d/v5/pkg/types"

	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/clusters/clustertest"
	"github.com/scalebench/scalebench/clusters/internal/real"
)

// fakeRuntime answers what Leftovers asks of a container runtime: Info and
// the k3d nodes; any other call panics (the embedded nil interface).
type fakeRuntime struct {
	runtimes.Runtime
	nodes []*k3dtypes.Node
	down  bool
}

func (f *fakeRuntime) Info() (*runtimeTypes.RuntimeInfo, error) {
	if f.down {
		return nil, errors.New("cannot connect to the Docker daemon")
	}
	return &runtimeTypes.RuntimeInfo{}, nil
}

func (f *fakeRuntime) GetNodesByLabel(context.Context, map[string]string) ([]*k3dtypes.Node, error) {
	return f.nodes, nil
}

func node(cluster string, labels map[string]string) *k3dtypes.Node {
	l := map[string]string{k3dtypes.LabelClusterName: cluster, k3dtypes.LabelRole: string(k3dtypes.ServerRole)}
	for k, v := range labels {
		l[k] = v
	}
	return &k3dtypes.Node{Name: "k3d-" + cluster + "-server-0", Role: k3dtypes.ServerRole, RuntimeLabels: l}
}

func TestLeftoversOnlyScalebenchClustersOfEndedHarnesses(t *testing.T) {
	host, _ := os.Hostname()
	// A pid that has certainly ended: a child that ran and was waited for.
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("no `true` command to get an ended pid:", err)
	}
	dead := host + "/" + strconv.Itoa(cmd.Process.Pid)
	rt := &fakeRuntime{nodes: []*k3dtypes.Node{
		node("scalebench-crashed", map[string]string{RunIDLabel: "run-1", HarnessLabel: dead, KeepLabel: "false"}),
		node("scalebench-kept", map[string]string{RunIDLabel: "run-2", HarnessLabel: dead, KeepLabel: "true"}),
		node("scalebench-running", map[string]string{RunIDLabel: "run-3", HarnessLabel: real.Harness(), KeepLabel: "false"}),
		node("scalebench-elsewhere", map[string]string{RunIDLabel: "run-4", HarnessLabel: "other-host/" + strconv.Itoa(cmd.Process.Pid)}),
		node("scalebench-users-own", nil), // a name like ours, without the run-id label: never touched
	}}
	p := &Provider{Runtime: rt}
	ls, err := p.Leftovers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := clustertest.Clusters(t, ls), "scalebench-crashed:run-1:false,scalebench-kept:run-2:true"; got != want {
		t.Errorf("leftovers %s, want %s", got, want)
	}
	// A cluster that is no longer left over (here: its harness runs) is not removed.
	err = p.RemoveLeftovers(context.Background(), []clusters.Leftover{{Kind: "cluster", Name: "scalebench-running", RunID: "run-3", ID: "scalebench-running"}})
	if err == nil || !strings.Contains(err.Error(), "no longer left over") {
		t.Errorf("remove of a running harness's cluster: %v", err)
	}
}

func TestLeftoversWithoutDocker(t *testing.T) {
	ls, err := (&Provider{Runtime: &fakeRuntime{down: true}}).Leftovers(context.Background())
	if err != nil || len(ls) != 0 {
		t.Errorf("without a Docker engine: %v, %v; want nothing and no error", ls, err)
	}
}

// nodeless is a runtime holding what k3d prepares before a cluster's nodes
// (its network and image volume), as a creation that failed early leaves.
type nodeless struct {
	fakeRuntime
	volumes, networks []string
	deleted           []string
}

func (f *nodeless) GetVolumesByLabel(_ context.Context, l map[string]string) ([]string, error) {
	var out []string
	for _, v := range f.volumes {
		if strings.TrimSuffix(strings.TrimPrefix(v, "k3d-"), "-images") == l[k3dtypes.LabelClusterName] {
			out = append(out, v)
		}
	}
	return out, nil
}

func (f *nodeless) DeleteVolume(_ context.Context, name string) error {
	f.deleted = append(f.deleted, "volume "+name)
	return nil
}

func (f *nodeless) GetNetwork(_ context.Context, n *k3dtypes.ClusterNetwork) (*k3dtypes.ClusterNetwork, error) {
	for _, name := range f.networks {
		if name == n.Name {
			return &k3dtypes.ClusterNetwork{Name: name}, nil
		}
	}
	return nil, runtimeErr.ErrRuntimeNetworkNotExists
}

func (f *nodeless) DeleteNetwork(_ context.Context, name string) error {
	f.deleted = append(f.deleted, "network "+name)
	return nil
}

// Delete of a cluster whose creation failed before any node ran removes
// its network and image volume, and only this cluster's (not those of a
// cluster whose name it prefixes).
func TestDeleteRemovesANodelessClustersNetworkAndVolume(t *testing.T) {
	rt := &nodeless{
		volumes:  []string{"k3d-scalebench-abc-images", "k3d-scalebench-abcd-images"},
		networks: []string{"k3d-scalebench-abc", "k3d-scalebench-abcd"},
	}
	if err := Delete(context.Background(), rt, "scalebench-abc"); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(rt.deleted, ", "), "volume k3d-scalebench-abc-images, network k3d-scalebench-abc"; got != want {
		t.Errorf("deleted %s, want %s", got, want)
	}
}
