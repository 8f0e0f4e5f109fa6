package platform

import (
	"strings"
	"testing"

	"github.com/scalebench/scalebench/clusters/emulated/components"
)

func TestPinnedMatchesEmulatedComponents(t *testing.T) {
	// Where the emulated cluster and a real one run the same component, they run the same release.
	p := components.PinnedVersions()
	for _, c := range []struct{ name, real, emulated string }{
		{KEDA, DefaultKEDAVersion, p.KEDA},
		{SpinOperator, DefaultSpinOperatorVersion, p.SpinOperator},
		{HTTPAddOn, DefaultHTTPAddOnVersion, p.HTTPAddOn},
	} {
		if "v"+c.real != c.emulated {
			t.Errorf("%s: platform pins %s, the emulated cluster builds %s", c.name, c.real, c.emulated)
		}
	}
}

func TestVersionsFromEnvAndSet(t *testing.T) {
	env := map[string]string{EnvKEDAVersion: "v2.21.0"}
	v := fromEnv(Pinned(), func(k string) string { return env[k] })
	if v.KEDA != "v2.21.0" || v.CertManager != DefaultCertManagerVersion {
		t.Fatalf("fromEnv = %+v", v)
	}
	v, err := v.Validate()
	if err != nil || v.KEDA != "2.21.0" {
		t.Fatalf("Validate = %+v, %v", v, err)
	}
	if err := v.Set("cert-manager=v1.20.0"); err != nil || v.CertManager != "1.20.0" {
		t.Fatalf("Set = %+v, %v", v, err)
	}
	for _, bad := range []struct{ in, want string }{
		{"keda", "want NAME=VERSION"},
		{"kafka=1.0.0", `unknown component "kafka" (allowed: cert-manager, spin-operator, keda, http-add-on, valkey, localstack)`},
		{"keda=latest", `"latest" is not a semantic version`},
	} {
		err := v.Set(bad.in)
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("Set(%q) = %v, want an error containing %q", bad.in, err, bad.want)
		}
	}
}

func TestPlanOrderVersionsValues(t *testing.T) {
	p, err := NewPlan(Options{Versions: Versions{KEDA: "2.21.0"}})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range p.Components {
		names = append(names, c.Name)
	}
	if got := strings.Join(names, ","); got != "cert-manager,spin-operator,keda,http-add-on" {
		t.Fatalf("order = %s", got)
	}
	cm, _ := p.Component(CertManager)
	if cm.Chart.Version != "v"+DefaultCertManagerVersion || cm.Chart.Repo != JetstackRepo {
		t.Errorf("cert-manager chart = %+v", cm.Chart)
	}
	if crds, _ := cm.Values["crds"].(map[string]any); crds["enabled"] != true {
		t.Errorf("cert-manager values = %v, want crds.enabled=true", cm.Values)
	}
	k, _ := p.Component(KEDA)
	if k.Chart.Version != "2.21.0" {
		t.Errorf("keda chart version = %s, want the override", k.Chart.Version)
	}
	so, _ := p.Component(SpinOperator)
	if !so.Chart.OCI() || so.Chart.Version != DefaultSpinOperatorVersion {
		t.Errorf("spin-operator chart = %+v, want OCI %s", so.Chart, DefaultSpinOperatorVersion)
	}
	want := "https://github.com/spinframework/spin-operator/releases/download/v0.6.1/spin-operator.crds.yaml"
	if len(so.Manifests) != 3 || so.Manifests[0] != want {
		t.Errorf("spin-operator manifests = %v, want the crds asset first (%s)", so.Manifests, want)
	}
	var b strings.Builder
	if err := p.Write(&b); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"1. cert-manager " + DefaultCertManagerVersion, "crds:\n       enabled: true", "4. http-add-on 0.15.0", "keda-add-ons-http 0.15.0 from https://kedacore.github.io/charts", "before the chart, apply: " + want} {
		if !strings.Contains(b.String(), s) {
			t.Errorf("plan text lacks %q:\n%s", s, b.String())
		}
	}
}

func TestPlanOverridesAndErrors(t *testing.T) {
	p, err := NewPlan(Options{
		Only:   []string{KEDA},
		Charts: map[string]Chart{KEDA: {Repo: "http://127.0.0.1:1/charts", Name: "keda"}},
		Values: map[string]map[string]any{KEDA: {"operator": map[string]any{"replicaCount": 2}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Components) != 1 || p.Components[0].Chart.Repo != "http://127.0.0.1:1/charts" || p.Components[0].Chart.Version != DefaultKEDAVersion {
		t.Fatalf("plan = %+v", p.Components)
	}
	for _, bad := range []struct {
		o    Options
		want string
	}{
		{Options{Only: []string{"redis"}}, `platform component "redis": unknown (allowed: cert-manager, spin-operator, keda, http-add-on, valkey, localstack)`},
		{Options{Versions: Versions{KEDA: "two"}}, `platform version keda: "two" is not a semantic version`},
		{Options{Charts: map[string]Chart{"x": {}}}, `platform chart for "x": unknown component`},
		{Options{Values: map[string]map[string]any{"x": {}}}, `platform values for "x": unknown component`},
	} {
		_, err := NewPlan(bad.o)
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("NewPlan(%+v) = %v, want %q", bad.o, err, bad.want)
		}
	}
}

func TestMergeValues(t *testing.T) {
	a := map[string]any{"crds": map[string]any{"enabled": true, "keep": false}, "x": 1}
	got := mergeValues(a, map[string]any{"crds": map[string]any{"keep": true}, "y": "z"})
	crds := got["crds"].(map[string]any)
	if crds["enabled"] != true || crds["keep"] != true || got["x"] != 1 || got["y"] != "z" {
		t.Fatalf("merge = %v", got)
	}
	if a["crds"].(map[string]any)["keep"] != false {
		t.Fatalf("merge changed its input: %v", a)
	}
}

func TestImageTag(t *testing.T) {
	for in, want := range map[string]string{
		"ghcr.io/kedacore/keda:2.20.2":                     "2.20.2",
		"quay.io/jetstack/cert-manager-controller:v1.21.1": "1.21.1",
		"localhost:5000/keda":                              "",
		"ghcr.io/x/y@sha256:abc":                           "",
		"ghcr.io/x/y:1.0@sha256:abc":                       "1.0",
	} {
		if got := imageTag(in); got != want {
			t.Errorf("imageTag(%q) = %q, want %q", in, got, want)
		}
	}
}

// Valkey and LocalStack join the plan only for keda-sqs, after the rest, with their charts, pinned images and
// values, and their versions are overridable like the others'.
func TestPlanSQSComponents(t *testing.T) {
	p, err := NewPlan(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range SQSNames {
		if _, ok := p.Component(n); ok {
			t.Errorf("%s planned without a scenario that needs it", n)
		}
	}
	env := map[string]string{EnvValkeyVersion: "0.10.0"}
	v := fromEnv(Pinned(), func(k string) string { return env[k] })
	if err := v.Set("localstack=v0.6.15"); err != nil {
		t.Fatal(err)
	}
	p, err = NewPlan(Options{SQS: true, Versions: v})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range p.Components {
		names = append(names, c.Name)
	}
	if got := strings.Join(names, ","); got != "cert-manager,spin-operator,keda,http-add-on,valkey,localstack" {
		t.Fatalf("order = %s", got)
	}
	vk, _ := p.Component(Valkey)
	if vk.Chart != (Chart{Repo: ValkeyRepo, Name: "valkey", Version: "0.10.0"}) || vk.Namespace != SQSNamespace {
		t.Errorf("valkey = %+v", vk)
	}
	if img, _ := vk.Values["image"].(map[string]any); img["tag"] != ValkeyImageTag || vk.Values["fullnameOverride"] != "valkey" {
		t.Errorf("valkey values = %v", vk.Values)
	}
	ls, _ := p.Component(LocalStack)
	if ls.Chart != (Chart{Repo: LocalStackRepo, Name: "localstack", Version: "0.6.15"}) {
		t.Errorf("localstack chart = %+v", ls.Chart)
	}
	if img, _ := ls.Values["image"].(map[string]any); img["repository"] != "localstack/localstack" || img["tag"] != LocalStackImageTag {
		t.Errorf("localstack image values = %v: want the free image, not the chart's localstack-pro", ls.Values["image"])
	}
	var b strings.Builder
	if err := p.Write(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"5. valkey 0.10.0: Helm release \"valkey\" in namespace \"scalebench-sqs\"",
		"chart: valkey 0.10.0 from https://valkey.io/valkey-helm/",
		"image: docker.io/valkey/valkey:9.1.1",
		"6. localstack 0.6.15",
		"image: docker.io/localstack/localstack:4.14.0",
		"SQS_ENDPOINT_STRATEGY",
		"value: localstack.scalebench-sqs.svc.cluster.local:4566",
		"skipped when the cluster already has: Deployment scalebench-sqs/localstack",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("plan lacks %q:\n%s", want, b.String())
		}
	}
}
