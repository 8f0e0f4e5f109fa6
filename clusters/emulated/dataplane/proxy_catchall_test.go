package dataplane

import (
	"net/http/httptest"
	"testing"

	"github.com/scalebench/scalebench/kube"
)

// A catch-all HTTPScaledObject (no hosts) must not capture the add-on
// scaler's requests to interceptors by endpoint IP, nor requests naming a
// Service; other hosts still follow it.
func TestResolveRequestCatchAllYieldsToClusterNames(t *testing.T) {
	rt := newRoutes()
	rt.setService(service("default", "hello"))
	rt.setService(service("default", "any"))
	for _, o := range []struct {
		hosts []string
		name  string
	}{{[]string{"hello.example"}, "hello"}, {nil, "any"}} {
		u := hso("default", o.name, o.hosts, nil, o.name, 80)
		rt.setHostRoutes(routeOwner(kube.HTTPScaledObjects, u), hostRoutesOf(kube.HTTPScaledObjects, u))
	}
	p := newServiceProxy(rt, nil)
	for _, tc := range []struct{ url, want string }{
		{"http://hello.example/", "default/hello:80"},
		{"http://10.42.250.10:9090/queue", "ip 10.42.250.10:9090"},
		{"http://hello.default/", "default/hello:80"},
		{"http://other.test/", "default/any:80"},
		{"http://nothere.default/", "default/any:80"},
	} {
		tg, err := p.resolveRequest(httptest.NewRequest("GET", tc.url, nil))
		got := "error"
		switch {
		case err != nil:
		case tg.backend != nil:
			got = tg.backend.String()
		default:
			got = "ip " + endpoint{IP: tg.ip, Port: tg.port}.String()
		}
		if got != tc.want {
			t.Errorf("resolveRequest(%s) = %s (%v), want %s", tc.url, got, err, tc.want)
		}
	}
}
