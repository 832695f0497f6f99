package idptest

import (
	"net/http"
	"net/url"
	"strings"
)

// Where Duo comes back to the form IdPs, as their Duo modules register it.
const (
	sspDuoCB  = sspBase + "/module.php/duouniversal/callback.php"
	shibDuoCB = "/idp/profile/Authn/Duo/2FA/duo-callback"
)

// toDuo sends a login whose password (and code) passed to Duo, once;
// false when no Duo is attached or Duo has said yes already.
func (s *SimpleSAML) toDuo(w http.ResponseWriter, r *http.Request, st *authState, cb string) bool {
	if s.o.Duo == nil {
		return false
	}
	s.mu.Lock()
	if st.duoDone {
		s.mu.Unlock()
		return false
	}
	st.duoState = "ds" + newToken()
	s.keep(st.duoState)
	user, state := st.user.Username, st.duoState
	s.mu.Unlock()
	http.Redirect(w, r, s.o.Duo.AuthorizeURL(user, s.srv.URL+cb, state), http.StatusFound)
	return true
}

// duoCallback takes Duo's duo_code and resumes the login it belongs to.
func (s *SimpleSAML) duoCallback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	user, state, ok := "", "", false
	if s.o.Duo != nil {
		user, state, ok = s.o.Duo.Exchange(q.Get("duo_code"))
	}
	s.mu.Lock()
	var st *authState
	for _, c := range s.states {
		if ok && c.duoState != "" && c.duoState == state && state == q.Get("state") && c.user != nil && c.user.Username == user && !c.done {
			st = c
		}
	}
	if st == nil {
		s.mu.Unlock()
		if s.shib {
			s.shibError(w, http.StatusOK, "Web Login Service - Authentication Failed", "The Duo second factor could not be verified.")
			return
		}
		s.sspError(w, http.StatusForbidden, "DUOERROR", "Duo authentication failed", "The duo_code or state returned by Duo is not valid.")
		return
	}
	st.duoDone = true
	if s.shib {
		next := s.execURL(st)
		s.mu.Unlock()
		http.Redirect(w, r, next, http.StatusFound)
		return
	}
	s.mu.Unlock()
	s.sspFinish(w, r, st)
}

// duoReturnPage is the auto-submitting form an IdP's Duo callback serves to
// carry duo_code and state on to its own login endpoint (AD FS's adapter).
func duoReturnPage(w http.ResponseWriter, action string, fields url.Values) {
	var b []byte
	b = append(b, `<!DOCTYPE html><html><head><title>Working...</title></head><body onload="document.forms[0].submit()">`...)
	b = append(b, `<form class="adfs_form" method="post" action="`...)
	b = append(b, entityEncode(action)...)
	b = append(b, `">`...)
	for k, vs := range fields {
		for _, v := range vs {
			b = append(b, `<input type="hidden" name="`+entityEncode(k)+`" value="`+entityEncode(v)+`">`...)
		}
	}
	b = append(b, `<noscript><input type="submit" value="Continue"></noscript></form></body></html>`...)
	writeHTML(w, http.StatusOK, b)
}

// adfsDuoCB is where Duo comes back to the AD FS adapter (lower case: the
// router compares lower-cased paths).
const adfsDuoCB = "/adfs/duo/callback"

// duoPage is the Duo AD FS adapter's page: form#adfs_form posts the
// browser to Duo, form#options could switch adapters.
func (a *ADFS) duoPage(w http.ResponseWriter, f *adfsFlow, ctx string) {
	if a.o.Duo == nil {
		a.errorPage(w, f.rp, ADFSMsgError)
		return
	}
	a.mu.Lock()
	f.duo = "ds" + newToken()
	a.keep(f.duo)
	a.mu.Unlock()
	duoURL := a.o.Duo.AuthorizeURL(f.user.Username, a.srv.URL+adfsDuoCB+"?"+url.Values{"loginToRp": {f.rp}}.Encode(), f.duo)
	self := "/adfs/ls/IdpInitiatedSignOn.aspx?" + url.Values{"loginToRp": {f.rp}}.Encode()
	b := []byte(`<!DOCTYPE html><html><head><title>Sign In</title></head><body><div id="duo_container">` +
		`<form id="adfs_form" method="post" action="` + entityEncode(duoURL) + `">` +
		`<input type="hidden" name="adfs_context" value="` + entityEncode(ctx) + `">` +
		`<input type="hidden" name="adfs_auth_method" value="` + ADFSDuo + `"></form></div>` +
		`<form id="options" method="post" action="` + entityEncode(self) + `">` +
		`<input id="authMethod" type="hidden" name="AuthMethod" value="` + ADFSDuo + `">` +
		`<input id="context" type="hidden" name="Context" value="` + entityEncode(ctx) + `"></form>` +
		`<script>document.getElementById('adfs_form').submit();</script></body></html>`)
	writeHTML(w, http.StatusOK, b)
}

// duoCallback takes Duo's redirect and hands duo_code and state to the
// sign-on page in a form, as the adapter does.
func (a *ADFS) duoCallback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	rp := q.Get("loginToRp")
	a.mu.Lock()
	ctx := ""
	for c, f := range a.flows {
		if f.duo != "" && f.duo == q.Get("state") && f.rp == rp {
			ctx = c
		}
	}
	a.mu.Unlock()
	if ctx == "" {
		a.errorPage(w, rp, ADFSMsgError)
		return
	}
	duoReturnPage(w, "/adfs/ls/IdpInitiatedSignOn.aspx?"+url.Values{"loginToRp": {rp}}.Encode(), url.Values{
		"context": {ctx}, "duo_code": {q.Get("duo_code")}, "state": {q.Get("state")}, "authMethod": {ADFSDuo}})
}

// duoReturn checks the duo_code with Duo and finishes the login.
func (a *ADFS) duoReturn(w http.ResponseWriter, rp string, form url.Values) {
	ctx := form.Get("context")
	a.mu.Lock()
	a.stats.MFAPosts++
	f := a.flows[ctx]
	a.mu.Unlock()
	if f == nil || f.rp != rp || f.adapter != ADFSDuo || a.o.Duo == nil {
		a.errorPage(w, rp, ADFSMsgError)
		return
	}
	user, state, ok := a.o.Duo.Exchange(form.Get("duo_code"))
	if !ok || state != f.duo || state != form.Get("state") || user != f.user.Username {
		a.errorPage(w, rp, ADFSMsgError)
		return
	}
	a.mu.Lock()
	a.stats.MFAPasses++
	delete(a.flows, ctx)
	a.mu.Unlock()
	a.finish(w, f.user, f.rp)
}

// duoHandoff serves /sso/idps/{factorId}?stateToken= (Classic) or
// ?stateHandle= (Identity Engine): the claims_provider factor's link to
// Duo; /sso/idps/callback takes Duo's answer.
func (k *Okta) duoHandoff(w http.ResponseWriter, r *http.Request, rest string) {
	if rest == "callback" {
		k.duoCallback(w, r)
		return
	}
	q := r.URL.Query()
	var user *oktaUser
	state := ""
	k.mu.Lock()
	if tx := k.txs[q.Get("stateToken")]; tx != nil && tx.status == "MFA_CHALLENGE" && tx.factor != nil &&
		tx.factor.id == rest && tx.factor.Type == "claims_provider" {
		tx.duo = k.secret("ds")
		user, state = tx.user, tx.duo
	} else if t := k.idxs[q.Get("stateHandle")]; t != nil && t.stage == "challenge" && t.factor != nil &&
		t.factor.id == rest && t.factor.Type == "claims_provider" {
		t.duo = k.secret("ds")
		user, state = t.user, t.duo
	}
	k.mu.Unlock()
	if user == nil || k.o.Duo == nil {
		k.errorPage(w, http.StatusForbidden, "The session token is invalid or has expired.")
		return
	}
	http.Redirect(w, r, k.o.Duo.AuthorizeURL(user.Username, k.srv.URL+"/sso/idps/callback", state), http.StatusFound)
}

// duoCallback redeems Duo's duo_code, makes the Okta session (a step-up
// completes the existing one) and sends the browser to the app.
func (k *Okta) duoCallback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	user, state, ok := "", "", false
	if k.o.Duo != nil {
		user, state, ok = k.o.Duo.Exchange(q.Get("duo_code"))
	}
	if !ok || state != q.Get("state") {
		k.errorPage(w, http.StatusForbidden, "The session token is invalid or has expired.")
		return
	}
	k.mu.Lock()
	for _, tx := range k.txs {
		if tx.duo == state && strings.EqualFold(tx.user.Username, user) {
			delete(k.txs, tx.token)
			s := k.sessions[tx.sid]
			if tx.kind != "SESSION_STEP_UP" || s == nil {
				s = k.newSession(w, tx.user)
			}
			// A sign-in's session still meets the app's step-up policy;
			// a step-up transaction completes it.
			s.stepped = s.stepped || tx.kind == "SESSION_STEP_UP"
			s.fresh = true
			k.mu.Unlock()
			http.Redirect(w, r, k.URL(), http.StatusFound)
			return
		}
	}
	for _, t := range k.idxs {
		if t.duo == state && t.user != nil && strings.EqualFold(t.user.Username, user) {
			delete(k.idxs, t.handle)
			s := k.newSession(w, t.user)
			s.stepped = true
			http.SetCookie(w, &http.Cookie{Name: "idx", Value: k.secret("eyJ"), Path: "/", HttpOnly: true})
			from := t.from
			k.mu.Unlock()
			if from == "" {
				http.Redirect(w, r, k.URL(), http.StatusFound)
				return
			}
			http.Redirect(w, r, k.srv.URL+from, http.StatusFound)
			return
		}
	}
	k.mu.Unlock()
	k.errorPage(w, http.StatusForbidden, "The session token is invalid or has expired.")
}
