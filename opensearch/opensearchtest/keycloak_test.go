package opensearchtest

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/saml2sts/saml2sts/idp"
	"github.com/saml2sts/saml2sts/idp/idptest"
	"github.com/saml2sts/saml2sts/idp/keycloak"
)

type noPrompt struct{}

func (noPrompt) Secret(context.Context, string) (string, error) { return "", idp.ErrNoTerminal }
func (noPrompt) Code(context.Context, string) (string, error)   { return "", idp.ErrNoTerminal }
func (noPrompt) Choose(context.Context, string, []string) (int, error) {
	return 0, idp.ErrNoTerminal
}

// The whole browserless Dashboards login: the Keycloak emulator issues a
// SAMLResponse for the Dashboards app, the keycloak adapter fetches it, the
// ACS accepts it and the console proxy answers with the session.
func TestDashboardsWithKeycloak(t *testing.T) {
	key, cert, err := idptest.NewKeyPair("corp")
	if err != nil {
		t.Fatal(err)
	}
	s := newServer(t, Options{FGAC: true, Dashboards: &DashboardsOptions{IdPCert: cert},
		Allow: func(caller, method, path string) bool { return caller == "alice" }})
	s.Synthetic("logs", 5)
	kc, err := idptest.NewKeycloak(idptest.KeycloakOptions{
		Users:       []idptest.User{{Username: "alice", Password: "pw", Roles: []string{testRole + "," + testProv}}, {Username: "bob", Password: "pw", Roles: []string{testRole + "," + testProv}}},
		SAMLOptions: idptest.SAMLOptions{Destination: s.ACSURL(), Audience: s.Audience(), Key: key, Cert: cert},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close)
	for _, user := range []string{"alice", "bob"} {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar}
		b64, err := keycloak.New().Login(context.Background(), &idp.Request{URL: kc.URL(), Username: user,
			Password: func(context.Context) (string, error) { return "pw", nil }, Prompt: noPrompt{}, Client: c})
		if err != nil {
			t.Fatal(err)
		}
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		res, err := c.PostForm(s.ACSURL(), url.Values{"SAMLResponse": {b64}})
		if err != nil || res.StatusCode != 302 {
			t.Fatalf("acs: %v %v", res, err)
		}
		res.Body.Close()
		req, _ := http.NewRequest("POST", s.DashboardsURL()+"/api/console/proxy?path=logs%2F_count&method=GET", nil)
		req.Header.Set("osd-xsrf", "true")
		res, err = c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		buf := make([]byte, 1024)
		for {
			n, err := res.Body.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		res.Body.Close()
		switch user {
		case "alice":
			if res.StatusCode != 200 || !strings.Contains(b.String(), `"count": 5`) {
				t.Fatalf("%d %s", res.StatusCode, b.String())
			}
		case "bob": // signed in, but FGAC does not map him
			if res.StatusCode != 403 || !strings.Contains(b.String(), `no permissions for [indices:data/read/search] and User [name=bob`) {
				t.Fatalf("%d %s", res.StatusCode, b.String())
			}
		}
	}
	if st := s.Stats(); st.DashboardsLogins != 2 {
		t.Fatalf("stats %+v", st)
	}
}
