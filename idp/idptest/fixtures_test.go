package idptest_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/saml2sts/saml2sts/idp/idptest"
)

// TestPagesMatchCapturedKeycloak checks that every selector and pattern a
// scraper keys on in a captured Keycloak page (../testdata/keycloak/) also matches the
// emulator's page for the same step, so client code tested against the
// emulator works on real pages.
func TestPagesMatchCapturedKeycloak(t *testing.T) {
	// pageFor drives a fresh emulator to the step under test.
	type pageFor func(t *testing.T) *page
	at := func(o idptest.KeycloakOptions, steps ...func(*testing.T, *browser, *page) *page) pageFor {
		return func(t *testing.T) *page {
			o.Users = users
			k := newKeycloak(t, o)
			b := newBrowser()
			p := b.mustGet(t, k.URL())
			for _, s := range steps {
				p = s(t, b, p)
			}
			return p
		}
	}
	password := func(user, pass string) func(*testing.T, *browser, *page) *page {
		return func(t *testing.T, b *browser, p *page) *page {
			return b.mustSubmit(t, p, "form[action]", map[string]string{"username": user, "password": pass})
		}
	}

	tests := []struct {
		fixture   string
		emulator  pageFor
		selectors []string
		texts     map[string]string // selector -> trimmed text
		patterns  []string          // regexps over the raw HTML
	}{{
		fixture:  "loginpage.html",
		emulator: at(idptest.KeycloakOptions{Theme: "old", AuthPrefix: true}),
		selectors: []string{
			`form#kc-form-login[method=post][action*="/auth/realms/"][action*="/login-actions/authenticate?code="]`,
			`form#kc-form-login[action*="client_id=urn%3Aamazon%3Awebservices"]`,
			"input#username[name=username]", "input#password[name=password][type=password]",
			"input#rememberMe[name=rememberMe][type=checkbox]", `input#kc-login[name=login][type=submit][value="Log in"]`,
		},
	}, {
		fixture:  "authError-invalidPassword.html",
		emulator: at(idptest.KeycloakOptions{Theme: "v1", AuthPrefix: true}, password("alice", "wrong")),
		selectors: []string{
			`form[action*="/auth/realms/"][action*="session_code="][action*="&execution="][action*="&tab_id="]`,
			`input#username[aria-invalid=true]`, `input#password[type=password]`,
			"input#id-hidden-input[type=hidden][name=credentialId]", "input#kc-login[name=login][type=submit]",
		},
		texts: map[string]string{"span#input-error.kc-feedback-text": "Invalid username or password."},
	}, {
		fixture:   "authError-accountDisabled.html",
		emulator:  at(idptest.KeycloakOptions{Theme: "v1"}, password("erin", "pw")),
		selectors: []string{`span#input-error[aria-live=polite]`},
		texts:     map[string]string{"span#input-error": "Account is disabled, contact your administrator."},
	}, {
		fixture:  "authError-invalidPassword-v2.html",
		emulator: at(idptest.KeycloakOptions{Theme: "v2"}, password("alice", "wrong")),
		selectors: []string{
			`form#kc-form-login.pf-v5-c-form[action*="/realms/"][action*="session_code="][action*="&tab_id="][action*="&client_data="]`,
			`link[href*="/login/keycloak.v2/"]`, "div#input-error-container-username", "div#input-error-container-password",
			"input#id-hidden-input[name=credentialId]", "button#kc-login[name=login][type=submit]",
			"h1#kc-page-title",
		},
		texts: map[string]string{"div#input-error-username .kc-feedback-text": "Invalid username or password."},
	}, {
		fixture:  "mfapage.html",
		emulator: at(idptest.KeycloakOptions{Theme: "old"}, password("carol", "pw")),
		selectors: []string{
			`form#kc-totp-login-form[action*="/login-actions/authenticate?code="]`,
			"input#totp[name=totp]", "input#kc-login[name=login]", "input#kc-cancel[name=cancel]",
		},
	}, {
		fixture:  "mfapage2authenticators.html",
		emulator: at(idptest.KeycloakOptions{Theme: "old"}, password("dave", "pw")),
		selectors: []string{
			`input#kc-otp-credential-0[type=radio][name=selectedCredentialId][value="aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa"][checked]`,
			`input#kc-otp-credential-1[type=radio][name=selectedCredentialId][value="bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb"]`,
			"input#totp[name=totp]",
		},
		texts: map[string]string{
			`label[for="kc-otp-credential-0"] .pf-c-tile__title`: "FreeOTP",
			`label[for="kc-otp-credential-1"] .pf-c-tile__title`: "Google Authenticator",
		},
	}, {
		fixture:  "redirect.html",
		emulator: at(idptest.KeycloakOptions{Kerberos: true}),
		selectors: []string{
			`form[method=POST][action*="/login-actions/authenticate?"][action*="execution="]`,
			"noscript", // holds the CONTINUE button; parsed as text when scripting is on
		},
		texts: map[string]string{"title": "Kerberos Unsupported"},
	}, {
		fixture:  "webauthnPage.html",
		emulator: at(idptest.KeycloakOptions{Theme: "v1"}, password("frank", "pw")),
		selectors: []string{
			`form#webauth[method=post][action*="/login-actions/authenticate?session_code="]`,
			"input#clientDataJSON[type=hidden]", "input#authenticatorData", "input#signature",
			"input#credentialId", "input#userHandle", "input#error",
			`form#authn_select input[type=hidden][name=authn_use_chk][value]`,
			"label#kc-attempted-username", `a#reset-login[href*="/login-actions/restart?"]`,
		},
		// saml2aws reads these with regexps.
		patterns: []string{`let challenge = "(.+)";`, `let rpId = "(.+)"`, `let userVerification = "`},
	}, {
		fixture:  "assertion.html",
		emulator: at(idptest.KeycloakOptions{Theme: "old"}, password("alice", "correct horse")),
		selectors: []string{
			`form[method=POST][action="https://signin.aws.amazon.com/saml"]`,
			`input[type=HIDDEN][name=SAMLResponse][value]`,
			`input[type=BUTTON]:not([name])`, // nameless input (saml2aws #566)
		},
		texts: map[string]string{"title": "SAML HTTP Post Binding"},
	}}

	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("..", "testdata", "keycloak", tt.fixture))
			if err != nil {
				t.Fatal(err)
			}
			fix, err := goquery.NewDocumentFromReader(strings.NewReader(string(raw)))
			if err != nil {
				t.Fatal(err)
			}
			em := tt.emulator(t)
			docs := []struct {
				name string
				doc  *goquery.Document
				html string
			}{{"fixture", fix, string(raw)}, {"emulator", em.doc, em.body}}
			for _, d := range docs {
				for _, sel := range tt.selectors {
					if d.doc.Find(sel).Length() == 0 {
						t.Errorf("%s page lacks %s", d.name, sel)
					}
				}
				for sel, want := range tt.texts {
					if got := strings.TrimSpace(d.doc.Find(sel).First().Text()); got != want {
						t.Errorf("%s page: %s = %q, want %q", d.name, sel, got, want)
					}
				}
				for _, pat := range tt.patterns {
					if !regexp.MustCompile(pat).MatchString(d.html) {
						t.Errorf("%s page does not match %s", d.name, pat)
					}
				}
			}
		})
	}
}
