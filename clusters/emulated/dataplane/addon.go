package dataplane

import (
	"context"
	"log/slog"
	"slices"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"

	"github.com/scalebench/scalebench/kube"
)

// hostRoutesOf reads the routing rules of an HTTPScaledObject or an
// InterceptorRoute (header matches are not modelled). An object with no
// hosts routes any host, as the interceptor does.
func hostRoutesOf(gvr schema.GroupVersionResource, u *unstructured.Unstructured) []hostRoute {
	ns := u.GetNamespace()
	str := func(path ...string) string { s, _, _ := unstructured.NestedString(u.Object, path...); return s }
	num := func(path ...string) int32 { n, _, _ := unstructured.NestedInt64(u.Object, path...); return int32(n) }
	var out []hostRoute
	add := func(hosts, prefixes []string, to backend) {
		if len(hosts) == 0 {
			hosts = []string{"*"}
		}
		if len(prefixes) == 0 {
			prefixes = []string{""}
		}
		for _, h := range hosts {
			for _, p := range prefixes {
				out = append(out, hostRoute{host: h, prefix: p, to: to})
			}
		}
	}
	switch gvr {
	case kube.HTTPScaledObjects:
		to := backend{Namespace: ns, Service: str("spec", "scaleTargetRef", "service"),
			Port: networkingv1.ServiceBackendPort{Number: num("spec", "scaleTargetRef", "port"), Name: str("spec", "scaleTargetRef", "portName")}}
		if to.Service == "" {
			return nil
		}
		hosts, _, _ := unstructured.NestedStringSlice(u.Object, "spec", "hosts")
		prefixes, _, _ := unstructured.NestedStringSlice(u.Object, "spec", "pathPrefixes")
		add(hosts, prefixes, to)
	case kube.InterceptorRoutes:
		to := backend{Namespace: ns, Service: str("spec", "target", "service"),
			Port: networkingv1.ServiceBackendPort{Number: num("spec", "target", "port"), Name: str("spec", "target", "portName")}}
		if to.Service == "" {
			return nil
		}
		rules, _, _ := unstructured.NestedSlice(u.Object, "spec", "rules")
		if len(rules) == 0 {
			add(nil, nil, to)
		}
		for _, r := range rules {
			rm, ok := r.(map[string]any)
			if !ok {
				continue
			}
			hosts, _, _ := unstructured.NestedStringSlice(rm, "hosts")
			var prefixes []string
			paths, _, _ := unstructured.NestedSlice(rm, "paths")
			for _, p := range paths {
				if pm, ok := p.(map[string]any); ok {
					if v, ok := pm["value"].(string); ok {
						prefixes = append(prefixes, v)
					}
				}
			}
			add(hosts, prefixes, to)
		}
	}
	return out
}

func routeOwner(gvr schema.GroupVersionResource, u *unstructured.Unstructured) string {
	return gvr.Resource + "/" + u.GetNamespace() + "/" + u.GetName()
}

// watchAddonRoutes feeds the add-on's routing objects into rt. The CRDs may
// be installed after the plane starts (or never): it checks discovery every
// few seconds and starts a watch once a resource is served.
func watchAddonRoutes(ctx context.Context, disc discovery.DiscoveryInterface, dyn dynamic.Interface, rt *routes, log *slog.Logger) {
	factory := dynamicinformer.NewDynamicSharedInformerFactory(dyn, 0)
	defer factory.Shutdown()
	pending := []schema.GroupVersionResource{kube.HTTPScaledObjects, kube.InterceptorRoutes}
	for len(pending) > 0 {
		pending = slices.DeleteFunc(pending, func(gvr schema.GroupVersionResource) bool {
			if !served(disc, gvr) {
				return false
			}
			inf := factory.ForResource(gvr).Informer()
			on := func(o any, deleted bool) {
				u, ok := unwrapTombstone(o).(*unstructured.Unstructured)
				if !ok {
					return
				}
				if deleted {
					rt.deleteHostRoutes(routeOwner(gvr, u))
					return
				}
				rt.setHostRoutes(routeOwner(gvr, u), hostRoutesOf(gvr, u))
			}
			if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
				AddFunc:    func(o any) { on(o, false) },
				UpdateFunc: func(_, o any) { on(o, false) },
				DeleteFunc: func(o any) { on(o, true) },
			}); err != nil {
				log.Warn("watching HTTP add-on routes", "resource", gvr.String(), "err", err)
				return true
			}
			factory.Start(ctx.Done())
			log.Info("watching HTTP add-on routes", "resource", gvr.Resource)
			return true
		})
		select {
		case <-ctx.Done():
			return
		case <-time.After(5 * time.Second):
		}
	}
	<-ctx.Done()
}

// served reports whether the API server serves a resource.
func served(disc discovery.DiscoveryInterface, gvr schema.GroupVersionResource) bool {
	list, err := disc.ServerResourcesForGroupVersion(gvr.GroupVersion().String())
	if err != nil {
		return false
	}
	for _, r := range list.APIResources {
		if r.Name == gvr.Resource {
			return true
		}
	}
	return false
}
