// Package kube holds the small Kubernetes helpers scenarios and cluster
// providers share: clients from one rest.Config, and server-side apply of
// unstructured objects labelled with the run id.
package kube

import (
	"context"
	"errors"
	"fmt"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

// Labels every run puts on what it creates.
const (
	LabelRunID     = "scalebench.dev/run-id"
	LabelManagedBy = "app.kubernetes.io/managed-by"
	ManagedBy      = "scalebench"
	FieldManager   = "scalebench"
)

// Clients are the clients of one cluster.
type Clients struct {
	Config  *rest.Config
	Kube    kubernetes.Interface
	Dynamic dynamic.Interface
	Mapper  *restmapper.DeferredDiscoveryRESTMapper

	// http is the one HTTP client (and connection pool) of the three; nil for clients built otherwise.
	http *http.Client
}

// Close closes the clients' idle connections to the API server (call it when their watches have ended).
// client-go shares one transport per TLS configuration, but not for a configuration with a Proxy function
// (the emulated cluster's): without Close each NewClients would leave its HTTP/2 connections, and their
// goroutines, behind.
func (c *Clients) Close() {
	if c != nil && c.http != nil {
		// client-go wraps its transport in round-trippers (auth, user agent) that do not pass
		// http.Client.CloseIdleConnections on: unwrap to the transport.
		utilnet.CloseIdleConnectionsFor(c.http.Transport)
	}
}

// WarningFunc receives the API server's warnings (deprecations, KEDA's
// "not relevant" knobs, ...).
type WarningFunc func(message string)

// HandleWarningHeader implements rest.WarningHandler.
func (f WarningFunc) HandleWarningHeader(code int, agent string, message string) {
	if code == 299 && message != "" {
		f(message)
	}
}

// NewClients builds the clients for cfg. Warnings from the API server go to
// onWarning when given (instead of client-go's default stderr printer).
func NewClients(cfg *rest.Config, onWarning ...WarningFunc) (*Clients, error) {
	cfg = rest.CopyConfig(cfg)
	if len(onWarning) > 0 && onWarning[0] != nil {
		cfg.WarningHandler = onWarning[0]
	}
	if cfg.QPS == 0 {
		cfg.QPS, cfg.Burst = 50, 100
	}
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("API client: %w", err)
	}
	k, err := kubernetes.NewForConfigAndClient(cfg, hc)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	d, err := dynamic.NewForConfigAndClient(cfg, hc)
	if err != nil {
		return nil, fmt.Errorf("dynamic client: %w", err)
	}
	dc, err := discovery.NewDiscoveryClientForConfigAndClient(cfg, hc)
	if err != nil {
		return nil, fmt.Errorf("discovery client: %w", err)
	}
	return &Clients{Config: cfg, Kube: k, Dynamic: d, Mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc)), http: hc}, nil
}

// Resource finds the dynamic resource interface for an object.
func (c *Clients) Resource(o *unstructured.Unstructured) (dynamic.ResourceInterface, error) {
	gvk := o.GroupVersionKind()
	m, err := c.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if meta.IsNoMatchError(err) {
		c.Mapper.Reset()
		m, err = c.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w (is its CRD installed?)", gvk.Kind, err)
	}
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		ns := o.GetNamespace()
		if ns == "" {
			ns = metav1.NamespaceDefault // as kubectl does for a manifest without one
		}
		return c.Dynamic.Resource(m.Resource).Namespace(ns), nil
	}
	return c.Dynamic.Resource(m.Resource), nil
}

// Apply server-side-applies objs in order, labelling each with runID. An
// admission rejection keeps the webhook's message in the error.
func (c *Clients) Apply(ctx context.Context, runID string, objs ...*unstructured.Unstructured) error {
	for _, o := range objs {
		o = o.DeepCopy()
		l := o.GetLabels()
		if l == nil {
			l = map[string]string{}
		}
		if runID != "" {
			l[LabelRunID] = runID
		}
		l[LabelManagedBy] = ManagedBy
		o.SetLabels(l)
		ri, err := c.Resource(o)
		if err != nil {
			return fmt.Errorf("apply %s: %w", Describe(o), err)
		}
		data, err := o.MarshalJSON()
		if err != nil {
			return fmt.Errorf("apply %s: %w", Describe(o), err)
		}
		if _, err := ri.Patch(ctx, o.GetName(), types.ApplyPatchType, data, metav1.PatchOptions{FieldManager: FieldManager, Force: ptrTrue()}); err != nil {
			return fmt.Errorf("apply %s: %w", Describe(o), err)
		}
	}
	return nil
}

// Delete deletes objs (in reverse order), ignoring those already gone.
func (c *Clients) Delete(ctx context.Context, objs ...*unstructured.Unstructured) error {
	var errs []error
	policy := metav1.DeletePropagationForeground
	for i := len(objs) - 1; i >= 0; i-- {
		o := objs[i]
		ri, err := c.Resource(o)
		if err != nil {
			errs = append(errs, fmt.Errorf("delete %s: %w", Describe(o), err))
			continue
		}
		if err := ri.Delete(ctx, o.GetName(), metav1.DeleteOptions{PropagationPolicy: &policy}); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("delete %s: %w", Describe(o), err))
		}
	}
	return errors.Join(errs...)
}

// Describe names an object as Kind/namespace/name.
func Describe(o *unstructured.Unstructured) string {
	if o.GetNamespace() == "" {
		return o.GetKind() + "/" + o.GetName()
	}
	return o.GetKind() + "/" + o.GetNamespace() + "/" + o.GetName()
}

func ptrTrue() *bool { t := true; return &t }
