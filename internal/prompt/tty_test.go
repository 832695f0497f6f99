//go:build linux

package prompt_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/saml2sts/saml2sts/internal/prompt"
)

const wait = 5 * time.Second

// term is a pseudo-terminal: the prompter gets the tty side, the test
// plays the user on the master side and keeps everything shown.
type term struct {
	t    *testing.T
	ptmx *os.File
	tty  *os.File

	mu  sync.Mutex
	out bytes.Buffer
}

func newTerm(t *testing.T) *term {
	t.Helper()
	ptmx, tty, err := openPTY()
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	tm := &term{t: t, ptmx: ptmx, tty: tty}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for {
			n, err := ptmx.Read(buf)
			tm.mu.Lock()
			tm.out.Write(buf[:n])
			tm.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		tty.Close()
		ptmx.Close()
		<-done
	})
	return tm
}

// openPTY is pty.Open with a master that Close can interrupt: pty.Open
// leaves it in blocking mode, where a Read waits for the tty side to be
// closed by everyone, including a read an interrupted prompt left behind.
func openPTY() (ptmx, tty *os.File, err error) {
	m, tty, err := pty.Open()
	if err != nil {
		return nil, nil, err
	}
	defer m.Close()
	fd, err := unix.Dup(int(m.Fd()))
	if err == nil {
		err = unix.SetNonblock(fd, true)
	}
	if err != nil {
		tty.Close()
		return nil, nil, err
	}
	return os.NewFile(uintptr(fd), "ptmx"), tty, nil
}

func (tm *term) shown() string {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	return tm.out.String()
}

// waitFor waits until s has been shown n times.
func (tm *term) waitFor(s string, n int) {
	tm.t.Helper()
	deadline := time.Now().Add(wait)
	for strings.Count(tm.shown(), s) < n {
		if time.Now().After(deadline) {
			tm.t.Fatalf("terminal never showed %q (x%d); shown:\n%s", s, n, tm.shown())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (tm *term) echo() bool {
	tm.t.Helper()
	st, err := unix.IoctlGetTermios(int(tm.tty.Fd()), unix.TCGETS)
	if err != nil {
		tm.t.Fatal(err)
	}
	return st.Lflag&unix.ECHO != 0
}

// waitEcho waits until the terminal's echo is on or off.
func (tm *term) waitEcho(on bool) {
	tm.t.Helper()
	deadline := time.Now().Add(wait)
	for tm.echo() != on {
		if time.Now().After(deadline) {
			tm.t.Fatalf("echo never turned %v", on)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// drain waits until everything the terminal had to show has been shown:
// a marker written on the tty side comes out after any echo of input
// already read (the line discipline echoes a line before it can be read).
func (tm *term) drain() {
	tm.t.Helper()
	const mark = "<drained>"
	n := strings.Count(tm.shown(), mark) + 1
	if _, err := io.WriteString(tm.tty, mark); err != nil {
		tm.t.Fatal(err)
	}
	tm.waitFor(mark, n)
}

// typeLine types s and Enter (a terminal sends CR).
func (tm *term) typeLine(s string) {
	tm.t.Helper()
	if _, err := io.WriteString(tm.ptmx, s+"\r"); err != nil {
		tm.t.Fatal(err)
	}
}

type answer[T any] struct {
	v   T
	err error
}

// async runs fn and returns its answer on a channel.
func async[T any](fn func() (T, error)) <-chan answer[T] {
	ch := make(chan answer[T], 1)
	go func() {
		v, err := fn()
		ch <- answer[T]{v, err}
	}()
	return ch
}

func await[T any](t *testing.T, ch <-chan answer[T]) answer[T] {
	t.Helper()
	select {
	case a := <-ch:
		return a
	case <-time.After(wait):
		t.Fatal("prompt did not return")
	}
	panic("unreachable")
}

// noStdout fails the test if anything is written to os.Stdout while it runs.
func noStdout(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	orig := os.Stdout
	os.Stdout = w
	t.Cleanup(func() {
		os.Stdout = orig
		w.Close()
		b, _ := io.ReadAll(r)
		r.Close()
		if len(b) > 0 {
			t.Errorf("wrote to stdout: %q", b)
		}
	})
}

func TestSecretNoEcho(t *testing.T) {
	noStdout(t)
	tm := newTerm(t)
	p := prompt.New(tm.tty, tm.tty)
	const secret = "typed-Secret-42"
	ch := async(func() (string, error) { return p.Secret(context.Background(), "Password for ana") })
	tm.waitFor("Password for ana: ", 1)
	tm.waitEcho(false) // typing earlier would be echoed by the line discipline
	tm.typeLine(secret)
	a := await(t, ch)
	if a.err != nil || a.v != secret {
		t.Fatalf("Secret = %q, %v", a.v, a.err)
	}
	if !tm.echo() {
		t.Error("echo not restored")
	}
	tm.drain() // any echo of the line is on the screen now
	if strings.Contains(tm.shown(), secret) {
		t.Errorf("the secret was echoed: %q", tm.shown())
	}
}

func TestCode(t *testing.T) {
	noStdout(t)
	tm := newTerm(t)
	p := prompt.New(tm.tty, tm.tty)
	ch := async(func() (string, error) { return p.Code(context.Background(), "Keycloak one-time code") })
	tm.waitFor("Keycloak one-time code: ", 1)
	tm.typeLine(" 314159 ")
	if a := await(t, ch); a.err != nil || a.v != "314159" {
		t.Fatalf("Code = %q, %v", a.v, a.err)
	}
}

func TestChoose(t *testing.T) {
	opts := []string{"SearchReader  account 123456789012", "SearchAdmin   account 123456789012"}
	tests := []struct {
		name    string
		answers []string
		want    int
		fail    bool
	}{
		{name: "first", answers: []string{"1"}, want: 0},
		{name: "re-asks", answers: []string{"9", "x", "2"}, want: 1},
		{name: "zero and blank", answers: []string{"0", "", " 1 "}, want: 0},
		{name: "gives up", answers: []string{"9", "x", "0", "-1", "3"}, fail: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			noStdout(t)
			tm := newTerm(t)
			p := prompt.New(tm.tty, tm.tty)
			ch := async(func() (int, error) { return p.Choose(context.Background(), "Choose a role", opts) })
			for i, a := range tt.answers {
				tm.waitFor("Choose 1-2: ", i+1)
				tm.typeLine(a)
			}
			got := await(t, ch)
			shown := tm.shown()
			for _, want := range []string{"Choose a role:", "[1] " + opts[0], "[2] " + opts[1]} {
				if !strings.Contains(shown, want) {
					t.Errorf("terminal lacks %q:\n%s", want, shown)
				}
			}
			if n := strings.Count(shown, "Choose 1-2: "); n != len(tt.answers) {
				t.Errorf("asked %d times, want %d", n, len(tt.answers))
			}
			if tt.fail {
				if got.err == nil {
					t.Fatalf("accepted %d after only bad answers", got.v)
				}
				return
			}
			if got.err != nil || got.v != tt.want {
				t.Fatalf("Choose = %d, %v; want %d", got.v, got.err, tt.want)
			}
			for _, bad := range tt.answers[:len(tt.answers)-1] {
				if !strings.Contains(shown, `"`+strings.TrimSpace(bad)+`" is not a number from 1 to 2`) {
					t.Errorf("no complaint about %q:\n%s", bad, shown)
				}
			}
		})
	}
}

// TestPromptsGoToOut: prompts are written to the given writer only.
func TestPromptsGoToOut(t *testing.T) {
	noStdout(t)
	tm := newTerm(t)
	var out syncBuf
	p := prompt.New(tm.tty, &out)
	ch := async(func() (string, error) { return p.Code(context.Background(), "Code") })
	deadline := time.Now().Add(wait)
	for out.String() != "Code: " {
		if time.Now().After(deadline) {
			t.Fatalf("prompt not written to out: %q", out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	tm.typeLine("1")
	if a := await(t, ch); a.err != nil || a.v != "1" {
		t.Fatalf("Code = %q, %v", a.v, a.err)
	}
	if strings.Contains(tm.shown(), "Code:") {
		t.Errorf("prompt written to the terminal although out is elsewhere")
	}
}

// TestInterrupt: a cancelled context (Ctrl-C in the CLI) ends a waiting
// prompt at once, with echo back on; a line typed later is not lost.
func TestInterrupt(t *testing.T) {
	t.Run("secret", func(t *testing.T) {
		tm := newTerm(t)
		p := prompt.New(tm.tty, tm.tty)
		ctx, cancel := context.WithCancel(context.Background())
		ch := async(func() (string, error) { return p.Secret(ctx, "Password") })
		tm.waitFor("Password: ", 1)
		tm.waitEcho(false)
		cancel()
		if a := await(t, ch); !errors.Is(a.err, context.Canceled) {
			t.Fatalf("Secret after cancel: %q, %v", a.v, a.err)
		}
		if !tm.echo() {
			t.Error("echo left off after an interrupted password prompt")
		}
	})
	t.Run("already cancelled", func(t *testing.T) {
		tm := newTerm(t)
		p := prompt.New(tm.tty, tm.tty)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		ch := async(func() (string, error) { return p.Secret(ctx, "Password") })
		if a := await(t, ch); !errors.Is(a.err, context.Canceled) {
			t.Fatalf("Secret: %v", a.err)
		}
		if !tm.echo() {
			t.Error("echo off")
		}
	})
	t.Run("code then again", func(t *testing.T) {
		tm := newTerm(t)
		p := prompt.New(tm.tty, tm.tty)
		ctx, cancel := context.WithCancel(context.Background())
		ch := async(func() (string, error) { return p.Code(ctx, "Code") })
		tm.waitFor("Code: ", 1)
		cancel()
		if a := await(t, ch); !errors.Is(a.err, context.Canceled) {
			t.Fatalf("Code after cancel: %q, %v", a.v, a.err)
		}
		ch = async(func() (string, error) { return p.Code(context.Background(), "Code") })
		tm.waitFor("Code: ", 2)
		tm.typeLine("42")
		if a := await(t, ch); a.err != nil || a.v != "42" {
			t.Fatalf("Code = %q, %v", a.v, a.err)
		}
	})
	t.Run("choose", func(t *testing.T) {
		tm := newTerm(t)
		p := prompt.New(tm.tty, tm.tty)
		ctx, cancel := context.WithCancel(context.Background())
		ch := async(func() (int, error) { return p.Choose(ctx, "Role", []string{"a", "b"}) })
		tm.waitFor("Choose 1-2: ", 1)
		cancel()
		if a := await(t, ch); !errors.Is(a.err, context.Canceled) {
			t.Fatalf("Choose after cancel: %d, %v", a.v, a.err)
		}
	})
}

func TestEOF(t *testing.T) {
	tm := newTerm(t)
	p := prompt.New(tm.tty, tm.tty)
	ch := async(func() (string, error) { return p.Code(context.Background(), "Code") })
	tm.waitFor("Code: ", 1)
	io.WriteString(tm.ptmx, "\x04") // Ctrl-D on an empty line
	if a := await(t, ch); a.err == nil {
		t.Fatalf("Code at EOF = %q, want an error", a.v)
	}
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
