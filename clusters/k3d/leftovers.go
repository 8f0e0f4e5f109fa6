package k3d

import (
	"context"
	"errors"
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
		pid, gone := real.HarnessGone(harness)
		if !gone {
			continue
		}
		reason := fmt.Sprintf("its harness (pid %d) is gone", pid)
		if kept {
			reason = "kept with --keep; its harness has ended"
		}
		out = append(out, clusters.Leftover{Kind: "cluster", Name: c.Name, RunID: runID, Reason: reason, Kept: kept, ID: c.Name})
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
	still := map[string]string{}
	for _, l := range now {
		still[l.ID] = l.RunID
	}
	var errs []error
	for _, l := range ls {
		if run, ok := still[l.ID]; !ok || run != l.RunID {
			errs = append(errs, fmt.Errorf("k3d: cluster %s is no longer left over (its harness runs, or it is gone)", l.ID))
			continue
		}
		errs = append(errs, Delete(ctx, p.runtime(), l.ID))
	}
	return errors.Join(errs...)
}
