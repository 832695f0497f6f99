//go:build windows

package cli

import (
	"context"
	"os/exec"
	"syscall"
)

// shellCommand runs command through the platform shell: cmd.exe /C, with
// the command line passed raw (Go's argument quoting would mangle it).
func shellCommand(ctx context.Context, command string) *exec.Cmd {
	c := exec.CommandContext(ctx, "cmd.exe")
	c.SysProcAttr = &syscall.SysProcAttr{CmdLine: windowsShellLine(command)}
	return c
}
