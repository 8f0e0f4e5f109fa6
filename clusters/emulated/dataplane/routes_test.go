package dataplane

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

type rule struct {
	host, path string
	pathType   networkingv1.PathType
	svc        string
	port       int32
	portName   string
}

func ingress(ns, name string, rules ...rule) *networkingv1.Ingress {
	ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	ing.Spec.IngressClassName = ptr.To("traefik")
	for _, r := range rules {
		pt := r.pathType
		ing.Spec.Rules = append(ing.Spec.Rules, networkingv1.IngressRule{
			Host: r.host,
			IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
				Paths: []networkingv1.HTTPIngressPath{{
					Path: r.path, PathType: &pt,
					Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
						Name: r.svc, Port: networkingv1.ServiceBackendPort{Number: r.port, Name: r.portName},
					}},
				}},
			}},
		})
	}
	return ing
}

func service(ns, name string, ports ...corev1.ServicePort) *corev1.Service {
	if len(ports) == 0 {
		// SpinApp's Service: port 80 → http-app.
		ports = []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromString("http-app")}}
	}
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: corev1.ServiceSpec{Ports: ports}}
}

type ep struct {
	ip    string
	ready *bool
}

func slice(ns, name, svc, portName string, port int32, eps ...ep) *discoveryv1.EndpointSlice {
	s := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{discoveryv1.LabelServiceName: svc}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To(portName), Port: ptr.To(port)}},
	}
	for _, e := range eps {
		s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{
			Addresses:  []string{e.ip},
			Conditions: discoveryv1.EndpointConditions{Ready: e.ready},
			TargetRef:  &corev1.ObjectReference{Kind: "Pod", Name: "pod-" + e.ip},
		})
	}
	return s
}

func TestRouteIngress(t *testing.T) {
	rt := newRoutes()
	rt.setIngress(ingress("default", "spinapp-ingress", rule{path: "/", pathType: networkingv1.PathTypePrefix, svc: "hpa-spinapp", port: 80}))
	rt.setIngress(ingress("default", "api",
		rule{path: "/api", pathType: networkingv1.PathTypePrefix, svc: "api", port: 80},
		rule{path: "/api/v2", pathType: networkingv1.PathTypePrefix, svc: "api-v2", port: 80},
		rule{path: "/exact", pathType: networkingv1.PathTypeExact, svc: "exact", port: 80},
		rule{path: "/impl", pathType: networkingv1.PathTypeImplementationSpecific, svc: "impl", port: 80},
	))
	rt.setIngress(ingress("keda", "http-addon",
		rule{host: "hello.example", path: "/", pathType: networkingv1.PathTypePrefix, svc: "keda-add-ons-http-interceptor-proxy", port: 8080},
		rule{host: "*.wild.example", path: "/", pathType: networkingv1.PathTypePrefix, svc: "wild", port: 80},
	))
	ing := ingress("other", "fallback")
	ing.Spec.DefaultBackend = &networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "fallback", Port: networkingv1.ServiceBackendPort{Name: "http"}}}
	rt.setIngress(ing)

	for _, tc := range []struct{ host, path, want string }{
		{"localhost:8081", "/", "default/hpa-spinapp:80"},
		{"localhost:8081", "", "default/hpa-spinapp:80"},
		{"127.0.0.1", "/anything/else", "default/hpa-spinapp:80"},
		{"localhost", "/api", "default/api:80"},
		{"localhost", "/api/", "default/api:80"},
		{"localhost", "/api/users", "default/api:80"},
		{"localhost", "/apiary", "default/hpa-spinapp:80"}, // Prefix matches whole elements
		{"localhost", "/api/v2/x", "default/api-v2:80"},    // longest prefix
		{"localhost", "/exact", "default/exact:80"},
		{"localhost", "/exact/", "default/hpa-spinapp:80"},
		{"localhost", "/implementation", "default/impl:80"},                          // Traefik: plain string prefix
		{"Hello.Example:8081", "/", "keda/keda-add-ons-http-interceptor-proxy:8080"}, // host beats any-host
		{"a.wild.example", "/x", "keda/wild:80"},
		{"a.b.wild.example", "/x", "default/hpa-spinapp:80"}, // wildcard covers one label
	} {
		b, ok := rt.routeIngress(tc.host, tc.path)
		if !ok || b.String() != tc.want {
			t.Errorf("route(%q, %q) = %v, %v; want %s", tc.host, tc.path, b, ok, tc.want)
		}
	}

	rt.deleteIngress("default", "spinapp-ingress")
	if b, ok := rt.routeIngress("localhost", "/nothing"); !ok || b.String() != "other/fallback:http" {
		t.Errorf("default backend: %v, %v", b, ok)
	}
	rt.deleteIngress("other", "fallback")
	if b, ok := rt.routeIngress("localhost", "/nothing"); ok {
		t.Errorf("route with no matching rule: %v", b)
	}
}

func TestEndpointsReadyOnlyAndPorts(t *testing.T) {
	rt := newRoutes()
	b := backend{Namespace: "default", Service: "app", Port: networkingv1.ServiceBackendPort{Number: 80}}
	if eps := rt.endpoints(b); len(eps) != 0 {
		t.Fatalf("endpoints of an unknown Service: %v", eps)
	}
	rt.setService(service("default", "app"))
	rt.setSlice(slice("default", "app-abc", "app", "", 8080, ep{ip: "10.244.0.3"}, ep{ip: "10.244.0.2", ready: ptr.To(true)}, ep{ip: "10.244.0.9", ready: ptr.To(false)}))
	rt.setSlice(slice("default", "app-def", "app", "", 8080, ep{ip: "10.244.1.7", ready: ptr.To(true)}))
	rt.setSlice(slice("other", "app-xyz", "app", "", 8080, ep{ip: "10.244.2.1"})) // another namespace
	eps := rt.endpoints(b)
	want := []string{"10.244.0.2:8080", "10.244.0.3:8080", "10.244.1.7:8080"}
	if len(eps) != len(want) {
		t.Fatalf("endpoints = %v, want %v", eps, want)
	}
	for i := range want {
		if eps[i].String() != want[i] {
			t.Fatalf("endpoints = %v, want %v", eps, want)
		}
	}
	if eps[0].Pod != "pod-10.244.0.2" {
		t.Errorf("endpoint pod = %q", eps[0].Pod)
	}
	if eps := rt.endpoints(backend{Namespace: "default", Service: "app", Port: networkingv1.ServiceBackendPort{Number: 81}}); len(eps) != 0 {
		t.Errorf("endpoints of a port the Service lacks: %v", eps)
	}

	// Named ports: Service port "http" → slice port "http".
	rt.setService(service("keda", "interceptor", corev1.ServicePort{Name: "admin", Port: 9090}, corev1.ServicePort{Name: "proxy", Port: 8080}))
	rt.setSlice(slice("keda", "interceptor-proxy", "interceptor", "proxy", 8080, ep{ip: "10.0.0.250"}))
	rt.setSlice(slice("keda", "interceptor-admin", "interceptor", "admin", 9090, ep{ip: "10.0.0.250"}))
	for _, tc := range []struct {
		port networkingv1.ServiceBackendPort
		want string
	}{
		{networkingv1.ServiceBackendPort{Number: 8080}, "10.0.0.250:8080"},
		{networkingv1.ServiceBackendPort{Name: "admin"}, "10.0.0.250:9090"},
	} {
		eps := rt.endpoints(backend{Namespace: "keda", Service: "interceptor", Port: tc.port})
		if len(eps) != 1 || eps[0].String() != tc.want {
			t.Errorf("interceptor %v: %v, want %s", tc.port, eps, tc.want)
		}
	}

	// Changes invalidate the cached list.
	rt.deleteSlice("default", "app-abc")
	if eps := rt.endpoints(b); len(eps) != 1 || eps[0].IP != "10.244.1.7" {
		t.Fatalf("after deleting a slice: %v", eps)
	}
	rt.setSlice(slice("default", "app-def", "app", "", 8080, ep{ip: "10.244.1.7", ready: ptr.To(false)}))
	if eps := rt.endpoints(b); len(eps) != 0 {
		t.Fatalf("after the last endpoint became unready: %v", eps)
	}
	rt.deleteService("default", "app")
	rt.setSlice(slice("default", "app-def", "app", "", 8080, ep{ip: "10.244.1.7"}))
	if eps := rt.endpoints(b); len(eps) != 0 {
		t.Fatalf("endpoints after the Service was deleted: %v", eps)
	}
}

func TestPickRoundRobins(t *testing.T) {
	rt := newRoutes()
	rt.setService(service("default", "app"))
	rt.setSlice(slice("default", "app-1", "app", "", 80, ep{ip: "10.0.0.1"}, ep{ip: "10.0.0.2"}, ep{ip: "10.0.0.3"}))
	b := backend{Namespace: "default", Service: "app", Port: networkingv1.ServiceBackendPort{Number: 80}}
	counts := map[string]int{}
	for range 300 {
		eps, start := rt.pick(b)
		if len(eps) != 3 {
			t.Fatalf("pick returned %d endpoints, want all 3", len(eps))
		}
		counts[eps[start].IP]++
	}
	for ip, n := range counts {
		if n != 100 {
			t.Errorf("%s picked first %d times, want 100 (%v)", ip, n, counts)
		}
	}
}
