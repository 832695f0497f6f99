package config

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", p, got, want)
	}
}

// copyInput copies a testdata file into a temporary directory.
func copyInput(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return writeTemp(t, string(data))
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const keycloakURL = "https://sso.example.com/realms/corp/protocol/saml/clients/aws"

func TestSetGolden(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(path string) error
		golden string
	}{
		{"update in place, add, delete", func(p string) error {
			return Set(p, "prod", map[string]string{"region": "eu-central-1", "role_arn": "arn:aws:iam::123456789012:role/ReadOnly", "duration": ""})
		}, "set/update.golden"},
		{"new section", func(p string) error {
			return Set(p, "staging", map[string]string{"provider": "keycloak", "url": keycloakURL, "region": "eu-west-1"})
		}, "set/new.golden"},
		{"default section", func(p string) error {
			return Set(p, "default", map[string]string{"url": keycloakURL + "2", "mfa": "totp"})
		}, "set/default.golden"},
		{"delete section", func(p string) error { return Delete(p, "prod") }, "set/delete.golden"},
		{"delete last section", func(p string) error { return Delete(p, "dev") }, "set/delete-last.golden"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := copyInput(t, "set/input")
			if err := tt.edit(p); err != nil {
				t.Fatal(err)
			}
			got := readFile(t, p)
			golden(t, tt.golden, got)
			if _, err := Load(p); err != nil {
				t.Errorf("result does not load: %v", err)
			}
		})
	}
}

func TestSetNoChangeKeepsFile(t *testing.T) {
	p := copyInput(t, "set/input")
	old := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := os.Chtimes(p, old, old); err != nil {
		t.Fatal(err)
	}
	// The same value, an absent key deleted, and nothing for a new profile.
	if err := Set(p, "prod", map[string]string{"duration": "2h", "mfa": ""}); err != nil {
		t.Fatal(err)
	}
	if err := Set(p, "ghost", map[string]string{"mfa": ""}); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(p); !st.ModTime().Equal(old) {
		t.Error("file was rewritten although nothing changed")
	}
}

func TestSetRejectsWithoutWriting(t *testing.T) {
	tests := []struct {
		name, content, profile string
		values                 map[string]string
		want                   string // PATH stands for the file
	}{
		{"bad value", "", "prod", map[string]string{"region": "eu-central-1", "duration": "10m"},
			`--duration: 10m is below the AWS minimum of 15m`},
		{"unknown key", "", "prod", map[string]string{"rol_arn": "x"}, `set profile prod: unknown key "rol_arn" (did you mean "role_arn"?)`},
		{"line break", "", "prod", map[string]string{"password_command": "a\nb"}, `--password-command: value contains a line break`},
		{"bad profile name", "", "a b", map[string]string{"region": "eu-west-1"}, `invalid profile name "a b": no spaces, brackets or control characters`},
		{"duration vs refresh", "", "prod", map[string]string{"refresh_window": "3h"},
			`--refresh-window: 3h must be shorter than duration 2h: lower refresh_window or raise duration`},
		{"broken file", "[default]\nprovider = keycloak\nbogus\n", "default", map[string]string{"region": "eu-west-1"},
			`PATH:3: malformed line: want key = value, a [section] header or a # comment`},
		{"option of another provider", "[default]\nprovider = okta\n", "default", map[string]string{"adfs_auth": "ntlm"},
			`--adfs-auth: applies only to provider adfs, and [default] uses provider okta, which would ignore it: remove it (saml2sts configure --adfs-auth '')`},
		{"provider changed under an option", "[default]\nprovider = adfs\nadfs_auth = kerberos\n", "default", map[string]string{"provider": "form"},
			`PATH:3: adfs_auth: applies only to provider adfs, and [default] uses provider form, which would ignore it: remove it (saml2sts configure --adfs-auth '')`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := copyInput(t, "set/input")
			if tt.content != "" {
				p = writeTemp(t, tt.content)
			}
			before := readFile(t, p)
			old := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
			if err := os.Chtimes(p, old, old); err != nil {
				t.Fatal(err)
			}
			err := Set(p, tt.profile, tt.values)
			if want := strings.ReplaceAll(tt.want, "PATH", p); err == nil || err.Error() != want {
				t.Errorf("error\n got %v\nwant %s", err, want)
			}
			if !bytes.Equal(readFile(t, p), before) {
				t.Error("file content changed")
			}
			if st, _ := os.Stat(p); !st.ModTime().Equal(old) {
				t.Errorf("mtime changed to %v", st.ModTime())
			}
			if ents, _ := os.ReadDir(filepath.Dir(p)); len(ents) != 1 {
				t.Errorf("directory has %d entries, want only the file", len(ents))
			}
		})
	}
}

func TestSetCreatesFileAndDir(t *testing.T) {
	root := t.TempDir()
	p := filepath.Join(root, "xdg", "saml2sts", "config")
	if err := Set(p, "default", map[string]string{"provider": "keycloak", "url": keycloakURL}); err != nil {
		t.Fatal(err)
	}
	want := "[default]\nprovider = keycloak\nurl = " + keycloakURL + "\n"
	if got := string(readFile(t, p)); got != want {
		t.Errorf("content:\n%s\nwant:\n%s", got, want)
	}
	if runtime.GOOS == "windows" {
		return
	}
	for _, c := range []struct {
		path string
		mode os.FileMode
	}{{p, 0o600}, {filepath.Dir(p), 0o700}, {filepath.Join(root, "xdg"), 0o700}} {
		st, err := os.Stat(c.path)
		if err != nil || st.Mode().Perm() != c.mode {
			t.Errorf("%s: mode %v, %v; want %v", c.path, st.Mode().Perm(), err, c.mode)
		}
	}
}

func TestSetKeepsModeAndSymlink(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("modes and symlinks")
	}
	dir := t.TempDir()
	target := filepath.Join(dir, "dotfiles", "config")
	os.MkdirAll(filepath.Dir(target), 0o755)
	if err := os.WriteFile(target, []byte("[default]\nprovider = keycloak\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "config")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if err := Set(link, "default", map[string]string{"region": "eu-west-1"}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("symlink replaced by a file: %v %v", fi.Mode(), err)
	}
	if got := string(readFile(t, target)); got != "[default]\nprovider = keycloak\nregion = eu-west-1\n" {
		t.Errorf("target content %q", got)
	}
	if st, _ := os.Stat(target); st.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640 kept", st.Mode().Perm())
	}
}

func TestSetLineEndings(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"crlf", "[default]\r\nprovider = keycloak\r\n", "[default]\r\nprovider = keycloak\r\nregion = eu-west-1\r\n"},
		{"no final newline", "[default]\nprovider = keycloak", "[default]\nprovider = keycloak\nregion = eu-west-1\n"},
		{"bom", "\ufeff[default]\nprovider = keycloak\n", "\ufeff[default]\nprovider = keycloak\nregion = eu-west-1\n"},
		{"empty value in the file is refused", "[default]\nregion=\n", ""},
	}
	for _, tt := range tests {
		p := writeTemp(t, tt.in)
		err := Set(p, "default", map[string]string{"region": "eu-west-1"})
		if tt.want == "" {
			if err == nil {
				t.Errorf("%s: want an error", tt.name)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got := string(readFile(t, p)); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestDeleteNotFound(t *testing.T) {
	p := copyInput(t, "set/input")
	err := Delete(p, "nope")
	var nf *NotFoundError
	if !errors.As(err, &nf) || strings.Join(nf.Known, ",") != "default,prod,dev" {
		t.Errorf("Delete(nope) = %v, want *NotFoundError listing the profiles", err)
	}
}

// TestPreview: the profile as Set would leave it, with nothing written.
func TestPreview(t *testing.T) {
	p := writeTemp(t, "[default]\nprovider = adfs\nurl = https://adfs.corp.example\nadfs_auth = ntlm\nmfa = push\n")
	before := readFile(t, p)
	got, err := Preview(p, "default", map[string]string{"provider": "okta", "adfs_auth": "", "mfa": "", "url": "https://corp.okta.com/home/amazon_aws/0oa1/272"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Provider != "okta" || got.URL != "https://corp.okta.com/home/amazon_aws/0oa1/272" || got.MFA != "auto" || got.Options["adfs_auth"] != "forms" {
		t.Errorf("preview = %+v", got)
	}
	if !bytes.Equal(readFile(t, p), before) {
		t.Error("Preview wrote the file")
	}
	if got, err := Preview(p, "new", map[string]string{"region": ""}); err != nil || got.Name != "new" || got.Provider != "" {
		t.Errorf("nothing to write: %+v, %v", got, err)
	}
	if _, err := Preview(p, "default", map[string]string{"provider": "okta"}); err == nil || !strings.Contains(err.Error(), "adfs_auth: applies only to provider adfs") {
		t.Errorf("want Set's error, got %v", err)
	}
}

// TestSetMany: several sections in one write, the edits of an earlier
// section moving later ones; values read back; a bad value writes nothing.
func TestSetMany(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	in := "# keep me\n[profile a]\nregion = eu-west-1\n\n[profile b]\nregion = us-east-1\r\n"
	if err := os.WriteFile(path, []byte(in), 0o600); err != nil {
		t.Fatal(err)
	}
	err := SetMany(path, []string{"a", "b", "c"}, []map[string]string{
		{"duration": "2h"}, {"region": "eu-central-1"}, {"region": "eu-west-2", "role_arn": "arn:aws:iam::123456789012:role/R"},
	})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	want := "# keep me\n[profile a]\nregion = eu-west-1\nduration = 2h\n\n[profile b]\nregion = eu-central-1\r\n\n[profile c]\nrole_arn = arn:aws:iam::123456789012:role/R\nregion = eu-west-2\n"
	if string(got) != want {
		t.Errorf("got:\n%q\nwant:\n%q", got, want)
	}
	f, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if v := f.Values("c"); v["region"] != "eu-west-2" || len(v) != 2 {
		t.Errorf("Values(c) = %v", v)
	}
	if f.Values("zz") != nil {
		t.Error("Values of a missing profile is not nil")
	}
	if err := SetMany(path, []string{"d", "e"}, []map[string]string{{"region": "eu-west-1"}, {"duration": "forever"}}); err == nil {
		t.Error("bad duration accepted")
	}
	if again, _ := os.ReadFile(path); string(again) != string(got) {
		t.Errorf("a refused SetMany wrote:\n%s", again)
	}
}
