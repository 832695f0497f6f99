package adfs

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"

	ntlmssp "github.com/Azure/go-ntlmssp"

	"github.com/saml2sts/saml2sts/idp"
)

// wiaUserAgent is Internet Explorer 11's: AD FS offers Windows integrated
// authentication only to the browsers on its WIASupportedUserAgents list,
// and sends every other one to the forms page.
const wiaUserAgent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; Trident/7.0; rv:11.0) like Gecko"

// wiaTransport carries the WIA requests: IE's User-Agent, and, once the
// password is known, the credentials the NTLM negotiator turns into an
// NTLMv2 handshake on a 401 challenge. The password itself never goes on
// the wire (Basic is not allowed), and only to the AD FS host.
type wiaTransport struct {
	next http.RoundTripper // ntlmssp.Negotiator over the shared transport
	host string

	mu         sync.Mutex
	user, pass string
	negotiate  string   // a Kerberos Authorization value for the next request only
	offered    []string // WWW-Authenticate of the last response
}

func (t *wiaTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("User-Agent", wiaUserAgent)
	t.mu.Lock()
	user, pass, neg := t.user, t.pass, ""
	if strings.EqualFold(r.URL.Host, t.host) {
		// An AP-REQ is good for one request: a second use is a replay.
		neg, t.negotiate = t.negotiate, ""
	}
	t.mu.Unlock()
	switch {
	case neg != "":
		r.Header.Set("Authorization", neg)
	case pass != "" && strings.EqualFold(r.URL.Host, t.host):
		r.SetBasicAuth(user, pass)
	default:
		r.Header.Del("Authorization")
	}
	resp, err := t.next.RoundTrip(r)
	if resp != nil {
		t.mu.Lock()
		t.offered = resp.Header.Values("Www-Authenticate")
		t.mu.Unlock()
	}
	return resp, err
}

func (t *wiaTransport) challenges() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.offered
}

func (t *wiaTransport) setNegotiate(h string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.negotiate = h
}

func (t *wiaTransport) setCredentials(user, pass string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.user, t.pass = user, pass
}

// probeClient is the request's client with the WIA transport on top.
func (l *login) probeClient() *http.Client {
	c := *l.req.Client
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	l.wiaT = &wiaTransport{next: ntlmssp.Negotiator{RoundTripper: base}, host: l.entry.Host}
	c.Transport = l.wiaT
	return &c
}

// negotiate answers AD FS's 401: with NTLM or Negotiate offered, the page
// is fetched again with the user's credentials; a second 401 is a refusal.
func (l *login) negotiate(ctx context.Context, page *idp.Page) (*idp.Page, error) {
	offered := l.wiaT.challenges()
	ntlm := false
	for _, c := range offered {
		s, _, _ := strings.Cut(c, " ")
		if strings.EqualFold(s, "NTLM") || strings.EqualFold(s, "Negotiate") {
			ntlm = true
		}
	}
	if !ntlm {
		return nil, l.w.PageError(page, fmt.Sprintf("HTTP 401 offering %q, not NTLM or Negotiate: set adfs_auth = forms",
			strings.Join(offered, ", ")))
	}
	if l.ntlmDone {
		return nil, &idp.AuthError{Message: "AD FS refused Windows integrated authentication (NTLM): check the user name " +
			"(DOMAIN\\user or user@domain) and the password; if they are right, AD FS may demand Kerberos or Extended Protection, " +
			"so set adfs_auth = forms"}
	}
	user := l.req.Username
	if user == "" {
		return nil, idp.Configf("adfs: Windows integrated authentication needs a user name: set username in the profile (DOMAIN\\user or user@domain)")
	}
	pw, err := l.in.Password(ctx, "AD FS password")
	if err != nil {
		return nil, err
	}
	l.wiaT.setCredentials(user, pw)
	l.ntlmDone = true
	return l.w.Fetch(ctx, http.MethodGet, page.URL.String(), nil)
}
