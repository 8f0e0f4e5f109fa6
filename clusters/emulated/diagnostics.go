package emulated

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"github.com/scalebench/scalebench/kube"
)

// diagnosticResources are dumped by CollectDiagnostics, one YAML file each.
var diagnosticResources = []struct {
	file string
	gvr  schema.GroupVersionResource
}{
	{"nodes", kube.Nodes},
	{"pods", kube.Pods},
	{"events", kube.Events},
	{"services", kube.Services},
	{"endpointslices", kube.EndpointSlices},
	{"deployments", kube.Deployments},
	{"replicasets", kube.ReplicaSets},
	{"horizontalpodautoscalers", kube.HorizontalPodAutoscalers},
	{"scaledobjects", kube.ScaledObjects},
	{"triggerauthentications", kube.TriggerAuthentications},
	{"httpscaledobjects", kube.HTTPScaledObjects},
	{"interceptorroutes", kube.InterceptorRoutes},
	{"spinapps", kube.SpinApps},
	{"spinappexecutors", kube.SpinAppExecutors},
	{"apiservices", kube.APIServices},
	{"ingresses", kube.Ingresses},
}

// CollectDiagnostics writes into dir: the supervised components' logs
// (logs/), kwokctl's control-plane logs (kwokctl-logs/), the kwokctl
// configuration, and the cluster's state as YAML (state/<resource>.yaml:
// nodes, pods, events, deployments, HPAs, ScaledObjects, SpinApps, ...).
// It collects as much as it can and joins the errors.
func (c *Cluster) CollectDiagnostics(ctx context.Context, dir string) error {
	var errs []error
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("emulated: diagnostics: %w", err)
	}
	if err := copyDir(filepath.Join(c.workDir, "logs"), filepath.Join(dir, "logs")); err != nil {
		errs = append(errs, fmt.Errorf("component logs: %w", err))
	}
	if c.kwokWorkDir != "" {
		kwokCluster := filepath.Join(c.kwokWorkDir, "clusters", c.kwokName)
		if err := copyDir(filepath.Join(kwokCluster, "logs"), filepath.Join(dir, "kwokctl-logs")); err != nil {
			errs = append(errs, fmt.Errorf("kwokctl logs: %w", err))
		}
		if err := copyFile(filepath.Join(kwokCluster, "kwok.yaml"), filepath.Join(dir, "kwokctl-cluster.yaml")); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if err := copyFile(filepath.Join(c.workDir, "kwokctl.yaml"), filepath.Join(dir, "kwokctl.yaml")); err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, err)
	}
	if err := c.CheckComponents(); err != nil {
		if werr := os.WriteFile(filepath.Join(dir, "components.txt"), []byte(err.Error()+"\n"), 0o644); werr != nil {
			errs = append(errs, werr)
		}
	}
	if c.dynamic != nil {
		stateDir := filepath.Join(dir, "state")
		if err := os.MkdirAll(stateDir, 0o755); err != nil {
			errs = append(errs, err)
		} else {
			for _, r := range diagnosticResources {
				err := c.dumpResource(ctx, r.gvr, filepath.Join(stateDir, r.file+".yaml"))
				if apierrors.IsNotFound(err) {
					continue // a part this cluster left out (KEDA, the HTTP add-on): no such resource
				}
				if err != nil {
					errs = append(errs, fmt.Errorf("dump %s: %w", r.file, err))
				}
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("emulated: diagnostics into %s: %w", dir, err)
	}
	return nil
}

func (c *Cluster) dumpResource(ctx context.Context, gvr schema.GroupVersionResource, path string) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	list, err := c.dynamic.Resource(gvr).List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	for i := range list.Items {
		list.Items[i].SetManagedFields(nil)
	}
	data, err := yaml.Marshal(list.UnstructuredContent())
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

// copyDir copies the regular files of src (not recursively) into dst. A
// missing src is not an error.
func copyDir(src, dst string) error {
	entries, err := os.ReadDir(src)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		if err := copyFile(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
