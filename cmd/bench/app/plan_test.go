package app

import (
	"bytes"
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/scalebench/scalebench/kube"
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

// planObjects runs bench with args and decodes the manifests it prints
// (everything from the first document on).
func planObjects(t *testing.T, args ...string) (string, []*unstructured.Unstructured) {
	t.Helper()
	var out, errb bytes.Buffer
	if code := Main(context.Background(), args, &out, &errb); code != ExitOK {
		t.Fatalf("%v: exit %d, stderr %s", args, code, errb.String())
	}
	o := out.String()
	i := strings.Index(o, "\n---\n")
	if i < 0 {
		t.Fatalf("%v: no manifests in:\n%s", args, o)
	}
	objs, err := kube.DecodeYAML([]byte(o[i:]))
	if err != nil {
		t.Fatalf("%v: decode the manifests: %v", args, err)
	}
	return o, objs
}

// TestPlanRendersEachApp: bench plan --apps K (and run --dry-run --apps K)
// prints every object of the K apps bench run --apps K creates, named with
// the apps' suffixes, the executor they share once; a bad K is refused
// naming spec.apps.count.
func TestPlanRendersEachApp(t *testing.T) {
	for _, args := range [][]string{
		{"plan", "--scenario", "keda-http-fast", "--apps", "3"},
		{"run", "--dry-run", "--scenario", "keda-http-fast", "--apps", "3"},
	} {
		o, objs := planObjects(t, args...)
		got := map[string]int{}
		for _, obj := range objs {
			got[obj.GetKind()+" "+obj.GetName()]++
		}
		want := map[string]int{"SpinAppExecutor containerd-shim-spin": 1}
		for _, app := range []string{"hello-1", "hello-2", "hello-3"} {
			for _, kind := range []string{"SpinApp", "InterceptorRoute", "ScaledObject"} {
				want[kind+" "+app] = 1
			}
			want["Ingress "+app+"-interceptor"] = 1
		}
		if !maps.Equal(got, want) {
			t.Errorf("%v: objects %v, want %v", args, got, want)
		}
		for _, w := range []string{"keda-http-fast  3 (load replicate)", "app 3 of 3 (keda-http-fast-3)", "- hello-2.hello.example"} {
			if !strings.Contains(o, w) {
				t.Errorf("%v: output lacks %q:\n%s", args, w, o)
			}
		}
	}

	// No --apps: the scenario's one app, unsuffixed, as bench run creates it.
	_, objs := planObjects(t, "plan", "--scenario", "keda-http-fast")
	for _, obj := range objs {
		if obj.GetKind() == "SpinApp" && obj.GetName() != "hello" {
			t.Errorf("one app: SpinApp %s, want hello", obj.GetName())
		}
	}

	// spec.apps in the file is planned as the run takes it.
	sc, err := os.ReadFile(filepath.Join("..", "..", "..", "fixtures", "scenarios", "keda-http-fast.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	withApps := func(apps string) string {
		s := strings.Replace(string(sc), "spec:\n", "spec:\n  apps: "+apps+"\n", 1)
		if s == string(sc) {
			t.Fatal("keda-http-fast.yaml has no spec: line for this test to edit")
		}
		path := filepath.Join(t.TempDir(), "apps.yaml")
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	_, objs = planObjects(t, "plan", "--scenario", withApps("{count: 2}"))
	var apps []string
	for _, obj := range objs {
		if obj.GetKind() == "SpinApp" {
			apps = append(apps, obj.GetName())
		}
	}
	if !slices.Equal(apps, []string{"hello-1", "hello-2"}) {
		t.Errorf("spec.apps.count 2: SpinApps %v, want hello-1, hello-2", apps)
	}

	for _, args := range [][]string{
		{"plan", "--scenario", "keda-http-fast", "--apps", "0"},
		{"plan", "--scenario", "keda-http-fast", "--apps", "1001"},
		{"plan", "--scenario", "keda-http-fast", "--apps", "three"},
		{"run", "--dry-run", "--scenario", "keda-http-fast", "--apps", "-1"},
		{"plan", "--scenario", withApps("{count: 1001}")},
	} {
		var out, errb bytes.Buffer
		if code := Main(context.Background(), args, &out, &errb); code != ExitUsage || !strings.Contains(errb.String(), "spec.apps.count") {
			t.Errorf("%v: exit %d, want %d naming spec.apps.count; stderr %s", args, code, ExitUsage, errb.String())
		}
	}
}

// TestPlanSizesTheNodes: the emulated cluster's plan states the nodes the
// run derives from the scenarios' apps and replicas, not the default three.
func TestPlanSizesTheNodes(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"plan", "--scenario", "keda-http-fast"}, "nodes: 3 KWOK nodes"},
		// 1000 replicas of 250 pods a node, + 25 % headroom.
		{[]string{"plan", "--scenario", filepath.Join("..", "..", "..", "fixtures", "scale", "hpa-1000-replicas.yaml")}, "nodes: 5 KWOK nodes"},
		// 100 apps × 10 replicas: the same count.
		{[]string{"plan", "--scenario", "keda-http-fast", "--apps", "100"}, "nodes: 5 KWOK nodes"},
	} {
		var out, errb bytes.Buffer
		if code := Main(context.Background(), append(c.args, "--manifests=false"), &out, &errb); code != ExitOK {
			t.Fatalf("%v: exit %d, stderr %s", c.args, code, errb.String())
		}
		if !strings.Contains(out.String(), c.want) {
			t.Errorf("%v: plan lacks %q:\n%s", c.args, c.want, out.String())
		}
	}
}
