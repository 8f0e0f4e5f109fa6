package emulated

import "context"

// startDataPlane starts the emulated data plane (package dataplane: the Spin
// app instances and the HTTP ingress on c.ingressAddr).
//
// HOOK: package clusters/emulated/dataplane has no Start yet; until it does,
// Create starts no data plane and IngressURL names an address nothing
// listens on.
func (c *Cluster) startDataPlane(ctx context.Context) error {
	return nil
}
