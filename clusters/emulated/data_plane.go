package emulated

import (
	"context"
	"fmt"
	"time"

	"github.com/scalebench/scalebench/clusters/emulated/dataplane"
)

// startDataPlane starts the emulated data plane (package dataplane): app
// instances for the Ready pods, their CPU usage annotations, the HTTP ingress
// on the provider's IngressAddr and the service-network proxy on the
// loopback port chosen before KEDA and the HTTP add-on started (their
// HTTP_PROXY).
func (c *Cluster) startDataPlane(ctx context.Context) error {
	t0 := time.Now()
	plane, err := dataplane.Start(ctx, dataplane.Config{
		RESTConfig:  c.RESTConfig(),
		IngressAddr: c.ingressAddr,
		ProxyAddr:   c.proxyAddr,
		Logger:      c.logger,
		Models:      c.dataPlaneModels(),
		// Pods share their node's CPUs (contention); the node's capacity
		// is what the scheduler sees as allocatable.
		NodeCPUMilli: c.shape.CPU.MilliValue(),
	})
	if err != nil {
		return fmt.Errorf("start data plane: %w", err)
	}
	c.dataPlane = plane
	c.progressf("data plane ready in %s: ingress %s, service-network proxy %s", roundDur(time.Since(t0)), plane.IngressURL(), plane.ProxyURL())
	return nil
}

// DataPlane is the running emulated data plane (instances, ingress, and the
// service-network proxy for components that reach cluster services).
func (c *Cluster) DataPlane() *dataplane.Plane { return c.dataPlane }
