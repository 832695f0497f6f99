//go:build unix

package cli_test

import (
	"os/exec"
	"syscall"
)

// detach starts cmd in a new session, so it has no controlling terminal
// even when the tests run in one.
func detach(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} }
