package runner

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery/cached/memory"
	fakediscovery "k8s.io/client-go/discovery/fake"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	k8stesting "k8s.io/client-go/testing"

	"github.com/scalebench/scalebench/kube"
	"github.com/scalebench/scalebench/results"
)

// fakeAPI is a cluster API of client-go fakes: the workload's Deployment is
// ready, every apply succeeds except the autoscaler's, which the admission
// webhook denies.
func fakeAPI(t *testing.T, ns string) *kube.Clients {
	t.Helper()
	d := deployment(ns, 1, 1)
	d.Name = "cpu-load-gen" // the hpa-cpu-fast workload
	cs := fake.NewClientset(d)
	cs.Discovery().(*fakediscovery.FakeDiscovery).Resources = []*metav1.APIResourceList{
		{GroupVersion: "core.spinkube.dev/v1alpha1", APIResources: []metav1.APIResource{
			{Name: "spinapps", Kind: "SpinApp", Namespaced: true}, {Name: "spinappexecutors", Kind: "SpinAppExecutor", Namespaced: true}}},
		{GroupVersion: "networking.k8s.io/v1", APIResources: []metav1.APIResource{{Name: "ingresses", Kind: "Ingress", Namespaced: true}}},
		{GroupVersion: "autoscaling/v2", APIResources: []metav1.APIResource{{Name: "horizontalpodautoscalers", Kind: "HorizontalPodAutoscaler", Namespaced: true}}},
	}
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{
		kube.ScaledObjects: "ScaledObjectList", kube.HTTPScaledObjects: "HTTPScaledObjectList", kube.InterceptorRoutes: "InterceptorRouteList",
	})
	dyn.PrependReactor("patch", "*", func(a k8stesting.Action) (bool, runtime.Object, error) {
		p := a.(k8stesting.PatchAction)
		if p.GetResource().Resource == "horizontalpodautoscalers" {
			return true, nil, apierrors.NewForbidden(schema.GroupResource{Group: "autoscaling", Resource: "horizontalpodautoscalers"}, p.GetName(),
				errors.New(`admission webhook "vhpa.example" denied the request: minReplicas 0 needs an object metric`))
		}
		o := &unstructured.Unstructured{}
		o.SetName(p.GetName())
		o.SetNamespace(p.GetNamespace())
		return true, o, nil
	})
	return &kube.Clients{Config: &rest.Config{}, Kube: cs, Dynamic: dyn,
		Mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(cs.Discovery()))}
}

func TestRejectedAutoscalerFailsFast(t *testing.T) {
	sc := testScenario(t, "rejected")
	api := fakeAPI(t, sc.Spec.Namespace)
	old := newClients
	t.Cleanup(func() { newClients = old })
	newClients = func(*rest.Config, ...kube.WarningFunc) (*kube.Clients, error) { return api, nil }

	start := time.Now()
	// Keep: the fake Deployment never goes away, so no cleanup wait.
	res := Run(context.Background(), Options{Cluster: &fakeCluster{}, Keep: true, ReadyTimeout: 10 * time.Second}, sc)
	if res.Passed || res.ErrorKind != results.ErrorRejected {
		t.Fatalf("want a rejected run, got passed=%v kind=%q error=%q", res.Passed, res.ErrorKind, res.Error)
	}
	for _, want := range []string{"autoscaler rejected", "HorizontalPodAutoscaler/" + sc.Spec.Namespace, "minReplicas 0 needs an object metric"} {
		if !strings.Contains(res.Error, want) {
			t.Errorf("error %q does not say %q", res.Error, want)
		}
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("a rejection must fail fast, took %s", d)
	}
}
