//go:build linux

package cli_test

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"
)

// sigChildEnv makes this test binary a child for exec that counts the
// SIGINTs it gets in a short window and exits with that count, as
// terraform does ("Two interrupts received. Exiting immediately").
const sigChildEnv = "SAML2STS_TEST_SIGCOUNT_CHILD"

func init() {
	if os.Getenv(sigChildEnv) == "" {
		return
	}
	ch := make(chan os.Signal, 16)
	signal.Notify(ch, syscall.SIGINT)
	fmt.Println("ready")
	<-ch
	n := 1
	deadline := time.After(time.Second)
	for {
		select {
		case <-ch:
			n++
		case <-deadline:
			fmt.Printf("interrupts: %d\n", n)
			os.Exit(10 + n)
		}
	}
}

// TestExecCtrlCReachesChildOnce: Ctrl-C on the terminal reaches the
// command once. The terminal sends it to the whole foreground process
// group, the command included; relaying it as well made a graceful stop
// (terraform) a forced one.
func TestExecCtrlCReachesChildOnce(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.configure("x", "--role-arn", reader)
	w.mustRun(password, "login", "--profile", "x", "--password-stdin")
	w.env[sigChildEnv] = "1"
	s := w.startTTY("exec", "--profile", "x", "--", os.Args[0])
	delete(w.env, sigChildEnv)
	deadline := time.Now().Add(ttyWait)
	for {
		if stdout, _ := s.out(); stdout != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("child never got ready\n%s", s)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := io.WriteString(s.ptmx, "\x03"); err != nil { // Ctrl-C
		t.Fatal(err)
	}
	if code := s.wait(); code != 11 {
		t.Fatalf("child exit %d, want 11 (exactly one interrupt)\n%s", code, s)
	}
}
