package idptest

import (
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
)

// JSOnlyOptions configure [NewJSOnly].
type JSOnlyOptions struct {
	// Users are the accounts; their OTP, WebAuthnOnly and Disabled fields
	// are not used.
	Users []User
	// SAMLOptions shape and sign the assertions.
	SAMLOptions
}

// JSOnlyStats counts what clients did.
type JSOnlyStats struct {
	PasswordPosts int // POST /api/login, good or bad
	Logins        int // good passwords
	SAMLIssued    int // assertions handed to the page
	SessionReuses int // /api/saml answered from an existing session cookie
}

// JSOnly is a login page that works only with JavaScript, like modern
// single-page IdPs: GET / serves an empty page whose script builds the
// login form, posts the credentials as JSON with fetch() to /api/login,
// shows the error it answers in place (no new page), then fetches the
// assertion from /api/saml and builds and submits the SAML POST form
// itself. No page it serves holds a form in its HTML, so an HTTP-only
// adapter finds nothing to fill; a browser signs in.
type JSOnly struct {
	o   JSOnlyOptions
	srv *httptest.Server

	record[JSOnlyStats]
	users    map[string]*User
	sessions map[string]*User // by js_session cookie
}

// NewJSOnly starts the emulator on 127.0.0.1.
func NewJSOnly(o JSOnlyOptions) (*JSOnly, error) {
	if err := o.SAMLOptions.setDefaults(); err != nil {
		return nil, err
	}
	if err := checkUsers("user", usernames(o.Users, func(u *User) string { return u.Username }), true); err != nil {
		return nil, err
	}
	j := &JSOnly{o: o, users: map[string]*User{}, sessions: map[string]*User{}}
	for i := range o.Users {
		u := o.Users[i]
		if u.SessionName == "" {
			u.SessionName = u.Username
		}
		j.users[strings.ToLower(u.Username)] = &u
	}
	j.srv = httptest.NewServer(j)
	return j, nil
}

// URL is the sign-on page.
func (j *JSOnly) URL() string { return j.srv.URL + "/" }

// Certificate signs the assertions.
func (j *JSOnly) Certificate() *x509.Certificate { return j.o.Cert }

// Close shuts the server down.
func (j *JSOnly) Close() { j.srv.Close() }

// Secrets are the session cookies handed out, for leak checks.
func (j *JSOnly) Secrets() []string { return j.keptValues() }

// ExpireSessions forgets every session.
func (j *JSOnly) ExpireSessions() {
	j.mu.Lock()
	defer j.mu.Unlock()
	clear(j.sessions)
}

func (j *JSOnly) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/" && r.Method == http.MethodGet:
		writeHTML(w, http.StatusOK, []byte(jsOnlyPage))
	case r.URL.Path == "/api/login" && r.Method == http.MethodPost:
		j.login(w, r)
	case r.URL.Path == "/api/saml" && r.Method == http.MethodGet:
		j.saml(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (j *JSOnly) login(w http.ResponseWriter, r *http.Request) {
	var in struct{ Username, Password string }
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&in); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "Bad request."})
		return
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.stats.PasswordPosts++
	u := j.users[strings.ToLower(in.Username)]
	if u == nil || u.Password == "" || in.Password != u.Password {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "We could not sign you in: wrong username or password."})
		return
	}
	j.stats.Logins++
	token := newToken()
	j.sessions[token] = u
	j.keep(token)
	http.SetCookie(w, &http.Cookie{Name: "js_session", Value: token, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	writeJSON(w, http.StatusOK, map[string]any{"ok": true})
}

func (j *JSOnly) saml(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie("js_session")
	j.mu.Lock()
	var u *User
	if err == nil {
		u = j.sessions[c.Value]
	}
	if u != nil && r.URL.Query().Get("fresh") == "" {
		j.stats.SessionReuses++
	}
	j.mu.Unlock()
	if u == nil {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "not signed in"})
		return
	}
	b64, err := j.o.response(j.srv.URL, u.Username, u.SessionName, newUUID(), u.Roles)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]any{"error": "internal error"})
		return
	}
	j.issue(b64, func(s *JSOnlyStats) { s.SAMLIssued++ })
	writeJSON(w, http.StatusOK, map[string]any{"destination": j.o.Destination, "SAMLResponse": b64})
}

// jsOnlyPage builds everything with script. The assertion arrives by
// fetch() and leaves in a form the script makes and submits.
var jsOnlyPage = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Acme ID</title></head>
<body><div id="app"><noscript>This sign-in needs JavaScript.</noscript></div>
<script>
const app = document.getElementById('app');
function el(tag, attrs, text) { const e = document.createElement(tag); for (const k in attrs) e.setAttribute(k, attrs[k]); if (text) e.textContent = text; return e; }
async function post(saml) {
  const f = el('form', {method: 'post', action: saml.destination});
  const i = el('input', {type: 'hidden', name: 'SAMLResponse'}); i.value = saml.SAMLResponse; f.appendChild(i);
  document.body.appendChild(f); f.submit();
}
async function signedIn(fresh) {
  const r = await fetch('/api/saml' + (fresh ? '?fresh=1' : ''), {credentials: 'same-origin'});
  if (!r.ok) return false;
  app.textContent = 'Signing you in to AWS...';
  await post(await r.json());
  return true;
}
function loginForm() {
  const f = el('form', {id: 'acme-login', novalidate: ''});
  const err = el('div', {id: 'acme-error', role: 'alert', style: 'display:none', class: 'acme-error'});
  f.append(el('h1', {}, 'Sign in to Acme'), err,
    el('label', {for: 'u'}, 'Email'), el('input', {id: 'u', type: 'email', autocomplete: 'username'}),
    el('label', {for: 'p'}, 'Password'), el('input', {id: 'p', type: 'password', autocomplete: 'current-password'}),
    el('button', {type: 'submit'}, 'Sign in'));
  f.addEventListener('submit', async ev => {
    ev.preventDefault();
    err.style.display = 'none';
    const r = await fetch('/api/login', {method: 'POST', headers: {'Content-Type': 'application/json'},
      body: JSON.stringify({username: f.querySelector('#u').value, password: f.querySelector('#p').value})});
    const body = await r.json();
    if (!r.ok) { err.textContent = body.error; err.style.display = 'block'; f.querySelector('#p').value = ''; return; }
    await signedIn(true);
  });
  app.replaceChildren(f);
}
(async () => { if (!(await signedIn(false))) loginForm(); })();
</script></body></html>
`
