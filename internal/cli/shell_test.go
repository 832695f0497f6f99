package cli

import (
	"context"
	"runtime"
	"testing"
)

func TestWindowsShellLine(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{`pass show corp/sso`, `cmd.exe /d /s /c "pass show corp/sso"`},
		{`"C:\Program Files\op.exe" read "op://vault/sso/password"`,
			`cmd.exe /d /s /c ""C:\Program Files\op.exe" read "op://vault/sso/password""`},
	} {
		if got := windowsShellLine(tt.in); got != tt.want {
			t.Errorf("windowsShellLine(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPasswordCommandShell(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("sh syntax")
	}
	pw, err := passwordCommand(`printf '%s\n' "a b"; echo ignored >&2`)(context.Background())
	if err != nil || pw != "a b" {
		t.Fatalf("passwordCommand = %q, %v; want %q", pw, err, "a b")
	}
}
