package cli_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/saml2sts/saml2sts/cache"
	"github.com/saml2sts/saml2sts/idp/idptest"
	"github.com/saml2sts/saml2sts/opensearch/opensearchtest"
	"github.com/saml2sts/saml2sts/sts/ststest"
)

const osReaderRole = reader // arn:aws:iam::123456789012:role/SearchReader

// osCmdWorld is a Keycloak + STS world with an OpenSearch emulator that
// verifies signatures against the STS emulator's credentials, and a
// profile "os" pointing at it. A Verify set in oo runs first, as a test's
// hook; its error rejects the request.
type osCmdWorld struct {
	*world
	os      *opensearchtest.Server
	outputs []string // everything the binary printed, for the secret scan
	auths   []string // every Authorization header the emulator received
	mu      sync.Mutex
}

func newOSCmdWorld(t *testing.T, oo opensearchtest.Options, wopts ...worldOpt) *osCmdWorld {
	t.Helper()
	w := newWorld(t, wopts...)
	ow := &osCmdWorld{world: w}
	hook := oo.Verify
	oo.Verify = func(r *http.Request, body []byte, service string) (string, error) {
		if a := r.Header.Get("Authorization"); a != "" {
			ow.mu.Lock()
			ow.auths = append(ow.auths, a)
			ow.mu.Unlock()
		}
		if hook != nil {
			if _, err := hook(r, body, service); err != nil {
				return "", err
			}
		}
		c, err := w.st.Verify(r, body, service)
		return c.AssumedRoleARN, err
	}
	srv, err := opensearchtest.New(oo)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	script, _ := w.passwordScript()
	svc := oo.Service
	if svc == "" {
		svc = "es"
	}
	w.configure("os", "--role-arn", reader, "--password-command", script,
		"--opensearch-endpoint", srv.URL(), "--opensearch-service", svc)
	ow.os = srv
	return ow
}

// osRun runs saml2sts os … with the profile and records the output.
func (w *osCmdWorld) osRun(stdin string, args ...string) result {
	w.t.Helper()
	return w.record(stdin, append([]string{"os", "--profile", "os"}, args...)...)
}

// osSearch runs saml2sts search … with the profile and records the output.
func (w *osCmdWorld) osSearch(args ...string) result {
	w.t.Helper()
	return w.record("", append([]string{"search", "--profile", "os"}, args...)...)
}

// record runs the binary and keeps its output for scanSecrets.
func (w *osCmdWorld) record(stdin string, args ...string) result {
	w.t.Helper()
	r := w.run(stdin, args...)
	w.mu.Lock()
	w.outputs = append(w.outputs, r.stdout, r.stderr)
	w.mu.Unlock()
	return r
}

// scanSecrets fails when any credential, session token, SAMLResponse,
// cookie or the password reached the binary's output.
func (w *osCmdWorld) scanSecrets(extra ...string) {
	w.t.Helper()
	secrets := append([]string{password}, extra...)
	for _, c := range w.st.Issued() {
		secrets = append(secrets, c.SecretAccessKey, c.SessionToken)
	}
	secrets = append(secrets, w.kc.IssuedResponses()...)
	secrets = append(secrets, w.kc.SessionCookies()...)
	w.mu.Lock()
	for _, a := range w.auths {
		// The whole header, and its signature alone.
		_, sig, _ := strings.Cut(a, "Signature=")
		secrets = append(secrets, a, sig)
	}
	outputs := slices.Clone(w.outputs)
	w.mu.Unlock()
	for _, out := range outputs {
		for _, s := range secrets {
			if len(s) >= 8 && strings.Contains(out, s) {
				w.t.Errorf("a secret (%.6s…) reached the output:\n%s", s, out)
			}
		}
		if strings.Contains(out, "security_authentication=") || strings.Contains(out, "SAMLResponse=PH") {
			w.t.Errorf("a cookie or SAMLResponse reached the output:\n%s", out)
		}
	}
}

func TestOSCommand(t *testing.T) {
	t.Parallel()
	w := newOSCmdWorld(t, opensearchtest.Options{})
	w.os.AddDocs("cats_and_dogs",
		json.RawMessage(`{"name":"Rex","description":"farm dog"}`),
		json.RawMessage(`{"name":"Tom","description":"city cat"}`))

	r := w.osRun("", "GET", "/_cat/indices?v")
	if r.code != 0 || !strings.Contains(r.stdout, "cats_and_dogs") || !strings.Contains(r.stdout, "health") {
		t.Fatalf("GET /_cat/indices?v: %s", r)
	}
	r = w.osRun("", "POST", "/cats_and_dogs/_search", "-d", `{"query":{"match":{"description":"farm"}}}`)
	if r.code != 0 || !strings.Contains(r.stdout, `"Rex"`) || strings.Contains(r.stdout, `"Tom"`) {
		t.Fatalf("POST _search -d: %s", r)
	}
	var sr struct {
		Hits struct{ Hits []json.RawMessage } `json:"hits"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &sr); err != nil || len(sr.Hits.Hits) != 1 {
		t.Errorf("stdout is not the raw search response: %v %s", err, r.stdout)
	}

	// _bulk from a file (-d @file keeps the newlines), from stdin, and with
	// --data-binary; the last line's newline is added when missing.
	bulk := filepath.Join(w.dir, "docs.ndjson")
	os.WriteFile(bulk, []byte("{\"index\":{\"_index\":\"logs-a\"}}\n{\"level\":\"ERROR\",\"n\":1}\n{\"index\":{\"_index\":\"logs-a\"}}\n{\"level\":\"INFO\",\"n\":2}\n"), 0o600)
	if r = w.osRun("", "POST", "/_bulk", "-d", "@"+bulk); r.code != 0 || !strings.Contains(r.stdout, `"errors":false`) {
		t.Fatalf("_bulk -d @file: %s", r)
	}
	if r = w.osRun("{\"index\":{}}\n{\"level\":\"ERROR\",\"n\":3}", "POST", "/logs-b/_bulk", "-d", "@-"); r.code != 0 || !strings.Contains(r.stdout, `"errors":false`) {
		t.Fatalf("_bulk -d @-: %s", r)
	}
	if r = w.osRun("", "POST", "/_bulk", "--data-binary", "@"+bulk); r.code != 0 {
		t.Fatalf("_bulk --data-binary: %s", r)
	}
	// An index pattern and a list in the path.
	r = w.osRun("", "GET", "/logs-*,cats_and_dogs/_count")
	if r.code != 0 || !strings.Contains(r.stdout, `"count":7`) {
		t.Fatalf("_count over logs-*,cats_and_dogs: %s", r)
	}
	r = w.osRun("", "POST", "/logs-*/_search?q=level:ERROR&size=0")
	if r.code != 0 || !strings.Contains(r.stdout, `"value":3`) {
		t.Fatalf("_search?q=: %s", r)
	}

	// Other errors: the body on stdout, one line on stderr, exit 1.
	r = w.osRun("", "GET", "/nope/_search")
	if r.code != 1 || !strings.Contains(r.stderr, "saml2sts: HTTP 404: index_not_found_exception: no such index [nope]") ||
		!strings.Contains(r.stdout, `"status":404`) {
		t.Errorf("404: %s", r)
	}
	// One login for all of it, no STS call per request, no identity call.
	if n := w.st.Calls("AssumeRoleWithSAML"); n != 1 {
		t.Errorf("AssumeRoleWithSAML calls = %d; want 1", n)
	}
	if n := w.st.Calls("GetCallerIdentity"); n != 0 {
		t.Errorf("GetCallerIdentity calls = %d; want 0 without a 403", n)
	}
	if s := w.os.Stats(); s.Signed < 8 {
		t.Errorf("emulator verified %d signatures; want every request signed", s.Signed)
	}
	// --debug traces requests without secrets: the Authorization and
	// X-Amz-Security-Token headers are named, their values are not.
	if r = w.osRun("", "POST", "/logs-*/_search", "-d", `{}`, "--debug"); r.code != 0 || !strings.Contains(r.stderr, "debug: http > POST") ||
		!strings.Contains(r.stderr, "Authorization: REDACTED") || !strings.Contains(r.stderr, "X-Amz-Security-Token: REDACTED") {
		t.Errorf("--debug: %s", r)
	}
	w.mu.Lock()
	if len(w.auths) < 9 {
		t.Errorf("the emulator saw %d Authorization headers; the scan below needs them", len(w.auths))
	}
	w.mu.Unlock()
	// -i puts the status on stderr, stdout stays the body.
	r = w.osRun("", "GET", "/", "-i")
	if r.code != 0 || !strings.HasPrefix(r.stderr, "HTTP 200 OK\n") || !strings.HasPrefix(strings.TrimSpace(r.stdout), "{") {
		t.Errorf("-i: %s", r)
	}
	w.scanSecrets()
}

// tamperCache rewrites the cached credentials of profile "os".
func (w *osCmdWorld) tamperCache(edit func(c map[string]any)) {
	w.t.Helper()
	store, err := cache.NewFile(filepath.Join(w.dir, "cache", "saml2sts"))
	if err != nil {
		w.t.Fatal(err)
	}
	raw, err := store.Get(cache.CredsKey("os"))
	if err != nil {
		w.t.Fatal(err)
	}
	var rec map[string]any
	json.Unmarshal(raw, &rec)
	edit(rec["credentials"].(map[string]any))
	raw, _ = json.Marshal(rec)
	if err := store.Set(cache.CredsKey("os"), raw); err != nil {
		w.t.Fatal(err)
	}
}

func TestOS403(t *testing.T) {
	t.Parallel()
	deny := func(string, string, string) bool { return false }
	type check struct {
		args    []string
		why     string // on the "why:" line
		fix     string // on the "fix:" line
		callers int    // GetCallerIdentity calls expected
	}
	tests := []struct {
		name   string
		oo     opensearchtest.Options
		tamper func(c map[string]any)
		check
	}{
		{name: "unsigned", check: check{args: []string{"--no-sign"}, why: "sent unsigned", fix: "drop --no-sign"}},
		{name: "wrong region", check: check{args: []string{"--region", "us-east-1"}, why: `signed for region "us-east-1"`, fix: "--region"}},
		{name: "wrong service", check: check{args: []string{"--service", "aoss"}, why: `wants "es"`, fix: "--service es"}},
		{name: "invalid token", tamper: func(c map[string]any) { c["SessionToken"] = "FwoGZXIvYXdzEBogus" + strings.Repeat("A", 40) },
			check: check{why: "does not accept the session token", fix: "saml2sts login --force"}},
		{name: "signature mismatch", tamper: func(c map[string]any) { c["SecretAccessKey"] = "wrong" + strings.Repeat("x", 35) },
			check: check{why: "the secret key does not belong to the access key", fix: "saml2sts login --force"}},
		{name: "aoss data access policy", oo: opensearchtest.Options{Service: "aoss", Allow: deny},
			check: check{why: "data access policy", fix: osReaderRole, callers: 1}},
		{name: "fgac", oo: opensearchtest.Options{FGAC: true, Allow: deny},
			check: check{why: "fine-grained access control", fix: "map " + osReaderRole + " as a backend role"}},
		{name: "iam identity policy", oo: opensearchtest.Options{Allow: deny},
			check: check{why: "IAM denies es:ESHttpGet", fix: "allow es:ESHttp* on arn:aws:es:eu-west-1:123456789012:domain/emulator/* (the trailing"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newOSCmdWorld(t, tt.oo)
			w.os.AddDocs("logs", json.RawMessage(`{"a":1}`))
			if tt.tamper != nil {
				w.mustRun("", "login", "--profile", "os")
				w.tamperCache(tt.tamper)
			}
			r := w.osRun("", append([]string{"GET", "/logs/_search"}, tt.args...)...)
			if r.code != 5 {
				t.Fatalf("exit %d; want 5\n%s", r.code, r)
			}
			lines := strings.Split(r.stderr, "\n")
			if !strings.HasPrefix(lines[0], "saml2sts: HTTP 403: ") {
				t.Errorf("first line %q; want the server's message", lines[0])
			}
			if !strings.Contains(r.stderr, "  why: ") || !strings.Contains(r.stderr, tt.why) {
				t.Errorf("stderr lacks why %q:\n%s", tt.why, r.stderr)
			}
			if !strings.Contains(r.stderr, "  fix: ") || !strings.Contains(r.stderr, tt.fix) {
				t.Errorf("stderr lacks fix %q:\n%s", tt.fix, r.stderr)
			}
			if n := w.st.Calls("GetCallerIdentity"); n != tt.callers {
				t.Errorf("GetCallerIdentity calls = %d; want %d", n, tt.callers)
			}
			if tt.name == "signature mismatch" {
				r := w.osRun("", "GET", "/logs/_search", "--debug")
				if !strings.Contains(r.stderr, "our canonical request") || !strings.Contains(r.stderr, "x-amz-security-token:<redacted>") {
					t.Errorf("--debug does not show the canonical request:\n%s", r.stderr)
				}
			}
			w.scanSecrets()
		})
	}
}

// TestOSExpiredToken: credentials the server says expired while our clock
// calls them fresh are renewed once through the broker; when STS's clock is
// hours ahead that renewal fails too, and the error points at the clock.
func TestOSExpiredToken(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	skew := time.Duration(0)
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return time.Now().Add(skew) }
	w := newOSCmdWorld(t, opensearchtest.Options{}, func(_ *idptest.KeycloakOptions, so *ststest.Options) { so.Now = now })
	w.mustRun("", "login", "--profile", "os")
	mu.Lock()
	skew = 2 * time.Hour // STS's clock: the cached credentials are expired
	mu.Unlock()
	r := w.osRun("", "GET", "/")
	if r.code != 5 || !strings.Contains(r.stderr, "Response has expired") || !strings.Contains(r.stderr, "clock") ||
		strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
		t.Errorf("expired: %s", r)
	}
	if n := w.st.Calls("AssumeRoleWithSAML"); n != 2 {
		t.Errorf("AssumeRoleWithSAML calls = %d; want the login and one renewal attempt", n)
	}
	w.scanSecrets()
}

func TestOSBadEndpoint(t *testing.T) {
	t.Parallel()
	w := newOSCmdWorld(t, opensearchtest.Options{})
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--endpoint", "http://search.example.com"}, "uses http: use https"},
		{[]string{"--endpoint", "https://search.example.com", "--service", "auto"}, "pass --service es (managed domain) or --service aoss (Serverless)"},
		{[]string{"--endpoint", "https://search.example.com", "--service", "es", "--region", "Ireland"}, "fix --region"},
		{[]string{"--via", "carrier-pigeon"}, "--via"},
		{[]string{"--via", "dashboards"}, "--dashboards-url"},
		{[]string{"PATCH", "--via", "dashboards", "--dashboards-url", "https://search-x.eu-west-1.es.amazonaws.com/_dashboards"}, "does not forward PATCH"},
	} {
		method := "GET"
		if tt.args[0] == "PATCH" {
			method, tt.args = "PATCH", tt.args[1:]
		}
		r := w.osRun("", append([]string{method, "/"}, tt.args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%v: %s; want exit 2 and %q", tt.args, r, tt.want)
		}
	}
	// --no-sign needs no profile at all (local or open clusters).
	open, err := opensearchtest.New(opensearchtest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()
	open.AddDocs("local", json.RawMessage(`{"a":1}`))
	r := w.run("", "os", "--profile", "nobody", "GET", "/local/_count", "--no-sign", "--endpoint", open.URL(), "--service", "es", "--region", "eu-west-1")
	if r.code != 0 || !strings.Contains(r.stdout, `"count":1`) {
		t.Errorf("--no-sign without a profile: %s", r)
	}
	// Nor a config file, --service or --region: nothing is signed.
	bare := newWorld(t)
	for _, args := range [][]string{
		{"os", "GET", "/local/_count", "--no-sign", "--endpoint", open.URL()},
		{"search", "local", "--no-sign", "--endpoint", open.URL(), "--format", "ndjson"},
	} {
		r := bare.run("", args...)
		if r.code != 0 || !strings.Contains(r.stdout, `"count":1`) && !strings.Contains(r.stdout, `{"a":1}`) {
			t.Errorf("%v on a machine with no config: %s", args, r)
		}
	}
	// Signed, the same endpoint still needs the service and a profile.
	if r := bare.run("", "os", "GET", "/", "--endpoint", open.URL()); r.code != 2 {
		t.Errorf("signed without a profile: %s; want exit 2", r)
	}
	// Nothing was logged in for a bad endpoint.
	if n := w.st.Calls("AssumeRoleWithSAML"); n != 0 {
		t.Errorf("AssumeRoleWithSAML calls = %d; a bad endpoint must fail first", n)
	}
}

// TestOSDashboards logs in to the Dashboards emulator with an assertion
// from a second Keycloak app (dashboards_idp_url), caches the cookies, and
// re-logs in once when the session ends. No STS call is made.
func TestOSDashboards(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"/_dashboards", "/_plugin/kibana"} {
		t.Run(path, func(t *testing.T) {
			t.Parallel()
			w, srv, kc2 := newDashboardsWorld(t, path)
			srv.AddDocs("logs", json.RawMessage(`{"level":"ERROR"}`))
			ow := &osCmdWorld{world: w, os: srv}
			args := []string{"--via", "dashboards", "--dashboards-url", srv.DashboardsURL()}
			r := ow.osRun("", append([]string{"GET", "/_cat/indices?format=json"}, args...)...)
			if r.code != 0 || !strings.Contains(r.stdout, `"logs"`) {
				t.Fatalf("via dashboards: %s", r)
			}
			r = ow.osRun("", append([]string{"POST", "/logs/_search", "-d", `{"query":{"match_all":{}}}`}, args...)...)
			if r.code != 0 || !strings.Contains(r.stdout, `"ERROR"`) {
				t.Fatalf("search via dashboards: %s", r)
			}
			if n := srv.Stats().DashboardsLogins; n != 1 {
				t.Errorf("Dashboards logins = %d; want 1 (cookies cached between runs)", n)
			}
			// -i shows the headers of the answer: Dashboards sets the
			// session cookies again on each one (keepalive), shown redacted.
			r = ow.osRun("", append([]string{"GET", "/_cat/indices", "-i", "--debug"}, args...)...)
			if r.code != 0 || !strings.Contains(r.stderr, "Set-Cookie: <redacted>") {
				t.Fatalf("-i via dashboards: %s", r)
			}
			srv.ExpireDashboardsSessions()
			// --debug traces the re-login: the cookies and the
			// SAMLResponse must stay out of it.
			r = ow.osRun("", append([]string{"GET", "/_cat/indices", "--debug"}, args...)...)
			if r.code != 0 || !strings.Contains(r.stderr, "Dashboards answered 401") || !strings.Contains(r.stderr, "idpinitiated") {
				t.Fatalf("after session expiry: %s", r)
			}
			if n := srv.Stats().DashboardsLogins; n != 2 {
				t.Errorf("Dashboards logins = %d; want a re-login on 401", n)
			}
			if st := kc2.Stats(); st.Logins != 1 || st.SessionReuses < 1 {
				t.Errorf("Dashboards IdP app: %d password logins, %d session reuses; want 1 and >= 1", st.Logins, st.SessionReuses)
			}
			if n := w.st.Calls("AssumeRoleWithSAML"); n != 0 {
				t.Errorf("AssumeRoleWithSAML calls = %d; the console proxy needs none", n)
			}
			// The cached session cookies are secrets too.
			store, _ := cache.NewFile(filepath.Join(w.dir, "cache", "saml2sts"))
			raw, err := store.Get(cache.DashboardsKey("os"))
			if err != nil {
				t.Fatalf("no cached Dashboards cookies: %v", err)
			}
			var stored struct {
				Cookies []struct{ Name, Value string }
			}
			json.Unmarshal(raw, &stored)
			secrets := append(kc2.IssuedResponses(), srv.DashboardsCookies()...)
			if n := len(srv.DashboardsCookies()); n < 2 {
				t.Errorf("Dashboards set %d session cookies over two logins", n)
			}
			for _, c := range stored.Cookies {
				if !strings.HasPrefix(c.Name, "security_authentication") {
					t.Errorf("cached cookie %q is not a session cookie", c.Name)
				}
				secrets = append(secrets, c.Value)
			}
			if len(stored.Cookies) == 0 {
				t.Errorf("no session cookie cached")
			}
			ow.scanSecrets(secrets...)
			// logout forgets the Dashboards cookies too.
			w.mustRun("", "logout", "--profile", "os")
			if _, err := store.Get(cache.DashboardsKey("os")); err == nil {
				t.Errorf("logout left the Dashboards cookies behind")
			}
		})
	}
}

// TestOSExportCredentialsExpire: the credentials expire in the middle of
// an export. They are minted with the IdP and STS clocks 50 minutes behind,
// so they expire 10 minutes from now, beyond the 5m refresh window: the
// binary signs with them. Mid-export the IdP and STS clocks jump past that
// expiry (still inside SigV4's 15-minute skew allowance):
// the server's "token expired" 403 makes the broker mint new ones through
// the stored IdP session, without the password, once for both slices; the
// export delivers every doc exactly once.
func TestOSExportCredentialsExpire(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	skew := -50 * time.Minute
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return time.Now().Add(skew) }
	clocks := func(ko *idptest.KeycloakOptions, so *ststest.Options) { ko.SAMLOptions.Now, so.Now = now, now }
	var searches atomic.Int32
	jump := func(r *http.Request, _ []byte, _ string) (string, error) {
		if strings.Contains(r.URL.Path, "_search") && searches.Add(1) == 12 {
			mu.Lock()
			skew = 11 * time.Minute
			mu.Unlock()
		}
		return "", nil
	}
	w := newOSCmdWorld(t, opensearchtest.Options{Verify: jump}, clocks)
	w.env["SAML2STS_REFRESH_WINDOW"] = "5m"
	const n = 5_000
	w.os.Synthetic("logs", n)
	w.mustRun("", "login", "--profile", "os")
	mu.Lock()
	skew = 0
	mu.Unlock()

	r := w.osSearch("logs", "--all", "--size", "100", "--slices", "2", "--with-meta", "--debug")
	if r.code != 0 {
		t.Fatalf("export: %s", r)
	}
	exportIDs(t, r.stdout, n)
	st := w.os.Stats()
	if st.Rejected[opensearchtest.ReasonExpiredToken] == 0 {
		t.Fatalf("no request was refused as expired (%d searches): the test did not test", searches.Load())
	}
	if got := w.st.Calls("AssumeRoleWithSAML"); got != 2 {
		t.Errorf("AssumeRoleWithSAML calls = %d; want 2 (the login, one renewal)", got)
	}
	if ks := w.kc.Stats(); ks.Logins != 1 || ks.SessionReuses < 1 {
		t.Errorf("IdP: %d password logins, %d session reuses; want 1 and >= 1", ks.Logins, ks.SessionReuses)
	}
	if st.OpenContexts() != 0 {
		t.Errorf("contexts left open: %+v", st)
	}
	if !strings.Contains(r.stderr, "403 expired token: renewing the credentials") {
		t.Errorf("--debug does not trace the renewal:\n%.2000s", r.stderr)
	}
	w.scanSecrets() // --debug included: the renewal's IdP and STS traffic
}

// newDashboardsWorld is a world whose profile "os" reaches a Dashboards
// emulator at path (Kibana and Elasticsearch 7.10 for /_plugin/kibana)
// through a second Keycloak app, its dashboards_idp_url.
func newDashboardsWorld(t *testing.T, path string) (*world, *opensearchtest.Server, *idptest.Keycloak) {
	t.Helper()
	w := newWorld(t)
	engine := opensearchtest.EngineOpenSearch2
	if path == "/_plugin/kibana" {
		engine = opensearchtest.EngineES710
	}
	srv, err := opensearchtest.New(opensearchtest.Options{Engine: engine, FGAC: true,
		Dashboards: &opensearchtest.DashboardsOptions{Path: path, IdPCert: w.kc.Certificate()}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	kc2, err := idptest.NewKeycloak(idptest.KeycloakOptions{
		Client: "dashboards",
		Users:  []idptest.User{{Username: "ana", Password: password, Roles: []string{reader + "," + provider}}},
		// The Dashboards SAML app: its own ACS and audience.
		SAMLOptions: idptest.SAMLOptions{Destination: srv.ACSURL(), Audience: srv.URL()},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc2.Close)
	script, _ := w.passwordScript()
	w.configure("os", "--role-arn", reader, "--password-command", script, "--dashboards-idp-url", kc2.URL())
	return w, srv, kc2
}

// TestOSDashboardsSendsAssertionsOnlyToTheirACS: --via dashboards never
// hands an assertion to a server it is not addressed to. Without
// dashboards_idp_url nothing is fetched (no default from url, whose
// assertion is for AWS); with the AWS app there, its assertion is refused
// before it is sent; with a mistyped --dashboards-url the server there
// gets nothing. Each exits 2 with the fix.
func TestOSDashboardsSendsAssertionsOnlyToTheirACS(t *testing.T) {
	t.Parallel()
	w, srv, kc2 := newDashboardsWorld(t, "/_dashboards")
	ow := &osCmdWorld{world: w, os: srv}
	var mu sync.Mutex
	var received []string
	bystander := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		received = append(received, r.Method+" "+r.URL.String()+" "+string(b))
		mu.Unlock()
		rw.WriteHeader(404)
	}))
	defer bystander.Close()
	script, _ := w.passwordScript()
	w.configure("noapp", "--role-arn", reader, "--password-command", script)
	w.configure("awsapp", "--role-arn", reader, "--password-command", script, "--dashboards-idp-url", w.kc.URL())
	for _, tt := range []struct {
		name, profile, url, want string
	}{
		{"no dashboards_idp_url", "noapp", srv.DashboardsURL(), "--via dashboards needs dashboards_idp_url"},
		{"the AWS app as dashboards_idp_url", "awsapp", srv.DashboardsURL(), "addressed to AWS sign-in (" + "https://signin.aws.amazon.com/saml), not to Dashboards"},
		{"AWS assertion, bystander URL", "awsapp", bystander.URL + "/_dashboards", "set dashboards_idp_url to the IdP-initiated URL of the Dashboards SAML app"},
		{"mistyped --dashboards-url", "os", bystander.URL + "/_dashboards", "which is not under --dashboards-url " + bystander.URL + "/_dashboards"},
	} {
		r := ow.record("", "os", "--profile", tt.profile, "GET", "/_cat/indices", "--via", "dashboards", "--dashboards-url", tt.url)
		if r.code != 2 || !strings.Contains(r.stderr, tt.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("%s: %s\nwant exit 2 and one line saying %q", tt.name, r, tt.want)
		}
	}
	if n := srv.Stats().ACSPosts; n != 0 {
		t.Errorf("the Dashboards ACS received %d posts; want none", n)
	}
	mu.Lock()
	if len(received) != 0 {
		t.Errorf("the bystander received %q", received)
	}
	mu.Unlock()
	if n := w.kc.Stats().Logins + kc2.Stats().Logins; n != 2 {
		t.Errorf("IdP logins = %d; want 2 (one per refused assertion that was fetched)", n)
	}
	ow.scanSecrets(kc2.IssuedResponses()...)
}
