package components

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/scalebench/scalebench/proc"
)

// Builder builds component binaries into a cache and finds module sources. The zero value is usable:
// default cache dir, default versions, no logging, no progress output. A Builder is safe for concurrent use.
type Builder struct {
	// CacheDir is the cache root; "" means DefaultCacheDir().
	CacheDir string
	// Versions pins the component versions; empty fields mean DefaultVersions().
	Versions Versions
	// Logger receives debug and info records; nil discards them.
	Logger *slog.Logger
	// Progress receives human-readable progress lines; nil keeps builds quiet.
	Progress io.Writer
	// ExtraEnv is appended to the explicit environment of the go commands (for example HTTPS_PROXY when
	// the module proxy is only reachable through one). Nothing else is inherited from the caller.
	ExtraEnv []string

	mu      sync.Mutex // guards tc, modDirs and progress writes
	tc      *toolchain
	modDirs map[string]string // module@version -> directory, answered by go mod download
}

// Status describes one binary in the cache.
type Status struct {
	Binary    string
	Component string
	Version   string
	Path      string // where the binary is (or will be) cached; "" if the cache dir is unknown
	Cached    bool
}

// Binaries maps binary names (see BinaryNames) to absolute paths.
type Binaries map[string]string

// ProgressInterval is how often a running build reports that it is still running.
var ProgressInterval = 30 * time.Second

func (b *Builder) logger() *slog.Logger {
	if b.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return b.Logger
}

func (b *Builder) cacheDir() (string, error) {
	if b.CacheDir == "" {
		return DefaultCacheDir()
	}
	abs, err := filepath.Abs(b.CacheDir)
	if err != nil {
		return "", fmt.Errorf("components: cache dir %q: %w", b.CacheDir, err)
	}
	return abs, nil
}

func (b *Builder) toolchain(ctx context.Context) (*toolchain, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tc != nil {
		return b.tc, nil
	}
	tc, err := discoverToolchain(ctx, b.logger(), b.ExtraEnv)
	if err != nil {
		return nil, err
	}
	b.tc = tc
	return tc, nil
}

// Status reports every binary with its version, cache path and whether it is cached. It runs no command.
// Invalid versions or an unknown cache dir show as not cached with an empty Path.
func (b *Builder) Status() []Status {
	versions, verr := b.Versions.withDefaults()
	dir, derr := b.cacheDir()
	var out []Status
	for _, s := range specs {
		version := b.Versions.Of(s.name)
		if verr == nil {
			version = versions.Of(s.name)
		}
		isCached := verr == nil && derr == nil && cached(dir, s, version)
		for _, name := range s.binaryNames() {
			st := Status{Binary: name, Component: s.name, Version: version, Cached: isCached}
			if verr == nil && derr == nil {
				st.Path = binaryPath(dir, s.name, version, name)
			}
			out = append(out, st)
		}
	}
	return out
}

// Ensure returns the paths of the named binaries (all of them when none are named), building every
// component that is not cached yet. Components build one after another; when one fails the others are
// still built, and the returned Binaries holds every binary that is available next to the joined errors.
func (b *Builder) Ensure(ctx context.Context, binaries ...string) (Binaries, error) {
	versions, err := b.Versions.withDefaults()
	if err != nil {
		return nil, err
	}
	dir, err := b.cacheDir()
	if err != nil {
		return nil, err
	}
	if len(binaries) == 0 {
		binaries = BinaryNames()
	}
	var needed []componentSpec
	for _, name := range binaries {
		s, err := specOfBinary(name)
		if err != nil {
			return nil, err
		}
		if !slices.ContainsFunc(needed, func(n componentSpec) bool { return n.name == s.name }) {
			needed = append(needed, s)
		}
	}
	// Build in the package's order (cheap components first), whatever order the caller named them in.
	slices.SortStableFunc(needed, func(x, y componentSpec) int {
		return slices.Index(Components(), x.name) - slices.Index(Components(), y.name)
	})

	built := map[string]bool{}
	var errs []error
	for _, s := range needed {
		if err := ctx.Err(); err != nil {
			errs = append(errs, fmt.Errorf("components: %s: %w", s.name, err))
			break
		}
		if err := b.ensureComponent(ctx, dir, s, versions); err != nil {
			errs = append(errs, err)
			continue
		}
		built[s.name] = true
	}
	out := Binaries{}
	for _, name := range binaries {
		s, _ := specOfBinary(name)
		if built[s.name] {
			out[name] = binaryPath(dir, s.name, versions.Of(s.name), name)
		}
	}
	return out, errors.Join(errs...)
}

// ModuleDir returns the directory of the pinned module source of a component (downloading it into the
// module cache if needed), for reading files such as CRDs and manifests. The directory is read-only.
func (b *Builder) ModuleDir(ctx context.Context, component string) (string, error) {
	s, err := specFor(component)
	if err != nil {
		return "", err
	}
	versions, err := b.Versions.withDefaults()
	if err != nil {
		return "", err
	}
	key := s.module + "@" + versions.Of(component)
	b.mu.Lock()
	dir, ok := b.modDirs[key]
	b.mu.Unlock()
	if ok {
		return dir, nil
	}
	tc, err := b.toolchain(ctx)
	if err != nil {
		return "", fmt.Errorf("components: %s module dir: %w", component, err)
	}
	tmp, err := os.MkdirTemp("", "scalebench-moddir-")
	if err != nil {
		return "", fmt.Errorf("components: %s module dir: %w", component, err)
	}
	defer os.RemoveAll(tmp)
	info, err := modDownload(ctx, b.logger(), tc, tmp, s.module, versions.Of(component))
	if err != nil {
		return "", fmt.Errorf("components: %s module dir: %w", component, err)
	}
	b.mu.Lock()
	if b.modDirs == nil {
		b.modDirs = map[string]string{}
	}
	b.modDirs[key] = info.Dir
	b.mu.Unlock()
	return info.Dir, nil
}

// ensureComponent makes one component's binaries present in the cache.
func (b *Builder) ensureComponent(ctx context.Context, cacheDir string, s componentSpec, versions Versions) error {
	version := versions.Of(s.name)
	log := b.logger().With("component", s.name, "version", version)
	if cached(cacheDir, s, version) {
		log.Debug("cached", "dir", versionDir(cacheDir, s.name, version))
		b.progressf("%s %s: cached", s.name, version)
		return nil
	}
	if err := os.MkdirAll(filepath.Join(cacheDir, s.name), 0o755); err != nil {
		return fmt.Errorf("components: %s %s: %w", s.name, version, err)
	}
	unlock, err := proc.LockFile(ctx, lockPath(cacheDir, s.name, version), 500*time.Millisecond, func() {
		log.Info("waiting for another process building the same version")
		b.progressf("%s %s: waiting for another process that is building it…", s.name, version)
	})
	if err != nil {
		return fmt.Errorf("components: %s %s: %w", s.name, version, err)
	}
	defer unlock()
	if cached(cacheDir, s, version) { // built by the process we waited for
		b.progressf("%s %s: cached", s.name, version)
		return nil
	}

	start := time.Now()
	log.Info("building", "binaries", s.binaryNames())
	b.progressf("%s %s: building %s… (a first build takes %s on 2 cores)", s.name, version, strings.Join(s.binaryNames(), ", "), s.coldBuild)
	stop := b.tick(s.name, version, start)
	err = b.build(ctx, cacheDir, s, versions, start)
	stop()
	elapsed := time.Since(start)
	if err != nil {
		log.Info("build failed", "elapsed", elapsed.Round(time.Second), "err", err)
		b.progressf("%s %s: failed after %s", s.name, version, formatElapsed(elapsed))
		return fmt.Errorf("components: build %s %s: %w", s.name, version, err)
	}
	log.Info("built", "elapsed", elapsed.Round(time.Second))
	b.progressf("%s %s: done in %s", s.name, version, formatElapsed(elapsed))
	return nil
}

// build runs the go commands in a temporary directory next to the version directory and renames the
// result into place. Called with the version lock held.
func (b *Builder) build(ctx context.Context, cacheDir string, s componentSpec, versions Versions, start time.Time) error {
	version := versions.Of(s.name)
	log := b.logger().With("component", s.name, "version", version)
	tc, err := b.toolchain(ctx)
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp(filepath.Join(cacheDir, s.name), ".build-"+version+"-")
	if err != nil {
		return err
	}
	defer func() {
		// The module copy is read-only where it came from the module cache; make it removable.
		_ = makeWritable(work)
		if err := os.RemoveAll(work); err != nil {
			log.Warn("remove build dir", "dir", work, "err", err)
		}
	}()
	src := filepath.Join(work, "src")
	out := filepath.Join(work, "out")
	result := filepath.Join(work, "result")
	for _, d := range []string{src, out, filepath.Join(result, "bin")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}

	info, err := modDownload(ctx, log, tc, work, s.module, version)
	if err != nil {
		return err
	}
	switch s.mode {
	case scratchModule:
		if err := writeScratchModule(src, s, version, versions, info); err != nil {
			return err
		}
	case moduleCopy:
		if err := os.CopyFS(src, os.DirFS(info.Dir)); err != nil {
			return fmt.Errorf("copy %s to a writable build dir: %w", info.Dir, err)
		}
		if err := makeWritable(src); err != nil {
			return fmt.Errorf("make the module copy writable: %w", err)
		}
	}

	ldflags := s.ldflags(versions)
	argv := []string{tc.goBin, "build", "-trimpath", "-ldflags=" + ldflags, "-o", out + string(filepath.Separator)}
	for _, bin := range s.binaries {
		argv = append(argv, bin.pkg)
	}
	if _, err := proc.Run(ctx, proc.Cmd{Argv: argv, Dir: src, Env: tc.env, Logger: log}); err != nil {
		return err
	}

	m := manifest{
		Recipe:    recipe,
		Component: s.name,
		Module:    s.module,
		Version:   version,
		GoVersion: tc.goVersion,
		LDFlags:   ldflags,
		Binaries:  map[string]string{},
	}
	for _, bin := range s.binaries {
		from := filepath.Join(out, goBuildExecName(bin.pkg))
		rel := filepath.Join("bin", bin.name)
		if err := os.Rename(from, filepath.Join(result, rel)); err != nil {
			return fmt.Errorf("collect %s (package %s): %w", bin.name, bin.pkg, err)
		}
		m.Binaries[bin.name] = rel
	}
	m.BuiltAt = time.Now().UTC()
	m.BuildSeconds = time.Since(start).Seconds()
	if err := writeManifest(result, m); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	if err := install(result, versionDir(cacheDir, s.name, version)); err != nil {
		return fmt.Errorf("install into cache: %w", err)
	}
	return nil
}

// writeScratchModule writes the go.mod that requires the component's module at its version; for
// Kubernetes it replaces every staging module with its published version.
func writeScratchModule(dir string, s componentSpec, version string, versions Versions, info modInfo) error {
	data, err := os.ReadFile(info.GoMod)
	if err != nil {
		return fmt.Errorf("read go.mod of %s@%s: %w", s.module, version, err)
	}
	goVersion, err := goDirective(info.GoMod, data)
	if err != nil {
		return err
	}
	var replaces []string
	var replaceVersion string
	if s.stagingReplaces {
		if replaces, err = stagingModules(info.GoMod, data); err != nil {
			return err
		}
		if replaceVersion, err = stagingVersion(version); err != nil {
			return err
		}
	}
	goMod := scratchGoMod(s.name, goVersion, s.module, version, replaces, replaceVersion)
	return os.WriteFile(filepath.Join(dir, "go.mod"), goMod, 0o644)
}

func makeWritable(root string) error {
	return filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return nil // best effort
		}
		if d.Type()&os.ModeSymlink != 0 {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		if fi.Mode().Perm()&0o200 == 0 {
			return os.Chmod(path, fi.Mode().Perm()|0o200)
		}
		return nil
	})
}

// progressf writes one progress line when Progress is set.
func (b *Builder) progressf(format string, args ...any) {
	if b.Progress == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	fmt.Fprintf(b.Progress, "components: "+format+"\n", args...)
}

// tick reports a running build every ProgressInterval until stop is called.
func (b *Builder) tick(component, version string, start time.Time) (stop func()) {
	if b.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(ProgressInterval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				b.progressf("%s %s: still building… %s", component, version, formatElapsed(time.Since(start)))
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

func formatElapsed(d time.Duration) string {
	if d < time.Minute {
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}
