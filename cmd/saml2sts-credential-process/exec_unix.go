//go:build unix

package main

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"

	"github.com/saml2sts/saml2sts/internal/exitcode"
)

// fallback replaces this process with the full binary: same pid, stdio,
// directory and environment, so the AWS CLI sees only saml2sts.
func fallback(args []string) int {
	self, _ := os.Executable()
	bin, err := fullBinary(self, exec.LookPath)
	if err == nil {
		err = syscall.Exec(bin, fullArgs(args), os.Environ())
	}
	fmt.Fprintf(os.Stderr, "saml2sts: %v\n", err)
	return exitcode.Failure
}
