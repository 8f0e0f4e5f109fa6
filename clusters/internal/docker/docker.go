// Package docker checks, before anything is created, that the Docker engine
// the k3d and kind providers need is there, and says in one line how to get
// it when it is not.
package docker

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/proc"
)

// Install is the install step named when the docker command is missing.
const Install = "install Docker (Debian/Ubuntu: apt-get install docker.io; elsewhere see docs.docker.com/engine/install) and start it, or use --cluster emulated"

// Start is the step named when the docker command is there but no engine answers.
const Start = "start the Docker engine (systemctl start docker, or Docker Desktop) or point DOCKER_HOST at one, or use --cluster emulated"

// CheckCLI checks that the docker command is on PATH and that an engine
// answers it (`docker version`): what kind, which drives the docker command,
// needs. The error wraps clusters.ErrPrerequisite.
func CheckCLI(ctx context.Context, kind string) error {
	path, err := exec.LookPath("docker")
	if err != nil {
		return &clusters.PrerequisiteError{Kind: kind, Missing: "the docker command (not on PATH)", Step: Install}
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	out, err := proc.Run(ctx, proc.Cmd{Argv: []string{path, "version", "--format", "{{.Server.Version}}"}, Env: os.Environ(), Stdout: true})
	if err != nil {
		var ee *proc.ExecError
		detail := err.Error()
		if errors.As(err, &ee) && strings.TrimSpace(ee.Output) != "" {
			detail = LastLine(ee.Output)
		}
		return &clusters.PrerequisiteError{Kind: kind, Missing: "a running Docker engine (" + detail + ")", Step: Start}
	}
	if strings.TrimSpace(string(out)) == "" {
		return &clusters.PrerequisiteError{Kind: kind, Missing: "a running Docker engine (docker version names no server)", Step: Start}
	}
	return nil
}

// Engine turns the error of a library that talks to the engine's socket
// directly (k3d) into a prerequisite error: install Docker when there is no
// docker command on PATH either (a machine without Docker), else start the
// engine.
func Engine(kind string, err error) error {
	if err == nil {
		return nil
	}
	if _, lerr := exec.LookPath("docker"); lerr != nil {
		return &clusters.PrerequisiteError{Kind: kind, Missing: "Docker (no engine answers, and the docker command is not on PATH)", Step: Install}
	}
	return &clusters.PrerequisiteError{Kind: kind, Missing: fmt.Sprintf("a running Docker engine (%s)", LastLine(err.Error())), Step: Start}
}

// LastLine is the last non-empty line of s: the reason, without the
// command's banner.
func LastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" {
			return l
		}
	}
	return ""
}
