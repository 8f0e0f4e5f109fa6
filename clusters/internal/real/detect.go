package real

import (
	"context"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/kube"
)

// Part describes how a platform part is recognised: its CRDs, and its
// controller as a Deployment in the cluster or, for a controller that runs
// outside it (the emulated cluster's local processes), a Service of that name.
type Part struct {
	Name       string
	CRDs       []string
	Namespace  string
	Controller string
}

// Parts are the platform parts scenarios use, in install order.
var Parts = []Part{
	{Name: "cert-manager", CRDs: []string{"certificates.cert-manager.io", "issuers.cert-manager.io"}, Namespace: "cert-manager", Controller: "cert-manager"},
	{Name: "spin-operator", CRDs: []string{"spinapps.core.spinkube.dev", "spinappexecutors.core.spinkube.dev"}, Namespace: "spin-operator", Controller: "spin-operator-controller-manager"},
	{Name: "keda", CRDs: []string{"scaledobjects.keda.sh", "triggerauthentications.keda.sh"}, Namespace: "keda", Controller: "keda-operator"},
	{Name: "keda-http-add-on", CRDs: []string{"httpscaledobjects.http.keda.sh"}, Namespace: "keda", Controller: "keda-add-ons-http-interceptor-proxy"},
}

// Detect looks for each platform part: present when all its CRDs are
// installed and its controller is found; the version is the controller
// image's tag (a Deployment) or the app.kubernetes.io/version label.
func Detect(ctx context.Context, c *kube.Clients) ([]clusters.PlatformPart, error) {
	var out []clusters.PlatformPart
	for _, p := range Parts {
		part := clusters.PlatformPart{Name: p.Name}
		var missing []string
		for _, crd := range p.CRDs {
			_, err := c.Dynamic.Resource(kube.CustomResourceDefinitions).Get(ctx, crd, metav1.GetOptions{})
			switch {
			case apierrors.IsNotFound(err):
				missing = append(missing, "CRD "+crd)
			case err != nil:
				return nil, fmt.Errorf("detect %s: CRD %s: %w", p.Name, crd, err)
			}
		}
		found, version, err := controller(ctx, c, p)
		if err != nil {
			return nil, fmt.Errorf("detect %s: %w", p.Name, err)
		}
		if found == "" {
			missing = append(missing, fmt.Sprintf("controller %s/%s (no Deployment or Service)", p.Namespace, p.Controller))
		}
		part.Present, part.Version = len(missing) == 0, version
		if part.Present {
			part.Detail = found
		} else {
			part.Detail = "missing " + strings.Join(missing, ", ")
		}
		out = append(out, part)
	}
	return out, nil
}

// controller finds p's controller: a Deployment (version from its image
// tag) or a Service (version from its label).
func controller(ctx context.Context, c *kube.Clients, p Part) (found, version string, err error) {
	d, err := c.Kube.AppsV1().Deployments(p.Namespace).Get(ctx, p.Controller, metav1.GetOptions{})
	switch {
	case err == nil:
		version = d.Labels["app.kubernetes.io/version"]
		if cs := d.Spec.Template.Spec.Containers; len(cs) > 0 {
			if t := imageTag(cs[0].Image); t != "" {
				version = t
			}
		}
		return fmt.Sprintf("Deployment %s/%s (%d/%d available)", p.Namespace, p.Controller, d.Status.AvailableReplicas, d.Status.Replicas), version, nil
	case !apierrors.IsNotFound(err):
		return "", "", fmt.Errorf("Deployment %s/%s: %w", p.Namespace, p.Controller, err)
	}
	s, err := c.Kube.CoreV1().Services(p.Namespace).Get(ctx, p.Controller, metav1.GetOptions{})
	switch {
	case err == nil:
		return fmt.Sprintf("Service %s/%s (controller outside the cluster)", p.Namespace, p.Controller), s.Labels["app.kubernetes.io/version"], nil
	case apierrors.IsNotFound(err):
		return "", "", nil
	}
	return "", "", fmt.Errorf("Service %s/%s: %w", p.Namespace, p.Controller, err)
}

// imageTag is the tag of an image reference ("" when it has none or only
// a digest).
func imageTag(image string) string {
	image, _, _ = strings.Cut(image, "@")
	slash := strings.LastIndex(image, "/")
	if i := strings.LastIndex(image, ":"); i > slash {
		return image[i+1:]
	}
	return ""
}

// Missing lists the parts not present.
func Missing(parts []clusters.PlatformPart) []string {
	var m []string
	for _, p := range parts {
		if !p.Present {
			m = append(m, p.Name)
		}
	}
	return m
}
