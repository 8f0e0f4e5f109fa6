package platform

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"
)

// Chart is where a component's Helm chart comes from: a chart repository URL and the chart's name in it, or
// (Repo empty) an OCI reference "oci://host/path/name".
type Chart struct {
	Repo    string `json:"repo,omitempty"`
	Name    string `json:"name"`
	Version string `json:"version"`
}

func (c Chart) String() string {
	if c.Repo == "" {
		return c.Name + ":" + c.Version
	}
	return c.Name + " " + c.Version + " from " + c.Repo
}

// OCI reports whether the chart is pulled from an OCI registry.
func (c Chart) OCI() bool { return c.Repo == "" && strings.HasPrefix(c.Name, "oci://") }

// Component is one part of the platform: manifests applied before its chart, the chart, and the markers that
// tell whether a cluster already has it.
type Component struct {
	Name      string `json:"name"`
	Version   string `json:"version"`
	Release   string `json:"release"`
	Namespace string `json:"namespace"`
	Chart     Chart  `json:"chart"`
	// Values are the chart values scalebench sets (everything else is the chart's default).
	Values map[string]any `json:"values,omitempty"`
	// Manifests are URLs of YAML streams applied, in order, before the chart (the Spin operator's CRDs,
	// RuntimeClass and SpinAppExecutor).
	Manifests []string `json:"manifests,omitempty"`
	// CRDs and APIServices whose presence means a cluster has the component (whoever installed it).
	CRDs        []string `json:"crds,omitempty"`
	APIServices []string `json:"apiServices,omitempty"`
	// Deployments ("namespace/name") the component runs; the first one's image tag is its version when no
	// Helm release says it. A component without CRDs and APIServices (Valkey, LocalStack) is present when
	// its first Deployment exists or its release is deployed in its own namespace under its own name.
	Deployments []string `json:"deployments,omitempty"`
	// Images are the images scalebench pins in the values (the others are the chart's own).
	Images []string `json:"images,omitempty"`
}

// Where Valkey and LocalStack run, and their addresses for pods and KEDA.
const (
	SQSNamespace      = "scalebench-sqs"
	ValkeyRelease     = "valkey"
	LocalStackRelease = "localstack"
	ValkeyPort        = 6379
	LocalStackPort    = 4566
	// ValkeyClusterAddr is host:port of the store for pods.
	ValkeyClusterAddr = ValkeyRelease + "." + SQSNamespace + ".svc.cluster.local:6379"
	// LocalStackClusterEndpoint is the SQS endpoint for pods and KEDA.
	LocalStackClusterEndpoint = "http://" + LocalStackRelease + "." + SQSNamespace + ".svc.cluster.local:4566"
)

// Plan is what Install would do, in order.
type Plan struct {
	Versions   Versions    `json:"versions"`
	Components []Component `json:"components"`
}

// Options shape a Plan.
type Options struct {
	// Versions of the components; zero fields take Default().
	Versions Versions
	// Only restricts the plan to these components (nil: all but the SQS ones unless SQS), in install order.
	Only []string
	// SQS adds Valkey and LocalStack (SQSNames), which only keda-sqs needs.
	SQS bool
	// Charts replaces a component's chart source (name or repository; an empty Version keeps the pinned one).
	Charts map[string]Chart
	// Values are merged over a component's values (maps merge, anything else replaces).
	Values map[string]map[string]any
	// SpinOperatorAssets is the base URL of the Spin operator's release assets (crds, runtime class, executor);
	// "" is the GitHub release of the pinned version.
	SpinOperatorAssets string
}

// Upstream locations.
const (
	JetstackRepo        = "https://charts.jetstack.io"
	KEDARepo            = "https://kedacore.github.io/charts"
	ValkeyRepo          = "https://valkey.io/valkey-helm/"
	LocalStackRepo      = "https://localstack.github.io/helm-charts"
	SpinOperatorChart   = "oci://ghcr.io/spinframework/charts/spin-operator"
	spinOperatorRelease = "https://github.com/spinframework/spin-operator/releases/download/v%s/"
)

// NewPlan builds the plan for opts: every component (or opts.Only), in install order, with versions and values.
// An invalid version or an unknown component name is an error naming it and the allowed values.
func NewPlan(opts Options) (Plan, error) {
	v := opts.Versions
	d := Default()
	for _, n := range Names {
		if p := v.field(n); *p == "" {
			*p = d.Of(n)
		}
	}
	v, err := v.Validate()
	if err != nil {
		return Plan{}, err
	}
	for _, n := range opts.Only {
		if !known(n) {
			return Plan{}, fmt.Errorf("platform component %q: unknown (allowed: %s)", n, strings.Join(Names, ", "))
		}
	}
	for n := range opts.Charts {
		if !known(n) {
			return Plan{}, fmt.Errorf("platform chart for %q: unknown component (allowed: %s)", n, strings.Join(Names, ", "))
		}
	}
	for n := range opts.Values {
		if !known(n) {
			return Plan{}, fmt.Errorf("platform values for %q: unknown component (allowed: %s)", n, strings.Join(Names, ", "))
		}
	}
	assets := opts.SpinOperatorAssets
	if assets == "" {
		assets = fmt.Sprintf(spinOperatorRelease, v.SpinOperator)
	}
	if !strings.HasSuffix(assets, "/") {
		assets += "/"
	}
	all := []Component{
		{
			Name: CertManager, Version: v.CertManager, Release: "cert-manager", Namespace: "cert-manager",
			Chart: Chart{Repo: JetstackRepo, Name: "cert-manager", Version: "v" + v.CertManager},
			// The chart installs its CRDs; crds.keep=false lets Uninstall remove them with the release
			// scalebench installed (it never uninstalls a cert-manager it did not install).
			Values:      map[string]any{"crds": map[string]any{"enabled": true, "keep": false}},
			CRDs:        []string{"certificates.cert-manager.io", "issuers.cert-manager.io", "clusterissuers.cert-manager.io"},
			Deployments: []string{"cert-manager/cert-manager", "cert-manager/cert-manager-webhook", "cert-manager/cert-manager-cainjector"},
		},
		{
			Name: SpinOperator, Version: v.SpinOperator, Release: "spin-operator", Namespace: "spin-operator",
			Chart: Chart{Name: SpinOperatorChart, Version: v.SpinOperator},
			// The chart ships no CRDs: the release's assets are applied first, as the SpinKube docs do.
			Manifests: []string{
				assets + "spin-operator.crds.yaml",
				assets + "spin-operator.runtime-class.yaml",
				assets + "spin-operator.shim-executor.yaml",
			},
			CRDs:        []string{"spinapps.core.spinkube.dev", "spinappexecutors.core.spinkube.dev"},
			Deployments: []string{"spin-operator/spin-operator-controller-manager"},
		},
		{
			Name: KEDA, Version: v.KEDA, Release: "keda", Namespace: "keda",
			Chart:       Chart{Repo: KEDARepo, Name: "keda", Version: v.KEDA},
			CRDs:        []string{"scaledobjects.keda.sh", "triggerauthentications.keda.sh"},
			APIServices: []string{"v1beta1.external.metrics.k8s.io"},
			Deployments: []string{"keda/keda-operator", "keda/keda-operator-metrics-apiserver", "keda/keda-admission-webhooks"},
		},
		{
			Name: HTTPAddOn, Version: v.HTTPAddOn, Release: "http-add-on", Namespace: "keda",
			Chart:       Chart{Repo: KEDARepo, Name: "keda-add-ons-http", Version: v.HTTPAddOn},
			CRDs:        []string{"httpscaledobjects.http.keda.sh", "interceptorroutes.http.keda.sh"},
			Deployments: []string{"keda/keda-add-ons-http-interceptor", "keda/keda-add-ons-http-external-scaler", "keda/keda-add-ons-http-controller-manager"},
		},
		{
			Name: Valkey, Version: v.Valkey, Release: ValkeyRelease, Namespace: SQSNamespace,
			Chart: Chart{Repo: ValkeyRepo, Name: "valkey", Version: v.Valkey},
			// No password and no volume: the store lives as long as the release, like the emulated
			// cluster's redis-server.
			Values: map[string]any{
				"fullnameOverride": ValkeyRelease,
				"image":            map[string]any{"repository": ValkeyImageRepository, "tag": ValkeyImageTag},
				"auth":             map[string]any{"enabled": false},
				"dataStorage":      map[string]any{"enabled": false},
			},
			Images:      []string{"docker.io/" + ValkeyImageRepository + ":" + ValkeyImageTag},
			Deployments: []string{SQSNamespace + "/" + ValkeyRelease},
		},
		{
			Name: LocalStack, Version: v.LocalStack, Release: LocalStackRelease, Namespace: SQSNamespace,
			Chart: Chart{Repo: LocalStackRepo, Name: "localstack", Version: v.LocalStack},
			// SQS only; queue URLs name the Service (SQS_ENDPOINT_STRATEGY off, LOCALSTACK_HOST), so the
			// harness, KEDA and the app agree on them; the app's image names http://localstack:4566/…, and
			// LocalStack finds a queue by the URL's path.
			Values: map[string]any{
				"fullnameOverride": LocalStackRelease,
				"image":            map[string]any{"repository": LocalStackImageRepository, "tag": LocalStackImageTag},
				"service":          map[string]any{"type": "ClusterIP"},
				"startServices":    "sqs",
				"extraEnvVars": []any{
					map[string]any{"name": "SQS_ENDPOINT_STRATEGY", "value": "off"},
					map[string]any{"name": "LOCALSTACK_HOST", "value": LocalStackRelease + "." + SQSNamespace + ".svc.cluster.local:4566"},
				},
			},
			Images:      []string{"docker.io/" + LocalStackImage},
			Deployments: []string{SQSNamespace + "/" + LocalStackRelease},
		},
	}
	p := Plan{Versions: v}
	for _, c := range all {
		if opts.Only != nil && !slices.Contains(opts.Only, c.Name) {
			continue
		}
		if opts.Only == nil && !opts.SQS && slices.Contains(SQSNames, c.Name) {
			continue
		}
		if ch, ok := opts.Charts[c.Name]; ok {
			if ch.Version == "" {
				ch.Version = c.Chart.Version
			}
			c.Chart = ch
		}
		if extra, ok := opts.Values[c.Name]; ok {
			c.Values = mergeValues(c.Values, extra)
		}
		p.Components = append(p.Components, c)
	}
	return p, nil
}

// mergeValues merges b over a (maps recursively, anything else replaces) into a new map.
func mergeValues(a, b map[string]any) map[string]any {
	out := maps.Clone(a)
	if out == nil {
		out = map[string]any{}
	}
	for k, bv := range b {
		if bm, ok := bv.(map[string]any); ok {
			if am, ok := out[k].(map[string]any); ok {
				out[k] = mergeValues(am, bm)
				continue
			}
		}
		out[k] = bv
	}
	return out
}

// Component returns the plan's component of that name.
func (p Plan) Component(name string) (Component, bool) {
	for _, c := range p.Components {
		if c.Name == name {
			return c, true
		}
	}
	return Component{}, false
}

// Write prints the plan for people: each component in install order with its release, chart, values and the
// manifests applied before it.
func (p Plan) Write(w io.Writer) error {
	var b strings.Builder
	for i, c := range p.Components {
		fmt.Fprintf(&b, "%d. %s %s: Helm release %q in namespace %q (upgrade or install, wait until ready)\n", i+1, c.Name, c.Version, c.Release, c.Namespace)
		fmt.Fprintf(&b, "   chart: %s\n", c.Chart)
		for _, m := range c.Manifests {
			fmt.Fprintf(&b, "   before the chart, apply: %s\n", m)
		}
		for _, im := range c.Images {
			fmt.Fprintf(&b, "   image: %s\n", im)
		}
		if len(c.Values) == 0 {
			b.WriteString("   values: the chart's defaults\n")
		} else {
			y, err := yaml.Marshal(c.Values)
			if err != nil {
				return fmt.Errorf("platform plan: %s values: %w", c.Name, err)
			}
			b.WriteString("   values:\n")
			for _, l := range strings.Split(strings.TrimRight(string(y), "\n"), "\n") {
				b.WriteString("     " + l + "\n")
			}
		}
		var markers []string
		markers = append(markers, c.CRDs...)
		markers = append(markers, c.APIServices...)
		if len(markers) == 0 && len(c.Deployments) > 0 {
			markers = append(markers, "Deployment "+c.Deployments[0])
		}
		if len(markers) > 0 {
			fmt.Fprintf(&b, "   skipped when the cluster already has: %s\n", strings.Join(markers, ", "))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
