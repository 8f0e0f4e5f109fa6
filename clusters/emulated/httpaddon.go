// The KEDA HTTP add-on as the emulated cluster runs it: its names, ports,
// process specs and cluster objects (httpaddon_ready.go waits until it
// answers).

package emulated

import (
	"net"
	"strconv"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/scalebench/scalebench/proc"
)

// The KEDA HTTP add-on's names in the cluster, as its Helm chart
// (kedacore/keda-add-ons-http) names them, in namespace KEDANamespace.
const (
	// HTTPAddOnInterceptorProxyService is the interceptor's proxy Service:
	// an Ingress routes a host to it, port HTTPAddOnInterceptorProxyPort.
	HTTPAddOnInterceptorProxyService = "keda-add-ons-http-interceptor-proxy"
	HTTPAddOnInterceptorProxyPort    = 8080

	httpAddOnAdminService    = "keda-add-ons-http-interceptor-admin"
	httpAddOnAdminPort       = 9090
	httpAddOnScalerService   = "keda-add-ons-http-external-scaler"
	httpAddOnScalerPort      = 9090
	httpAddOnInterceptorDepl = "keda-add-ons-http-interceptor"
)

// Component names of the add-on's supervised processes.
const (
	ComponentHTTPAddOnOperator    = "http-add-on-operator"
	ComponentHTTPAddOnScaler      = "http-add-on-scaler"
	ComponentHTTPAddOnInterceptor = "http-add-on-interceptor"
)

// Pod addresses of the add-on's processes in its Services' EndpointSlices.
// The API server rejects loopback endpoint addresses, so they are addresses
// of a pod CIDR that no node has (the nodes have 10.42.0-2.0/24); the data
// plane maps them (MapEndpoint) to the processes' loopback ports.
const (
	httpAddOnInterceptorIP = "10.42.250.10"
	httpAddOnScalerIP      = "10.42.250.20"
)

// noProxy keeps the API server (on loopback; some clients dial it as
// 0.0.0.0) and every local listener off the service-network proxy.
const noProxy = "127.0.0.1,localhost,0.0.0.0"

// serviceNetworkEnv is the environment that sends a process's cluster
// traffic (Service names, pod IPs) through the data plane's service-network
// proxy: Go's net/http and grpc-go both read it.
func serviceNetworkEnv(proxyURL string) []string {
	if proxyURL == "" {
		return nil
	}
	return []string{"HTTP_PROXY=" + proxyURL, "HTTPS_PROXY=" + proxyURL, "NO_PROXY=" + noProxy}
}

// httpAddOnPorts are the loopback ports of the add-on's processes.
type httpAddOnPorts struct {
	OperatorProbe, OperatorMetrics                         int
	ScalerGRPC, ScalerMetrics                              int
	InterceptorProxy, InterceptorAdmin, InterceptorMetrics int
}

// httpAddOnSetup is what the add-on's processes and objects are built from.
type httpAddOnSetup struct {
	Operator, Scaler, Interceptor string // binaries
	Kubeconfig, Home              string
	// ProxyURL is the data plane's service-network proxy, for the scaler
	// (polls interceptors by endpoint IP) and the interceptor (dials apps
	// as http://<service>.<namespace>:<port>).
	ProxyURL string
	Ports    httpAddOnPorts
}

// specs returns the operator, scaler and interceptor process specs. The
// scaler and the interceptor listen on all interfaces (upstream has no
// setting for the address, only the ports).
func (h httpAddOnSetup) specs() []proc.Spec {
	zap := []string{"--zap-log-level=info", "--zap-encoder=console", "--zap-time-encoding=rfc3339"}
	home := "HOME=" + h.Home
	operator := proc.Spec{
		Name: ComponentHTTPAddOnOperator,
		Path: h.Operator,
		Env: []string{
			home,
			"KEDA_HTTP_OPERATOR_NAMESPACE=" + KEDANamespace,
			"KEDA_HTTP_OPERATOR_EXTERNAL_SCALER_SERVICE=" + httpAddOnScalerService,
			"KEDA_HTTP_OPERATOR_EXTERNAL_SCALER_PORT=" + strconv.Itoa(httpAddOnScalerPort),
		},
		Args: append([]string{
			"--kubeconfig=" + h.Kubeconfig,
			"--leader-elect=false",
			"--health-probe-bind-address=" + loopback(h.Ports.OperatorProbe),
			"--metrics-bind-address=" + loopback(h.Ports.OperatorMetrics),
			"--metrics-secure=false",
		}, zap...),
	}
	scaler := proc.Spec{
		Name: ComponentHTTPAddOnScaler,
		Path: h.Scaler,
		Env: append([]string{
			home,
			"KEDA_HTTP_SCALER_PORT=" + strconv.Itoa(h.Ports.ScalerGRPC),
			"KEDA_HTTP_SCALER_TARGET_ADMIN_NAMESPACE=" + KEDANamespace,
			"KEDA_HTTP_SCALER_TARGET_ADMIN_SERVICE=" + httpAddOnAdminService,
			// Upstream only keeps the name; nothing reads the Deployment.
			"KEDA_HTTP_SCALER_TARGET_ADMIN_DEPLOYMENT=" + httpAddOnInterceptorDepl,
			// The port the scaler dials at each endpoint address: the
			// EndpointSlice's, which the data plane maps to the admin port.
			"KEDA_HTTP_SCALER_TARGET_ADMIN_PORT=" + strconv.Itoa(httpAddOnAdminPort),
			"OTEL_PROM_EXPORTER_PORT=" + strconv.Itoa(h.Ports.ScalerMetrics),
		}, serviceNetworkEnv(h.ProxyURL)...),
		Args: append([]string{"--kubeconfig=" + h.Kubeconfig}, zap...),
	}
	interceptor := proc.Spec{
		Name: ComponentHTTPAddOnInterceptor,
		Path: h.Interceptor,
		Env: append([]string{
			home,
			"KEDA_HTTP_PROXY_PORT=" + strconv.Itoa(h.Ports.InterceptorProxy),
			"KEDA_HTTP_ADMIN_PORT=" + strconv.Itoa(h.Ports.InterceptorAdmin),
			"OTEL_PROM_EXPORTER_PORT=" + strconv.Itoa(h.Ports.InterceptorMetrics),
			// Upstream waits 5 s after SIGTERM for endpoint removal to reach
			// every node; here the data plane is gone before it is stopped.
			"KEDA_HTTP_SHUTDOWN_DELAY=0s",
		}, serviceNetworkEnv(h.ProxyURL)...),
		Args: append([]string{"--kubeconfig=" + h.Kubeconfig}, zap...),
	}
	return []proc.Spec{operator, scaler, interceptor}
}

// endpointMapping sends an EndpointSlice address to a local listener.
type endpointMapping struct {
	IP    string
	Port  int32
	Local string
}

// httpAddOnService is one Service the chart creates, with the port its
// EndpointSlice serves and the local process port behind it.
type httpAddOnService struct {
	name     string
	portName string
	port     int32 // Service port = endpoint port (the chart's container port)
	ip       string
	local    int
}

func (h httpAddOnSetup) services() []httpAddOnService {
	return []httpAddOnService{
		{HTTPAddOnInterceptorProxyService, "proxy", HTTPAddOnInterceptorProxyPort, httpAddOnInterceptorIP, h.Ports.InterceptorProxy},
		{httpAddOnAdminService, "admin", httpAddOnAdminPort, httpAddOnInterceptorIP, h.Ports.InterceptorAdmin},
		{httpAddOnScalerService, "grpc", httpAddOnScalerPort, httpAddOnScalerIP, h.Ports.ScalerGRPC},
	}
}

// endpointMappings are the MapEndpoint calls that land the Services'
// endpoints on the local processes.
func (h httpAddOnSetup) endpointMappings() []endpointMapping {
	var out []endpointMapping
	for _, s := range h.services() {
		out = append(out, endpointMapping{IP: s.ip, Port: s.port, Local: loopback(s.local)})
	}
	return out
}

// objects returns the Services the chart creates (interceptor proxy and
// admin, external scaler), without selectors, each with an EndpointSlice
// whose one ready address the data plane maps to the local process. The
// chart's interceptor-metrics Service, its ScaledObject that scales the
// interceptor Deployment, and the Deployments themselves are left out: no
// component reads them (the scaler only keeps the Deployment's name).
func (h httpAddOnSetup) objects() []*unstructured.Unstructured {
	labels := func(component string) map[string]any {
		return map[string]any{
			"app.kubernetes.io/name": "http-add-on", "app.kubernetes.io/component": component,
			"app.kubernetes.io/part-of": "keda",
		}
	}
	var out []*unstructured.Unstructured
	for _, s := range h.services() {
		component := "interceptor"
		if s.name == httpAddOnScalerService {
			component = "scaler"
		}
		out = append(out,
			&unstructured.Unstructured{Object: map[string]any{
				"apiVersion": "v1", "kind": "Service",
				"metadata": map[string]any{"name": s.name, "namespace": KEDANamespace, "labels": labels(component)},
				"spec": map[string]any{
					"type": "ClusterIP",
					"ports": []any{map[string]any{
						"name": s.portName, "protocol": "TCP", "port": int64(s.port), "targetPort": int64(s.port),
					}},
				},
			}},
			&unstructured.Unstructured{Object: map[string]any{
				"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
				"metadata": map[string]any{
					"name": s.name + "-emulated", "namespace": KEDANamespace,
					"labels": map[string]any{
						"kubernetes.io/service-name":             s.name,
						"endpointslice.kubernetes.io/managed-by": fieldManager,
						"app.kubernetes.io/part-of":              "keda",
					},
				},
				"addressType": "IPv4",
				"ports": []any{map[string]any{
					"name": s.portName, "protocol": "TCP", "port": int64(s.port),
				}},
				"endpoints": []any{map[string]any{
					"addresses":  []any{s.ip},
					"conditions": map[string]any{"ready": true, "serving": true, "terminating": false},
				}},
			}},
		)
	}
	return out
}

// httpAddOnServiceAddr is a Service's cluster DNS name and port, as
// components dial it through the service-network proxy.
func httpAddOnServiceAddr(service string, port int) string {
	return net.JoinHostPort(service+"."+KEDANamespace, strconv.Itoa(port))
}
