// Package platform installs what scenarios need on a real cluster — cert-manager, the Spin operator (its CRDs,
// RuntimeClass and SpinAppExecutor, then its chart), KEDA and the KEDA HTTP add-on, and for keda-sqs Valkey
// and LocalStack — with the Helm Go SDK,
// detects what a cluster already has, and uninstalls exactly what a run installed.
//
// Versions are pinned in one place (Default); Plan says what would be installed, in order, with chart sources,
// versions and values, without touching a cluster; Install upgrades or installs each missing part and waits for
// it to be ready; Uninstall removes only releases and objects labelled with the run's id.
package platform

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
)

// Component names, as used in overrides (--platform-version NAME=VERSION) and reports.
const (
	CertManager  = "cert-manager"
	SpinOperator = "spin-operator"
	KEDA         = "keda"
	HTTPAddOn    = "http-add-on"
	// Valkey (the store) and LocalStack (the SQS queue) are installed only for scenarios that need them
	// (keda-sqs; Options.SQS).
	Valkey     = "valkey"
	LocalStack = "localstack"
)

// Names lists the components in install order.
var Names = []string{CertManager, SpinOperator, KEDA, HTTPAddOn, Valkey, LocalStack}

// SQSNames are the components only keda-sqs needs.
var SQSNames = []string{Valkey, LocalStack}

// Versions pins one release per component: the chart version and, for the Spin operator, its release assets.
// Versions are written without a leading "v" (the cert-manager chart's own "v" is added where it is used).
type Versions struct {
	CertManager  string `json:"certManager"`
	SpinOperator string `json:"spinOperator"`
	KEDA         string `json:"keda"`
	HTTPAddOn    string `json:"httpAddOn"`
	Valkey       string `json:"valkey"`
	LocalStack   string `json:"localstack"`
}

// Pinned versions. KEDA, the Spin operator and the HTTP add-on are the versions the emulated cluster builds
// (clusters/emulated/components), so a real and an emulated run compare the same releases; a test keeps them equal.
const (
	DefaultCertManagerVersion  = "1.21.1"
	DefaultSpinOperatorVersion = "0.6.1"
	DefaultKEDAVersion         = "2.20.2"
	DefaultHTTPAddOnVersion    = "0.15.0"
	// DefaultValkeyVersion is the valkey chart of valkey-io/valkey-helm (tag valkey-0.11.0, appVersion 9.1.1).
	DefaultValkeyVersion = "0.11.0"
	// DefaultLocalStackVersion is LocalStack's official chart (localstack/helm-charts, tag localstack-0.7.0).
	DefaultLocalStackVersion = "0.7.0"
)

// The images the SQS charts run, pinned here rather than left to the charts: valkey's chart takes its
// appVersion, LocalStack's defaults to localstack-pro:latest, which needs an auth token.
const (
	ValkeyImageRepository = "valkey/valkey"
	ValkeyImageTag        = "9.1.1"
	// LocalStackImageRepository and LocalStackImageTag: the last LocalStack release that starts without an
	// auth token.
	LocalStackImageRepository = "localstack/localstack"
	LocalStackImageTag        = "4.14.0"
	// LocalStackImage is the image as one reference (also what clusters/sqsbackend runs in Docker).
	LocalStackImage = LocalStackImageRepository + ":" + LocalStackImageTag
)

// Environment variables that override the pinned versions. KEDA, the Spin operator and the HTTP add-on share
// theirs with the emulated cluster's component builds, so one setting moves both.
const (
	EnvCertManagerVersion  = "SCALEBENCH_CERT_MANAGER_VERSION"
	EnvSpinOperatorVersion = "SCALEBENCH_SPIN_OPERATOR_VERSION"
	EnvKEDAVersion         = "SCALEBENCH_KEDA_VERSION"
	EnvHTTPAddOnVersion    = "SCALEBENCH_HTTP_ADD_ON_VERSION"
	EnvValkeyVersion       = "SCALEBENCH_VALKEY_VERSION"
	EnvLocalStackVersion   = "SCALEBENCH_LOCALSTACK_VERSION"
)

// Pinned returns the compiled-in versions, ignoring the environment.
func Pinned() Versions {
	return Versions{
		CertManager:  DefaultCertManagerVersion,
		SpinOperator: DefaultSpinOperatorVersion,
		KEDA:         DefaultKEDAVersion,
		HTTPAddOn:    DefaultHTTPAddOnVersion,
		Valkey:       DefaultValkeyVersion,
		LocalStack:   DefaultLocalStackVersion,
	}
}

// Default returns the pinned versions with the SCALEBENCH_*_VERSION environment overrides applied. An invalid
// environment value is kept as given, so Plan reports it with the variable's component name.
func Default() Versions { return fromEnv(Pinned(), os.Getenv) }

func fromEnv(v Versions, getenv func(string) string) Versions {
	for _, n := range Names {
		if s := strings.TrimSpace(getenv(envOf(n))); s != "" {
			*v.field(n) = s
		}
	}
	return v
}

func envOf(name string) string {
	switch name {
	case CertManager:
		return EnvCertManagerVersion
	case SpinOperator:
		return EnvSpinOperatorVersion
	case KEDA:
		return EnvKEDAVersion
	case HTTPAddOn:
		return EnvHTTPAddOnVersion
	case Valkey:
		return EnvValkeyVersion
	case LocalStack:
		return EnvLocalStackVersion
	}
	return ""
}

func (v *Versions) field(name string) *string {
	switch name {
	case CertManager:
		return &v.CertManager
	case SpinOperator:
		return &v.SpinOperator
	case KEDA:
		return &v.KEDA
	case HTTPAddOn:
		return &v.HTTPAddOn
	case Valkey:
		return &v.Valkey
	case LocalStack:
		return &v.LocalStack
	}
	return nil
}

// Of returns the version of a component ("" for an unknown name).
func (v Versions) Of(name string) string {
	if p := v.field(name); p != nil {
		return *p
	}
	return ""
}

// Set overrides one component's version from "NAME=VERSION" (as the --platform-version flag takes it).
func (v *Versions) Set(override string) error {
	name, ver, ok := strings.Cut(override, "=")
	if !ok {
		return fmt.Errorf("platform version %q: want NAME=VERSION (names: %s)", override, strings.Join(Names, ", "))
	}
	name = strings.TrimSpace(name)
	p := v.field(name)
	if p == nil {
		return fmt.Errorf("platform version %q: unknown component %q (allowed: %s)", override, name, strings.Join(Names, ", "))
	}
	n, err := normalize(ver)
	if err != nil {
		return fmt.Errorf("platform version %s: %w", name, err)
	}
	*p = n
	return nil
}

// Validate normalises every version ("v2.20.2" → "2.20.2", empty → pinned) and names the first invalid one.
func (v Versions) Validate() (Versions, error) {
	pinned := Pinned()
	for _, n := range Names {
		p := v.field(n)
		if strings.TrimSpace(*p) == "" {
			*p = pinned.Of(n)
		}
		s, err := normalize(*p)
		if err != nil {
			hint := ""
			if e := envOf(n); os.Getenv(e) != "" {
				hint = " (from " + e + ")"
			}
			return v, fmt.Errorf("platform version %s%s: %w", n, hint, err)
		}
		*p = s
	}
	return v, nil
}

var semverRE = regexp.MustCompile(`^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)

func normalize(s string) (string, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "v")
	if !semverRE.MatchString(s) {
		return "", fmt.Errorf("%q is not a semantic version like 1.2.3", s)
	}
	return s, nil
}

// known reports whether name is a component name.
func known(name string) bool { return slices.Contains(Names, name) }
