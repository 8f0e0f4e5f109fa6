package k3d

import (
	"context"

	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/clusters/internal/real"
)

// preparePlatform finds the platform parts on the fresh cluster. The Helm
// install of the missing ones (package platform) is called here once it
// exists; until then the cluster reports them missing.
func preparePlatform(ctx context.Context, cl *real.Cluster, opts clusters.Options) error {
	parts, err := real.Detect(ctx, cl.Clients)
	if err != nil {
		return err
	}
	cl.Parts = parts
	return nil
}
