package lag

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/scalebench/scalebench/clusters"
)

// metricsCluster is a cluster that exposes only its autoscalers' metrics
// endpoints (the sampler asks for nothing else).
type metricsCluster struct {
	clusters.Cluster
	endpoints []clusters.MetricsEndpoint
}

func (c metricsCluster) AutoscalerMetricsEndpoints() []clusters.MetricsEndpoint { return c.endpoints }

// conns tracks a test server's connections by their last state.
type conns struct {
	mu    sync.Mutex
	state map[net.Conn]http.ConnState
}

func (c *conns) track(conn net.Conn, s http.ConnState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.state[conn] = s
}

func (c *conns) open() (n, all int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.state {
		if s != http.StateClosed && s != http.StateHijacked {
			n++
		}
	}
	return n, len(c.state)
}

// TestSamplerReadsThenClosesItsConnections scrapes a plain KEDA endpoint
// and a self-signed HTTPS controller-manager endpoint, and checks that the
// keep-alive connections it used end when it stops: idle ones left in a
// transport outlive the run.
func TestSamplerReadsThenClosesItsConnections(t *testing.T) {
	kedaConns, kcmConns := &conns{state: map[net.Conn]http.ConnState{}}, &conns{state: map[net.Conn]http.ConnState{}}
	keda := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, kedaText) }))
	keda.Config.ConnState = kedaConns.track
	keda.Start()
	t.Cleanup(keda.Close)
	kcm := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, queueText(1, 10, 10, 0.01, 5, 10, 10))
	}))
	kcm.Config.ConnState = kcmConns.track
	kcm.StartTLS()
	t.Cleanup(kcm.Close)

	c := metricsCluster{endpoints: []clusters.MetricsEndpoint{
		{Component: clusters.ComponentKEDAOperator, URL: keda.URL + "/metrics"},
		{Component: clusters.ComponentControllerManager, URL: kcm.URL + "/metrics", InsecureSkipVerify: true},
	}}
	s := Start(context.Background(), c, 20*time.Millisecond)
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.mu.Lock()
		n := s.r.Samples
		s.mu.Unlock()
		if n >= 3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	r := s.Stop()
	if r.Samples < 3 || len(r.KEDA["apps/hello-1"]) == 0 || len(r.Queues) == 0 || r.KEDAAbsent != "" || r.QueueAbsent != "" {
		t.Fatalf("readings %+v", r)
	}
	for name, cs := range map[string]*conns{"KEDA (plain HTTP)": kedaConns, "controller-manager (HTTPS)": kcmConns} {
		for {
			open, all := cs.open()
			if all == 0 {
				t.Errorf("%s: no connection seen", name)
				break
			}
			if open == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("%s: %d of %d connections still open after the sampler stopped", name, open, all)
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}
