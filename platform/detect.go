package platform

import (
	"context"
	"fmt"
	"path"
	"sort"
	"strings"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/release"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/scalebench/scalebench/kube"
)

// Presence is what a cluster has of one component.
type Presence struct {
	Component string `json:"component"`
	// Present: every CRD and APIService marker exists, or a deployed Helm release of the component's chart does.
	Present bool `json:"present"`
	// Version is the release's chart version, else the image tag of the component's first Deployment, else
	// the CRDs' app.kubernetes.io/version label; "" when nothing tells.
	Version string `json:"version,omitempty"`
	// Release and ReleaseNamespace name the Helm release found, if any.
	Release          string `json:"release,omitempty"`
	ReleaseNamespace string `json:"releaseNamespace,omitempty"`
	// RunID is the scalebench run that installed the release ("" when scalebench did not).
	RunID string `json:"runId,omitempty"`
	// Evidence lists what was found; Missing the markers that were not.
	Evidence []string `json:"evidence,omitempty"`
	Missing  []string `json:"missing,omitempty"`
}

// ManagedByScalebench reports whether scalebench installed the component's release (so it may upgrade it).
func (p Presence) ManagedByScalebench() bool { return p.RunID != "" }

// Installed is what a cluster has of a plan's components.
type Installed struct {
	Components []Presence `json:"components"`
}

// Missing names the components that are not present.
func (in Installed) Missing() []string {
	var out []string
	for _, p := range in.Components {
		if !p.Present {
			out = append(out, p.Component)
		}
	}
	return out
}

// Of returns the presence of one component.
func (in Installed) Of(name string) (Presence, bool) {
	for _, p := range in.Components {
		if p.Component == name {
			return p, true
		}
	}
	return Presence{}, false
}

// Versions maps each present component to its version ("unknown" when nothing tells), for a report's
// environment.
func (in Installed) Versions() map[string]string {
	out := map[string]string{}
	for _, p := range in.Components {
		if !p.Present {
			continue
		}
		v := p.Version
		if v == "" {
			v = "unknown"
		}
		out[p.Component] = v
	}
	return out
}

// Write prints one line per component.
func (in Installed) Write(w interface{ Write([]byte) (int, error) }) error {
	var b strings.Builder
	for _, p := range in.Components {
		state := "missing"
		if p.Present {
			state = "present"
			if p.Version != "" {
				state += " " + p.Version
			}
			if p.RunID != "" {
				state += " (installed by scalebench run " + p.RunID + ")"
			}
		}
		fmt.Fprintf(&b, "%s: %s", p.Component, state)
		if len(p.Evidence) > 0 {
			fmt.Fprintf(&b, "; found %s", strings.Join(p.Evidence, ", "))
		}
		if len(p.Missing) > 0 {
			fmt.Fprintf(&b, "; not found %s", strings.Join(p.Missing, ", "))
		}
		b.WriteString("\n")
	}
	_, err := w.Write([]byte(b.String()))
	return err
}

// Detect looks for each of the plan's components on the cluster: its CRDs and APIServices (whoever installed
// them: Helm, kubectl, or an emulated cluster's local processes), a Helm release of its chart in any namespace,
// and its Deployments' images for the version.
func Detect(ctx context.Context, cfg *rest.Config, p Plan) (Installed, error) {
	cl, err := kube.NewClients(cfg)
	if err != nil {
		return Installed{}, fmt.Errorf("platform: detect: %w", err)
	}
	releases, err := listReleases(cfg)
	if err != nil {
		return Installed{}, fmt.Errorf("platform: detect: list Helm releases: %w", err)
	}
	var out Installed
	for _, c := range p.Components {
		pr, err := detectOne(ctx, cl, c, releases)
		if err != nil {
			return out, fmt.Errorf("platform: detect %s: %w", c.Name, err)
		}
		out.Components = append(out.Components, pr)
	}
	return out, nil
}

func listReleases(cfg *rest.Config) ([]*release.Release, error) {
	ac, err := actionConfig(cfg, "", nil, discardLogger())
	if err != nil {
		return nil, err
	}
	l := action.NewList(ac)
	l.AllNamespaces = true
	l.All = true
	return l.Run()
}

// chartName is the chart's own name: the last path element of an OCI reference.
func chartName(c Chart) string {
	if c.OCI() {
		return path.Base(c.Name)
	}
	return c.Name
}

func detectOne(ctx context.Context, cl *kube.Clients, c Component, releases []*release.Release) (Presence, error) {
	pr := Presence{Component: c.Name}
	markers := 0
	crdVersion := ""
	for _, name := range c.CRDs {
		crd, err := cl.Dynamic.Resource(kube.CustomResourceDefinitions).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			pr.Missing = append(pr.Missing, "CRD "+name)
			continue
		}
		if err != nil {
			return pr, fmt.Errorf("CRD %s: %w", name, err)
		}
		markers++
		pr.Evidence = append(pr.Evidence, "CRD "+name)
		if v := crd.GetLabels()["app.kubernetes.io/version"]; v != "" && crdVersion == "" {
			crdVersion = v
		}
	}
	for _, name := range c.APIServices {
		_, err := cl.Dynamic.Resource(kube.APIServices).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			pr.Missing = append(pr.Missing, "APIService "+name)
			continue
		}
		if err != nil {
			return pr, fmt.Errorf("APIService %s: %w", name, err)
		}
		markers++
		pr.Evidence = append(pr.Evidence, "APIService "+name)
	}
	allMarkers := markers == len(c.CRDs)+len(c.APIServices) && markers > 0

	// A Helm release of the component's chart, newest revision first; the one named as planned wins.
	want := chartName(c.Chart)
	var found *release.Release
	sort.SliceStable(releases, func(i, j int) bool { return releases[i].Version > releases[j].Version })
	for _, r := range releases {
		if r.Chart == nil || r.Chart.Metadata == nil || r.Chart.Metadata.Name != want {
			continue
		}
		if r.Info != nil && r.Info.Status == release.StatusUninstalled {
			continue
		}
		if found == nil || (r.Name == c.Release && found.Name != c.Release) {
			found = r
		}
	}
	if found != nil {
		pr.Release, pr.ReleaseNamespace = found.Name, found.Namespace
		pr.Version = strings.TrimPrefix(found.Chart.Metadata.Version, "v")
		pr.RunID = found.Labels[kube.LabelRunID]
		status := "unknown"
		if found.Info != nil {
			status = found.Info.Status.String()
		}
		pr.Evidence = append(pr.Evidence, fmt.Sprintf("Helm release %s/%s (chart %s %s, %s)", found.Namespace, found.Name, want, found.Chart.Metadata.Version, status))
	}
	deployed := found != nil && found.Info != nil && found.Info.Status == release.StatusDeployed
	if len(c.CRDs)+len(c.APIServices) == 0 {
		// No cluster-wide marker (Valkey, LocalStack): only the planned release or Deployment is the
		// component, since its address is derived from where the plan puts it; another Valkey elsewhere
		// is someone else's.
		deployed = deployed && found.Name == c.Release && found.Namespace == c.Namespace
		if len(c.Deployments) > 0 {
			ns, name, _ := strings.Cut(c.Deployments[0], "/")
			_, err := cl.Kube.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
			switch {
			case err == nil:
				allMarkers = true
				pr.Evidence = append(pr.Evidence, "Deployment "+c.Deployments[0])
			case apierrors.IsNotFound(err):
				pr.Missing = append(pr.Missing, "Deployment "+c.Deployments[0])
			default:
				return pr, fmt.Errorf("Deployment %s: %w", c.Deployments[0], err)
			}
		}
	}
	pr.Present = allMarkers || deployed

	if pr.Version == "" && len(c.Deployments) > 0 {
		ns, name, _ := strings.Cut(c.Deployments[0], "/")
		d, err := cl.Kube.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		switch {
		case err == nil:
			if cs := d.Spec.Template.Spec.Containers; len(cs) > 0 {
				pr.Version = imageTag(cs[0].Image)
				pr.Evidence = append(pr.Evidence, "Deployment "+c.Deployments[0]+" ("+cs[0].Image+")")
			}
		case !apierrors.IsNotFound(err):
			return pr, fmt.Errorf("Deployment %s: %w", c.Deployments[0], err)
		}
	}
	if pr.Version == "" {
		pr.Version = strings.TrimPrefix(crdVersion, "v")
	}
	return pr, nil
}

// imageTag is the tag of an image reference without its "v" ("ghcr.io/kedacore/keda:2.20.2" → "2.20.2"), ""
// for a digest-only or untagged reference.
func imageTag(image string) string {
	image, _, _ = strings.Cut(image, "@")
	i := strings.LastIndex(image, ":")
	if i < 0 || strings.Contains(image[i:], "/") {
		return ""
	}
	return strings.TrimPrefix(image[i+1:], "v")
}
