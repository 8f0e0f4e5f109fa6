package emulated

import (
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"

	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/scalebench/scalebench/clusters/emulated/components"
)

func testAddOn() httpAddOnSetup {
	return httpAddOnSetup{
		Operator: "/b/op", Scaler: "/b/sc", Interceptor: "/b/ic", Kubeconfig: "/kc", Home: "/home",
		ProxyURL: "http://127.0.0.1:3128",
		Ports: httpAddOnPorts{OperatorProbe: 1, OperatorMetrics: 2, ScalerGRPC: 3, ScalerMetrics: 4,
			InterceptorProxy: 5, InterceptorAdmin: 6, InterceptorMetrics: 7},
	}
}

func envMap(env []string) map[string]string {
	m := map[string]string{}
	for _, e := range env {
		k, v, _ := strings.Cut(e, "=")
		m[k] = v
	}
	return m
}

func TestHTTPAddOnSpecs(t *testing.T) {
	specs := testAddOn().specs()
	byName := map[string]map[string]string{}
	for _, s := range specs {
		byName[s.Name] = envMap(s.Env)
		if !slices.Contains(s.Args, "--kubeconfig=/kc") {
			t.Errorf("%s: args %v lack --kubeconfig", s.Name, s.Args)
		}
		if byName[s.Name]["HOME"] != "/home" {
			t.Errorf("%s: HOME not set", s.Name)
		}
	}
	want := map[string]map[string]string{
		ComponentHTTPAddOnOperator: {
			"KEDA_HTTP_OPERATOR_EXTERNAL_SCALER_SERVICE": "keda-add-ons-http-external-scaler",
			"KEDA_HTTP_OPERATOR_EXTERNAL_SCALER_PORT":    "9090",
			"KEDA_HTTP_OPERATOR_NAMESPACE":               "keda",
		},
		ComponentHTTPAddOnScaler: {
			"KEDA_HTTP_SCALER_PORT":                    "3",
			"KEDA_HTTP_SCALER_TARGET_ADMIN_NAMESPACE":  "keda",
			"KEDA_HTTP_SCALER_TARGET_ADMIN_SERVICE":    "keda-add-ons-http-interceptor-admin",
			"KEDA_HTTP_SCALER_TARGET_ADMIN_DEPLOYMENT": "keda-add-ons-http-interceptor",
			"KEDA_HTTP_SCALER_TARGET_ADMIN_PORT":       "9090",
			"OTEL_PROM_EXPORTER_PORT":                  "4",
			"HTTP_PROXY":                               "http://127.0.0.1:3128",
			"HTTPS_PROXY":                              "http://127.0.0.1:3128",
			"NO_PROXY":                                 "127.0.0.1,localhost,0.0.0.0",
		},
		ComponentHTTPAddOnInterceptor: {
			"KEDA_HTTP_PROXY_PORT":    "5",
			"KEDA_HTTP_ADMIN_PORT":    "6",
			"OTEL_PROM_EXPORTER_PORT": "7",
			"HTTP_PROXY":              "http://127.0.0.1:3128",
			"HTTPS_PROXY":             "http://127.0.0.1:3128",
			"NO_PROXY":                "127.0.0.1,localhost,0.0.0.0",
		},
	}
	if len(specs) != len(want) {
		t.Fatalf("%d specs, want %d", len(specs), len(want))
	}
	for name, kv := range want {
		for k, v := range kv {
			if got := byName[name][k]; got != v {
				t.Errorf("%s: %s=%q, want %q", name, k, got, v)
			}
		}
	}
	// The operator dials nothing in the cluster: no proxy.
	for k := range byName[ComponentHTTPAddOnOperator] {
		if strings.Contains(k, "PROXY") {
			t.Errorf("operator env has %s", k)
		}
	}
	op := strings.Join(specs[0].Args, " ")
	for _, a := range []string{"--health-probe-bind-address=127.0.0.1:1", "--metrics-bind-address=127.0.0.1:2", "--leader-elect=false"} {
		if !strings.Contains(op, a) {
			t.Errorf("operator args %q lack %s", op, a)
		}
	}
}

func TestKEDAOperatorGetsTheServiceNetwork(t *testing.T) {
	k := kedaSetup{Operator: "/b/op", Adapter: "/b/ad", Webhooks: "/b/wh", Kubeconfig: "/kc", Home: "/home", ProxyURL: "http://127.0.0.1:3128"}
	for _, s := range k.specs() {
		env := envMap(s.Env)
		if s.Name == ComponentKEDAOperator {
			if env["HTTPS_PROXY"] != "http://127.0.0.1:3128" || env["HTTP_PROXY"] != "http://127.0.0.1:3128" || env["NO_PROXY"] != noProxy {
				t.Errorf("keda-operator env %v lacks the service-network proxy", s.Env)
			}
			continue
		}
		for k := range env {
			if strings.Contains(k, "PROXY") {
				t.Errorf("%s env has %s", s.Name, k)
			}
		}
	}
}

func TestHTTPAddOnObjectsAndMappings(t *testing.T) {
	h := testAddOn()
	objs := h.objects()
	services := map[string]*unstructured.Unstructured{}
	slicesBySvc := map[string]*unstructured.Unstructured{}
	for _, o := range objs {
		if o.GetNamespace() != KEDANamespace {
			t.Errorf("%s %s in namespace %q", o.GetKind(), o.GetName(), o.GetNamespace())
		}
		switch o.GetKind() {
		case "Service":
			services[o.GetName()] = o
		case "EndpointSlice":
			slicesBySvc[o.GetLabels()[discoveryv1.LabelServiceName]] = o
			if o.GetLabels()[discoveryv1.LabelManagedBy] == "endpointslice-controller.k8s.io" {
				t.Errorf("slice %s claims the endpointslice controller", o.GetName())
			}
		default:
			t.Errorf("unexpected %s", o.GetKind())
		}
	}
	for _, name := range []string{"keda-add-ons-http-interceptor-proxy", "keda-add-ons-http-interceptor-admin", "keda-add-ons-http-external-scaler"} {
		if services[name] == nil || slicesBySvc[name] == nil {
			t.Errorf("Service %s or its EndpointSlice missing", name)
		}
	}
	var nodeNets []*net.IPNet
	for _, n := range clusterNodes(0, 250) {
		_, ipn, _ := net.ParseCIDR(n.PodCIDR)
		nodeNets = append(nodeNets, ipn)
	}

	mappings := map[string]string{}
	for _, m := range h.endpointMappings() {
		key := net.JoinHostPort(m.IP, strconv.Itoa(int(m.Port)))
		if _, dup := mappings[key]; dup {
			t.Errorf("endpoint %s mapped twice", key)
		}
		mappings[key] = m.Local
	}
	wantLocal := map[string]string{
		"keda-add-ons-http-interceptor-proxy": "127.0.0.1:5",
		"keda-add-ons-http-interceptor-admin": "127.0.0.1:6",
		"keda-add-ons-http-external-scaler":   "127.0.0.1:3",
	}
	for name, svc := range services {
		if sel, found, _ := unstructured.NestedMap(svc.Object, "spec", "selector"); found && len(sel) > 0 {
			t.Errorf("Service %s has a selector: the endpointslice controller would fight the hand-made slice", name)
		}
		sp, _, _ := unstructured.NestedSlice(svc.Object, "spec", "ports")
		spm := sp[0].(map[string]any)
		sl := slicesBySvc[name]
		pp, _, _ := unstructured.NestedSlice(sl.Object, "ports")
		ppm := pp[0].(map[string]any)
		if spm["name"] != ppm["name"] {
			t.Errorf("%s: Service port %v and slice port %v named differently", name, spm["name"], ppm["name"])
		}
		eps, _, _ := unstructured.NestedSlice(sl.Object, "endpoints")
		addrs, _, _ := unstructured.NestedStringSlice(eps[0].(map[string]any), "addresses")
		ip := net.ParseIP(addrs[0])
		if ip == nil || ip.IsLoopback() || ip.IsUnspecified() || ip.IsLinkLocalUnicast() {
			t.Errorf("%s: endpoint address %q is not a valid pod address", name, addrs[0])
		}
		for _, n := range nodeNets {
			if n.Contains(ip) {
				t.Errorf("%s: endpoint address %s is in node pod CIDR %s", name, ip, n)
			}
		}
		key := net.JoinHostPort(addrs[0], strconv.Itoa(int(ppm["port"].(int64))))
		if got := mappings[key]; got != wantLocal[name] {
			t.Errorf("%s: endpoint %s mapped to %q, want %q", name, key, got, wantLocal[name])
		}
	}
	// The ingress routes to the proxy Service's port by number.
	sp, _, _ := unstructured.NestedSlice(services[HTTPAddOnInterceptorProxyService].Object, "spec", "ports")
	if sp[0].(map[string]any)["port"] != int64(HTTPAddOnInterceptorProxyPort) {
		t.Errorf("proxy Service port %v", sp[0])
	}
}

func TestScalerPingerGauges(t *testing.T) {
	text := `# HELP scaler_pinger_endpoints Number of interceptor endpoints the scaler is polling
# TYPE scaler_pinger_endpoints gauge
scaler_pinger_endpoints 1
# TYPE scaler_pinger_fetch_errors_total counter
scaler_pinger_fetch_errors_total 4
# TYPE scaler_pinger_unreachable_pods gauge
scaler_pinger_unreachable_pods{otel_scope_name="keda external scaler"} 0
`
	e, u, err := scalerPingerGauges(strings.NewReader(text))
	if err != nil || e != 1 || u != 0 {
		t.Errorf("gauges = %d, %d, %v; want 1, 0", e, u, err)
	}
	e, u, _ = scalerPingerGauges(strings.NewReader("# nothing fetched yet\n"))
	if e != -1 || u != -1 {
		t.Errorf("absent gauges = %d, %d; want -1, -1", e, u)
	}
}

func TestEnvironmentReportsTheHTTPAddOn(t *testing.T) {
	c := &Cluster{versions: resolvedVersions(components.Versions{}), hpa: DefaultHPASettings, timing: DefaultPodTiming, shape: DefaultNodeShape, parts: allParts}
	env := c.Environment()
	if got := env.Components["http-add-on"]; got != components.DefaultHTTPAddOnVersion {
		t.Errorf("http-add-on = %q", got)
	}
	if !slices.ContainsFunc(env.Emulated, func(s string) bool { return strings.Contains(s, "service-network proxy") }) {
		t.Errorf("Emulated does not mention the service-network proxy: %q", env.Emulated)
	}
}
