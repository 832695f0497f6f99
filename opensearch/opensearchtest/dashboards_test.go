package opensearchtest

import (
	"encoding/base64"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/saml2sts/saml2sts/sts/ststest"
)

func dashboardsServer(t *testing.T, path string, o Options) (*Server, *ststest.IdP) {
	t.Helper()
	idp, err := idpOnce()
	if err != nil {
		t.Fatal(err)
	}
	o.Dashboards = &DashboardsOptions{Path: path, IdPCert: idp.Cert}
	s := newServer(t, o)
	s.Synthetic("logs", 20)
	return s, idp
}

func samlFor(t *testing.T, s *Server, idp *ststest.IdP, mod func(*ststest.Response)) string {
	t.Helper()
	r := ststest.Response{Recipient: s.ACSURL(), Audience: s.Audience(), SessionName: "alice@example.com",
		Roles: []string{testRole + "," + testProv}}
	if mod != nil {
		mod(&r)
	}
	b64, err := idp.Sign(r)
	if err != nil {
		t.Fatal(err)
	}
	return b64
}

// noRedirect is a client that keeps cookies and stops at the 302.
func noRedirect() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func TestDashboardsLogin(t *testing.T) {
	for _, tc := range []struct {
		path, xsrf, app string
		engine          string
		cookies         int
	}{
		{"/_dashboards", "osd-xsrf", "/_dashboards/app/opensearch-dashboards", "", 3},
		{"/_plugin/kibana", "kbn-xsrf", "/_plugin/kibana/app/kibana", EngineES710, 1},
	} {
		t.Run(tc.path, func(t *testing.T) {
			s, idp := dashboardsServer(t, tc.path, Options{Engine: tc.engine})
			c := noRedirect()
			res, err := c.PostForm(s.ACSURL(), url.Values{"SAMLResponse": {samlFor(t, s, idp, nil)}})
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != 302 || res.Header.Get("Location") != tc.app || len(res.Cookies()) != tc.cookies {
				t.Fatalf("%d %v", res.StatusCode, res.Header)
			}
			proxy := func(method, path, body string, hdr http.Header, client *http.Client) (int, string) {
				req, _ := http.NewRequest("POST", s.DashboardsURL()+"/api/console/proxy?"+url.Values{"path": {path}, "method": {method}}.Encode(), strings.NewReader(body))
				req.Header = hdr.Clone()
				res, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				var b strings.Builder
				buf := make([]byte, 4096)
				for {
					n, err := res.Body.Read(buf)
					b.Write(buf[:n])
					if err != nil {
						break
					}
				}
				return res.StatusCode, b.String()
			}
			xsrf := http.Header{tc.xsrf: {"true"}, "Content-Type": {"application/json"}}
			st, body := proxy("POST", "logs/_search?size=1", `{"query":{"match_all":{}}}`, xsrf, c)
			if st != 200 || !strings.Contains(body, "\n  \"took\": 1,") || !strings.Contains(body, `"_id": "0000000000"`) {
				t.Fatalf("%d %s", st, body)
			}
			if st, body := proxy("GET", "/missing/_search", "", xsrf, c); st != 404 || !strings.Contains(body, "index_not_found_exception") {
				t.Fatalf("%d %s", st, body)
			}
			if st, body := proxy("GET", "/_cat/indices", "", http.Header{}, c); st != 400 || body != `{"statusCode":400,"error":"Bad Request","message":"Request must contain a `+tc.xsrf+` header."}` {
				t.Fatalf("%d %s", st, body)
			}
			if st, _ := proxy("PATCH", "/_cat/indices", "", xsrf, c); st != 400 {
				t.Fatalf("PATCH: %d", st)
			}
			if st, body := proxy("GET", "/", "", xsrf, http.DefaultClient); st != 401 || !strings.Contains(body, `"statusCode":401`) {
				t.Fatalf("no cookie: %d %s", st, body)
			}
			if tc.cookies > 1 {
				// Only the main cookie: the session is incomplete.
				main := &http.Client{}
				jar, _ := cookiejar.New(nil)
				u, _ := url.Parse(s.URL())
				for _, ck := range c.Jar.Cookies(u) {
					if ck.Name == "security_authentication" {
						jar.SetCookies(u, []*http.Cookie{ck})
					}
				}
				main.Jar = jar
				if st, _ := proxy("GET", "/", "", xsrf, main); st != 401 {
					t.Fatalf("partial cookies: %d", st)
				}
			}
			s.ExpireDashboardsSessions()
			if st, _ := proxy("GET", "/", "", xsrf, c); st != 401 {
				t.Fatalf("expired session: %d", st)
			}
			stats := s.Stats()
			if stats.DashboardsLogins != 1 || stats.Rejected[ReasonXSRF] != 1 || stats.Rejected[ReasonNoSession] < 2 {
				t.Fatalf("stats %+v", stats)
			}
		})
	}
}

func TestDashboardsACSRejects(t *testing.T) {
	s, idp := dashboardsServer(t, "", Options{})
	other, err := ststest.NewIdP("https://evil.example.com")
	if err != nil {
		t.Fatal(err)
	}
	good := samlFor(t, s, idp, nil)
	raw, _ := base64.StdEncoding.DecodeString(good)
	tampered := base64.StdEncoding.EncodeToString([]byte(strings.Replace(string(raw), "alice@example.com", "mallory@example.com", 1)))
	evil, _ := other.Sign(ststest.Response{Recipient: s.ACSURL(), Audience: s.Audience(), SessionName: "alice@example.com", Roles: []string{testRole + "," + testProv}})
	tests := []struct{ name, resp string }{
		{"tampered", tampered},
		{"other idp", evil},
		{"wrong audience", samlFor(t, s, idp, func(r *ststest.Response) { r.Audience = "urn:amazon:webservices" })},
		{"wrong recipient", samlFor(t, s, idp, func(r *ststest.Response) { r.Recipient = "https://signin.aws.amazon.com/saml" })},
		{"expired", samlFor(t, s, idp, func(r *ststest.Response) { r.IssueInstant = time.Now().Add(-time.Hour) })},
		{"not base64", "%%%"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := noRedirect().PostForm(s.ACSURL(), url.Values{"SAMLResponse": {tc.resp}})
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != 500 || len(res.Cookies()) != 0 {
				t.Fatalf("%d %v", res.StatusCode, res.Header)
			}
		})
	}
	res, err := noRedirect().PostForm(s.ACSURL(), url.Values{"SAMLResponse": {good}})
	if err != nil || res.StatusCode != 302 {
		t.Fatalf("good response after rejects: %v %v", res, err)
	}
	res.Body.Close()
	if st := s.Stats(); st.DashboardsLogins != 1 || st.ACSPosts != len(tests)+1 {
		t.Fatalf("stats %+v", st)
	}
}
