// Package prompt asks the user things on the controlling terminal
// (/dev/tty; CONIN$/CONOUT$ on Windows), never on stdout, so that prompts work even when stdout is a
// pipe to the AWS CLI. Without a terminal every call fails at once with
// idp.ErrNoTerminal, so nothing ever hangs waiting for input.
package prompt

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/term"

	"github.com/saml2sts/saml2sts/idp"
)

// TTY is an idp.Prompter on a terminal. Every prompt ends as soon as its
// context is done (Ctrl-C cancels the CLI's context), so an unanswered
// prompt never outlives the command.
type TTY struct {
	in      *os.File // read side (the terminal)
	out     io.Writer
	r       *bufio.Reader
	pending chan lineResult // a line read that an interrupted prompt left running
}

type lineResult struct {
	s   string
	err error
}

// Open returns a prompter on the terminal (/dev/tty; the console on
// Windows), or a [None] when noInput is set. The terminal is opened only
// when something is asked, so a command that asks nothing (a warm
// credential-process) never touches it; when there is none every prompt
// fails at once with idp.ErrNoTerminal.
func Open(noInput bool) idp.Prompter {
	if noInput {
		return None{}
	}
	return &lazy{}
}

// lazy opens the terminal on first use.
type lazy struct {
	once sync.Once
	p    idp.Prompter
}

func (l *lazy) get() idp.Prompter {
	l.once.Do(func() {
		in, out, err := openTerminal()
		if err != nil || !term.IsTerminal(int(in.Fd())) {
			closeAll(in, out)
			l.p = None{}
			return
		}
		l.p = New(in, out)
	})
	return l.p
}

func closeAll(fs ...*os.File) {
	for _, f := range fs {
		if f != nil {
			f.Close()
		}
	}
}

func (l *lazy) Secret(ctx context.Context, label string) (string, error) {
	return l.get().Secret(ctx, label)
}

func (l *lazy) Code(ctx context.Context, label string) (string, error) {
	return l.get().Code(ctx, label)
}

func (l *lazy) Choose(ctx context.Context, label string, options []string) (int, error) {
	return l.get().Choose(ctx, label, options)
}

// Interactive reports whether a terminal is there to ask on.
func (l *lazy) Interactive() bool { return idp.Interactive(l.get()) }

// New builds a prompter on the given terminal streams (tests pass a pty).
func New(in *os.File, out io.Writer) *TTY {
	return &TTY{in: in, out: out, r: bufio.NewReader(in)}
}

// Secret reads a line without echo.
func (t *TTY) Secret(ctx context.Context, label string) (string, error) {
	if ctx.Err() != nil {
		return "", interrupted(ctx, label)
	}
	fmt.Fprintf(t.out, "%s: ", label)
	fd := int(t.in.Fd())
	// ReadPassword restores echo only when it returns; an interrupted
	// prompt must restore it itself.
	saved, _ := term.GetState(fd)
	done := make(chan lineResult, 1)
	go func() {
		b, err := term.ReadPassword(fd)
		done <- lineResult{string(b), err}
	}()
	select {
	case r := <-done:
		fmt.Fprintln(t.out)
		if r.err != nil {
			return "", fmt.Errorf("read %s from terminal: %w", strings.ToLower(label), r.err)
		}
		return strings.TrimRight(r.s, "\r\n"), nil
	case <-ctx.Done():
		if saved != nil {
			term.Restore(fd, saved)
		}
		fmt.Fprintln(t.out)
		return "", interrupted(ctx, label)
	}
}

func interrupted(ctx context.Context, label string) error {
	return fmt.Errorf("%s: prompt interrupted: %w", strings.ToLower(label), ctx.Err())
}

// Code reads a short visible line.
func (t *TTY) Code(ctx context.Context, label string) (string, error) {
	fmt.Fprintf(t.out, "%s: ", label)
	s, err := t.line(ctx)
	if ctx.Err() != nil {
		fmt.Fprintln(t.out)
		return "", interrupted(ctx, label)
	}
	return s, err
}

// Choose prints a numbered list and reads a number, asking again on a bad
// answer (at most five times).
func (t *TTY) Choose(ctx context.Context, label string, options []string) (int, error) {
	fmt.Fprintf(t.out, "%s:\n", label)
	for i, o := range options {
		fmt.Fprintf(t.out, "  [%d] %s\n", i+1, o)
	}
	for range 5 {
		fmt.Fprintf(t.out, "Choose 1-%d: ", len(options))
		s, err := t.line(ctx)
		if ctx.Err() != nil {
			fmt.Fprintln(t.out)
			return 0, interrupted(ctx, label)
		}
		if err != nil {
			return 0, err
		}
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err == nil && n >= 1 && n <= len(options) {
			return n - 1, nil
		}
		fmt.Fprintf(t.out, "%q is not a number from 1 to %d\n", s, len(options))
	}
	return 0, fmt.Errorf("no valid choice for %s", strings.ToLower(label))
}

// line reads one line, or gives up when ctx is done. The read itself
// cannot be stopped; the next call picks up its result.
func (t *TTY) line(ctx context.Context) (string, error) {
	if t.pending == nil {
		ch := make(chan lineResult, 1)
		go func() {
			s, err := t.r.ReadString('\n')
			ch <- lineResult{s, err}
		}()
		t.pending = ch
	}
	select {
	case r := <-t.pending:
		t.pending = nil
		if r.err != nil && r.s == "" {
			return "", fmt.Errorf("read from terminal: %w", r.err)
		}
		return strings.TrimSpace(r.s), nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// None is the prompter for runs without a terminal: every call fails with
// idp.ErrNoTerminal.
type None struct{}

// Interactive tells idp.Interactive that nobody can be asked.
func (None) Interactive() bool { return false }

func (None) Secret(context.Context, string) (string, error) { return "", idp.ErrNoTerminal }
func (None) Code(context.Context, string) (string, error)   { return "", idp.ErrNoTerminal }
func (None) Choose(context.Context, string, []string) (int, error) {
	return 0, idp.ErrNoTerminal
}
