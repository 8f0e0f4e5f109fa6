package dataplane

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/utils/ptr"
)

type ingressFixture struct {
	rt  *routes
	in  *instances
	d   *dispatcher
	url string
}

func newIngressFixture(t *testing.T) *ingressFixture {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	f := &ingressFixture{rt: newRoutes()}
	f.in = newInstances(ctx, RealClock{}, testLogger(t), DefaultModels(), time.Second)
	f.d = newDispatcher(f.rt, f.in, testLogger(t))
	srv := httptest.NewServer(f.d)
	t.Cleanup(srv.Close)
	t.Cleanup(f.d.transport.CloseIdleConnections)
	f.url = srv.URL
	return f
}

func (f *ingressFixture) get(t *testing.T, host, path string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, f.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestIngressRoutesToInstances(t *testing.T) {
	f := newIngressFixture(t)
	if code, body := f.get(t, "", "/"); code != http.StatusNotFound || body != "404 page not found\n" {
		t.Fatalf("no route: %d %q, want Traefik's 404", code, body)
	}
	f.rt.setIngress(ingress("default", "spinapp-ingress", rule{path: "/", pathType: networkingv1.PathTypePrefix, svc: "hello", port: 80}))
	if code, _ := f.get(t, "", "/"); code != http.StatusServiceUnavailable {
		t.Fatalf("route without a Service: %d, want 503", code)
	}
	f.rt.setService(service("default", "hello"))
	f.rt.setSlice(slice("default", "hello-1", "hello", "http-app", 80, ep{ip: "10.244.0.2"}, ep{ip: "10.244.0.3"}))
	f.rt.setService(service("default", "hello")) // no port name: slice port "http-app" does not match ""
	if code, _ := f.get(t, "", "/"); code != http.StatusServiceUnavailable {
		t.Fatalf("Service port not in the slice: %d, want 503", code)
	}
	f.rt.setSlice(slice("default", "hello-1", "hello", "", 80, ep{ip: "10.244.0.2"}, ep{ip: "10.244.0.3"}))
	if code, _ := f.get(t, "", "/"); code != http.StatusBadGateway {
		t.Fatalf("ready endpoints without instances: %d, want 502", code)
	}

	ms := "1ms"
	f.in.podChanged(pod("default", "h2", "10.244.0.2", ModelHello, "", AnnotationCPUPerRequest, ms))
	f.in.podChanged(pod("default", "h3", "10.244.0.3", ModelHello, "", AnnotationCPUPerRequest, ms))
	for range 10 {
		if code, body := f.get(t, "localhost:8081", "/"); code != http.StatusOK || body != "Hello from Spin!\n" {
			t.Fatalf("GET /: %d %q", code, body)
		}
	}
	for _, ip := range []string{"10.244.0.2", "10.244.0.3"} {
		if got := f.in.byAddress(ip).model.CPUUsed(); got != 5*time.Millisecond {
			t.Errorf("%s served %v of CPU, want 5 requests × 1ms (round-robin)", ip, got)
		}
	}

	// One pod unready, the slice not updated yet: requests skip it.
	f.in.podChanged(unready(pod("default", "h2", "10.244.0.2", ModelHello, "")))
	before := f.in.byAddress("10.244.0.3").model.CPUUsed()
	for range 4 {
		if code, _ := f.get(t, "", "/"); code != http.StatusOK {
			t.Fatalf("with one draining endpoint: %d", code)
		}
	}
	if got := f.in.byAddress("10.244.0.3").model.CPUUsed() - before; got != 4*time.Millisecond {
		t.Errorf("serving pod took %v, want all 4 requests", got)
	}
	f.in.podChanged(unready(pod("default", "h3", "10.244.0.3", ModelHello, "")))
	if code, _ := f.get(t, "", "/"); code != http.StatusServiceUnavailable {
		t.Fatalf("every endpoint draining: %d, want 503", code)
	}
}

func TestIngressForwardsToMappedEndpoint(t *testing.T) {
	f := newIngressFixture(t)
	type seen struct{ host, path, xfh string }
	got := make(chan seen, 1)
	interceptor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- seen{r.Host, r.URL.Path, r.Header.Get("X-Forwarded-Host")}
		w.Header().Set("X-Keda-Http-Cold-Start", "false")
		io.WriteString(w, "from interceptor")
	}))
	defer interceptor.Close()

	f.rt.setIngress(ingress("keda", "http-addon", rule{path: "/", pathType: networkingv1.PathTypePrefix, svc: "keda-add-ons-http-interceptor-proxy", port: 8080}))
	f.rt.setService(service("keda", "keda-add-ons-http-interceptor-proxy", corev1.ServicePort{Name: "proxy", Port: 8080}))
	f.rt.setSlice(slice("keda", "interceptor-proxy", "keda-add-ons-http-interceptor-proxy", "proxy", 8080, ep{ip: "10.0.0.250", ready: ptr.To(true)}))
	if code, _ := f.get(t, "hello.example", "/"); code != http.StatusBadGateway {
		t.Fatalf("unmapped endpoint: %d, want 502", code)
	}

	f.d.mapEndpoint("10.0.0.250", 8080, strings.TrimPrefix(interceptor.URL, "http://"))
	code, body := f.get(t, "hello.example", "/greet")
	if code != http.StatusOK || body != "from interceptor" {
		t.Fatalf("mapped endpoint: %d %q", code, body)
	}
	s := <-got
	if s.host != "hello.example" || s.path != "/greet" || s.xfh != "hello.example" {
		t.Fatalf("interceptor saw %+v; want Host hello.example preserved", s)
	}

	// A mapping to a dead listener answers 502.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := ln.Addr().String()
	ln.Close()
	f.d.mapEndpoint("10.0.0.250", 8080, dead)
	if code, _ := f.get(t, "hello.example", "/"); code != http.StatusBadGateway {
		t.Fatalf("dead mapped listener: %d, want 502", code)
	}
	f.d.mapEndpoint("10.0.0.250", 8080, "")
	if _, ok := f.d.mappedAddr("10.0.0.250", 8080); ok {
		t.Fatal("mapping not removed")
	}
}

func TestIngressCPULoadGenTimeoutReleasesShare(t *testing.T) {
	f := newIngressFixture(t)
	f.rt.setIngress(ingress("default", "spinapp-ingress", rule{path: "/", pathType: networkingv1.PathTypePrefix, svc: "app", port: 80}))
	f.rt.setService(service("default", "app"))
	f.rt.setSlice(slice("default", "app-1", "app", "", 80, ep{ip: "10.244.0.2"}))
	f.in.podChanged(pod("default", "a", "10.244.0.2", ModelCPULoadGen, "500m", AnnotationCPUPerRequest, "10s"))
	in := f.in.byAddress("10.244.0.2")

	client := &http.Client{Timeout: 50 * time.Millisecond}
	if _, err := client.Get(f.url + "/"); err == nil {
		t.Fatal("a 10s-CPU request at 500m answered within 50ms")
	}
	eventually(t, "abandoned request released", func() bool { return in.Inflight() == 0 && load(in) == 0 })
}

// An injected app fault answers its status for its duration, costs the
// instance no CPU, and ends on its own.
func TestIngressAppFault(t *testing.T) {
	f := newIngressFixture(t)
	f.rt.setIngress(ingress("default", "spinapp-ingress", rule{path: "/", pathType: networkingv1.PathTypePrefix, svc: "hello", port: 80}))
	f.rt.setService(service("default", "hello"))
	f.rt.setSlice(slice("default", "hello-1", "hello", "", 80, ep{ip: "10.244.0.2"}))
	f.in.podChanged(pod("default", "h2", "10.244.0.2", ModelHello, "", AnnotationCPUPerRequest, "1ms"))
	if code, _ := f.get(t, "", "/"); code != http.StatusOK {
		t.Fatalf("before the fault: %d", code)
	}
	p := &Plane{dispatch: f.d}
	p.FailRequests(http.StatusInternalServerError, 300*time.Millisecond)
	before := f.in.byAddress("10.244.0.2").model.CPUUsed()
	if code, body := f.get(t, "", "/"); code != http.StatusInternalServerError || !strings.Contains(body, "fault injection") {
		t.Fatalf("during the fault: %d %q, want 500 saying it is injected", code, body)
	}
	if got := f.in.byAddress("10.244.0.2").model.CPUUsed(); got != before {
		t.Errorf("a failed request cost %v of CPU, want none", got-before)
	}
	eventually(t, "the fault to end", func() bool { code, _ := f.get(t, "", "/"); return code == http.StatusOK })
}
