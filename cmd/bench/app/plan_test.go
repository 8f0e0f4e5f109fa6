package app

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
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
		// The HTTP add-on's current API by default: the route and its ScaledObject.
		"kind: InterceptorRoute", "type: external-push", "interceptorRoute: hello",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("plan output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "kind: HTTPScaledObject") {
		t.Errorf("the default plan applies the deprecated HTTPScaledObject:\n%s", out.String())
	}
}

// TestPlanShowsTheChosenHTTPAddOnAPI: a scenario that asks for the
// deprecated HTTPScaledObject gets it in the plan, and no InterceptorRoute.
func TestPlanShowsTheChosenHTTPAddOnAPI(t *testing.T) {
	sc, err := os.ReadFile(filepath.Join("..", "..", "..", "fixtures", "scenarios", "keda-http-fast.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	legacy := strings.Replace(string(sc), "    hosts: [hello.example]\n", "    hosts: [hello.example]\n    api: HTTPScaledObject\n", 1)
	if legacy == string(sc) {
		t.Fatal("keda-http-fast.yaml no longer has the hosts line this test edits")
	}
	path := filepath.Join(t.TempDir(), "legacy.yaml")
	if err := os.WriteFile(path, []byte(legacy), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := Main(context.Background(), []string{"plan", "--cluster", "k3d", "--scenario", path}, &out, &errb); code != ExitOK {
		t.Fatalf("exit %d, stderr %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "kind: HTTPScaledObject") || strings.Contains(out.String(), "kind: InterceptorRoute") {
		t.Errorf("plan of api HTTPScaledObject:\n%s", out.String())
	}
	// A bad value names the field and what is allowed, exit 2.
	bad := strings.ReplaceAll(legacy, "api: HTTPScaledObject", "api: Ingress")
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	errb.Reset()
	if code := Main(context.Background(), []string{"plan", "--cluster", "k3d", "--scenario", path}, &out, &errb); code != ExitUsage ||
		!strings.Contains(errb.String(), "spec.autoscaler.api") || !strings.Contains(errb.String(), `"InterceptorRoute", "HTTPScaledObject"`) {
		t.Errorf("api: Ingress: exit %d, stderr %s", code, errb.String())
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

// TestPlanSQSPlatformOnlyForKEDASQS: Valkey and LocalStack are planned, with chart, version, values and
// image, only when a keda-sqs scenario is, and the keda-sqs manifests name their Services.
func TestPlanSQSPlatformOnlyForKEDASQS(t *testing.T) {
	for _, cluster := range []string{"k3d", "kind", "existing"} {
		var out, errb bytes.Buffer
		code := Main(context.Background(), []string{"plan", "--cluster", cluster, "--scenario", "keda-sqs", "--platform-version", "valkey=0.10.0"}, &out, &errb)
		if code != ExitOK {
			t.Fatalf("%s: exit %d, stderr %s", cluster, code, errb.String())
		}
		for _, want := range []string{
			`5. valkey 0.10.0: Helm release "valkey" in namespace "scalebench-sqs"`,
			"chart: valkey 0.10.0 from https://valkey.io/valkey-helm/",
			"image: docker.io/valkey/valkey:9.1.1",
			"6. localstack 0.7.0", "chart: localstack 0.7.0 from https://localstack.github.io/helm-charts",
			"image: docker.io/localstack/localstack:4.14.0",
			// The wiring of the manifests: LocalStack's and Valkey's Services.
			"http://localstack.scalebench-sqs.svc.cluster.local:4566/000000000000/customers",
			"awsEndpoint: http://localstack.scalebench-sqs.svc.cluster.local:4566",
			"valkey.scalebench-sqs.svc.cluster.local",
		} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("%s: plan output lacks %q:\n%s", cluster, want, out.String())
			}
		}
		if strings.Contains(out.String(), "test") && strings.Contains(out.String(), "AWS_SECRET_ACCESS_KEY: test") {
			t.Errorf("%s: the plan prints a credential", cluster)
		}
	}
	var out, errb bytes.Buffer
	if code := Main(context.Background(), []string{"plan", "--cluster", "kind", "--scenario", "hpa-cpu-fast"}, &out, &errb); code != ExitOK {
		t.Fatalf("exit %d, stderr %s", code, errb.String())
	}
	if strings.Contains(out.String(), "valkey") || strings.Contains(out.String(), "localstack") {
		t.Errorf("valkey or localstack planned without keda-sqs:\n%s", out.String())
	}
}
