package emulated

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/scalebench/scalebench/kube"
	"github.com/scalebench/scalebench/proc"
)

// KEDA's names in the cluster (as the Helm chart names them).
const (
	KEDANamespace             = "keda"
	kedaOperatorService       = "keda-operator"
	kedaMetricsService        = "keda-operator-metrics-apiserver"
	kedaWebhookService        = "keda-admission-webhooks"
	kedaWebhookConfigName     = "keda-admission"
	kedaExternalMetricsAPISvc = "v1beta1.external.metrics.k8s.io"
)

// metricsAPIService is metrics-server's APIService (resource metrics).
const metricsAPIService = "v1beta1.metrics.k8s.io"

// Component names of the supervised processes (StopComponent, RestartComponent).
const (
	ComponentKEDAOperator = "keda-operator"
	ComponentKEDAAdapter  = "keda-adapter"
	ComponentKEDAWebhooks = "keda-webhooks"
	ComponentSpinOperator = "spin-operator"
)

// kedaPorts are the loopback ports of the KEDA processes.
type kedaPorts struct {
	OperatorMetrics, OperatorProbe, OperatorGRPC int
	AdapterSecure, AdapterMetrics                int
	Webhooks, WebhooksMetrics, WebhooksProbe     int
}

// kedaSetup is what the KEDA processes and objects are built from.
type kedaSetup struct {
	Operator, Adapter, Webhooks string // binaries
	ModuleDir                   string // KEDA module source (CRDs, webhook manifest)
	Kubeconfig                  string
	ClusterCA                   string // the cluster CA (kwokctl pki/ca.crt)
	CertDir                     string
	Certs                       *kedaCerts
	Ports                       kedaPorts
	Home                        string
	// ProxyURL is the data plane's service-network proxy; the operator
	// dials external scalers (the HTTP add-on's, by Service name) through it.
	ProxyURL string
}

func kedaCertDNSNames() []string {
	return kedaDNSNames(KEDANamespace, kedaOperatorService, kedaMetricsService, kedaWebhookService)
}

// writeCertDir writes the files the KEDA processes read from --cert-dir.
func (k kedaSetup) writeCertDir() error {
	if err := os.MkdirAll(k.CertDir, 0o700); err != nil {
		return fmt.Errorf("keda cert dir: %w", err)
	}
	for name, data := range map[string][]byte{
		"ca.crt":  k.Certs.CACert,
		"tls.crt": k.Certs.TLSCert,
		"tls.key": k.Certs.TLSKey,
	} {
		if err := os.WriteFile(filepath.Join(k.CertDir, name), data, 0o600); err != nil {
			return fmt.Errorf("keda cert dir: %w", err)
		}
	}
	return nil
}

// kedaEnv is the complete environment of a KEDA process.
func (k kedaSetup) env(podName string) []string {
	return []string{
		"HOME=" + k.Home,
		"WATCH_NAMESPACE=",
		"KEDA_CLUSTER_OBJECT_NAMESPACE=" + KEDANamespace,
		"POD_NAMESPACE=" + KEDANamespace,
		"POD_NAME=" + podName,
		"OPERATOR_NAME=" + podName,
	}
}

// specs returns the three KEDA process specs: operator, metrics adapter,
// admission webhooks.
func (k kedaSetup) specs() []proc.Spec {
	operator := proc.Spec{
		Name: ComponentKEDAOperator,
		Path: k.Operator,
		Env:  append(k.env("keda-operator"), serviceNetworkEnv(k.ProxyURL)...),
		Args: []string{
			"--kubeconfig=" + k.Kubeconfig,
			"--leader-elect=false",
			"--enable-cert-rotation=true",
			"--cert-dir=" + k.CertDir,
			"--cert-secret-name=" + kedaCertSecret,
			"--operator-service-name=" + kedaOperatorService,
			"--metrics-server-service-name=" + kedaMetricsService,
			"--webhooks-service-name=" + kedaWebhookService,
			"--validating-webhook-name=" + kedaWebhookConfigName,
			"--health-probe-bind-address=" + loopback(k.Ports.OperatorProbe),
			"--metrics-bind-address=" + loopback(k.Ports.OperatorMetrics),
			"--metrics-service-bind-address=" + loopback(k.Ports.OperatorGRPC),
			"--zap-log-level=info",
			"--zap-encoder=console",
		},
	}
	adapter := proc.Spec{
		Name: ComponentKEDAAdapter,
		Path: k.Adapter,
		Env:  k.env("keda-operator-metrics-apiserver"),
		Args: []string{
			"--kubeconfig=" + k.Kubeconfig,
			"--lister-kubeconfig=" + k.Kubeconfig,
			"--authentication-kubeconfig=" + k.Kubeconfig,
			"--authorization-kubeconfig=" + k.Kubeconfig,
			"--secure-port=" + strconv.Itoa(k.Ports.AdapterSecure),
			"--bind-address=127.0.0.1",
			"--cert-dir=" + k.CertDir,
			"--tls-cert-file=" + filepath.Join(k.CertDir, "tls.crt"),
			"--tls-private-key-file=" + filepath.Join(k.CertDir, "tls.key"),
			// The cluster CA signs the API server's proxy-client certificate.
			"--client-ca-file=" + k.ClusterCA,
			"--metrics-service-address=" + loopback(k.Ports.OperatorGRPC),
			"--metrics-service-grpc-authority=" + kedaOperatorService + "." + KEDANamespace + ".svc." + kedaClusterDomain,
			// The adapter's Prometheus endpoint listens on all interfaces (":<port>"); only the port can be chosen.
			"--port=" + strconv.Itoa(k.Ports.AdapterMetrics),
			"--zap-log-level=info",
			"--zap-encoder=console",
		},
	}
	webhooks := proc.Spec{
		Name: ComponentKEDAWebhooks,
		Path: k.Webhooks,
		Env:  k.env("keda-admission-webhooks"),
		Args: []string{
			"--kubeconfig=" + k.Kubeconfig,
			"--cert-dir=" + k.CertDir,
			"--port=" + strconv.Itoa(k.Ports.Webhooks),
			"--health-probe-bind-address=" + loopback(k.Ports.WebhooksProbe),
			"--metrics-bind-address=" + loopback(k.Ports.WebhooksMetrics),
			"--zap-log-level=info",
			"--zap-encoder=console",
		},
	}
	return []proc.Spec{operator, adapter, webhooks}
}

// objects returns the cluster objects KEDA's processes need, in apply order:
// namespace, the cert Secret (pre-created so the operator's cert rotator finds
// valid certificates and does not regenerate them and exit), ExternalName
// Services named as in the certificate's SANs, the external metrics
// APIService with caBundle (never insecureSkipTLSVerify: the rotator cannot
// inject its CA into it and then never starts the gRPC metrics server), and
// the admission webhooks with failurePolicy Fail.
func (k kedaSetup) objects() ([]*unstructured.Unstructured, error) {
	b64 := base64.StdEncoding.EncodeToString
	caBundle := b64(k.Certs.CACert)
	kedaLabels := map[string]any{"app.kubernetes.io/part-of": "keda"}

	objs := []*unstructured.Unstructured{
		{Object: map[string]any{
			"apiVersion": "v1", "kind": "Namespace",
			"metadata": map[string]any{"name": KEDANamespace, "labels": kedaLabels},
		}},
		{Object: map[string]any{
			"apiVersion": "v1", "kind": "Secret",
			"metadata": map[string]any{
				"name": kedaCertSecret, "namespace": KEDANamespace,
				"labels": map[string]any{
					"app": "keda-operator", "app.kubernetes.io/name": "keda-operator",
					"app.kubernetes.io/component": "keda-operator", "app.kubernetes.io/part-of": "keda",
				},
			},
			"type": "Opaque",
			"data": map[string]any{
				"ca.crt":  caBundle,
				"ca.key":  b64(k.Certs.CAKey),
				"tls.crt": b64(k.Certs.TLSCert),
				"tls.key": b64(k.Certs.TLSKey),
			},
		}},
		externalNameService(kedaMetricsService, KEDANamespace, "127.0.0.1"),
		externalNameService(kedaWebhookService, KEDANamespace, "127.0.0.1"),
		externalNameService(kedaOperatorService, KEDANamespace, "127.0.0.1"),
		{Object: map[string]any{
			"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
			"metadata": map[string]any{"name": kedaExternalMetricsAPISvc, "labels": kedaLabels},
			"spec": map[string]any{
				"group":                "external.metrics.k8s.io",
				"version":              "v1beta1",
				"groupPriorityMinimum": int64(100),
				"versionPriority":      int64(100),
				"caBundle":             caBundle,
				"service": map[string]any{
					"name": kedaMetricsService, "namespace": KEDANamespace,
					"port": int64(k.Ports.AdapterSecure),
				},
			},
		}},
	}
	wh, err := kedaWebhookConfig(k.ModuleDir, caBundle, k.Ports.Webhooks)
	if err != nil {
		return nil, err
	}
	return append(objs, wh), nil
}

func externalNameService(name, namespace, target string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Service",
		"metadata": map[string]any{"name": name, "namespace": namespace, "labels": map[string]any{"app.kubernetes.io/part-of": "keda"}},
		"spec":     map[string]any{"type": "ExternalName", "externalName": target},
	}}
}

// kedaWebhookConfig reads the module's ValidatingWebhookConfiguration and
// points every webhook at the local process: service port, caBundle, and
// failurePolicy Fail (upstream ships Ignore, which would let invalid objects
// through silently when the webhook process is down).
func kedaWebhookConfig(moduleDir, caBundle string, port int) (*unstructured.Unstructured, error) {
	path := filepath.Join(moduleDir, "config", "webhooks", "validation_webhooks.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("keda webhooks: %w", err)
	}
	objs, err := kube.DecodeYAML(data)
	if err != nil || len(objs) != 1 || objs[0].GetKind() != "ValidatingWebhookConfiguration" {
		return nil, fmt.Errorf("keda webhooks: %s: want one ValidatingWebhookConfiguration (err %v)", path, err)
	}
	wh := objs[0]
	hooks, _, _ := unstructured.NestedSlice(wh.Object, "webhooks")
	if len(hooks) == 0 {
		return nil, fmt.Errorf("keda webhooks: %s lists no webhooks", path)
	}
	for i, h := range hooks {
		m, ok := h.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("keda webhooks: webhook %d is not an object", i)
		}
		m["failurePolicy"] = "Fail"
		if err := unstructured.SetNestedField(m, int64(port), "clientConfig", "service", "port"); err != nil {
			return nil, fmt.Errorf("keda webhooks: %w", err)
		}
		if err := unstructured.SetNestedField(m, caBundle, "clientConfig", "caBundle"); err != nil {
			return nil, fmt.Errorf("keda webhooks: %w", err)
		}
		svcName, _, _ := unstructured.NestedString(m, "clientConfig", "service", "name")
		if svcName != kedaWebhookService {
			return nil, fmt.Errorf("keda webhooks: webhook %d points at service %q, want %q", i, svcName, kedaWebhookService)
		}
		hooks[i] = m
	}
	if err := unstructured.SetNestedSlice(wh.Object, hooks, "webhooks"); err != nil {
		return nil, fmt.Errorf("keda webhooks: %w", err)
	}
	if wh.GetName() != kedaWebhookConfigName {
		return nil, fmt.Errorf("keda webhooks: configuration is named %q, want %q", wh.GetName(), kedaWebhookConfigName)
	}
	return wh, nil
}

// kedaWebhookProbe is a ScaledObject only KEDA's webhook rejects, without
// looking at any other object: its name is longer than the 63 characters
// KEDA allows (it becomes a label value); the CRD schema accepts it. Created
// with dry run, a denial proves the API server reaches the webhook process.
// (min > max replicas would not do: the CRD's own validation rejects that
// before the webhook is called.)
func kedaWebhookProbe() *unstructured.Unstructured {
	name := "scalebench-webhook-probe-" + strings.Repeat("x", 50)
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
		"metadata": map[string]any{"name": name, "namespace": KEDANamespace},
		"spec": map[string]any{
			"scaleTargetRef":  map[string]any{"name": "scalebench-webhook-probe"},
			"minReplicaCount": int64(1),
			"maxReplicaCount": int64(1),
			"triggers": []any{map[string]any{
				"type": "cron", "metadata": map[string]any{
					"timezone": "Etc/UTC", "start": "0 0 * * *", "end": "1 0 * * *", "desiredReplicas": "1",
				},
			}},
		},
	}}
}

// isWebhookDenial reports whether err is a denial by an admission webhook
// (as opposed to the API server failing to call it). The probe is one the
// CRD schema accepts and scalebench is cluster admin, so a 4xx status on its
// dry-run create comes from admission: KEDA's webhook denies with 403
// Forbidden (controller-runtime's Denied) or, for a status error of its own,
// 400/422. An API server that cannot call the webhook answers 500.
func isWebhookDenial(err error) bool {
	return apierrors.IsForbidden(err) || apierrors.IsInvalid(err) || apierrors.IsBadRequest(err)
}
