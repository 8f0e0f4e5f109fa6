package kind

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/scalebench/scalebench/clusters/clustertest"
)

// bench cleanup's kind part against a Docker engine and kind's own Go
// library: a "cluster" whose harness died (a node container as kind labels
// it, created but not started, from an image built here, since no registry
// is needed) is listed and deleted by kind; a kind cluster without
// scalebench's marker, named like ours, is left alone. Skipped, saying why,
// when no Docker engine answers; the nightly workflow runs it on a runner
// with Docker.
func TestCleanupDeletesAKindClusterOfAnEndedHarness(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cli := clustertest.DockerEngine(ctx, t)
	const image = "scalebench-test/kind-node-stub:v0"
	var layer bytes.Buffer
	tw := tar.NewWriter(&layer)
	_ = tw.WriteHeader(&tar.Header{Name: "stub", Mode: 0o755, Size: 0})
	_ = tw.Close()
	rc, err := cli.ImageImport(ctx, client.ImageImportSource{Source: &layer, SourceName: "-"}, image, client.ImageImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, rc)
	rc.Close()
	t.Cleanup(func() { _, _ = cli.ImageRemove(context.Background(), image, client.ImageRemoveOptions{Force: true}) })

	node := func(cluster string) string {
		name := cluster + "-control-plane"
		_, err := cli.ContainerCreate(ctx, client.ContainerCreateOptions{
			Name:   name,
			Config: &container.Config{Image: image, Cmd: []string{"/stub"}, Labels: map[string]string{"io.x-k8s.kind.cluster": cluster, "io.x-k8s.kind.role": "control-plane"}},
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_, _ = cli.ContainerRemove(context.Background(), name, client.ContainerRemoveOptions{Force: true})
		})
		return name
	}
	ours, users := "scalebench-cleanup-test", "scalebench-users-own"
	node(ours)
	usersNode := node(users)

	dead, _ := endedHarness(t)
	p := &Provider{StateDir: t.TempDir()} // kind's own Docker provider
	writeMarkers(t, p, marker{Cluster: ours, RunID: "run-cleanup", Harness: dead})
	ls, err := p.Leftovers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ls) != 1 || ls[0].Name != ours || ls[0].RunID != "run-cleanup" {
		t.Fatalf("leftovers %+v; want only %s", ls, ours)
	}
	if err := p.RemoveLeftovers(ctx, ls); err != nil {
		t.Fatal(err)
	}
	names, err := p.clusters().List()
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(names, ours) || !slices.Contains(names, users) {
		t.Errorf("kind clusters after cleanup: %v; want %s gone and %s kept", names, ours, users)
	}
	if _, err := cli.ContainerInspect(ctx, usersNode, client.ContainerInspectOptions{}); err != nil {
		t.Errorf("the unmarked cluster's node: %v", err)
	}
	if _, err := os.Stat(filepath.Join(p.StateDir, ours+".json")); !os.IsNotExist(err) {
		t.Errorf("marker of the deleted cluster: %v; want it removed", err)
	}
}
