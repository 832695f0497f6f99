package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestCompletion(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config")
	if err := os.WriteFile(cfg, []byte("[profile analytics]\nprovider = keycloak\n\n[profile sandbox]\nprovider = okta\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"SAML2STS_CONFIG": cfg, "HOME": dir}
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"login", "--profile", ""}, []string{"analytics", "sandbox"}},
		{[]string{"status", "-p", "s"}, []string{"analytics", "sandbox"}}, // the shell filters by prefix
		{[]string{"configure", "--provider", ""}, flagValues["provider"]},
		{[]string{"login", "--mfa", ""}, flagValues["mfa"]},
		{[]string{"login", "--cache", ""}, []string{"auto", "keyring", "file"}},
		{[]string{"search", "logs", "--format", ""}, []string{"json", "ndjson", "csv", "table"}},
		{[]string{"env", "--format", ""}, envFormats},
		{[]string{"os", "GET", "/", "--service", ""}, []string{"auto", "es", "aoss"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			f := newFactory(strings.NewReader(""), &out, &errb, func(k string) string { return env[k] })
			if code := run(context.Background(), f, append([]string{"__complete"}, tt.args...)); code != 0 {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			got := lines[:len(lines)-1] // the last line is the directive
			if !slices.Equal(got, tt.want) {
				t.Errorf("completions = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCompletionNoConfig(t *testing.T) {
	var out, errb bytes.Buffer
	dir := t.TempDir()
	f := newFactory(strings.NewReader(""), &out, &errb, func(k string) string {
		return map[string]string{"SAML2STS_CONFIG": filepath.Join(dir, "missing"), "HOME": dir}[k]
	})
	if code := run(context.Background(), f, []string{"__complete", "login", "--profile", ""}); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if strings.TrimSpace(out.String()) != ":4" {
		t.Errorf("no config should complete nothing, got %q", out.String())
	}
}
