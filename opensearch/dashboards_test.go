package opensearch

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeDashboards is a Dashboards with the security plugin's SAML routes:
// the ACS sets a split session (security_authentication +
// security_authentication_saml1), the console proxy wants both cookies and
// the XSRF header, and answers what OpenSearch would.
type fakeDashboards struct {
	base   string // "/_dashboards" or "/_plugin/kibana"
	xsrf   string
	saml   string // the SAMLResponse to accept
	logins atomic.Int32
	mu     sync.Mutex
	valid  map[string]bool // live session ids
	seen   []url.Values    // proxy query per call
	bodies []string
}

func (f *fakeDashboards) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case f.base + "/_opendistro/_security/saml/acs/idpinitiated":
		r.ParseForm()
		if r.Method != http.MethodPost || r.PostForm.Get("SAMLResponse") != f.saml {
			http.Error(w, `{"statusCode":500,"error":"Internal Server Error","message":"An internal server error occurred."}`, 500)
			return
		}
		n := f.logins.Add(1)
		id := fmt.Sprintf("sess%d", n)
		f.mu.Lock()
		f.valid[id] = true
		f.mu.Unlock()
		http.SetCookie(w, &http.Cookie{Name: "security_authentication", Value: id, Path: "/", HttpOnly: true})
		http.SetCookie(w, &http.Cookie{Name: "security_authentication_saml1", Value: "jwt-" + id, Path: "/", HttpOnly: true})
		http.SetCookie(w, &http.Cookie{Name: "other", Value: "x", Path: "/"})
		http.Redirect(w, r, f.base+"/app/opensearch-dashboards", http.StatusFound)
	case f.base + "/api/console/proxy":
		if r.Header.Get(f.xsrf) == "" {
			w.WriteHeader(400)
			fmt.Fprintf(w, `{"statusCode":400,"error":"Bad Request","message":"Request must contain a %s header."}`, f.xsrf)
			return
		}
		c1, err1 := r.Cookie("security_authentication")
		c2, err2 := r.Cookie("security_authentication_saml1")
		f.mu.Lock()
		ok := err1 == nil && err2 == nil && f.valid[c1.Value] && c2.Value == "jwt-"+c1.Value
		f.mu.Unlock()
		if !ok {
			w.WriteHeader(401)
			io.WriteString(w, `{"statusCode":401,"error":"Unauthorized","message":"Authentication required"}`)
			return
		}
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.seen = append(f.seen, r.URL.Query())
		f.bodies = append(f.bodies, string(b))
		f.mu.Unlock()
		if strings.HasPrefix(r.URL.Query().Get("path"), "/secret") {
			w.WriteHeader(403)
			io.WriteString(w, `{"error":{"root_cause":[{"type":"security_exception","reason":"no permissions for [indices:data/read/search] and User [name=ana, backend_roles=[analysts], requestedTenant=null]"}],"type":"security_exception","reason":"no permissions for [indices:data/read/search] and User [name=ana, backend_roles=[analysts], requestedTenant=null]"},"status":403}`)
			return
		}
		io.WriteString(w, `{"ok":true}`)
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeDashboards) expireAll() {
	f.mu.Lock()
	f.valid = map[string]bool{}
	f.mu.Unlock()
}

type memCookies struct {
	cs    []*http.Cookie
	saves int
}

func (m *memCookies) Load() ([]*http.Cookie, error) { return m.cs, nil }
func (m *memCookies) Save(cs []*http.Cookie) error {
	m.cs = append([]*http.Cookie(nil), cs...)
	m.saves++
	return nil
}

func TestDashboards(t *testing.T) {
	for _, base := range []string{"/_dashboards", "/_plugin/kibana"} {
		t.Run(base, func(t *testing.T) {
			xsrf := "osd-xsrf"
			if base == "/_plugin/kibana" {
				xsrf = "kbn-xsrf"
			}
			f := &fakeDashboards{base: base, xsrf: xsrf, valid: map[string]bool{}}
			srv := httptest.NewServer(f)
			defer srv.Close()
			f.saml = samlTo(srv.URL+base+DefaultACSPath, "ana")
			u, _ := url.Parse(srv.URL + base + "/")
			var asked atomic.Int32
			store := &memCookies{}
			newD := func() *Dashboards {
				d, err := NewDashboards(DashboardsOptions{URL: u, Cookies: store,
					Assertion: func(context.Context) (string, error) { asked.Add(1); return f.saml, nil }})
				if err != nil {
					t.Fatal(err)
				}
				return d
			}
			d := newD()
			do := func(d *Dashboards, method, path string, body []byte) (*Response, error) {
				return d.Do(context.Background(), &Request{Method: method, Path: path, Body: body})
			}
			resp, err := do(d, "POST", "/logs-*/_search?size=2", []byte(`{"query":{"match_all":{}}}`))
			if err != nil {
				t.Fatal(err)
			}
			if err := resp.Err(); err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			q := f.seen[0]
			if q.Get("path") != "/logs-%2A/_search?size=2" || q.Get("method") != "POST" || f.bodies[0] != `{"query":{"match_all":{}}}` {
				t.Errorf("proxy got path=%q method=%q body=%q", q.Get("path"), q.Get("method"), f.bodies[0])
			}
			if len(store.cs) != 2 {
				t.Errorf("stored %d cookies; want both security_authentication cookies and nothing else", len(store.cs))
			}
			// A second process reuses the stored session: no login.
			d2 := newD()
			if resp, err := do(d2, "GET", "/_cat/indices", nil); err != nil || resp.Err() != nil {
				t.Fatalf("cached session: %v", err)
			}
			if f.logins.Load() != 1 || asked.Load() != 1 {
				t.Errorf("%d logins, %d assertions; want 1, 1", f.logins.Load(), asked.Load())
			}
			// The session ends server-side: 401, one re-login, the call succeeds.
			f.expireAll()
			resp, err = do(d2, "GET", "/_cat/indices", nil)
			if err != nil || resp.Err() != nil {
				t.Fatalf("after expiry: %v", err)
			}
			if f.logins.Load() != 2 {
				t.Errorf("%d logins; want a re-login on 401", f.logins.Load())
			}
			// FGAC denial through the proxy is diagnosed as such.
			resp, err = do(d2, "POST", "/secret/_search", []byte(`{}`))
			if err != nil {
				t.Fatal(err)
			}
			var ae *AccessError
			if err := resp.Err(); !errors.As(err, &ae) || ae.Kind != KindFGAC || !strings.Contains(ae.Diagnosis, "analysts") {
				t.Errorf("403 through the proxy: %v", err)
			}
			// PATCH is not something the proxy forwards.
			if _, err := do(d2, "PATCH", "/x", nil); err == nil || !strings.Contains(err.Error(), "--via iam") {
				t.Errorf("PATCH: %v", err)
			}
		})
	}
}

func TestDashboardsLoginRejected(t *testing.T) {
	f := &fakeDashboards{base: "/_dashboards", xsrf: "osd-xsrf", valid: map[string]bool{}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	acs := srv.URL + "/_dashboards" + DefaultACSPath
	f.saml = samlTo(acs, "ana")
	wrong := samlTo(acs, "wrong-app")
	u, _ := url.Parse(srv.URL + "/_dashboards")
	d, _ := NewDashboards(DashboardsOptions{URL: u, Assertion: func(context.Context) (string, error) { return wrong, nil }})
	_, err := d.Do(context.Background(), &Request{Path: "/"})
	var ae *AccessError
	if !errors.As(err, &ae) || ae.Kind != KindDashboards || ae.Status != 500 || !strings.Contains(ae.Fix, "dashboards_idp_url") {
		t.Errorf("err %v; want a Dashboards AccessError naming dashboards_idp_url", err)
	}
	if strings.Contains(err.Error(), wrong) {
		t.Errorf("the SAMLResponse leaked into the error: %v", err)
	}
}

// TestDashboards401Twice: a session refused right after a fresh login is
// final (no loop).
func TestDashboards401Twice(t *testing.T) {
	var logins atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/idpinitiated") {
			logins.Add(1)
			http.SetCookie(w, &http.Cookie{Name: "security_authentication", Value: "v", Path: "/", Expires: time.Now().Add(time.Hour)})
			w.WriteHeader(302)
			return
		}
		w.WriteHeader(401)
		io.WriteString(w, `{"statusCode":401,"error":"Unauthorized","message":"Authentication required"}`)
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL + "/_dashboards")
	saml := samlTo(srv.URL+"/_dashboards"+DefaultACSPath, "ana")
	d, _ := NewDashboards(DashboardsOptions{URL: u, Assertion: func(context.Context) (string, error) { return saml, nil }})
	resp, err := d.Do(context.Background(), &Request{Path: "/"})
	if err != nil {
		t.Fatal(err)
	}
	var ae *AccessError
	if err := resp.Err(); !errors.As(err, &ae) || ae.Kind != KindDashboards || ae.Status != 401 {
		t.Errorf("err %v; want Dashboards 401 AccessError", err)
	}
	if logins.Load() != 2 {
		t.Errorf("%d logins; want 2 (first + one re-login)", logins.Load())
	}
}

// TestDashboardsParallel401: export slices that all meet an ended session
// log in again once, not once each.
func TestDashboardsParallel401(t *testing.T) {
	const par = 8
	f := &fakeDashboards{base: "/_dashboards", xsrf: "osd-xsrf", valid: map[string]bool{}}
	var gate atomic.Bool
	var arrived sync.WaitGroup
	arrived.Add(par)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Every request with the ended session waits for the others, so
		// all of them are answered 401 before any logs in again.
		if c, err := r.Cookie("security_authentication"); gate.Load() && err == nil && c.Value == "sess1" {
			arrived.Done()
			arrived.Wait()
		}
		f.ServeHTTP(w, r)
	}))
	defer srv.Close()
	f.saml = samlTo(srv.URL+"/_dashboards"+DefaultACSPath, "ana")
	u, _ := url.Parse(srv.URL + "/_dashboards")
	d, err := NewDashboards(DashboardsOptions{URL: u,
		Assertion: func(context.Context) (string, error) { return f.saml, nil }})
	if err != nil {
		t.Fatal(err)
	}
	call := func() error {
		resp, err := d.Do(context.Background(), &Request{Path: "/logs/_search"})
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		return resp.Err()
	}
	if err := call(); err != nil {
		t.Fatal(err)
	}
	f.expireAll()
	gate.Store(true)
	var wg sync.WaitGroup
	for range par {
		wg.Go(func() {
			if err := call(); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := f.logins.Load(); n != 2 {
		t.Errorf("Dashboards logins = %d; want 2 (the first, one after the session ended)", n)
	}
}

// samlTo is an (unsigned) SAMLResponse for subject addressed to acs, in
// Destination and Recipient alike.
func samlTo(acs, subject string) string {
	return base64.StdEncoding.EncodeToString(fmt.Appendf(nil, `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" Destination="%[1]s">`+
		`<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"><saml:Subject><saml:NameID>%[2]s</saml:NameID>`+
		`<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData Recipient="%[1]s"/>`+
		`</saml:SubjectConfirmation></saml:Subject></saml:Assertion></samlp:Response>`, acs, subject))
}

// TestDashboardsACS: an assertion goes only to the ACS it names, and only
// when that ACS is under the Dashboards URL; anything else is refused
// (exit 2) before a byte is sent, and an assertion for AWS sign-in is
// refused with the dashboards_idp_url fix.
func TestDashboardsACS(t *testing.T) {
	var mu sync.Mutex
	var got []string // path + body of every request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, r.URL.Path+" "+string(b))
		mu.Unlock()
		http.SetCookie(w, &http.Cookie{Name: "security_authentication", Value: "v", Path: "/"})
		w.WriteHeader(302)
	}))
	defer srv.Close()
	base := srv.URL + "/_dashboards"
	host := strings.TrimPrefix(srv.URL, "http://")
	raw, _ := base64.StdEncoding.DecodeString(samlTo(base+DefaultACSPath, "ana"))
	mixed := base64.StdEncoding.EncodeToString([]byte(strings.Replace(string(raw), `Recipient="`+base, `Recipient="http://evil.example/_dashboards`, 1)))
	for _, tt := range []struct {
		name, saml, want string
		posted           string // path posted to; "" = refused
	}{
		{name: "default ACS", saml: samlTo(base+DefaultACSPath, "ana"), posted: "/_dashboards" + DefaultACSPath},
		{name: "another ACS under the base", saml: samlTo(base+"/_opendistro/_security/saml/acs", "ana"), posted: "/_dashboards/_opendistro/_security/saml/acs"},
		{name: "AWS sign-in", saml: samlTo("https://signin.aws.amazon.com/saml", "ana"), want: "set dashboards_idp_url to the IdP-initiated URL of the Dashboards SAML app"},
		{name: "regional AWS sign-in", saml: samlTo("https://eu-west-1.signin.aws.amazon.com/saml", "ana"), want: "addressed to AWS sign-in"},
		{name: "other host (mistyped --dashboards-url)", saml: samlTo("https://search-real.eu-west-1.es.amazonaws.com/_dashboards"+DefaultACSPath, "ana"), want: "not under --dashboards-url"},
		{name: "other port", saml: samlTo("http://"+strings.Split(host, ":")[0]+":1/_dashboards"+DefaultACSPath, "ana"), want: "not under"},
		{name: "other scheme", saml: samlTo("https://"+host+"/_dashboards"+DefaultACSPath, "ana"), want: "not under"},
		{name: "path beside the base", saml: samlTo(srv.URL+"/_dashboards2"+DefaultACSPath, "ana"), want: "not under"},
		{name: "dot segments", saml: samlTo(base+"/../evil", "ana"), want: "not under"},
		{name: "user info", saml: samlTo("http://x@"+host+"/_dashboards"+DefaultACSPath, "ana"), want: "not under"},
		{name: "recipients disagree", saml: mixed, want: "two recipients"},
		{name: "no addressee", saml: samlTo("", "ana"), want: "names no Destination or Recipient"},
		{name: "not SAML", saml: base64.StdEncoding.EncodeToString([]byte("hello")), want: "cannot be read"},
	} {
		mu.Lock()
		got = nil
		mu.Unlock()
		u, _ := url.Parse(base)
		d, _ := NewDashboards(DashboardsOptions{URL: u, Assertion: func(context.Context) (string, error) { return tt.saml, nil }})
		_, err := d.login(context.Background())
		mu.Lock()
		sent := slices.Clone(got)
		mu.Unlock()
		if tt.posted != "" {
			if err != nil || len(sent) != 1 || !strings.HasPrefix(sent[0], tt.posted+" SAMLResponse=") {
				t.Errorf("%s: err %v, sent %q; want one POST to %s", tt.name, err, sent, tt.posted)
			}
			continue
		}
		var ae *ACSError
		if !errors.As(err, &ae) || ae.ExitCode() != 2 || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err %v; want an ACSError (exit 2) saying %q", tt.name, err, tt.want)
		}
		if len(sent) != 0 {
			t.Errorf("%s: the assertion was sent: %q", tt.name, sent)
		}
		if err != nil && strings.Contains(err.Error(), tt.saml) {
			t.Errorf("%s: the SAMLResponse leaked into the error", tt.name)
		}
	}
}

func TestUnder(t *testing.T) {
	base, _ := url.Parse("https://dash.example.com/_dashboards")
	root, _ := url.Parse("https://dash.example.com")
	for _, tt := range []struct {
		base *url.URL
		u    string
		want bool
	}{
		{base, "https://dash.example.com/_dashboards/x", true},
		{base, "https://DASH.example.com:443/_dashboards/x", true},
		{base, "HTTPS://dash.example.com/_dashboards", true},
		{base, "https://dash.example.com:8443/_dashboards/x", false},
		{base, "http://dash.example.com/_dashboards/x", false},
		{base, "https://dash.example.com/_dashboardsx", false},
		{base, "https://dash.example.com/", false},
		{base, "https://dash.example.com/_dashboards/./x", false},
		{base, "https://dash.example.com.evil/_dashboards/x", false},
		{root, "https://dash.example.com/anything", true},
		{root, "https://other.example.com/anything", false},
	} {
		u, err := url.Parse(tt.u)
		if err != nil {
			t.Fatal(err)
		}
		if under(u, tt.base) != tt.want {
			t.Errorf("under(%s, %s) = %v", tt.u, tt.base, !tt.want)
		}
	}
}
