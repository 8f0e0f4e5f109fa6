package app

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/scalebench/scalebench/clusters/emulated"
	"github.com/scalebench/scalebench/clusters/emulated/components"
	"github.com/scalebench/scalebench/kube"
	"github.com/scalebench/scalebench/platform"
	"github.com/scalebench/scalebench/results"
)

// existingSQS is keda-sqs made short (200 messages) and run in a namespace
// of its own, which the run creates and must delete again.
const existingSQS = `apiVersion: scalebench.dev/v1alpha1
kind: Scenario
metadata:
  name: keda-sqs-existing
  description: keda-sqs with 200 messages, in a namespace the run creates, on a cluster the run did not create
spec:
  namespace: bench-existing
  workload:
    kind: Deployment
    name: customer-transformer
    image: ghcr.io/scalebench/customer-transformer:v0.1.0
    resources:
      limits: {cpu: 500m, memory: 128Mi}
      requests: {cpu: 100m, memory: 64Mi}
    emulation:
      model: sqs-transformer
      startupLatency: 1s
  autoscaler:
    type: keda-sqs
    minReplicas: 0
    maxReplicas: 10
    pollingInterval: 2
    cooldownPeriod: 30
    queueLength: 10
  load:
    type: sqs
    sqs: {messages: 200, batchSize: 10, queue: customers-existing}
  expectations:
    scaleUp: {replicas: 2, atMost: 10, within: 60s}
    scaleDown: {replicas: 0, within: 90s}
    activation: {within: 15s}
    maxMessagesLost: 0
`

// TestClusterUpThenRunExisting is issue 10's "done when" on a small scale:
// `bench cluster up` runs, `bench run --cluster existing --kubeconfig` on
// it detects the platform, installs nothing, runs a keda-sqs scenario (its
// SQS endpoint and store read from the cluster's ConfigMap) to a report
// with a verdict, and leaves the cluster as it found it: the same objects,
// with the same generations, in every API resource (namespaces, CRDs, Helm
// releases, cluster-scoped objects, everything else listable).
func TestClusterUpThenRunExisting(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: an emulated cluster and a keda-sqs run (~2 min)")
	}
	if missing := emulated.MissingBinaries(&components.Builder{}); len(missing) > 0 {
		t.Skipf("component binaries not cached (go run ./cmd/bench components builds them): %s", strings.Join(missing, ", "))
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	// bench cluster up, in the background until cancelled.
	upCtx, stopUp := context.WithCancel(ctx)
	defer stopUp()
	ready := make(chan string, 1)
	clusterUpReady = func(kc string) { ready <- kc }
	defer func() { clusterUpReady = nil }()
	var upOut, upErr syncBuffer
	upDone := make(chan error, 1)
	go func() {
		upDone <- clusterUpCmd(upCtx, []string{"--ingress-addr", "127.0.0.1:0", "--dir", t.TempDir(), "--progress", "never"}, &upOut, &upErr)
	}()
	var kubeconfig string
	select {
	case kubeconfig = <-ready:
	case err := <-upDone:
		t.Fatalf("cluster up ended before it was up: %v\n%s\n%s", err, upOut.String(), upErr.String())
	case <-ctx.Done():
		t.Fatal("cluster up: not up in time")
	}
	defer func() {
		stopUp()
		if err := <-upDone; err != nil {
			t.Errorf("cluster up: stop: %v", err)
		}
	}()
	up := upOut.String()
	t.Logf("cluster up after %s:\n%s", time.Since(start).Round(time.Second), up)
	for _, want := range []string{"kubeconfig: " + kubeconfig, "ingress: http://127.0.0.1:", "sqs: http://127.0.0.1:", "kube-public/scalebench-cluster"} {
		if !strings.Contains(up, want) {
			t.Errorf("cluster up printed no %q", want)
		}
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	before, err := kube.TakeInventory(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("inventory before the run: %d objects", len(before.Objects))

	dir := t.TempDir()
	sc := filepath.Join(dir, "keda-sqs-existing.yaml")
	if err := os.WriteFile(sc, []byte(existingSQS), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "report")
	var runOut, runErr syncBuffer
	err = runCmd(ctx, []string{"--cluster", "existing", "--kubeconfig", kubeconfig, "--scenario", sc, "--out", out, "--progress", "always"}, &runOut, &runErr)
	t.Logf("bench run --cluster existing:\n%s", runErr.String())
	if err != nil {
		t.Errorf("run: %v", err)
	}
	b, rerr := os.ReadFile(filepath.Join(out, "report.json"))
	if rerr != nil {
		t.Fatalf("no report: %v", rerr)
	}
	var rep results.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}

	env := rep.Environment
	if env.Provider != "existing" {
		t.Errorf("environment provider %q, want existing", env.Provider)
	}
	// Detected, not installed: each part the scenarios need, found by its CRDs and APIServices.
	for _, n := range []string{platform.SpinOperator, platform.KEDA, platform.HTTPAddOn} {
		d := env.Platform[n]
		if !strings.HasPrefix(d, "found: ") || !strings.Contains(d, "CRD ") {
			t.Errorf("environment platform[%s] = %q, want what was found (its CRDs)", n, d)
		}
		if v := env.Components[n]; v == "" || v == "unknown version" {
			t.Errorf("environment components[%s] = %q: want its version (detected, or as the cluster's ConfigMap says)", n, v)
		}
	}
	for n, d := range env.Platform {
		if strings.Contains(d, "installed by this run") {
			t.Errorf("platform %s: %q: nothing may be installed without --install-platform", n, d)
		}
	}
	if len(env.Emulated) == 0 {
		t.Error("environment lists nothing emulated: the cluster's ConfigMap says what it emulates and the report must too")
	}
	if len(rep.Scenarios) != 1 {
		t.Fatalf("%d scenarios in the report, want 1", len(rep.Scenarios))
	}
	s := rep.Scenarios[0]
	if s.Error != "" || len(s.Checks) == 0 {
		t.Errorf("scenario %s: error %q, %d checks: want a verdict from its checks", s.Name, s.Error, len(s.Checks))
	}
	if !s.Passed {
		for _, c := range s.Checks {
			t.Logf("check %+v", c)
		}
		t.Errorf("scenario %s did not pass", s.Name)
	}
	if m := s.Metrics; m.MessagesSent == nil || *m.MessagesSent != 200 {
		t.Errorf("messages sent %v, want 200", deref(m.MessagesSent))
	} else {
		t.Logf("messages: sent %d, invalid %v, stored %v, lost %v", *m.MessagesSent, deref(m.MessagesInvalid), deref(m.MessagesProcessed), deref(m.MessagesLost))
	}

	// As found: every object back, none left. The run's namespace is being
	// deleted when it exits; wait for the namespace controller.
	var diff []string
	err = kube.Poll(ctx, 2*time.Second, "the cluster as the run found it", func(ctx context.Context) (bool, string, error) {
		after, err := kube.TakeInventory(ctx, cfg)
		if err != nil {
			return false, err.Error(), nil
		}
		diff = before.Diff(after)
		return len(diff) == 0, fmt.Sprintf("%d differences: %s", len(diff), strings.Join(diff, "; ")), nil
	})
	if err != nil {
		t.Errorf("the run left the cluster changed:\n%s", strings.Join(diff, "\n"))
	}
	t.Logf("MEASURED cluster up + bench run --cluster existing (keda-sqs, 200 messages) + as-found check: %s", time.Since(start).Round(time.Second))
}

func deref[T any](p *T) any {
	if p == nil {
		return "unknown"
	}
	return *p
}
