package platform

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/getter"
	"helm.sh/helm/v3/pkg/registry"
	"helm.sh/helm/v3/pkg/repo"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/yaml"
)

// restGetter gives Helm's kube client a rest.Config (Helm wants a RESTClientGetter, kubectl's abstraction over
// kubeconfig flags). Discovery and the mapper are built once and shared, so Helm's invalidation after it
// installs CRDs reaches both.
type restGetter struct {
	cfg       *rest.Config
	namespace string

	once   sync.Once
	dc     discovery.CachedDiscoveryInterface
	mapper meta.RESTMapper
	err    error
}

func (g *restGetter) ToRESTConfig() (*rest.Config, error) { return rest.CopyConfig(g.cfg), nil }

func (g *restGetter) init() {
	g.once.Do(func() {
		d, err := discovery.NewDiscoveryClientForConfig(g.cfg)
		if err != nil {
			g.err = err
			return
		}
		g.dc = memory.NewMemCacheClient(d)
		g.mapper = restmapper.NewShortcutExpander(restmapper.NewDeferredDiscoveryRESTMapper(g.dc), g.dc, nil)
	})
}

func (g *restGetter) ToDiscoveryClient() (discovery.CachedDiscoveryInterface, error) {
	g.init()
	return g.dc, g.err
}

func (g *restGetter) ToRESTMapper() (meta.RESTMapper, error) {
	g.init()
	return g.mapper, g.err
}

func (g *restGetter) ToRawKubeConfigLoader() clientcmd.ClientConfig {
	return clientcmd.NewDefaultClientConfig(clientcmdapi.Config{}, &clientcmd.ConfigOverrides{Context: clientcmdapi.Context{Namespace: g.namespace}})
}

// actionConfig is Helm's configuration for releases stored (as Secrets, Helm's default) in namespace.
func actionConfig(cfg *rest.Config, namespace string, reg *registry.Client, log *slog.Logger) (*action.Configuration, error) {
	ac := new(action.Configuration)
	debug := func(format string, v ...any) { log.Debug(fmt.Sprintf(format, v...), "source", "helm") }
	if err := ac.Init(&restGetter{cfg: cfg, namespace: namespace}, namespace, "secret", debug); err != nil {
		return nil, err
	}
	ac.RegistryClient = reg
	return ac, nil
}

// Sources says how charts are fetched.
type Sources struct {
	// RegistryConfig is a registry credentials file (Docker's config.json format, Helm's --registry-config);
	// "" uses no stored credentials.
	RegistryConfig string
	// PlainHTTP talks to OCI registries over plain HTTP (a registry on loopback in tests).
	PlainHTTP bool
}

func (s Sources) registryClient() (*registry.Client, error) {
	opts := []registry.ClientOption{registry.ClientOptEnableCache(true), registry.ClientOptWriter(discard{})}
	if s.RegistryConfig != "" {
		opts = append(opts, registry.ClientOptCredentialsFile(s.RegistryConfig))
	}
	if s.PlainHTTP {
		opts = append(opts, registry.ClientOptPlainHTTP())
	}
	return registry.NewClient(opts...)
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// fetchChart pulls a chart from its OCI registry or chart repository into memory.
func fetchChart(ctx context.Context, c Chart, reg *registry.Client) (*chart.Chart, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var data []byte
	switch {
	case c.OCI():
		ref := strings.TrimPrefix(c.Name, "oci://") + ":" + c.Version
		res, err := reg.Pull(ref, registry.PullOptWithChart(true))
		if err != nil {
			return nil, fmt.Errorf("pull %s: %w", c, err)
		}
		data = res.Chart.Data
	case c.Repo != "":
		u, err := chartURL(c)
		if err != nil {
			return nil, err
		}
		g, err := getter.NewHTTPGetter(getter.WithURL(c.Repo))
		if err != nil {
			return nil, err
		}
		buf, err := g.Get(u, getter.WithURL(c.Repo))
		if err != nil {
			return nil, fmt.Errorf("download %s (%s): %w", c, u, err)
		}
		data = buf.Bytes()
	default:
		return nil, fmt.Errorf("chart %q: neither a repository nor an oci:// reference", c.Name)
	}
	ch, err := loader.LoadArchive(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", c, err)
	}
	return ch, nil
}

// chartURL looks the chart's version up in its repository's index.
func chartURL(c Chart) (string, error) {
	g, err := getter.NewHTTPGetter()
	if err != nil {
		return "", err
	}
	idxURL, err := repo.ResolveReferenceURL(c.Repo, "index.yaml")
	if err != nil {
		return "", fmt.Errorf("chart repository %q: %w", c.Repo, err)
	}
	buf, err := g.Get(idxURL, getter.WithURL(c.Repo))
	if err != nil {
		return "", fmt.Errorf("chart repository %s: %w", c.Repo, err)
	}
	idx := &repo.IndexFile{}
	if err := yaml.Unmarshal(buf.Bytes(), idx); err != nil {
		return "", fmt.Errorf("chart repository %s: index: %w", c.Repo, err)
	}
	idx.SortEntries()
	cv, err := idx.Get(c.Name, c.Version)
	if err != nil {
		return "", fmt.Errorf("chart %q version %q not in repository %s", c.Name, c.Version, c.Repo)
	}
	if len(cv.URLs) == 0 {
		return "", fmt.Errorf("chart %q version %q in %s has no download URL", c.Name, c.Version, c.Repo)
	}
	u, err := repo.ResolveReferenceURL(c.Repo, cv.URLs[0])
	if err != nil {
		return "", err
	}
	if _, err := url.Parse(u); err != nil {
		return "", err
	}
	return u, nil
}
