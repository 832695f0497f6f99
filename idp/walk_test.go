package idp_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/saml2sts/saml2sts/idp"
)

// saveDebugger keeps what SavePage is given.
type saveDebugger struct{ names, bodies []string }

func (d *saveDebugger) SavePage(name string, body []byte) string {
	d.names = append(d.names, name)
	d.bodies = append(d.bodies, string(body))
	return "/tmp/" + name + ".html"
}

// walkServer serves /step/N pages that post to /step/N+1, with the SAML
// POST page at /step/<samlAt>.
func walkServer(t *testing.T, samlAt int, hits *int) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*hits++
		var n int
		fmt.Sscanf(r.URL.Path, "/step/%d", &n)
		if n == samlAt {
			fmt.Fprint(w, `<html><body><form method="post" action="https://signin.aws.amazon.com/saml">
<input type="hidden" name="SAMLResponse" value="PHNhbWw+"></form></body></html>`)
			return
		}
		fmt.Fprintf(w, `<html><head><title>Step %d</title></head><body><form method="post" action="/step/%d?session=s3ss10n">
<input type="hidden" name="token" value="t0ken-%d"><input name="password" type="password" value="hunter2"></form></body></html>`, n, n+1, n)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestWalker(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		samlAt    int
		max       int
		wantSAML  bool
		wantPages int
	}{
		{"SAML on the first page", 0, 3, true, 1},
		{"SAML on the last allowed page", 2, 3, true, 3},
		{"budget spent", 5, 3, false, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hits := 0
			srv := walkServer(t, tc.samlAt, &hits)
			dbg := &saveDebugger{}
			req := &idp.Request{Client: srv.Client(), Debug: dbg}
			in := idp.NewInputs(req)
			in.Secret("hunter2")
			w := &idp.Walker{Name: "test", Max: tc.max, Client: srv.Client(), In: &in}
			first, err := w.Fetch(context.Background(), http.MethodGet, srv.URL+"/step/0", nil)
			if err != nil {
				t.Fatal(err)
			}
			saml, err := w.Walk(context.Background(), first, func(ctx context.Context, p *idp.Page) (*idp.Page, error) {
				return w.Submit(ctx, idp.ParseForm(p, p.Doc.Find("form")))
			})
			if w.Pages() != tc.wantPages || hits != tc.wantPages {
				t.Errorf("Pages() = %d, server hits = %d, want %d", w.Pages(), hits, tc.wantPages)
			}
			if tc.wantSAML {
				if err != nil || saml != "PHNhbWw+" {
					t.Fatalf("Walk = %q, %v", saml, err)
				}
				return
			}
			var pe *idp.PageError
			if !errors.As(err, &pe) {
				t.Fatalf("Walk = %q, %v; want a PageError", saml, err)
			}
			want := fmt.Sprintf("unexpected page %q at %s/step/2: still no SAML response after 3 pages; stopped so the account is not locked (redacted copy: /tmp/test-page3.html)",
				"Step 2", srv.URL)
			if err.Error() != want {
				t.Errorf("error\n got %s\nwant %s", err, want)
			}
			if len(dbg.names) != 1 || dbg.names[0] != "test-page3" {
				t.Fatalf("saved pages %v, want [test-page3]", dbg.names)
			}
			for _, secret := range []string{"hunter2", "t0ken-2", "s3ss10n"} {
				if strings.Contains(dbg.bodies[0], secret) || strings.Contains(err.Error(), secret) {
					t.Errorf("secret %q reached the debug copy or the error", secret)
				}
			}
		})
	}
}

func TestWalkerStepError(t *testing.T) {
	t.Parallel()
	hits := 0
	srv := walkServer(t, 9, &hits)
	w := &idp.Walker{Name: "test", Max: 5, Client: srv.Client()}
	first, err := w.Fetch(context.Background(), http.MethodGet, srv.URL+"/step/0", nil)
	if err != nil {
		t.Fatal(err)
	}
	stop := &idp.AuthError{Message: "wrong password"}
	_, err = w.Walk(context.Background(), first, func(context.Context, *idp.Page) (*idp.Page, error) { return nil, stop })
	if err != stop {
		t.Fatalf("Walk = %v, want the step's error unchanged", err)
	}
	// Without Inputs a dead end is still described, with nothing saved.
	if pe := w.PageError(first, "expected a login form"); pe.Title != "Step 0" || pe.Saved != "" || pe.Why != "expected a login form" {
		t.Errorf("PageError = %#v", pe)
	}
	// Fetch errors name the adapter and never the query.
	srv.Close()
	_, err = w.Fetch(context.Background(), http.MethodGet, srv.URL+"/step/1?code=s3cr3t", nil)
	if err == nil || !strings.HasPrefix(err.Error(), "test: ") || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("Fetch error = %v", err)
	}
}
