// Package clustertest has what tests of the cluster providers share: a
// Docker engine to test against (or a skip saying why there is none), the
// engine's objects to compare before and after, and the checks every
// clusters.LeftoverCleaner's leftovers must pass.
package clustertest

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/moby/moby/client"

	"github.com/scalebench/scalebench/clusters"
)

// DockerEngine is a client of the Docker engine DOCKER_HOST (or the default
// socket) names; it skips t, saying why, with -short or when no engine
// answers.
func DockerEngine(ctx context.Context, t testing.TB) *client.Client {
	t.Helper()
	if testing.Short() {
		t.Skip("needs a Docker engine; skipped with -short")
	}
	cli, err := client.New(client.FromEnv)
	if err == nil {
		_, err = cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true})
	}
	if err != nil {
		t.Skipf("skipping: no Docker engine answers (%v); with Docker (apt-get install docker.io, engine started) this runs", err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// DockerObjects lists the engine's containers, networks and volumes.
func DockerObjects(ctx context.Context, t testing.TB, cli *client.Client) []string {
	t.Helper()
	var objs []string
	cs, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs.Items {
		objs = append(objs, "container "+strings.Join(c.Names, ",")+" ("+c.ID[:12]+")")
	}
	ns, err := cli.NetworkList(ctx, client.NetworkListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range ns.Items {
		objs = append(objs, "network "+n.Name+" ("+n.ID[:12]+")")
	}
	vs, err := cli.VolumeList(ctx, client.VolumeListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs.Items {
		objs = append(objs, "volume "+v.Name)
	}
	return objs
}

// Clusters checks leftover clusters as a LeftoverCleaner must list them
// (kind "cluster", the name as the id, a reason) and returns them as
// "name:run id:kept" joined by commas, for comparison.
func Clusters(t testing.TB, ls []clusters.Leftover) string {
	t.Helper()
	var got []string
	for _, l := range ls {
		got = append(got, l.Name+":"+l.RunID+":"+strconv.FormatBool(l.Kept))
		if l.Kind != "cluster" || l.ID != l.Name || l.Reason == "" {
			t.Errorf("leftover %+v: want kind cluster, the name as the id, and a reason", l)
		}
	}
	return strings.Join(got, ",")
}
