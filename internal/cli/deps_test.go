package cli

import (
	"context"
	"os"
	"strings"
	"testing"
)

func TestEnvTrue(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]bool{
		"": false, "0": false, "false": false, "FALSE": false, "no": false, "off": false, " 0 ": false,
		"1": true, "true": true, "yes": true, "api": true,
	} {
		if got := envTrue(v); got != want {
			t.Errorf("envTrue(%q) = %v, want %v", v, got, want)
		}
	}
}

// TestPasswordCommandFailure: the error says why (first stderr line) but
// never shows stdout, which may hold the password.
func TestPasswordCommandFailure(t *testing.T) {
	t.Parallel()
	// The markers are assembled by the shell, so they appear only in the
	// command's output, never in the command text the error quotes.
	cmd := `printf 'hunter%s\n' 2-secret; echo 'gpg: decryption failed: No secret key' >&2; printf 'second%s\n' -line >&2; exit 2`
	f := newFactory(Process{Env: []string{"PATH=" + os.Getenv("PATH")}})
	_, err := f.passwordCommand(cmd)(context.Background())
	if err == nil {
		t.Fatal("want an error")
	}
	msg := err.Error()
	if !strings.Contains(msg, "gpg: decryption failed: No secret key") || strings.Contains(msg, "second-line") {
		t.Errorf("want the first stderr line only: %q", msg)
	}
	if strings.Contains(msg, "hunter2-secret") {
		t.Errorf("error shows the command's stdout: %q", msg)
	}
	pw, err := f.passwordCommand(`printf 'pw with spaces\n'`)(context.Background())
	if err != nil || pw != "pw with spaces" {
		t.Errorf("got %q, %v", pw, err)
	}
	if _, err := f.passwordCommand(`true`)(context.Background()); err == nil || !strings.Contains(err.Error(), "printed nothing") {
		t.Errorf("empty output: %v", err)
	}
}
