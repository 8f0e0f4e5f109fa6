package dataplane

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/scalebench/scalebench/kube"
)

// dispatcher hands requests to endpoints: the emulated instance at a pod IP,
// or a real local listener an endpoint is mapped to.
type dispatcher struct {
	routes    *routes
	instances *instances
	log       *slog.Logger
	transport *http.Transport

	mu      sync.RWMutex
	mapped  map[string]string // "ip:port" → local address
	proxies map[string]*httputil.ReverseProxy

	fault atomic.Pointer[appFault] // injected app errors (Plane.FailRequests)
}

// appFault makes every emulated app instance answer status until a time.
type appFault struct {
	status int
	until  time.Time
}

// failing is the status the apps answer now, when a fault is in force.
func (d *dispatcher) failing() (int, bool) {
	f := d.fault.Load()
	if f == nil || !time.Now().Before(f.until) {
		return 0, false
	}
	return f.status, true
}

func newDispatcher(rt *routes, in *instances, log *slog.Logger) *dispatcher {
	return &dispatcher{
		routes: rt, instances: in, log: log,
		transport: &http.Transport{
			// Mapped endpoints are local listeners: never go through an
			// HTTP_PROXY from the environment.
			Proxy:                 nil,
			DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:          1024,
			MaxIdleConnsPerHost:   256,
			IdleConnTimeout:       90 * time.Second,
			ExpectContinueTimeout: time.Second,
		},
		mapped:  map[string]string{},
		proxies: map[string]*httputil.ReverseProxy{},
	}
}

func endpointKey(ip string, port int32) string {
	return net.JoinHostPort(ip, strconv.Itoa(int(port)))
}

// mapEndpoint routes an endpoint address to a local listener; an empty
// localAddr removes the mapping.
func (d *dispatcher) mapEndpoint(ip string, port int32, localAddr string) {
	key := endpointKey(ip, port)
	d.mu.Lock()
	defer d.mu.Unlock()
	if localAddr == "" {
		delete(d.mapped, key)
		return
	}
	d.mapped[key] = localAddr
	if d.proxies[localAddr] == nil {
		d.proxies[localAddr] = d.newReverseProxy(localAddr)
	}
}

// mappedAddr is the local listener an endpoint is mapped to, if any.
func (d *dispatcher) mappedAddr(ip string, port int32) (string, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	a, ok := d.mapped[endpointKey(ip, port)]
	return a, ok
}

func (d *dispatcher) proxyFor(ip string, port int32) *httputil.ReverseProxy {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if a, ok := d.mapped[endpointKey(ip, port)]; ok {
		return d.proxies[a]
	}
	return nil
}

func (d *dispatcher) newReverseProxy(localAddr string) *httputil.ReverseProxy {
	target := &url.URL{Scheme: "http", Host: localAddr}
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = pr.In.Host // keep the client's Host, as Traefik does
			pr.SetXForwarded()
		},
		Transport: d.transport,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			switch {
			case r.Context().Err() != nil:
			case errors.Is(err, syscall.ECONNREFUSED):
				// A component that is not listening yet: the cluster's own
				// readiness probes get these while the add-on starts, and the
				// client gets its 502 either way; a component that died is
				// the watchdog's to report.
				d.log.Debug("proxying to mapped endpoint", "local", localAddr, "host", r.Host, "err", err)
			default:
				d.log.Warn("proxying to mapped endpoint", "local", localAddr, "host", r.Host, "err", err)
			}
			w.WriteHeader(http.StatusBadGateway)
		},
	}
}

var (
	// errDrainingEndpoints: every endpoint's pod is draining or not ready
	// (the EndpointSlice has not caught up yet).
	errDrainingEndpoints = errors.New("every endpoint is draining")
	// errUnknownEndpoints: some endpoint is neither an emulated instance nor
	// mapped to a local listener.
	errUnknownEndpoints = errors.New("endpoint served by nothing")
)

// dispatch hands a request to the first endpoint, trying them in order
// from start, that takes it: a mapped local listener, or a serving emulated instance.
// Endpoints whose instance is draining are skipped, as kube-proxy would
// already have dropped them. When no endpoint took the request it returns
// errDrainingEndpoints or errUnknownEndpoints, having written nothing.
func (d *dispatcher) dispatch(w http.ResponseWriter, r *http.Request, eps []endpoint, start int) error {
	// A Ready endpoint is a serving container: but the EndpointSlice (which
	// the caller routed by, or which the add-on's interceptor watched) can
	// be seen before this plane's own pod watch has started the instance.
	// Wait for it a moment, as a client's connect would, instead of failing.
	ctx, cancel := context.WithTimeout(r.Context(), instanceWait)
	defer cancel()
	var err error
	_ = kube.Poll(ctx, 20*time.Millisecond, "an instance to take the request", func(context.Context) (bool, string, error) {
		err = d.dispatchOnce(w, r, eps, start)
		return err == nil, "", nil
	})
	return err
}

// instanceWait bounds how long a request waits for the instance of a Ready
// endpoint to start.
const instanceWait = 3 * time.Second

func (d *dispatcher) dispatchOnce(w http.ResponseWriter, r *http.Request, eps []endpoint, start int) error {
	unknown := false
	for k := range eps {
		ep := eps[(start+k)%len(eps)]
		if rp := d.proxyFor(ep.IP, ep.Port); rp != nil {
			rp.ServeHTTP(w, r)
			return nil
		}
		if in := d.instances.byAddress(ep.IP); in != nil {
			if code, ok := d.failing(); ok {
				http.Error(w, "scalebench fault injection: the app answers "+strconv.Itoa(code), code)
				return nil
			}
			if err := in.Serve(w, r); err == nil {
				return nil
			}
			continue
		}
		if !d.instances.knowsIP(ep.IP) {
			unknown = true
		}
	}
	if unknown {
		return errUnknownEndpoints
	}
	return errDrainingEndpoints
}

// ServeHTTP is the ingress: Traefik in front of the cluster's Services.
// No rule matches → 404; a Service without a ready (non-draining) endpoint
// → 503; ready endpoints that nothing serves → 502.
func (d *dispatcher) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, ok := d.routes.routeIngress(r.Host, r.URL.Path)
	if !ok {
		http.Error(w, "404 page not found", http.StatusNotFound)
		return
	}
	eps, start := d.routes.pick(b)
	if len(eps) == 0 {
		http.Error(w, "no available server", http.StatusServiceUnavailable)
		return
	}
	switch err := d.dispatch(w, r, eps, start); {
	case errors.Is(err, errDrainingEndpoints):
		http.Error(w, "no available server", http.StatusServiceUnavailable)
	case err != nil:
		d.log.Debug("no endpoint took the request", "backend", b.String(), "endpoints", len(eps), "err", err)
		http.Error(w, "Bad Gateway", http.StatusBadGateway)
	}
}
