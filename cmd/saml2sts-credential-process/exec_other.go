//go:build !unix

package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"

	"github.com/saml2sts/saml2sts/internal/exitcode"
)

// fallback runs the full binary with our stdio and returns its exit code
// (Windows has no exec).
func fallback(args []string) int {
	self, _ := os.Executable()
	bin, err := fullBinary(self, exec.LookPath)
	if err == nil {
		c := exec.Command(bin, fullArgs(args)[1:]...)
		c.Stdin, c.Stdout, c.Stderr = os.Stdin, os.Stdout, os.Stderr
		err = c.Run()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err == nil {
			return 0
		}
	}
	fmt.Fprintf(os.Stderr, "saml2sts: %v\n", err)
	return exitcode.Failure
}
