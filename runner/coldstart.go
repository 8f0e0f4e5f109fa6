package runner

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/scalebench/scalebench/analysis"
	"github.com/scalebench/scalebench/timeline"
)

// ColdStartHeader is the header the KEDA HTTP add-on's interceptor sets on
// every response: "true" when the request waited for a scale from zero.
const ColdStartHeader = "X-Keda-Http-Cold-Start"

// waitZero waits until the workload is at zero replicas, so the next request
// is a cold start.
func (r *run) waitZero(ctx context.Context, within time.Duration) error {
	r.progressf("waiting up to %s for the workload to be at zero", within)
	return r.waitDeployment(ctx, "zero replicas", within, func(d *appsv1.Deployment) bool {
		return deref(d.Spec.Replicas) == 0 && d.Status.Replicas == 0
	})
}

// coldStarts sends n single requests, each at zero replicas, and records
// each with its response time and cold-start header. It waits for zero
// before each probe.
func (r *run) coldStarts(ctx context.Context, n int) error {
	h := r.s.Spec.Load.HTTP
	wait := time.Duration(*r.s.Spec.Autoscaler.ScaledownPeriod)*time.Second + 2*time.Minute
	for i := 0; i < n; i++ {
		if err := r.waitZero(ctx, wait); err != nil {
			return err
		}
		req, err := r.probe(ctx, h.Host, h.Timeout.Duration)
		if err != nil {
			return err
		}
		r.rec.Record(timeline.Event{Kind: timeline.KindRequest, Request: req})
		r.progressf("cold start %d/%d: status %d in %.3f s (%s: %q) %s", i+1, n, req.Status, req.LatencySeconds, ColdStartHeader, req.Headers[ColdStartHeader], req.Error)
	}
	return nil
}

// probe sends one GET through the ingress and measures it; a failed request
// is a result (recorded), not an error.
func (r *run) probe(ctx context.Context, host string, timeout time.Duration) (*timeline.Request, error) {
	u, err := url.Parse(r.ingressURL())
	if err != nil {
		return nil, fmt.Errorf("ingress URL %q: %w", r.ingressURL(), err)
	}
	u.Path = r.s.Spec.Load.HTTP.Path
	client := &http.Client{Timeout: timeout, Transport: &http.Transport{Proxy: nil, DialContext: (&net.Dialer{Timeout: timeout}).DialContext, DisableKeepAlives: true}}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	if host != "" {
		hreq.Host = host
	}
	sent := time.Now()
	resp, err := client.Do(hreq)
	rq := &timeline.Request{Purpose: analysis.PurposeColdStart, SentAtSeconds: r.rec.Since(sent).Seconds()}
	if err == nil {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		rq.Status = resp.StatusCode
		if resp.StatusCode >= 400 {
			// What answered, and why, is usually in the body.
			rq.Error = fmt.Sprintf("HTTP %d: %.200s", resp.StatusCode, strings.TrimSpace(string(body)))
		}
		if v := resp.Header.Get(ColdStartHeader); v != "" {
			rq.Headers = map[string]string{ColdStartHeader: v}
		}
	} else {
		rq.Error = err.Error()
	}
	rq.LatencySeconds = time.Since(sent).Seconds()
	return rq, nil
}
