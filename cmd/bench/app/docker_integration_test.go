package app

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scalebench/scalebench/clusters/clustertest"
)

// unpullable is a node image no registry serves: its registry is a closed
// port on loopback, so the pull fails at once, here and on a runner that
// reaches every registry.
const unpullable = "127.0.0.1:9/scalebench/no-such-node:v0"

// With a Docker engine, bench run --cluster k3d and --cluster kind get as
// far as the node image pull, stop there naming the image with a hint
// (exit 3), and leave no container, network or volume behind. Skipped,
// saying why, when no Docker engine answers; the nightly workflow runs it
// on a runner with Docker.
func TestRunRealClusterStopsAtImagePull(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cli := clustertest.DockerEngine(ctx, t)
	// kind's markers (what bench cleanup reads) go to the user cache folder.
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	for _, kind := range []string{"k3d", "kind"} {
		t.Run(kind, func(t *testing.T) {
			before := clustertest.DockerObjects(ctx, t, cli)
			out := filepath.Join(t.TempDir(), "reports")
			var stdout, stderr bytes.Buffer
			code := Main(ctx, []string{"run", "--cluster", kind, "--node-image", unpullable, "--scenario", "hpa-cpu-fast", "--out", out, "--progress", "never"}, &stdout, &stderr)
			msg := strings.TrimSpace(stderr.String())
			t.Logf("exit %d: %s", code, msg)
			if code != ExitHarness {
				t.Errorf("exit %d, want %d (harness error)", code, ExitHarness)
			}
			last := msg[strings.LastIndex(msg, "\n")+1:]
			if !strings.Contains(last, "pull") || !strings.Contains(last, unpullable) || !strings.Contains(last, "hint:") || !strings.Contains(last, "--node-image") {
				t.Errorf("the error does not say the pull of %s failed with a hint: %q", unpullable, last)
			}
			markers, _ := filepath.Glob(filepath.Join(os.Getenv("XDG_CACHE_HOME"), "scalebench", "kind-clusters", "*"))
			if len(markers) > 0 {
				t.Errorf("cleanup markers left behind: %v", markers)
			}
			after := clustertest.DockerObjects(ctx, t, cli)
			for _, o := range after {
				if !slices.Contains(before, o) {
					t.Errorf("left behind: %s", o)
				}
			}
		})
	}
}
