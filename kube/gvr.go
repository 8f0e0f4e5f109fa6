package kube

import "k8s.io/apimachinery/pkg/runtime/schema"

// The resources scalebench reads, writes or dumps by GroupVersionResource,
// in one place: the versions here are the ones the pinned components serve
// (KEDA 2.x, the KEDA HTTP add-on, spin-operator).
var (
	// Kubernetes.
	Nodes                     = schema.GroupVersionResource{Version: "v1", Resource: "nodes"}
	Pods                      = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	Events                    = schema.GroupVersionResource{Version: "v1", Resource: "events"}
	Services                  = schema.GroupVersionResource{Version: "v1", Resource: "services"}
	EndpointSlices            = schema.GroupVersionResource{Group: "discovery.k8s.io", Version: "v1", Resource: "endpointslices"}
	Deployments               = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	ReplicaSets               = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "replicasets"}
	HorizontalPodAutoscalers  = schema.GroupVersionResource{Group: "autoscaling", Version: "v2", Resource: "horizontalpodautoscalers"}
	Ingresses                 = schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "ingresses"}
	CustomResourceDefinitions = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	APIServices               = schema.GroupVersionResource{Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices"}

	// KEDA.
	ScaledObjects          = schema.GroupVersionResource{Group: "keda.sh", Version: "v1alpha1", Resource: "scaledobjects"}
	TriggerAuthentications = schema.GroupVersionResource{Group: "keda.sh", Version: "v1alpha1", Resource: "triggerauthentications"}

	// The KEDA HTTP add-on.
	HTTPScaledObjects = schema.GroupVersionResource{Group: "http.keda.sh", Version: "v1alpha1", Resource: "httpscaledobjects"}
	InterceptorRoutes = schema.GroupVersionResource{Group: "http.keda.sh", Version: "v1beta1", Resource: "interceptorroutes"}

	// spin-operator.
	SpinApps         = schema.GroupVersionResource{Group: "core.spinkube.dev", Version: "v1alpha1", Resource: "spinapps"}
	SpinAppExecutors = schema.GroupVersionResource{Group: "core.spinkube.dev", Version: "v1alpha1", Resource: "spinappexecutors"}
)

// The resource metrics API (metrics-server), read to tell when the cluster
// is at rest.
var (
	PodMetrics  = schema.GroupVersionResource{Group: "metrics.k8s.io", Version: "v1beta1", Resource: "pods"}
	NodeMetrics = schema.GroupVersionResource{Group: "metrics.k8s.io", Version: "v1beta1", Resource: "nodes"}
)
