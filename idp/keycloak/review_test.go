package keycloak

import (
	"context"
	"errors"
	"html"
	"net/url"
	"strings"
	"testing"

	"github.com/saml2sts/saml2sts/idp"
	"github.com/saml2sts/saml2sts/internal/httpx"
)

// TestEchoedPasswordNotSavedEscaped: a page that echoes the password HTML
// escaped (as templates do) is saved for --debug without it, whichever
// escaping the template used.
func TestEchoedPasswordNotSavedEscaped(t *testing.T) {
	const pw = `p&ss<w>"rd'`
	for _, esc := range []struct {
		name string
		fn   func(string) string
	}{
		{"html/template", html.EscapeString},
		{"FreeMarker", strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#39;").Replace},
	} {
		t.Run(esc.name, func(t *testing.T) {
			k := &fakeKC{onLogin: func(f url.Values) answer {
				return answer{body: "<html><head><title>Oops</title></head><body><p>You typed " + esc.fn(f.Get("password")) + "</p></body></html>"}
			}}
			k.start(t)
			jar, _ := idp.NewJar(nil)
			rt, err := httpx.NewTransport(httpx.Options{})
			if err != nil {
				t.Fatal(err)
			}
			d := &debugger{}
			_, err = New().Login(t.Context(), &idp.Request{
				URL:      k.url + entry,
				Username: user,
				Password: func(context.Context) (string, error) { return pw, nil },
				Prompt:   &prompter{},
				Client:   idp.NewClient(rt, jar),
				Debug:    d,
			})
			var pe *idp.PageError
			if !errors.As(err, &pe) {
				t.Fatalf("want a PageError, got %v", err)
			}
			if len(d.pages) == 0 {
				t.Fatal("no page saved")
			}
			for name, b := range d.pages {
				if strings.Contains(string(b), esc.fn(pw)) || strings.Contains(string(b), pw) {
					t.Errorf("saved page %s holds the password: %s", name, b)
				}
			}
		})
	}
}
