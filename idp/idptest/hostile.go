package idptest

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"

	"github.com/beevik/etree"

	"github.com/saml2sts/saml2sts/internal/httpx"
)

// Scenario is what a [Hostile] IdP does to the client.
type Scenario string

// The scenarios of [NewHostile]. Each but OddNames ends in an error the
// client must report, without handing the bystander anything.
const (
	// OddNames is an honest login whose form fields are named login, pwd
	// and answer (none of the usual words), ending on the SAML POST page.
	OddNames Scenario = "odd-names"
	// EchoSecrets answers the code with an unexpected page that quotes the
	// password and the code in every encoding a page may use.
	EchoSecrets Scenario = "echo-secrets"
	// ForeignAction serves a login form whose action is the bystander.
	ForeignAction Scenario = "foreign-action"
	// PlainHTTPAction serves a login form whose action is plain http to a
	// host that is not loopback.
	PlainHTTPAction Scenario = "plain-http-action"
	// RedirectPost answers the password POST with a 307 to the bystander,
	// which would make a client re-send the password there.
	RedirectPost Scenario = "redirect-post"
	// RedirectLoop redirects the sign-on URL to itself forever.
	RedirectLoop Scenario = "redirect-loop"
	// HugePage serves an endless page (64 MiB of it before giving up).
	HugePage Scenario = "huge-page"
	// DeepPage serves a page nesting 200,000 elements.
	DeepPage Scenario = "deep-page"
	// SlowPage sends the start of the login page and then nothing until
	// the client leaves or the server closes; Stalled is signalled then.
	SlowPage Scenario = "slow-page"
	// WrappedSignature posts a response holding two assertions: an unsigned
	// one granting [HostileEvilRole] first, the signed original after it
	// (XML signature wrapping).
	WrappedSignature Scenario = "wrapped-signature"
	// ForeignDestination posts a signed assertion addressed to the
	// bystander's ACS instead of AWS.
	ForeignDestination Scenario = "foreign-destination"
)

// HostileEvilRole is the role a [WrappedSignature] response's unsigned
// assertion grants.
const HostileEvilRole = "arn:aws:iam::999999999999:role/Evil,arn:aws:iam::999999999999:saml-provider/evil"

// HostileOptions configure [NewHostile].
type HostileOptions struct {
	Scenario Scenario // default OddNames
	// User is the one account; a first OTP entry asks for a code after
	// the password (field answer).
	User User
	// Bystander is the root URL of the [Bystander] the scenarios send
	// things to; required by ForeignAction, RedirectPost and
	// ForeignDestination.
	Bystander string
	SAMLOptions
}

// Hostile is an IdP that logs in through a form with unusual field names
// and then, depending on its [Scenario], misbehaves. Tests run the
// adapters against it next to a [Bystander] and check that each scenario
// ends in a clear error and the bystander gets nothing.
type Hostile struct {
	o             HostileOptions
	srv           *httptest.Server
	record[Stats] // PasswordPosts, Logins, OTPPosts, SAMLIssued
	// Stalled is closed when a SlowPage response has sent its first bytes
	// and stopped.
	Stalled   chan struct{}
	stallOnce sync.Once
	stop      chan struct{}
}

// Field names of the Hostile login forms.
const (
	HostileUserField     = "login"
	HostilePasswordField = "pwd"
	HostileCodeField     = "answer"
)

// NewHostile starts a hostile IdP on 127.0.0.1.
func NewHostile(o HostileOptions) (*Hostile, error) {
	if o.Scenario == "" {
		o.Scenario = OddNames
	}
	if o.User.Username == "" || o.User.Password == "" {
		return nil, fmt.Errorf("idptest: hostile IdP needs a user with a password")
	}
	if o.Bystander == "" {
		switch o.Scenario {
		case ForeignAction, RedirectPost, ForeignDestination:
			return nil, fmt.Errorf("idptest: scenario %s needs a Bystander URL", o.Scenario)
		}
	}
	if o.Scenario == ForeignDestination {
		o.Destination = strings.TrimRight(o.Bystander, "/") + "/saml/acs"
	}
	if err := o.SAMLOptions.setDefaults(); err != nil {
		return nil, err
	}
	h := &Hostile{o: o, Stalled: make(chan struct{}), stop: make(chan struct{})}
	h.srv = httptest.NewServer(h)
	return h, nil
}

// URL is the IdP-initiated sign-on URL.
func (h *Hostile) URL() string { return h.srv.URL + "/sso" }

// Certificate is the certificate whose key signs the assertions.
func (h *Hostile) Certificate() *x509.Certificate { return h.o.Cert }

// SessionCookies returns every session cookie value handed out.
func (h *Hostile) SessionCookies() []string { return h.keptValues() }

// Close releases stalled responses and stops the server.
func (h *Hostile) Close() {
	close(h.stop)
	h.srv.Close()
}

func (h *Hostile) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/sso" && h.o.Scenario == RedirectLoop:
		http.Redirect(w, r, "/sso?again="+fmt.Sprint(len(r.URL.RawQuery)), http.StatusFound)
	case r.URL.Path == "/sso" && h.o.Scenario == HugePage:
		h.huge(w)
	case r.URL.Path == "/sso" && h.o.Scenario == DeepPage:
		writeHTML(w, http.StatusOK, []byte("<html><body>"+strings.Repeat("<div>", 200_000)+"</body></html>"))
	case r.URL.Path == "/sso" && h.o.Scenario == SlowPage:
		h.slow(w, r.Context())
	case r.URL.Path == "/sso":
		h.loginPage(w, "")
	case r.URL.Path == "/login" && r.Method == http.MethodPost:
		h.login(w, r)
	case r.URL.Path == "/code" && r.Method == http.MethodPost:
		h.code(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (h *Hostile) loginPage(w http.ResponseWriter, msg string) {
	action := "/login"
	switch h.o.Scenario {
	case ForeignAction:
		action = strings.TrimRight(h.o.Bystander, "/") + "/collect"
	case PlainHTTPAction:
		action = "http://collector.example/collect"
	}
	if msg != "" {
		msg = `<p class="error">` + html.EscapeString(msg) + `</p>`
	}
	writeHTML(w, http.StatusOK, []byte(`<!DOCTYPE html><html><head><title>Sign in</title></head><body>`+msg+`
<form method="post" action="`+html.EscapeString(action)+`">
<label>Who <input type="text" name="`+HostileUserField+`"></label>
<label>Secret <input type="password" name="`+HostilePasswordField+`"></label>
<button type="submit">Go</button>
</form></body></html>`))
}

func (h *Hostile) login(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.stats.PasswordPosts++
	h.mu.Unlock()
	if h.o.Scenario == RedirectPost {
		http.Redirect(w, r, strings.TrimRight(h.o.Bystander, "/")+"/collect", http.StatusTemporaryRedirect)
		return
	}
	if r.PostFormValue(HostileUserField) != h.o.User.Username || r.PostFormValue(HostilePasswordField) != h.o.User.Password {
		h.loginPage(w, "Wrong name or secret.")
		return
	}
	sess := newUUID()
	h.mu.Lock()
	h.stats.Logins++
	h.keep(sess)
	h.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: "hostile_session", Value: sess, Path: "/", HttpOnly: true})
	if len(h.o.User.OTP) > 0 {
		writeHTML(w, http.StatusOK, []byte(`<!DOCTYPE html><html><head><title>One more thing</title></head><body>
<form method="post" action="/code"><label>Your answer <input type="text" name="`+HostileCodeField+`" inputmode="numeric"></label>
<button type="submit">Go</button></form></body></html>`))
		return
	}
	h.finish(w)
}

func (h *Hostile) code(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.stats.OTPPosts++
	h.mu.Unlock()
	if len(h.o.User.OTP) == 0 || r.PostFormValue(HostileCodeField) != h.o.User.OTP[0].Code {
		writeHTML(w, http.StatusOK, []byte(`<html><head><title>Sorry</title></head><body><p class="error">Wrong answer.</p></body></html>`))
		return
	}
	h.finish(w)
}

// finish serves what follows a good login: the SAML POST page, or the
// scenario's twist on it.
func (h *Hostile) finish(w http.ResponseWriter) {
	if h.o.Scenario == EchoSecrets {
		writeHTML(w, http.StatusOK, EchoPage(h.o.User.Password, h.o.User.OTP[0].Code))
		return
	}
	u := h.o.User
	b64, err := h.o.response(h.srv.URL, u.Username, u.Username, newUUID(), u.Roles)
	if err == nil && h.o.Scenario == WrappedSignature {
		b64, err = wrapSignature(b64)
	}
	if err != nil {
		http.Error(w, "idptest: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h.issue(b64, func(s *Stats) { s.SAMLIssued++ })
	writeHTML(w, http.StatusOK, []byte(`<!DOCTYPE html><html><head><title>Working</title></head><body onload="document.forms[0].submit()">
<form method="post" action="`+html.EscapeString(h.o.Destination)+`"><input type="hidden" name="SAMLResponse" value="`+b64+`"></form></body></html>`))
}

// EchoPage is a page quoting each secret raw, HTML-escaped, JSON-escaped
// (with \u00XX), as JavaScript \xHH, URL-encoded in a link and in base64:
// the encodings a page may echo a posted value in.
func EchoPage(secrets ...string) []byte {
	var b strings.Builder
	b.WriteString(`<!DOCTYPE html><html><head><title>Something went wrong</title></head><body><h1>We could not finish</h1>`)
	for i, s := range secrets {
		var js, jsonU strings.Builder
		for _, c := range []byte(s) {
			fmt.Fprintf(&js, `\x%02X`, c)
			fmt.Fprintf(&jsonU, `\u%04x`, c)
		}
		fmt.Fprintf(&b, `<p>You sent %s</p><input type="text" name="echo%d" value="%s">`, html.EscapeString(s), i, html.EscapeString(s))
		fmt.Fprintf(&b, `<script>var a%d = %q, b%d = "%s", c%d = '%s';</script>`, i, s, i, jsonU.String(), i, js.String())
		fmt.Fprintf(&b, `<a href="/help?x=%s&amp;y=%s">help</a>`, url.QueryEscape(s), url.PathEscape(s))
		fmt.Fprintf(&b, `<div data-v="%s" data-w="%s"></div>`, base64.StdEncoding.EncodeToString([]byte(s)), base64.RawURLEncoding.EncodeToString([]byte(s)))
	}
	b.WriteString(`</body></html>`)
	return []byte(b.String())
}

// huge streams a page without end; the client must stop reading.
func (h *Hostile) huge(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write([]byte("<html><body>"))
	chunk := []byte(strings.Repeat("<p>filler filler filler filler</p>\n", 1024))
	for sent := 0; sent < 64<<20; sent += len(chunk) {
		if _, err := w.Write(chunk); err != nil {
			return
		}
	}
}

// slow sends the start of a page, then waits for the client to leave.
func (h *Hostile) slow(w http.ResponseWriter, ctx context.Context) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write([]byte("<html><head><title>Sign in</title>"))
	w.(http.Flusher).Flush()
	h.stallOnce.Do(func() { close(h.Stalled) })
	select {
	case <-ctx.Done():
	case <-h.stop:
	}
}

// wrapSignature turns a signed response into an XML signature wrapping
// attack: an unsigned copy of the assertion granting HostileEvilRole is
// put before the signed original, which stays intact (so its signature
// still verifies).
func wrapSignature(b64 string) (string, error) {
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return "", err
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil {
		return "", err
	}
	orig := doc.Root().FindElement("./Assertion")
	if orig == nil {
		return "", fmt.Errorf("idptest: no assertion to wrap")
	}
	evil := orig.Copy()
	evil.CreateAttr("ID", "ID_evil_"+newUUID())
	if sig := evil.FindElement("./Signature"); sig != nil {
		evil.RemoveChild(sig)
	}
	for _, v := range evil.FindElements(".//AttributeValue") {
		if strings.HasPrefix(v.Text(), "arn:aws:iam::") {
			v.SetText(HostileEvilRole)
		}
	}
	doc.Root().InsertChildAt(orig.Index(), evil)
	out, err := doc.WriteToBytes()
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(out), nil
}

// Bystander is a server that should never hear from the client: it
// records everything it receives so tests can prove no secret and no
// assertion reached it.
type Bystander struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []string // each request: method, URL, headers and body
}

// NewBystander starts a recording server on loopback. Its pages are
// empty 200s.
func NewBystander() *Bystander {
	b := &Bystander{}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var s strings.Builder
		fmt.Fprintf(&s, "%s %s\n", r.Method, r.URL.RequestURI())
		r.Header.Write(&s)
		body := make([]byte, 1<<20)
		n, _ := r.Body.Read(body)
		s.Write(body[:n])
		b.mu.Lock()
		b.got = append(b.got, s.String())
		b.mu.Unlock()
		writeHTML(w, http.StatusOK, []byte("<html><head><title>Thanks</title></head><body></body></html>"))
	}))
	return b
}

// URL is the bystander's root, http://localhost:NNN: another host than
// the emulators' 127.0.0.1, so no cookie of theirs is sent to it.
func (b *Bystander) URL() string { return strings.Replace(b.srv.URL, "127.0.0.1", "localhost", 1) }

// Close stops the server.
func (b *Bystander) Close() { b.srv.Close() }

// Received returns every request received so far, as text.
func (b *Bystander) Received() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.got...)
}

// Holds reports whether any request received held s, in any encoding a
// client may send it in (raw, URL-encoded, escaped, base64).
func (b *Bystander) Holds(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range b.Received() {
		for _, form := range httpx.Encodings(s) {
			if strings.Contains(r, form) {
				return true
			}
		}
	}
	return false
}
