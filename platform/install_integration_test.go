package platform

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ociregistry "github.com/google/go-containerregistry/pkg/registry"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/repo"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/clusters/emulated"
	"github.com/scalebench/scalebench/clusters/emulated/components"
	"github.com/scalebench/scalebench/kube"
)

// testChart builds a chart whose Deployment runs on the emulated cluster's KWOK nodes; extra templates are
// added as given (name → YAML). Like the Valkey and LocalStack charts it names its Deployment by
// fullnameOverride and takes image.repository, image.tag and extraEnvVars from the values.
func testChart(name, version string, extra map[string]string) *chart.Chart {
	dep := `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Values.fullnameOverride | default .Chart.Name }}
  namespace: {{ .Release.Namespace }}
spec:
  replicas: 1
  selector:
    matchLabels: {app: {{ .Chart.Name }}}
  template:
    metadata:
      labels: {app: {{ .Chart.Name }}}
    spec:
      {{- with .Values.nodeSelector }}
      nodeSelector: {{ toJson . }}
      {{- end }}
      containers:
      - name: main
        {{- with .Values.image }}
        image: {{ .repository }}:{{ .tag }}
        {{- else }}
        image: registry.invalid/{{ .Chart.Name }}:{{ .Chart.Version }}
        {{- end }}
        {{- with .Values.extraEnvVars }}
        env: {{ toJson . }}
        {{- end }}
`
	c := &chart.Chart{
		Metadata:  &chart.Metadata{APIVersion: chart.APIVersionV2, Name: name, Version: version, AppVersion: version},
		Templates: []*chart.File{{Name: "templates/deployment.yaml", Data: []byte(dep)}},
		Values:    map[string]any{},
	}
	for n, y := range extra {
		c.Templates = append(c.Templates, &chart.File{Name: "templates/" + n, Data: []byte(y)})
	}
	return c
}

func crdYAML(group, plural, kind string) string {
	return fmt.Sprintf(`apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: %[2]s.%[1]s
spec:
  group: %[1]s
  names: {plural: %[2]s, singular: %[3]s, kind: %[4]s, listKind: %[4]sList}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
`, group, plural, strings.ToLower(kind), kind)
}

// TestInstallOnEmulatedCluster installs charts served on loopback (a Helm chart repository and an OCI registry) onto the emulated cluster's real API server: manifests and CRDs
// before a chart, install, upgrade, readiness, a readiness failure named with its pod's events, detection of
// the emulated cluster's own KEDA, Spin operator and HTTP add-on (left as they are), keda-sqs's Valkey and
// LocalStack as planned (detected missing, installed, detected as the run's, upgraded), and an uninstall
// that removes only what the run installed.
func TestInstallOnEmulatedCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts an emulated cluster (~1 min)")
	}
	if missing := emulated.MissingBinaries(&components.Builder{}); len(missing) > 0 {
		t.Skipf("component binaries not cached (go run ./cmd/bench components builds them): %s", strings.Join(missing, ", "))
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	logger := slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))

	// Charts: sb-alpha 0.1.0 and 0.2.0 (with a CRD) and sb-broken in a chart repository on loopback (an
	// index made by Helm's repo package); sb-beta pushed by Helm's registry client to an OCI registry on
	// loopback, as the Spin operator's chart is pulled from ghcr.io. The registry is go-containerregistry's
	// (already a dependency), not Helm's repotest one: that one's distribution dependency does not tidy with
	// this module's OpenTelemetry versions.
	dir := t.TempDir()
	save := func(c *chart.Chart, to string) string {
		p, err := chartutil.Save(c, to)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	repoDir := filepath.Join(dir, "repo")
	os.MkdirAll(repoDir, 0o755)
	alphaCRD := map[string]string{"crd.yaml": crdYAML("alpha.scalebench.test", "widgets", "Widget")}
	save(testChart("sb-alpha", "0.1.0", alphaCRD), repoDir)
	save(testChart("sb-alpha", "0.2.0", alphaCRD), repoDir)
	betaPkg := save(testChart("sb-beta", "0.1.0", nil), dir)
	save(testChart("sb-broken", "0.1.0", nil), repoDir)
	// Stand-ins for the valkey and LocalStack charts, named and versioned as the plan pins them (and a
	// later valkey, for the upgrade).
	save(testChart("valkey", DefaultValkeyVersion, nil), repoDir)
	save(testChart("valkey", "0.11.1", nil), repoDir)
	save(testChart("localstack", DefaultLocalStackVersion, nil), repoDir)
	var repoSrv *httptest.Server
	repoSrv = httptest.NewServer(http.FileServer(http.Dir(repoDir)))
	defer repoSrv.Close()
	idx, err := repo.IndexDirectory(repoDir, repoSrv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if err := idx.WriteFile(filepath.Join(repoDir, "index.yaml"), 0o644); err != nil {
		t.Fatal(err)
	}
	ociSrv := httptest.NewServer(ociregistry.New(ociregistry.Logger(log.New(io.Discard, "", 0))))
	defer ociSrv.Close()
	ociRef := strings.TrimPrefix(ociSrv.URL, "http://") + "/charts/sb-beta"
	reg, err := Sources{PlainHTTP: true}.registryClient()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(betaPkg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Push(data, ociRef+":0.1.0"); err != nil {
		t.Fatalf("push sb-beta to the OCI registry: %v", err)
	}
	// sb-beta's manifests, applied before its chart as the Spin operator's release assets are.
	assets := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/crds.yaml":
			fmt.Fprint(w, crdYAML("beta.scalebench.test", "gadgets", "Gadget"))
		case "/gadget.yaml":
			fmt.Fprint(w, "apiVersion: beta.scalebench.test/v1\nkind: Gadget\nmetadata: {name: g1, namespace: sb-shared}\nspec: {size: 1}\n")
		default:
			http.NotFound(w, r)
		}
	}))
	defer assets.Close()

	p := &emulated.Provider{IngressAddr: "127.0.0.1:0"}
	c, err := p.Create(ctx, clusters.Options{Name: "platform-test", RunID: "platform-test", WorkDir: t.TempDir(), Logger: logger, Progress: testLog{t}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := c.Delete(context.WithoutCancel(ctx)); err != nil {
			t.Error(err)
		}
	}()
	t.Logf("cluster up in %s", time.Since(start).Round(time.Second))
	cfg := c.RESTConfig()
	cl, err := kube.NewClients(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// A namespace and an object that are not scalebench's, in the namespace sb-beta installs into.
	if _, err := cl.Kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "sb-shared"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Kube.CoreV1().ConfigMaps("sb-shared").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "foreign"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	alpha := Component{Name: "alpha", Version: "0.1.0", Release: "alpha", Namespace: "sb-alpha",
		Chart: Chart{Repo: repoSrv.URL, Name: "sb-alpha", Version: "0.1.0"}, CRDs: []string{"widgets.alpha.scalebench.test"}}
	beta := Component{Name: "beta", Version: "0.1.0", Release: "beta", Namespace: "sb-shared",
		Chart:     Chart{Name: "oci://" + ociRef, Version: "0.1.0"},
		Manifests: []string{assets.URL + "/crds.yaml", assets.URL + "/gadget.yaml"},
		CRDs:      []string{"gadgets.beta.scalebench.test"}}
	in := &Installer{Config: cfg, RunID: "run-1", Timeout: 90 * time.Second, Logger: logger, Progress: testLog{t}, Sources: Sources{PlainHTTP: true}}

	// The emulated cluster runs KEDA, the Spin operator and the HTTP add-on itself: detected, and skipped.
	real, err := NewPlan(Options{Only: []string{SpinOperator, KEDA, HTTPAddOn}})
	if err != nil {
		t.Fatal(err)
	}
	have, err := Detect(ctx, cfg, real)
	if err != nil {
		t.Fatal(err)
	}
	if m := have.Missing(); len(m) > 0 {
		t.Fatalf("emulated cluster: missing %v; detected %+v", m, have)
	}
	t0 := time.Now()
	outs, err := in.Install(ctx, Plan{Components: append(real.Components, alpha, beta)})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("install took %s: %+v", time.Since(t0).Round(100*time.Millisecond), outs)
	want := []Action{ActionSkipped, ActionSkipped, ActionSkipped, ActionInstalled, ActionInstalled}
	for i, o := range outs {
		if i >= len(want) || o.Action != want[i] {
			t.Errorf("outcome %d = %+v, want %s", i, o, want[min(i, len(want)-1)])
		}
	}
	// Installed: the release (labelled), its Deployment ready, the manifest's CRD and object.
	d, err := cl.Kube.AppsV1().Deployments("sb-alpha").Get(ctx, "sb-alpha", metav1.GetOptions{})
	if err != nil || d.Status.ReadyReplicas != 1 {
		t.Fatalf("sb-alpha Deployment: %v, ready %d", err, d.Status.ReadyReplicas)
	}
	if _, err := cl.Dynamic.Resource(kube.CustomResourceDefinitions).Get(ctx, "gadgets.beta.scalebench.test", metav1.GetOptions{}); err != nil {
		t.Fatalf("beta's manifest CRD: %v", err)
	}

	// Upgrade: the same run again with alpha 0.2.0.
	alpha.Chart.Version, alpha.Version = "0.2.0", "0.2.0"
	outs, err = in.Install(ctx, Plan{Components: []Component{alpha}})
	if err != nil {
		t.Fatal(err)
	}
	if outs[0].Action != ActionUpgraded {
		t.Errorf("second install = %+v, want upgraded", outs[0])
	}
	have, err = Detect(ctx, cfg, Plan{Components: []Component{alpha}})
	if err != nil {
		t.Fatal(err)
	}
	if pr := have.Components[0]; pr.Version != "0.2.0" || pr.RunID != "run-1" {
		t.Errorf("after upgrade: %+v", pr)
	}
	d, _ = cl.Kube.AppsV1().Deployments("sb-alpha").Get(ctx, "sb-alpha", metav1.GetOptions{})
	if img := d.Spec.Template.Spec.Containers[0].Image; !strings.HasSuffix(img, ":0.2.0") {
		t.Errorf("after upgrade the image is %s", img)
	}

	// Readiness failure: a Deployment no node can take is named with its pod's scheduling events.
	broken := Component{Name: "broken", Version: "0.1.0", Release: "broken", Namespace: "sb-broken",
		Chart:  Chart{Repo: repoSrv.URL, Name: "sb-broken", Version: "0.1.0"},
		Values: map[string]any{"nodeSelector": map[string]any{"no-such-label": "x"}}}
	bin := *in
	bin.Timeout = 15 * time.Second
	_, err = bin.Install(ctx, Plan{Components: []Component{broken}})
	var nre *NotReadyError
	if !errors.As(err, &nre) {
		t.Fatalf("broken install: %v, want a *NotReadyError", err)
	}
	msg := err.Error()
	for _, s := range []string{"broken", "Deployment sb-broken/sb-broken", "0/1 ready", "FailedScheduling"} {
		if !strings.Contains(msg, s) {
			t.Errorf("readiness error lacks %q: %s", s, msg)
		}
	}
	t.Logf("readiness error: %s", msg)

	// keda-sqs's Valkey and LocalStack: the plan's components (release, namespace, values, pinned images)
	// from the loopback repository; missing, installed, present as this run's, upgraded, uninstalled below.
	sqsPlan, err := NewPlan(Options{SQS: true, Only: SQSNames, Charts: map[string]Chart{
		Valkey: {Repo: repoSrv.URL, Name: "valkey"}, LocalStack: {Repo: repoSrv.URL, Name: "localstack"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	have, err = Detect(ctx, cfg, sqsPlan)
	if err != nil {
		t.Fatal(err)
	}
	if m := have.Missing(); len(m) != 2 {
		t.Fatalf("before the install, missing %v, want valkey and localstack; %+v", m, have)
	}
	outs, err = in.Install(ctx, sqsPlan)
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) != 2 || outs[0].Action != ActionInstalled || outs[1].Action != ActionInstalled {
		t.Errorf("SQS install = %+v, want valkey and localstack installed", outs)
	}
	for name, image := range map[string]string{ValkeyRelease: "valkey/valkey:" + ValkeyImageTag, LocalStackRelease: LocalStackImage} {
		d, err := cl.Kube.AppsV1().Deployments(SQSNamespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil || d.Status.ReadyReplicas != 1 {
			t.Fatalf("Deployment %s/%s: %v (ready %d)", SQSNamespace, name, err, d.Status.ReadyReplicas)
		}
		if got := d.Spec.Template.Spec.Containers[0].Image; got != image {
			t.Errorf("%s runs %s, want the pinned %s", name, got, image)
		}
	}
	ls, _ := cl.Kube.AppsV1().Deployments(SQSNamespace).Get(ctx, LocalStackRelease, metav1.GetOptions{})
	if env := fmt.Sprint(ls.Spec.Template.Spec.Containers[0].Env); !strings.Contains(env, "SQS_ENDPOINT_STRATEGY") {
		t.Errorf("localstack's environment %s lacks the plan's extraEnvVars", env)
	}
	have, err = Detect(ctx, cfg, sqsPlan)
	if err != nil {
		t.Fatal(err)
	}
	for _, pr := range have.Components {
		if !pr.Present || pr.RunID != "run-1" {
			t.Errorf("after the install: %+v, want present and this run's", pr)
		}
	}
	vk := sqsPlan.Components[0]
	vk.Chart.Version, vk.Version = "0.11.1", "0.11.1"
	if outs, err = in.Install(ctx, Plan{Components: []Component{vk}}); err != nil || outs[0].Action != ActionUpgraded {
		t.Errorf("valkey upgrade = %+v, %v, want upgraded", outs, err)
	}

	// Uninstall removes what run-1 installed, and only that.
	if err := in.Uninstall(ctx, Plan{Components: append(append(real.Components, alpha, beta, broken), sqsPlan.Components...)}); err != nil {
		t.Fatal(err)
	}
	for _, c := range append([]Component{alpha, beta, broken}, sqsPlan.Components...) {
		ac, err := actionConfig(cfg, c.Namespace, nil, logger)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := action.NewGet(ac).Run(c.Release); err == nil {
			t.Errorf("release %s still there after uninstall", c.Release)
		}
	}
	if _, err := cl.Dynamic.Resource(kube.CustomResourceDefinitions).Get(ctx, "gadgets.beta.scalebench.test", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("beta's CRD after uninstall: %v, want not found", err)
	}
	if _, err := cl.Kube.CoreV1().ConfigMaps("sb-shared").Get(ctx, "foreign", metav1.GetOptions{}); err != nil {
		t.Errorf("a ConfigMap scalebench did not create is gone: %v", err)
	}
	for _, n := range []string{"sb-alpha", SQSNamespace} {
		if ns, err := cl.Kube.CoreV1().Namespaces().Get(ctx, n, metav1.GetOptions{}); err == nil && ns.DeletionTimestamp == nil {
			t.Errorf("namespace %s (created by the run) not deleted", n)
		}
	}
	have, err = Detect(ctx, cfg, real)
	if err != nil || len(have.Missing()) > 0 {
		t.Errorf("the emulated cluster's own components after uninstall: %+v, %v", have, err)
	}
	t.Logf("test took %s", time.Since(start).Round(time.Second))
}

type testLog struct{ t *testing.T }

func (w testLog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
