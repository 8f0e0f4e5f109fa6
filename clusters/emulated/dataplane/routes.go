package dataplane

import (
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

// routes is the cluster's service network as the data plane sees it:
// Ingress rules, Services and their EndpointSlices. Handlers are pure state
// updates fed by informers (or tests). Lookups answer
//   - ingress: host + path → Service backend (Traefik's rules);
//   - service: namespace/name + port → ready endpoints (kube-proxy's job),
//     round-robin;
//
// which the ingress and the service-network proxy both use.
type routes struct {
	mu        sync.RWMutex
	ingresses map[string]*networkingv1.Ingress
	services  map[string]*corev1.Service
	// slices by Service key, then by slice name.
	slices map[string]map[string]*discoveryv1.EndpointSlice
	// rr counts picks per Service port, for round-robin.
	rr sync.Map // string → *atomic.Uint64

	// gen counts Service and EndpointSlice changes; cache holds endpoint
	// lists computed at a generation.
	gen     atomic.Uint64
	cacheMu sync.Mutex
	cache   map[string]cachedEndpoints

	// hostRoutes are the KEDA HTTP add-on's routing rules by owner object.
	hostRoutes map[string][]hostRoute
}

type cachedEndpoints struct {
	gen uint64
	eps []endpoint
}

func newRoutes() *routes {
	return &routes{
		ingresses: map[string]*networkingv1.Ingress{},
		services:  map[string]*corev1.Service{},
		slices:    map[string]map[string]*discoveryv1.EndpointSlice{},
		cache:     map[string]cachedEndpoints{},
	}
}

func (t *routes) setIngress(ing *networkingv1.Ingress) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.ingresses[objKey(ing.Namespace, ing.Name)] = ing
}

func (t *routes) deleteIngress(ns, name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.ingresses, objKey(ns, name))
}

func (t *routes) setService(svc *corev1.Service) {
	t.mu.Lock()
	defer t.mu.Unlock()
	defer t.gen.Add(1)
	t.services[objKey(svc.Namespace, svc.Name)] = svc
}

func (t *routes) deleteService(ns, name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	defer t.gen.Add(1)
	delete(t.services, objKey(ns, name))
}

// sliceService is the Service an EndpointSlice belongs to.
func sliceService(s *discoveryv1.EndpointSlice) string {
	return s.Labels[discoveryv1.LabelServiceName]
}

func (t *routes) setSlice(s *discoveryv1.EndpointSlice) {
	t.mu.Lock()
	defer t.mu.Unlock()
	defer t.gen.Add(1)
	// A slice's service label does not change in practice; drop any older
	// entry under another service anyway.
	t.deleteSliceLocked(s.Namespace, s.Name)
	svc := sliceService(s)
	if svc == "" {
		return
	}
	key := objKey(s.Namespace, svc)
	if t.slices[key] == nil {
		t.slices[key] = map[string]*discoveryv1.EndpointSlice{}
	}
	t.slices[key][s.Name] = s
}

func (t *routes) deleteSlice(ns, name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	defer t.gen.Add(1)
	t.deleteSliceLocked(ns, name)
}

func (t *routes) deleteSliceLocked(ns, name string) {
	for key, m := range t.slices {
		if _, ok := m[name]; ok && strings.HasPrefix(key, ns+"/") {
			delete(m, name)
			if len(m) == 0 {
				delete(t.slices, key)
			}
		}
	}
}

// backend is a Service port a request is sent to.
type backend struct {
	Namespace, Service string
	// Port names the Service port: by number, or by name when Number is 0.
	Port networkingv1.ServiceBackendPort
}

func (b backend) String() string {
	p := b.Port.Name
	if b.Port.Number != 0 {
		p = strconv.Itoa(int(b.Port.Number))
	}
	return b.Namespace + "/" + b.Service + ":" + p
}

// match is an ingress rule that matched, ranked as Traefik would.
type match struct {
	backend  backend
	hostRank int // 3 exact host, 2 wildcard host, 1 any host, 0 default backend
	pathLen  int
	exact    bool
	ingress  string
}

func (m match) better(o match) bool {
	if m.hostRank != o.hostRank {
		return m.hostRank > o.hostRank
	}
	if m.pathLen != o.pathLen {
		return m.pathLen > o.pathLen
	}
	if m.exact != o.exact {
		return m.exact
	}
	return m.ingress < o.ingress // stable among equals
}

// normalizeHost lower-cases a Host header and strips its port.
func normalizeHost(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return strings.TrimSuffix(strings.ToLower(host), ".")
}

// hostRank ranks how a rule host matches a request host; 0 is no match.
func hostRank(rule, host string) int {
	switch {
	case rule == "":
		return 1
	case strings.HasPrefix(rule, "*."):
		// A wildcard covers exactly one DNS label.
		suffix := strings.ToLower(rule[1:])
		if strings.HasSuffix(host, suffix) {
			label := strings.TrimSuffix(host, suffix)
			if label != "" && !strings.Contains(label, ".") {
				return 2
			}
		}
		return 0
	case strings.EqualFold(rule, host):
		return 3
	}
	return 0
}

// pathMatches reports whether a rule path matches a request path and how
// long the match is. Prefix matches whole path elements; Traefik treats
// ImplementationSpecific as a plain string prefix.
func pathMatches(pt networkingv1.PathType, rulePath, path string) (int, bool) {
	if rulePath == "" {
		rulePath = "/"
	}
	switch pt {
	case networkingv1.PathTypeExact:
		return len(rulePath), path == rulePath
	case networkingv1.PathTypePrefix:
		p := strings.TrimSuffix(rulePath, "/")
		if p == "" {
			return 1, true
		}
		if path == p || strings.HasPrefix(path, p+"/") {
			return len(p), true
		}
		return 0, false
	default:
		return len(rulePath), strings.HasPrefix(path, rulePath)
	}
}

// routeIngress finds the Service backend for a request. Every Ingress
// counts whatever its class (the emulated cluster has one ingress).
func (t *routes) routeIngress(host, path string) (backend, bool) {
	host = normalizeHost(host)
	if path == "" {
		path = "/"
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	var best match
	found := false
	consider := func(m match) {
		if !found || m.better(best) {
			best, found = m, true
		}
	}
	for key, ing := range t.ingresses {
		for _, rule := range ing.Spec.Rules {
			hr := hostRank(rule.Host, host)
			if hr == 0 || rule.HTTP == nil {
				continue
			}
			for _, p := range rule.HTTP.Paths {
				if p.Backend.Service == nil {
					continue
				}
				pt := networkingv1.PathTypeImplementationSpecific
				if p.PathType != nil {
					pt = *p.PathType
				}
				n, ok := pathMatches(pt, p.Path, path)
				if !ok {
					continue
				}
				consider(match{
					backend:  backend{Namespace: ing.Namespace, Service: p.Backend.Service.Name, Port: p.Backend.Service.Port},
					hostRank: hr, pathLen: n, exact: pt == networkingv1.PathTypeExact, ingress: key,
				})
			}
		}
		if db := ing.Spec.DefaultBackend; db != nil && db.Service != nil {
			consider(match{backend: backend{Namespace: ing.Namespace, Service: db.Service.Name, Port: db.Service.Port}, ingress: key})
		}
	}
	return best.backend, found
}

// endpoint is one ready address behind a Service port.
type endpoint struct {
	IP   string
	Port int32
	// Pod names the pod behind the address, when the slice says.
	Pod string
}

func (e endpoint) String() string { return net.JoinHostPort(e.IP, strconv.Itoa(int(e.Port))) }

// endpoints lists the ready endpoints of a Service port, sorted. The
// result is shared: callers must not modify it.
func (t *routes) endpoints(b backend) []endpoint {
	key := b.String()
	t.cacheMu.Lock()
	c, ok := t.cache[key]
	t.cacheMu.Unlock()
	gen := t.gen.Load()
	if ok && c.gen == gen {
		return c.eps
	}
	eps := t.computeEndpoints(b)
	t.cacheMu.Lock()
	t.cache[key] = cachedEndpoints{gen: gen, eps: eps}
	t.cacheMu.Unlock()
	return eps
}

func (t *routes) computeEndpoints(b backend) []endpoint {
	t.mu.RLock()
	defer t.mu.RUnlock()
	svc := t.services[objKey(b.Namespace, b.Service)]
	if svc == nil {
		return nil
	}
	var sp *corev1.ServicePort
	for k := range svc.Spec.Ports {
		p := &svc.Spec.Ports[k]
		if (b.Port.Number != 0 && p.Port == b.Port.Number) || (b.Port.Number == 0 && p.Name == b.Port.Name) {
			sp = p
			break
		}
	}
	if sp == nil {
		return nil
	}
	var out []endpoint
	for _, s := range t.slices[objKey(b.Namespace, b.Service)] {
		var port int32 = -1
		for _, p := range s.Ports {
			name := ""
			if p.Name != nil {
				name = *p.Name
			}
			if name == sp.Name && p.Port != nil {
				port = *p.Port
				break
			}
		}
		if port < 0 {
			continue
		}
		for _, ep := range s.Endpoints {
			if ep.Conditions.Ready != nil && !*ep.Conditions.Ready {
				continue
			}
			pod := ""
			if ep.TargetRef != nil && ep.TargetRef.Kind == "Pod" {
				pod = ep.TargetRef.Name
			}
			for _, addr := range ep.Addresses {
				out = append(out, endpoint{IP: addr, Port: port, Pod: pod})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].IP != out[j].IP {
			return out[i].IP < out[j].IP
		}
		return out[i].Port < out[j].Port
	})
	return out
}

// pick returns the endpoints of b and where to start trying them:
// round-robin across calls, so successive requests land on successive
// endpoints. The list is shared: callers must not modify it.
func (t *routes) pick(b backend) (eps []endpoint, start int) {
	eps = t.endpoints(b)
	if len(eps) <= 1 {
		return eps, 0
	}
	c, _ := t.rr.LoadOrStore(b.String(), new(atomic.Uint64))
	return eps, int(c.(*atomic.Uint64).Add(1)-1) % len(eps)
}

// hostRoute is one routing rule of the KEDA HTTP add-on (an HTTPScaledObject
// or InterceptorRoute): requests for host and path prefix go to a Service
// port. The service-network proxy needs these because the interceptor's
// proxied requests name the client's Host, not the Service.
type hostRoute struct {
	host   string // exact, "*.suffix", or "*" (any)
	prefix string // path prefix, "" for all
	to     backend
}

// setHostRoutes replaces the rules one object (kind/namespace/name) defines.
func (t *routes) setHostRoutes(owner string, rs []hostRoute) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.hostRoutes == nil {
		t.hostRoutes = map[string][]hostRoute{}
	}
	if len(rs) == 0 {
		delete(t.hostRoutes, owner)
		return
	}
	t.hostRoutes[owner] = rs
}

func (t *routes) deleteHostRoutes(owner string) { t.setHostRoutes(owner, nil) }

// routeHost matches a request the way the add-on's interceptor does: an
// exact host first, then wildcards from the most specific, then "*"; among
// those, the longest path prefix (whole path segments).
func (t *routes) routeHost(host, path string) (backend, bool) {
	b, _, ok := t.routeHostClass(host, path)
	return b, ok
}

// routeHostClass is routeHost that also tells whether only a catch-all
// rule (no hosts, or "*") matched.
func (t *routes) routeHostClass(host, path string) (b backend, catchAll, ok bool) {
	host = normalizeHost(host)
	path = strings.Trim(path, "/")
	t.mu.RLock()
	defer t.mu.RUnlock()
	type score struct{ hostClass, hostLen, pathLen int }
	var best score
	var bestB backend
	bestOwner := ""
	found := false
	for owner, rs := range t.hostRoutes {
		for _, r := range rs {
			var s score
			switch h := strings.ToLower(r.host); {
			case h == host:
				s.hostClass = 3
			case h == "*" || h == "":
				s.hostClass = 1
			case strings.HasPrefix(h, "*.") && strings.HasSuffix(host, h[1:]) && len(host) > len(h)-1:
				s.hostClass, s.hostLen = 2, len(h)
			default:
				continue
			}
			p := strings.Trim(r.prefix, "/")
			if p != "" && path != p && !strings.HasPrefix(path, p+"/") {
				continue
			}
			s.pathLen = len(p)
			better := !found || s.hostClass > best.hostClass ||
				(s.hostClass == best.hostClass && (s.hostLen > best.hostLen ||
					(s.hostLen == best.hostLen && (s.pathLen > best.pathLen ||
						(s.pathLen == best.pathLen && owner < bestOwner)))))
			if better {
				best, bestB, bestOwner, found = s, r.to, owner, true
			}
		}
	}
	return bestB, found && best.hostClass == 1, found
}

// service is a Service by namespace and name.
func (t *routes) service(ns, name string) (*corev1.Service, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	s, ok := t.services[objKey(ns, name)]
	return s, ok
}
