package cli

import (
	"context"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Process is what one run of saml2sts sees of the process it runs in. Main
// passes the real process's; the end-to-end tests run commands in-process
// with their own, many at once in one test binary, so no command may reach
// for os.Getenv, os.Stdout, time.Now or /dev/tty behind its back.
type Process struct {
	Args []string // without the program name
	// Env is the environment as KEY=value lines (os.Environ's form); nil
	// is the process's own. Children (exec, password_command, the browser
	// opener) get it too.
	Env            []string
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Now is the clock credentials are judged fresh by; nil is time.Now.
	Now func() time.Time
	// After, with Now, is the clock of IdP logins and OpenSearch calls:
	// their waits (push polls, rate limits, retry backoff) end when its
	// channel fires; nil is time.After. Tests pass a fake that moves Now
	// by d and fires at once. exec's credential server keeps real waits.
	After func(d time.Duration) <-chan time.Time
	// Executable is how other programs (the AWS CLI) should run us, as
	// written into credential_process; "" works it out from os.Executable.
	Executable string
	// NoTerminal runs as if there were no controlling terminal: every
	// prompt fails at once (exit 4) and /dev/tty is never opened.
	NoTerminal bool
	// TTY, when set, is the terminal prompts use instead of /dev/tty (a
	// test's pty).
	TTY *os.File
}

// Main runs the CLI with the process's arguments, environment and streams
// and returns the exit code.
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Run(ctx, Process{Args: os.Args[1:], Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr})
}

// Run runs one command line in p and returns its exit code. Signals are
// the caller's business: cancel ctx to interrupt.
func Run(ctx context.Context, p Process) int {
	return run(ctx, newFactory(p), p.Args)
}

// env is a process environment: the real one, or KEY=value lines.
type env struct {
	lines []string // nil: the process's own
	vars  map[string]string
}

func newEnv(lines []string) *env {
	if lines == nil {
		return &env{}
	}
	e := &env{lines: lines, vars: make(map[string]string, len(lines))}
	for _, kv := range lines {
		if k, v, ok := strings.Cut(kv, "="); ok {
			e.vars[k] = v // the last one wins, as for getenv(3)
		}
	}
	return e
}

func (e *env) real() bool { return e.lines == nil }

func (e *env) getenv(k string) string {
	if e.real() {
		return os.Getenv(k)
	}
	return e.vars[k]
}

// environ is the environment for a child process.
func (e *env) environ() []string {
	if e.real() {
		return os.Environ()
	}
	// Never nil: a nil exec.Cmd.Env would hand over os.Environ instead.
	return append(make([]string, 0, len(e.lines)), e.lines...)
}

// lookPath is exec.LookPath over this environment's PATH.
func (e *env) lookPath(name string) (string, error) {
	if e.real() || strings.ContainsRune(name, filepath.Separator) || strings.ContainsRune(name, '/') {
		return exec.LookPath(name)
	}
	for _, dir := range filepath.SplitList(e.getenv("PATH")) {
		if !filepath.IsAbs(dir) {
			continue // exec.LookPath refuses relative entries (ErrDot) too
		}
		if p, err := exec.LookPath(filepath.Join(dir, name)); err == nil {
			return p, nil
		}
	}
	return "", &exec.Error{Name: name, Err: exec.ErrNotFound}
}

// overlay is environ with vars set (replacing any earlier values).
func overlay(environ []string, vars map[string]string) []string {
	out := make([]string, 0, len(environ)+len(vars))
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := vars[k]; !ok {
			out = append(out, kv)
		}
	}
	for k, v := range vars {
		out = append(out, k+"="+v)
	}
	return out
}
