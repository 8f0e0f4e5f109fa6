package dataplane

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/scalebench/scalebench/kube"
)

// TestPlaneWithFakeClientset runs the whole plumbing — informers, ingress,
// usage writes — against client-go's fake clientset.
func TestPlaneWithFakeClientset(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p0 := pod("default", "app-0", "10.244.0.2", ModelCPULoadGen, "500m", AnnotationCPUPerRequest, "20ms")
	cs := fake.NewClientset(
		ingress("default", "spinapp-ingress", rule{path: "/", pathType: networkingv1.PathTypePrefix, svc: "app", port: 80}),
		service("default", "app"),
		slice("default", "app-1", "app", "", 80, ep{ip: "10.244.0.2"}),
		p0,
	)
	p, err := start(ctx, Config{IngressAddr: "127.0.0.1:0", Logger: testLogger(t), UsageInterval: 50 * time.Millisecond, UsageWindow: 100 * time.Millisecond}, cs, nil, RealClock{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := p.Stop(); err != nil {
			t.Error(err)
		}
	}()
	if !strings.HasPrefix(p.IngressURL(), "http://127.0.0.1:") || strings.HasSuffix(p.IngressURL(), ":0") {
		t.Fatalf("IngressURL = %q", p.IngressURL())
	}

	eventually(t, "instance for the ready pod", func() bool { return len(p.Instances()) == 1 })
	resp, err := http.Get(p.IngressURL() + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "fib(43) = 433494437\n" {
		t.Fatalf("GET /: %d %q", resp.StatusCode, body)
	}
	st := p.Instances()[0]
	if st.Name != "app-0" || st.IP != "10.244.0.2" || st.Model != ModelCPULoadGen || st.CPUUsedSeconds < 0.02 {
		t.Errorf("Instances() = %+v", st)
	}

	usage := func() string {
		got, err := cs.CoreV1().Pods("default").Get(ctx, "app-0", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return got.Annotations[AnnotationUsageCPU] + " " + got.Annotations[AnnotationCPUSeconds]
	}
	// The request's 20ms of CPU shows in the counter.
	eventually(t, "usage annotations", func() bool {
		var milli, secs float64
		n, _ := fmt.Sscanf(usage(), "%fm %f", &milli, &secs)
		return n == 2 && secs >= 0.02
	})

	// Deleting the pod removes the instance.
	if err := cs.CoreV1().Pods("default").Delete(ctx, "app-0", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "instance removed", func() bool { return len(p.Instances()) == 0 })
}

func TestStartFailsOnBusyAddress(t *testing.T) {
	ctx := context.Background()
	p, err := start(ctx, Config{IngressAddr: "127.0.0.1:0"}, fake.NewClientset(), nil, RealClock{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	addr := strings.TrimPrefix(p.IngressURL(), "http://")
	if _, err := start(ctx, Config{IngressAddr: addr}, fake.NewClientset(), nil, RealClock{}); err == nil || !strings.Contains(err.Error(), addr) {
		t.Fatalf("second plane on %s: %v, want an error naming the address", addr, err)
	}
	if _, err := Start(ctx, Config{}); err == nil {
		t.Fatal("Start without a RESTConfig succeeded")
	}
}

// TestPlaneServiceProxyWatchesAddonRoutes starts the plane with the service
// proxy and checks an HTTPScaledObject's host reaches the app through it.
func TestPlaneServiceProxyWatchesAddonRoutes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cs := fake.NewClientset(service("default", "hello"), slice("default", "hello-1", "hello", "", 80, ep{ip: "10.244.0.2"}),
		pod("default", "h", "10.244.0.2", ModelHello, ""))
	cs.Fake.Resources = []*metav1.APIResourceList{{GroupVersion: "http.keda.sh/v1alpha1", APIResources: []metav1.APIResource{{Name: "httpscaledobjects", Kind: "HTTPScaledObject", Namespaced: true}}}}
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{kube.HTTPScaledObjects: "HTTPScaledObjectList", kube.InterceptorRoutes: "InterceptorRouteList"},
		hso("default", "hello", []string{"hello.example"}, nil, "hello", 80))
	p, err := start(ctx, Config{IngressAddr: "127.0.0.1:0", ProxyAddr: "127.0.0.1:0", Logger: testLogger(t)}, cs, dyn, RealClock{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	pu, err := url.Parse(p.ProxyURL())
	if err != nil || pu.Host == "" {
		t.Fatalf("ProxyURL = %q", p.ProxyURL())
	}
	client := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(pu)}, Timeout: 5 * time.Second}
	eventually(t, "Host routed through the HTTPScaledObject", func() bool {
		req, _ := http.NewRequest(http.MethodGet, "http://hello.default:80/", nil)
		req.Host = "hello.example"
		resp, err := client.Do(req)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	if (&Plane{}).ProxyURL() != "" {
		t.Error("ProxyURL without a proxy is not empty")
	}
}
