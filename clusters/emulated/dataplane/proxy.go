package dataplane

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/scalebench/scalebench/kube"
)

// serviceProxy is the emulated service network for processes outside the
// cluster (the KEDA operator, the HTTP add-on's interceptor, scaler and
// operator): an HTTP forward proxy they reach through HTTP_PROXY /
// HTTPS_PROXY. It answers plain proxy requests ("GET http://host/path") and
// CONNECT tunnels, resolving
//   - "<svc>.<ns>[.svc[.cluster.local]]:<port>" through the Service's ready
//     endpoints (ExternalName Services: their external name, same port);
//   - "<pod IP>:<port>" (an endpoint address) directly;
//   - for plain requests only, any other host through the HTTP add-on's
//     routing rules (HTTPScaledObject / InterceptorRoute hosts): Go's
//     transport writes the Host header into a proxied request line, and the
//     interceptor keeps the client's Host, so the proxy sees "hello.example"
//     rather than the Service it dialled.
//
// Endpoints then go to the emulated instance at that IP or to the local
// listener MapEndpoint gave.
type serviceProxy struct {
	routes *routes
	d      *dispatcher

	mu     sync.Mutex
	direct map[string]*httputil.ReverseProxy // ExternalName targets by host:port
}

func newServiceProxy(rt *routes, d *dispatcher) *serviceProxy {
	return &serviceProxy{routes: rt, d: d, direct: map[string]*httputil.ReverseProxy{}}
}

// target is where a proxied request or tunnel goes.
type target struct {
	// backend, when set, resolves to Service endpoints at use time.
	backend *backend
	// ip and port: a single endpoint address.
	ip   string
	port int32
	// dial: an address dialled as is (ExternalName).
	dial string
}

var errNoRoute = errors.New("no route")

// clusterSuffixes are the DNS forms of a Service name after "<svc>.<ns>".
var clusterSuffixes = []string{".svc.cluster.local", ".svc"}

// resolveName maps a host and port to a target by cluster naming rules
// (Service DNS name or endpoint IP), without the add-on's host rules.
func (p *serviceProxy) resolveName(host string, port int32) (target, error) {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if ip := net.ParseIP(host); ip != nil {
		return target{ip: ip.String(), port: port}, nil
	}
	name := host
	for _, s := range clusterSuffixes {
		if strings.HasSuffix(name, s) {
			name = strings.TrimSuffix(name, s)
			break
		}
	}
	parts := strings.Split(name, ".")
	if len(parts) != 2 {
		return target{}, fmt.Errorf("%s: %w (not <service>.<namespace> or an endpoint IP)", host, errNoRoute)
	}
	svc, ok := p.routes.service(parts[1], parts[0])
	if !ok {
		return target{}, fmt.Errorf("service %s/%s: %w (no such Service)", parts[1], parts[0], errNoRoute)
	}
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		return target{dial: net.JoinHostPort(svc.Spec.ExternalName, strconv.Itoa(int(port)))}, nil
	}
	return target{backend: &backend{Namespace: parts[1], Service: parts[0], Port: networkingv1.ServiceBackendPort{Number: port}}}, nil
}

// resolveRequest maps a plain proxy request: the add-on's host rules first
// (they decide where the interceptor meant to send it), then cluster names.
// A catch-all rule (an HTTPScaledObject without hosts) yields to a cluster
// name or endpoint IP: the add-on's scaler polls interceptors by endpoint
// IP through this proxy, and such a rule must not capture those requests.
func (p *serviceProxy) resolveRequest(r *http.Request) (target, error) {
	host, port := splitHostPort(r.URL.Host, 80)
	b, catchAll, ok := p.routes.routeHostClass(host, r.URL.Path)
	if ok && !catchAll {
		return target{backend: &b}, nil
	}
	t, err := p.resolveName(host, port)
	if err != nil && ok {
		return target{backend: &b}, nil
	}
	return t, err
}

func splitHostPort(hostport string, def int32) (string, int32) {
	h, ps, err := net.SplitHostPort(hostport)
	if err != nil {
		return strings.Trim(hostport, "[]"), def
	}
	n, err := strconv.ParseUint(ps, 10, 16)
	if err != nil {
		return h, def
	}
	return h, int32(n)
}

func (p *serviceProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodConnect {
		p.connect(w, r)
		return
	}
	if !r.URL.IsAbs() {
		http.Error(w, "scalebench service proxy: not a proxy request (want an absolute URL or CONNECT)", http.StatusBadRequest)
		return
	}
	t, err := p.resolveRequest(r)
	if err != nil {
		p.d.log.Debug("service proxy: no route", "url", r.URL.String(), "err", err)
		http.Error(w, "scalebench service proxy: "+err.Error(), http.StatusBadGateway)
		return
	}
	r.Header.Del("Proxy-Connection")
	r.Header.Del("Proxy-Authorization")
	p.serveTarget(w, r, t)
}

// serveTarget hands one request to a resolved target.
func (p *serviceProxy) serveTarget(w http.ResponseWriter, r *http.Request, t target) {
	var eps []endpoint
	start := 0
	switch {
	case t.dial != "":
		p.directProxy(t.dial).ServeHTTP(w, r)
		return
	case t.backend != nil:
		// The caller (the add-on's interceptor) forwards once its own
		// EndpointSlice watch shows a ready endpoint; this plane's watch may
		// see it a moment later. Wait for it as for an instance.
		ctx, cancel := context.WithTimeout(r.Context(), instanceWait)
		_ = kube.Poll(ctx, 20*time.Millisecond, "a ready endpoint of "+t.backend.String(), func(context.Context) (bool, string, error) {
			eps, start = p.routes.pick(*t.backend)
			return len(eps) > 0, "", nil
		})
		cancel()
		if len(eps) == 0 {
			http.Error(w, "scalebench service proxy: "+t.backend.String()+" has no ready endpoint", http.StatusServiceUnavailable)
			return
		}
	default:
		eps = []endpoint{{IP: t.ip, Port: t.port}}
	}
	switch err := p.d.dispatch(w, r, eps, start); {
	case errors.Is(err, errDrainingEndpoints):
		http.Error(w, "scalebench service proxy: every endpoint is draining", http.StatusServiceUnavailable)
	case err != nil:
		http.Error(w, "scalebench service proxy: nothing serves "+eps[start].String(), http.StatusBadGateway)
	}
}

func (p *serviceProxy) directProxy(addr string) *httputil.ReverseProxy {
	p.mu.Lock()
	defer p.mu.Unlock()
	if rp := p.direct[addr]; rp != nil {
		return rp
	}
	rp := p.d.newReverseProxy(addr)
	p.direct[addr] = rp
	return rp
}

// connect opens a tunnel: a TCP pipe to a local listener (mapped endpoint
// or ExternalName), or HTTP served by emulated instances over the tunnel.
func (p *serviceProxy) connect(w http.ResponseWriter, r *http.Request) {
	host, port := splitHostPort(r.Host, 443)
	t, err := p.resolveName(host, port)
	if err != nil {
		http.Error(w, "scalebench service proxy: "+err.Error(), http.StatusBadGateway)
		return
	}
	dialAddr := t.dial
	if dialAddr == "" {
		dialAddr, err = p.tunnelDialAddr(t)
		if err != nil && !errors.Is(err, errServeInProcess) {
			http.Error(w, "scalebench service proxy: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
	}
	var upstream net.Conn
	if dialAddr != "" {
		upstream, err = net.DialTimeout("tcp", dialAddr, 5*time.Second)
		if err != nil {
			http.Error(w, "scalebench service proxy: dial "+dialAddr+": "+err.Error(), http.StatusBadGateway)
			return
		}
	}
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		if upstream != nil {
			upstream.Close()
		}
		http.Error(w, "scalebench service proxy: cannot hijack: "+err.Error(), http.StatusInternalServerError)
		return
	}
	if _, err := io.WriteString(conn, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		conn.Close()
		if upstream != nil {
			upstream.Close()
		}
		return
	}
	if upstream != nil {
		pipe(conn, buf, upstream)
		return
	}
	// Emulated instances speak HTTP/1.1 over the tunnel, one request at a
	// time, each dispatched like a request to the Service.
	srv := &http.Server{
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { p.serveTarget(w, r, t) }),
		ReadHeaderTimeout: 30 * time.Second,
	}
	srv.Serve(newOneConnListener(&bufferedConn{Conn: conn, r: buf.Reader}))
}

// errServeInProcess: the tunnel ends at emulated instances, not a socket.
var errServeInProcess = errors.New("served in process")

// tunnelDialAddr picks where a tunnel to an endpoint target goes: the local
// listener of the first mapped endpoint, or errServeInProcess when an
// emulated instance serves it.
func (p *serviceProxy) tunnelDialAddr(t target) (string, error) {
	var eps []endpoint
	start := 0
	if t.backend != nil {
		eps, start = p.routes.pick(*t.backend)
		if len(eps) == 0 {
			return "", fmt.Errorf("%s has no ready endpoint", t.backend)
		}
	} else {
		eps = []endpoint{{IP: t.ip, Port: t.port}}
	}
	for k := range eps {
		ep := eps[(start+k)%len(eps)]
		if a, ok := p.d.mappedAddr(ep.IP, ep.Port); ok {
			return a, nil
		}
		if in := p.d.instances.byAddress(ep.IP); in != nil {
			return "", errServeInProcess
		}
	}
	return "", fmt.Errorf("nothing serves %s", eps[start])
}

// pipe copies both ways until either side closes.
func pipe(client net.Conn, buf *bufio.ReadWriter, upstream net.Conn) {
	done := make(chan struct{}, 2)
	go func() {
		if n := buf.Reader.Buffered(); n > 0 {
			b, _ := buf.Reader.Peek(n)
			upstream.Write(b)
			buf.Reader.Discard(n)
		}
		io.Copy(upstream, client)
		if tc, ok := upstream.(*net.TCPConn); ok {
			tc.CloseWrite()
		}
		done <- struct{}{}
	}()
	go func() {
		io.Copy(client, upstream)
		if tc, ok := client.(*net.TCPConn); ok {
			tc.CloseWrite()
		}
		done <- struct{}{}
	}()
	<-done
	<-done
	client.Close()
	upstream.Close()
}

// bufferedConn reads what the hijacked reader already buffered first.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(b []byte) (int, error) { return c.r.Read(b) }

// oneConnListener hands out one connection, then blocks until it closes.
type oneConnListener struct {
	conn      net.Conn
	once      sync.Once
	closeOnce sync.Once
	closed    chan struct{}
}

func newOneConnListener(c net.Conn) *oneConnListener {
	l := &oneConnListener{closed: make(chan struct{})}
	l.conn = &notifyCloseConn{Conn: c, onClose: func() { l.Close() }}
	return l
}

func (l *oneConnListener) Accept() (net.Conn, error) {
	var c net.Conn
	l.once.Do(func() { c = l.conn })
	if c != nil {
		return c, nil
	}
	<-l.closed
	return nil, net.ErrClosed
}

func (l *oneConnListener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return nil
}

func (l *oneConnListener) Addr() net.Addr { return l.conn.LocalAddr() }

type notifyCloseConn struct {
	net.Conn
	once    sync.Once
	onClose func()
}

func (c *notifyCloseConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.onClose)
	return err
}

// proxyURL formats a listener address as a proxy URL.
func proxyURL(addr net.Addr) string {
	return (&url.URL{Scheme: "http", Host: addr.String()}).String()
}
