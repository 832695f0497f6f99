// Package prompt asks the user things on the controlling terminal
// (/dev/tty), never on stdout, so that prompts work even when stdout is a
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

	"golang.org/x/term"

	"github.com/saml2sts/saml2sts/idp"
)

// TTY is an idp.Prompter on a terminal.
type TTY struct {
	in  *os.File // read side (the terminal)
	out io.Writer
	r   *bufio.Reader
}

// Open returns a prompter on /dev/tty, or a [None] when there is no
// terminal or noInput is set.
func Open(noInput bool) idp.Prompter {
	if noInput {
		return None{}
	}
	f, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil || !term.IsTerminal(int(f.Fd())) {
		if f != nil {
			f.Close()
		}
		return None{}
	}
	return New(f, f)
}

// New builds a prompter on the given terminal streams (tests pass a pty).
func New(in *os.File, out io.Writer) *TTY {
	return &TTY{in: in, out: out, r: bufio.NewReader(in)}
}

// Interactive reports whether p can ask the user anything.
func Interactive(p idp.Prompter) bool {
	_, none := p.(None)
	return !none
}

// Secret reads a line without echo.
func (t *TTY) Secret(ctx context.Context, label string) (string, error) {
	fmt.Fprintf(t.out, "%s: ", label)
	b, err := term.ReadPassword(int(t.in.Fd()))
	fmt.Fprintln(t.out)
	if err != nil {
		return "", fmt.Errorf("read %s from terminal: %w", strings.ToLower(label), err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// Code reads a short visible line.
func (t *TTY) Code(ctx context.Context, label string) (string, error) {
	fmt.Fprintf(t.out, "%s: ", label)
	return t.line()
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
		s, err := t.line()
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

func (t *TTY) line() (string, error) {
	s, err := t.r.ReadString('\n')
	if err != nil && s == "" {
		return "", fmt.Errorf("read from terminal: %w", err)
	}
	return strings.TrimSpace(s), nil
}

// None is the prompter for runs without a terminal: every call fails with
// idp.ErrNoTerminal.
type None struct{}

func (None) Secret(context.Context, string) (string, error) { return "", idp.ErrNoTerminal }
func (None) Code(context.Context, string) (string, error)   { return "", idp.ErrNoTerminal }
func (None) Choose(context.Context, string, []string) (int, error) {
	return 0, idp.ErrNoTerminal
}
