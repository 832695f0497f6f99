package broker

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/saml2sts/saml2sts/cache"
	"github.com/saml2sts/saml2sts/idp"
	"github.com/saml2sts/saml2sts/internal/config"
	"github.com/saml2sts/saml2sts/sts"
)

const (
	account   = "123456789012"
	provCorp  = "arn:aws:iam::" + account + ":saml-provider/corp"
	provOther = "arn:aws:iam::" + account + ":saml-provider/other"
	reader    = "arn:aws:iam::" + account + ":role/SearchReader"
	admin     = "arn:aws:iam::" + account + ":role/SearchAdmin"
	password  = "hunter2-pw"
	idpURL    = "https://idp.example/realms/corp/protocol/saml/clients/aws"
	hint      = "saml2sts login --profile p"
)

// samlResponse is a minimal unsigned SAMLResponse granting roles
// ("role-ARN,provider-ARN"); the broker only parses it, STS would verify it.
func samlResponse(roles ...string) string {
	var vals strings.Builder
	for _, r := range roles {
		fmt.Fprintf(&vals, "<saml:AttributeValue>%s</saml:AttributeValue>", r)
	}
	xml := `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" Destination="https://signin.aws.amazon.com/saml">` +
		`<saml:Assertion><saml:AttributeStatement>` +
		`<saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/Role">` + vals.String() + `</saml:Attribute>` +
		`<saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/RoleSessionName"><saml:AttributeValue>ana</saml:AttributeValue></saml:Attribute>` +
		`</saml:AttributeStatement></saml:Assertion></samlp:Response>`
	return base64.StdEncoding.EncodeToString([]byte(xml))
}

// fakeIdP behaves like an IdP with sessions: with a session cookie in the
// jar it logs in silently, else it asks req.Password (and then the MFA code
// when codeNeeded). It always leaves a session cookie behind.
type fakeIdP struct {
	saml       string
	codeNeeded bool
	err        error         // returned after the session is set
	delay      time.Duration // holds the login open (single-flight tests)

	mu          sync.Mutex
	logins      int
	withSession []bool // per login: did the jar hold a session?
	passwords   []string
}

var sessionURL, _ = url.Parse("https://idp.example/realms/corp/")

func (f *fakeIdP) Login(ctx context.Context, req *idp.Request) (string, error) {
	f.mu.Lock()
	f.logins++
	f.mu.Unlock()
	jar := req.Client.Jar.(*idp.Jar)
	had := !jar.Empty()
	f.mu.Lock()
	f.withSession = append(f.withSession, had)
	f.mu.Unlock()
	if !had {
		pw, err := req.Password(ctx)
		if err != nil {
			return "", err
		}
		f.mu.Lock()
		f.passwords = append(f.passwords, pw)
		f.mu.Unlock()
		if pw != password {
			return "", &idp.AuthError{Message: "Invalid username or password."}
		}
		if f.codeNeeded && req.MFACode == "" {
			if _, err := req.Prompt.Code(ctx, "One-time code"); err != nil {
				return "", err
			}
		}
	}
	jar.SetCookies(sessionURL, []*http.Cookie{{Name: "KEYCLOAK_SESSION", Value: "sess-secret", Path: "/"}})
	if f.delay > 0 {
		time.Sleep(f.delay)
	}
	if f.err != nil {
		return "", f.err
	}
	return f.saml, nil
}

func (f *fakeIdP) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.logins
}

// fakeSTS mints numbered keys valid for ttl.
type fakeSTS struct {
	now    func() time.Time
	ttl    time.Duration
	err    error
	notice string

	mu    sync.Mutex
	calls int
	roles []sts.Role
}

func (s *fakeSTS) AssumeRoleWithSAML(_ context.Context, a *sts.Assertion, role sts.Role, d time.Duration) (*sts.Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	s.roles = append(s.roles, role)
	if s.err != nil {
		return nil, s.err
	}
	return &sts.Result{
		Credentials: sts.Credentials{
			AccessKeyID:     fmt.Sprintf("ASIAFAKE%04d", s.calls),
			SecretAccessKey: "secret",
			SessionToken:    "token",
			Expiration:      s.now().Add(s.ttl),
		},
		Notice: s.notice,
	}, nil
}

func (s *fakeSTS) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// fakePrompt answers from fixed values; a nil *fakePrompt field means "no
// terminal" for that call.
type fakePrompt struct {
	secret  *string
	code    *string
	choice  *int
	asked   []string
	options []string
	mu      sync.Mutex
}

func (p *fakePrompt) record(label string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.asked = append(p.asked, label)
}

func (p *fakePrompt) Secret(_ context.Context, label string) (string, error) {
	p.record(label)
	if p.secret == nil {
		return "", idp.ErrNoTerminal
	}
	return *p.secret, nil
}

func (p *fakePrompt) Code(_ context.Context, label string) (string, error) {
	p.record(label)
	if p.code == nil {
		return "", idp.ErrNoTerminal
	}
	return *p.code, nil
}

func (p *fakePrompt) Choose(_ context.Context, label string, options []string) (int, error) {
	p.record(label)
	p.mu.Lock()
	p.options = options
	p.mu.Unlock()
	if p.choice == nil {
		return 0, idp.ErrNoTerminal
	}
	return *p.choice, nil
}

func ptr[T any](v T) *T { return &v }

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// rig is a broker wired to fakes.
type rig struct {
	b      *Broker
	idp    *fakeIdP
	sts    *fakeSTS
	prompt *fakePrompt
	clock  *clock
	notice *syncBuffer
	store  *cache.File
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newRig(t testing.TB, roles ...string) *rig {
	t.Helper()
	if len(roles) == 0 {
		roles = []string{reader + "," + provCorp}
	}
	store, err := cache.NewFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	r := &rig{
		idp:    &fakeIdP{saml: samlResponse(roles...)},
		sts:    &fakeSTS{now: c.Now, ttl: time.Hour},
		prompt: &fakePrompt{},
		clock:  c,
		notice: &syncBuffer{},
		store:  store,
	}
	r.b = &Broker{
		Store:     store,
		Dir:       t.TempDir(),
		Providers: map[string]idp.Provider{"keycloak": r.idp},
		NewSTS: func(context.Context, string) (STS, error) {
			return r.sts, nil
		},
		Prompt: r.prompt,
		Notice: r.notice,
		Now:    c.Now,
		Jitter: func() float64 { return 0 },
	}
	return r
}

func profile(mod ...func(*config.Profile)) *config.Profile {
	p := &config.Profile{
		Name:          "p",
		Provider:      "keycloak",
		URL:           idpURL,
		Username:      "ana",
		RoleARN:       reader,
		Region:        "eu-west-1",
		Duration:      time.Hour,
		MFA:           "auto",
		RefreshWindow: 15 * time.Minute,
	}
	for _, m := range mod {
		m(p)
	}
	return p
}

// pw is an Options.Password that supplies the right password.
func pw(context.Context) (string, error) { return password, nil }

func (r *rig) mustLogin(t testing.TB, p *config.Profile) *Result {
	t.Helper()
	res, err := r.b.Credentials(context.Background(), p, Options{Password: pw, LoginHint: hint})
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	return res
}

func errorsAs[T error](err error) (T, bool) {
	var target T
	ok := errors.As(err, &target)
	return target, ok
}
