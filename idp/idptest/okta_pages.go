package idptest

import (
	"bytes"
	"embed"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"sync"
	ttemplate "text/template"
)

//go:embed templates/okta.tmpl
var oktaFS embed.FS

// Okta pages are text/template with values escaped by hand: Okta encodes
// the appForm action and SAMLResponse the OWASP ESAPI way (&#x3a;, &#x2b;)
// and JS strings with \x2D, which html/template would not reproduce.
var oktaPages = sync.OnceValue(func() *ttemplate.Template {
	return ttemplate.Must(ttemplate.New("").ParseFS(oktaFS, "templates/okta.tmpl"))
})

func (k *Okta) renderOkta(w http.ResponseWriter, status int, name string, data map[string]any) {
	if data["Title"] == nil {
		data["Title"] = "Okta"
	}
	data["Base"] = k.srv.URL
	if data["Nonce"] == nil {
		data["Nonce"] = newToken()[:16]
	}
	var b bytes.Buffer
	if err := oktaPages().ExecuteTemplate(&b, name, data); err != nil {
		http.Error(w, "idptest: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html;charset=utf-8")
	h.Set("Cache-Control", "no-cache, no-store")
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Add("Set-Cookie", (&http.Cookie{Name: "JSESSIONID", Value: strings.ToUpper(newUUID()), Path: "/", HttpOnly: true}).String())
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

// entityEncode encodes s as OWASP ESAPI's encodeForHTMLAttribute does,
// which is how Okta writes the appForm: only alphanumerics and ",.-_"
// stay literal.
func entityEncode(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune(",.-_", r):
			b.WriteRune(r)
		default:
			fmt.Fprintf(&b, "&#x%x;", r)
		}
	}
	return b.String()
}

// jsEscape writes s for a single- or double-quoted JS string as Okta's
// pages do: '-' becomes \x2D, quotes and backslashes are escaped.
func jsEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '-' || r == '\'' || r == '"' || r == '\\' || r == '<' || r == '>' || r == '&' || r == '=' || r < 0x20:
			fmt.Fprintf(&b, "\\x%02X", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func (k *Okta) errorPage(w http.ResponseWriter, status int, msg string) {
	k.renderOkta(w, status, "okta-error", map[string]any{
		"Title": "Okta - Error", "Header": "Sorry, you can't access this page", "Message": html.EscapeString(msg),
	})
}

// signInPage is the hosted sign-in widget. Classic orgs are reached by a
// redirect to /login/login.htm?fromURI=<app>, which carries the stateToken
// of an UNAUTHENTICATED transaction for the app; IDX orgs serve it on the
// app link itself with the stateToken that /idp/idx/introspect takes.
func (k *Okta) signInPage(w http.ResponseWriter, r *http.Request, appPath string) {
	if appPath != "" && k.o.Pipeline == "v1" {
		http.Redirect(w, r, "/login/login.htm?fromURI="+url.QueryEscape(appPath), http.StatusFound)
		return
	}
	from := appPath
	if from == "" {
		from = r.URL.Query().Get("fromURI")
	}
	state := ""
	k.mu.Lock()
	switch {
	case k.o.Pipeline == "idx":
		state = k.newIDX(from).token
	case from != "" && k.isApp(from):
		tx := k.newTx(nil, "UNAUTHENTICATED")
		tx.kind = "SESSION_STEP_UP"
		state = tx.token
	}
	k.mu.Unlock()
	k.renderOkta(w, http.StatusOK, "okta-signin", map[string]any{
		"Title": "Okta - Sign In", "StateToken": jsEscape(state), "FromURI": jsEscape(from), "Pipeline": k.o.Pipeline,
	})
}

func (k *Okta) isApp(p string) bool {
	if u, err := url.Parse(p); err == nil {
		p = u.Path
	}
	return p == "/home/amazon_aws/"+k.o.AppID+"/"+oktaAppInstance || p == "/app/amazon_aws/"+k.o.AppID+"/sso/saml"
}
