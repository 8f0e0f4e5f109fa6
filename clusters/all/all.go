// Package all maps cluster kind names to their providers.
package all

import (
	"fmt"
	"slices"
	"strings"

	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/clusters/emulated"
)

// Kinds are the cluster kinds, the default first.
var Kinds = []string{"emulated", "k3d", "kind", "existing"}

// Provider returns the provider of a cluster kind. A kind that is not built
// yet answers an error wrapping clusters.ErrNotImplemented (and creates
// nothing); an unknown kind an error naming the allowed ones.
func Provider(kind string) (clusters.Provider, error) {
	switch kind {
	case "emulated":
		return &emulated.Provider{}, nil
	case "k3d":
		return nil, notImplemented(kind, "k3d clusters from the containerd-shim-spin image and the Helm install of the platform come in a later issue; use --cluster emulated")
	case "kind":
		return nil, notImplemented(kind, "kind clusters come in a later issue; use --cluster emulated")
	case "existing":
		return nil, notImplemented(kind, "running against an existing kubeconfig comes with the platform install in a later issue; use --cluster emulated")
	}
	return nil, fmt.Errorf("cluster kind %q: unknown (allowed: %s)", kind, strings.Join(Kinds, ", "))
}

// Valid reports whether kind is a known cluster kind.
func Valid(kind string) bool { return slices.Contains(Kinds, kind) }

func notImplemented(kind, why string) error {
	return fmt.Errorf("cluster %q: %w (%s)", kind, clusters.ErrNotImplemented, why)
}
