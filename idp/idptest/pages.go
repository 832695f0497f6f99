package idptest

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"html"
	"html/template"
	"net/http"
	"net/url"
	"sync"
	ttemplate "text/template"
)

//go:embed templates/*.html templates/*.txt
var templateFS embed.FS

// Templates are parsed on first use, so programs that link this package
// (saml2sts demo) pay nothing at startup.
var (
	pages = sync.OnceValue(func() *template.Template {
		return template.Must(template.New("").Funcs(template.FuncMap{
			"fieldError": func(id, msg string) struct{ ID, Msg string } { return struct{ ID, Msg string }{id, msg} },
		}).ParseFS(templateFS, "templates/*.html"))
	})
	// The POST page is text/template: html/template would write '+' in the
	// base64 as "&#43;", which Keycloak never does and naive scrapers trip on.
	postPages = sync.OnceValue(func() *ttemplate.Template {
		return ttemplate.Must(ttemplate.New("").Funcs(ttemplate.FuncMap{"h": html.EscapeString}).
			ParseFS(templateFS, "templates/*.txt"))
	})
)

// view is what one page shows. done and relay are set instead when the
// login has just finished and the SAML POST page is due.
type view struct {
	Kind   string // login, otp, webauthn, action, kerberos, error
	Theme  string
	Realm  string
	Title  string // <title>
	Header string // h1#kc-page-title
	Res    string // theme resources
	Common string // shared resources
	Action string
	// Restart is Keycloak's "restart login" link.
	Restart string
	// Attempted is the username shown above second-factor pages.
	Attempted  string
	Username   string // prefilled login name
	FieldError string // error bound to a field (span#input-error, ...)
	Alert      string // page-level error
	OTPs       []otpChoice
	Challenge  string
	RPID       string
	CredIDs    []string
	AutoStart  bool   // start WebAuthn when the page loads
	Message    string // error page text

	done  *session
	relay string
}

type otpChoice struct {
	Index   int
	ID      string
	Label   string
	Checked bool
}

// view fills what every page of the theme needs. f may be nil (error pages).
// Called with k.mu held when f is not nil.
func (k *Keycloak) view(f *flow, kind string) view {
	v := view{Kind: kind, Theme: k.o.Theme, Realm: k.o.Realm, Title: "Sign in to " + k.o.Realm}
	switch k.o.Theme {
	case "v2":
		v.Res = k.prefix + "/resources/x7q2d/login/keycloak.v2"
		v.Common = k.prefix + "/resources/x7q2d/common/keycloak"
	case "v1":
		v.Res = k.prefix + "/resources/x7q2d/login/keycloak"
		v.Common = k.prefix + "/resources/x7q2d/common/keycloak"
	case "old":
		v.Title = "Log in to " + k.o.Realm
		v.Res = k.prefix + "/resources/3.4.3.final/login/keycloak"
	}
	if f != nil {
		v.Action = k.actionURL(f)
		v.Restart = k.realmPath() + "/login-actions/restart?client_id=" + url.QueryEscape(clientID) + "&tab_id=" + f.tab
		if f.user != nil {
			v.Attempted = f.user.Username
		}
	}
	return v
}

// withError places msg where the theme shows errors bound to a field; the
// 3.x theme had only the page-level alert.
func (v view) withError(msg string) view {
	switch {
	case msg == "":
	case v.Theme == "old":
		v.Alert = msg
	default:
		v.FieldError = msg
	}
	return v
}

func (k *Keycloak) loginView(f *flow, fieldErr, alert string) view {
	v := k.view(f, "login")
	v.Header = "Sign in to your account"
	v.Username = f.username
	v.Alert = alert
	return v.withError(fieldErr)
}

func (k *Keycloak) otpView(f *flow, fieldErr string) view {
	v := k.view(f, "otp")
	v.Header = "Sign In"
	for i, o := range f.user.OTP {
		v.OTPs = append(v.OTPs, otpChoice{Index: i, ID: o.ID, Label: o.Label, Checked: o.ID == f.otp})
	}
	return v.withError(fieldErr)
}

func (k *Keycloak) webAuthnView(f *flow, alert string) view {
	v := k.view(f, "webauthn")
	v.Header = "Security Key login"
	v.Alert = alert
	f.challenge = make([]byte, 32)
	rand.Read(f.challenge)
	v.Challenge = base64.RawURLEncoding.EncodeToString(f.challenge)
	v.RPID = k.rpID()
	// After a refused assertion the page shows why and waits for the
	// person to try again, as Keycloak's does (no endless retry loop).
	v.AutoStart = k.o.WebAuthnAutoStart && alert == ""
	for _, key := range f.user.WebAuthn {
		v.CredIDs = append(v.CredIDs, base64.RawURLEncoding.EncodeToString(key.ID))
	}
	if len(v.CredIDs) == 0 {
		// A key registered elsewhere: the page still lists one.
		id := sha256.Sum256([]byte("webauthn:" + f.user.Username))
		v.CredIDs = []string{base64.RawURLEncoding.EncodeToString(id[:])}
	}
	return v
}

func (k *Keycloak) actionView(f *flow, alert string) view {
	v := k.view(f, "action")
	v.Title = k.o.RequiredAction
	v.Header = k.o.RequiredAction
	v.Alert = alert
	return v
}

func (k *Keycloak) errorPage(w http.ResponseWriter, status int, msg string) {
	v := k.view(nil, "error")
	v.Header = "We are sorry..."
	v.Message = msg
	k.render(w, status, v)
}

func (k *Keycloak) render(w http.ResponseWriter, status int, v view) {
	name := v.Theme
	if v.Kind == "kerberos" {
		name = "kerberos"
	}
	var b bytes.Buffer
	if err := pages().ExecuteTemplate(&b, name, v); err != nil {
		http.Error(w, "idptest: "+err.Error(), http.StatusInternalServerError)
		return
	}
	writeHTML(w, status, b.Bytes())
}

func (k *Keycloak) renderPost(w http.ResponseWriter, b64, relay string) {
	name := "post"
	if k.o.Theme == "old" {
		name = "post-old"
	}
	var b bytes.Buffer
	err := postPages().ExecuteTemplate(&b, name, map[string]string{
		"Realm": k.o.Realm, "Dest": k.o.Destination, "SAMLResponse": b64, "RelayState": relay,
	})
	if err != nil {
		http.Error(w, "idptest: "+err.Error(), http.StatusInternalServerError)
		return
	}
	writeHTML(w, http.StatusOK, b.Bytes())
}

func writeHTML(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/html;charset=utf-8")
	h.Set("Cache-Control", "no-store, must-revalidate, max-age=0")
	h.Set("Content-Language", "en")
	w.WriteHeader(status)
	w.Write(body)
}
