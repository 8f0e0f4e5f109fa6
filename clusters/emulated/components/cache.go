package components

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// recipe identifies how binaries are built (flags, ldflags, layout). Bump it when that changes, so that
// binaries cached by an older recipe are rebuilt instead of being reported as current.
const recipe = 1

const manifestName = "manifest.json"

// DefaultCacheDir returns $SCALEBENCH_CACHE_DIR, or <user cache dir>/scalebench/components.
func DefaultCacheDir() (string, error) {
	if d := os.Getenv(EnvCacheDir); d != "" {
		abs, err := filepath.Abs(d)
		if err != nil {
			return "", fmt.Errorf("components: cache dir %q from %s: %w", d, EnvCacheDir, err)
		}
		return abs, nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("components: default cache dir: %w", err)
	}
	return filepath.Join(base, "scalebench", "components"), nil
}

// Cache layout:
//
//	<cache>/<component>/<version>/bin/<binary>      the binaries
//	<cache>/<component>/<version>/manifest.json     written last, inside the build dir, before the rename
//	<cache>/<component>/<version>.lock              flock held while building
//	<cache>/<component>/.build-<version>-*          a build in progress (removed afterwards)
func versionDir(cacheDir, component, version string) string {
	return filepath.Join(cacheDir, component, version)
}

func binaryPath(cacheDir, component, version, binary string) string {
	return filepath.Join(versionDir(cacheDir, component, version), "bin", binary)
}

func lockPath(cacheDir, component, version string) string {
	return filepath.Join(cacheDir, component, version+".lock")
}

// manifest records a finished build. Its presence (with matching fields) is what makes a version cached.
type manifest struct {
	Recipe    int    `json:"recipe"`
	Component string `json:"component"`
	Module    string `json:"module"`
	Version   string `json:"version"`
	GoVersion string `json:"goVersion"`
	LDFlags   string `json:"ldflags"`
	// Binaries maps binary names to paths relative to the version directory.
	Binaries     map[string]string `json:"binaries"`
	BuiltAt      time.Time         `json:"builtAt"`
	BuildSeconds float64           `json:"buildSeconds"`
}

func writeManifest(dir string, m manifest) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, manifestName), append(data, '\n'), 0o644)
}

func readManifest(dir string) (manifest, error) {
	var m manifest
	data, err := os.ReadFile(filepath.Join(dir, manifestName))
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return m, fmt.Errorf("parse %s: %w", filepath.Join(dir, manifestName), err)
	}
	return m, nil
}

// cached reports whether a complete build of spec at version is in cacheDir: a manifest of the current
// recipe naming this component and version, and every binary present as an executable regular file.
func cached(cacheDir string, spec componentSpec, version string) bool {
	return cacheProblem(cacheDir, spec, version) == nil
}

// cacheProblem says why a version is not cached (nil when it is).
func cacheProblem(cacheDir string, spec componentSpec, version string) error {
	dir := versionDir(cacheDir, spec.name, version)
	m, err := readManifest(dir)
	if err != nil {
		return err
	}
	switch {
	case m.Recipe != recipe:
		return fmt.Errorf("built by recipe %d, want %d", m.Recipe, recipe)
	case m.Component != spec.name || m.Version != version:
		return fmt.Errorf("manifest is for %s %s", m.Component, m.Version)
	}
	for _, name := range spec.binaryNames() {
		rel, ok := m.Binaries[name]
		if !ok {
			return fmt.Errorf("manifest lacks %s", name)
		}
		if !filepath.IsLocal(rel) {
			return fmt.Errorf("manifest path %q of %s leaves the version dir", rel, name)
		}
		fi, err := os.Stat(filepath.Join(dir, rel))
		if err != nil {
			return err
		}
		if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
			return fmt.Errorf("%s is not an executable file", filepath.Join(dir, rel))
		}
	}
	return nil
}

// install moves a finished build (binaries and manifest in src) to its version directory. Called with the
// version's lock held; a leftover incomplete directory is removed first.
func install(src, dst string) error {
	if _, err := os.Lstat(dst); err == nil {
		if err := os.RemoveAll(dst); err != nil {
			return fmt.Errorf("remove stale %s: %w", dst, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return os.Rename(src, dst)
}
