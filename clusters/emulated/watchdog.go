package emulated

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"time"

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
	_ clusters.AppFaultInjector = (*Cluster)(nil)
	_ clusters.NodeSizer        = (*Provider)(nil)
)

// controlPlanePoll is how often the watchdog looks at the control-plane
// processes kwokctl started (they are not the supervisor's children).
const controlPlanePoll = time.Second

// Failures delivers, as errors, every later unexpected exit of a platform
// component (clusters.Watchdog) until ctx is done: a supervised component's
// exit at once, and a control-plane process kwokctl started (API server,
// etcd, controller manager, scheduler, kwok, metrics-server) that is gone or
// was replaced (a restart: its pid changed) within controlPlanePoll. Each
// error names the component and what stops working without it. A scenario
// running on the cluster stops with that reason instead of waiting for an
// autoscaler that is gone. The subscription ends with ctx.
func (c *Cluster) Failures(ctx context.Context) <-chan error {
	out := make(chan error, 1)
	if c.sup == nil {
		return out
	}
	send := func(err error) {
		select {
		case out <- err:
		default:
		}
	}
	exits := c.sup.Subscribe()
	baseline := c.controlPlanePids()
	go func() {
		defer c.sup.Unsubscribe(exits)
		tick := time.NewTicker(controlPlanePoll)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case e := <-exits:
				send(fmt.Errorf("component %q exited unexpectedly after %s: %s (%v; log %s)", e.Name, e.Uptime.Round(100*time.Millisecond), symptom(e.Name), e.Err, e.LogPath))
			case <-tick.C:
				if err := c.controlPlaneChange(baseline); err != nil {
					send(err)
				}
			}
		}
	}()
	return out
}

// controlPlaneChange names the first control-plane process of baseline that
// is gone or runs under another pid now, with its symptom.
func (c *Cluster) controlPlaneChange(baseline map[string]int) error {
	if len(baseline) == 0 {
		return nil
	}
	now := c.controlPlanePids()
	for _, name := range slices.Sorted(maps.Keys(baseline)) {
		log := filepath.Join(c.kwokWorkDir, "clusters", c.kwokName, "logs", name+".log")
		switch pid, ok := now[name]; {
		case !ok:
			return fmt.Errorf("control-plane process %q (started by kwokctl, pid %d) is gone: %s (log %s)", name, baseline[name], symptom(name), log)
		case pid != baseline[name]:
			return fmt.Errorf("control-plane process %q was restarted (pid %d, now %d): %s while it was down (log %s)", name, baseline[name], pid, symptom(name), log)
		}
	}
	return nil
}

func symptom(name string) string {
	if s := ComponentSymptom(name); s != "" {
		return s
	}
	return "the platform is incomplete"
}

// ComponentPID is the process id of a running supervised component, for
// failure injection from outside (as an OOM kill would).
//
// Control-plane processes kwokctl started (kube-apiserver, metrics-server,
// ...) have one too.
func (c *Cluster) ComponentPID(name string) (int, bool) {
	if c.sup == nil {
		return 0, false
	}
	if pid, ok := c.controlPlanePids()[name]; ok {
		return pid, true
	}
	p, ok := c.sup.Process(name)
	if !ok {
		return 0, false
	}
	return p.Pid(), true
}

// FailAppRequests makes the data plane's app instances answer status to
// every request for d (clusters.AppFaultInjector).
func (c *Cluster) FailAppRequests(status int, d time.Duration) {
	if c.dataPlane != nil {
		c.dataPlane.FailRequests(status, d)
	}
}
