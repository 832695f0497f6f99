package idp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/saml2sts/saml2sts/internal/httpx"
)

// script is a Prompter with canned answers that records the questions.
type script struct {
	codes  []string
	choice int
	noTTY  bool
	asked  []string
}

func (s *script) Secret(_ context.Context, label string) (string, error) {
	s.asked = append(s.asked, "secret:"+label)
	if s.noTTY {
		return "", ErrNoTerminal
	}
	return "prompted-secret", nil
}

func (s *script) Code(_ context.Context, label string) (string, error) {
	s.asked = append(s.asked, "code:"+label)
	if s.noTTY || len(s.codes) == 0 {
		return "", ErrNoTerminal
	}
	c := s.codes[0]
	s.codes = s.codes[1:]
	return c, nil
}

func (s *script) Choose(_ context.Context, label string, _ []string) (int, error) {
	s.asked = append(s.asked, "choose:"+label)
	if s.noTTY {
		return 0, ErrNoTerminal
	}
	return s.choice, nil
}

func TestInputsPasswordOnce(t *testing.T) {
	calls := 0
	in := NewInputs(&Request{Password: func(context.Context) (string, error) { calls++; return "pw-1", nil }})
	for range 3 {
		if p, err := in.Password(context.Background(), "Password"); p != "pw-1" || err != nil {
			t.Fatalf("Password = %q, %v", p, err)
		}
	}
	if calls != 1 || !in.HasPassword() {
		t.Errorf("password func called %d times (want 1), HasPassword %v", calls, in.HasPassword())
	}

	// No Password func: the prompt, once; no prompter: ErrNoTerminal as is.
	p := &script{}
	in = NewInputs(&Request{Prompt: p})
	in.Password(context.Background(), "AD FS password")
	in.Password(context.Background(), "AD FS password")
	if strings.Join(p.asked, ",") != "secret:AD FS password" {
		t.Errorf("asked %v", p.asked)
	}
	in = NewInputs(&Request{})
	if _, err := in.Password(context.Background(), "x"); !errors.Is(err, ErrNoTerminal) || in.HasPassword() {
		t.Errorf("without a prompter: %v, HasPassword %v", err, in.HasPassword())
	}
}

func TestInputsCode(t *testing.T) {
	p := &script{codes: []string{"654 321", "111111"}}
	in := NewInputs(&Request{MFACode: " 123 456 ", Prompt: p})
	ask := func(ctx context.Context) (string, error) { return in.Prompt().Code(ctx, "code") }
	var got []string
	for range 2 {
		c, err := in.Code(context.Background(), ask)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, c)
	}
	if got[0] != "123456" || got[1] != "654321" || len(p.asked) != 1 {
		t.Errorf("codes %q, asked %v: want the --mfa-code first, then one prompt, blanks removed", got, p.asked)
	}
	// AskCode leaves an unused --mfa-code alone.
	in = NewInputs(&Request{MFACode: "999999", Prompt: p})
	if c, _ := in.AskCode(context.Background(), ask); c != "111111" || !in.CodeGiven() {
		t.Errorf("AskCode = %q, CodeGiven %v", c, in.CodeGiven())
	}
	if s := in.Scrub("got 111111"); s != "got REDACTED" {
		t.Errorf("code not kept as a secret: %q", s)
	}
}

func TestInputsScrub(t *testing.T) {
	in := NewInputs(&Request{})
	in.Secret("")
	in.Secret(`p&ss"w'rd <1>`)
	for _, s := range []string{
		`p&ss"w'rd <1>`,                    // as typed
		`p&amp;ss&#34;w&#39;rd &lt;1&gt;`,  // html.EscapeString
		`p&amp;ss&quot;w&#39;rd &lt;1&gt;`, // FreeMarker
		url.QueryEscape(`p&ss"w'rd <1>`),
		`p\x26ss\x22w\x27rd\x20\x3C1\x3E`, // JavaScript, as Okta's pages write a stateToken
		`p\x26ss\x22w\x27rd\x20\x3c1\x3e`, // the same, lower-case hex
	} {
		if got := in.Scrub("[" + s + "]"); got != "[REDACTED]" {
			t.Errorf("Scrub(%q) = %q", s, got)
		}
	}
	if got := in.Scrub("nothing secret"); got != "nothing secret" {
		t.Errorf("an empty secret scrubbed: %q", got)
	}
}

type saver struct {
	name string
	body []byte
}

func (s *saver) SavePage(name string, body []byte) string {
	s.name, s.body = name, body
	return "/tmp/" + name + ".html"
}

func TestInputsPageError(t *testing.T) {
	body := []byte(`<html><head><title>Hello pw-9</title></head><body><p>You typed pw-9 and 424242</p>` +
		`<form action="/next?code=424242"><input type="hidden" name="Context" value="ctx-blob"></form></body></html>`)
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse("https://idp.example.com/login?session=s3cr3t")
	page := &Page{URL: u, Doc: doc, Body: body, Status: 200}

	d := &saver{}
	in := NewInputs(&Request{Debug: d, MFACode: "424242", Password: func(context.Context) (string, error) { return "pw-9", nil }})
	in.Password(context.Background(), "")
	in.Code(context.Background(), nil)
	e := in.PageError(page, "form-page3", "the page says pw-9")
	msg := e.Error()
	if strings.Contains(msg, "pw-9") || strings.Contains(msg, "s3cr3t") || e.Saved != "/tmp/form-page3.html" || d.name != "form-page3" {
		t.Errorf("PageError %q (saved %q as %q)", msg, e.Saved, d.name)
	}
	for _, s := range []string{"pw-9", "424242", "ctx-blob"} {
		if bytes.Contains(d.body, []byte(s)) {
			t.Errorf("saved page holds %q:\n%s", s, d.body)
		}
	}
	// Without --debug nothing is saved.
	in = NewInputs(&Request{})
	if e := in.PageError(page, "x", "why"); e.Saved != "" {
		t.Errorf("saved without a debugger: %q", e.Saved)
	}
}

func TestInputsChoose(t *testing.T) {
	labels := []string{"a", "b", "c"}
	tests := []struct {
		name   string
		p      *script
		labels []string
		def    int
		want   int
		err    error
		asked  int
	}{
		{name: "one option is not asked", p: &script{}, labels: []string{"a"}, def: -1, want: 0},
		{name: "the user's pick", p: &script{choice: 2}, labels: labels, def: 0, want: 2, asked: 1},
		{name: "no terminal takes the default", p: &script{noTTY: true}, labels: labels, def: 1, want: 1, asked: 1},
		{name: "no terminal and no default", p: &script{noTTY: true}, labels: labels, def: -1, err: ErrNoTerminal, asked: 1},
		{name: "out of range", p: &script{choice: 7}, labels: labels, def: 0, asked: 1},
	}
	for _, tc := range tests {
		in := NewInputs(&Request{Prompt: tc.p})
		got, err := in.Choose(context.Background(), "Factor", tc.labels, tc.def)
		switch {
		case tc.name == "out of range":
			if err == nil || !strings.Contains(err.Error(), "choice 7 is not one of the 3 offered") {
				t.Errorf("%s: %d, %v", tc.name, got, err)
			}
		case !errors.Is(err, tc.err) || (err == nil && got != tc.want):
			t.Errorf("%s: %d, %v; want %d, %v", tc.name, got, err, tc.want, tc.err)
		}
		if len(tc.p.asked) != tc.asked {
			t.Errorf("%s: asked %v", tc.name, tc.p.asked)
		}
	}
}

func TestShortURLAndNotice(t *testing.T) {
	if got := ShortURL("idp.example.com/sso?token=secret#x"); got != "idp.example.com/sso" {
		t.Errorf("ShortURL = %q", got)
	}
	var b strings.Builder
	in := NewInputs(&Request{Notice: &b})
	in.Notice("waiting %s", "2s")
	in.Secret("c0de-9")
	in.Notice("Okta did not accept the code: %s", "c0de-9 is wrong")
	quiet := NewInputs(&Request{})
	quiet.Notice("dropped") // no writer: no panic
	if b.String() != "saml2sts: waiting 2s\nsaml2sts: Okta did not accept the code: REDACTED is wrong\n" {
		t.Errorf("notice %q", b.String())
	}
	in.Secret("pw-7")
	if e := in.AuthError("", "refused"); e.Message != "refused" {
		t.Errorf("AuthError fallback %q", e.Message)
	}
	if e := in.AuthError("Wrong password pw-7", "refused"); e.Message != "Wrong password REDACTED" {
		t.Errorf("AuthError %q", e.Message)
	}
	var ce *ConfigError
	if err := Configf("x: url %q is wrong", "u"); !errors.As(err, &ce) || err.Error() != `x: url "u" is wrong` {
		t.Errorf("Configf = %v", err)
	}
}

type quietPrompter struct{ Prompter }

func (quietPrompter) Interactive() bool { return false }

type plainPrompter struct{ Prompter }

func TestInteractive(t *testing.T) {
	if !Interactive(plainPrompter{}) {
		t.Error("a prompter without an Interactive method must count as interactive")
	}
	if Interactive(quietPrompter{}) {
		t.Error("a prompter that says it cannot ask counts as interactive")
	}
}

func TestDeadEnd(t *testing.T) {
	tests := []struct {
		status int
		said   string
		want   string
	}{
		{200, "", "expected a form"},
		{404, "", "HTTP 404; expected a form"},
		{200, "Session expired", `expected a form; the page says "Session expired"`},
		{500, "Oops", `HTTP 500; expected a form; the page says "Oops"`},
	}
	for _, tt := range tests {
		if got := DeadEnd(&Page{Status: tt.status}, "expected a form", tt.said); got != tt.want {
			t.Errorf("DeadEnd(%d, %q) = %q, want %q", tt.status, tt.said, got, tt.want)
		}
	}
}

// TestInputsShareClientSecrets: what a login marks secret, and the session
// cookies its client sees, are scrubbed from the trace of that client.
func TestInputsShareClientSecrets(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "sid", Value: "sid-0123456789"})
		fmt.Fprint(w, "<title>ok</title>")
	}))
	defer srv.Close()
	var trace bytes.Buffer
	rt, err := httpx.NewTransport(httpx.Options{Trace: &trace})
	if err != nil {
		t.Fatal(err)
	}
	c := NewClient(rt, nil)
	in := NewInputs(&Request{Client: c})
	form := url.Values{"login": {"ana"}}
	in.Fill(form, "pw", "hunter2 & co")
	if form.Get("pw") != "hunter2 & co" {
		t.Fatalf("Fill set %q", form.Get("pw"))
	}
	if _, err := Fetch(context.Background(), c, "POST", srv.URL+"/x?echo=hunter2+%26+co", form); err != nil {
		t.Fatal(err)
	}
	out := trace.String()
	if strings.Contains(out, "hunter2") || !strings.Contains(out, "pw=REDACTED") || !strings.Contains(out, "echo=REDACTED") {
		t.Errorf("trace:\n%s", out)
	}
	if got := in.Scrub("cookie sid-0123456789"); got != "cookie REDACTED" {
		t.Errorf("the session cookie is not a secret of the login: %q", got)
	}
	if ClientSecrets(&http.Client{}) != nil || ClientSecrets(c) == nil {
		t.Error("ClientSecrets")
	}
}
