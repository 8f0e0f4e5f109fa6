package k3d

import (
	"context"
	"fmt"

	k3dclient "github.com/k3d-io/k3d/v5/pkg/client"

	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/clusters/internal/real"
)

var _ clusters.LeftoverCleaner = (*Provider)(nil)

// Leftovers lists the k3d clusters a scalebench run created (their nodes
// carry RunIDLabel) whose harness has ended: crashed, killed, or ended
// with --keep (Kept). Clusters without the label, and those of a running
// harness or of a harness on another host, are never listed.
func (p *Provider) Leftovers(ctx context.Context) ([]clusters.Leftover, error) {
	if _, err := p.runtime().Info(); err != nil {
		return nil, nil // no Docker engine answers: no k3d cluster runs on it
	}
	cls, err := k3dclient.ClusterList(ctx, p.runtime())
	if err != nil {
		return nil, fmt.Errorf("k3d: list clusters: %w", err)
	}
	var out []clusters.Leftover
	for _, c := range cls {
		var runID, harness string
		kept := false
		for _, n := range c.Nodes {
			if v := n.RuntimeLabels[RunIDLabel]; v != "" {
				runID, harness, kept = v, n.RuntimeLabels[HarnessLabel], n.RuntimeLabels[KeepLabel] == "true"
				break
			}
		}
		if runID == "" {
			continue
		}
		if l, ok := real.LeftoverCluster(c.Name, runID, harness, kept); ok {
			out = append(out, l)
		}
	}
	return out, nil
}

// RemoveLeftovers deletes the listed clusters by their exact names, each
// only if it is still left over (listed again now, with the same run id).
func (p *Provider) RemoveLeftovers(ctx context.Context, ls []clusters.Leftover) error {
	now, err := p.Leftovers(ctx)
	if err != nil {
		return err
	}
	return real.RemoveStillLeftOver("k3d", now, ls, func(name string) error { return Delete(ctx, p.runtime(), name) })
}
