package k3d

import (
	"context"

	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/clusters/internal/real"
)

// preparePlatform installs the platform (package platform, with the Helm
// SDK) on the fresh cluster; deleting the cluster removes it.
func preparePlatform(ctx context.Context, cl *real.Cluster, opts clusters.Options) error {
	return cl.EnsurePlatform(ctx, opts, real.PlatformSettings{Install: true})
}
