package compare

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/clusters/emulated"
	"github.com/scalebench/scalebench/clusters/emulated/components"
	"github.com/scalebench/scalebench/kube"
)

// TestWaitAtRestOnEmulatedCluster: an idle emulated cluster, whose nodes
// metrics-server does not list (their usage is zero), is at rest, and a
// namespace of an earlier trial keeps it from being at rest until it is
// gone. The first comparison run on the emulated cluster stopped before
// its first trial because the wait wanted node metrics that never came.
func TestWaitAtRestOnEmulatedCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts an emulated cluster (~1 min)")
	}
	if missing := emulated.MissingBinaries(&components.Builder{}); len(missing) > 0 {
		t.Skipf("component binaries not cached (go run ./cmd/bench components builds them): %s", strings.Join(missing, ", "))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	prov := &emulated.Provider{}
	c, err := prov.CreateCluster(ctx, clusters.Options{
		Name: "rest-it", RunID: "rest-it-" + time.Now().Format("150405"), WorkDir: t.TempDir(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), IngressAddr: "127.0.0.1:0",
	})
	if err != nil {
		t.Fatalf("create cluster: %v", err)
	}
	defer func() {
		if err := c.Delete(context.Background()); err != nil {
			t.Errorf("delete cluster: %v", err)
		}
	}()
	kc, err := kube.NewClients(c.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	state, err := WaitAtRest(ctx, kc, nil, 2*time.Minute)
	if err != nil {
		t.Fatalf("idle cluster not at rest: %v", err)
	}
	t.Logf("at rest after %s: %s", time.Since(start).Round(time.Second), state)
	if el := time.Since(start); el < noNodeMetricsRest {
		t.Errorf("at rest after %s, before %s without node metrics: %s", el, noNodeMetricsRest, state)
	}

	// A namespace left by an earlier trial: not at rest while it exists.
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "cmp-left-t1"}}
	if _, err := kc.Kube.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	state, err = WaitAtRest(ctx, kc, []string{ns.Name}, 30*time.Second)
	if err == nil || !strings.Contains(state, "1 earlier trial namespaces left") {
		t.Fatalf("at rest with an earlier trial's namespace: %v; %s", err, state)
	}
	deleteNamespace(ctx, kc, ns.Name, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if state, err = WaitAtRest(ctx, kc, []string{ns.Name}, 2*time.Minute); err != nil {
		t.Fatalf("not at rest once the namespace is gone: %v", err)
	}
	t.Logf("at rest once the namespace went: %s", state)
}
