//go:build linux

package cli_test

import (
	"context"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/saml2sts/saml2sts/internal/cli"
)

// ttyWait bounds every wait on the terminal or the process: a prompt that
// never comes, or a process that never ends, fails the test.
const ttyWait = 2 * time.Minute // only a failing test waits this long

// ttySession is the binary running with a pseudo-terminal as its
// controlling terminal (what /dev/tty opens) and stdin, while stdout and
// stderr are separate pipes, as under the AWS CLI or `$(...)`; or an
// in-process run with the pty as its terminal (startTTYHere).
type ttySession struct {
	t    *testing.T
	ptmx *os.File // the user's side
	tty  *os.File // kept open to read the terminal modes
	done chan struct{}
	code int
	stop func() // ends the run early (cleanup of a failed test)
	pid  int    // the binary's process (0: in-process)

	screen         syncBuffer // everything the terminal showed
	stdout, stderr syncBuffer
}

func (w *world) startTTY(args ...string) *ttySession {
	w.t.Helper()
	s := w.openTTY()
	cmd := exec.Command(binary(w.t), args...)
	for k, v := range w.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdin = s.tty
	cmd.Stdout = &s.stdout
	cmd.Stderr = &s.stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		close(s.done)
		w.t.Fatal(err)
	}
	s.stop = func() { cmd.Process.Kill() }
	s.pid = cmd.Process.Pid
	go func() {
		err := cmd.Wait()
		if ee, ok := err.(*exec.ExitError); ok {
			s.code = ee.ExitCode()
		} else if err != nil {
			s.code = -1
		}
		close(s.done)
	}()
	return s
}

// startTTYHere runs saml2sts in-process (as w.run does, on the world's
// clock) with the pty as its terminal: prompts, echo and typing as with
// the binary, for tests that need the clock rather than a process.
func (w *world) startTTYHere(args ...string) *ttySession {
	w.t.Helper()
	s := w.openTTY()
	ctx, cancel := context.WithCancel(w.t.Context())
	s.stop = cancel
	p := cli.Process{Args: args, Env: w.environ(), Stdin: s.tty, Stdout: &s.stdout, Stderr: &s.stderr,
		Now: w.clock.Now, After: w.clock.After, Executable: w.exe, TTY: s.tty}
	go func() {
		s.code = cli.Run(ctx, p)
		close(s.done)
	}()
	return s
}

// openTTY opens the pty of a session, and closes it when the test ends,
// after the run.
func (w *world) openTTY() *ttySession {
	w.t.Helper()
	t := w.t
	m, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	// pty.Open leaves the master in blocking mode, where Close cannot
	// interrupt a Read; a non-blocking duplicate can.
	fd, err := unix.Dup(int(m.Fd()))
	m.Close()
	if err == nil {
		err = unix.SetNonblock(fd, true)
	}
	if err != nil {
		tty.Close()
		t.Fatal(err)
	}
	s := &ttySession{t: t, ptmx: os.NewFile(uintptr(fd), "ptmx"), tty: tty, done: make(chan struct{}), stop: func() {}}
	reader := make(chan struct{})
	go func() {
		defer close(reader)
		buf := make([]byte, 4096)
		for {
			n, err := s.ptmx.Read(buf)
			s.screen.Write(buf[:n])
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			s.stop()
		}
		// Hanging up ends a read of the terminal still under way (an
		// in-process prompt the context does not reach).
		s.ptmx.Close()
		select {
		case <-s.done:
		case <-time.After(ttyWait):
			t.Errorf("the run did not end after its terminal hung up\n%s", s)
		}
		s.tty.Close()
		<-reader
	})
	return s
}

func (s *ttySession) shown() string {
	return s.screen.String()
}

func (s *ttySession) String() string {
	return "terminal:\n" + s.screen.String() + "\nstdout: " + s.stdout.String() + "\nstderr: " + s.stderr.String()
}

// waitFor waits until the terminal shows want, failing if the process
// ends first or the wait is too long.
func (s *ttySession) waitFor(want string) {
	s.t.Helper()
	deadline := time.Now().Add(ttyWait)
	for !strings.Contains(s.shown(), want) {
		// After an exit the last output may still be in flight: only the
		// deadline, not a guess at how long that takes, ends the wait.
		if time.Now().After(deadline) {
			select {
			case <-s.done:
				s.t.Fatalf("exited (%d) without showing %q\n%s", s.code, want, s)
			default:
			}
			s.t.Fatalf("terminal never showed %q\n%s", want, s)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitStdout waits until stdout holds want, failing if the wait is too
// long.
func (s *ttySession) waitStdout(want string) {
	s.t.Helper()
	deadline := time.Now().Add(ttyWait)
	for !strings.Contains(s.stdout.String(), want) {
		if time.Now().After(deadline) {
			s.t.Fatalf("stdout never showed %q\n%s", want, s)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitNoEcho waits until the terminal stops echoing: typing a secret
// earlier would put it on the screen.
func (s *ttySession) waitNoEcho() {
	s.t.Helper()
	deadline := time.Now().Add(ttyWait)
	for s.echo() {
		if time.Now().After(deadline) {
			s.t.Fatalf("echo never turned off\n%s", s)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (s *ttySession) echo() bool {
	s.t.Helper()
	st, err := unix.IoctlGetTermios(int(s.tty.Fd()), unix.TCGETS)
	if err != nil {
		s.t.Fatal(err)
	}
	return st.Lflag&unix.ECHO != 0
}

// typeLine types s and Enter (a terminal sends CR).
func (s *ttySession) typeLine(line string) {
	s.t.Helper()
	if _, err := io.WriteString(s.ptmx, line+"\r"); err != nil {
		s.t.Fatal(err)
	}
}

// wait waits for the process to exit and returns its code.
func (s *ttySession) wait() int {
	s.t.Helper()
	select {
	case <-s.done:
		return s.code
	case <-time.After(ttyWait):
		s.t.Fatalf("process did not exit\n%s", s)
	}
	return 0
}

func (s *ttySession) out() (stdout, stderr string) {
	return s.stdout.String(), s.stderr.String()
}

// TestInteractiveLogin: password, one-time code and role picked on the
// terminal; nothing on stdout; the password never shown.
func TestInteractiveLogin(t *testing.T) {
	t.Parallel()
	w := newWorld(t, withOTP)
	w.configure("p") // no role_arn: the IdP grants two roles
	s := w.startTTY("login", "--profile", "p")

	s.waitFor("Password for ana: ")
	s.waitNoEcho()
	s.typeLine(password)
	s.waitFor("one-time code")
	s.typeLine(otpCode)
	s.waitFor("Choose 1-2: ")
	m := regexp.MustCompile(`\[(\d)\] SearchAdmin\b`).FindStringSubmatch(s.shown())
	if m == nil {
		t.Fatalf("role list lacks SearchAdmin\n%s", s)
	}
	s.typeLine(m[1])

	if code := s.wait(); code != 0 {
		t.Fatalf("login exit %d\n%s", code, s)
	}
	stdout, stderr := s.out()
	if stdout != "" {
		t.Errorf("stdout not empty: %q", stdout)
	}
	screen := s.shown()
	for _, want := range []string{"Choose a role:", "SearchReader", "SearchAdmin", account} {
		if !strings.Contains(screen, want) {
			t.Errorf("terminal lacks %q\n%s", want, s)
		}
	}
	if strings.Contains(screen, password) || strings.Contains(stderr, password) {
		t.Errorf("the password was shown\n%s", s)
	}
	if strings.Contains(stderr, "Password for") || strings.Contains(stderr, "Choose") {
		t.Errorf("prompts went to stderr instead of the terminal: %q", stderr)
	}
	if !strings.Contains(stderr, "Logged in") || !strings.Contains(stderr, admin) {
		t.Errorf("login message: %q", stderr)
	}
	if !s.echo() {
		t.Error("echo left off")
	}
	if got := w.kc.Stats().PasswordPosts; got != 1 {
		t.Errorf("password posts = %d, want 1", got)
	}

	who := w.mustRun("", "whoami", "--profile", "p")
	if !strings.Contains(who.stdout, "assumed-role/SearchAdmin/") {
		t.Errorf("whoami: %s", who)
	}
}

// TestCredentialProcessPromptsOnTTY: with a terminal, an empty cache and no
// password_command, credential-process asks on the terminal and prints
// only the JSON on stdout.
func TestCredentialProcessPromptsOnTTY(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.configure("cp", "--role-arn", reader)
	s := w.startTTY("credential-process", "--profile", "cp")
	s.waitFor("Password for ana: ")
	s.waitNoEcho()
	s.typeLine(password)
	if code := s.wait(); code != 0 {
		t.Fatalf("credential-process exit %d\n%s", code, s)
	}
	stdout, stderr := s.out()
	c := parseCreds(t, stdout)
	if issued := w.st.Issued(); len(issued) != 1 || issued[0].AccessKeyID != c.AccessKeyID {
		t.Errorf("printed key %s, STS issued %+v", c.AccessKeyID, issued)
	}
	if strings.Contains(s.shown(), password) || strings.Contains(stderr, password) {
		t.Errorf("the password was shown\n%s", s)
	}
	if strings.Contains(s.shown(), c.SecretAccessKey) {
		t.Errorf("the secret key was shown on the terminal")
	}
	// The next call is served from the cache without a prompt.
	again := w.startTTY("credential-process", "--profile", "cp")
	if code := again.wait(); code != 0 {
		t.Fatalf("cached credential-process exit %d\n%s", code, again)
	}
	if out, _ := again.out(); parseCreds(t, out).AccessKeyID != c.AccessKeyID || again.shown() != "" {
		t.Errorf("cached call: %s", again)
	}
}

// TestInterruptAtPasswordPrompt: Ctrl-C at the password prompt ends the
// command at once and leaves the terminal echoing.
func TestInterruptAtPasswordPrompt(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.configure("i", "--role-arn", reader)
	s := w.startTTY("login", "--profile", "i")
	s.waitFor("Password for ana: ")
	s.waitNoEcho()
	if _, err := io.WriteString(s.ptmx, "\x03"); err != nil { // Ctrl-C
		t.Fatal(err)
	}
	code := s.wait()
	if code == 0 {
		t.Fatalf("interrupted login succeeded\n%s", s)
	}
	if !s.echo() {
		t.Error("echo left off after Ctrl-C at the password prompt")
	}
	if stdout, stderr := s.out(); stdout != "" || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
		t.Errorf("want empty stdout and a one-line error\n%s", s)
	}
	if n := w.st.Calls("AssumeRoleWithSAML"); n != 0 {
		t.Errorf("STS called after Ctrl-C")
	}
}
