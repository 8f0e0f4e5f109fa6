package components

import (
	"fmt"
	"path"
	"slices"
	"strings"
)

// Component names, as used by ModuleDir, Status and the cache layout.
const (
	Kubernetes    = "kubernetes"
	Etcd          = "etcd"
	Kwok          = "kwok"
	MetricsServer = "metrics-server"
	KEDA          = "keda"
	SpinOperator  = "spin-operator"
	HTTPAddOn     = "http-add-on"
	Goaws         = "goaws"
)

// Binary names, the keys of Binaries.
const (
	KubeAPIServer         = "kube-apiserver"
	KubeControllerManager = "kube-controller-manager"
	KubeScheduler         = "kube-scheduler"
	Kubectl               = "kubectl"
	EtcdBinary            = "etcd"
	KwokBinary            = "kwok"
	Kwokctl               = "kwokctl"
	MetricsServerBinary   = "metrics-server"
	KEDAOperator          = "keda-operator"
	KEDAAdapter           = "keda-adapter"
	KEDAWebhooks          = "keda-webhooks"
	SpinOperatorBinary    = "spin-operator"
	HTTPAddOnInterceptor  = "http-add-on-interceptor"
	HTTPAddOnScaler       = "http-add-on-scaler"
	HTTPAddOnOperator     = "http-add-on-operator"
	GoawsBinary           = "goaws"
)

type buildMode int

const (
	// scratchModule builds packages of a module that a generated go.mod requires at the pinned version.
	scratchModule buildMode = iota
	// moduleCopy builds inside a writable copy of the module, so that its own go.mod and replaces apply.
	moduleCopy
)

type binarySpec struct {
	name string
	// pkg is an import path (scratchModule) or a path relative to the module root ("./cmd", moduleCopy).
	pkg string
}

type componentSpec struct {
	name     string
	module   string
	mode     buildMode
	binaries []binarySpec
	// stagingReplaces: the scratch module replaces every staging module of k8s.io/kubernetes.
	stagingReplaces bool
	// coldBuild is the measured duration of a build with an empty Go build cache on two idle cores.
	coldBuild string
	// xflags returns the -X settings (importpath.name=value) that make the binaries report their version.
	xflags func(v Versions) []string
}

// specs lists the components in build order: cheap and widely needed ones first.
var specs = []componentSpec{
	{
		name:      Goaws,
		coldBuild: "a few seconds",
		module:    "github.com/Admiral-Piett/goaws",
		mode:      scratchModule,
		binaries:  []binarySpec{{GoawsBinary, "github.com/Admiral-Piett/goaws/app/cmd"}},
	},
	{
		name:      Etcd,
		coldBuild: "about half a minute",
		module:    "go.etcd.io/etcd/server/v3",
		mode:      scratchModule,
		binaries:  []binarySpec{{EtcdBinary, "go.etcd.io/etcd/server/v3"}},
		// etcd's version is a constant of go.etcd.io/etcd/api/v3/version; only GitSHA is an ldflag, unknown here.
	},
	{
		name:      Kubernetes,
		coldBuild: "5–6 minutes",
		module:    "k8s.io/kubernetes",
		mode:      scratchModule,
		binaries: []binarySpec{
			{KubeAPIServer, "k8s.io/kubernetes/cmd/kube-apiserver"},
			{KubeControllerManager, "k8s.io/kubernetes/cmd/kube-controller-manager"},
			{KubeScheduler, "k8s.io/kubernetes/cmd/kube-scheduler"},
			{Kubectl, "k8s.io/kubernetes/cmd/kubectl"},
		},
		stagingReplaces: true,
		xflags:          kubernetesXFlags,
	},
	{
		name:      Kwok,
		coldBuild: "about 2 minutes",
		module:    "sigs.k8s.io/kwok",
		mode:      scratchModule,
		binaries: []binarySpec{
			{KwokBinary, "sigs.k8s.io/kwok/cmd/kwok"},
			{Kwokctl, "sigs.k8s.io/kwok/cmd/kwokctl"},
		},
		xflags: func(v Versions) []string {
			// kwok's release script sets these (hack/releases.sh), without the "v".
			// KubeVersion is the default Kubernetes version kwokctl assumes: make it the one built here.
			return []string{
				"sigs.k8s.io/kwok/pkg/consts.Version=" + strings.TrimPrefix(v.Kwok, "v"),
				"sigs.k8s.io/kwok/pkg/consts.KubeVersion=" + strings.TrimPrefix(v.Kubernetes, "v"),
			}
		},
	},
	{
		name:      MetricsServer,
		coldBuild: "about 2 minutes",
		module:    "sigs.k8s.io/metrics-server",
		mode:      scratchModule,
		binaries:  []binarySpec{{MetricsServerBinary, "sigs.k8s.io/metrics-server/cmd/metrics-server"}},
		xflags: func(v Versions) []string {
			// As metrics-server's Makefile: the client-go version variables.
			return []string{"k8s.io/client-go/pkg/version.gitVersion=" + v.MetricsServer}
		},
	},
	{
		name:      SpinOperator,
		coldBuild: "about 2 minutes",
		module:    "github.com/spinkube/spin-operator",
		mode:      moduleCopy,
		binaries: []binarySpec{
			{SpinOperatorBinary, "./cmd"},
		},
		xflags: func(v Versions) []string {
			return []string{"github.com/prometheus/common/version.Version=" + v.SpinOperator}
		},
	},
	{
		name:      HTTPAddOn,
		coldBuild: "2–3 minutes",
		module:    "github.com/kedacore/http-add-on",
		mode:      moduleCopy,
		binaries: []binarySpec{
			{HTTPAddOnInterceptor, "./interceptor"},
			{HTTPAddOnScaler, "./scaler"},
			{HTTPAddOnOperator, "./operator"},
		},
		xflags: func(v Versions) []string {
			return []string{"github.com/kedacore/http-add-on/pkg/build.version=" + v.HTTPAddOn}
		},
	},
	{
		name:      KEDA,
		coldBuild: "5–6 minutes",
		module:    "github.com/kedacore/keda/v2",
		mode:      moduleCopy,
		binaries: []binarySpec{
			{KEDAOperator, "./cmd/operator"},
			{KEDAAdapter, "./cmd/adapter"},
			{KEDAWebhooks, "./cmd/webhooks"},
		},
		xflags: func(v Versions) []string {
			// KEDA's release images report the version without the "v" ("KEDA Version: 2.20.2").
			return []string{"github.com/kedacore/keda/v2/version.Version=" + strings.TrimPrefix(v.KEDA, "v")}
		},
	},
}

// kubernetesXFlags sets the version variables that kube::version::ldflags sets (hack/lib/version.sh), in both
// component-base and client-go. Without them the binaries report v0.0.0-master+$Format:%H$, which clients
// (kwokctl among them) fail to parse.
func kubernetesXFlags(v Versions) []string {
	major, minor, _, _ := semverParts(v.Kubernetes)
	vars := []string{
		"gitVersion=" + v.Kubernetes,
		"gitMajor=" + major,
		"gitMinor=" + minor,
		"gitTreeState=clean",
	}
	var out []string
	for _, pkg := range []string{"k8s.io/component-base/version", "k8s.io/client-go/pkg/version"} {
		for _, kv := range vars {
			out = append(out, pkg+"."+kv)
		}
	}
	return out
}

// ldflags returns the -ldflags value for a component: stripped binaries plus its version settings.
func (s componentSpec) ldflags(v Versions) string {
	parts := []string{"-s", "-w"}
	if s.xflags != nil {
		for _, x := range s.xflags(v) {
			parts = append(parts, "-X", x)
		}
	}
	return strings.Join(parts, " ")
}

func (s componentSpec) binaryNames() []string {
	names := make([]string, len(s.binaries))
	for i, b := range s.binaries {
		names[i] = b.name
	}
	return names
}

func specFor(component string) (componentSpec, error) {
	for _, s := range specs {
		if s.name == component {
			return s, nil
		}
	}
	return componentSpec{}, fmt.Errorf("components: unknown component %q (known: %s)", component, strings.Join(Components(), ", "))
}

func specOfBinary(binary string) (componentSpec, error) {
	for _, s := range specs {
		if slices.Contains(s.binaryNames(), binary) {
			return s, nil
		}
	}
	return componentSpec{}, fmt.Errorf("components: unknown binary %q (known: %s)", binary, strings.Join(BinaryNames(), ", "))
}

// Components returns the component names in build order.
func Components() []string {
	out := make([]string, len(specs))
	for i, s := range specs {
		out[i] = s.name
	}
	return out
}

// BinaryNames returns every binary name, grouped by component in build order.
func BinaryNames() []string {
	var out []string
	for _, s := range specs {
		out = append(out, s.binaryNames()...)
	}
	return out
}

// goBuildExecName is the file name `go build -o dir/` gives the binary of an import path: the last path
// element, or the one before it when the last is a major version suffix (example.com/cmd/v2 -> cmd).
func goBuildExecName(importPath string) string {
	dir, elem := path.Split(importPath)
	if elem != importPath && isMajorVersionElement(elem) {
		_, elem = path.Split(strings.TrimSuffix(dir, "/"))
	}
	return elem
}

func isMajorVersionElement(s string) bool {
	if len(s) < 2 || s[0] != 'v' || s[1] == '0' || s == "v1" {
		return false
	}
	for _, r := range s[1:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
