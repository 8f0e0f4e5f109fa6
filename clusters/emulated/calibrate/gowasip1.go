package calibrate

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/scalebench/scalebench/proc"
)

// guestSource is the Go guest (package main, for GOOS=wasip1).
//
//go:embed guest/main.go
var guestSource []byte

const guestGoMod = "module scalebench.dev/calibrate/guest\n\ngo 1.24\n" // go:wasmexport needs Go 1.24

// guestEnvDrop are the caller's settings that would change what `go build`
// makes; the build sets its own.
var guestEnvDrop = []string{"GOOS", "GOARCH", "GOFLAGS", "CGO_ENABLED", "GOWORK", "GOTOOLCHAIN", "GOEXPERIMENT", "GOWASM"}

func guestEnv(environ []string) []string {
	var env []string
outer:
	for _, kv := range environ {
		for _, k := range guestEnvDrop {
			if strings.HasPrefix(kv, k+"=") {
				continue outer
			}
		}
		env = append(env, kv)
	}
	return append(env, "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0", "GOWORK=off", "GOTOOLCHAIN=local", "GOFLAGS=")
}

// buildGoGuest builds the Go guest with the go command on PATH into dir
// (once per Go version and guest source) and returns the .wasm path and the
// Go version that built it.
func buildGoGuest(ctx context.Context, log *slog.Logger, dir string) (path, goVersion string, err error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", "", fmt.Errorf("calibrate: build the wasip1 guest: find the go command: %w", err)
	}
	env := guestEnv(os.Environ())
	out, err := proc.Run(ctx, proc.Cmd{Argv: []string{goBin, "env", "GOVERSION"}, Env: env, Stdout: true, Logger: log})
	if err != nil {
		return "", "", fmt.Errorf("calibrate: build the wasip1 guest: %w", err)
	}
	goVersion = strings.TrimSpace(string(out))
	sum := sha256.Sum256(append(append([]byte(goVersion+"\n"+guestGoMod), guestSource...), byte(recipe)))
	path = filepath.Join(dir, fmt.Sprintf("fib-wasip1-%s-%s.wasm", goVersion, hex.EncodeToString(sum[:6])))
	if _, err := os.Stat(path); err == nil {
		return path, goVersion, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", "", fmt.Errorf("calibrate: wasip1 guest %s: %w", path, err)
	}
	work, err := os.MkdirTemp(dir, ".guest-build-*")
	if err != nil {
		return "", "", fmt.Errorf("calibrate: build the wasip1 guest: %w", err)
	}
	defer os.RemoveAll(work)
	if err := os.WriteFile(filepath.Join(work, "go.mod"), []byte(guestGoMod), 0o644); err != nil {
		return "", "", fmt.Errorf("calibrate: build the wasip1 guest: %w", err)
	}
	if err := os.WriteFile(filepath.Join(work, "main.go"), guestSource, 0o644); err != nil {
		return "", "", fmt.Errorf("calibrate: build the wasip1 guest: %w", err)
	}
	tmp := filepath.Join(work, "fib.wasm")
	if _, err := proc.Run(ctx, proc.Cmd{
		Argv:   []string{goBin, "build", "-buildmode=c-shared", "-trimpath", "-o", tmp, "."},
		Env:    env,
		Dir:    work,
		Logger: log,
	}); err != nil {
		return "", "", fmt.Errorf("calibrate: build the wasip1 guest with %s: %w", goVersion, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", "", fmt.Errorf("calibrate: build the wasip1 guest: %w", err)
	}
	return path, goVersion, nil
}
