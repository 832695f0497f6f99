package form

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/saml2sts/saml2sts/idp"
	"github.com/saml2sts/saml2sts/idp/idptest"
	"github.com/saml2sts/saml2sts/internal/httpx"
	"github.com/saml2sts/saml2sts/sts"
)

// syncBuf is a trace sink safe for the transport's goroutines.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

const (
	hostilePassword = `Tr0ub4dor & <3 "x"/'!`
	hostileCode     = "271828"
)

// TestHostileIdP: against each hostile scenario the form adapter ends in
// a clear one-line error, the bystander receives nothing, and neither the
// error, the --debug trace nor a saved page holds a secret.
func TestHostileIdP(t *testing.T) {
	t.Parallel()
	tests := []struct {
		sc    idptest.Scenario
		check func(error) bool
		want  string // in the error
	}{
		{idptest.ForeignAction, isSecretHost, "refusing to send the password"},
		{idptest.PlainHTTPAction, func(err error) bool {
			var se *httpx.InsecureSchemeError
			return isSecretHost(err) || errors.As(err, &se)
		}, "collector.example"},
		{idptest.RedirectPost, isSecretHost, "refusing to send the password"},
		{idptest.RedirectLoop, func(err error) bool { return errors.Is(err, idp.ErrTooManyRedirects) }, "too many redirects"},
		{idptest.HugePage, func(err error) bool { return err != nil }, "larger than 4 MiB"},
		{idptest.DeepPage, func(err error) bool { return err != nil }, "deeper than"},
		{idptest.SlowPage, func(err error) bool { return errors.Is(err, context.Canceled) }, "context canceled"},
		{idptest.EchoSecrets, func(err error) bool { var pe *idp.PageError; return errors.As(err, &pe) && pe.Saved != "" }, "Something went wrong"},
	}
	for _, tt := range tests {
		t.Run(string(tt.sc), func(t *testing.T) {
			t.Parallel()
			by := idptest.NewBystander()
			defer by.Close()
			h, err := idptest.NewHostile(idptest.HostileOptions{Scenario: tt.sc, Bystander: by.URL(), User: idptest.User{
				Username: "ana", Password: hostilePassword, OTP: []idptest.OTP{{Code: hostileCode}},
				Roles: []string{"arn:aws:iam::123456789012:role/Reader,arn:aws:iam::123456789012:saml-provider/corp"},
			}})
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			var trace syncBuf
			rt, err := httpx.NewTransport(httpx.Options{Trace: &trace})
			if err != nil {
				t.Fatal(err)
			}
			jar, _ := idp.NewJar(nil)
			dbg := &idp.DirDebugger{Parent: t.TempDir(), W: &trace}
			req := &idp.Request{URL: h.URL(), Username: "ana", MFACode: hostileCode, Prompt: &prompter{}, Debug: dbg,
				Password: func(context.Context) (string, error) { return hostilePassword, nil },
				Client:   idp.NewClient(rt, jar)}
			// A bound for a broken adapter; the scenarios end well before.
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if tt.sc == idptest.SlowPage {
				// Leave once the page has stalled: the login must stop at once.
				go func() {
					select {
					case <-h.Stalled:
						cancel()
					case <-ctx.Done():
					}
				}()
			}
			saml, err := New().Login(ctx, req)
			if saml != "" || !tt.check(err) || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("Login = %.20q, %v; want one line with %q", saml, err, tt.want)
			}
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				t.Fatal("the login ran into the test's deadline")
			}
			var saved string
			if dbg.Dir != "" {
				for _, f := range must(filepath.Glob(filepath.Join(dbg.Dir, "*"))) {
					saved += string(must(os.ReadFile(f)))
				}
			}
			secrets := append(httpx.Encodings(hostilePassword), hostileCode)
			secrets = append(secrets, h.SessionCookies()...)
			for _, s := range secrets {
				if strings.Contains(err.Error()+trace.String()+saved, s) {
					t.Errorf("error, trace or saved page holds %q", s)
				}
			}
			for _, s := range append([]string{hostilePassword, hostileCode}, append(h.IssuedResponses(), h.SessionCookies()...)...) {
				if by.Holds(s) {
					t.Errorf("the bystander received %.20q: %q", s, by.Received())
				}
			}
		})
	}
}

func isSecretHost(err error) bool { var se *idp.SecretHostError; return errors.As(err, &se) }

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestHostileOddNames: a login whose fields are called login, pwd and
// answer works, and the assertion is the one issued.
func TestHostileOddNames(t *testing.T) {
	t.Parallel()
	h, err := idptest.NewHostile(idptest.HostileOptions{User: idptest.User{
		Username: "ana", Password: hostilePassword, OTP: []idptest.OTP{{Code: hostileCode}},
		Roles: []string{"arn:aws:iam::123456789012:role/Reader,arn:aws:iam::123456789012:saml-provider/corp"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	r := newRun(t, h.URL(), nil)
	r.password, r.req.Username, r.req.MFACode = hostilePassword, "ana", hostileCode
	saml, err := New().Login(context.Background(), r.req)
	if err != nil {
		t.Fatal(err)
	}
	checkAssertion(t, saml)
	if st := h.Stats(); st.PasswordPosts != 1 || st.OTPPosts != 1 || st.SAMLIssued != 1 {
		t.Errorf("stats %+v", st)
	}
	// The wrapped-signature twin: two assertions, refused by the parser.
	h2, err := idptest.NewHostile(idptest.HostileOptions{Scenario: idptest.WrappedSignature, User: idptest.User{
		Username: "ana", Password: hostilePassword, Roles: []string{"arn:aws:iam::123456789012:role/Reader,arn:aws:iam::123456789012:saml-provider/corp"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer h2.Close()
	r = newRun(t, h2.URL(), nil)
	r.password, r.req.Username = hostilePassword, "ana"
	saml, err = New().Login(context.Background(), r.req)
	if err != nil {
		t.Fatal(err)
	}
	var ae *sts.AssertionError
	if _, err := sts.ParseResponse(saml); !errors.As(err, &ae) || !strings.Contains(err.Error(), "signature wrapping") {
		t.Errorf("wrapped signature: ParseResponse err = %v", err)
	}
}
