package dataplane

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// A Ready endpoint whose instance this plane has not started yet (its pod
// watch lags the EndpointSlice the caller routed by) is waited for, not
// failed: a Ready pod is a serving container.
func TestDispatchWaitsForTheInstanceOfAReadyEndpoint(t *testing.T) {
	in := newInstances(t.Context(), RealClock{}, testLogger(t), DefaultModels(), time.Second)
	d := newDispatcher(newRoutes(), in, testLogger(t))
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) }))
	defer backend.Close()
	go func() {
		time.Sleep(300 * time.Millisecond)
		d.mapEndpoint("10.42.0.9", 80, backend.Listener.Addr().String())
	}()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "http://hello.default/", nil)
	start := time.Now()
	if err := d.dispatch(rec, req, []endpoint{{IP: "10.42.0.9", Port: 80}}, 0); err != nil {
		t.Fatalf("dispatch: %v", err)
	}
	if rec.Code != http.StatusTeapot {
		t.Errorf("status %d", rec.Code)
	}
	if d := time.Since(start); d < 250*time.Millisecond || d > instanceWait {
		t.Errorf("took %s", d)
	}
}
