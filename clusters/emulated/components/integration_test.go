package components

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestEnsureBuildsGoaws builds the cheapest component (seconds with a warm Go build cache) into a fresh
// cache dir and runs it.
func TestEnsureBuildsGoaws(t *testing.T) {
	if testing.Short() {
		t.Skip("builds from the Go module proxy; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cacheDir := t.TempDir()
	var progress bytes.Buffer
	b := &Builder{CacheDir: cacheDir, Versions: PinnedVersions(), Progress: &progress, Logger: slog.New(slog.NewTextHandler(testWriter{t}, nil))}

	got, err := b.Ensure(ctx, GoawsBinary)
	if err != nil {
		t.Fatal(err)
	}
	path := got[GoawsBinary]
	if want := filepath.Join(cacheDir, "goaws", DefaultGoawsVersion, "bin", "goaws"); path != want {
		t.Errorf("path = %q, want %q", path, want)
	}
	out, err := exec.CommandContext(ctx, path, "-h").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "config file location") {
		t.Errorf("goaws -h: %v\n%s", err, out)
	}
	m, err := readManifest(versionDir(cacheDir, Goaws, DefaultGoawsVersion))
	if err != nil || m.Module != "github.com/Admiral-Piett/goaws" || m.GoVersion == "" {
		t.Errorf("manifest = %+v, %v", m, err)
	}
	if p := progress.String(); !strings.Contains(p, "goaws v0.5.4: building goaws… (a first build takes") || !strings.Contains(p, "goaws v0.5.4: done in") {
		t.Errorf("progress:\n%s", p)
	}
	if entries, _ := filepath.Glob(filepath.Join(cacheDir, "goaws", ".build-*")); len(entries) > 0 {
		t.Errorf("build dirs left behind: %v", entries)
	}

	// Second call: a cache hit, binary untouched.
	before, _ := os.Stat(path)
	progress.Reset()
	if _, err := b.Ensure(ctx, GoawsBinary); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(path)
	if !after.ModTime().Equal(before.ModTime()) || !strings.Contains(progress.String(), "cached") {
		t.Errorf("second Ensure rebuilt: %s", progress.String())
	}
}

// TestModuleAssets checks that the asset paths other packages rely on exist in the pinned module sources.
func TestModuleAssets(t *testing.T) {
	if testing.Short() {
		t.Skip("downloads modules; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	b := &Builder{Versions: PinnedVersions()}
	for component, paths := range map[string][]string{
		KEDA:          {KEDACRDDir + "/keda.sh_scaledobjects.yaml", KEDAValidationWebhookFile},
		SpinOperator:  {SpinOperatorCRDDir + "/core.spinkube.dev_spinapps.yaml", SpinOperatorCRDDir + "/core.spinkube.dev_spinappexecutors.yaml"},
		MetricsServer: {MetricsServerManifestsDir + "/kustomization.yaml"},
		Kwok: {KwokUsageFromAnnotationFile, KwokMetricsResourceFile, KwokPodGeneralStageDir + "/pod-ready.yaml",
			KwokPodGeneralStageDir + "/pod-create.yaml", KwokPodGeneralStageDir + "/pod-delete.yaml",
			KwokPodFastStageDir + "/pod-ready.yaml", KwokNodeFastStageDir + "/node-initialize.yaml",
			KwokNodeHeartbeatStageDir + "/node-heartbeat.yaml", KwokCRDDir + "/kwok.x-k8s.io_stages.yaml"},
		HTTPAddOn: {HTTPAddOnCRDDir + "/http.keda.sh_httpscaledobjects.yaml", HTTPAddOnCRDDir + "/http.keda.sh_interceptorroutes.yaml"},
	} {
		dir, err := b.ModuleDir(ctx, component)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range paths {
			if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(p))); err != nil {
				t.Errorf("%s: %v", component, err)
			}
		}
	}
	if _, err := b.ModuleDir(ctx, "nope"); err == nil {
		t.Error("ModuleDir of an unknown component: want an error")
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestBuildIntoDefaultCache fills the default cache (or $SCALEBENCH_CACHE_DIR), printing progress: run it
// with SCALEBENCH_BUILD=all, or a comma-separated list of binaries, and -timeout 0 (a cold build of
// everything takes about 20 minutes on two cores). Skipped otherwise.
//
//	SCALEBENCH_BUILD=all go test -run TestBuildIntoDefaultCache -timeout 0 -v ./clusters/emulated/components
func TestBuildIntoDefaultCache(t *testing.T) {
	which := os.Getenv("SCALEBENCH_BUILD")
	if which == "" {
		t.Skip("set SCALEBENCH_BUILD=all (or a list of binaries) to build into the default cache")
	}
	var names []string
	if which != "all" {
		names = strings.Split(which, ",")
	}
	b := &Builder{Progress: os.Stderr}
	start := time.Now()
	got, err := b.Ensure(context.Background(), names...)
	for _, name := range BinaryNames() {
		if p, ok := got[name]; ok {
			t.Logf("%-24s %s", name, p)
		}
	}
	t.Logf("total %s", time.Since(start).Round(time.Second))
	if err != nil {
		t.Fatal(err)
	}
}
