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

// Provider returns the provider of a cluster kind.
func Provider(kind string) (clusters.Provider, error) {
	switch kind {
	case "emulated":
		return &emulated.Provider{}, nil
	case "k3d":
		return clusters.NotImplemented{Kind: kind, Issue: "k3d clusters from the containerd-shim-spin image and the Helm install of the platform come in a later issue; use --cluster emulated"}, nil
	case "kind":
		return clusters.NotImplemented{Kind: kind, Issue: "kind clusters come in a later issue; use --cluster emulated"}, nil
	case "existing":
		return clusters.NotImplemented{Kind: kind, Issue: "running against an existing kubeconfig comes with the platform install in a later issue; use --cluster emulated"}, nil
	}
	return nil, fmt.Errorf("cluster kind %q: unknown (allowed: %s)", kind, strings.Join(Kinds, ", "))
}

// Valid reports whether kind is a known cluster kind.
func Valid(kind string) bool { return slices.Contains(Kinds, kind) }
