package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// writeTemp writes content to a fresh "config" file and returns its path.
func writeTemp(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestPath(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"explicit", map[string]string{"SAML2STS_CONFIG": "/etc/s2s.ini", "XDG_CONFIG_HOME": "/x", "HOME": "/h"}, "/etc/s2s.ini"},
		{"explicit tilde", map[string]string{"SAML2STS_CONFIG": "~/s2s.ini", "HOME": "/h"}, "/h/s2s.ini"},
		{"xdg", map[string]string{"XDG_CONFIG_HOME": "/x", "HOME": "/h"}, "/x/saml2sts/config"},
		{"relative xdg ignored", map[string]string{"XDG_CONFIG_HOME": "rel", "HOME": "/h"}, "/h/.config/saml2sts/config"},
		{"home", map[string]string{"HOME": "/h"}, "/h/.config/saml2sts/config"},
	}
	for _, tt := range tests {
		if got := Path(env(tt.env)); got != filepath.FromSlash(tt.want) {
			t.Errorf("%s: Path = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestAWSPaths(t *testing.T) {
	if got := AWSConfigPath(env(map[string]string{"HOME": "/h"})); got != filepath.FromSlash("/h/.aws/config") {
		t.Errorf("AWSConfigPath = %q", got)
	}
	if got := AWSConfigPath(env(map[string]string{"HOME": "/h", "AWS_CONFIG_FILE": "/c"})); got != "/c" {
		t.Errorf("AWSConfigPath with AWS_CONFIG_FILE = %q", got)
	}
}

func TestProfileName(t *testing.T) {
	e := env(map[string]string{"SAML2STS_PROFILE": "fromenv"})
	if got := ProfileName("flag", e); got != "flag" {
		t.Errorf("flag: got %q", got)
	}
	if got := ProfileName("", e); got != "fromenv" {
		t.Errorf("env: got %q", got)
	}
	if got := ProfileName("", env(nil)); got != "default" {
		t.Errorf("none: got %q", got)
	}
}

func TestLoad(t *testing.T) {
	p := writeTemp(t, `# saml2sts profiles
; another comment

[default]
provider = keycloak
url = https://sso.example.com/saml

[profile prod]
  provider=keycloak
	url = https://sso.example.com/saml#prod
role_arn = arn:aws:iam::123456789012:role/Admin

[profile   dev ]   # trailing comment
provider = okta
url = https://corp.okta.com/app/amazon_aws/x/sso/saml
`)
	f, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := f.Profiles(), []string{"default", "prod", "dev"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Profiles = %q, want %q", got, want)
	}
	if !f.Has("dev") || f.Has("profile dev") || f.Has("nope") || f.Path() != p {
		t.Errorf("Has/Path wrong: %v %v %v %q", f.Has("dev"), f.Has("profile dev"), f.Has("nope"), f.Path())
	}
	prof, err := Resolve(f, "prod", env(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	if prof.URL != "https://sso.example.com/saml#prod" || prof.Provider != "keycloak" || prof.RoleARN == "" {
		t.Errorf("prod = %+v", prof)
	}
}

func TestLoadMissingFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "nope", "config")
	f, err := Load(p)
	if err != nil || f == nil || len(f.Profiles()) != 0 || f.Path() != p {
		t.Fatalf("Load(missing) = %v, %v; want an empty file", f, err)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name, content, want string // want has PATH for the file's path
		key                 string
	}{
		{"unknown key", "[default]\nprovider = keycloak\n\n# c\n\n\nrol_arn = arn:aws:iam::123456789012:role/A\n",
			`PATH:7: unknown key "rol_arn" (did you mean "role_arn"?)`, "rol_arn"},
		{"unknown key no suggestion", "[default]\nfoo = 1\n", `PATH:2: unknown key "foo"`, "foo"},
		{"bad value", "[profile a]\nduration = 10m\n", `PATH:2: duration: 10m is below the AWS minimum of 15m`, "duration"},
		{"bad provider", "[profile a]\nprovider = keycloack\n",
			`PATH:2: provider: "keycloack" is not one of keycloak, okta, adfs, form (did you mean "keycloak"?)`, "provider"},
		{"empty username", "[profile a]\nusername =\n", `PATH:2: username: empty value: delete the line to unset it`, "username"},
		{"malformed", "[default]\nprovider keycloak\n", `PATH:2: malformed line: want key = value, a [section] header or a # comment`, ""},
		{"unclosed header", "[default\n", `PATH:1: malformed line: want key = value, a [section] header or a # comment`, ""},
		{"junk after header", "[default] x\n", `PATH:1: malformed line: want key = value, a [section] header or a # comment`, ""},
		{"empty key", "[default]\n= x\n", `PATH:2: malformed line: want key = value, a [section] header or a # comment`, ""},
		{"duplicate key", "[profile a]\nregion = eu-west-1\nregion = eu-west-2\n", `PATH:3: duplicate key "region" in [profile a] (first on line 2)`, "region"},
		{"duplicate section", "[profile a]\n[default]\n[profile  a]\n", `PATH:3: duplicate section [profile  a] (first on line 1)`, ""},
		{"default twice", "[default]\n[profile default]\n", `PATH:2: duplicate section [profile default] (first on line 1)`, ""},
		{"outside section", "# c\nregion = eu-west-1\n[default]\n",
			`PATH:2: key "region" is outside any section: put it under [default] or [profile NAME]`, "region"},
		{"bare section", "[work]\n", `PATH:1: section [work] is not [default] or [profile NAME] (did you mean [profile work]?)`, ""},
		{"profilex", "[profilex]\n", `PATH:1: section [profilex] is not [default] or [profile NAME] (did you mean [profile profilex]?)`, ""},
		{"empty header", "[ ]\n", `PATH:1: empty section name: want [default] or [profile NAME]`, ""},
		{"nameless", "[profile]\n", `PATH:1: section [profile] has no name: want [profile NAME]`, ""},
		{"spaced name", "[profile a b]\n", `PATH:1: invalid profile name "a b": no spaces, brackets or control characters`, ""},
		{"crlf line count", "[default]\r\n\r\nregion = nowhere\r\n", `PATH:3: region: "nowhere" is not an AWS region like eu-west-1`, "region"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeTemp(t, tt.content)
			_, err := Load(p)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Load error = %v (%T), want *Error", err, err)
			}
			want := p + tt.want[len("PATH"):]
			if err.Error() != want {
				t.Errorf("error\n got %s\nwant %s", err, want)
			}
			if e.Key != tt.key || e.Path != p {
				t.Errorf("Key, Path = %q, %q; want %q, %q", e.Key, e.Path, tt.key, p)
			}
		})
	}
}

func TestResolvePrecedence(t *testing.T) {
	f, err := Load(writeTemp(t, "[profile p]\nprovider = keycloak\nurl = https://sso.example.com/s\nregion = eu-west-1\nduration = 2h\n"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		env, flags map[string]string
		region     string
		duration   time.Duration
	}{
		{"file", nil, nil, "eu-west-1", 2 * time.Hour},
		{"env over file", map[string]string{"SAML2STS_REGION": "us-east-1", "SAML2STS_DURATION": "5400"}, nil, "us-east-1", 90 * time.Minute},
		{"flags over env", map[string]string{"SAML2STS_REGION": "us-east-1"}, map[string]string{"region": "cn-north-1", "duration": "30m"}, "cn-north-1", 30 * time.Minute},
		{"empty env and flag are unset", map[string]string{"SAML2STS_REGION": ""}, map[string]string{"region": " "}, "eu-west-1", 2 * time.Hour},
	}
	for _, tt := range tests {
		p, err := Resolve(f, "p", env(tt.env), tt.flags)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if p.Region != tt.region || p.Duration != tt.duration {
			t.Errorf("%s: region %q duration %v; want %q %v", tt.name, p.Region, p.Duration, tt.region, tt.duration)
		}
	}
}

func TestResolveEveryKeyFromEnv(t *testing.T) {
	vals := map[string]string{
		"provider": "okta", "url": "https://corp.okta.com/app/x/sso/saml", "username": "alice",
		"role_arn": "arn:aws:iam::123456789012:role/Dev", "principal_arn": "arn:aws:iam::123456789012:saml-provider/okta",
		"region": "eu-west-1", "duration": "2h", "mfa": "push", "cache": "file", "password_command": "pass show okta",
		"refresh_window": "10m", "opensearch_endpoint": "https://search.example.com", "opensearch_service": "aoss",
		"adfs_auth": "ntlm", "form_username_field": "j_username", "form_password_field": "j_password", "form_error_selector": "p.form-error",
		"dashboards_idp_url": "https://corp.okta.com/app/dash/sso/saml", "duo_device": "iPhone",
		"browser": "fallback", "browser_headless": "true", "browser_path": "/opt/chrome/chrome", "browser_timeout": "90s",
	}
	e := map[string]string{}
	for k, v := range vals {
		key, _ := Lookup(k)
		e[key.Env()] = v
	}
	if len(vals) != len(Keys()) {
		t.Fatalf("test covers %d keys, table has %d", len(vals), len(Keys()))
	}
	p, err := Resolve(nil, "adhoc", env(e), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Profile{Name: "adhoc", Provider: "okta", URL: vals["url"], Username: "alice", RoleARN: vals["role_arn"],
		PrincipalARN: vals["principal_arn"], Region: "eu-west-1", Duration: 2 * time.Hour, MFA: "push", Cache: "file",
		PasswordCommand: "pass show okta", RefreshWindow: 10 * time.Minute, OpenSearchEndpoint: vals["opensearch_endpoint"],
		OpenSearchService: "aoss", DashboardsIdPURL: vals["dashboards_idp_url"], Source: "environment and flags",
		Browser: "fallback", BrowserHeadless: true, BrowserPath: "/opt/chrome/chrome", BrowserTimeout: 90 * time.Second,
		Options: map[string]string{"adfs_auth": "ntlm", "form_username_field": "j_username", "form_password_field": "j_password", "form_error_selector": "p.form-error",
			"duo_device": "iPhone"}}
	if !reflect.DeepEqual(*p, want) {
		t.Errorf("got  %+v\nwant %+v", *p, want)
	}
}

func TestResolveDefaults(t *testing.T) {
	path := writeTemp(t, "[default]\nprovider = keycloak\nurl = https://sso.example.com/s\n")
	f, _ := Load(path)
	p, err := Resolve(f, "default", env(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Profile{Name: "default", Provider: "keycloak", URL: "https://sso.example.com/s", Duration: time.Hour,
		MFA: "auto", Cache: "auto", RefreshWindow: 15 * time.Minute, OpenSearchService: "auto", Source: path, File: path,
		Browser: "never", BrowserTimeout: 5 * time.Minute,
		Options: map[string]string{"adfs_auth": "forms"}}
	if !reflect.DeepEqual(*p, want) {
		t.Errorf("got  %+v\nwant %+v", *p, want)
	}
}

func TestResolveNotFound(t *testing.T) {
	path := writeTemp(t, "[profile a]\nprovider = keycloak\n[profile b]\n")
	f, _ := Load(path)
	tests := []struct {
		name, profile string
		env           map[string]string
		flags         map[string]string
		want          string // "" means found; without PATH a prefix
	}{
		{"unknown", "x", nil, nil, `profile "x" not found in PATH (profiles: a, b); create it: saml2sts configure --profile x --provider keycloak --url URL`},
		{"default", "default", nil, nil, `profile "default" not found in PATH (profiles: a, b); create it: saml2sts configure --provider keycloak --url URL`},
		{"url only", "x", map[string]string{"SAML2STS_URL": "https://sso.example.com/s"}, nil, `profile "x" not found`},
		{"provider only", "x", nil, map[string]string{"provider": "keycloak"}, `profile "x" not found`},
		{"ad hoc from env", "x", map[string]string{"SAML2STS_PROVIDER": "keycloak", "SAML2STS_URL": "https://sso.example.com/s"}, nil, ""},
		{"ad hoc from env and flags", "x", map[string]string{"SAML2STS_PROVIDER": "keycloak"}, map[string]string{"url": "https://sso.example.com/s"}, ""},
		{"in file but incomplete", "b", nil, nil, ""},
	}
	for _, tt := range tests {
		p, err := Resolve(f, tt.profile, env(tt.env), tt.flags)
		if tt.want == "" {
			if err != nil || p.Name != tt.profile {
				t.Errorf("%s: %v, %v", tt.name, p, err)
			}
			continue
		}
		var nf *NotFoundError
		if !errors.As(err, &nf) {
			t.Errorf("%s: error %v, want *NotFoundError", tt.name, err)
			continue
		}
		if !reflect.DeepEqual(nf.Known, []string{"a", "b"}) || nf.Path != path || nf.Profile != tt.profile {
			t.Errorf("%s: %+v", tt.name, nf)
		}
		want := strings.ReplaceAll(tt.want, "PATH", path)
		if got := err.Error(); !strings.HasPrefix(got, want) || (strings.Contains(tt.want, "PATH") && got != want) {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, want)
		}
	}
}

func TestNotFoundNoProfiles(t *testing.T) {
	_, err := Resolve(&File{path: "/p/config"}, "x", env(nil), nil)
	want := `profile "x" not found in /p/config (no profiles); create it: saml2sts configure --profile x --provider keycloak --url URL`
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}

func TestResolveErrors(t *testing.T) {
	path := writeTemp(t, "[profile p]\nprovider = keycloak\nurl = https://sso.example.com/s\nrefresh_window = 2h\n[profile q]\nprovider = keycloak\nurl = https://sso.example.com/s\n"+
		"[profile o]\nprovider = okta\nurl = https://corp.okta.com/home/amazon_aws/0oa1/272\nadfs_auth = ntlm\n")
	f, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, profile string
		env, flags    map[string]string
		want          string
	}{
		{"bad env", "q", map[string]string{"SAML2STS_DURATION": "abc"}, nil,
			`SAML2STS_DURATION: invalid duration "abc": use Go syntax like 1h, 90m, 14m59s, or seconds like 3600`},
		{"bad flag", "q", nil, map[string]string{"duration": "13h"}, `--duration: 13h is above the AWS maximum of 12h`},
		{"bad flag beats good env", "q", map[string]string{"SAML2STS_CACHE": "file"}, map[string]string{"cache": "disk"},
			`--cache: "disk" is not one of auto, keyring, file`},
		{"bad env role", "q", map[string]string{"SAML2STS_ROLE_ARN": "Admin"}, nil,
			`SAML2STS_ROLE_ARN: "Admin" is not an IAM ARN like arn:aws:iam::123456789012:role/NAME`},
		{"refresh from file", "p", nil, nil,
			path + `:4: refresh_window: 2h must be shorter than duration 1h: lower refresh_window or raise duration`},
		{"duration flag vs default refresh", "q", nil, map[string]string{"duration": "15m"},
			`--duration: 15m must be longer than refresh_window 15m (the default): raise duration or lower refresh_window`},
		{"refresh env vs duration env", "q", map[string]string{"SAML2STS_DURATION": "1h", "SAML2STS_REFRESH_WINDOW": "1h"}, nil,
			`SAML2STS_REFRESH_WINDOW: 1h must be shorter than duration 1h: lower refresh_window or raise duration`},
		{"unknown flag key", "q", nil, map[string]string{"role-arn": "x"}, `resolve profile: unknown flag key "role-arn" (did you mean "role_arn"?)`},
		// A key only another provider reads would be ignored without a word.
		{"adfs_auth in an okta profile", "o", nil, nil,
			path + `:11: adfs_auth: applies only to provider adfs, and [profile o] uses provider okta, which would ignore it: remove it (saml2sts configure --profile o --adfs-auth '')`},
		{"form flag on keycloak", "q", nil, map[string]string{"form_username_field": "j_username"},
			`--form-username-field: applies only to provider form, and [profile q] uses provider keycloak, which would ignore it: remove it (saml2sts configure --profile q --form-username-field '')`},
		{"no provider-specific key", "q", nil, map[string]string{"provider": "adfs"}, ""},
	}
	for _, tt := range tests {
		_, err := Resolve(f, tt.profile, env(tt.env), tt.flags)
		if tt.want == "" {
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
			}
			continue
		}
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s:\n got %v\nwant %s", tt.name, err, tt.want)
		}
	}
	// Environment variables apply to every profile: a provider-specific
	// one is no mistake for the others.
	for _, e := range []map[string]string{{"SAML2STS_ADFS_AUTH": "kerberos"}, {"SAML2STS_FORM_ERROR_SELECTOR": "p.err"}} {
		if _, err := Resolve(f, "q", env(e), nil); err != nil {
			t.Errorf("%v: %v", e, err)
		}
	}
	// The refresh window is fine once the duration allows it.
	if _, err := Resolve(f, "p", env(map[string]string{"SAML2STS_DURATION": "3h"}), nil); err != nil {
		t.Errorf("refresh_window 2h with duration 3h: %v", err)
	}
}

func TestCheckLogin(t *testing.T) {
	tests := []struct {
		p    Profile
		want string
	}{
		// No command but configure has --provider or --url flags: the
		// message names that one. A *Error makes it exit 2 (configuration).
		{Profile{Name: "x", URL: "https://a"}, "[profile x] has no provider: set it with saml2sts configure --profile x --provider keycloak"},
		{Profile{Name: "x", Provider: "keycloak", Source: "/home/ana/cfg"}, "/home/ana/cfg: [profile x] has no url: set it with saml2sts configure --profile x --url URL"},
		{Profile{Name: "default", Provider: "keycloak"}, "[default] has no url: set it with saml2sts configure --url URL"},
		{Profile{Name: "x", Provider: "keycloak", URL: "https://a"}, ""},
	}
	for _, tt := range tests {
		err := tt.p.CheckLogin()
		if (tt.want == "" && err != nil) || (tt.want != "" && (err == nil || err.Error() != tt.want)) {
			t.Errorf("%+v: got %v, want %q", tt.p, err, tt.want)
		}
		var ce *Error
		if tt.want != "" && !errors.As(err, &ce) {
			t.Errorf("%+v: got %T, want *Error", tt.p, err)
		}
	}
}

// TestLoadSizeCap: a file over MaxFileSize (a mistaken --config pointing at
// a log, /dev/zero) is refused with a one-line *Error, before it is held in
// memory; one just under loads.
func TestLoadSizeCap(t *testing.T) {
	dir := t.TempDir()
	ok := filepath.Join(dir, "ok")
	pad := strings.Repeat("#"+strings.Repeat("x", 98)+"\n", (MaxFileSize-100)/100)
	os.WriteFile(ok, []byte("[default]\nprovider = keycloak\n"+pad), 0o600)
	if _, err := Load(ok); err != nil {
		t.Fatalf("a file under the cap: %v", err)
	}
	big := filepath.Join(dir, "big")
	os.WriteFile(big, []byte("[default]\n"+pad+pad), 0o600)
	for _, p := range []string{big, "/dev/zero"} {
		_, err := Load(p)
		var ce *Error
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), "over 1024 KiB") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v; want a one-line *Error naming the cap", p, err)
		}
	}
	aws := filepath.Join(dir, "aws")
	os.WriteFile(aws, make([]byte, maxAWSFileSize+1), 0o600)
	if err := SetAWSProfile(aws, "x", map[string]string{"region": "eu-west-1"}); err == nil || !strings.Contains(err.Error(), "over 16 MiB") {
		t.Errorf("huge AWS config: %v", err)
	}
}
