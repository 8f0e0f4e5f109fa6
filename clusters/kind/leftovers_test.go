package kind

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/clusters/clustertest"
	"github.com/scalebench/scalebench/clusters/internal/real"
)

// fakeClusters is kind's cluster list on an engine.
type fakeClusters struct {
	names     []string
	listErr   error
	deleteErr map[string]error
	deleted   []string
	configs   []string
}

func (f *fakeClusters) List() ([]string, error) { return f.names, f.listErr }

func (f *fakeClusters) Delete(name, kubeconfig string) error {
	if err := f.deleteErr[name]; err != nil {
		return err
	}
	f.deleted = append(f.deleted, name)
	f.configs = append(f.configs, kubeconfig)
	f.names = slices.DeleteFunc(f.names, func(n string) bool { return n == name })
	return nil
}

// endedHarness is a harness (host/pid) that has certainly ended: a child
// that ran and was waited for.
func endedHarness(t *testing.T) (string, int) {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("no `true` command to get an ended pid:", err)
	}
	host, _ := os.Hostname()
	return host + "/" + strconv.Itoa(cmd.Process.Pid), cmd.Process.Pid
}

func writeMarkers(t *testing.T, p *Provider, ms ...marker) {
	t.Helper()
	for _, m := range ms {
		if err := p.writeMarker(m); err != nil {
			t.Fatal(err)
		}
	}
}

func markerFiles(t *testing.T, dir string) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	var out []string
	for _, f := range files {
		out = append(out, filepath.Base(f))
	}
	return out
}

func TestLeftoversOnlyMarkedClustersOfEndedHarnesses(t *testing.T) {
	dead, pid := endedHarness(t)
	kinds := &fakeClusters{names: []string{"scalebench-crashed", "scalebench-kept", "scalebench-running", "scalebench-elsewhere", "scalebench-users-own", "users-cluster"}}
	p := &Provider{StateDir: t.TempDir(), Clusters: kinds}
	writeMarkers(t, p,
		marker{Cluster: "scalebench-crashed", RunID: "run-1", Harness: dead},
		marker{Cluster: "scalebench-kept", RunID: "run-2", Harness: dead, Keep: true},
		marker{Cluster: "scalebench-running", RunID: "run-3", Harness: real.Harness()},
		marker{Cluster: "scalebench-elsewhere", RunID: "run-4", Harness: "other-host/" + strconv.Itoa(pid)},
		marker{Cluster: "scalebench-deleted", RunID: "run-5", Harness: dead}, // its cluster is gone
	)
	// A file that names another cluster than its own name, and one that
	// does not parse: neither vouches for a cluster.
	forged, _ := json.Marshal(marker{Cluster: "users-cluster", RunID: "run-6", Harness: dead})
	if err := os.WriteFile(filepath.Join(p.StateDir, "scalebench-users-own.json"), forged, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(p.StateDir, "users-cluster.json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	ls, err := p.Leftovers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := clustertest.Clusters(t, ls), "scalebench-crashed:run-1:false,scalebench-kept:run-2:true"; got != want {
		t.Fatalf("leftovers %s, want %s", got, want)
	}

	// Removing: the crashed one goes (by its exact name, with a throwaway
	// kubeconfig), with its marker; a running harness's cluster is refused;
	// the marker of a cluster already gone is pruned; nothing else is touched.
	err = p.RemoveLeftovers(context.Background(), []clusters.Leftover{
		ls[0],
		{Kind: "cluster", Name: "scalebench-running", RunID: "run-3", ID: "scalebench-running"},
	})
	if err == nil || !strings.Contains(err.Error(), "scalebench-running is no longer left over") {
		t.Errorf("remove of a running harness's cluster: %v", err)
	}
	if strings.Join(kinds.deleted, ",") != "scalebench-crashed" {
		t.Errorf("deleted %v, want only scalebench-crashed", kinds.deleted)
	}
	home, _ := os.UserHomeDir()
	if c := kinds.configs[0]; c == "" || strings.HasPrefix(c, filepath.Join(home, ".kube")) || os.Getenv("KUBECONFIG") == c {
		t.Errorf("kind was given kubeconfig %q to edit; want a throwaway one", c)
	}
	want := []string{"scalebench-elsewhere.json", "scalebench-kept.json", "scalebench-running.json", "scalebench-users-own.json", "users-cluster.json"}
	if got := markerFiles(t, p.StateDir); !slices.Equal(got, want) {
		t.Errorf("markers left %v, want %v", got, want)
	}
}

// A delete that fails keeps the marker (the cluster is still there and
// still scalebench's) and names the cluster.
func TestRemoveLeftoversDeleteFails(t *testing.T) {
	dead, _ := endedHarness(t)
	kinds := &fakeClusters{names: []string{"scalebench-a"}, deleteErr: map[string]error{"scalebench-a": errors.New("docker rm: device busy")}}
	p := &Provider{StateDir: t.TempDir(), Clusters: kinds}
	writeMarkers(t, p, marker{Cluster: "scalebench-a", RunID: "run-1", Harness: dead})
	ls, err := p.Leftovers(context.Background())
	if err != nil || len(ls) != 1 {
		t.Fatalf("leftovers %v, %v", ls, err)
	}
	err = p.RemoveLeftovers(context.Background(), ls)
	if err == nil || !strings.Contains(err.Error(), `delete cluster "scalebench-a"`) || !strings.Contains(err.Error(), "device busy") {
		t.Errorf("error %v; want it to name the cluster and the cause", err)
	}
	if got := markerFiles(t, p.StateDir); !slices.Equal(got, []string{"scalebench-a.json"}) {
		t.Errorf("markers %v; want the failed cluster's kept", got)
	}
}

// Without markers kind is not asked at all; with markers but no Docker
// (kind cannot list), nothing is listed and it is no error; with Docker
// answering, a list failure is an error.
func TestLeftoversWithoutDocker(t *testing.T) {
	dead, _ := endedHarness(t)
	kinds := &fakeClusters{listErr: errors.New("command \"docker ps\" failed")}
	p := &Provider{StateDir: t.TempDir(), Clusters: kinds}
	if ls, err := p.Leftovers(context.Background()); err != nil || len(ls) != 0 {
		t.Errorf("no markers: %v, %v", ls, err)
	}
	writeMarkers(t, p, marker{Cluster: "scalebench-a", RunID: "run-1", Harness: dead})

	t.Setenv("PATH", t.TempDir()) // no docker command
	if ls, err := p.Leftovers(context.Background()); err != nil || len(ls) != 0 {
		t.Errorf("without Docker: %v, %v; want nothing and no error", ls, err)
	}

	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "docker"), []byte("#!/bin/sh\necho 28.2.2\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin) // an engine answers
	if _, err := p.Leftovers(context.Background()); err == nil || !strings.Contains(err.Error(), "kind: list clusters") {
		t.Errorf("with Docker, a failed list: %v; want an error", err)
	}
}
