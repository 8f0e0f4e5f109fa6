package dataplane

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"

	"github.com/scalebench/scalebench/kube"
)

func TestResolveName(t *testing.T) {
	rt := newRoutes()
	rt.setService(service("default", "hello"))
	ext := service("keda", "keda-metrics-apiserver")
	ext.Spec.Type = corev1.ServiceTypeExternalName
	ext.Spec.ExternalName = "127.0.0.1"
	rt.setService(ext)
	p := newServiceProxy(rt, nil)
	for _, tc := range []struct {
		host string
		port int32
		want string // backend, "ip:port", "dial addr" or "error"
	}{
		{"hello.default", 80, "default/hello:80"},
		{"hello.default.svc", 80, "default/hello:80"},
		{"Hello.Default.svc.cluster.local.", 8080, "default/hello:8080"},
		{"10.244.0.5", 80, "ip 10.244.0.5:80"},
		{"keda-metrics-apiserver.keda", 6443, "dial 127.0.0.1:6443"},
		{"nothere.default", 80, "error"},
		{"hello", 80, "error"},
		{"hello.example.com", 80, "error"},
	} {
		tg, err := p.resolveName(tc.host, tc.port)
		got := "error"
		switch {
		case err != nil:
		case tg.backend != nil:
			got = tg.backend.String()
		case tg.dial != "":
			got = "dial " + tg.dial
		default:
			got = "ip " + endpoint{IP: tg.ip, Port: tg.port}.String()
		}
		if got != tc.want {
			t.Errorf("resolve(%q, %d) = %s (%v), want %s", tc.host, tc.port, got, err, tc.want)
		}
	}
}

func hso(ns, name string, hosts, prefixes []string, svc string, port int64) *unstructured.Unstructured {
	spec := map[string]any{"scaleTargetRef": map[string]any{"name": name, "service": svc, "port": port}}
	if hosts != nil {
		spec["hosts"] = toAny(hosts)
	}
	if prefixes != nil {
		spec["pathPrefixes"] = toAny(prefixes)
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "http.keda.sh/v1alpha1", "kind": "HTTPScaledObject",
		"metadata": map[string]any{"namespace": ns, "name": name}, "spec": spec,
	}}
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func TestHostRoutes(t *testing.T) {
	rt := newRoutes()
	set := func(u *unstructured.Unstructured) {
		rt.setHostRoutes(routeOwner(kube.HTTPScaledObjects, u), hostRoutesOf(kube.HTTPScaledObjects, u))
	}
	set(hso("default", "hello", []string{"hello.example"}, nil, "hello", 80))
	set(hso("default", "api", []string{"hello.example"}, []string{"/api"}, "api", 8080))
	set(hso("default", "wild", []string{"*.example"}, nil, "wild", 80))
	set(hso("default", "wilder", []string{"*.b.example"}, nil, "wilder", 80))
	set(hso("default", "any", nil, nil, "any", 80))
	ir := &unstructured.Unstructured{Object: map[string]any{
		"metadata": map[string]any{"namespace": "apps", "name": "route"},
		"spec": map[string]any{
			"target": map[string]any{"service": "routed", "portName": "http"},
			"rules":  []any{map[string]any{"hosts": []any{"ir.example"}, "paths": []any{map[string]any{"value": "/v1"}}}},
		},
	}}
	rt.setHostRoutes(routeOwner(kube.InterceptorRoutes, ir), hostRoutesOf(kube.InterceptorRoutes, ir))

	for _, tc := range []struct{ host, path, want string }{
		{"hello.example", "/", "default/hello:80"},
		{"hello.example:80", "/api/x", "default/api:8080"},
		{"hello.example", "/apix", "default/hello:80"},
		{"a.example", "/", "default/wild:80"},
		{"a.b.example", "/", "default/wilder:80"},
		{"a.c.example", "/", "default/wild:80"},
		{"other.test", "/", "default/any:80"},
		{"ir.example", "/v1/items", "apps/routed:http"},
		{"ir.example", "/v2", "default/wild:80"},
	} {
		b, ok := rt.routeHost(tc.host, tc.path)
		if !ok || b.String() != tc.want {
			t.Errorf("routeHost(%q, %q) = %v, %v; want %s", tc.host, tc.path, b, ok, tc.want)
		}
	}
	rt.deleteHostRoutes(routeOwner(kube.HTTPScaledObjects, hso("default", "any", nil, nil, "", 0)))
	if b, ok := rt.routeHost("other.test", "/"); ok {
		t.Errorf("catch-all still routes after delete: %v", b)
	}
}

type proxyFixture struct {
	*ingressFixture
	proxy *url.URL
}

func newProxyFixture(t *testing.T) *proxyFixture {
	f := newIngressFixture(t)
	srv := httptest.NewServer(newServiceProxy(f.rt, f.d))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	pf := &proxyFixture{ingressFixture: f, proxy: u}
	// An emulated hello app behind Service default/hello.
	f.rt.setService(service("default", "hello"))
	f.rt.setSlice(slice("default", "hello-1", "hello", "", 80, ep{ip: "10.244.0.2"}))
	f.in.podChanged(pod("default", "h", "10.244.0.2", ModelHello, ""))
	return pf
}

func (f *proxyFixture) client() *http.Client {
	tr := &http.Transport{Proxy: http.ProxyURL(f.proxy)}
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

func TestProxyPlainRequests(t *testing.T) {
	f := newProxyFixture(t)
	c := f.client()
	get := func(rawURL, host string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, rawURL, nil)
		if host != "" {
			req.Host = host
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("http://hello.default/", ""); code != http.StatusOK || body != "Hello from Spin!\n" {
		t.Fatalf("by Service name: %d %q", code, body)
	}
	if code, _ := get("http://10.244.0.2:80/", ""); code != http.StatusOK {
		t.Fatalf("by pod IP: %d", code)
	}
	if code, _ := get("http://nothere.default/", ""); code != http.StatusBadGateway {
		t.Fatalf("unknown Service: %d, want 502", code)
	}

	// The interceptor's request: URL names the Service, Host the client's
	// host; the proxy sees only the Host.
	if code, _ := get("http://hello.default:80/", "hello.example"); code != http.StatusBadGateway {
		t.Fatalf("Host without an add-on route: %d, want 502", code)
	}
	u := hso("default", "hello", []string{"hello.example"}, nil, "hello", 80)
	f.rt.setHostRoutes(routeOwner(kube.HTTPScaledObjects, u), hostRoutesOf(kube.HTTPScaledObjects, u))
	if code, body := get("http://hello.default:80/", "hello.example"); code != http.StatusOK || body != "Hello from Spin!\n" {
		t.Fatalf("Host routed by the HTTPScaledObject: %d %q", code, body)
	}

	// ExternalName Service → its external name.
	local := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "local "+r.Host)
	}))
	defer local.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(local.URL, "http://"))
	ext := service("keda", "ext")
	ext.Spec.Type = corev1.ServiceTypeExternalName
	ext.Spec.ExternalName = "127.0.0.1"
	f.rt.setService(ext)
	if code, body := get("http://ext.keda:"+port+"/", ""); code != http.StatusOK || body != "local ext.keda:"+port {
		t.Fatalf("ExternalName: %d %q", code, body)
	}
}

// connect opens a CONNECT tunnel through the proxy.
func (f *proxyFixture) connect(t *testing.T, target string) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.Dial("tcp", f.proxy.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	io.WriteString(conn, "CONNECT "+target+" HTTP/1.1\r\nHost: "+target+"\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("CONNECT %s: %s %q", target, resp.Status, b)
	}
	return conn, br
}

func roundTrip(t *testing.T, conn net.Conn, br *bufio.Reader, host string) string {
	t.Helper()
	io.WriteString(conn, "GET / HTTP/1.1\r\nHost: "+host+"\r\n\r\n")
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestProxyConnect(t *testing.T) {
	f := newProxyFixture(t)

	// A mapped endpoint (the add-on's external scaler, a local process).
	scaler := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "scaler") }))
	defer scaler.Close()
	f.rt.setService(&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "keda", Name: "keda-add-ons-http-external-scaler"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "grpc", Port: 9090}}}})
	f.rt.setSlice(slice("keda", "scaler-1", "keda-add-ons-http-external-scaler", "grpc", 9090, ep{ip: "10.0.0.251", ready: ptr.To(true)}))
	f.d.mapEndpoint("10.0.0.251", 9090, strings.TrimPrefix(scaler.URL, "http://"))
	conn, br := f.connect(t, "keda-add-ons-http-external-scaler.keda:9090")
	if got := roundTrip(t, conn, br, "x"); got != "scaler" {
		t.Fatalf("through the tunnel to a mapped endpoint: %q", got)
	}
	if got := roundTrip(t, conn, br, "x"); got != "scaler" {
		t.Fatalf("second request on the tunnel: %q", got)
	}

	// Emulated instances serve HTTP over the tunnel.
	conn, br = f.connect(t, "hello.default.svc.cluster.local:80")
	if got := roundTrip(t, conn, br, "hello.default"); got != "Hello from Spin!\n" {
		t.Fatalf("through the tunnel to an instance: %q", got)
	}

	// Unknown names are refused before the tunnel opens.
	c, err := net.Dial("tcp", f.proxy.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "CONNECT nothere.default:80 HTTP/1.1\r\nHost: nothere.default:80\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: http.MethodConnect})
	if err != nil || resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("CONNECT to an unknown Service: %v %v, want 502", resp, err)
	}
}

func TestProxyRejectsOriginFormRequests(t *testing.T) {
	f := newProxyFixture(t)
	resp, err := http.Get(f.proxy.String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("origin-form request: %d, want 400", resp.StatusCode)
	}
}
