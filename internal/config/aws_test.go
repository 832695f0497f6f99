package config

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

const credProcess = "/usr/local/bin/saml2sts credential-process --profile work"

func TestSetAWSProfileGolden(t *testing.T) {
	tests := []struct {
		name, profile string
		values        map[string]string
		golden        string
	}{
		{"existing profile, keys in any case and with a colon", "saml",
			map[string]string{"credential_process": credProcess, "region": "eu-west-1"}, "aws/update.golden"},
		{"new profile, empty region left out", "work",
			map[string]string{"credential_process": credProcess, "region": ""}, "aws/new.golden"},
		{"default is [default]", "default",
			map[string]string{"credential_process": credProcess}, "aws/default.golden"},
		{"nested sub-keys are not profile keys", "dev",
			map[string]string{"credential_process": credProcess, "region": "eu-north-1"}, "aws/nested.golden"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := copyInput(t, "aws/input")
			if err := SetAWSProfile(p, tt.profile, tt.values); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.golden, readFile(t, p))
		})
	}
}

func TestSetAWSProfileNaming(t *testing.T) {
	tests := []struct{ name, in, profile, want string }{
		{"new default", "", "default", "[default]\ncredential_process = x y\n"},
		{"new named", "", "work", "[profile work]\ncredential_process = x y\n"},
		{"bare section is not a config profile", "[work]\nregion = eu-west-1\n", "work",
			"[work]\nregion = eu-west-1\n\n[profile work]\ncredential_process = x y\n"},
		{"profile default is default", "[profile default]\nregion = eu-west-1\n", "default",
			"[profile default]\nregion = eu-west-1\ncredential_process = x y\n"},
		{"[default] wins over [profile default]", "[profile default]\n[default]\n", "default",
			"[profile default]\n[default]\ncredential_process = x y\n"},
		{"extra spaces in header", "[profile   work ]\n", "work", "[profile   work ]\ncredential_process = x y\n"},
		{"empty value gets a space", "[profile work]\ncredential_process =\n", "work", "[profile work]\ncredential_process = x y\n"},
		{"indented sub-key is not the profile's key", "[profile work]\ns3 =\n  credential_process = nested\n", "work",
			"[profile work]\ns3 =\n  credential_process = nested\ncredential_process = x y\n"},
		{"crlf", "[profile work]\r\nregion = eu-west-1\r\n", "work", "[profile work]\r\nregion = eu-west-1\r\ncredential_process = x y\r\n"},
	}
	for _, tt := range tests {
		p := filepath.Join(t.TempDir(), "config")
		if tt.in != "" {
			os.WriteFile(p, []byte(tt.in), 0o600)
		}
		if err := SetAWSProfile(p, tt.profile, map[string]string{"credential_process": "x y"}); err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got := string(readFile(t, p)); got != tt.want {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, tt.want)
		}
	}
}

func TestSetAWSProfileErrors(t *testing.T) {
	p := copyInput(t, "aws/input")
	before := readFile(t, p)
	tests := []struct {
		profile string
		values  map[string]string
		want    string
	}{
		{"a b", map[string]string{"region": "eu-west-1"}, `aws profile: invalid profile name "a b": no spaces, brackets or control characters`},
		{"work", map[string]string{"credential_process": "x\n[default]"}, `aws profile work: value of credential_process contains a line break`},
		{"work", map[string]string{"bad key": "x"}, `aws profile work: invalid key "bad key"`},
	}
	for _, tt := range tests {
		if err := SetAWSProfile(p, tt.profile, tt.values); err == nil || err.Error() != tt.want {
			t.Errorf("got %v, want %s", err, tt.want)
		}
	}
	if string(readFile(t, p)) != string(before) {
		t.Error("file changed")
	}
}

func TestSetAWSProfileModes(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("modes")
	}
	dir := filepath.Join(t.TempDir(), ".aws")
	p := filepath.Join(dir, "config")
	if err := SetAWSProfile(p, "work", map[string]string{"credential_process": "x"}); err != nil {
		t.Fatal(err)
	}
	for path, mode := range map[string]os.FileMode{p: 0o600, dir: 0o700} {
		if st, err := os.Stat(path); err != nil || st.Mode().Perm() != mode {
			t.Errorf("%s: %v %v, want %v", path, st.Mode().Perm(), err, mode)
		}
	}
	os.Chmod(p, 0o644)
	if err := SetAWSProfile(p, "work", map[string]string{"region": "eu-west-1"}); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644 kept", st.Mode().Perm())
	}
}

func TestAWSCredentialsConflict(t *testing.T) {
	const creds = `# static keys
[default]
aws_access_key_id = AKIAEXAMPLE
aws_secret_access_key = secret

[work]
; only a region here
region = eu-west-1

[profile saml]
aws_access_key_id = AKIAEXAMPLE

[old]
AWS_Access_Key_ID: AKIAEXAMPLE

[empty]
aws_access_key_id =
`
	p := writeTemp(t, creds)
	tests := []struct {
		profile string
		want    bool
	}{
		{"default", true},
		{"work", false},
		{"saml", false}, // the credentials file has no "profile " prefix: [profile saml] is another name
		{"profile saml", true},
		{"old", true},
		{"empty", false},
		{"missing", false},
	}
	e := env(map[string]string{"AWS_SHARED_CREDENTIALS_FILE": p})
	for _, tt := range tests {
		got, path := AWSCredentialsConflict(e, tt.profile)
		if got != tt.want || path != p {
			t.Errorf("%s: got %v %q, want %v %q", tt.profile, got, path, tt.want, p)
		}
	}
	home := t.TempDir()
	got, path := AWSCredentialsConflict(env(map[string]string{"HOME": home}), "default")
	if got || path != filepath.Join(home, ".aws", "credentials") {
		t.Errorf("no credentials file: got %v %q", got, path)
	}
}
