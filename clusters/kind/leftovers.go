package kind

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/clusters/internal/docker"
	"github.com/scalebench/scalebench/clusters/internal/real"
)

var _ clusters.LeftoverCleaner = (*Provider)(nil)

// Clusters is what the provider asks of kind about existing clusters
// (kind's *cluster.Provider has both; tests pass fakes).
type Clusters interface {
	// List names the kind clusters on the engine.
	List() ([]string, error)
	// Delete deletes the cluster of that exact name, removing its entry
	// from the kubeconfig at that path.
	Delete(name, kubeconfig string) error
}

// marker records a kind cluster a run created. kind labels its node
// containers with the cluster name only (its configuration has no container
// labels), so what k3d keeps in container labels — the run id, the creating
// harness, --keep — is kept here, one file per cluster in the provider's
// state folder, written before the cluster is created and removed once it
// is deleted.
type marker struct {
	Cluster string `json:"cluster"`
	RunID   string `json:"runID"`
	Harness string `json:"harness"`
	Keep    bool   `json:"keep"`
}

// DefaultStateDir is where the markers go: <user cache dir>/scalebench/kind-clusters.
func DefaultStateDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("kind: state folder: %w", err)
	}
	return filepath.Join(base, "scalebench", "kind-clusters"), nil
}

func (p *Provider) stateDir() (string, error) {
	if p.StateDir != "" {
		return p.StateDir, nil
	}
	return DefaultStateDir()
}

// markerPath is the marker of the cluster of that exact name.
func (p *Provider) markerPath(name string) (string, error) {
	dir, err := p.stateDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, name+".json"), nil
}

func (p *Provider) writeMarker(m marker) error {
	path, err := p.markerPath(m.Cluster)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("kind: cluster %q: marker: %w", m.Cluster, err)
	}
	data, _ := json.Marshal(m)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("kind: cluster %q: marker: %w", m.Cluster, err)
	}
	return nil
}

func (p *Provider) removeMarker(name string) error {
	path, err := p.markerPath(name)
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("kind: cluster %q: marker: %w", name, err)
	}
	return nil
}

// markers reads every marker; a file that does not parse is skipped (it
// names no cluster scalebench can vouch for).
func (p *Provider) markers() ([]marker, error) {
	dir, err := p.stateDir()
	if err != nil {
		return nil, err
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	var out []marker
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		var m marker
		if json.Unmarshal(data, &m) != nil || m.RunID == "" || m.Cluster+".json" != filepath.Base(f) {
			continue
		}
		out = append(out, m)
	}
	return out, nil
}

// Leftovers lists the kind clusters a scalebench run created (a marker
// names the cluster, its run id and harness) that still exist and whose
// harness has ended: crashed, killed, or ended with --keep (Kept). A kind
// cluster without a marker is never listed, whatever its name, nor one of
// a running harness or of a harness on another host.
func (p *Provider) Leftovers(ctx context.Context) ([]clusters.Leftover, error) {
	ms, err := p.markers()
	if err != nil || len(ms) == 0 {
		return nil, err
	}
	names, err := p.clusters().List()
	if err != nil {
		if docker.CheckCLI(ctx, "kind") != nil {
			return nil, nil // no Docker engine answers: no kind cluster runs on it
		}
		return nil, fmt.Errorf("kind: list clusters: %w", err)
	}
	var out []clusters.Leftover
	for _, m := range ms {
		if !slices.Contains(names, m.Cluster) {
			continue // deleted already (its marker goes with the next removal)
		}
		if l, ok := real.LeftoverCluster(m.Cluster, m.RunID, m.Harness, m.Keep); ok {
			out = append(out, l)
		}
	}
	return out, nil
}

// RemoveLeftovers deletes the listed clusters by their exact names, each
// only if it is still left over (listed again now, with the same run id),
// and their markers; markers of clusters that are gone, of ended
// harnesses, are removed too.
func (p *Provider) RemoveLeftovers(ctx context.Context, ls []clusters.Leftover) error {
	now, err := p.Leftovers(ctx)
	if err != nil {
		return err
	}
	// kind removes the cluster's entry from a kubeconfig as it deletes it:
	// a throwaway one here, never the user's.
	tmp, err := os.MkdirTemp("", "scalebench-kind-cleanup-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	err = real.RemoveStillLeftOver("kind", now, ls, func(name string) error {
		if err := p.clusters().Delete(name, filepath.Join(tmp, "kubeconfig")); err != nil {
			return fmt.Errorf("kind: delete cluster %q: %w", name, err)
		}
		return p.removeMarker(name)
	})
	return errors.Join(err, p.pruneMarkers())
}

// pruneMarkers removes the markers of clusters that no longer exist and
// whose harness has ended.
func (p *Provider) pruneMarkers() error {
	ms, err := p.markers()
	if err != nil || len(ms) == 0 {
		return err
	}
	names, err := p.clusters().List()
	if err != nil {
		return nil // cannot tell which are gone: keep them
	}
	var errs []error
	for _, m := range ms {
		if _, gone := real.HarnessGone(m.Harness); gone && !slices.Contains(names, m.Cluster) {
			errs = append(errs, p.removeMarker(m.Cluster))
		}
	}
	return errors.Join(errs...)
}
