package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var testCreds = map[string]string{
	"aws_access_key_id":        "ASIANEW",
	"aws_secret_access_key":    "secretNEW",
	"aws_session_token":        "tokenNEW",
	"x_security_token_expires": "2026-12-03T18:00:00Z",
}

const newSection = "aws_access_key_id = ASIANEW\naws_secret_access_key = secretNEW\naws_session_token = tokenNEW\nx_security_token_expires = 2026-12-03T18:00:00Z\n"

// TestSetAWSCredentials: the section is written or updated, everything else
// stays byte for byte, and RemoveAWSCredentials gives back the file as it was.
func TestSetAWSCredentials(t *testing.T) {
	tests := []struct {
		name, in, want string
		created        bool
		back           string // after removal; "" = in
	}{
		{name: "missing file", in: "", want: "[saml]\n" + newSection, created: true},
		{name: "appended, comments kept",
			in:      "# my keys\n[default]\naws_access_key_id = AKIAUSER ; mine\naws_secret_access_key=s\n",
			want:    "# my keys\n[default]\naws_access_key_id = AKIAUSER ; mine\naws_secret_access_key=s\n\n[saml]\n" + newSection,
			created: true},
		{name: "crlf",
			in:      "[default]\r\naws_access_key_id = AKIAUSER\r\n",
			want:    "[default]\r\naws_access_key_id = AKIAUSER\r\n\r\n[saml]\r\n" + strings.ReplaceAll(newSection, "\n", "\r\n"),
			created: true},
		{name: "no trailing newline",
			in:      "[default]\naws_access_key_id = AKIAUSER",
			want:    "[default]\naws_access_key_id = AKIAUSER\n\n[saml]\n" + newSection,
			created: true, back: "[default]\naws_access_key_id = AKIAUSER\n"},
		{name: "updated in place, other keys and the next section's comment kept",
			in:   "[saml]\nregion = eu-west-1\naws_access_key_id=ASIAOLD\naws_session_token = tokenOLD\n\n# work\n[work]\nx = 1\n",
			want: "[saml]\nregion = eu-west-1\naws_access_key_id=ASIANEW\naws_session_token = tokenNEW\naws_secret_access_key = secretNEW\nx_security_token_expires = 2026-12-03T18:00:00Z\n\n# work\n[work]\nx = 1\n",
			back: "[saml]\nregion = eu-west-1\n\n# work\n[work]\nx = 1\n"},
		{name: "duplicate other sections kept",
			in:      "[a]\nk = 1\n[a]\nk = 2\n",
			want:    "[a]\nk = 1\n[a]\nk = 2\n\n[saml]\n" + newSection,
			created: true},
		{name: "created in the middle: removal keeps the next section's comment",
			in:   "[saml]\naws_access_key_id = ASIAOLD\n\n# next\n[b]\n",
			want: "[saml]\naws_access_key_id = ASIANEW\naws_secret_access_key = secretNEW\naws_session_token = tokenNEW\nx_security_token_expires = 2026-12-03T18:00:00Z\n\n# next\n[b]\n",
			back: "[saml]\n\n# next\n[b]\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "aws", "credentials")
			if tt.in != "" {
				os.MkdirAll(filepath.Dir(path), 0o700)
				if err := os.WriteFile(path, []byte(tt.in), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			created, err := SetAWSCredentials(path, "saml", testCreds)
			if err != nil {
				t.Fatal(err)
			}
			if created != tt.created {
				t.Errorf("created = %v, want %v", created, tt.created)
			}
			got, _ := os.ReadFile(path)
			if string(got) != tt.want {
				t.Fatalf("file:\n%q\nwant\n%q", got, tt.want)
			}
			st, _ := os.Stat(path)
			if wantMode := map[bool]os.FileMode{true: 0o600, false: 0o644}[tt.in == ""]; st.Mode().Perm() != wantMode {
				t.Errorf("mode %v, want %v", st.Mode().Perm(), wantMode)
			}
			// A second export is idempotent.
			if _, err := SetAWSCredentials(path, "saml", testCreds); err != nil {
				t.Fatal(err)
			}
			if again, _ := os.ReadFile(path); string(again) != tt.want {
				t.Fatalf("second write changed the file:\n%q", again)
			}
			removed, err := RemoveAWSCredentials(path, "saml", created, func(id string) bool { return id == "ASIANEW" })
			if err != nil || !removed {
				t.Fatalf("remove = %v, %v", removed, err)
			}
			back, _ := os.ReadFile(path)
			want := tt.back
			if want == "" {
				want = tt.in
			}
			if string(back) != want {
				t.Fatalf("after removal:\n%q\nwant\n%q", back, want)
			}
		})
	}
}

// TestRemoveAWSCredentialsLeavesUserKeys: keys the user has since replaced
// are theirs, not ours to delete.
func TestRemoveAWSCredentialsLeavesUserKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "credentials")
	if _, err := SetAWSCredentials(path, "saml", testCreds); err != nil {
		t.Fatal(err)
	}
	user := "[saml]\naws_access_key_id = AKIAUSER\naws_secret_access_key = mine\n"
	os.WriteFile(path, []byte(user), 0o600)
	removed, err := RemoveAWSCredentials(path, "saml", true, func(id string) bool { return id == "ASIANEW" })
	if err != nil || removed {
		t.Fatalf("remove = %v, %v; want false, nil", removed, err)
	}
	if got, _ := os.ReadFile(path); string(got) != user {
		t.Fatalf("file changed: %q", got)
	}
}

// TestSetAWSCredentialsDuplicateSection: two [saml] headers are refused
// with the lines named, and the file is untouched.
func TestSetAWSCredentialsDuplicateSection(t *testing.T) {
	path := filepath.Join(t.TempDir(), "credentials")
	in := "[saml]\nk = 1\n[other]\n[saml]\nk = 2\n"
	os.WriteFile(path, []byte(in), 0o600)
	_, err := SetAWSCredentials(path, "saml", testCreds)
	if err == nil || !strings.Contains(err.Error(), "[saml] appears twice (lines 1 and 4)") {
		t.Fatalf("err = %v", err)
	}
	if got, _ := os.ReadFile(path); string(got) != in {
		t.Fatalf("file changed: %q", got)
	}
}

// FuzzAWSCredentialsRoundTrip: for any credentials file without a [saml]
// section, export then logout gives the file back (plus the line ending
// a last line without one gained), and export never breaks other lines.
func FuzzAWSCredentialsRoundTrip(f *testing.F) {
	for _, s := range []string{"", "[default]\naws_access_key_id = A\n", "# c\r\n[a]\r\nk=v", "\ufeff[x]\n  sub = 1\n;c\n", "[a]\n[a]\n", "k = v\n[saml2]\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if strings.Contains(in, "saml") || strings.ContainsRune(in, '\r') && !strings.Contains(in, "\r\n") {
			t.Skip()
		}
		path := filepath.Join(t.TempDir(), "credentials")
		if err := os.WriteFile(path, []byte(in), 0o600); err != nil {
			t.Fatal(err)
		}
		created, err := SetAWSCredentials(path, "saml", testCreds)
		if err != nil {
			t.Fatal(err)
		}
		if !created {
			t.Fatal("section not created")
		}
		written, _ := os.ReadFile(path)
		if !strings.HasPrefix(string(written), strings.TrimSuffix(in, "\n")) {
			t.Fatalf("export changed existing lines:\n%q\n%q", in, written)
		}
		if removed, err := RemoveAWSCredentials(path, "saml", true, func(id string) bool { return id == "ASIANEW" }); err != nil || !removed {
			t.Fatalf("remove = %v, %v", removed, err)
		}
		back, _ := os.ReadFile(path)
		// A last line without a line ending gains the file's own.
		if got := string(back); got != in && got != in+"\n" && got != in+"\r\n" {
			t.Fatalf("round trip:\n%q\n%q", in, back)
		}
	})
}
