// Package clusters defines what every cluster kind provides to scenarios:
// emulated (real control plane, KWOK nodes, emulated data plane), k3d, kind
// and an existing kubeconfig. Each kind lives in its own sub-package.
package clusters

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"k8s.io/client-go/rest"

	"github.com/scalebench/scalebench/results"
)

// Provider creates clusters of one kind.
type Provider interface {
	// Name is the kind: "emulated", "k3d", "kind" or "existing".
	Name() string
	// Create brings up a cluster (or connects to one) with the platform
	// installed, ready for scenarios.
	Create(ctx context.Context, opts Options) (Cluster, error)
}

// Options are the settings common to every provider.
type Options struct {
	// Name of the cluster.
	Name string
	// RunID labels everything the run creates.
	RunID string
	// WorkDir holds the cluster's files (kubeconfig, logs); diagnostics are
	// copied from here.
	WorkDir string
	// Logger receives structured logs; nil discards them.
	Logger *slog.Logger
	// Progress, when non-nil, receives human progress lines (a terminal).
	Progress io.Writer
	// Keep leaves the cluster running on Delete (for debugging).
	Keep bool
}

// Cluster is a running cluster with the platform installed.
type Cluster interface {
	// RESTConfig reaches the cluster's API server.
	RESTConfig() *rest.Config
	// KubeconfigPath is a kubeconfig file for the cluster.
	KubeconfigPath() string
	// Environment fingerprints the cluster for reports.
	Environment() results.Environment
	// CollectDiagnostics writes logs and state useful after a failure into dir.
	CollectDiagnostics(ctx context.Context, dir string) error
	// Delete tears the cluster down (unless Options.Keep) and releases every
	// resource the provider started.
	Delete(ctx context.Context) error
}

// HTTPIngress is implemented by clusters that expose an ingress (the docs'
// load balancer at localhost:8081) routing by Kubernetes Ingress objects.
type HTTPIngress interface {
	// IngressURL is the base URL load generators send requests to.
	IngressURL() string
}

// ErrNotImplemented is returned by cluster kinds that are not built yet.
var ErrNotImplemented = errors.New("not implemented yet")

// NotImplemented is a Provider for a cluster kind that is not built yet: it
// answers Create with a clear error instead of a fake run.
type NotImplemented struct{ Kind, Issue string }

var _ Provider = NotImplemented{}

// Name is the kind.
func (n NotImplemented) Name() string { return n.Kind }

// Create fails with ErrNotImplemented.
func (n NotImplemented) Create(context.Context, Options) (Cluster, error) {
	return nil, fmt.Errorf("cluster %q: %w (%s)", n.Kind, ErrNotImplemented, n.Issue)
}
