// Package all maps cluster kind names to their providers.
package all

import (
	"fmt"
	"slices"
	"strings"

	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/clusters/emulated"
	"github.com/scalebench/scalebench/clusters/existing"
	"github.com/scalebench/scalebench/clusters/k3d"
	kindcluster "github.com/scalebench/scalebench/clusters/kind"
)

// Kinds are the cluster kinds, the default first.
var Kinds = []string{"emulated", "k3d", "kind", "existing"}

// Provider returns the provider of a cluster kind; an unknown kind answers
// an error naming the allowed ones.
func Provider(kind string) (clusters.Provider, error) {
	switch kind {
	case "emulated":
		return &emulated.Provider{}, nil
	case "k3d":
		return &k3d.Provider{}, nil
	case "kind":
		return &kindcluster.Provider{}, nil
	case "existing":
		return &existing.Provider{}, nil
	}
	return nil, fmt.Errorf("cluster kind %q: unknown (allowed: %s)", kind, strings.Join(Kinds, ", "))
}

// Valid reports whether kind is a known cluster kind.
func Valid(kind string) bool { return slices.Contains(Kinds, kind) }
