package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/saml2sts/saml2sts/idp/idptest"
	"github.com/saml2sts/saml2sts/sts/ststest"
)

// TestConfigureChecksWithTheProvider: a setting the profile's adapter can
// never work with is refused by configure (exit 2, one line saying what to
// set, nothing written), without the network: the mistakes first-time
// users make with Okta, AD FS and the form adapter.
func TestConfigureChecksWithTheProvider(t *testing.T) {
	const (
		okta = "https://corp.okta.com/home/amazon_aws/0oa1awsapp0001/272"
		adfs = "https://adfs.corp.example"
		form = "https://idp.example.edu/idp/profile/SAML2/Unsolicited/SSO?providerId=urn:amazon:webservices"
	)
	tests := []struct {
		name     string
		existing []string // configure args run first, for profile "p"
		args     []string
		msg      string // "" = accepted
	}{
		{name: "okta admin console url",
			args: []string{"--provider", "okta", "--url", "https://corp-admin.okta.com/admin/app/amazon_aws/instance/0oa1awsapp0001/#tab-general"},
			msg:  "saml2sts: okta: url https://corp-admin.okta.com/admin/app/amazon_aws/instance/0oa1awsapp0001/ is the app's page in the Okta admin console, not its sign-in link: set url to the app's embed link, https://corp.okta.com/home/amazon_aws/0oa1awsapp0001/272"},
		{name: "okta org root", args: []string{"--provider", "okta", "--url", "https://corp.okta.com/"},
			msg: "okta: url https://corp.okta.com/ is not an Okta app link: set the profile's url to the AWS app's embed link"},
		{name: "okta identity center app", args: []string{"--provider", "okta", "--url", "https://corp.okta.com/home/amazon_aws_sso/0oa9/123"},
			msg: `is the Okta "AWS IAM Identity Center" app (amazon_aws_sso)`},
		{name: "okta url with a fragment", args: []string{"--provider", "okta", "--url", okta + "#"}},
		{name: "okta mfa typo", args: []string{"--provider", "okta", "--url", okta, "--mfa", "puhs"},
			msg: `okta: mfa "puhs" is not an Okta factor name: set mfa to auto, push, totp, sms, call, email, yubikey or duo`},
		{name: "okta mfa on an existing profile", existing: []string{"--provider", "okta", "--url", okta}, args: []string{"--mfa", "AzureMfaAuthentication"},
			msg: `okta: mfa "AzureMfaAuthentication" is not an Okta factor name`},
		{name: "okta push", args: []string{"--provider", "okta", "--url", okta, "--mfa", "push"}},
		{name: "adfs_auth on okta", args: []string{"--provider", "okta", "--url", okta, "--adfs-auth", "ntlm"},
			msg: "saml2sts: --adfs-auth: applies only to provider adfs, and [profile p] uses provider okta, which would ignore it: remove it (saml2sts configure --profile p --adfs-auth '')"},
		{name: "provider switched with adfs_auth left", existing: []string{"--provider", "adfs", "--url", adfs, "--adfs-auth", "ntlm"},
			args: []string{"--provider", "okta", "--url", okta},
			msg:  "config:5: adfs_auth: applies only to provider adfs, and [profile p] uses provider okta"},
		{name: "provider switched, adfs_auth removed", existing: []string{"--provider", "adfs", "--url", adfs, "--adfs-auth", "ntlm"},
			args: []string{"--provider", "okta", "--url", okta, "--adfs-auth", ""}},
		{name: "form field on keycloak", args: []string{"--provider", "keycloak", "--url", "https://sso.example.com/realms/corp/protocol/saml/clients/aws", "--form-username-field", "j_username"},
			msg: "--form-username-field: applies only to provider form, and [profile p] uses provider keycloak"},
		{name: "provider typo with a version", args: []string{"--provider", "adfs2019", "--url", adfs},
			msg: `--provider: "adfs2019" is not one of keycloak, okta, adfs, form (did you mean "adfs"?)`},
		{name: "provider in capitals", args: []string{"--provider", "Okta", "--url", okta}, msg: `(did you mean "okta"?)`},
		{name: "adfs metadata url", args: []string{"--provider", "adfs", "--url", adfs + "/FederationMetadata/2007-06/FederationMetadata.xml"},
			msg: "adfs: url https://adfs.corp.example/FederationMetadata/2007-06/FederationMetadata.xml is AD FS metadata or a web service, not a sign-in page: set the profile's url to https://adfs.corp.example"},
		{name: "adfs over http", args: []string{"--provider", "adfs", "--url", "http://adfs.corp.example/adfs/ls/"},
			msg: "--url: http://adfs.corp.example/adfs/ls/ uses http: use https (http is allowed only for localhost)"},
		{name: "adfs passive endpoint", args: []string{"--provider", "adfs", "--url", adfs + "/adfs/ls/", "--mfa", "push"}},
		{name: "form mfa", args: []string{"--provider", "form", "--url", form, "--mfa", "yubikey"},
			msg: `form: mfa "yubikey" has no effect with provider form, which answers the one-time code form the IdP shows (pass the code with --mfa-code): set mfa to auto (or, behind Duo, to push, passcode or call)`},
		{name: "form fields", args: []string{"--provider", "form", "--url", form, "--form-username-field", "j_username", "--mfa", "auto"}},
		// Keycloak's mfa names the user's own authenticator labels.
		{name: "keycloak mfa label", args: []string{"--provider", "keycloak", "--url", "https://sso.example.com/realms/corp/protocol/saml/clients/aws", "--mfa", "yubikey"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newBareWorld(t, nil, ststest.Options{})
			if tt.existing != nil {
				w.mustRun("", append([]string{"configure", "--profile", "p", "--region", "eu-west-1"}, tt.existing...)...)
			}
			before := snapshot(t, w.dir)
			r := w.run("", append([]string{"configure", "--profile", "p"}, tt.args...)...)
			if tt.msg == "" {
				if r.code != 0 {
					t.Fatalf("refused: %s", r)
				}
				return
			}
			if r.code != 2 || !strings.Contains(r.stderr, tt.msg) || strings.Count(strings.TrimSpace(r.stderr), "\n") > 1 {
				t.Fatalf("want exit 2 and one line with %q, got %s", tt.msg, r)
			}
			if after := snapshot(t, w.dir); after["config/saml2sts/config"] != before["config/saml2sts/config"] {
				t.Errorf("the profile was written:\n%s", after["config/saml2sts/config"])
			}
		})
	}
}

// TestConfigureSaysWhatItRemoved: an empty value removes a key, and the
// message says so instead of "Wrote".
func TestConfigureSaysWhatItRemoved(t *testing.T) {
	w := newBareWorld(t, nil, ststest.Options{})
	w.mustRun("", "configure", "--profile", "p", "--provider", "adfs", "--url", "https://adfs.corp.example", "--adfs-auth", "ntlm")
	r := w.mustRun("", "configure", "--profile", "p", "--provider", "okta", "--url", "https://corp.okta.com/home/amazon_aws/0oa1/272", "--adfs-auth", "")
	if !strings.Contains(r.stderr, "Wrote provider, url to [profile p]") || !strings.Contains(r.stderr, "Removed adfs_auth from [profile p]") {
		t.Errorf("stderr: %s", r.stderr)
	}
}

// TestConfigureCheckedAgainAtLogin: login refuses what configure would have,
// before any request to the IdP; a provider-specific key in the file of
// another provider's profile is named by file and line; the same key in
// the environment (set for every profile) is not an error.
func TestConfigureCheckedAgainAtLogin(t *testing.T) {
	w := newOktaWorld(t, idptest.OktaOptions{}, "", idptest.OktaFactor{Type: "push"})
	r := w.run(password, "login", "--profile", "o", "--password-stdin", "--mfa", "puhs")
	if r.code != 2 || !strings.Contains(r.stderr, `saml2sts: okta: mfa "puhs" is not an Okta factor name`) {
		t.Fatalf("want exit 2, got %s", r)
	}
	if st := w.k.Stats(); st.PasswordPosts != 0 {
		t.Errorf("the password was sent: %+v", st)
	}

	p := filepath.Join(w.dir, "config", "saml2sts", "config")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, append(b, "adfs_auth = ntlm\n"...), 0o600); err != nil {
		t.Fatal(err)
	}
	r = w.run(password, "login", "--profile", "o", "--password-stdin")
	want := "config:7: adfs_auth: applies only to provider adfs, and [profile o] uses provider okta, which would ignore it: remove it (saml2sts configure --profile o --adfs-auth '')"
	if r.code != 2 || !strings.Contains(r.stderr, want) {
		t.Fatalf("want exit 2 with %q, got %s", want, r)
	}
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	w.env["SAML2STS_ADFS_AUTH"] = "ntlm"
	w.mustRun(password, "login", "--profile", "o", "--password-stdin")
	w.scan(r)
}
