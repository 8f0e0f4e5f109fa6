package emulated

import (
	"context"
	"fmt"

	"github.com/scalebench/scalebench/clusters"
)

var (
	_ clusters.Cluster          = (*Cluster)(nil)
	_ clusters.HTTPIngress      = (*Cluster)(nil)
	_ clusters.Watchdog         = (*Cluster)(nil)
	_ clusters.HealthChecker    = (*Cluster)(nil)
	_ clusters.SQSProvider      = (*Cluster)(nil)
	_ clusters.ComponentStopper = (*Cluster)(nil)
	_ clusters.FailureInjector  = (*Cluster)(nil)
	_ clusters.NodeSizer        = (*Provider)(nil)
)

// Failures delivers, as errors, every later unexpected exit of a platform
// component (clusters.Watchdog) until ctx is done: a scenario running on the
// cluster stops with that reason instead of waiting for an autoscaler that
// is gone. The subscription ends with ctx.
func (c *Cluster) Failures(ctx context.Context) <-chan error {
	out := make(chan error, 1)
	if c.sup == nil {
		return out
	}
	exits := c.sup.Subscribe()
	go func() {
		defer c.sup.Unsubscribe(exits)
		for {
			select {
			case <-ctx.Done():
				return
			case e := <-exits:
				select {
				case out <- fmt.Errorf("component %q exited unexpectedly after %s: %v (log %s)", e.Name, e.Uptime.Round(100_000_000), e.Err, e.LogPath):
				default:
				}
			}
		}
	}()
	return out
}

// ComponentPID is the process id of a running supervised component, for
// failure injection from outside (as an OOM kill would).
func (c *Cluster) ComponentPID(name string) (int, bool) {
	if c.sup == nil {
		return 0, false
	}
	p, ok := c.sup.Process(name)
	if !ok {
		return 0, false
	}
	return p.Pid(), true
}
