//go:build linux

package cli_test

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"testing"
)

// sigChildEnv makes this test binary a child for exec that counts the
// SIGINTs it gets until a SIGTERM, and exits with that count, as terraform
// does ("Two interrupts received. Exiting immediately").
const sigChildEnv = "SAML2STS_TEST_SIGCOUNT_CHILD"

func init() {
	if os.Getenv(sigChildEnv) == "" {
		return
	}
	ch := make(chan os.Signal, 16)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	fmt.Println("ready")
	n := 0
	for s := range ch {
		if s == syscall.SIGTERM {
			fmt.Printf("interrupts: %d\n", n)
			os.Exit(10 + n)
		}
		if n++; n == 1 {
			fmt.Println("interrupted")
		}
	}
}

// TestExecCtrlCReachesChildOnce: Ctrl-C on the terminal reaches the
// command once. The terminal sends it to the whole foreground process
// group, the command included; relaying it as well made a graceful stop
// (terraform) a forced one.
//
// No time window: once the child has the terminal's SIGINT, saml2sts has
// it too, and a SIGTERM sent to saml2sts then is relayed after whatever it
// does with the SIGINT (its relay goroutine takes signals in order, and a
// process gets pending signals lowest number first). So the child has
// counted every relayed SIGINT when the SIGTERM ends it.
func TestExecCtrlCReachesChildOnce(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.configure("x", "--role-arn", reader)
	w.mustRun(password, "login", "--profile", "x", "--password-stdin")
	w.env[sigChildEnv] = "1"
	s := w.startTTY("exec", "--profile", "x", "--", os.Args[0])
	delete(w.env, sigChildEnv)
	s.waitStdout("ready\n")
	if _, err := io.WriteString(s.ptmx, "\x03"); err != nil { // Ctrl-C
		t.Fatal(err)
	}
	s.waitStdout("interrupted\n")
	if err := syscall.Kill(s.pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := s.wait(); code != 11 {
		t.Fatalf("child exit %d, want 11 (exactly one interrupt)\n%s", code, s)
	}
}
