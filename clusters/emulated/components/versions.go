// Package components builds the binaries of the emulated cluster (Kubernetes control plane, etcd, kwok,
// metrics-server, KEDA, spin-operator, the KEDA HTTP add-on and an SQS emulator) from Go module sources,
// and caches them by component and version.
//
// Every component is built with the local Go toolchain in its own module (mixing them in one go.mod
// would downgrade versions): either a scratch module that requires the pinned version, or a writable copy
// of the module itself when its own go.mod and replace directives must apply. Builds are cold once per
// version (minutes on two cores) and never repeated: a finished build is renamed into place atomically
// and recorded in a manifest, and a lock file keeps two processes from building the same thing.
package components

import (
	"fmt"
	"os"
	"regexp"
	"strings"
)

// Versions pins one version per component. Empty fields mean "the default" (see DefaultVersions).
// Versions are Go module versions; a missing leading "v" is added.
type Versions struct {
	Kubernetes    string // k8s.io/kubernetes; staging modules follow as v0.<minor>.<patch>
	Etcd          string // go.etcd.io/etcd/server/v3
	Kwok          string // sigs.k8s.io/kwok
	MetricsServer string // sigs.k8s.io/metrics-server
	KEDA          string // github.com/kedacore/keda/v2
	SpinOperator  string // github.com/spinkube/spin-operator
	HTTPAddOn     string // github.com/kedacore/http-add-on
	Goaws         string // github.com/Admiral-Piett/goaws
}

// Pinned versions: the set measured to work together on the emulated cluster.
const (
	DefaultKubernetesVersion    = "v1.35.4"
	DefaultEtcdVersion          = "v3.5.21"
	DefaultKwokVersion          = "v0.8.0"
	DefaultMetricsServerVersion = "v0.7.2"
	DefaultKEDAVersion          = "v2.20.2"
	DefaultSpinOperatorVersion  = "v0.6.1"
	DefaultHTTPAddOnVersion     = "v0.15.0"
	DefaultGoawsVersion         = "v0.5.4"
)

// Environment variables that override the pinned versions and the cache directory.
const (
	EnvKubernetesVersion    = "SCALEBENCH_KUBERNETES_VERSION"
	EnvEtcdVersion          = "SCALEBENCH_ETCD_VERSION"
	EnvKwokVersion          = "SCALEBENCH_KWOK_VERSION"
	EnvMetricsServerVersion = "SCALEBENCH_METRICS_SERVER_VERSION"
	EnvKEDAVersion          = "SCALEBENCH_KEDA_VERSION"
	EnvSpinOperatorVersion  = "SCALEBENCH_SPIN_OPERATOR_VERSION"
	EnvHTTPAddOnVersion     = "SCALEBENCH_HTTP_ADD_ON_VERSION"
	EnvGoawsVersion         = "SCALEBENCH_GOAWS_VERSION"
	EnvCacheDir             = "SCALEBENCH_CACHE_DIR"
)

// PinnedVersions returns the compiled-in versions, ignoring the environment.
func PinnedVersions() Versions {
	return Versions{
		Kubernetes:    DefaultKubernetesVersion,
		Etcd:          DefaultEtcdVersion,
		Kwok:          DefaultKwokVersion,
		MetricsServer: DefaultMetricsServerVersion,
		KEDA:          DefaultKEDAVersion,
		SpinOperator:  DefaultSpinOperatorVersion,
		HTTPAddOn:     DefaultHTTPAddOnVersion,
		Goaws:         DefaultGoawsVersion,
	}
}

// DefaultVersions returns the pinned versions with the SCALEBENCH_*_VERSION environment overrides applied.
func DefaultVersions() Versions {
	return versionsFromEnv(PinnedVersions(), os.Getenv)
}

func versionsFromEnv(v Versions, getenv func(string) string) Versions {
	set := func(field *string, env string) {
		if s := strings.TrimSpace(getenv(env)); s != "" {
			*field = s
		}
	}
	set(&v.Kubernetes, EnvKubernetesVersion)
	set(&v.Etcd, EnvEtcdVersion)
	set(&v.Kwok, EnvKwokVersion)
	set(&v.MetricsServer, EnvMetricsServerVersion)
	set(&v.KEDA, EnvKEDAVersion)
	set(&v.SpinOperator, EnvSpinOperatorVersion)
	set(&v.HTTPAddOn, EnvHTTPAddOnVersion)
	set(&v.Goaws, EnvGoawsVersion)
	return v
}

// withDefaults fills empty fields from DefaultVersions and normalises every version.
func (v Versions) withDefaults() (Versions, error) {
	d := DefaultVersions()
	fields := []struct {
		name      string
		val, dflt *string
	}{
		{Kubernetes, &v.Kubernetes, &d.Kubernetes},
		{Etcd, &v.Etcd, &d.Etcd},
		{Kwok, &v.Kwok, &d.Kwok},
		{MetricsServer, &v.MetricsServer, &d.MetricsServer},
		{KEDA, &v.KEDA, &d.KEDA},
		{SpinOperator, &v.SpinOperator, &d.SpinOperator},
		{HTTPAddOn, &v.HTTPAddOn, &d.HTTPAddOn},
		{Goaws, &v.Goaws, &d.Goaws},
	}
	for _, f := range fields {
		if *f.val == "" {
			*f.val = *f.dflt
		}
		n, err := normalizeVersion(*f.val)
		if err != nil {
			return v, fmt.Errorf("components: %s version: %w", f.name, err)
		}
		*f.val = n
	}
	return v, nil
}

// Of returns the version pinned for a component ("" for an unknown component).
func (v Versions) Of(component string) string {
	switch component {
	case Kubernetes:
		return v.Kubernetes
	case Etcd:
		return v.Etcd
	case Kwok:
		return v.Kwok
	case MetricsServer:
		return v.MetricsServer
	case KEDA:
		return v.KEDA
	case SpinOperator:
		return v.SpinOperator
	case HTTPAddOn:
		return v.HTTPAddOn
	case Goaws:
		return v.Goaws
	}
	return ""
}

// semverRE accepts release and pre-release module versions; it also keeps versions safe as path elements.
var semverRE = regexp.MustCompile(`^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)

func normalizeVersion(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s != "" && s[0] != 'v' {
		s = "v" + s
	}
	if !semverRE.MatchString(s) {
		return "", fmt.Errorf("%q is not a semantic version like v1.2.3", s)
	}
	return s, nil
}

// semverParts splits a normalised version into major, minor, patch and the rest ("-rc.1+meta").
func semverParts(v string) (major, minor, patch, rest string) {
	m := semverRE.FindStringSubmatch(v)
	if m == nil {
		return "", "", "", ""
	}
	return m[1], m[2], m[3], m[4] + m[5]
}
