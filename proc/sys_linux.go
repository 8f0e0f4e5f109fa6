//go:build linux

package proc

import "syscall"

const (
	sigInt  = syscall.SIGINT
	sigTerm = syscall.SIGTERM
	sigKill = syscall.SIGKILL
)

// sysProcAttr puts the child in its own process group (so a terminal's
// Ctrl-C reaches only the harness, which then tears down in order, and a stop
// reaches the child's own children) and, with deathSignal, kills it when the
// harness dies.
func sysProcAttr(deathSignal bool) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Setpgid: true}
	if deathSignal {
		a.Pdeathsig = syscall.SIGKILL
	}
	return a
}

// signalGroup signals the process group led by pid.
func signalGroup(pid int, sig syscall.Signal) error {
	return syscall.Kill(-pid, sig)
}
