package exitcode

import (
	"errors"
	"fmt"
	"testing"
)

type coded struct{ code int }

func (c *coded) Error() string { return "coded" }
func (c *coded) ExitCode() int { return c.code }

// wrapper declares a code and wraps another coded error.
type wrapper struct {
	coded
	err error
}

func (w *wrapper) Unwrap() error { return w.err }

func TestOf(t *testing.T) {
	sent := New("no terminal", NoTerminal)
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, OK},
		{"plain", errors.New("x"), Failure},
		{"coded", &coded{Refused}, Refused},
		{"wrapped", fmt.Errorf("login: %w", &coded{Auth}), Auth},
		{"outermost wins", fmt.Errorf("x: %w", &wrapper{coded{Usage}, &coded{Auth}}), Usage},
		{"sentinel", fmt.Errorf("a: %w", sent), NoTerminal},
		{"joined", errors.Join(errors.New("x"), &coded{Auth}), Auth},
	}
	for _, tc := range tests {
		if got := Of(tc.err); got != tc.want {
			t.Errorf("%s: Of(%v) = %d, want %d", tc.name, tc.err, got, tc.want)
		}
	}
	if !errors.Is(fmt.Errorf("w: %w", sent), sent) {
		t.Error("a sentinel is not found by errors.Is")
	}
	if sent.Error() != "no terminal" {
		t.Errorf("sentinel text = %q", sent.Error())
	}
}
