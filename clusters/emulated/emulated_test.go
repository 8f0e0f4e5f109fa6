package emulated

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"github.com/scalebench/scalebench/clusters"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scalebench/scalebench/kube"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"github.com/scalebench/scalebench/clusters/emulated/components"
	"github.com/scalebench/scalebench/proc"
	"github.com/scalebench/scalebench/sqs"
)

func TestRenderKwokctlConfig(t *testing.T) {
	p := kwokctlParams{
		KubeVersion: "v1.35.4", KwokVersion: "v0.8.0",
		KubeAPIServer: "/b/kube-apiserver", KubeControllerManager: "/b/kcm", KubeScheduler: "/b/ks",
		Kwok: "/b/kwok", Etcd: "/b/etcd", MetricsServer: "/b/ms", Kubectl: "/b/kubectl",
		MetricsServerManifests: "/m/manifests/base",
		Ports:                  kwokctlPorts{APIServer: 1, Etcd: 2, EtcdPeer: 3, KwokController: 4, MetricsServer: 5, ControllerManager: 6, Scheduler: 7},
		ControllerManagerArgs:  append(DefaultHPASettings.controllerManagerArgs(), controlPlaneQPSArgs()...),
		SchedulerArgs:          controlPlaneQPSArgs(),
		Stages:                 [][]byte{[]byte("kind: Stage\nmetadata:\n  name: a\n"), []byte("kind: Metric\nmetadata:\n  name: b\n")},
	}
	out, err := renderKwokctlConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	docs, err := kube.DecodeYAML(out)
	if err != nil {
		t.Fatalf("rendered config does not decode: %v\n%s", err, out)
	}
	if len(docs) != 3 || docs[0].GetKind() != "KwokctlConfiguration" || docs[1].GetKind() != "Stage" || docs[2].GetKind() != "Metric" {
		t.Fatalf("documents = %v", kinds(docs))
	}
	opts, _, _ := unstructured.NestedMap(docs[0].Object, "options")
	want := map[string]any{
		"runtime": "binary", "bindAddress": "127.0.0.1", "kubeVersion": "v1.35.4",
		"kubeApiserverBinary": "/b/kube-apiserver", "kubeControllerManagerBinary": "/b/kcm",
		"kubeSchedulerBinary": "/b/ks", "kwokControllerBinary": "/b/kwok", "etcdBinary": "/b/etcd",
		"metricsServerBinary": "/b/ms", "kubectlBinary": "/b/kubectl", "enableMetricsServer": true,
		"kubeApiserverPort": int64(1), "kwokControllerPort": int64(4), "metricsServerPort": int64(5),
	}
	for k, v := range want {
		if fmt.Sprint(opts[k]) != fmt.Sprint(v) {
			t.Errorf("options.%s = %#v, want %#v", k, opts[k], v)
		}
	}
	if m, _ := opts["metricsServerManifests"].([]any); len(m) != 1 || m[0] != "/m/manifests/base" {
		t.Errorf("metricsServerManifests = %v", opts["metricsServerManifests"])
	}
	patches, _, _ := unstructured.NestedSlice(docs[0].Object, "componentsPatches")
	if len(patches) != 3 || !strings.Contains(string(out), "key: horizontal-pod-autoscaler-sync-period\n    value: 15s") {
		t.Errorf("controller-manager patch missing:\n%s", out)
	}
	// Both clients' rate limits are raised for large scale-ups.
	for i, name := range []string{"kube-controller-manager", "kube-scheduler"} {
		pm, _ := patches[i].(map[string]any)
		if pm["name"] != name || !strings.Contains(fmt.Sprint(pm["extraArgs"]), "key:kube-api-qps value:500") {
			t.Errorf("patch %d = %v, want %s with --kube-api-qps 500", i, pm, name)
		}
	}
	// Pod logs: the API server reaches kwok at the nodes' InternalIP, and
	// kwok serves the Logs objects the data plane creates for load pods.
	if !strings.Contains(string(out), "key: kubelet-preferred-address-types\n    value: InternalIP") {
		t.Errorf("API server patch missing:\n%s", out)
	}
	if crds, _ := opts["enableCRDs"].([]any); len(crds) != 1 || crds[0] != "Logs" {
		t.Errorf("enableCRDs = %v, want [Logs]", opts["enableCRDs"])
	}
	// Neither the controller manager nor the scheduler elects a leader: a
	// lease missed on a starved machine would end them.
	for _, p := range patches[:2] {
		pm := p.(map[string]any)
		if !strings.Contains(fmt.Sprint(pm["extraArgs"]), "map[key:leader-elect value:false]") {
			t.Errorf("%v: extraArgs %v, want leader-elect false", pm["name"], pm["extraArgs"])
		}
	}

	p.Kwok = ""
	if _, err := renderKwokctlConfig(p); err == nil || !strings.Contains(err.Error(), "kwok") {
		t.Errorf("missing binary accepted: %v", err)
	}
}

func kinds(objs []*unstructured.Unstructured) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.GetKind())
	}
	return out
}

// fakeKwokModule lays out the files kwokStages reads, with synthetic stages.
func fakeKwokModule(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	stage := func(name string) string {
		return `apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: ` + name + `
spec:
  resourceRef: {apiGroup: v1, kind: Pod}
  delay:
    durationMilliseconds: 1000
    durationFrom:
      expressionFrom: '.metadata.annotations["` + name + `.stage.kwok.x-k8s.io/delay"]'
    jitterDurationMilliseconds: 5000
    jitterDurationFrom:
      expressionFrom: '.metadata.annotations["` + name + `.stage.kwok.x-k8s.io/jitter-delay"]'
  next: {}
`
	}
	files := map[string]string{
		"kustomize/stage/node/fast/node-initialize.yaml":                           "kind: Stage\nmetadata:\n  name: node-initialize\n",
		"kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml": "kind: Stage\nmetadata:\n  name: node-heartbeat-with-lease\n",
		"kustomize/stage/pod/general/kustomization.yaml":                           "resources:\n- pod-create.yaml\n- pod-ready.yaml\n- pod-delete.yaml\n",
		"kustomize/stage/pod/general/pod-create.yaml":                              stage("pod-create"),
		"kustomize/stage/pod/general/pod-ready.yaml":                               stage("pod-ready"),
		"kustomize/stage/pod/general/pod-delete.yaml":                              stage("pod-delete"),
		"kustomize/metrics/usage/usage-from-annotation.yaml":                       "kind: ClusterResourceUsage\nmetadata:\n  name: usage-from-annotation\n",
		"kustomize/metrics/resource/metrics-resource.yaml":                         "kind: Metric\nmetadata:\n  name: metrics-resource\nspec:\n  metrics:\n  - name: container_cpu_usage_seconds_total\n    value: x\n  - name: pod_cpu_usage_seconds_total\n    value: y\n",
	}
	for name, body := range files {
		if err := writeFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestKwokStagesSetsExactDefaultDelays(t *testing.T) {
	docs, err := kwokStages(fakeKwokModule(t), PodTiming{CreateDelay: 250 * time.Millisecond, ReadyDelay: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	delays := map[string]map[string]any{}
	for _, d := range docs {
		var m map[string]any
		if err := yaml.Unmarshal(d, &m); err != nil {
			t.Fatal(err)
		}
		u := &unstructured.Unstructured{Object: m}
		names = append(names, u.GetName())
		delay, _, _ := unstructured.NestedMap(m, "spec", "delay")
		delays[u.GetName()] = delay
	}
	wantNames := []string{"node-initialize", "node-heartbeat-with-lease", "pod-create", "pod-ready", "pod-delete", "usage-from-annotation", "metrics-resource"}
	if !slices.Equal(names, wantNames) {
		t.Fatalf("stages = %v, want %v", names, wantNames)
	}
	for name, ms := range map[string]int64{"pod-create": 250, "pod-ready": 2000} {
		d := delays[name]
		if fmt.Sprint(d["durationMilliseconds"]) != fmt.Sprint(ms) {
			t.Errorf("%s duration = %v, want %d", name, d["durationMilliseconds"], ms)
		}
		if _, ok := d["jitterDurationMilliseconds"]; ok {
			t.Errorf("%s keeps its default jitter", name)
		}
		if d["durationFrom"] == nil || d["jitterDurationFrom"] == nil {
			t.Errorf("%s lost its per-pod annotations: %v", name, d)
		}
	}
	if fmt.Sprint(delays["pod-delete"]["jitterDurationMilliseconds"]) != "5000" {
		t.Errorf("pod-delete was changed: %v", delays["pod-delete"])
	}
}

// kwokModuleDir finds the real kwok module in the module cache, if present.
func kwokModuleDir(t *testing.T) string {
	modCache := os.Getenv("GOMODCACHE")
	if modCache == "" {
		gopath := os.Getenv("GOPATH")
		if gopath == "" {
			home, _ := os.UserHomeDir()
			gopath = filepath.Join(home, "go")
		}
		modCache = filepath.Join(gopath, "pkg", "mod")
	}
	dir := filepath.Join(modCache, "sigs.k8s.io", "kwok@v0.8.0")
	if _, err := os.Stat(filepath.Join(dir, podGeneralDir)); err != nil {
		t.Skipf("kwok v0.8.0 module source not in the module cache (%v)", err)
	}
	return dir
}

// The annotation names the provider documents are the ones kwok's general
// pod stages read.
func TestKwokGeneralStagesUseDocumentedAnnotations(t *testing.T) {
	dir := kwokModuleDir(t)
	docs, err := kwokStages(dir, DefaultPodTiming)
	if err != nil {
		t.Fatal(err)
	}
	all := string(slices.Concat(docs...))
	for _, a := range []string{AnnotationPodCreateDelay, AnnotationPodCreateJitterDelay, AnnotationPodReadyDelay, AnnotationPodReadyJitterDelay, AnnotationPodDeleteDelay, AnnotationUsageCPU, AnnotationUsageMemory} {
		if !strings.Contains(all, `["`+a+`"]`) {
			t.Errorf("no kwok stage reads annotation %q", a)
		}
	}
}

// kwok's real resource-metrics document serves the data plane's counter as
// the container and pod CPU counters metrics-server reads.
func TestKwokMetricsServeTheCPUCounter(t *testing.T) {
	docs, err := kwokStages(kwokModuleDir(t), DefaultPodTiming)
	if err != nil {
		t.Fatal(err)
	}
	var metrics []any
	for _, d := range docs {
		var m map[string]any
		if err := yaml.Unmarshal(d, &m); err != nil {
			t.Fatal(err)
		}
		if (&unstructured.Unstructured{Object: m}).GetName() == "metrics-resource" {
			metrics, _, _ = unstructured.NestedSlice(m, "spec", "metrics")
		}
	}
	got := map[string]string{}
	for _, m := range metrics {
		mm := m.(map[string]any)
		got[fmt.Sprint(mm["name"])] = fmt.Sprint(mm["value"])
	}
	for name, fallback := range map[string]string{
		"container_cpu_usage_seconds_total": `pod.CumulativeUsage("cpu", container.name)`,
		"pod_cpu_usage_seconds_total":       `pod.CumulativeUsage("cpu")`,
	} {
		v := got[name]
		if !strings.Contains(v, `double(pod.metadata.annotations["`+AnnotationCPUSeconds+`"])`) || !strings.HasSuffix(v, fallback+")") {
			t.Errorf("%s = %q; want the counter annotation, falling back to %s", name, v, fallback)
		}
	}
	if v := got["node_cpu_usage_seconds_total"]; v != `node.CumulativeUsage("cpu")` {
		t.Errorf("node counter changed: %q", v)
	}
}

func TestNodeObject(t *testing.T) {
	nodes := clusterNodes(0, 250)
	if len(nodes) != 3 || !nodes[0].Server || nodes[1].Server || nodes[2].Server {
		t.Fatalf("nodes = %+v, want one server and two agents", nodes)
	}
	n := nodeObject(nodes[1], DefaultNodeShape, "run-1")
	if n.Name != "scalebench-agent-0" || n.Labels[LabelRunID] != "run-1" || n.Labels["type"] != "kwok" {
		t.Errorf("metadata = %+v", n.ObjectMeta)
	}
	if got := n.Annotations["metrics.k8s.io/resource-metrics-path"]; got != "/metrics/nodes/scalebench-agent-0/metrics/resource" {
		t.Errorf("resource metrics path = %q", got)
	}
	if n.Annotations["kwok.x-k8s.io/node"] != "fake" {
		t.Errorf("kwok annotation missing")
	}
	if len(n.Spec.Taints) != 0 {
		t.Errorf("taints = %v", n.Spec.Taints)
	}
	var ip string
	for _, a := range n.Status.Addresses {
		if a.Type == corev1.NodeInternalIP {
			ip = a.Address
		}
	}
	if ip != "127.0.0.1" {
		t.Errorf("InternalIP = %q, want loopback (metrics-server must reach kwok)", ip)
	}
	// 20 replicas of 100m/400Mi plus system pods fit on one node.
	need := resource.MustParse("2100m")
	if n.Status.Allocatable.Cpu().Cmp(need) < 0 {
		t.Errorf("cpu %v too small", n.Status.Allocatable.Cpu())
	}
	mem := resource.MustParse("8500Mi")
	if n.Status.Allocatable.Memory().Cmp(mem) < 0 {
		t.Errorf("memory %v too small", n.Status.Allocatable.Memory())
	}
	if n.Status.Allocatable.Pods().Value() < 110 {
		t.Errorf("pods %v too few", n.Status.Allocatable.Pods())
	}
}

// The certificates pass the checks KEDA's cert rotator (cert-controller)
// makes before it would regenerate them and exit the operator.
func TestGenerateKEDACertsPassRotatorChecks(t *testing.T) {
	names := kedaCertDNSNames()
	certs, err := generateKEDACerts(time.Now(), names)
	if err != nil {
		t.Fatal(err)
	}
	ca := parseCert(t, certs.CACert)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	lookahead := time.Now().Add(90 * 24 * time.Hour)
	// validCACert: the CA verifies against itself for DNS name "KEDA".
	if _, err := ca.Verify(x509.VerifyOptions{DNSName: kedaCAName, Roots: pool, CurrentTime: lookahead}); err != nil {
		t.Errorf("CA fails the rotator's check: %v", err)
	}
	// validServerCert: first DNS name, server and client auth.
	srv := parseCert(t, certs.TLSCert)
	if _, err := srv.Verify(x509.VerifyOptions{
		DNSName: names[0], Roots: pool, CurrentTime: lookahead,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}); err != nil {
		t.Errorf("serving cert fails the rotator's check: %v", err)
	}
	for _, want := range []string{
		"keda-operator-metrics-apiserver.keda.svc", // APIService → Service name
		"keda-admission-webhooks.keda.svc",         // webhook → Service name
		"keda-operator.keda.svc.cluster.local",     // adapter's gRPC authority
	} {
		if !slices.Contains(srv.DNSNames, want) {
			t.Errorf("SANs lack %q: %v", want, srv.DNSNames)
		}
	}
	// The rotator parses ca.key as PKCS #1 before it injects the CA.
	b, _ := pem.Decode(certs.CAKey)
	if _, err := x509.ParsePKCS1PrivateKey(b.Bytes); err != nil {
		t.Errorf("ca.key is not PKCS #1 RSA: %v", err)
	}
}

func parseCert(t *testing.T, p []byte) *x509.Certificate {
	t.Helper()
	b, _ := pem.Decode(p)
	if b == nil {
		t.Fatal("no PEM block")
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const fakeWebhooks = `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: keda-admission
webhooks:
- name: vscaledobject.kb.io
  admissionReviewVersions: [v1]
  clientConfig:
    service: {name: keda-admission-webhooks, namespace: keda, path: /validate-keda-sh-v1alpha1-scaledobject}
  failurePolicy: Ignore
  sideEffects: None
- name: vscaledjob.kb.io
  admissionReviewVersions: [v1]
  clientConfig:
    service: {name: keda-admission-webhooks, namespace: keda, path: /validate-keda-sh-v1alpha1-scaledjob}
  failurePolicy: Ignore
  sideEffects: None
`

func fakeKEDAModule(t *testing.T) string {
	dir := t.TempDir()
	if err := writeFile(filepath.Join(dir, "config", "webhooks", "validation_webhooks.yaml"), []byte(fakeWebhooks), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestKEDAObjects(t *testing.T) {
	certs, err := generateKEDACerts(time.Now(), kedaCertDNSNames())
	if err != nil {
		t.Fatal(err)
	}
	k := kedaSetup{ModuleDir: fakeKEDAModule(t), Certs: certs, Ports: kedaPorts{AdapterSecure: 4443, Webhooks: 9443, OperatorGRPC: 9666}}
	objs, err := k.objects()
	if err != nil {
		t.Fatal(err)
	}
	byKind := map[string][]*unstructured.Unstructured{}
	for _, o := range objs {
		byKind[o.GetKind()] = append(byKind[o.GetKind()], o)
	}
	caBundle := base64.StdEncoding.EncodeToString(certs.CACert)

	api := byKind["APIService"][0]
	if api.GetName() != "v1beta1.external.metrics.k8s.io" {
		t.Errorf("APIService name %q", api.GetName())
	}
	if v, _, _ := unstructured.NestedString(api.Object, "spec", "caBundle"); v != caBundle {
		t.Error("APIService lacks KEDA's caBundle")
	}
	if _, found, _ := unstructured.NestedFieldNoCopy(api.Object, "spec", "insecureSkipTLSVerify"); found {
		t.Error("APIService skips TLS verification: the rotator would never start the gRPC server")
	}
	svc, _, _ := unstructured.NestedString(api.Object, "spec", "service", "name")
	port, _, _ := unstructured.NestedInt64(api.Object, "spec", "service", "port")
	if port != 4443 {
		t.Errorf("APIService port %d", port)
	}
	var svcs []string
	for _, s := range byKind["Service"] {
		typ, _, _ := unstructured.NestedString(s.Object, "spec", "type")
		ext, _, _ := unstructured.NestedString(s.Object, "spec", "externalName")
		if typ != "ExternalName" || ext != "127.0.0.1" {
			t.Errorf("service %s: %s → %s", s.GetName(), typ, ext)
		}
		svcs = append(svcs, s.GetName())
	}
	if !slices.Contains(svcs, svc) || !slices.Contains(kedaCertDNSNames(), svc+".keda.svc") {
		t.Errorf("APIService service %q is not an ExternalName service in the cert SANs (%v)", svc, svcs)
	}
	if !slices.Contains(svcs, "keda-admission-webhooks") {
		t.Errorf("no keda-admission-webhooks service: %v", svcs)
	}

	sec := byKind["Secret"][0]
	if sec.GetNamespace() != "keda" || sec.GetName() != "kedaorg-certs" {
		t.Errorf("secret %s/%s", sec.GetNamespace(), sec.GetName())
	}
	for _, key := range []string{"ca.crt", "ca.key", "tls.crt", "tls.key"} {
		if v, _, _ := unstructured.NestedString(sec.Object, "data", key); v == "" {
			t.Errorf("secret lacks %s", key)
		}
	}

	wh := byKind["ValidatingWebhookConfiguration"][0]
	hooks, _, _ := unstructured.NestedSlice(wh.Object, "webhooks")
	if len(hooks) != 2 {
		t.Fatalf("webhooks = %d", len(hooks))
	}
	for _, h := range hooks {
		m := h.(map[string]any)
		if m["failurePolicy"] != "Fail" {
			t.Errorf("%v failurePolicy %v", m["name"], m["failurePolicy"])
		}
		if p, _, _ := unstructured.NestedInt64(m, "clientConfig", "service", "port"); p != 9443 {
			t.Errorf("%v port %d", m["name"], p)
		}
		if b, _, _ := unstructured.NestedString(m, "clientConfig", "caBundle"); b != caBundle {
			t.Errorf("%v caBundle not set", m["name"])
		}
	}
}

func TestKEDASpecsStayOnLoopbackAndEnvIsExplicit(t *testing.T) {
	k := kedaSetup{Operator: "/b/op", Adapter: "/b/ad", Webhooks: "/b/wh", Kubeconfig: "/kc", ClusterCA: "/ca.crt", CertDir: "/certs", Home: "/home",
		Ports: kedaPorts{OperatorMetrics: 1, OperatorProbe: 2, OperatorGRPC: 3, AdapterSecure: 4, AdapterMetrics: 5, Webhooks: 6, WebhooksMetrics: 7, WebhooksProbe: 8}}
	specs := k.specs()
	if len(specs) != 3 {
		t.Fatalf("specs = %d", len(specs))
	}
	op := strings.Join(specs[0].Args, " ")
	for _, want := range []string{"--metrics-service-bind-address=127.0.0.1:3", "--health-probe-bind-address=127.0.0.1:2", "--metrics-bind-address=127.0.0.1:1", "--metrics-server-service-name=keda-operator-metrics-apiserver", "--cert-dir=/certs", "--enable-cert-rotation=true"} {
		if !strings.Contains(op, want) {
			t.Errorf("operator args lack %s", want)
		}
	}
	ad := strings.Join(specs[1].Args, " ")
	for _, want := range []string{"--bind-address=127.0.0.1", "--secure-port=4", "--client-ca-file=/ca.crt", "--metrics-service-address=127.0.0.1:3", "--metrics-service-grpc-authority=keda-operator.keda.svc.cluster.local"} {
		if !strings.Contains(ad, want) {
			t.Errorf("adapter args lack %s", want)
		}
	}
	for _, s := range specs {
		for _, e := range s.Env {
			if strings.Contains(strings.ToUpper(e), "PROXY") {
				t.Errorf("%s env has %s", s.Name, e)
			}
		}
		if !slices.Contains(s.Env, "POD_NAMESPACE=keda") {
			t.Errorf("%s env lacks POD_NAMESPACE", s.Name)
		}
	}
}

func TestKwokClusterName(t *testing.T) {
	for in, want := range map[string]string{"Scale Bench_1": "scale-bench-1", "": "scalebench", "--x--": "x"} {
		if got := kwokClusterName(in); got != want {
			t.Errorf("kwokClusterName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHPASettings(t *testing.T) {
	h := HPASettings{SyncPeriod: 5 * time.Second}.withDefaults()
	if h.SyncPeriod != 5*time.Second || h.DownscaleStabilization != 5*time.Minute {
		t.Fatalf("%+v", h)
	}
	args := h.controllerManagerArgs()
	if args[0] != [2]string{"horizontal-pod-autoscaler-sync-period", "5s"} {
		t.Fatalf("%v", args)
	}
	k := knobs(h, DefaultPodTiming, DefaultNodeShape, 3, "default", CPUCost{}, allParts)
	if k["hpa.syncPeriod"] != "5s" || k["metricsServer.metricResolution"] != "15s" {
		t.Fatalf("knobs %v", k)
	}
	// Every emulation parameter in force is disclosed.
	for key, want := range map[string]string{
		"dataplane.cpuLoadGen.cpuPerRequest":       "3.7s",
		"dataplane.cpuLoadGen.cpuPerRequestSource": "assumed",
		"dataplane.clientDisconnectCancelsWork":    "true",
		"dataplane.usageCounterInterval":           "1s",
		"dataplane.usageRateWindow":                "5s",
		"dataplane.usageRateDeadBand":              "5%",
		"node.cpuCapacity":                         "32 per node, 3 nodes (96 in total)",
		"kwok.podReadyDelayDefault":                "1s",
	} {
		if !strings.Contains(k[key], want) {
			t.Errorf("knob %s = %q, want it to say %q", key, k[key], want)
		}
	}
	k = knobs(h, DefaultPodTiming, NodeShape{CPU: resource.MustParse("2")}, 3, "default", CPUCost{PerRequest: 2900 * time.Millisecond, Source: "measured"}, allParts)
	if k["dataplane.cpuLoadGen.cpuPerRequest"] != "2.9s" || k["dataplane.cpuLoadGen.cpuPerRequestSource"] != "measured" || !strings.HasPrefix(k["node.cpuCapacity"], "2 per node, 3 nodes (6 in total)") {
		t.Errorf("knobs %v", k)
	}
}

func TestPortAllocatorGivesEachNameItsOwnPort(t *testing.T) {
	a := newPortAllocator()
	defer a.Release()
	first := a.Get("keda-operator-grpc")
	if again := a.Get("keda-operator-grpc"); again != first {
		t.Fatalf("the same name got %d then %d", first, again)
	}
	for i := range 20 {
		a.Get(fmt.Sprintf("p%d", i))
	}
	if err := a.Err(); err != nil {
		t.Fatal(err)
	}
	ports := a.Ports()
	if len(ports) != 21 {
		t.Fatalf("ports %v, want 21 names", ports)
	}
	seen := map[int]string{}
	for name, p := range ports {
		if p == 0 || seen[p] != "" {
			t.Fatalf("port %d of %s (also %q): ports %v", p, name, seen[p], ports)
		}
		seen[p] = name
	}
}

func TestPickClusterPortsNamesEveryPort(t *testing.T) {
	p, named, err := pickClusterPorts()
	if err != nil {
		t.Fatal(err)
	}
	// Every field is set, and every port has a name.
	set := []int{
		p.kwokctl.APIServer, p.kwokctl.Etcd, p.kwokctl.EtcdPeer, p.kwokctl.KwokController, p.kwokctl.MetricsServer, p.kwokctl.ControllerManager, p.kwokctl.Scheduler,
		p.keda.OperatorMetrics, p.keda.OperatorProbe, p.keda.OperatorGRPC, p.keda.AdapterSecure, p.keda.AdapterMetrics, p.keda.Webhooks, p.keda.WebhooksMetrics, p.keda.WebhooksProbe,
		p.spinProbe, p.spinMetrics,
		p.addOn.OperatorProbe, p.addOn.OperatorMetrics, p.addOn.ScalerGRPC, p.addOn.ScalerMetrics, p.addOn.InterceptorProxy, p.addOn.InterceptorAdmin, p.addOn.InterceptorMetrics,
		p.proxy,
	}
	if len(named) != len(set) {
		t.Fatalf("%d named ports for %d fields: %v", len(named), len(set), named)
	}
	if named["keda-operator-grpc"] != p.keda.OperatorGRPC || named["kube-apiserver"] != p.kwokctl.APIServer {
		t.Errorf("names do not match the fields: %v", named)
	}
	for i, port := range set {
		if port == 0 {
			t.Errorf("field %d has no port", i)
		}
	}
}

func TestReapOrphans(t *testing.T) {
	parent := t.TempDir()
	dead := filepath.Join(parent, "scalebench-dead")
	alive := filepath.Join(parent, "scalebench-alive")
	kept := filepath.Join(parent, "scalebench-kept")
	for _, d := range []string{dead, alive, kept} {
		if err := os.MkdirAll(filepath.Join(d, "kwok", "clusters", "x", "pids"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// A child process that has exited stands for a dead harness.
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dead, harnessPIDFile), []byte(strconv.Itoa(cmd.Process.Pid)), 0o644)
	os.WriteFile(filepath.Join(alive, harnessPIDFile), []byte(strconv.Itoa(os.Getppid())), 0o644)
	got := reapOrphans(parent, slog.New(slog.DiscardHandler))
	if len(got) != 1 || got[0] != dead {
		t.Fatalf("reaped %v, want only %s", got, dead)
	}
	for _, d := range []string{alive, kept} {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("%s must stay: %v", d, err)
		}
	}
}

// Every emulated part is listed: the ingress and node CPU always, and with
// SQS started, that the consumer is scalebench's Go model of the app.
func TestEnvironmentListsEveryEmulatedPart(t *testing.T) {
	c := &Cluster{versions: resolvedVersions(components.Versions{}), hpa: DefaultHPASettings, timing: DefaultPodTiming, shape: DefaultNodeShape}
	has := func(env []string, part string) bool {
		return slices.ContainsFunc(env, func(s string) bool { return strings.HasPrefix(s, part) })
	}
	env := c.Environment()
	for _, part := range []string{"kubelet and nodes", "Spin app pods", "node CPU", "pod CPU usage", "ingress", "service networking"} {
		if !has(env.Emulated, part) {
			t.Errorf("Emulated lacks %q: %q", part, env.Emulated)
		}
	}
	if has(env.Emulated, "the SQS consumer") {
		t.Errorf("SQS consumer listed without SQS: %q", env.Emulated)
	}
	c.sqsSide.env = &sqs.Env{}
	env = c.Environment()
	if !has(env.Emulated, "the SQS consumer (scalebench's Go model") || !has(env.Emulated, "AWS SQS") {
		t.Errorf("Emulated with SQS = %q", env.Emulated)
	}
}

func TestSetNodeCPU(t *testing.T) {
	var p Provider
	if err := p.SetNodeCPU("3500m"); err != nil {
		t.Fatal(err)
	}
	if p.NodeShape.CPU.MilliValue() != 3500 || p.NodeShape.Pods != DefaultNodeShape.Pods {
		t.Errorf("shape = %+v", p.NodeShape)
	}
	for _, bad := range []string{"", "-1", "0", "four"} {
		if err := p.SetNodeCPU(bad); err == nil || !strings.Contains(err.Error(), "want a positive CPU quantity") {
			t.Errorf("SetNodeCPU(%q) = %v", bad, err)
		}
	}
}

func TestMissingBinariesNamesEveryRequiredOneOfAnEmptyCache(t *testing.T) {
	missing := MissingBinaries(&components.Builder{CacheDir: t.TempDir()})
	if want := allParts.binaries(); len(missing) != len(want) {
		t.Fatalf("missing %v, want all %d required binaries", missing, len(want))
	}
	if !strings.Contains(missing[0], "@v") {
		t.Errorf("missing[0] = %q, want binary@version", missing[0])
	}
}

func TestRequiredBinariesFollowTheScenariosAutoscalers(t *testing.T) {
	core := []string{"kubectl", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd", "kwok", "kwokctl", "metrics-server", "spin-operator"}
	keda := []string{"keda-operator", "keda-adapter", "keda-webhooks"}
	addOn := []string{"http-add-on-interceptor", "http-add-on-scaler", "http-add-on-operator"}
	for _, tc := range []struct {
		autoscalers []string
		want        [][]string
		wantNot     []string
	}{
		{[]string{"hpa"}, [][]string{core}, append(append([]string{"goaws"}, keda...), addOn...)},
		{[]string{"hpa", "keda-cpu"}, [][]string{core, keda}, append([]string{"goaws"}, addOn...)},
		{[]string{"keda-sqs"}, [][]string{core, keda, {"goaws"}}, addOn},
		{[]string{"keda-http"}, [][]string{core, keda, addOn}, []string{"goaws"}},
		{nil, [][]string{core, keda, addOn, {"goaws"}}, nil},
		{[]string{"hpa", "some-future-autoscaler"}, [][]string{core, keda, addOn, {"goaws"}}, nil},
	} {
		got := RequiredBinaries(tc.autoscalers)
		for _, group := range tc.want {
			for _, b := range group {
				if !slices.Contains(got, b) {
					t.Errorf("RequiredBinaries(%q) = %v, lacks %s", tc.autoscalers, got, b)
				}
			}
		}
		for _, b := range tc.wantNot {
			if slices.Contains(got, b) {
				t.Errorf("RequiredBinaries(%q) = %v, has %s that these scenarios do not need", tc.autoscalers, got, b)
			}
		}
		// Create builds what the cluster starts; goaws is built on demand.
		if slices.Contains(partsFor(tc.autoscalers).binaries(), "goaws") {
			t.Errorf("partsFor(%q).binaries() has goaws", tc.autoscalers)
		}
	}
}

func TestEnvironmentNamesOnlyThePartsStarted(t *testing.T) {
	v := resolvedVersions(components.Versions{})
	c := componentVersions(v, "v1.35.0", partsFor([]string{"hpa"}))
	if _, ok := c["keda"]; ok {
		t.Errorf("an HPA-only cluster reports KEDA: %v", c)
	}
	if _, ok := c["http-add-on"]; ok {
		t.Errorf("an HPA-only cluster reports the HTTP add-on: %v", c)
	}
	if c["kube-apiserver"] != "v1.35.0" || c["spin-operator"] == "" {
		t.Errorf("components = %v", c)
	}
	c = componentVersions(v, "v1.35.0", partsFor([]string{"keda-cpu"}))
	if c["keda"] == "" || c["http-add-on"] != "" {
		t.Errorf("keda-cpu cluster components = %v, want KEDA without the HTTP add-on", c)
	}
	k := knobs(DefaultHPASettings, DefaultPodTiming, DefaultNodeShape, 3, "default", CPUCost{}, partsFor([]string{"hpa"}))
	if _, ok := k["keda.pollingIntervalDefault"]; ok {
		t.Errorf("an HPA-only cluster reports KEDA's knobs: %v", k)
	}
	if k := knobs(DefaultHPASettings, DefaultPodTiming, DefaultNodeShape, 3, "default", CPUCost{}, allParts); k["keda.pollingIntervalDefault"] == "" {
		t.Errorf("a cluster with KEDA lacks its knobs: %v", k)
	}
}

func TestIsWebhookDenial(t *testing.T) {
	gr := schema.GroupResource{Group: "keda.sh", Resource: "scaledobjects"}
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"denied (403, controller-runtime's Denied)", apierrors.NewForbidden(gr, "probe", errors.New("name too long")), true},
		{"denied with a status of its own (422)", apierrors.NewInvalid(schema.GroupKind{Group: "keda.sh", Kind: "ScaledObject"}, "probe", nil), true},
		{"webhook not reachable (500)", apierrors.NewInternalError(errors.New(`failed calling webhook "vscaledobject.kb.io": connection refused`)), false},
		{"API server down", errors.New("connection refused"), false},
		{"accepted", nil, false},
	} {
		if got := isWebhookDenial(tc.err); got != tc.want {
			t.Errorf("%s: isWebhookDenial = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// A control-plane process kwokctl started that is gone fails the health
// check, named, with where its log is.
func TestCheckComponentsCoversKwokctlProcesses(t *testing.T) {
	dir := t.TempDir()
	sup, err := proc.New(proc.Options{LogDir: filepath.Join(dir, "logs"), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	c := &Cluster{kwokWorkDir: filepath.Join(dir, "kwok"), kwokName: "sb-x", sup: sup, specs: map[string]specEntry{}}
	if err := c.CheckComponents(); err != nil {
		t.Fatalf("no process recorded yet: CheckComponents = %v", err)
	}
	pids := filepath.Join(c.kwokWorkDir, "clusters", c.kwokName, "pids")
	if err := os.MkdirAll(pids, 0o755); err != nil {
		t.Fatal(err)
	}
	// A pid no process has (above the kernel's pid_max).
	if err := os.WriteFile(filepath.Join(pids, "metrics-server.pid"), []byte("99999999\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err = c.CheckComponents()
	if err == nil || !strings.Contains(err.Error(), `control-plane process "metrics-server" (started by kwokctl) is not running`) ||
		!strings.Contains(err.Error(), filepath.Join("logs", "metrics-server.log")) {
		t.Fatalf("CheckComponents = %v; want metrics-server named as not running, with its log", err)
	}
}

func TestPlanNodes(t *testing.T) {
	need := func(name string, replicas int, cpu, mem string) clusters.NodeNeed {
		return clusters.NodeNeed{Scenario: name, MaxReplicas: replicas, CPURequest: cpu, MemoryRequest: mem}
	}
	// The docs' scenarios fit the default 3 nodes.
	p, err := planNodes(DefaultNodeShape, []clusters.NodeNeed{need("hpa-cpu", 10, "100m", "400Mi"), need("keda-cpu", 20, "100m", "400Mi")})
	if err != nil || p.Count != 3 || !strings.HasPrefix(p.Source, "default") {
		t.Fatalf("docs: %+v, %v", p, err)
	}
	// 1000 replicas of 100m/400Mi: memory binds (1000 × 400Mi × 1.25 ÷ 256Gi = 1.9),
	// pods bind harder (1250 ÷ 250 = 5).
	p, err = planNodes(DefaultNodeShape, []clusters.NodeNeed{need("thousand", 1000, "100m", "400Mi")})
	if err != nil || p.Count != 5 || !strings.Contains(p.Source, "derived") || !strings.Contains(p.Source, "thousand: 1000 × (cpu 100m, memory 400Mi)") {
		t.Fatalf("1000: %+v, %v", p, err)
	}
	// CPU binds: 100 × 1 CPU × 1.25 ÷ 32 = 3.9 → 4.
	p, err = planNodes(DefaultNodeShape, []clusters.NodeNeed{need("cpu", 100, "1", "")})
	if err != nil || p.Count != 4 {
		t.Fatalf("cpu-bound: %+v, %v", p, err)
	}
	// Scenarios that may run together add up: 2 × 500 pods.
	p, err = planNodes(DefaultNodeShape, []clusters.NodeNeed{need("a", 500, "", ""), need("b", 500, "", "")})
	if err != nil || p.Count != 5 {
		t.Fatalf("sum: %+v, %v", p, err)
	}
	// An explicit shape changes the derivation; an explicit count wins.
	p, err = planNodes(DefaultNodeShape, []clusters.NodeNeed{{Scenario: "s", MaxReplicas: 1000, Pods: 500, CPU: "64"}})
	if err != nil || p.Count != 3 || p.Shape.Pods != 500 || p.Shape.CPU.String() != "64" || !strings.Contains(p.Source, "node shape from spec.cluster.nodes of s") {
		t.Fatalf("shape: %+v, %v", p, err)
	}
	p, err = planNodes(DefaultNodeShape, []clusters.NodeNeed{{Scenario: "s", MaxReplicas: 100, Count: 12}})
	if err != nil || p.Count != 12 || !strings.HasPrefix(p.Source, "spec.cluster.nodes of s") {
		t.Fatalf("count: %+v, %v", p, err)
	}
	// A count too small for the replicas, a bad quantity, too many nodes: errors naming the field.
	for _, tc := range []struct {
		needs []clusters.NodeNeed
		want  string
	}{
		{[]clusters.NodeNeed{{Scenario: "s", MaxReplicas: 1000, Count: 2}}, "spec.cluster.nodes.count 2"},
		{[]clusters.NodeNeed{{Scenario: "s", CPU: "lots"}}, "spec.cluster.nodes.cpu"},
		{[]clusters.NodeNeed{{Scenario: "s", Memory: "-1Gi"}}, "spec.cluster.nodes.memory"},
		{[]clusters.NodeNeed{{Scenario: "s", MaxReplicas: 100000, Pods: 10}}, "at most 1000"},
	} {
		if _, err := planNodes(DefaultNodeShape, tc.needs); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err %v, want it to name %q", tc.needs, err, tc.want)
		}
	}
	// Node CIDRs: /24s as before for small clusters, distinct /22s beyond.
	small := clusterNodes(5, 250)
	if small[0].PodCIDR != "10.42.0.0/24" || small[4].PodCIDR != "10.42.4.0/24" || small[4].Name != "scalebench-agent-3" {
		t.Errorf("small: %+v", small)
	}
	big := clusterNodes(300, 250)
	seen := map[string]bool{}
	for _, n := range big {
		if seen[n.PodCIDR] {
			t.Fatalf("CIDR %s twice", n.PodCIDR)
		}
		seen[n.PodCIDR] = true
	}
	if big[65].PodCIDR != "10.65.4.0/22" {
		t.Errorf("node 65: %s", big[65].PodCIDR)
	}
}

// A component that exited and runs again (a restart whose first attempt
// exited at once) does not fail the cluster's later waits; one that stays
// dead does.
func TestPollComponentsIgnoresAComponentRunningAgain(t *testing.T) {
	dir := t.TempDir()
	sup, err := proc.New(proc.Options{LogDir: filepath.Join(dir, "logs"), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sup.StopAll(context.Background()) })
	c := &Cluster{sup: sup, specs: map[string]specEntry{}}
	ok := func(context.Context) (bool, string, error) { return true, "", nil }
	exitOnce := proc.Spec{Name: "kube-apiserver", Path: "false"}
	p, err := sup.Start(exitOnce)
	if err != nil {
		t.Fatal(err)
	}
	<-p.Done()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.pollComponents(ctx, "after an exit", ok); err == nil || !strings.Contains(err.Error(), "kube-apiserver") {
		t.Fatalf("a component that stays dead: pollComponents = %v, want its exit", err)
	}
	if _, err := sup.Start(proc.Spec{Name: "kube-apiserver", Path: "sleep", Args: []string{"30"}}); err != nil {
		t.Fatal(err)
	}
	if err := c.pollComponents(ctx, "after the restart", ok); err != nil {
		t.Fatalf("a component running again: pollComponents = %v, want nil", err)
	}
}
