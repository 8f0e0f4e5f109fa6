//go:build !unix

package proc

import (
	"os"
	"syscall"
)

const (
	sigInt  = syscall.SIGINT
	sigTerm = syscall.SIGTERM
	sigKill = syscall.SIGKILL
)

// sysProcAttr: process groups and parent-death signals are unix-only.
func sysProcAttr(bool) *syscall.SysProcAttr { return nil }

// signalGroup kills the process alone: outside unix there is no group to
// signal, and no signal but kill to send.
func signalGroup(pid int, _ syscall.Signal) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill()
}
