package app

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/results"
	"github.com/scalebench/scalebench/scenario"
)

// scaffoldCPUScenario writes a scenario file that runs the scaffold-hpa
// fixture under a CPU profile.
func scaffoldCPUScenario(t *testing.T) string {
	t.Helper()
	abs, err := filepath.Abs("../../../fixtures/manifests/scaffold-hpa")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "scenario.yaml")
	doc := `apiVersion: scalebench.dev/v1alpha1
kind: Scenario
metadata: {name: scaffold-cpu}
spec:
  workload: {manifests: ` + abs + `}
  load:
    type: cpu
    cpu: {profile: [{utilization: 20%, for: 1m}, {utilization: 180%, for: 3m}, {utilization: 10%, for: 5m}]}
`
	if err := os.WriteFile(p, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// A CPU profile on a real cluster kind stops before anything is created,
// exit 2, naming the field and what to use instead.
func TestRunCPUProfileOnRealCluster(t *testing.T) {
	for _, kind := range []string{"k3d", "kind", "existing"} {
		var out, errOut bytes.Buffer
		err := Run(context.Background(), []string{"run", "--cluster", kind, "--scenario", scaffoldCPUScenario(t)}, &out, &errOut)
		var ee *ExitError
		want := `run: scenario scaffold-cpu: spec.load.type: cpu is not supported on cluster kind "` + kind + `"`
		if !errors.As(err, &ee) || ee.Code != ExitUsage || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err %v, want exit 2 with %q", kind, err, want)
		}
	}
}

// The scenario runs the manifests' own numbers on the emulated cluster:
// the fake runner sees the scaffold's autoscaler and the profile.
func TestRunScenarioWithManifests(t *testing.T) {
	p := &fakeProvider{}
	var got []string
	fake(t, p, func(s *scenario.Scenario) results.Scenario {
		got = append(got, s.Spec.Autoscaler.Type, s.HPAName(), s.Spec.Load.Type)
		return passed(s)
	})
	providerFor = func(string) (clusters.Provider, error) { return cpuProvider{p}, nil }
	var out bytes.Buffer
	if err := Run(context.Background(), []string{"run", "--scenario", scaffoldCPUScenario(t), "--out", t.TempDir()}, &out, &bytes.Buffer{}); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	if strings.Join(got, " ") != "hpa cpu-load-gen-autoscaler cpu" {
		t.Errorf("runner saw %q", got)
	}
}

// cpuProvider is a fake provider whose clusters drive CPU.
type cpuProvider struct{ *fakeProvider }

func (cpuProvider) DrivesCPU() bool { return true }

// bench explain on a scenario file with manifests shows what they say and
// the profile.
func TestExplainScenarioWithManifests(t *testing.T) {
	var out bytes.Buffer
	if err := explainCmd(context.Background(), []string{scaffoldCPUScenario(t)}, nil, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"target: SpinApp/cpu-load-gen",
		"autoscaler: HorizontalPodAutoscaler/cpu-load-gen-autoscaler (hpa), replicas 2..3",
		"load: cpu profile (of each pod's CPU request; capped at its limit, 100% here): 20% for 1m0s, 180% for 3m0s, 10% for 5m0s",
		"60 s  load.cpu.profile (steps before the peak)",
		"2 → 3  (maxReplicas)",
		"derived: scaleUp: 3 replicas Ready within",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
