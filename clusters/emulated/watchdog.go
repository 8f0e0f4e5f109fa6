package emulated

import "fmt"

// Failures delivers, as errors, every later unexpected exit of a platform
// component (runner.Watchdog): a scenario running on the cluster stops with
// that reason instead of waiting for an autoscaler that is gone.
func (c *Cluster) Failures() <-chan error {
	exits := c.ComponentExits()
	out := make(chan error, 1)
	go func() {
		for e := range exits {
			select {
			case out <- fmt.Errorf("component %q exited unexpectedly after %s: %v (log %s)", e.Name, e.Uptime.Round(100_000_000), e.Err, e.LogPath):
			default:
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
