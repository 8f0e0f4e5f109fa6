package components

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/mod/modfile"
)

func TestStagingModulesFromKubernetesGoMod(t *testing.T) {
	path := filepath.Join("testdata", "kubernetes-go.mod")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := stagingModules(path, data)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"k8s.io/api", "k8s.io/apiextensions-apiserver", "k8s.io/apimachinery", "k8s.io/apiserver",
		"k8s.io/cli-runtime", "k8s.io/client-go", "k8s.io/cloud-provider", "k8s.io/kubelet",
	}
	if !slices.Equal(got, want) {
		t.Errorf("stagingModules = %q, want %q", got, want)
	}
	goVersion, err := goDirective(path, data)
	if err != nil || goVersion != "1.25.0" {
		t.Errorf("goDirective = %q, %v; want 1.25.0", goVersion, err)
	}
}

func TestStagingModulesNeedsStagingReplaces(t *testing.T) {
	_, err := stagingModules("go.mod", []byte("module example.com/x\n\nreplace a.b/c => ../c\n"))
	if err == nil {
		t.Fatal("want an error for a go.mod without ./staging replaces")
	}
}

func TestStagingVersion(t *testing.T) {
	for in, want := range map[string]string{"v1.35.4": "v0.35.4", "v1.34.0-rc.1": "v0.34.0-rc.1"} {
		got, err := stagingVersion(in)
		if err != nil || got != want {
			t.Errorf("stagingVersion(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := stagingVersion("v2.0.0"); err == nil {
		t.Error("stagingVersion(v2.0.0): want an error")
	}
}

func TestScratchGoModParses(t *testing.T) {
	data := scratchGoMod(Kubernetes, "1.25.0", "k8s.io/kubernetes", "v1.35.4", []string{"k8s.io/api", "k8s.io/client-go"}, "v0.35.4")
	f, err := modfile.Parse("go.mod", data, nil)
	if err != nil {
		t.Fatalf("generated go.mod does not parse: %v\n%s", err, data)
	}
	if f.Module.Mod.Path != "scalebench.local/build/kubernetes" || f.Go.Version != "1.25.0" {
		t.Errorf("module %q go %q", f.Module.Mod.Path, f.Go.Version)
	}
	if len(f.Require) != 1 || f.Require[0].Mod.Path != "k8s.io/kubernetes" || f.Require[0].Mod.Version != "v1.35.4" {
		t.Errorf("require = %+v", f.Require)
	}
	if len(f.Replace) != 2 {
		t.Fatalf("replace = %+v", f.Replace)
	}
	for _, r := range f.Replace {
		if r.Old.Path != r.New.Path || r.New.Version != "v0.35.4" || r.Old.Version != "" {
			t.Errorf("replace %v => %v, want the same module at v0.35.4", r.Old, r.New)
		}
	}

	plain := scratchGoMod(Goaws, "", "github.com/Admiral-Piett/goaws", "v0.5.4", nil, "")
	if f, err := modfile.Parse("go.mod", plain, nil); err != nil || len(f.Replace) != 0 || f.Go != nil {
		t.Errorf("plain scratch go.mod: %v\n%s", err, plain)
	}
}

func TestVersionsFromEnvAndNormalisation(t *testing.T) {
	env := map[string]string{EnvKEDAVersion: "2.19.0", EnvKubernetesVersion: " v1.34.4 "}
	v := versionsFromEnv(PinnedVersions(), func(k string) string { return env[k] })
	if v.KEDA != "2.19.0" || v.Kubernetes != "v1.34.4" || v.Etcd != DefaultEtcdVersion {
		t.Fatalf("versionsFromEnv = %+v", v)
	}

	t.Setenv(EnvKEDAVersion, "2.19.0")
	n, err := (Versions{Goaws: "0.5.3"}).withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if n.KEDA != "v2.19.0" || n.Goaws != "v0.5.3" || n.Kubernetes != DefaultKubernetesVersion {
		t.Errorf("withDefaults = %+v", n)
	}
	for _, bad := range []string{"latest", "v1.2", "../v1.2.3", "v1.2.3/x"} {
		if _, err := (Versions{Etcd: bad}).withDefaults(); err == nil {
			t.Errorf("withDefaults accepted etcd version %q", bad)
		}
	}
}

func TestEveryComponentHasAVersionAndUniqueBinaries(t *testing.T) {
	v := PinnedVersions()
	seen := map[string]bool{}
	for _, s := range specs {
		if v.Of(s.name) == "" {
			t.Errorf("component %s has no version field", s.name)
		}
		for _, b := range s.binaries {
			if seen[b.name] {
				t.Errorf("binary %s listed twice", b.name)
			}
			seen[b.name] = true
		}
		// Binaries of one go build land in one directory: their default names must differ.
		names := map[string]bool{}
		for _, b := range s.binaries {
			n := goBuildExecName(b.pkg)
			if names[n] {
				t.Errorf("%s: two packages build to %q", s.name, n)
			}
			names[n] = true
		}
	}
	want := []string{"kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl", "etcd", "kwok", "kwokctl",
		"metrics-server", "keda-operator", "keda-adapter", "keda-webhooks", "spin-operator", "http-add-on-interceptor",
		"http-add-on-scaler", "http-add-on-operator", "goaws"}
	got := BinaryNames()
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("BinaryNames = %q, want %q", got, want)
	}
}

func TestGoBuildExecName(t *testing.T) {
	for in, want := range map[string]string{
		"go.etcd.io/etcd/server/v3":              "server",
		"k8s.io/kubernetes/cmd/kube-apiserver":   "kube-apiserver",
		"./cmd":                                  "cmd",
		"./cmd/operator":                         "operator",
		"example.com/x/v1":                       "v1",
		"example.com/x/v0":                       "v0",
		"example.com/x/v10":                      "x",
		"github.com/Admiral-Piett/goaws/app/cmd": "cmd",
	} {
		if got := goBuildExecName(in); got != want {
			t.Errorf("goBuildExecName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestKubernetesLDFlagsSetReportedVersion(t *testing.T) {
	s, _ := specFor(Kubernetes)
	got := s.ldflags(Versions{Kubernetes: "v1.35.4"})
	for _, want := range []string{
		"-s -w",
		"-X k8s.io/component-base/version.gitVersion=v1.35.4",
		"-X k8s.io/component-base/version.gitMajor=1",
		"-X k8s.io/component-base/version.gitMinor=35",
		"-X k8s.io/client-go/pkg/version.gitVersion=v1.35.4",
		"-X k8s.io/client-go/pkg/version.gitMajor=1",
		"-X k8s.io/client-go/pkg/version.gitMinor=35",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("ldflags %q lack %q", got, want)
		}
	}
}

func TestCacheLayout(t *testing.T) {
	c := filepath.Join("cache", "root")
	if got, want := binaryPath(c, KEDA, "v2.20.2", KEDAAdapter), filepath.Join(c, "keda", "v2.20.2", "bin", "keda-adapter"); got != want {
		t.Errorf("binaryPath = %q, want %q", got, want)
	}
	if got, want := lockPath(c, Etcd, "v3.5.21"), filepath.Join(c, "etcd", "v3.5.21.lock"); got != want {
		t.Errorf("lockPath = %q, want %q", got, want)
	}
}

func TestDefaultCacheDir(t *testing.T) {
	t.Setenv(EnvCacheDir, "")
	t.Setenv("XDG_CACHE_HOME", "/somewhere/cache")
	t.Setenv("HOME", "/somewhere")
	got, err := DefaultCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	base, _ := os.UserCacheDir()
	if want := filepath.Join(base, "scalebench", "components"); got != want {
		t.Errorf("DefaultCacheDir = %q, want %q", got, want)
	}
	t.Setenv(EnvCacheDir, "relative/dir")
	got, err = DefaultCacheDir()
	if err != nil || !filepath.IsAbs(got) || !strings.HasSuffix(got, filepath.Join("relative", "dir")) {
		t.Errorf("DefaultCacheDir with %s = %q, %v; want it absolute", EnvCacheDir, got, err)
	}
}

// fakeInstall puts a finished "build" of a component into the cache, as build would.
func fakeInstall(t *testing.T, cacheDir, component, version string) {
	t.Helper()
	s, err := specFor(component)
	if err != nil {
		t.Fatal(err)
	}
	dir := versionDir(cacheDir, component, version)
	m := manifest{Recipe: recipe, Component: component, Module: s.module, Version: version, Binaries: map[string]string{}}
	for _, name := range s.binaryNames() {
		rel := filepath.Join("bin", name)
		if err := os.MkdirAll(filepath.Join(dir, "bin"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, rel), []byte("#!/bin/true\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		m.Binaries[name] = rel
	}
	if err := writeManifest(dir, m); err != nil {
		t.Fatal(err)
	}
}

func TestCachedDetection(t *testing.T) {
	s, _ := specFor(KEDA)
	const v = "v2.20.2"
	fresh := func(t *testing.T) string {
		c := t.TempDir()
		fakeInstall(t, c, KEDA, v)
		return c
	}
	t.Run("complete", func(t *testing.T) {
		if c := fresh(t); !cached(c, s, v) {
			t.Errorf("not cached: %v", cacheProblem(c, s, v))
		}
	})
	t.Run("other version", func(t *testing.T) {
		if c := fresh(t); cached(c, s, "v2.19.0") {
			t.Error("v2.19.0 reported cached")
		}
	})
	t.Run("binaries without manifest", func(t *testing.T) {
		c := fresh(t)
		os.Remove(filepath.Join(versionDir(c, KEDA, v), manifestName))
		if cached(c, s, v) {
			t.Error("cached without manifest")
		}
	})
	t.Run("missing binary", func(t *testing.T) {
		c := fresh(t)
		os.Remove(binaryPath(c, KEDA, v, KEDAWebhooks))
		if cached(c, s, v) {
			t.Error("cached with a binary missing")
		}
	})
	t.Run("not executable", func(t *testing.T) {
		c := fresh(t)
		os.Chmod(binaryPath(c, KEDA, v, KEDAAdapter), 0o644)
		if cached(c, s, v) {
			t.Error("cached with a non-executable binary")
		}
	})
	t.Run("older recipe", func(t *testing.T) {
		c := fresh(t)
		m, _ := readManifest(versionDir(c, KEDA, v))
		m.Recipe = recipe - 1
		writeManifest(versionDir(c, KEDA, v), m)
		if cached(c, s, v) {
			t.Error("cached although built by an older recipe")
		}
	})
	t.Run("manifest path escapes", func(t *testing.T) {
		c := fresh(t)
		m, _ := readManifest(versionDir(c, KEDA, v))
		m.Binaries[KEDAAdapter] = "../../../bin/sh"
		writeManifest(versionDir(c, KEDA, v), m)
		if cached(c, s, v) {
			t.Error("cached with a binary path outside the version dir")
		}
	})
}

func TestStatusAndEnsureUseTheCacheWithoutRunningGo(t *testing.T) {
	c := t.TempDir()
	fakeInstall(t, c, Goaws, DefaultGoawsVersion)
	fakeInstall(t, c, Etcd, "v3.5.20")
	t.Setenv("PATH", "") // no go command: a cache hit must not need one
	for _, env := range []string{EnvGoawsVersion, EnvEtcdVersion} {
		t.Setenv(env, "")
	}

	var progress bytes.Buffer
	b := &Builder{CacheDir: c, Versions: Versions{Etcd: "3.5.20"}, Progress: &progress}
	for _, st := range b.Status() {
		wantCached := st.Component == Goaws || st.Component == Etcd
		if st.Cached != wantCached {
			t.Errorf("Status %s: cached = %v, want %v", st.Binary, st.Cached, wantCached)
		}
		if st.Path != binaryPath(c, st.Component, st.Version, st.Binary) {
			t.Errorf("Status %s: path %q", st.Binary, st.Path)
		}
		if st.Component == Etcd && st.Version != "v3.5.20" {
			t.Errorf("Status etcd version %q, want the override", st.Version)
		}
	}

	got, err := b.Ensure(context.Background(), GoawsBinary, EtcdBinary)
	if err != nil {
		t.Fatal(err)
	}
	want := Binaries{
		GoawsBinary: binaryPath(c, Goaws, DefaultGoawsVersion, GoawsBinary),
		EtcdBinary:  binaryPath(c, Etcd, "v3.5.20", EtcdBinary),
	}
	if len(got) != len(want) || got[GoawsBinary] != want[GoawsBinary] || got[EtcdBinary] != want[EtcdBinary] {
		t.Errorf("Ensure = %v, want %v", got, want)
	}
	if out := progress.String(); !strings.Contains(out, "goaws v0.5.4: cached") || !strings.Contains(out, "etcd v3.5.20: cached") {
		t.Errorf("progress output:\n%s", out)
	}

	quiet := &Builder{CacheDir: c, Versions: Versions{Etcd: "3.5.20"}}
	if _, err := quiet.Ensure(context.Background(), GoawsBinary); err != nil {
		t.Fatal(err)
	}
}

func TestEnsureRejectsUnknownBinary(t *testing.T) {
	b := &Builder{CacheDir: t.TempDir()}
	_, err := b.Ensure(context.Background(), "kube-proxy")
	if err == nil || !strings.Contains(err.Error(), `"kube-proxy"`) {
		t.Fatalf("err = %v, want it to name the unknown binary", err)
	}
}

func TestEnsureReportsFailedBuild(t *testing.T) {
	// PATH without go: the build fails; the error names the component and the cause, nothing is cached.
	c := t.TempDir()
	t.Setenv("PATH", t.TempDir())
	b := &Builder{CacheDir: c}
	got, err := b.Ensure(context.Background(), GoawsBinary)
	if err == nil || !strings.Contains(err.Error(), "goaws") || !strings.Contains(err.Error(), "go command") {
		t.Fatalf("err = %v", err)
	}
	if len(got) != 0 {
		t.Errorf("Ensure returned %v for a failed build", got)
	}
	if entries, _ := os.ReadDir(filepath.Join(c, Goaws)); slices.ContainsFunc(entries, func(e os.DirEntry) bool { return e.IsDir() }) {
		t.Errorf("failed build left directories: %v", entries)
	}
}

func TestChildEnvIsExplicit(t *testing.T) {
	outer := map[string]string{"HOME": "/home/u", "PATH": "/usr/bin", "HTTPS_PROXY": "http://proxy:3128", "GOFLAGS": "-tags=x", "GOOS": "plan9"}
	env := childEnv(func(k string) string { return outer[k] }, map[string]string{"GOCACHE": "/c", "GOPROXY": "https://proxy.example", "GOSUMDB": ""}, []string{"EXTRA=1"})
	has := func(kv string) bool { return slices.Contains(env, kv) }
	for _, want := range []string{"HOME=/home/u", "PATH=/usr/bin", "GOCACHE=/c", "GOPROXY=https://proxy.example", "CGO_ENABLED=0", "GOFLAGS=-mod=mod -buildvcs=false", "GOTOOLCHAIN=local", "GOENV=off", "EXTRA=1"} {
		if !has(want) {
			t.Errorf("env lacks %s: %q", want, env)
		}
	}
	for _, kv := range env {
		if strings.HasPrefix(kv, "HTTPS_PROXY=") || strings.HasPrefix(kv, "GOOS=") || kv == "GOFLAGS=-tags=x" || kv == "GOSUMDB=" {
			t.Errorf("env carries %s", kv)
		}
	}
}
