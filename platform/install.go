package platform

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/registry"
	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage/driver"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"

	"github.com/scalebench/scalebench/kube"
)

// DefaultTimeout bounds each component's install and readiness wait.
const DefaultTimeout = 5 * time.Minute

// Installer installs and uninstalls a plan's components on one cluster, labelling everything with its run id.
type Installer struct {
	// Config reaches the cluster's API server.
	Config *rest.Config
	// RunID labels the Helm releases, namespaces and manifests the installer creates (kube.LabelRunID);
	// Uninstall removes only what carries it. Required.
	RunID string
	// Sources say how charts are fetched.
	Sources Sources
	// Timeout bounds each component's install and readiness wait; 0 is DefaultTimeout.
	Timeout time.Duration
	// HTTPClient fetches manifests (the Spin operator's release assets); nil is http.DefaultClient.
	HTTPClient *http.Client
	// Logger receives structured logs; nil discards them.
	Logger *slog.Logger
	// Progress, when non-nil, receives one human line per step.
	Progress io.Writer

	// applied are the manifest objects this installer applied, for Uninstall.
	applied map[string][]*unstructured.Unstructured
}

// Action is what Install did with a component.
type Action string

const (
	ActionInstalled Action = "installed"
	ActionUpgraded  Action = "upgraded"
	ActionSkipped   Action = "skipped"
)

// Outcome is what Install did with one component and why.
type Outcome struct {
	Component string `json:"component"`
	Action    Action `json:"action"`
	Version   string `json:"version,omitempty"`
	Detail    string `json:"detail,omitempty"`
}

func (in *Installer) log() *slog.Logger {
	if in.Logger == nil {
		return discardLogger()
	}
	return in.Logger
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func (in *Installer) progressf(format string, args ...any) {
	if in.Progress != nil {
		fmt.Fprintf(in.Progress, "platform: "+format+"\n", args...)
	}
}

func (in *Installer) timeout() time.Duration {
	if in.Timeout > 0 {
		return in.Timeout
	}
	return DefaultTimeout
}

// Install installs, in plan order, every component the cluster does not have, and upgrades those a
// scalebench run installed before; a component present but not installed by scalebench is left as it is
// (ActionSkipped). Each installed component is waited for until ready, within Timeout; a component that is not
// ready fails the install with an error naming its release and the objects that are not ready, with their
// pods' states and warning events.
func (in *Installer) Install(ctx context.Context, p Plan) ([]Outcome, error) {
	if in.RunID == "" {
		return nil, errors.New("platform: install: no run id to label what is installed")
	}
	cl, err := kube.NewClients(in.Config)
	if err != nil {
		return nil, fmt.Errorf("platform: install: %w", err)
	}
	reg, err := in.Sources.registryClient()
	if err != nil {
		return nil, fmt.Errorf("platform: install: registry client: %w", err)
	}
	have, err := Detect(ctx, in.Config, p)
	if err != nil {
		return nil, err
	}
	var out []Outcome
	for _, c := range p.Components {
		pr, _ := have.Of(c.Name)
		if pr.Present && !pr.ManagedByScalebench() {
			d := "already present (" + strings.Join(pr.Evidence, ", ") + "), not installed by scalebench: left as it is"
			in.log().Info("platform component skipped", "component", c.Name, "why", d)
			in.progressf("%s %s", c.Name, d)
			out = append(out, Outcome{Component: c.Name, Action: ActionSkipped, Version: pr.Version, Detail: d})
			continue
		}
		start := time.Now()
		act, err := in.installOne(ctx, cl, reg, c)
		if err != nil {
			return out, err
		}
		d := fmt.Sprintf("release %s/%s ready in %s", c.Namespace, c.Release, time.Since(start).Round(100*time.Millisecond))
		in.progressf("%s %s %s: %s", c.Name, c.Version, act, d)
		out = append(out, Outcome{Component: c.Name, Action: act, Version: c.Version, Detail: d})
	}
	return out, nil
}

func (in *Installer) labels() map[string]string {
	return map[string]string{kube.LabelRunID: in.RunID, kube.LabelManagedBy: kube.ManagedBy}
}

func (in *Installer) installOne(ctx context.Context, cl *kube.Clients, reg *registry.Client, c Component) (Action, error) {
	ctx, cancel := context.WithTimeoutCause(ctx, in.timeout(), fmt.Errorf("platform: %s: timeout %s", c.Name, in.timeout()))
	defer cancel()
	if err := in.ensureNamespace(ctx, cl, c.Namespace); err != nil {
		return "", fmt.Errorf("platform: %s: namespace %s: %w", c.Name, c.Namespace, err)
	}
	for _, u := range c.Manifests {
		if err := in.applyManifest(ctx, cl, c, u); err != nil {
			return "", fmt.Errorf("platform: %s: %w", c.Name, err)
		}
	}
	in.progressf("%s: fetching chart %s", c.Name, c.Chart)
	ch, err := fetchChart(ctx, c.Chart, reg)
	if err != nil {
		return "", fmt.Errorf("platform: %s: %w", c.Name, err)
	}
	ac, err := actionConfig(in.Config, c.Namespace, reg, in.log())
	if err != nil {
		return "", fmt.Errorf("platform: %s: helm: %w", c.Name, err)
	}
	hist := action.NewHistory(ac)
	hist.Max = 1
	var rel *release.Release
	var act Action
	prev, err := hist.Run(c.Release)
	switch {
	case errors.Is(err, driver.ErrReleaseNotFound):
		i := action.NewInstall(ac)
		i.ReleaseName, i.Namespace, i.Labels, i.Timeout = c.Release, c.Namespace, in.labels(), in.timeout()
		i.Version = c.Chart.Version
		in.progressf("%s: helm install %s %s in %s", c.Name, c.Release, c.Chart.Version, c.Namespace)
		rel, err = i.RunWithContext(ctx, ch, c.Values)
		act = ActionInstalled
	case err != nil:
		return "", fmt.Errorf("platform: %s: release %q history: %w", c.Name, c.Release, err)
	default:
		if last := prev[len(prev)-1]; last.Labels[kube.LabelRunID] == "" {
			return "", fmt.Errorf("platform: %s: release %s/%s exists and was not installed by scalebench: not changing it", c.Name, c.Namespace, c.Release)
		}
		u := action.NewUpgrade(ac)
		u.Namespace, u.Labels, u.Timeout, u.MaxHistory = c.Namespace, in.labels(), in.timeout(), 5
		u.Version = c.Chart.Version
		in.progressf("%s: helm upgrade %s %s in %s", c.Name, c.Release, c.Chart.Version, c.Namespace)
		rel, err = u.RunWithContext(ctx, c.Release, ch, c.Values)
		act = ActionUpgraded
	}
	if err != nil {
		return "", fmt.Errorf("platform: %s: release %s/%s: %w", c.Name, c.Namespace, c.Release, err)
	}
	in.log().Info("platform release applied", "component", c.Name, "release", c.Release, "namespace", c.Namespace, "revision", rel.Version, "action", act)
	in.progressf("%s: waiting for release %s to be ready", c.Name, c.Release)
	if err := waitReady(ctx, ac, cl, rel); err != nil {
		return "", fmt.Errorf("platform: %s: %w", c.Name, err)
	}
	return act, nil
}

// ensureNamespace creates the namespace, labelled with the run id, unless it exists (then it is left alone,
// and Uninstall will not delete it).
func (in *Installer) ensureNamespace(ctx context.Context, cl *kube.Clients, ns string) error {
	_, err := cl.Kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if err == nil {
		return nil
	}
	if !apierrors.IsNotFound(err) {
		return err
	}
	_, err = cl.Kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: in.labels()}}, metav1.CreateOptions{FieldManager: kube.FieldManager})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

// fetchManifest downloads and decodes a YAML stream.
func (in *Installer) fetchManifest(ctx context.Context, url string) ([]*unstructured.Unstructured, error) {
	hc := in.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch %s: %s", url, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", url, err)
	}
	objs, err := kube.DecodeYAML(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", url, err)
	}
	return objs, nil
}

// applyManifest applies a manifest's objects, skipping each object that exists without scalebench's label
// (it belongs to someone else and is not changed).
func (in *Installer) applyManifest(ctx context.Context, cl *kube.Clients, c Component, url string) error {
	objs, err := in.fetchManifest(ctx, url)
	if err != nil {
		return err
	}
	in.progressf("%s: applying %d objects from %s", c.Name, len(objs), url)
	for _, o := range objs {
		ri, err := cl.Resource(o)
		if err != nil {
			return fmt.Errorf("apply %s from %s: %w", kube.Describe(o), url, err)
		}
		live, err := ri.Get(ctx, o.GetName(), metav1.GetOptions{})
		switch {
		case err == nil && live.GetLabels()[kube.LabelRunID] == "":
			in.log().Info("platform object exists, not created by scalebench: left as it is", "component", c.Name, "object", kube.Describe(o))
			continue
		case err != nil && !apierrors.IsNotFound(err):
			return fmt.Errorf("apply %s from %s: %w", kube.Describe(o), url, err)
		}
		if err := cl.Apply(ctx, in.RunID, o); err != nil {
			return fmt.Errorf("%w (from %s)", err, url)
		}
		if in.applied == nil {
			in.applied = map[string][]*unstructured.Unstructured{}
		}
		in.applied[c.Name] = append(in.applied[c.Name], o)
		// A CRD must be served before objects of its kind are applied.
		if o.GetKind() == "CustomResourceDefinition" {
			if err := waitCRD(ctx, cl, o.GetName()); err != nil {
				return err
			}
		}
	}
	return nil
}

func waitCRD(ctx context.Context, cl *kube.Clients, name string) error {
	return kube.Poll(ctx, 200*time.Millisecond, "CRD "+name+" established", func(ctx context.Context) (bool, string, error) {
		crd, err := cl.Dynamic.Resource(kube.CustomResourceDefinitions).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err.Error(), nil
		}
		conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
		for _, c := range conds {
			m, _ := c.(map[string]any)
			if m["type"] == "Established" && m["status"] == "True" {
				cl.Mapper.Reset()
				return true, "", nil
			}
		}
		return false, "not established", nil
	})
}

// Uninstall removes, in reverse plan order, the Helm releases, manifest objects and namespaces labelled with
// this installer's run id, and nothing else. Errors are joined; every component is attempted.
func (in *Installer) Uninstall(ctx context.Context, p Plan) error {
	if in.RunID == "" {
		return errors.New("platform: uninstall: no run id")
	}
	cl, err := kube.NewClients(in.Config)
	if err != nil {
		return fmt.Errorf("platform: uninstall: %w", err)
	}
	var errs []error
	namespaces := map[string]bool{}
	for i := len(p.Components) - 1; i >= 0; i-- {
		c := p.Components[i]
		namespaces[c.Namespace] = true
		if err := in.uninstallOne(ctx, cl, c); err != nil {
			errs = append(errs, fmt.Errorf("platform: uninstall %s: %w", c.Name, err))
		}
	}
	for ns := range namespaces {
		n, err := cl.Kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("platform: uninstall: namespace %s: %w", ns, err))
			continue
		}
		if n.Labels[kube.LabelRunID] != in.RunID {
			continue
		}
		if err := cl.Kube.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("platform: uninstall: namespace %s: %w", ns, err))
		}
	}
	return errors.Join(errs...)
}

func (in *Installer) uninstallOne(ctx context.Context, cl *kube.Clients, c Component) error {
	ac, err := actionConfig(in.Config, c.Namespace, nil, in.log())
	if err != nil {
		return err
	}
	var errs []error
	hist := action.NewHistory(ac)
	hist.Max = 1
	prev, err := hist.Run(c.Release)
	ours := false // the release was installed by this run, so were its manifests
	switch {
	case errors.Is(err, driver.ErrReleaseNotFound):
	case err != nil:
		errs = append(errs, fmt.Errorf("release %s/%s: %w", c.Namespace, c.Release, err))
	case prev[len(prev)-1].Labels[kube.LabelRunID] != in.RunID:
		in.log().Info("platform release not installed by this run: left as it is", "release", c.Release, "namespace", c.Namespace, "runId", prev[len(prev)-1].Labels[kube.LabelRunID])
	default:
		ours = true
		u := action.NewUninstall(ac)
		u.Wait, u.Timeout = true, in.timeout()
		in.progressf("%s: helm uninstall %s in %s", c.Name, c.Release, c.Namespace)
		if _, err := u.Run(c.Release); err != nil {
			errs = append(errs, fmt.Errorf("release %s/%s: %w", c.Namespace, c.Release, err))
		}
	}
	// The manifests applied before a chart (the Spin operator's CRDs, RuntimeClass, executor) are known from
	// this installer's own record or, in another process, fetched again, but only when the release is this
	// run's: a component scalebench did not install has nothing of its own to remove, and needs no download.
	objs := in.applied[c.Name]
	if objs == nil && ours && len(c.Manifests) > 0 {
		for _, u := range c.Manifests {
			o, err := in.fetchManifest(ctx, u)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			objs = append(objs, o...)
		}
	}
	for i := len(objs) - 1; i >= 0; i-- {
		o := objs[i]
		ri, err := cl.Resource(o)
		if err != nil {
			continue // its kind is gone: so is the object
		}
		live, err := ri.Get(ctx, o.GetName(), metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", kube.Describe(o), err))
			continue
		}
		if live.GetLabels()[kube.LabelRunID] != in.RunID {
			continue
		}
		if err := ri.Delete(ctx, o.GetName(), metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("delete %s: %w", kube.Describe(o), err))
		}
	}
	return errors.Join(errs...)
}
