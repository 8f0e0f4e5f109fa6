// Waiting until the KEDA HTTP add-on answers, and connecting its Services to
// its local processes through the data plane (httpaddon.go says what it is).

package emulated

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// waitHTTPAddOnProcesses waits until the add-on's processes answer on
// loopback: the operator's and the interceptor's readiness probes (the
// interceptor is ready once its routing table synced) and the scaler's
// gRPC port.
func (c *Cluster) waitHTTPAddOnProcesses(ctx context.Context, p httpAddOnPorts) error {
	return parallel(
		func() error {
			return c.pollComponents(ctx, "HTTP add-on operator ready", func(ctx context.Context) (bool, string, error) {
				return httpOK(ctx, "http://"+loopback(p.OperatorProbe)+"/readyz")
			})
		},
		func() error {
			return c.pollComponents(ctx, "HTTP add-on interceptor ready", func(ctx context.Context) (bool, string, error) {
				return httpOK(ctx, "http://"+loopback(p.InterceptorAdmin)+"/readyz")
			})
		},
		func() error {
			return c.pollComponents(ctx, "HTTP add-on scaler listening", func(ctx context.Context) (bool, string, error) {
				return tcpListening(loopback(p.ScalerGRPC))
			})
		},
	)
}

// connectHTTPAddOn maps the add-on's endpoint addresses to its processes in
// the data plane, then checks each path the components take through the
// service network:
//   - Service name → EndpointSlice → interceptor admin (a plain proxy
//     request, as the scaler sends);
//   - CONNECT to the external scaler's Service (as the KEDA operator
//     dials it over gRPC);
//   - the scaler itself reaching the interceptor by endpoint IP (its
//     Prometheus gauges: one endpoint polled, none unreachable).
func (c *Cluster) connectHTTPAddOn(ctx context.Context, h httpAddOnSetup) error {
	t0 := time.Now()
	for _, m := range h.endpointMappings() {
		c.dataPlane.MapEndpoint(m.IP, m.Port, m.Local)
	}
	proxy, err := url.Parse(c.dataPlane.ProxyURL())
	if err != nil {
		return fmt.Errorf("service proxy URL: %w", err)
	}
	viaProxy := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(proxy)}, Timeout: 2 * time.Second}
	err = parallel(
		func() error {
			u := "http://" + httpAddOnServiceAddr(httpAddOnAdminService, httpAddOnAdminPort) + "/readyz"
			return c.pollComponents(ctx, "interceptor admin through the service network", func(ctx context.Context) (bool, string, error) {
				return httpOKWith(ctx, viaProxy, u)
			})
		},
		func() error {
			target := httpAddOnServiceAddr(httpAddOnScalerService, httpAddOnScalerPort)
			return c.pollComponents(ctx, "CONNECT to the external scaler through the service network", func(ctx context.Context) (bool, string, error) {
				return connectOK(ctx, proxy.Host, target)
			})
		},
		func() error {
			u := "http://" + loopback(h.Ports.ScalerMetrics) + "/metrics"
			return c.pollComponents(ctx, "HTTP add-on scaler polling the interceptor", func(ctx context.Context) (bool, string, error) {
				return scalerReachesInterceptors(ctx, u)
			})
		},
	)
	if err != nil {
		return fmt.Errorf("HTTP add-on: %w", err)
	}
	c.logger.Info("HTTP add-on connected: interceptor, scaler and KEDA's route to the scaler answer through the service network", "after", time.Since(t0))
	return nil
}

func httpOKWith(ctx context.Context, client *http.Client, u string) (bool, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return false, "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return false, err.Error(), nil
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK, fmt.Sprintf("GET %s: %s", u, resp.Status), nil
}

// connectOK opens an HTTP CONNECT tunnel to target through the proxy at
// proxyAddr and reports whether the proxy established it (it answers 200
// only once it has dialled the target).
func connectOK(ctx context.Context, proxyAddr, target string) (bool, string, error) {
	d := net.Dialer{Timeout: 2 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", proxyAddr)
	if err != nil {
		return false, err.Error(), nil
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := fmt.Fprintf(conn, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target); err != nil {
		return false, err.Error(), nil
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: http.MethodConnect})
	if err != nil {
		return false, "CONNECT " + target + ": " + err.Error(), nil
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK, "CONNECT " + target + ": " + resp.Status, nil
}

// scalerReachesInterceptors reads the scaler's Prometheus gauges: done once
// its last fetch polled at least one interceptor endpoint and reached all.
func scalerReachesInterceptors(ctx context.Context, metricsURL string) (bool, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, metricsURL, nil)
	if err != nil {
		return false, "", err
	}
	resp, err := directHTTP.Do(req)
	if err != nil {
		return false, err.Error(), nil
	}
	defer resp.Body.Close()
	endpoints, unreachable, err := scalerPingerGauges(resp.Body)
	if err != nil {
		return false, "scaler metrics: " + err.Error(), nil
	}
	state := fmt.Sprintf("scaler polls %d interceptor endpoint(s), %d unreachable", endpoints, unreachable)
	return endpoints > 0 && unreachable == 0, state, nil
}

// Prometheus names of the scaler's pinger gauges (OpenTelemetry
// "scaler.pinger.endpoints" and "scaler.pinger.unreachable_pods").
const (
	scalerEndpointsMetric   = "scaler_pinger_endpoints"
	scalerUnreachableMetric = "scaler_pinger_unreachable_pods"
)

// scalerPingerGauges parses the scaler's endpoint and unreachable-pod gauges
// from a Prometheus text exposition; -1 means absent (no fetch yet).
func scalerPingerGauges(r io.Reader) (endpoints, unreachable int, err error) {
	endpoints, unreachable = -1, -1
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := promSample(line)
		if !ok {
			continue
		}
		switch name {
		case scalerEndpointsMetric:
			endpoints = int(value)
		case scalerUnreachableMetric:
			unreachable = int(value)
		}
	}
	return endpoints, unreachable, sc.Err()
}

// promSample splits a Prometheus text sample line into its metric name
// (without labels) and value.
func promSample(line string) (string, float64, bool) {
	fields := strings.Fields(line)
	if len(fields) < 2 {
		return "", 0, false
	}
	name := fields[0]
	if i := strings.IndexByte(name, '{'); i >= 0 {
		name = name[:i]
		// Labels may hold spaces: the value follows the closing brace.
		j := strings.LastIndexByte(line, '}')
		fields = strings.Fields(line[j+1:])
		if len(fields) < 1 {
			return "", 0, false
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		return name, v, err == nil
	}
	v, err := strconv.ParseFloat(fields[1], 64)
	return name, v, err == nil
}
