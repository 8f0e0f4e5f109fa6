package kube

import (
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/client-go/rest"
)

// Close ends the clients' idle HTTP/2 connections to the API server, for a rest config client-go does not
// share a transport for (one with a Proxy function, as the emulated cluster's): without it every NewClients
// left its connection, and the connection's goroutines, open.
func TestClientsCloseEndsIdleConnections(t *testing.T) {
	var open, closed atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"major":"1","minor":"35","gitVersion":"v1.35.4"}`))
	}))
	srv.EnableHTTP2 = true
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			open.Add(1)
		case http.StateClosed:
			closed.Add(1)
		}
	}
	srv.StartTLS()
	defer srv.Close()
	cfg := &rest.Config{Host: srv.URL, TLSClientConfig: rest.TLSClientConfig{Insecure: true},
		Proxy: func(*http.Request) (*url.URL, error) { return nil, nil }}
	c, err := NewClients(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Kube.Discovery().ServerVersion(); err != nil {
		t.Fatal(err)
	}
	if open.Load() != 1 || closed.Load() != 0 {
		t.Fatalf("after a request: %d connections opened, %d closed; want 1 open", open.Load(), closed.Load())
	}
	c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for closed.Load() < 1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if closed.Load() != 1 {
		t.Errorf("after Close: %d of %d connections closed, want all", closed.Load(), open.Load())
	}
}
