package idptest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/saml2sts/saml2sts/idp/idptest"
)

// oktaClient is a tiny raw-HTTP client of the emulator: a cookie jar and
// JSON helpers, nothing of the real adapter.
type oktaClient struct {
	t    *testing.T
	k    *idptest.Okta
	http *http.Client
}

func newOktaClient(t *testing.T, k *idptest.Okta) *oktaClient {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	return &oktaClient{t: t, k: k, http: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
}

func newOkta(t *testing.T, o idptest.OktaOptions) *idptest.Okta {
	t.Helper()
	k, err := idptest.NewOkta(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Close)
	return k
}

// reply is one JSON answer.
type reply struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// post POSTs v as JSON to path (relative to the org, or absolute).
func (c *oktaClient) post(path string, v any) reply {
	c.t.Helper()
	return c.postType(path, "application/json", v)
}

func (c *oktaClient) postType(path, ctype string, v any) reply {
	c.t.Helper()
	b, _ := json.Marshal(v)
	if !strings.HasPrefix(path, "http") {
		path = c.k.BaseURL() + path
	}
	req, _ := http.NewRequest(http.MethodPost, path, bytes.NewReader(b))
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Accept", ctype)
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if err := json.Unmarshal(raw, &r.body); err != nil {
		c.t.Fatalf("POST %s: %d, not JSON: %v\n%s", path, resp.StatusCode, err, raw)
	}
	return r
}

// get GETs path, following redirects, and returns the final page.
func (c *oktaClient) get(path string) (*http.Response, string) {
	c.t.Helper()
	if !strings.HasPrefix(path, "http") {
		path = c.k.BaseURL() + path
	}
	resp, err := c.http.Get(path)
	if err != nil {
		c.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// str walks a JSON path like "_embedded.factor.id" or "_links.resend.0.href".
func str(v any, path string) string {
	x := dig(v, path)
	switch x := x.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case nil:
		return ""
	}
	b, _ := json.Marshal(x)
	return string(b)
}

func dig(v any, path string) any {
	for _, p := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			i := 0
			for _, c := range p {
				if c < '0' || c > '9' {
					return nil
				}
				i = i*10 + int(c-'0')
			}
			if i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// factorID finds the verify link of the factor with the given type and
// provider in an MFA_REQUIRED answer.
func factorHref(t *testing.T, r reply, typ, provider string) string {
	t.Helper()
	fs, _ := dig(r.body, "_embedded.factors").([]any)
	for _, f := range fs {
		if str(f, "factorType") == typ && (provider == "" || str(f, "provider") == provider) {
			return str(f, "_links.verify.href")
		}
	}
	t.Fatalf("no %s/%s factor in %s", typ, provider, r.raw)
	return ""
}

// samlPage extracts the appForm the way a careful client does: with an
// HTML parser, which decodes the entity-encoded action and value.
func samlPage(t *testing.T, body string) (action, b64 string) {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	f := doc.Find("form#appForm")
	if f.Length() != 1 {
		t.Fatalf("no form#appForm in:\n%s", body)
	}
	action, _ = f.Attr("action")
	b64, _ = f.Find(`input[name="SAMLResponse"]`).Attr("value")
	if _, ok := f.Find(`input[name="RelayState"]`).Attr("value"); !ok {
		t.Error("appForm has no RelayState input")
	}
	return action, b64
}

var (
	oktaRole = "arn:aws:iam::123456789012:role/Reader,arn:aws:iam::123456789012:saml-provider/okta"
	stateRe  = regexp.MustCompile(`var stateToken = '([^']*)';`)
	stateRe2 = regexp.MustCompile(`"stateToken":"([^"]*)"`)
)

// unJS undoes Okta's \xNN escapes in page JS strings.
func unJS(s string) string {
	re := regexp.MustCompile(`\\x([0-9A-Fa-f]{2})`)
	return re.ReplaceAllStringFunc(s, func(m string) string {
		var b byte
		for _, c := range m[2:] {
			b <<= 4
			switch {
			case c >= '0' && c <= '9':
				b |= byte(c - '0')
			case c >= 'a' && c <= 'f':
				b |= byte(c-'a') + 10
			default:
				b |= byte(c-'A') + 10
			}
		}
		return string(rune(b))
	})
}

// classicLogin runs password (+ the given factor step) and returns the
// SUCCESS sessionToken.
func (c *oktaClient) toSAML(token string) (action, b64 string) {
	c.t.Helper()
	resp, body := c.get("/login/sessionCookieRedirect?checkAccountSetupComplete=true&token=" + url.QueryEscape(token) +
		"&redirectUrl=" + url.QueryEscape(c.k.URL()))
	if resp.StatusCode != 200 {
		c.t.Fatalf("sessionCookieRedirect: %d\n%s", resp.StatusCode, body)
	}
	return samlPage(c.t, body)
}

func TestOktaClassicPassword(t *testing.T) {
	k := newOkta(t, idptest.OktaOptions{Users: []idptest.OktaUser{
		{Username: "dade.murphy@example.com", Password: "hunter2", Roles: []string{oktaRole}},
	}})
	c := newOktaClient(t, k)

	r := c.post("/api/v1/authn", map[string]any{"username": "dade.murphy@example.com", "password": "hunter2"})
	if r.status != 200 || str(r.body, "status") != "SUCCESS" {
		t.Fatalf("authn: %d %s", r.status, r.raw)
	}
	if got := str(r.body, "_embedded.user.profile.login"); got != "dade.murphy@example.com" {
		t.Errorf("user login = %q", got)
	}
	if _, err := time.Parse(time.RFC3339, str(r.body, "expiresAt")); err != nil {
		t.Errorf("expiresAt: %v", err)
	}
	tok := str(r.body, "sessionToken")
	action, b64 := c.toSAML(tok)
	if action != "https://signin.aws.amazon.com/saml" {
		t.Errorf("appForm action = %q", action)
	}
	checkAssertion(t, b64, k.Certificate(), want{
		dest: "https://signin.aws.amazon.com/saml", issuer: k.Issuer(), nameID: "dade.murphy@example.com",
		sessionName: "dade.murphy@example.com", roles: []string{oktaRole}, notOnOrAfter: within(5 * time.Minute),
	})
	if s := k.Stats(); s.PasswordPosts != 1 || s.SAMLIssued != 1 || s.SessionReuses != 0 {
		t.Errorf("stats = %+v", s)
	}
	if got := k.IssuedResponses(); len(got) != 1 || got[0] != b64 {
		t.Errorf("IssuedResponses does not hold the served response")
	}
}

func TestOktaWellKnown(t *testing.T) {
	for _, pipeline := range []string{"", "v1", "idx"} {
		t.Run("pipeline="+pipeline, func(t *testing.T) {
			k := newOkta(t, idptest.OktaOptions{Pipeline: pipeline})
			req, _ := http.NewRequest(http.MethodGet, k.BaseURL()+"/.well-known/okta-organization", nil)
			req.Header.Set("Accept", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body map[string]any
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatal(err)
			}
			want := pipeline
			if want == "" {
				want = "v1"
			}
			if resp.StatusCode != 200 || str(body, "pipeline") != want {
				t.Errorf("status %d, pipeline %q, want %q", resp.StatusCode, str(body, "pipeline"), want)
			}
			if got := str(body, "_links.organization.href"); got != k.BaseURL() {
				t.Errorf("organization href = %q", got)
			}
			if id := str(body, "id"); !strings.HasPrefix(id, "00o") || len(id) != 20 {
				t.Errorf("org id = %q", id)
			}
		})
	}
}

// TestOktaAppPage checks the SAML page bytes as Okta writes them and the
// silent refresh through a live sid.
func TestOktaAppPage(t *testing.T) {
	k := newOkta(t, idptest.OktaOptions{Users: []idptest.OktaUser{
		{Username: "dade", Password: "pw", Roles: []string{oktaRole}, SessionName: "dade@example.com"},
	}})
	c := newOktaClient(t, k)
	r := c.post("/api/v1/authn", map[string]any{"username": "DADE", "password": "pw"})
	tok := str(r.body, "sessionToken")
	resp, body := c.get("/login/sessionCookieRedirect?token=" + url.QueryEscape(tok) + "&redirectUrl=" + url.QueryEscape(k.SSOURL()))
	if resp.StatusCode != 200 || resp.Request.URL.String() != k.SSOURL() {
		t.Fatalf("landed on %s (%d)", resp.Request.URL, resp.StatusCode)
	}
	if !strings.Contains(body, `<form id="appForm" action="https&#x3a;&#x2f;&#x2f;signin.aws.amazon.com&#x2f;saml" method="POST">`) {
		t.Errorf("appForm action is not entity-encoded as Okta writes it:\n%s", body)
	}
	_, b64 := samlPage(t, body)
	if strings.ContainsAny(b64, "&;") || len(b64) < 1000 {
		t.Errorf("SAMLResponse not decoded by the parser: %.40q", b64)
	}
	if strings.Contains(body, b64) && strings.ContainsAny(b64, "+/=") {
		t.Error("raw page carries the base64 literally; Okta entity-encodes + / =")
	}
	var sid string
	u, _ := url.Parse(k.BaseURL())
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == "sid" {
			sid = ck.Value
		}
	}
	if sid == "" {
		t.Fatal("no sid cookie after sessionCookieRedirect")
	}

	// The sessionToken is one-time.
	resp, body = c.get("/login/sessionCookieRedirect?token=" + url.QueryEscape(tok) + "&redirectUrl=" + url.QueryEscape(k.URL()))
	if resp.StatusCode != 403 || !strings.Contains(body, "error-content") {
		t.Errorf("reused sessionToken: %d", resp.StatusCode)
	}

	// Silent refresh: the app link with the sid goes straight to the SAML page.
	for i := 1; i <= 2; i++ {
		_, body = c.get(k.URL())
		_, again := samlPage(t, body)
		checkAssertion(t, again, k.Certificate(), want{
			dest: "https://signin.aws.amazon.com/saml", issuer: k.Issuer(), nameID: "dade",
			sessionName: "dade@example.com", roles: []string{oktaRole}, notOnOrAfter: within(5 * time.Minute),
		})
		if s := k.Stats(); s.SessionReuses != i || s.PasswordPosts != 1 || s.SAMLIssued != i+1 {
			t.Errorf("refresh %d: stats %+v", i, s)
		}
	}
	// Sessions API sees the same session.
	me := c.getJSON("/api/v1/sessions/me")
	if str(me.body, "id") != sid || str(me.body, "status") != "ACTIVE" || str(me.body, "login") != "dade" {
		t.Errorf("sessions/me = %s", me.raw)
	}

	// Once Okta forgets the session, the app link starts a login.
	k.ExpireSessions()
	resp, body = c.get(k.URL())
	if !strings.HasPrefix(resp.Request.URL.Path, "/login/login.htm") || strings.Contains(body, "appForm") {
		t.Fatalf("expired session: landed on %s", resp.Request.URL)
	}
	if me := c.getJSON("/api/v1/sessions/me"); me.status != 404 || str(me.body, "errorCode") != "E0000007" {
		t.Errorf("sessions/me after expiry: %d %s", me.status, me.raw)
	}
}

func (c *oktaClient) getJSON(path string) reply {
	c.t.Helper()
	resp, body := c.get(path)
	r := reply{status: resp.StatusCode, header: resp.Header, raw: body}
	if err := json.Unmarshal([]byte(body), &r.body); err != nil {
		c.t.Fatalf("GET %s: not JSON: %v", path, err)
	}
	return r
}

func TestOktaSessionTTL(t *testing.T) {
	// The session lifetime runs on a fake clock: the result cannot depend
	// on how long the requests took.
	clk := idptest.NewClock(time.Now())
	k := newOkta(t, idptest.OktaOptions{SessionTTL: time.Hour, SAMLOptions: idptest.SAMLOptions{Now: clk.Now},
		Users: []idptest.OktaUser{{Username: "dade", Password: "pw", Roles: []string{oktaRole}}}})
	c := newOktaClient(t, k)
	r := c.post("/api/v1/authn", map[string]any{"username": "dade", "password": "pw"})
	c.toSAML(str(r.body, "sessionToken"))
	clk.Advance(time.Hour - time.Second)
	if resp, _ := c.get(k.URL()); strings.HasPrefix(resp.Request.URL.Path, "/login/login.htm") {
		t.Errorf("app link within the session lifetime landed on %s", resp.Request.URL)
	}
	clk.Advance(2 * time.Second)
	resp, _ := c.get(k.URL())
	if !strings.HasPrefix(resp.Request.URL.Path, "/login/login.htm") {
		t.Errorf("app link after the session lifetime landed on %s", resp.Request.URL)
	}
}

// checkErr asserts one of Okta's error bodies.
func checkErr(t *testing.T, r reply, status int, code, summary string) {
	t.Helper()
	if r.status != status || str(r.body, "errorCode") != code || str(r.body, "errorSummary") != summary {
		t.Errorf("got %d %s, want %d %s %q", r.status, r.raw, status, code, summary)
	}
	if str(r.body, "errorLink") != code || !strings.HasPrefix(str(r.body, "errorId"), "oae") {
		t.Errorf("errorLink/errorId wrong: %s", r.raw)
	}
	if _, ok := dig(r.body, "errorCauses").([]any); !ok {
		t.Errorf("errorCauses is not an array: %s", r.raw)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
}

func TestOktaAuthnErrors(t *testing.T) {
	k := newOkta(t, idptest.OktaOptions{Users: []idptest.OktaUser{
		{Username: "dade", Password: "pw", Factors: []idptest.OktaFactor{{Type: "token:software:totp", Code: "123456"}}},
		{Username: "nopw"},
	}})
	c := newOktaClient(t, k)
	tests := []struct {
		name          string
		path          string
		body          map[string]any
		status        int
		code, summary string
	}{
		{"bad password", "/api/v1/authn", map[string]any{"username": "dade", "password": "nope"}, 401, "E0000004", "Authentication failed"},
		{"unknown user", "/api/v1/authn", map[string]any{"username": "zz", "password": "pw"}, 401, "E0000004", "Authentication failed"},
		{"user without password", "/api/v1/authn", map[string]any{"username": "nopw", "password": ""}, 400, "E0000001", "Api validation failed: authRequest"},
		{"unknown stateToken", "/api/v1/authn", map[string]any{"stateToken": "00bogus"}, 401, "E0000011", "Invalid token provided"},
		{"verify with unknown stateToken", "/api/v1/authn/factors/ost1/verify", map[string]any{"stateToken": "00bogus", "passCode": "1"}, 401, "E0000011", "Invalid token provided"},
		{"skip with unknown stateToken", "/api/v1/authn/skip", map[string]any{"stateToken": "00bogus"}, 401, "E0000011", "Invalid token provided"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErr(t, c.post(tt.path, tt.body), tt.status, tt.code, tt.summary)
		})
	}

	// Transaction-level errors.
	r := c.post("/api/v1/authn", map[string]any{"username": "dade", "password": "pw"})
	st := str(r.body, "stateToken")
	href := factorHref(t, r, "token:software:totp", "OKTA")
	bad := c.post(href, map[string]any{"stateToken": st, "passCode": "000000"})
	checkErr(t, bad, 403, "E0000068", "Invalid Passcode/Answer")
	if got := str(bad.body, "errorCauses.0.errorSummary"); got != "Your passcode doesn't match our records. Please try again." {
		t.Errorf("errorCauses = %q", got)
	}
	checkErr(t, c.post("/api/v1/authn/factors/ostNOPE/verify", map[string]any{"stateToken": st}), 404, "E0000007",
		"Not found: Resource not found: ostNOPE (UserFactor)")
	checkErr(t, c.post("/api/v1/authn/skip", map[string]any{"stateToken": st}), 403, "E0000079",
		"This operation is not allowed in the current authentication state.")
	if s := k.Stats(); s.BadPasscodes != 1 || s.FactorVerifies != 1 || s.PasswordPosts != 3 {
		t.Errorf("stats = %+v", s)
	}
	// A transaction Okta forgot (the client waited too long).
	r2 := c.post("/api/v1/authn", map[string]any{"username": "dade", "password": "pw"})
	k.ExpireTransactions()
	checkErr(t, c.post(href, map[string]any{"stateToken": str(r2.body, "stateToken"), "passCode": "123456"}), 401, "E0000011", "Invalid token provided")
	if k.Stats().FactorVerifies != 1 {
		t.Error("a verify with a dead stateToken counted as a verify")
	}
	r = c.post("/api/v1/authn", map[string]any{"username": "dade", "password": "pw"})
	st = str(r.body, "stateToken")
	ok := c.post(href, map[string]any{"stateToken": st, "passCode": "123456"})
	if str(ok.body, "status") != "SUCCESS" {
		t.Fatalf("good passcode on a fresh transaction: %s", ok.raw)
	}
	// A finished transaction's stateToken is spent.
	checkErr(t, c.post(href, map[string]any{"stateToken": st, "passCode": "123456"}), 401, "E0000011", "Invalid token provided")
}

func TestOktaRateLimit(t *testing.T) {
	k := newOkta(t, idptest.OktaOptions{RateLimit: 2, RateWindow: time.Hour,
		Users: []idptest.OktaUser{{Username: "dade", Password: "pw"}}})
	c := newOktaClient(t, k)
	for i := 0; i < 2; i++ {
		r := c.post("/api/v1/authn", map[string]any{"username": "dade", "password": "bad"})
		if r.status != 401 || r.header.Get("X-Rate-Limit-Limit") != "2" || r.header.Get("X-Rate-Limit-Remaining") != strconv.Itoa(1-i) {
			t.Errorf("call %d: %d, limit %q remaining %q", i, r.status, r.header.Get("X-Rate-Limit-Limit"), r.header.Get("X-Rate-Limit-Remaining"))
		}
	}
	r := c.post("/api/v1/authn", map[string]any{"username": "dade", "password": "pw"})
	checkErr(t, r, 429, "E0000047", "API call exceeded rate limit due to too many requests.")
	if r.header.Get("X-Rate-Limit-Remaining") != "0" {
		t.Errorf("Remaining = %q", r.header.Get("X-Rate-Limit-Remaining"))
	}
	reset, err := strconv.ParseInt(r.header.Get("X-Rate-Limit-Reset"), 10, 64)
	if now := time.Now().Unix(); err != nil || reset < now+3500 || reset > now+3601 {
		t.Errorf("X-Rate-Limit-Reset = %q, want about an hour from now", r.header.Get("X-Rate-Limit-Reset"))
	}
	if s := k.Stats(); s.RateLimited != 1 || s.PasswordPosts != 2 {
		t.Errorf("stats = %+v (the limited call must not count as a password post)", s)
	}
}

func TestOktaStatuses(t *testing.T) {
	totp := []idptest.OktaFactor{{Type: "token:software:totp", Code: "111111"}}
	tests := []struct {
		name   string
		user   idptest.OktaUser
		warn   bool
		mfa    bool   // verify TOTP first
		status string // after password (and MFA)
		links  []string
		then   string // "skip", "change", or ""
		final  string
	}{
		{"locked out", idptest.OktaUser{Status: "LOCKED_OUT"}, false, false, "LOCKED_OUT", []string{"next"}, "", ""},
		{"expired", idptest.OktaUser{Status: "PASSWORD_EXPIRED"}, false, false, "PASSWORD_EXPIRED", []string{"next", "cancel"}, "change", "SUCCESS"},
		{"expired after MFA", idptest.OktaUser{Status: "PASSWORD_EXPIRED", Factors: totp}, false, true, "PASSWORD_EXPIRED", []string{"next", "cancel"}, "", ""},
		{"warn", idptest.OktaUser{Status: "PASSWORD_WARN"}, true, false, "PASSWORD_WARN", []string{"next", "skip", "cancel"}, "skip", "SUCCESS"},
		{"warn not asked for", idptest.OktaUser{Status: "PASSWORD_WARN"}, false, false, "SUCCESS", nil, "", ""},
		{"enroll", idptest.OktaUser{Status: "MFA_ENROLL"}, false, false, "MFA_ENROLL", []string{"cancel"}, "", ""},
		{"mfa required", idptest.OktaUser{Factors: totp}, false, false, "MFA_REQUIRED", []string{"cancel"}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := tt.user
			u.Username, u.Password = "dade", "pw"
			k := newOkta(t, idptest.OktaOptions{Users: []idptest.OktaUser{u}})
			c := newOktaClient(t, k)
			body := map[string]any{"username": "dade", "password": "pw"}
			if tt.warn {
				body["options"] = map[string]any{"warnBeforePasswordExpired": true}
			}
			r := c.post("/api/v1/authn", body)
			if tt.mfa {
				r = c.post(factorHref(t, r, "token:software:totp", ""), map[string]any{"stateToken": str(r.body, "stateToken"), "passCode": "111111"})
			}
			if r.status != 200 || str(r.body, "status") != tt.status {
				t.Fatalf("got %d %s, want %s", r.status, r.raw, tt.status)
			}
			for _, l := range tt.links {
				if str(r.body, "_links."+l+".href") == "" {
					t.Errorf("no _links.%s in %s", l, r.raw)
				}
			}
			switch tt.status {
			case "LOCKED_OUT":
				if !strings.HasSuffix(str(r.body, "_links.next.href"), "/api/v1/authn/recovery/unlock") || str(r.body, "stateToken") != "" {
					t.Errorf("LOCKED_OUT shape: %s", r.raw)
				}
			case "PASSWORD_EXPIRED", "PASSWORD_WARN":
				if str(r.body, "_links.next.name") != "changePassword" || str(r.body, "_embedded.policy.complexity.minLength") != "8" {
					t.Errorf("%s shape: %s", tt.status, r.raw)
				}
			case "MFA_ENROLL":
				if str(r.body, "_embedded.factors.0.status") != "NOT_SETUP" || str(r.body, "_embedded.factors.0._links.enroll.href") == "" {
					t.Errorf("MFA_ENROLL shape: %s", r.raw)
				}
			case "MFA_REQUIRED":
				if str(r.body, "_embedded.factors.0.factorType") != "token:software:totp" || str(r.body, "sessionToken") != "" {
					t.Errorf("MFA_REQUIRED shape: %s", r.raw)
				}
			case "SUCCESS":
				if str(r.body, "sessionToken") == "" {
					t.Errorf("SUCCESS without sessionToken: %s", r.raw)
				}
			}
			st := str(r.body, "stateToken")
			switch tt.then {
			case "skip":
				r = c.post(str(r.body, "_links.skip.href"), map[string]any{"stateToken": st})
			case "change":
				bad := c.post(str(r.body, "_links.next.href"), map[string]any{"stateToken": st, "oldPassword": "wrong", "newPassword": "N3w!pass"})
				checkErr(t, bad, 403, "E0000014", "Update of credentials failed")
				r = c.post(str(r.body, "_links.next.href"), map[string]any{"stateToken": st, "oldPassword": "pw", "newPassword": "N3w!pass"})
			}
			if tt.final != "" {
				if str(r.body, "status") != tt.final || str(r.body, "sessionToken") == "" {
					t.Fatalf("after %s: %s", tt.then, r.raw)
				}
				c.toSAML(str(r.body, "sessionToken"))
			}
		})
	}
}

// factorStep is one client action on a factor and what Okta answers.
type factorStep struct {
	do     string // verify (no passCode), code, answer, poll (POST _links.next), resend, sig (webauthn assertion)
	code   string
	http   int    // default 200
	status string // transaction status, or errorCode when http != 200
	result string // factorResult ("" = absent)
	number int    // correctAnswer shown
}

func TestOktaFactors(t *testing.T) {
	tests := []struct {
		name  string
		f     idptest.OktaFactor
		steps []factorStep
		stats idptest.OktaStats // checked fields: FactorVerifies, BadPasscodes, Polls, CodesSent
	}{
		{"totp okta", idptest.OktaFactor{Type: "token:software:totp", Code: "123456"}, []factorStep{
			{do: "code", code: "654321", http: 403, status: "E0000068"},
			{do: "code", code: "123456", status: "SUCCESS"},
		}, idptest.OktaStats{FactorVerifies: 2, BadPasscodes: 1}},
		{"totp google, saml2aws-style empty first POST", idptest.OktaFactor{Type: "token:software:totp", Provider: "GOOGLE", Code: "123456"}, []factorStep{
			{do: "verify", status: "MFA_CHALLENGE"},
			{do: "code", code: "123456", status: "SUCCESS"},
		}, idptest.OktaStats{FactorVerifies: 1}},
		{"yubikey", idptest.OktaFactor{Type: "token:hardware", Code: "cccccbhkevjfnigtcrnjdrvvbgtgtgtvbjtukgvdlbuc"}, []factorStep{
			{do: "code", code: "cccccbhkevjfnigtcrnjdrvvbgtgtgtvbjtukgvdlbuc", status: "SUCCESS"},
		}, idptest.OktaStats{FactorVerifies: 1}},
		{"sms send, resend, verify", idptest.OktaFactor{Type: "sms", Code: "424242"}, []factorStep{
			{do: "verify", status: "MFA_CHALLENGE"},
			{do: "resend", status: "MFA_CHALLENGE"},
			{do: "code", code: "000000", http: 403, status: "E0000068"},
			{do: "code", code: "424242", status: "SUCCESS"},
		}, idptest.OktaStats{FactorVerifies: 2, BadPasscodes: 1, CodesSent: 2}},
		{"sms code before sending", idptest.OktaFactor{Type: "sms", Code: "424242"}, []factorStep{
			{do: "code", code: "424242", http: 403, status: "E0000068"},
		}, idptest.OktaStats{FactorVerifies: 1, BadPasscodes: 1}},
		{"call", idptest.OktaFactor{Type: "call", Code: "5555"}, []factorStep{
			{do: "verify", status: "MFA_CHALLENGE"},
			{do: "code", code: "5555", status: "SUCCESS"},
		}, idptest.OktaStats{FactorVerifies: 1, CodesSent: 1}},
		{"email", idptest.OktaFactor{Type: "email", Code: "777777"}, []factorStep{
			{do: "verify", status: "MFA_CHALLENGE"},
			{do: "code", code: "777777", status: "SUCCESS"},
		}, idptest.OktaStats{FactorVerifies: 1, CodesSent: 1}},
		{"question", idptest.OktaFactor{Type: "question", Code: "Pele"}, []factorStep{
			{do: "answer", code: "Maradona", http: 403, status: "E0000068"},
			{do: "answer", code: "Pele", status: "SUCCESS"},
		}, idptest.OktaStats{FactorVerifies: 2, BadPasscodes: 1}},
		{"push approve", idptest.OktaFactor{Type: "push"}, []factorStep{
			{do: "verify", status: "MFA_CHALLENGE", result: "WAITING"},
			{do: "poll", status: "MFA_CHALLENGE", result: "WAITING"},
			{do: "poll", status: "SUCCESS"},
		}, idptest.OktaStats{Polls: 2}},
		{"push approve at once", idptest.OktaFactor{Type: "push", PushAfter: -1}, []factorStep{
			{do: "verify", status: "MFA_CHALLENGE", result: "WAITING"},
			{do: "poll", status: "SUCCESS"},
		}, idptest.OktaStats{Polls: 1}},
		{"push reject, then a new push", idptest.OktaFactor{Type: "push", Push: "reject", PushAfter: 2}, []factorStep{
			{do: "verify", status: "MFA_CHALLENGE", result: "WAITING"},
			{do: "poll", status: "MFA_CHALLENGE", result: "WAITING"},
			{do: "poll", status: "MFA_CHALLENGE", result: "WAITING"},
			{do: "poll", status: "MFA_CHALLENGE", result: "REJECTED"},
			{do: "poll", status: "MFA_CHALLENGE", result: "WAITING"}, // _links.next is "verify" now: a new push
		}, idptest.OktaStats{Polls: 3}},
		{"push timeout", idptest.OktaFactor{Type: "push", Push: "timeout"}, []factorStep{
			{do: "verify", status: "MFA_CHALLENGE", result: "WAITING"},
			{do: "poll", status: "MFA_CHALLENGE", result: "WAITING"},
			{do: "poll", status: "MFA_CHALLENGE", result: "WAITING"},
			{do: "poll", status: "MFA_CHALLENGE", result: "WAITING"},
			{do: "poll", status: "MFA_CHALLENGE", result: "TIMEOUT"},
		}, idptest.OktaStats{Polls: 4}},
		{"push number challenge", idptest.OktaFactor{Type: "push", CorrectAnswer: 92, PushAfter: -1}, []factorStep{
			{do: "verify", status: "MFA_CHALLENGE", result: "WAITING"},
			{do: "poll", status: "MFA_CHALLENGE", result: "WAITING", number: 92},
			{do: "poll", status: "SUCCESS"},
		}, idptest.OktaStats{Polls: 2}},
		{"push resend", idptest.OktaFactor{Type: "push"}, []factorStep{
			{do: "verify", status: "MFA_CHALLENGE", result: "WAITING"},
			{do: "poll", status: "MFA_CHALLENGE", result: "WAITING"},
			{do: "resend", status: "MFA_CHALLENGE", result: "WAITING"},
			{do: "poll", status: "MFA_CHALLENGE", result: "WAITING"},
			{do: "poll", status: "SUCCESS"},
		}, idptest.OktaStats{Polls: 3}},
		{"webauthn never verifies", idptest.OktaFactor{Type: "webauthn"}, []factorStep{
			{do: "verify", status: "MFA_CHALLENGE", result: "CHALLENGE"},
			{do: "sig", http: 403, status: "E0000068"},
		}, idptest.OktaStats{FactorVerifies: 1}},
		{"duo waits forever", idptest.OktaFactor{Type: "web"}, []factorStep{
			{do: "verify", status: "MFA_CHALLENGE", result: "WAITING"},
			{do: "poll", status: "MFA_CHALLENGE", result: "WAITING"},
		}, idptest.OktaStats{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := newOkta(t, idptest.OktaOptions{Users: []idptest.OktaUser{
				{Username: "dade", Password: "pw", Roles: []string{oktaRole}, Factors: []idptest.OktaFactor{tt.f}},
			}})
			c := newOktaClient(t, k)
			r := c.post("/api/v1/authn", map[string]any{"username": "dade", "password": "pw"})
			if str(r.body, "status") != "MFA_REQUIRED" {
				t.Fatalf("authn: %s", r.raw)
			}
			href := factorHref(t, r, tt.f.Type, "")
			if !strings.HasPrefix(href, k.BaseURL()+"/api/v1/authn/factors/") || !strings.HasSuffix(href, "/verify") {
				t.Errorf("verify href = %q", href)
			}
			provider := str(dig(r.body, "_embedded.factors.0"), "provider")
			want := map[string]string{"push": "OKTA", "token:hardware": "YUBICO", "webauthn": "FIDO", "web": "DUO"}[tt.f.Type]
			if tt.f.Provider != "" {
				want = tt.f.Provider
			}
			if want != "" && provider != want {
				t.Errorf("provider = %q, want %q", provider, want)
			}
			st := str(r.body, "stateToken")
			last := r
			for i, s := range tt.steps {
				body := map[string]any{"stateToken": st}
				target := href + "?rememberDevice=false"
				switch s.do {
				case "code":
					body["passCode"] = s.code
				case "answer":
					body["answer"] = s.code
				case "sig":
					body["clientData"], body["authenticatorData"], body["signatureData"] = "e30", "AAAA", "AAAA"
				case "poll":
					target = str(last.body, "_links.next.href")
				case "resend":
					target = str(last.body, "_links.resend.0.href")
					if !strings.HasSuffix(target, "/verify/resend") || str(last.body, "_links.resend.0.name") != tt.f.Type {
						t.Fatalf("step %d: resend link %q in %s", i, target, last.raw)
					}
				}
				r = c.post(target, body)
				wantHTTP := s.http
				if wantHTTP == 0 {
					wantHTTP = 200
				}
				got := str(r.body, "status")
				if r.status != 200 {
					got = str(r.body, "errorCode")
				}
				if r.status != wantHTTP || got != s.status || str(r.body, "factorResult") != s.result {
					t.Fatalf("step %d %s: got %d %s/%s, want %d %s/%s\n%s", i, s.do, r.status, got,
						str(r.body, "factorResult"), wantHTTP, s.status, s.result, r.raw)
				}
				if n := str(r.body, "_embedded.factor._embedded.challenge.correctAnswer"); n != "" && n != strconv.Itoa(s.number) || n == "" && s.number != 0 {
					t.Errorf("step %d: correctAnswer = %q, want %d", i, n, s.number)
				}
				if r.status == 200 && got == "MFA_CHALLENGE" {
					if str(r.body, "_embedded.factor.factorType") != tt.f.Type || str(r.body, "stateToken") != st {
						t.Errorf("step %d: MFA_CHALLENGE shape: %s", i, r.raw)
					}
					wantNext := "verify"
					if str(r.body, "factorResult") == "WAITING" {
						wantNext = "poll"
					}
					if str(r.body, "_links.next.name") != wantNext {
						t.Errorf("step %d: _links.next.name = %q, want %q", i, str(r.body, "_links.next.name"), wantNext)
					}
				}
				if r.status == 200 {
					last = r
				}
			}
			if tt.f.Type == "webauthn" && str(last.body, "_embedded.factor._embedded.challenge.challenge") == "" {
				t.Errorf("webauthn challenge has no nonce: %s", last.raw)
			}
			if tt.f.Type == "web" && str(last.body, "_embedded.factor._embedded.verification.host") == "" {
				t.Errorf("duo challenge has no verification host: %s", last.raw)
			}
			s := k.Stats()
			if s.FactorVerifies != tt.stats.FactorVerifies || s.BadPasscodes != tt.stats.BadPasscodes ||
				s.Polls != tt.stats.Polls || s.CodesSent != tt.stats.CodesSent {
				t.Errorf("stats = %+v, want %+v", s, tt.stats)
			}
			if str(last.body, "status") == "SUCCESS" {
				_, b64 := c.toSAML(str(last.body, "sessionToken"))
				if b64 == "" {
					t.Error("no SAMLResponse after the factor")
				}
			}
		})
	}
}

// stateToken pulls the stateToken out of a page as saml2aws does, with
// both regexes and the \x2D un-escaping.
func pageStateToken(t *testing.T, body string) string {
	t.Helper()
	m, m2 := stateRe.FindStringSubmatch(body), stateRe2.FindStringSubmatch(body)
	if m == nil || m2 == nil {
		t.Fatalf("no stateToken in page:\n%s", body)
	}
	if m[1] != m2[1] {
		t.Errorf("the two stateToken forms differ: %q %q", m[1], m2[1])
	}
	if strings.Contains(m[1], "-") {
		t.Errorf("stateToken %q not escaped as Okta does (\\x2D)", m[1])
	}
	st := unJS(m[1])
	if !strings.Contains(st, "-") {
		t.Errorf("stateToken %q has no '-' to exercise the \\x2D escape", st)
	}
	return st
}

func TestOktaStepUp(t *testing.T) {
	k := newOkta(t, idptest.OktaOptions{StepUp: true, Users: []idptest.OktaUser{
		{Username: "dade", Password: "pw", Roles: []string{oktaRole}, Factors: []idptest.OktaFactor{
			{Type: "token:software:totp", Code: "123456"}, {Type: "push", PushAfter: -1}}},
		{Username: "kate", Password: "pw", Roles: []string{oktaRole}},
	}})
	tests := []struct {
		name     string
		viaToken bool // finish with sessionCookieRedirect instead of _links.next
	}{{"next link", false}, {"session token", true}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := k.Stats()
			c := newOktaClient(t, k)
			r := c.post("/api/v1/authn", map[string]any{"username": "dade", "password": "pw"})
			r = c.post(factorHref(t, r, "token:software:totp", ""), map[string]any{"stateToken": str(r.body, "stateToken"), "passCode": "123456"})
			resp, body := c.get("/login/sessionCookieRedirect?token=" + url.QueryEscape(str(r.body, "sessionToken")) + "&redirectUrl=" + url.QueryEscape(k.URL()))
			if resp.StatusCode != 200 || strings.Contains(body, "appForm") || !strings.Contains(body, "Extra verification") {
				t.Fatalf("no step-up interstitial (%d):\n%s", resp.StatusCode, body)
			}
			st := pageStateToken(t, body)
			r = c.post("/api/v1/authn", map[string]any{"stateToken": st})
			if str(r.body, "status") != "MFA_REQUIRED" || str(r.body, "type") != "SESSION_STEP_UP" ||
				str(r.body, "_embedded.target.name") != "amazon_aws" || str(r.body, "_embedded.authentication.protocol") != "SAML2.0" {
				t.Fatalf("step-up state: %s", r.raw)
			}
			r = c.post(factorHref(t, r, "push", ""), map[string]any{"stateToken": st})
			r = c.post(str(r.body, "_links.next.href"), map[string]any{"stateToken": st})
			if str(r.body, "status") != "SUCCESS" || str(r.body, "_links.next.name") != "original" || str(r.body, "sessionToken") == "" {
				t.Fatalf("step-up success: %s", r.raw)
			}
			if tt.viaToken {
				_, body = c.get("/login/sessionCookieRedirect?token=" + url.QueryEscape(str(r.body, "sessionToken")) + "&redirectUrl=" + url.QueryEscape(k.URL()))
			} else {
				next := str(r.body, "_links.next.href")
				if !strings.HasPrefix(next, k.BaseURL()+"/login/step-up/redirect?stateToken=") {
					t.Errorf("next = %q", next)
				}
				_, body = c.get(next)
			}
			samlPage(t, body)
			// The session passed the step-up: the next app link is silent.
			_, body = c.get(k.URL())
			samlPage(t, body)
			s := k.Stats()
			if s.StepUps-before.StepUps != 1 || s.SAMLIssued-before.SAMLIssued != 2 || s.SessionReuses-before.SessionReuses != 1 {
				t.Errorf("stats delta: before %+v after %+v", before, s)
			}
		})
	}

	// A user without factors is not stepped up.
	c := newOktaClient(t, k)
	r := c.post("/api/v1/authn", map[string]any{"username": "kate", "password": "pw"})
	c.toSAML(str(r.body, "sessionToken"))
}

// TestOktaUnauthenticated follows the app link without a session on a
// Classic org: the sign-in page's stateToken is an UNAUTHENTICATED
// transaction that takes the credentials and then runs like any login.
func TestOktaUnauthenticated(t *testing.T) {
	totp := []idptest.OktaFactor{{Type: "token:software:totp", Code: "123456"}}
	tests := []struct {
		name   string
		user   idptest.OktaUser
		stepUp bool
		status string // after the credentials (and the TOTP)
	}{
		{"password only", idptest.OktaUser{}, false, "SUCCESS"},
		{"with mfa", idptest.OktaUser{Factors: totp}, false, "SUCCESS"},
		{"expired password is still enforced", idptest.OktaUser{Status: "PASSWORD_EXPIRED"}, false, "PASSWORD_EXPIRED"},
		{"app step-up still applies", idptest.OktaUser{Factors: totp}, true, "SUCCESS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := tt.user
			u.Username, u.Password, u.Roles = "dade", "pw", []string{oktaRole}
			k := newOkta(t, idptest.OktaOptions{StepUp: tt.stepUp, Users: []idptest.OktaUser{u}})
			c := newOktaClient(t, k)
			resp, body := c.get(k.URL())
			if resp.Request.URL.Path != "/login/login.htm" || resp.Request.URL.Query().Get("fromURI") != "/home/amazon_aws/0oa1awsapp0001/272" {
				t.Fatalf("app link without session landed on %s", resp.Request.URL)
			}
			st := pageStateToken(t, body)
			r := c.post("/api/v1/authn", map[string]any{"stateToken": st})
			if str(r.body, "status") != "UNAUTHENTICATED" || str(r.body, "type") != "SESSION_STEP_UP" ||
				str(r.body, "_links.next.name") != "authenticate" || str(r.body, "_embedded.user") != "" {
				t.Fatalf("UNAUTHENTICATED state: %s", r.raw)
			}
			checkErr(t, c.post("/api/v1/authn/skip", map[string]any{"stateToken": st}), 403, "E0000079",
				"This operation is not allowed in the current authentication state.")
			checkErr(t, c.post("/api/v1/authn", map[string]any{"stateToken": st, "username": "dade", "password": "no"}), 401, "E0000004", "Authentication failed")
			r = c.post("/api/v1/authn", map[string]any{"stateToken": st, "username": "dade", "password": "pw"})
			if len(u.Factors) > 0 {
				r = c.post(factorHref(t, r, "token:software:totp", ""), map[string]any{"stateToken": st, "passCode": "123456"})
			}
			if str(r.body, "status") != tt.status {
				t.Fatalf("after credentials: %s, want %s", r.raw, tt.status)
			}
			if tt.status != "SUCCESS" {
				return
			}
			if str(r.body, "_links.next.name") != "original" || str(r.body, "stateToken") != st {
				t.Fatalf("SUCCESS shape: %s", r.raw)
			}
			_, body = c.get(str(r.body, "_links.next.href"))
			if tt.stepUp {
				if strings.Contains(body, "appForm") {
					t.Fatal("app step-up skipped")
				}
				st = pageStateToken(t, body)
				r = c.post("/api/v1/authn", map[string]any{"stateToken": st})
				r = c.post(factorHref(t, r, "token:software:totp", ""), map[string]any{"stateToken": st, "passCode": "123456"})
				_, body = c.get(str(r.body, "_links.next.href"))
			}
			samlPage(t, body)
			if s := k.Stats(); s.SessionReuses != 0 || s.SAMLIssued != 1 || s.PasswordPosts != 2 {
				t.Errorf("stats %+v", s)
			}
		})
	}
}

func TestOktaIdentityCenter(t *testing.T) {
	k := newOkta(t, idptest.OktaOptions{Users: []idptest.OktaUser{{Username: "dade", Password: "pw", Roles: []string{oktaRole}}}})
	if !strings.Contains(k.IdentityCenterURL(), "/home/amazon_aws_sso/") {
		t.Fatalf("IdentityCenterURL = %q", k.IdentityCenterURL())
	}
	c := newOktaClient(t, k)
	resp, body := c.get(k.IdentityCenterURL())
	if resp.Request.URL.Path != "/login/login.htm" || strings.Contains(body, "SAMLResponse") {
		t.Errorf("without session: landed on %s", resp.Request.URL)
	}
	if m := stateRe.FindStringSubmatch(body); m == nil || m[1] != "" {
		t.Errorf("Identity Center sign-in page carries a stateToken for the app: %v", m)
	}
	r := c.post("/api/v1/authn", map[string]any{"username": "dade", "password": "pw"})
	_, body = c.get("/login/sessionCookieRedirect?token=" + url.QueryEscape(str(r.body, "sessionToken")) + "&redirectUrl=" + url.QueryEscape(k.IdentityCenterURL()))
	if !strings.Contains(body, "AWS IAM Identity Center") {
		t.Errorf("not the Identity Center page:\n%s", body)
	}
	action, _ := samlPage(t, body)
	if strings.HasPrefix(action, "https://signin.aws.amazon.com/") || !strings.Contains(action, ".signin.aws/platform/saml/acs/") {
		t.Errorf("Identity Center posts to %q", action)
	}
	if s := k.Stats(); s.SAMLIssued != 0 {
		t.Errorf("SAMLIssued = %d; the Identity Center page is no AWS federation SAML page", s.SAMLIssued)
	}
}

func TestOktaSecrets(t *testing.T) {
	k := newOkta(t, idptest.OktaOptions{Users: []idptest.OktaUser{{Username: "dade", Password: "pw", Roles: []string{oktaRole},
		Factors: []idptest.OktaFactor{{Type: "sms", Code: "1234"}}}}})
	c := newOktaClient(t, k)
	r := c.post("/api/v1/authn", map[string]any{"username": "dade", "password": "pw"})
	st := str(r.body, "stateToken")
	r = c.post(factorHref(t, r, "sms", ""), map[string]any{"stateToken": st})
	r = c.post(str(r.body, "_links.next.href"), map[string]any{"stateToken": st, "passCode": "1234"})
	tok := str(r.body, "sessionToken")
	c.toSAML(tok)
	u, _ := url.Parse(k.BaseURL())
	var sid string
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == "sid" {
			sid = ck.Value
		}
	}
	secrets := strings.Join(k.Secrets(), "\n")
	for name, v := range map[string]string{"stateToken": st, "sessionToken": tok, "sid": sid} {
		if v == "" || !strings.Contains(secrets, v) {
			t.Errorf("Secrets() lacks the %s %q", name, v)
		}
	}
}

func TestOktaConcurrentLogins(t *testing.T) {
	var users []idptest.OktaUser
	for i := range 8 {
		users = append(users, idptest.OktaUser{Username: "u" + strconv.Itoa(i), Password: "pw", Roles: []string{oktaRole},
			Factors: []idptest.OktaFactor{{Type: "push", PushAfter: -1}}})
	}
	k := newOkta(t, idptest.OktaOptions{Users: users, RateLimit: 100})
	errs := make(chan string, len(users))
	for i := range users {
		go func() {
			c := newOktaClient(t, k)
			r := c.post("/api/v1/authn", map[string]any{"username": "u" + strconv.Itoa(i), "password": "pw"})
			st := str(r.body, "stateToken")
			r = c.post(factorHref(t, r, "push", ""), map[string]any{"stateToken": st})
			r = c.post(str(r.body, "_links.next.href"), map[string]any{"stateToken": st})
			resp, body := c.get("/login/sessionCookieRedirect?token=" + url.QueryEscape(str(r.body, "sessionToken")) + "&redirectUrl=" + url.QueryEscape(k.URL()))
			if resp.StatusCode != 200 || !strings.Contains(body, "appForm") {
				errs <- "user " + strconv.Itoa(i) + ": no SAML page"
				return
			}
			_, body = c.get(k.URL())
			if !strings.Contains(body, "appForm") {
				errs <- "user " + strconv.Itoa(i) + ": no silent refresh"
				return
			}
			errs <- ""
		}()
	}
	for range users {
		if e := <-errs; e != "" {
			t.Error(e)
		}
	}
	if s := k.Stats(); s.SAMLIssued != 2*len(users) || s.SessionReuses != len(users) || s.Polls != len(users) {
		t.Errorf("stats = %+v", s)
	}
}

func TestOktaOptionsErrors(t *testing.T) {
	tests := []struct {
		name string
		o    idptest.OktaOptions
		want string
	}{
		{"bad pipeline", idptest.OktaOptions{Pipeline: "v2"}, "unknown okta pipeline"},
		{"bad app id", idptest.OktaOptions{AppID: "a/b"}, "plain path segment"},
		{"duplicate user", idptest.OktaOptions{Users: []idptest.OktaUser{{Username: "a"}, {Username: "A"}}}, "duplicate okta user"},
		{"empty username", idptest.OktaOptions{Users: []idptest.OktaUser{{}}}, "no Username"},
		{"bad status", idptest.OktaOptions{Users: []idptest.OktaUser{{Username: "a", Status: "SUSPENDED"}}}, "unknown Status"},
		{"bad factor", idptest.OktaOptions{Users: []idptest.OktaUser{{Username: "a", Factors: []idptest.OktaFactor{{Type: "u2f"}}}}}, "unknown factor type"},
		{"bad push", idptest.OktaOptions{Users: []idptest.OktaUser{{Username: "a", Factors: []idptest.OktaFactor{{Type: "push", Push: "maybe"}}}}}, "unknown push outcome"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := idptest.NewOkta(tt.o)
			if err == nil {
				k.Close()
				t.Fatal("NewOkta succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}

// rawDo sends one raw request and decodes the JSON answer.
func (c *oktaClient) rawDo(method, path, ctype, body string) reply {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.k.BaseURL()+path, strings.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if err := json.Unmarshal(raw, &r.body); err != nil {
		c.t.Fatalf("%s %s: not JSON: %s", method, path, raw)
	}
	return r
}

func TestOktaAPIEdges(t *testing.T) {
	k := newOkta(t, idptest.OktaOptions{Users: []idptest.OktaUser{{Username: "dade", Password: "pw", Roles: []string{oktaRole},
		Factors: []idptest.OktaFactor{{Type: "sms", Code: "1"}, {Type: "token:software:totp", Code: "2"}}}}})
	c := newOktaClient(t, k)
	checkErr(t, c.rawDo(http.MethodGet, "/api/v1/authn", "", ""), 405, "E0000022", "The endpoint does not support the provided HTTP method")
	checkErr(t, c.rawDo(http.MethodPost, "/api/v1/authn", "application/json", "{not json"), 400, "E0000003", "The request body was not well-formed.")
	checkErr(t, c.rawDo(http.MethodGet, "/api/v1/users/me", "", ""), 404, "E0000007",
		"Not found: Resource not found: /api/v1/users/me (GenericUnqualifiedResource)")

	// previous, resend of the wrong factor, cancel.
	r := c.post("/api/v1/authn", map[string]any{"username": "dade", "password": "pw"})
	st := str(r.body, "stateToken")
	sms, totp := factorHref(t, r, "sms", ""), factorHref(t, r, "token:software:totp", "")
	r = c.post(sms, map[string]any{"stateToken": st})
	checkErr(t, c.post(totp+"/resend", map[string]any{"stateToken": st}), 403, "E0000079",
		"This operation is not allowed in the current authentication state.")
	r = c.post(str(r.body, "_links.prev.href"), map[string]any{"stateToken": st})
	if str(r.body, "status") != "MFA_REQUIRED" {
		t.Errorf("previous: %s", r.raw)
	}
	if r = c.post("/api/v1/authn/cancel", map[string]any{"stateToken": st}); r.status != 200 {
		t.Errorf("cancel: %d", r.status)
	}
	checkErr(t, c.post("/api/v1/authn", map[string]any{"stateToken": st}), 401, "E0000011", "Invalid token provided")

	// The Sessions API turns a sessionToken into a sid, once.
	r = c.post("/api/v1/authn", map[string]any{"username": "dade", "password": "pw"})
	st = str(r.body, "stateToken")
	r = c.post(factorHref(t, r, "token:software:totp", ""), map[string]any{"stateToken": st, "passCode": "2"})
	tok := str(r.body, "sessionToken")
	s := c.post("/api/v1/sessions", map[string]any{"sessionToken": tok})
	if s.status != 200 || str(s.body, "status") != "ACTIVE" || !strings.HasPrefix(str(s.body, "id"), "102") {
		t.Fatalf("sessions: %d %s", s.status, s.raw)
	}
	checkErr(t, c.post("/api/v1/sessions", map[string]any{"sessionToken": tok}), 401, "E0000005", "Invalid session")
	_, body := c.get(k.URL())
	samlPage(t, body)
	if st := k.Stats(); st.SessionReuses != 0 {
		t.Errorf("the first app link after /api/v1/sessions counted as a reuse: %+v", st)
	}
}

func TestOktaIDXEdges(t *testing.T) {
	k := newOkta(t, idptest.OktaOptions{Pipeline: "idx", Users: []idptest.OktaUser{
		{Username: "dade", Password: "pw", Roles: []string{oktaRole}, Status: "PASSWORD_EXPIRED"}}})
	c := newOktaClient(t, k)
	r := c.idxStart(t)
	if a := c.idxPost(t, r, "identify", map[string]any{"identifier": "dade"}); a.status != 200 {
		t.Fatalf("identify: %s", a.raw)
	}
	again := c.postType("/idp/idx/identify", ion, map[string]any{"identifier": "dade", "stateHandle": str(r.body, "stateHandle")})
	if again.status != 400 || str(again.body, "messages.value.0.i18n.key") != "errors.E0000079" {
		t.Errorf("second identify: %d %s", again.status, again.raw)
	}
	r = c.idxPost(t, again, "challenge-authenticator", map[string]any{"credentials": map[string]any{"passcode": "pw"}})
	if remediation(r, "reenroll-authenticator") == nil {
		t.Fatalf("expired password: %s", r.raw)
	}
	same := c.idxPost(t, r, "reenroll-authenticator", map[string]any{"credentials": map[string]any{"passcode": "pw"}})
	if same.status != 400 || str(same.body, "messages.value.0.i18n.key") != "password.passwordRequirementsNotMet" {
		t.Errorf("reusing the old password: %d %s", same.status, same.raw)
	}
	r = c.idxPost(t, r, "reenroll-authenticator", map[string]any{"credentials": map[string]any{"passcode": "N3w!pass"}})
	c.idxFinish(t, r)

	// cancel ends the transaction.
	c2 := newOktaClient(t, k)
	r = c2.idxStart(t)
	if x := c2.postType(str(r.body, "cancel.href"), ion, map[string]any{"stateHandle": str(r.body, "stateHandle")}); x.status != 200 {
		t.Errorf("cancel: %d", x.status)
	}
	if x := c2.postType("/idp/idx/introspect", ion, map[string]any{"stateHandle": str(r.body, "stateHandle")}); x.status != 401 {
		t.Errorf("introspect after cancel: %d", x.status)
	}
}
