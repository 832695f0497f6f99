package idptest_test

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/saml2sts/saml2sts/idp/idptest"
)

const ion = "application/ion+json; okta-version=1.0.0"

// remediation returns the remediation form named name, or nil.
func remediation(r reply, name string) map[string]any {
	rs, _ := dig(r.body, "remediation.value").([]any)
	for _, x := range rs {
		if m, ok := x.(map[string]any); ok && m["name"] == name {
			return m
		}
	}
	return nil
}

func remNames(r reply) []string {
	var out []string
	rs, _ := dig(r.body, "remediation.value").([]any)
	for _, x := range rs {
		out = append(out, str(x, "name"))
	}
	return out
}

// authID finds the authenticator id with the given key.
func authID(t *testing.T, r reply, key string) string {
	t.Helper()
	as, _ := dig(r.body, "authenticators.value").([]any)
	for _, a := range as {
		if str(a, "key") == key {
			return str(a, "id")
		}
	}
	t.Fatalf("no %s authenticator in %s", key, r.raw)
	return ""
}

// idxPost POSTs to a remediation's href with the stateHandle.
func (c *oktaClient) idxPost(t *testing.T, r reply, name string, body map[string]any) reply {
	t.Helper()
	rem := remediation(r, name)
	if rem == nil {
		t.Fatalf("no %s remediation (have %v) in %s", name, remNames(r), r.raw)
	}
	if rem["method"] != "POST" || rem["produces"] != ion {
		t.Errorf("%s remediation: method %v produces %v", name, rem["method"], rem["produces"])
	}
	body["stateHandle"] = str(r.body, "stateHandle")
	out := c.postType(str(rem, "href"), ion, body)
	if ct := out.header.Get("Content-Type"); ct != ion {
		t.Errorf("%s: Content-Type %q, want %q", name, ct, ion)
	}
	return out
}

// idxStart opens the app link without a session and introspects its
// stateToken.
func (c *oktaClient) idxStart(t *testing.T) reply {
	t.Helper()
	resp, body := c.get(c.k.URL())
	if resp.StatusCode != 200 || resp.Request.URL.String() != c.k.URL() {
		t.Fatalf("app link: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	st := pageStateToken(t, body)
	r := c.postType("/idp/idx/introspect", ion, map[string]any{"stateToken": st})
	if r.status != 200 || str(r.body, "version") != "1.0.0" || !strings.HasPrefix(str(r.body, "stateHandle"), "02") {
		t.Fatalf("introspect: %d %s", r.status, r.raw)
	}
	return r
}

// idxFinish follows the success redirect to the SAML page.
func (c *oktaClient) idxFinish(t *testing.T, r reply) string {
	t.Helper()
	if str(r.body, "success.name") != "success-redirect" {
		t.Fatalf("no success-redirect in %s", r.raw)
	}
	resp, body := c.get(str(r.body, "success.href"))
	if resp.Request.URL.String() != c.k.URL() {
		t.Errorf("success redirect landed on %s", resp.Request.URL)
	}
	u, _ := url.Parse(c.k.BaseURL())
	have := map[string]bool{}
	for _, ck := range c.http.Jar.Cookies(u) {
		have[ck.Name] = true
	}
	if !have["sid"] || !have["idx"] {
		t.Errorf("cookies after success: %v, want sid and idx", have)
	}
	_, b64 := samlPage(t, body)
	return b64
}

func TestOktaIDX(t *testing.T) {
	type step struct {
		rem    string // remediation to POST
		body   map[string]any
		auth   string // challenge: authenticator key
		method string
		status int      // default 200
		next   []string // remediation names expected after, in order ("success" for success)
		msg    string   // messages.value.0.i18n.key
		number int      // correctAnswer shown
	}
	pw := func(p string) map[string]any { return map[string]any{"credentials": map[string]any{"passcode": p}} }
	factors := []idptest.OktaFactor{
		{Type: "push", PushAfter: -1},
		{Type: "token:software:totp", Code: "111111"},
		{Type: "token:software:totp", Provider: "GOOGLE", Code: "222222"},
		{Type: "sms", Code: "333333"},
		{Type: "call", Code: "444444"},
		{Type: "email", Code: "555555"},
	}
	tests := []struct {
		name    string
		user    idptest.OktaUser
		steps   []step
		success bool
		stats   idptest.OktaStats // PasswordPosts, FactorVerifies, BadPasscodes, Polls, CodesSent
	}{
		{"password only", idptest.OktaUser{}, []step{
			{rem: "identify", body: map[string]any{"identifier": "dade"}, next: []string{"challenge-authenticator"}},
			{rem: "challenge-authenticator", body: pw("bad"), status: 401, next: []string{"challenge-authenticator"}, msg: "errors.E0000004"},
			{rem: "challenge-authenticator", body: pw("pw"), next: []string{"success"}},
		}, true, idptest.OktaStats{PasswordPosts: 2}},
		{"identify with password", idptest.OktaUser{}, []step{
			{rem: "identify", body: map[string]any{"identifier": "dade", "credentials": map[string]any{"passcode": "pw"}}, next: []string{"success"}},
		}, true, idptest.OktaStats{PasswordPosts: 1}},
		{"unknown user fails at the password", idptest.OktaUser{}, []step{
			{rem: "identify", body: map[string]any{"identifier": "nobody"}, next: []string{"challenge-authenticator"}},
			{rem: "challenge-authenticator", body: pw("pw"), status: 401, next: []string{"challenge-authenticator"}, msg: "errors.E0000004"},
		}, false, idptest.OktaStats{PasswordPosts: 1}},
		{"push", idptest.OktaUser{Factors: factors}, []step{
			{rem: "identify", body: map[string]any{"identifier": "dade"}, next: []string{"challenge-authenticator"}},
			{rem: "challenge-authenticator", body: pw("pw"), next: []string{"select-authenticator-authenticate"}},
			{rem: "select-authenticator-authenticate", auth: "okta_verify", method: "push", next: []string{"challenge-poll", "select-authenticator-authenticate"}},
			{rem: "challenge-poll", next: []string{"success"}},
		}, true, idptest.OktaStats{PasswordPosts: 1, Polls: 1}},
		{"push number challenge", idptest.OktaUser{Factors: []idptest.OktaFactor{{Type: "push", CorrectAnswer: 37, PushAfter: -1}}}, []step{
			{rem: "identify", body: map[string]any{"identifier": "dade", "credentials": map[string]any{"passcode": "pw"}}, next: []string{"select-authenticator-authenticate"}},
			{rem: "select-authenticator-authenticate", auth: "okta_verify", next: []string{"challenge-poll", "select-authenticator-authenticate"}},
			{rem: "challenge-poll", next: []string{"challenge-poll", "select-authenticator-authenticate"}, number: 37},
			{rem: "challenge-poll", next: []string{"success"}},
		}, true, idptest.OktaStats{PasswordPosts: 1, Polls: 2}},
		{"push rejected", idptest.OktaUser{Factors: []idptest.OktaFactor{{Type: "push", Push: "reject", PushAfter: -1}}}, []step{
			{rem: "identify", body: map[string]any{"identifier": "dade", "credentials": map[string]any{"passcode": "pw"}}, next: []string{"select-authenticator-authenticate"}},
			{rem: "select-authenticator-authenticate", auth: "okta_verify", next: []string{"challenge-poll", "select-authenticator-authenticate"}},
			{rem: "challenge-poll", status: 403, next: []string{"select-authenticator-authenticate"}, msg: "okta.push.rejected"},
		}, false, idptest.OktaStats{PasswordPosts: 1, Polls: 1}},
		{"push timeout", idptest.OktaUser{Factors: []idptest.OktaFactor{{Type: "push", Push: "timeout"}}}, []step{
			{rem: "identify", body: map[string]any{"identifier": "dade", "credentials": map[string]any{"passcode": "pw"}}, next: []string{"select-authenticator-authenticate"}},
			{rem: "select-authenticator-authenticate", auth: "okta_verify", next: []string{"challenge-poll", "select-authenticator-authenticate"}},
			{rem: "challenge-poll", next: []string{"challenge-poll", "select-authenticator-authenticate"}},
			{rem: "challenge-poll", next: []string{"challenge-poll", "select-authenticator-authenticate"}},
			{rem: "challenge-poll", next: []string{"challenge-poll", "select-authenticator-authenticate"}},
			{rem: "challenge-poll", status: 403, next: []string{"select-authenticator-authenticate"}, msg: "okta.push.timeout"},
		}, false, idptest.OktaStats{PasswordPosts: 1, Polls: 4}},
		{"okta verify totp", idptest.OktaUser{Factors: factors}, []step{
			{rem: "identify", body: map[string]any{"identifier": "dade", "credentials": map[string]any{"passcode": "pw"}}, next: []string{"select-authenticator-authenticate"}},
			{rem: "select-authenticator-authenticate", auth: "okta_verify", method: "totp", next: []string{"challenge-authenticator", "select-authenticator-authenticate"}},
			{rem: "challenge-authenticator", body: pw("000000"), status: 400, next: []string{"challenge-authenticator", "select-authenticator-authenticate"}, msg: "api.authn.error.PASSCODE_INVALID"},
			{rem: "challenge-authenticator", body: pw("111111"), next: []string{"success"}},
		}, true, idptest.OktaStats{PasswordPosts: 1, FactorVerifies: 2, BadPasscodes: 1}},
		{"google authenticator", idptest.OktaUser{Factors: factors}, []step{
			{rem: "identify", body: map[string]any{"identifier": "dade", "credentials": map[string]any{"passcode": "pw"}}, next: []string{"select-authenticator-authenticate"}},
			{rem: "select-authenticator-authenticate", auth: "google_otp", next: []string{"challenge-authenticator", "select-authenticator-authenticate"}},
			{rem: "challenge-authenticator", body: pw("222222"), next: []string{"success"}},
		}, true, idptest.OktaStats{PasswordPosts: 1, FactorVerifies: 1}},
		{"sms with resend", idptest.OktaUser{Factors: factors}, []step{
			{rem: "identify", body: map[string]any{"identifier": "dade", "credentials": map[string]any{"passcode": "pw"}}, next: []string{"select-authenticator-authenticate"}},
			{rem: "select-authenticator-authenticate", auth: "phone_number", method: "sms", next: []string{"challenge-authenticator", "select-authenticator-authenticate"}},
			{rem: "resend", next: []string{"challenge-authenticator", "select-authenticator-authenticate"}},
			{rem: "challenge-authenticator", body: pw("333333"), next: []string{"success"}},
		}, true, idptest.OktaStats{PasswordPosts: 1, FactorVerifies: 1, CodesSent: 2}},
		{"voice", idptest.OktaUser{Factors: factors}, []step{
			{rem: "identify", body: map[string]any{"identifier": "dade", "credentials": map[string]any{"passcode": "pw"}}, next: []string{"select-authenticator-authenticate"}},
			{rem: "select-authenticator-authenticate", auth: "phone_number", method: "voice", next: []string{"challenge-authenticator", "select-authenticator-authenticate"}},
			{rem: "challenge-authenticator", body: pw("333333"), status: 400, next: []string{"challenge-authenticator", "select-authenticator-authenticate"}, msg: "api.authn.error.PASSCODE_INVALID"},
			{rem: "challenge-authenticator", body: pw("444444"), next: []string{"success"}},
		}, true, idptest.OktaStats{PasswordPosts: 1, FactorVerifies: 2, BadPasscodes: 1, CodesSent: 1}},
		{"email", idptest.OktaUser{Factors: factors}, []step{
			{rem: "identify", body: map[string]any{"identifier": "dade", "credentials": map[string]any{"passcode": "pw"}}, next: []string{"select-authenticator-authenticate"}},
			{rem: "select-authenticator-authenticate", auth: "okta_email", next: []string{"challenge-authenticator", "select-authenticator-authenticate"}},
			{rem: "challenge-authenticator", body: pw("555555"), next: []string{"success"}},
		}, true, idptest.OktaStats{PasswordPosts: 1, FactorVerifies: 1, CodesSent: 1}},
		{"password expired", idptest.OktaUser{Status: "PASSWORD_EXPIRED"}, []step{
			{rem: "identify", body: map[string]any{"identifier": "dade", "credentials": map[string]any{"passcode": "pw"}}, next: []string{"reenroll-authenticator"}, msg: "password.expired.title.generic"},
		}, false, idptest.OktaStats{PasswordPosts: 1}},
		{"password warn, skipped", idptest.OktaUser{Status: "PASSWORD_WARN"}, []step{
			{rem: "identify", body: map[string]any{"identifier": "dade", "credentials": map[string]any{"passcode": "pw"}}, next: []string{"reenroll-authenticator-warning", "skip"}, msg: "password.expiring.title"},
			{rem: "skip", next: []string{"success"}},
		}, true, idptest.OktaStats{PasswordPosts: 1}},
		{"enroll required", idptest.OktaUser{Status: "MFA_ENROLL"}, []step{
			{rem: "identify", body: map[string]any{"identifier": "dade", "credentials": map[string]any{"passcode": "pw"}}, next: []string{"select-authenticator-enroll"}},
		}, false, idptest.OktaStats{PasswordPosts: 1}},
		{"webauthn only", idptest.OktaUser{Factors: []idptest.OktaFactor{{Type: "webauthn"}}}, []step{
			{rem: "identify", body: map[string]any{"identifier": "dade", "credentials": map[string]any{"passcode": "pw"}}, next: []string{"select-authenticator-authenticate"}},
			{rem: "select-authenticator-authenticate", auth: "webauthn", next: []string{"challenge-authenticator", "select-authenticator-authenticate"}},
		}, false, idptest.OktaStats{PasswordPosts: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := tt.user
			u.Username, u.Password, u.Roles = "dade", "pw", []string{oktaRole}
			k := newOkta(t, idptest.OktaOptions{Pipeline: "idx", Users: []idptest.OktaUser{u}})
			c := newOktaClient(t, k)
			r := c.idxStart(t)
			if got := remNames(r); len(got) != 1 || got[0] != "identify" {
				t.Fatalf("introspect remediations %v", got)
			}
			for i, s := range tt.steps {
				body := s.body
				if body == nil {
					body = map[string]any{}
				}
				if s.auth != "" {
					a := map[string]any{"id": authID(t, r, s.auth)}
					if s.method != "" {
						a["methodType"] = s.method
					}
					body["authenticator"] = a
				}
				var next reply
				if s.rem == "resend" {
					href := str(r.body, "currentAuthenticatorEnrollment.value.resend.href")
					if !strings.HasSuffix(href, "/idp/idx/challenge/resend") {
						t.Fatalf("step %d: resend href %q", i, href)
					}
					body["stateHandle"] = str(r.body, "stateHandle")
					next = c.postType(href, ion, body)
				} else {
					next = c.idxPost(t, r, s.rem, body)
				}
				want := s.status
				if want == 0 {
					want = 200
				}
				got := remNames(next)
				if str(next.body, "success.href") != "" {
					got = append(got, "success")
				}
				if next.status != want || strings.Join(got, ",") != strings.Join(s.next, ",") {
					t.Fatalf("step %d %s: %d %v, want %d %v\n%s", i, s.rem, next.status, got, want, s.next, next.raw)
				}
				if m := str(next.body, "messages.value.0.i18n.key"); m != s.msg {
					t.Errorf("step %d: message key %q, want %q", i, m, s.msg)
				}
				n := str(next.body, "currentAuthenticatorEnrollment.value.contextualData.correctAnswer")
				if (s.number == 0) != (n == "") || s.number != 0 && n != strconv.Itoa(s.number) {
					t.Errorf("step %d: correctAnswer %q, want %d", i, n, s.number)
				}
				if str(next.body, "stateHandle") != str(r.body, "stateHandle") {
					t.Errorf("step %d: stateHandle changed", i)
				}
				r = next
			}
			if tt.success {
				b64 := c.idxFinish(t, r)
				checkAssertion(t, b64, k.Certificate(), want{
					dest: "https://signin.aws.amazon.com/saml", issuer: k.Issuer(), nameID: "dade",
					sessionName: "dade", roles: []string{oktaRole}, notOnOrAfter: within(5 * time.Minute),
				})
				// Silent refresh with the IDX session.
				_, body := c.get(k.URL())
				samlPage(t, body)
			}
			s := k.Stats()
			if s.PasswordPosts != tt.stats.PasswordPosts || s.FactorVerifies != tt.stats.FactorVerifies ||
				s.BadPasscodes != tt.stats.BadPasscodes || s.Polls != tt.stats.Polls || s.CodesSent != tt.stats.CodesSent {
				t.Errorf("stats = %+v, want %+v", s, tt.stats)
			}
			if s.IDXRequests != len(tt.steps)+1 {
				t.Errorf("IDXRequests = %d, want %d", s.IDXRequests, len(tt.steps)+1)
			}
			if tt.success && (s.SAMLIssued != 2 || s.SessionReuses != 1) {
				t.Errorf("SAMLIssued %d SessionReuses %d", s.SAMLIssued, s.SessionReuses)
			}
		})
	}
}

func TestOktaIDXErrors(t *testing.T) {
	k := newOkta(t, idptest.OktaOptions{Pipeline: "idx", RateLimit: 1, RateWindow: time.Hour,
		Users: []idptest.OktaUser{{Username: "dade", Password: "pw"}}})
	c := newOktaClient(t, k)
	r := c.postType("/idp/idx/introspect", ion, map[string]any{"stateToken": "02bogus"})
	if r.status != 401 || str(r.body, "messages.value.0.i18n.key") != "idx.session.expired" || r.header.Get("Content-Type") != ion {
		t.Errorf("unknown stateToken: %d %s", r.status, r.raw)
	}
	r = c.postType("/idp/idx/challenge/answer", ion, map[string]any{"stateHandle": "02bogus", "credentials": map[string]any{"passcode": "x"}})
	if r.status != 401 || str(r.body, "messages.value.0.message") != "The session has expired." {
		t.Errorf("unknown stateHandle: %d %s", r.status, r.raw)
	}
	start := c.idxStart(t)
	if r := c.idxPost(t, start, "identify", map[string]any{"identifier": "dade"}); r.status != 200 {
		t.Errorf("first identify: %d", r.status)
	}
	r = c.postType("/idp/idx/identify", ion, map[string]any{"identifier": "dade", "stateHandle": str(start.body, "stateHandle")})
	checkErr(t, r, 429, "E0000047", "API call exceeded rate limit due to too many requests.")
	if r.header.Get("X-Rate-Limit-Limit") != "1" {
		t.Errorf("429 headers: %v", r.header)
	}
	// Out-of-order calls say so and keep the state.
	r = c.postType("/idp/idx/authenticators/poll", ion, map[string]any{"stateHandle": str(start.body, "stateHandle")})
	if r.status != 400 || str(r.body, "messages.value.0.i18n.key") != "errors.E0000079" || remediation(r, "challenge-authenticator") == nil {
		t.Errorf("poll before a push: %d %s", r.status, r.raw)
	}
	// The success link is no use before success.
	resp, _ := c.get("/login/token/redirect?stateToken=" + url.QueryEscape("02bogus"))
	if resp.StatusCode != 403 {
		t.Errorf("token/redirect with a bogus token: %d", resp.StatusCode)
	}
	k.ExpireTransactions()
	r = c.postType("/idp/idx/introspect", ion, map[string]any{"stateHandle": str(start.body, "stateHandle")})
	if r.status != 401 || str(r.body, "messages.value.0.i18n.key") != "idx.session.expired" {
		t.Errorf("after ExpireTransactions: %d %s", r.status, r.raw)
	}
	secrets := strings.Join(k.Secrets(), "\n")
	if !strings.Contains(secrets, str(start.body, "stateHandle")) {
		t.Error("Secrets() lacks the stateHandle")
	}
}

// TestOktaIDXStepUp: on an Identity Engine org the app's step-up is an IDX
// transaction (the Classic stateToken route answers E0000011).
func TestOktaIDXStepUp(t *testing.T) {
	k := newOkta(t, idptest.OktaOptions{Pipeline: "idx", StepUp: true, Users: []idptest.OktaUser{
		{Username: "dade", Password: "pw", Roles: []string{oktaRole}, Factors: []idptest.OktaFactor{{Type: "token:software:totp", Code: "123456"}}}}})
	c := newOktaClient(t, k)
	// A session from the Classic API, which OIE orgs usually still serve.
	r := c.post("/api/v1/authn", map[string]any{"username": "dade", "password": "pw"})
	r = c.post(factorHref(t, r, "token:software:totp", ""), map[string]any{"stateToken": str(r.body, "stateToken"), "passCode": "123456"})
	_, body := c.get("/login/sessionCookieRedirect?token=" + url.QueryEscape(str(r.body, "sessionToken")) + "&redirectUrl=" + url.QueryEscape(k.URL()))
	if strings.Contains(body, "appForm") {
		t.Fatal("no step-up")
	}
	st := pageStateToken(t, body)
	checkErr(t, c.post("/api/v1/authn", map[string]any{"stateToken": st}), 401, "E0000011", "Invalid token provided")
	r = c.postType("/idp/idx/introspect", ion, map[string]any{"stateToken": st})
	if got := remNames(r); len(got) != 1 || got[0] != "select-authenticator-authenticate" || str(r.body, "user.value.identifier") != "dade" {
		t.Fatalf("step-up introspect: %v %s", got, r.raw)
	}
	r = c.idxPost(t, r, "select-authenticator-authenticate", map[string]any{"authenticator": map[string]any{"id": authID(t, r, "okta_verify")}})
	r = c.idxPost(t, r, "challenge-authenticator", map[string]any{"credentials": map[string]any{"passcode": "123456"}})
	c.idxFinish(t, r)
	if s := k.Stats(); s.StepUps != 1 || s.SAMLIssued != 1 {
		t.Errorf("stats %+v", s)
	}
}

// TestOktaAppTokenShortcut: Classic takes ?sessionToken= on the app link;
// Identity Engine dropped it and shows the sign-in widget.
func TestOktaAppTokenShortcut(t *testing.T) {
	for _, tt := range []struct {
		pipeline, param string
		saml            bool
	}{{"v1", "sessionToken", true}, {"v1", "onetimetoken", true}, {"idx", "sessionToken", false}} {
		t.Run(tt.pipeline+"/"+tt.param, func(t *testing.T) {
			k := newOkta(t, idptest.OktaOptions{Pipeline: tt.pipeline, Users: []idptest.OktaUser{{Username: "dade", Password: "pw", Roles: []string{oktaRole}}}})
			c := newOktaClient(t, k)
			r := c.post("/api/v1/authn", map[string]any{"username": "dade", "password": "pw"})
			_, body := c.get(k.URL() + "?" + tt.param + "=" + url.QueryEscape(str(r.body, "sessionToken")))
			if got := strings.Contains(body, `id="appForm"`); got != tt.saml {
				t.Errorf("SAML page = %v, want %v", got, tt.saml)
			}
		})
	}
}
