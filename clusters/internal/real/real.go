// Package real is what the k3d, kind and existing providers share once they
// have a kubeconfig: the REST config, readiness waits, the environment for
// reports, the platform parts found, and diagnostics. It knows no cluster
// kind; each provider passes its own name and teardown.
package real

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/kube"
	"github.com/scalebench/scalebench/results"
	"github.com/scalebench/scalebench/sqs"
)

// Cluster is a running cluster reached through a kubeconfig.
type Cluster struct {
	Kind       string
	Kubeconfig string
	Config     *rest.Config
	Clients    *kube.Clients
	// Parts are the platform parts found (or installed) on the cluster.
	Parts []clusters.PlatformPart
	// Ingress is the base URL of the cluster's ingress on this machine ("" none).
	Ingress string
	// Teardown deletes what the provider created; nil deletes nothing.
	Teardown func(ctx context.Context) error
	// Keep skips Teardown.
	Keep bool
	// Knobs are the provider's settings in force, for the report.
	Knobs map[string]string
	// LogNamespaces are the namespaces of the platform's operators and
	// add-ons (where the plan installs them and where their Helm releases
	// were found), whose pods' logs diagnostics collect.
	LogNamespaces []string

	kubeVersion string
	// sqsEnv is keda-sqs's queue and store once SQSEnv opened their port-forwards; closers end those.
	sqsEnv  *sqs.Env
	closers []func()
}

var (
	_ clusters.Cluster          = (*Cluster)(nil)
	_ clusters.PlatformReporter = (*Cluster)(nil)
	_ clusters.HTTPIngress      = (*Cluster)(nil)
)

// Open loads a kubeconfig (context "" is its current context) and connects.
func Open(ctx context.Context, kind, kubeconfig, context string) (*Cluster, error) {
	rules := &clientcmd.ClientConfigLoadingRules{ExplicitPath: kubeconfig}
	if kubeconfig == "" {
		rules = clientcmd.NewDefaultClientConfigLoadingRules()
	}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: context})
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %q context %q: %w", kubeconfig, context, err)
	}
	cfg.WarningHandler = rest.NoWarnings{}
	c, err := kube.NewClients(cfg)
	if err != nil {
		return nil, err
	}
	cl := &Cluster{Kind: kind, Kubeconfig: kubeconfig, Config: cfg, Clients: c}
	sv, err := c.Kube.Discovery().ServerVersion()
	if err != nil {
		return nil, fmt.Errorf("%s cluster: API server at %s: %w", kind, cfg.Host, err)
	}
	cl.kubeVersion = sv.GitVersion
	return cl, nil
}

// WaitNodesReady waits until want nodes (at least one when want <= 0) are
// Ready, with the deadline of ctx; a timeout names each node's state.
func (c *Cluster) WaitNodesReady(ctx context.Context, want int) error {
	if want <= 0 {
		want = 1
	}
	return kube.Poll(ctx, 2*time.Second, fmt.Sprintf("%d %s nodes Ready", want, c.Kind), func(ctx context.Context) (bool, string, error) {
		nodes, err := c.Clients.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err.Error(), nil // the API server may still be starting
		}
		ready, states := 0, []string{}
		for _, n := range nodes.Items {
			st := "NotReady"
			for _, cond := range n.Status.Conditions {
				if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
					st = "Ready"
					ready++
				}
			}
			states = append(states, n.Name+"="+st)
		}
		return ready >= want, fmt.Sprintf("%d/%d Ready (%s)", ready, want, strings.Join(states, ", ")), nil
	})
}

func (c *Cluster) RESTConfig() *rest.Config          { return c.Config }
func (c *Cluster) KubeconfigPath() string            { return c.Kubeconfig }
func (c *Cluster) Platform() []clusters.PlatformPart { return c.Parts }

// DefaultIngress is the docs' load balancer port, where a cluster without
// a known ingress is assumed to serve (override with --ingress-url).
const DefaultIngress = "http://localhost:8081"

// IngressURL is the cluster's ingress on this machine.
func (c *Cluster) IngressURL() string {
	if c.Ingress == "" {
		return DefaultIngress
	}
	return c.Ingress
}

// Environment fingerprints the cluster: its Kubernetes version and each
// platform part found with its version.
func (c *Cluster) Environment() results.Environment {
	env := results.Environment{
		Provider: c.Kind, KubernetesVersion: c.kubeVersion, Emulated: []string{},
		Host: results.LocalHost(), Knobs: c.Knobs,
	}
	for _, p := range c.Parts {
		if env.Platform == nil {
			env.Platform = map[string]string{}
		}
		env.Platform[p.Name] = p.Detail
		if !p.Present {
			continue
		}
		if env.Components == nil {
			env.Components = map[string]string{}
		}
		v := p.Version
		if v == "" {
			v = UnknownVersion
		}
		env.Components[p.Name] = v
	}
	return env
}

// UnknownVersion is a component's version in the environment when nothing
// on the cluster tells it.
const UnknownVersion = "unknown version"

// CollectDiagnostics writes the nodes, the pods of every namespace and the
// events as JSON into dir, and the logs of the platform's pods
// (LogNamespaces) into dir/logs (see kube.PodLogs).
func (c *Cluster) CollectDiagnostics(ctx context.Context, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var errs []error
	write := func(name string, v any, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			return
		}
		b, _ := json.MarshalIndent(v, "", "  ")
		errs = append(errs, os.WriteFile(filepath.Join(dir, name), b, 0o644))
	}
	nodes, err := c.Clients.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	write("nodes.json", nodes, err)
	pods, err := c.Clients.Kube.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	write("pods.json", pods, err)
	events, err := c.Clients.Kube.CoreV1().Events("").List(ctx, metav1.ListOptions{})
	if err == nil {
		sort.Slice(events.Items, func(i, j int) bool {
			return events.Items[i].LastTimestamp.Before(&events.Items[j].LastTimestamp)
		})
	}
	write("events.json", events, err)
	if len(c.LogNamespaces) > 0 {
		errs = append(errs, kube.PodLogs(ctx, c.Clients.Kube, c.LogNamespaces, filepath.Join(dir, "logs")))
	}
	return errors.Join(errs...)
}

// Delete ends the port-forwards this process opened and runs the provider's teardown unless Keep.
func (c *Cluster) Delete(ctx context.Context) error {
	c.closeForwards()
	if c.Keep || c.Teardown == nil {
		return nil
	}
	t := c.Teardown
	c.Teardown = nil // once
	return t(ctx)
}
