package components

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"slices"
	"strings"

	"golang.org/x/mod/modfile"

	"github.com/scalebench/scalebench/proc"
)

// toolchain is the local go command and the explicit environment every child process gets.
type toolchain struct {
	goBin     string
	env       []string
	goVersion string // e.g. go1.26.8
}

// goEnvKeys are the go settings taken over from the user's configuration (environment or go env file),
// so that builds share the user's module cache, build cache and module proxy.
var goEnvKeys = []string{"GOPATH", "GOMODCACHE", "GOCACHE", "GOPROXY", "GOSUMDB", "GONOSUMDB", "GOPRIVATE", "GONOPROXY", "GOINSECURE", "GOAUTH"}

// passEnvKeys are process settings the go command may need and that are passed through when set.
var passEnvKeys = []string{"HOME", "PATH", "TMPDIR", "SSL_CERT_FILE", "SSL_CERT_DIR"}

// discoverToolchain finds go on PATH and reads its settings once with the caller's environment (the only
// command that sees it); every later command runs with childEnv.
func discoverToolchain(ctx context.Context, log *slog.Logger, extraEnv []string) (*toolchain, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return nil, fmt.Errorf("find the go command: %w", err)
	}
	out, err := proc.Run(ctx, proc.Cmd{
		Argv:   append([]string{goBin, "env", "-json", "GOVERSION"}, goEnvKeys...),
		Env:    os.Environ(),
		Stdout: true,
		Logger: log,
	})
	if err != nil {
		return nil, fmt.Errorf("read go settings: %w", err)
	}
	var settings map[string]string
	if err := json.Unmarshal(out, &settings); err != nil {
		return nil, fmt.Errorf("parse go env output: %w", err)
	}
	return &toolchain{
		goBin:     goBin,
		env:       childEnv(os.Getenv, settings, extraEnv),
		goVersion: settings["GOVERSION"],
	}, nil
}

// childEnv builds the complete environment of build commands: nothing is inherited implicitly (no proxy
// variables, no GOFLAGS, no GOOS/GOARCH from the caller's shell).
func childEnv(getenv func(string) string, goSettings map[string]string, extra []string) []string {
	var env []string
	for _, k := range passEnvKeys {
		if v := getenv(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	for _, k := range goEnvKeys {
		if v := goSettings[k]; v != "" {
			env = append(env, k+"="+v)
		}
	}
	env = append(env,
		"GOENV=off",         // the settings above already include the user's go env file
		"GOTOOLCHAIN=local", // build with the local toolchain, never download another
		"GOWORK=off",
		"GOFLAGS=-mod=mod -buildvcs=false",
		"CGO_ENABLED=0",
	)
	return append(env, extra...)
}

// modInfo is the part of `go mod download -json` output used here.
type modInfo struct {
	Path    string
	Version string
	Dir     string // extracted module source (read-only)
	GoMod   string // the module's go.mod file
	Error   string
}

// modDownload downloads module@version into the module cache (a no-op when present) and describes it.
func modDownload(ctx context.Context, log *slog.Logger, tc *toolchain, dir, module, version string) (modInfo, error) {
	var info modInfo
	out, err := proc.Run(ctx, proc.Cmd{
		Argv:   []string{tc.goBin, "mod", "download", "-json", module + "@" + version},
		Dir:    dir,
		Env:    tc.env,
		Stdout: true,
		Logger: log,
	})
	if jerr := json.Unmarshal(bytes.TrimSpace(out), &info); jerr == nil && info.Error != "" {
		return info, fmt.Errorf("download %s@%s: %s", module, version, info.Error)
	}
	if err != nil {
		return info, fmt.Errorf("download %s@%s: %w", module, version, err)
	}
	if info.Dir == "" || info.GoMod == "" {
		return info, fmt.Errorf("download %s@%s: go mod download reported no directory", module, version)
	}
	return info, nil
}

// stagingVersion maps a Kubernetes version to the version of its published staging modules:
// v1.35.4 -> v0.35.4.
func stagingVersion(kubernetes string) (string, error) {
	major, minor, patch, rest := semverParts(kubernetes)
	if major != "1" {
		return "", fmt.Errorf("kubernetes version %q: want v1.x.y", kubernetes)
	}
	return "v0." + minor + "." + patch + rest, nil
}

// stagingModules returns the modules that kubernetes' go.mod replaces with its own ./staging directories:
// the modules a scratch module must replace with their published versions. (modfile.ParseLax would
// drop the replace directives, hence Parse.)
func stagingModules(goModPath string, data []byte) ([]string, error) {
	f, err := modfile.Parse(goModPath, data, nil)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", goModPath, err)
	}
	var mods []string
	for _, r := range f.Replace {
		if strings.HasPrefix(r.New.Path, "./staging/") {
			mods = append(mods, r.Old.Path)
		}
	}
	if len(mods) == 0 {
		return nil, fmt.Errorf("%s has no replace directives into ./staging", goModPath)
	}
	slices.Sort(mods)
	return slices.Compact(mods), nil
}

// goDirective returns the go version a module declares ("" when none).
func goDirective(goModPath string, data []byte) (string, error) {
	f, err := modfile.Parse(goModPath, data, nil)
	if err != nil {
		return "", fmt.Errorf("parse %s: %w", goModPath, err)
	}
	if f.Go == nil {
		return "", nil
	}
	return f.Go.Version, nil
}

// scratchGoMod writes the go.mod of a module that only requires module@version (and replaces the given
// modules with replaceVersion). With -mod=mod the build completes the requirement graph itself.
func scratchGoMod(component, goVersion, module, version string, replaces []string, replaceVersion string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "// Generated by scalebench to build %s %s.\n\n", component, version)
	fmt.Fprintf(&b, "module scalebench.local/build/%s\n\n", component)
	if goVersion != "" {
		fmt.Fprintf(&b, "go %s\n\n", goVersion)
	}
	fmt.Fprintf(&b, "require %s %s\n", module, version)
	if len(replaces) > 0 {
		b.WriteString("\nreplace (\n")
		for _, m := range replaces {
			fmt.Fprintf(&b, "\t%s => %s %s\n", m, m, replaceVersion)
		}
		b.WriteString(")\n")
	}
	return []byte(b.String())
}
