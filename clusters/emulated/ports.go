package emulated

import (
	"fmt"
	"maps"
	"net"
	"strconv"
)

// loopback is the address of port on 127.0.0.1.
func loopback(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }

// portAllocator hands out distinct free TCP ports on 127.0.0.1, asked for by
// name: ports.Get("keda-operator-grpc"). Each port is held by a listener
// until Release, so no two names get the same one; another process may
// still take a port between Release and its use, which surfaces as a start
// failure with the port in the component's log.
type portAllocator struct {
	held  []net.Listener
	ports map[string]int
	err   error
}

func newPortAllocator() *portAllocator { return &portAllocator{ports: map[string]int{}} }

// Get returns the port of name, picking a free one the first time the name
// is asked for. After a failure it returns 0 and Err says why.
func (a *portAllocator) Get(name string) int {
	if p, ok := a.ports[name]; ok || a.err != nil {
		return p
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		a.err = fmt.Errorf("pick a free loopback port for %s: %w", name, err)
		return 0
	}
	a.held = append(a.held, l)
	p := l.Addr().(*net.TCPAddr).Port
	a.ports[name] = p
	return p
}

// Err is the first failure of Get.
func (a *portAllocator) Err() error { return a.err }

// Ports are the ports handed out, by name.
func (a *portAllocator) Ports() map[string]int { return maps.Clone(a.ports) }

// Release closes the listeners that held the ports, so their processes can
// bind them.
func (a *portAllocator) Release() {
	for _, l := range a.held {
		l.Close()
	}
	a.held = nil
}

// freePort returns one free TCP port on 127.0.0.1 (for a process started
// after the cluster, such as goaws or Redis).
func freePort(name string) (int, error) {
	a := newPortAllocator()
	defer a.Release()
	p := a.Get(name)
	return p, a.Err()
}

// clusterPorts are the loopback ports of every process the cluster starts.
type clusterPorts struct {
	kwokctl                kwokctlPorts
	keda                   kedaPorts
	spinProbe, spinMetrics int
	addOn                  httpAddOnPorts
	// proxy is the data plane's service-network proxy: the KEDA operator
	// and the add-on get its URL as HTTP_PROXY when they start, before the
	// data plane listens there.
	proxy int
}

// pickClusterPorts picks every port of clusterPorts by name and returns the
// names with them (for the log).
func pickClusterPorts() (clusterPorts, map[string]int, error) {
	a := newPortAllocator()
	defer a.Release()
	p := clusterPorts{
		kwokctl: kwokctlPorts{
			APIServer:         a.Get("kube-apiserver"),
			Etcd:              a.Get("etcd"),
			EtcdPeer:          a.Get("etcd-peer"),
			KwokController:    a.Get("kwok-controller"),
			MetricsServer:     a.Get("metrics-server"),
			ControllerManager: a.Get("kube-controller-manager"),
			Scheduler:         a.Get("kube-scheduler"),
		},
		keda: kedaPorts{
			OperatorMetrics: a.Get("keda-operator-metrics"),
			OperatorProbe:   a.Get("keda-operator-probe"),
			OperatorGRPC:    a.Get("keda-operator-grpc"),
			AdapterSecure:   a.Get("keda-adapter-secure"),
			AdapterMetrics:  a.Get("keda-adapter-metrics"),
			Webhooks:        a.Get("keda-webhooks"),
			WebhooksMetrics: a.Get("keda-webhooks-metrics"),
			WebhooksProbe:   a.Get("keda-webhooks-probe"),
		},
		spinProbe:   a.Get("spin-operator-probe"),
		spinMetrics: a.Get("spin-operator-metrics"),
		addOn: httpAddOnPorts{
			OperatorProbe:      a.Get("http-add-on-operator-probe"),
			OperatorMetrics:    a.Get("http-add-on-operator-metrics"),
			ScalerGRPC:         a.Get("http-add-on-scaler-grpc"),
			ScalerMetrics:      a.Get("http-add-on-scaler-metrics"),
			InterceptorProxy:   a.Get("http-add-on-interceptor-proxy"),
			InterceptorAdmin:   a.Get("http-add-on-interceptor-admin"),
			InterceptorMetrics: a.Get("http-add-on-interceptor-metrics"),
		},
		proxy: a.Get("service-network-proxy"),
	}
	if err := a.Err(); err != nil {
		return clusterPorts{}, nil, err
	}
	return p, a.Ports(), nil
}
