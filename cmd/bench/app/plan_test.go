package app

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestPlanPrintsPlatformScenariosAndManifests(t *testing.T) {
	var out, errb bytes.Buffer
	code := Main(context.Background(), []string{"plan", "--cluster", "k3d", "--scenario", "keda-http-fast", "--platform-version", "keda=2.21.0"}, &out, &errb)
	if code != ExitOK {
		t.Fatalf("exit %d, stderr %s", code, errb.String())
	}
	for _, want := range []string{
		"# Cluster: k3d",
		"1. cert-manager", "enabled: true",
		"oci://ghcr.io/spinframework/charts/spin-operator:",
		"3. keda 2.21.0", "keda 2.21.0 from https://kedacore.github.io/charts",
		"keda-http-fast",
		"kind: HTTPScaledObject",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("plan output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestPlanEmulatedHasNoHelm(t *testing.T) {
	var out, errb bytes.Buffer
	if code := Main(context.Background(), []string{"run", "--dry-run", "--scenario", "hpa-cpu-fast"}, &out, &errb); code != ExitOK {
		t.Fatalf("exit %d, stderr %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "no Helm install") || strings.Contains(out.String(), "1. cert-manager") {
		t.Errorf("emulated plan should install nothing with Helm:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "kind: HorizontalPodAutoscaler") {
		t.Errorf("dry run lacks the HPA manifest:\n%s", out.String())
	}
}

func TestPlanBadInputIsUsageError(t *testing.T) {
	for _, args := range [][]string{
		{"plan", "--cluster", "minikube"},
		{"plan", "--platform-version", "keda=latest"},
		{"plan", "--platform-version", "istio=1.0.0"},
		{"plan", "--scenario", "no-such-scenario"},
		{"run", "--dry-run", "--scenario", "no-such-scenario"},
	} {
		var out, errb bytes.Buffer
		if code := Main(context.Background(), args, &out, &errb); code != ExitUsage {
			t.Errorf("%v: exit %d, want %d (stderr %s)", args, code, ExitUsage, errb.String())
		}
	}
}

func TestDryRunShowsTheRunsClusterSettings(t *testing.T) {
	var out, errb bytes.Buffer
	args := []string{"run", "--dry-run", "--cluster", "kind", "--agents", "1", "--port", "9090:80", "--platform-version", "http-add-on=0.14.0", "--scenario", "hpa-cpu-fast"}
	if code := Main(context.Background(), args, &out, &errb); code != ExitOK {
		t.Fatalf("exit %d, stderr %s", code, errb.String())
	}
	for _, want := range []string{"# Cluster: kind", "node image: ghcr.io/spinframework/containerd-shim-spin/kind:", "1 control plane, 1 workers", "ports: 9090:80", "4. http-add-on 0.14.0"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("dry run lacks %q:\n%s", want, out.String())
		}
	}
	errb.Reset()
	if code := Main(context.Background(), []string{"run", "--dry-run", "--cluster", "k3d", "--platform-version", "istio=1.0"}, &out, &errb); code != ExitUsage {
		t.Errorf("unknown --platform-version component: exit %d, want %d (%s)", code, ExitUsage, errb.String())
	}
}
