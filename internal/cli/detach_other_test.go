//go:build !unix

package cli_test

import "os/exec"

// detach: only Unix has controlling terminals to leave.
func detach(*exec.Cmd) {}
