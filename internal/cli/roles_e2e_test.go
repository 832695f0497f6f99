package cli_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/saml2sts/saml2sts/idp/idptest"
	"github.com/saml2sts/saml2sts/sts/ststest"
)

const chained = "arn:aws:iam::999988887777:role/Analyst"

func withNames(page ststest.Chooser) worldOpt {
	return func(_ *idptest.KeycloakOptions, so *ststest.Options) {
		so.ChooserPage = page
		so.AccountNames = map[string]string{account: "prod-search"}
	}
}

// TestAccountNames: the aliases AWS's sign-in page shows (both page
// generations) appear in the error that lists roles, login's summary and
// status, read once and then from the index; off and a broken page fall
// back to account numbers, silently unless --debug.
func TestAccountNames(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		page ststest.Chooser
	}{{"legacy", ststest.ChooserLegacy}, {"nextjs", ststest.ChooserNextJS}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, withNames(tc.page))
			w.env["SAML2STS_SIGNIN_URL"] = w.st.SigninURL()
			w.configure("a")

			// Two roles, no role_arn and no terminal: the error lists them, named.
			r := w.run(password, "login", "--profile", "a", "--password-stdin")
			if r.code != 2 || !strings.Contains(r.stderr, reader+" [prod-search]") {
				t.Fatalf("role list: %s", r)
			}
			r = w.mustRun(password, "login", "--profile", "a", "--password-stdin", "--role-arn", reader)
			if !strings.Contains(r.stderr, "role "+reader+" [prod-search]") {
				t.Errorf("summary: %s", r)
			}
			if n := w.st.Calls("saml"); n != 1 {
				t.Errorf("sign-in page read %d times, want 1 (then the index)", n)
			}
			st := w.mustRun("", "status")
			if !strings.Contains(st.stdout, reader+" [prod-search]") {
				t.Errorf("status: %s", st)
			}
			var rows []struct {
				Account string `json:"account_name"`
			}
			if err := json.Unmarshal([]byte(w.mustRun("", "status", "--json").stdout), &rows); err != nil || len(rows) != 1 || rows[0].Account != "prod-search" {
				t.Errorf("status --json: %+v %v", rows, err)
			}
			// The warm path never reads the page.
			w.mustRun("", "credential-process", "--profile", "a")
			if n := w.st.Calls("saml"); n != 1 {
				t.Errorf("credential-process read the sign-in page (%d calls)", n)
			}
			noIssuedSecret(t, w, r.stdout+r.stderr+st.stdout+st.stderr)
			if len(w.kc.IssuedResponses()) < 2 {
				t.Error("no SAMLResponse recorded to scan for")
			}
		})
	}
}

func TestAccountNamesFallback(t *testing.T) {
	t.Parallel()
	w := newWorld(t, withNames(ststest.ChooserBroken))
	w.env["SAML2STS_SIGNIN_URL"] = w.st.SigninURL()
	w.configure("a")
	r := w.run(password, "login", "--profile", "a", "--password-stdin")
	if r.code != 2 || !strings.Contains(r.stderr, reader+", ") || strings.Contains(r.stderr, "account names") {
		t.Fatalf("broken page must fall back silently: %s", r)
	}
	r = w.run(password, "--debug", "login", "--profile", "a", "--password-stdin")
	if r.code != 2 || !strings.Contains(r.stderr, "account names not shown") || !strings.Contains(r.stderr, "HTTP 500") {
		t.Fatalf("--debug says why: %s", r)
	}
	noIssuedSecret(t, w, r.stdout+r.stderr) // the --debug trace of the /saml POST hides the assertion

	off := newWorld(t, withNames(ststest.ChooserLegacy))
	off.env["SAML2STS_SIGNIN_URL"] = off.st.SigninURL()
	off.configure("a", "--account-names", "off")
	r = off.run(password, "login", "--profile", "a", "--password-stdin")
	if r.code != 2 || strings.Contains(r.stderr, "prod-search") || off.st.Calls("saml") != 0 {
		t.Fatalf("account_names = off: %s (calls %d)", r, off.st.Calls("saml"))
	}
}

// TestRoleChaining: login assumes the SAML role, then the chained role
// with its credentials (the emulator verifies the SigV4 signature made
// with them); the chained credentials are cached and served, capped at 1h
// with a notice; status shows both roles; a refusal has a hint.
func TestRoleChaining(t *testing.T) {
	t.Parallel()
	w := newWorld(t, func(_ *idptest.KeycloakOptions, so *ststest.Options) {
		so.ChainTrust = map[string][]string{chained: {reader}}
		so.ExternalIDs = map[string]string{chained: "corp-42"}
		so.MaxSessionDuration = map[string]time.Duration{reader: 12 * time.Hour}
	})
	w.configure("c", "--role-arn", reader, "--chain-role-arn", chained, "--chain-external-id", "corp-42", "--duration", "8h")
	r := w.mustRun(password, "login", "--profile", "c", "--password-stdin")
	if !strings.Contains(r.stderr, "AWS limits Analyst to 1h sessions") || !strings.Contains(r.stderr, chained+" via "+reader) {
		t.Errorf("login: %s", r)
	}
	out := w.mustRun("", "credential-process", "--profile", "c")
	creds := parseCreds(t, out.stdout)
	ic, ok := w.st.Lookup(creds.AccessKeyID)
	if !ok || ic.RoleARN != chained || ic.SourceRoleARN != reader || ic.ExternalID != "corp-42" || ic.SessionName != w.st.Issued()[0].SessionName {
		t.Fatalf("served credentials are not the chained role's: %+v", ic)
	}
	if exp, _ := time.Parse(time.RFC3339, creds.Expiration); time.Until(exp) > time.Hour+time.Minute {
		t.Errorf("chained session lasts until %s: more than 1h", exp)
	}
	if n := w.st.Calls("AssumeRole"); n != 1 {
		t.Errorf("AssumeRole called %d times, want 1 (then the cache)", n)
	}
	st := w.mustRun("", "status")
	if !strings.Contains(st.stdout, chained+" via "+reader) {
		t.Errorf("status: %s", st)
	}

	// Dropping chain_role_arn makes the chained credentials stale: the next
	// call renews silently through the IdP session, with the SAML role.
	w.mustRun("", "configure", "--profile", "c", "--chain-role-arn", "")
	plain := parseCreds(t, w.mustRun("", "credential-process", "--profile", "c").stdout)
	if ic, _ := w.st.Lookup(plain.AccessKeyID); ic.RoleARN != reader || w.st.Calls("AssumeRole") != 1 {
		t.Errorf("after unsetting chain_role_arn got %s (AssumeRole calls %d)", ic.RoleARN, w.st.Calls("AssumeRole"))
	}

	w.configure("bad", "--role-arn", reader, "--chain-role-arn", chained)
	r = w.run(password, "login", "--profile", "bad", "--password-stdin")
	if r.code != 5 || !strings.Contains(r.stderr, "AccessDenied") || !strings.Contains(r.stderr, "set chain_external_id") {
		t.Errorf("refused chain: %s", r)
	}
	noIssuedSecret(t, w, r.stdout+r.stderr+st.stdout+st.stderr)
}

// noIssuedSecret scans output that is not a credential output for the
// password and every issued secret key and session token.
func noIssuedSecret(t *testing.T, w *world, text string) {
	t.Helper()
	secrets := append([]string{password}, w.kc.IssuedResponses()...)
	for _, ic := range w.st.Issued() {
		secrets = append(secrets, ic.SecretAccessKey, ic.SessionToken)
	}
	noEncodedSecret(t, "output", text, secrets...)
}
