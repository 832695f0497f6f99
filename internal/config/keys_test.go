package config

import (
	"strings"
	"testing"
	"time"

	"github.com/saml2sts/saml2sts/idp/providers"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{"1h", time.Hour, ""},
		{"90m", 90 * time.Minute, ""},
		{"14m59s", 14*time.Minute + 59*time.Second, ""},
		{"3600", time.Hour, ""},
		{" 900 ", 15 * time.Minute, ""},
		{"1h30m", 90 * time.Minute, ""},
		{"0", 0, ""},
		{"-5m", 0, `invalid duration "-5m": must not be negative`},
		{"1d", 0, `invalid duration "1d": use Go syntax like 1h, 90m, 14m59s, or seconds like 3600`},
		{"abc", 0, `invalid duration "abc": use Go syntax like 1h, 90m, 14m59s, or seconds like 3600`},
		{"", 0, `invalid duration "": use Go syntax like 1h, 90m, 14m59s, or seconds like 3600`},
		{"-3600", 0, `invalid duration "-3600": use Go syntax like 1h, 90m, 14m59s, or seconds like 3600`},
		{"99999999999999999999", 0, `duration "99999999999999999999" is too long`},
		{"9223372037", 0, `duration "9223372037" is too long`}, // overflows int64 nanoseconds
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("ParseDuration(%q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestKeyCheck(t *testing.T) {
	tests := []struct {
		key, value string
		wantErr    string // substring; "" means valid
	}{
		{"provider", "keycloak", ""},
		{"provider", "okta", ""},
		{"provider", "adfs", ""},
		{"provider", "form", ""},
		{"provider", "keycloack", `"keycloack" is not one of keycloak, okta, adfs, form (did you mean "keycloak"?)`},
		{"provider", "Okta", `(did you mean "okta"?)`},
		{"provider", "saml", `"saml" is not one of keycloak, okta, adfs, form`},

		{"url", "https://sso.example.com/realms/corp/protocol/saml/clients/aws", ""},
		{"url", "https://sso.example.com:8443/x#frag", ""},
		{"url", "http://127.0.0.1:8080/saml", ""},
		{"url", "http://localhost/saml", ""},
		{"url", "http://[::1]:9/saml", ""},
		{"url", "http://sso.example.com/saml", "http://sso.example.com/saml uses http: use https (http is allowed only for localhost)"},
		{"url", "ftp://sso.example.com/", `scheme "ftp" is not https`},
		{"url", "sso.example.com/saml", "not an absolute URL"},
		{"url", "/saml", "not an absolute URL"},
		{"url", "https://", "not an absolute URL"},
		{"url", "https://bob:hunter2@sso.example.com/", "URL contains a user name or password"},

		{"username", "alice@example.com", ""},
		{"username", "", "empty value: delete the line to unset it"},

		{"role_arn", "arn:aws:iam::123456789012:role/Admin", ""},
		{"role_arn", "arn:aws:iam::123456789012:role/team/ops/Admin", ""},
		{"role_arn", "arn:aws-cn:iam::123456789012:role/Admin", ""},
		{"role_arn", "arn:aws-us-gov:iam::123456789012:role/a+b=c,d.e@f-g_h", ""},
		{"role_arn", "arn:aws:iam::12345678901:role/Admin", "is not an IAM ARN like arn:aws:iam::123456789012:role/NAME"},
		{"role_arn", "arn:aws:iam::123456789012:user/Admin", "is not an IAM ARN"},
		{"role_arn", "arn:aws:sts::123456789012:role/Admin", "is not an IAM ARN"},
		{"role_arn", "arn:aws-foo:iam::123456789012:role/Admin", "is not an IAM ARN"},
		{"role_arn", "arn:aws:iam::123456789012:role/", "is not an IAM ARN"},
		{"role_arn", "arn:aws:iam::123456789012:saml-provider/corp", "is not an IAM ARN"},

		{"principal_arn", "arn:aws:iam::123456789012:saml-provider/corp-keycloak", ""},
		{"principal_arn", "arn:aws-us-gov:iam::123456789012:saml-provider/Corp_1.x", ""},
		{"principal_arn", "arn:aws:iam::123456789012:role/Admin", "arn:aws:iam::123456789012:saml-provider/NAME"},
		{"principal_arn", "arn:aws:iam::123456789012:saml-provider/a/b", "is not an IAM ARN"},

		{"region", "eu-west-1", ""},
		{"region", "us-gov-west-1", ""},
		{"region", "cn-north-1", ""},
		{"region", "ap-southeast-2", ""},
		{"region", "us-isob-east-1", ""},
		{"region", "EU-WEST-1", `"EU-WEST-1" is not an AWS region like eu-west-1`},
		{"region", "eu-west", "is not an AWS region"},
		{"region", "eu-west-1a", "is not an AWS region"},
		{"region", "frankfurt", "is not an AWS region"},

		{"duration", "15m", ""},
		{"duration", "12h", ""},
		{"duration", "3600", ""},
		{"duration", "14m59s", "14m59s is below the AWS minimum of 15m"},
		{"duration", "12h1s", "12h0m1s is above the AWS maximum of 12h"},
		{"duration", "43201", "12h0m1s is above the AWS maximum of 12h"},
		{"duration", "1d", `invalid duration "1d"`},

		{"mfa", "auto", ""},
		{"mfa", "totp", ""},
		{"mfa", "token:software:totp", ""},
		{"mfa", "Google Authenticator", ""},
		{"mfa", "Ana's phone (work)", ""},
		{"mfa", "Télé 2", ""},
		{"mfa", "-push", `"-push" is not a factor name`},
		{"mfa", "push\tme", `is not a factor name`},
		{"mfa", "phone ; work", `is not a factor name`},
		{"mfa", strings.Repeat("x", 101), `is not a factor name`},

		{"cache", "auto", ""},
		{"cache", "keyring", ""},
		{"cache", "file", ""},
		{"cache", "keychain", `"keychain" is not one of auto, keyring, file`},

		{"password_command", "pass show corp/sso | head -1", ""},
		{"password_command", "echo a\nb", "value contains a line break"},

		{"refresh_window", "0", ""},
		{"refresh_window", "5m", ""},
		{"refresh_window", "-1m", "must not be negative"},

		{"opensearch_endpoint", "https://search-logs.eu-west-1.es.amazonaws.com", ""},
		{"opensearch_endpoint", "http://localhost:9200", ""},
		{"opensearch_endpoint", "search-logs.eu-west-1.es.amazonaws.com", "not an absolute URL"},
		{"opensearch_endpoint", "http://search.example.com", "uses http"},

		{"opensearch_service", "auto", ""},
		{"opensearch_service", "es", ""},
		{"opensearch_service", "aoss", ""},
		{"opensearch_service", "aos", `(did you mean "aoss"?)`},

		{"form_username_field", "j_username", ""},
		{"form_username_field", "ctl00$ContentPlaceHolder1$UsernameTextBox", ""},
		{"form_username_field", "user name", "is not an input name"},
		{"form_password_field", `pass"word`, "is not an input name"},
		{"form_error_selector", "p.form-error, #errorText", ""},
		{"form_error_selector", "div[role=alert]", ""},
		{"form_error_selector", "div[", "is not a CSS selector"},

		{"duration", "", "empty value: delete the line to use the default (1h)"},
	}
	for _, tt := range tests {
		k, ok := Lookup(tt.key)
		if !ok {
			t.Fatalf("no key %q", tt.key)
		}
		err := k.Check(tt.value)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%s = %q: unexpected error %v", tt.key, tt.value, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%s = %q: error %v, want it to contain %q", tt.key, tt.value, err, tt.wantErr)
		}
	}
}

func TestURLErrorHidesPassword(t *testing.T) {
	k, _ := Lookup("url")
	err := k.Check("http://bob:hunter2@sso.example.com/")
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("error %v: want an error without the password", err)
	}
}

func TestKeysTable(t *testing.T) {
	want := []struct{ name, def, env, flag string }{
		{"provider", "", "SAML2STS_PROVIDER", "--provider"},
		{"url", "", "SAML2STS_URL", "--url"},
		{"username", "", "SAML2STS_USERNAME", "--username"},
		{"role_arn", "", "SAML2STS_ROLE_ARN", "--role-arn"},
		{"principal_arn", "", "SAML2STS_PRINCIPAL_ARN", "--principal-arn"},
		{"region", "", "SAML2STS_REGION", "--region"},
		{"duration", "1h", "SAML2STS_DURATION", "--duration"},
		{"mfa", "auto", "SAML2STS_MFA", "--mfa"},
		{"cache", "auto", "SAML2STS_CACHE", "--cache"},
		{"password_command", "", "SAML2STS_PASSWORD_COMMAND", "--password-command"},
		{"refresh_window", "15m", "SAML2STS_REFRESH_WINDOW", "--refresh-window"},
		{"opensearch_endpoint", "", "SAML2STS_OPENSEARCH_ENDPOINT", "--opensearch-endpoint"},
		{"opensearch_service", "auto", "SAML2STS_OPENSEARCH_SERVICE", "--opensearch-service"},
		{"dashboards_idp_url", "", "SAML2STS_DASHBOARDS_IDP_URL", "--dashboards-idp-url"},
		{"duo_device", "", "SAML2STS_DUO_DEVICE", "--duo-device"},
		{"browser", "never", "SAML2STS_BROWSER_MODE", "--browser"},
		{"browser_headless", "false", "SAML2STS_BROWSER_HEADLESS", "--browser-headless"},
		{"browser_path", "", "SAML2STS_BROWSER", "--browser-path"},
		{"browser_timeout", "5m", "SAML2STS_BROWSER_TIMEOUT", "--browser-timeout"},
	}
	// Then the adapters' own keys, in the order of their registrations.
	for _, r := range providers.All {
		for _, k := range r.Keys {
			want = append(want, struct{ name, def, env, flag string }{k.Name, k.Default,
				"SAML2STS_" + strings.ToUpper(k.Name), "--" + strings.ReplaceAll(k.Name, "_", "-")})
			if providerOnly[k.Name] != r.Name {
				t.Errorf("%s is not provider-only to %s", k.Name, r.Name)
			}
		}
	}
	if want[len(want)-4].name != "adfs_auth" || want[len(want)-1].name != "form_error_selector" {
		t.Errorf("adapter keys %v: want adfs_auth and the form_* keys last", want[14:])
	}
	got := Keys()
	if len(got) != len(want) {
		t.Fatalf("Keys() has %d keys, want %d", len(got), len(want))
	}
	seen := map[string]bool{}
	for _, k := range got {
		if seen[k.Name] {
			t.Errorf("key %s is defined twice (an adapter registers a key saml2sts has?)", k.Name)
		}
		seen[k.Name] = true
	}
	for i, w := range want {
		k := got[i]
		if k.Name != w.name || k.Default != w.def || k.Env() != w.env || k.Flag() != w.flag || k.Help == "" {
			t.Errorf("key %d = %s default %q env %s flag %s help %q; want %+v", i, k.Name, k.Default, k.Env(), k.Flag(), k.Help, w)
		}
		if k.Default != "" {
			if err := k.Check(k.Default); err != nil {
				t.Errorf("default of %s is invalid: %v", k.Name, err)
			}
		}
	}
	got[0].Name = "changed"
	if Keys()[0].Name != "provider" {
		t.Error("Keys() returns the table itself; callers can change it")
	}
}

func TestDidYouMean(t *testing.T) {
	tests := []struct{ in, want string }{
		{"rol_arn", `role_arn`},
		{"role-arn", `role_arn`},
		{"Region", `region`},
		{"durations", `duration`},
		{"refresh", ``},
		{"x", ``},
	}
	for _, tt := range tests {
		want := ""
		if tt.want != "" {
			want = ` (did you mean "` + tt.want + `"?)`
		}
		if got := didYouMean(tt.in, keyNames()); got != want {
			t.Errorf("didYouMean(%q) = %q, want %q", tt.in, got, want)
		}
	}
}

// TestDidYouMeanProvider: a provider with a version or suffix glued on
// names the provider.
func TestDidYouMeanProvider(t *testing.T) {
	providers := []string{"keycloak", "okta", "adfs", "form"}
	tests := []struct{ in, want string }{
		{"adfs2019", "adfs"},
		{"ADFS4", "adfs"},
		{"okta-preview", "okta"},
		{"Okta", "okta"},
		{"keycloak24", "keycloak"},
		{"shibboleth", ""},
		{"forms", "form"},
	}
	for _, tt := range tests {
		want := ""
		if tt.want != "" {
			want = ` (did you mean "` + tt.want + `"?)`
		}
		if got := didYouMean(tt.in, providers); got != want {
			t.Errorf("didYouMean(%q) = %q, want %q", tt.in, got, want)
		}
	}
}
