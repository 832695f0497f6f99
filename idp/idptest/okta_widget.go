package idptest

import (
	"io"
	"net/http"
)

// serveWidget answers GET /js/mvc/loginpage/initLoginPage.pack.js: a
// small stand-in for Okta's Sign-In Widget on Classic orgs, so that a
// real browser can sign in on the sign-in page. Like the widget, it builds
// the form by script, posts /api/v1/authn as JSON, answers a TOTP
// challenge through the factor's verify link, shows errorSummary in
// place, and ends at /login/sessionCookieRedirect back to the app.
func (k *Okta) serveWidget(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache, no-store")
	io.WriteString(w, oktaWidgetJS)
}

const oktaWidgetJS = `(function () {
  var root = document.getElementById('okta-sign-in');
  if (!root || window.okta && window.okta.widgetStarted) return;
  window.okta = window.okta || {}; window.okta.widgetStarted = true;
  function el(tag, attrs, text) { var e = document.createElement(tag); for (var k in attrs) e.setAttribute(k, attrs[k]); if (text) e.textContent = text; return e; }
  function done(token) {
    location.href = baseUrl + '/login/sessionCookieRedirect?token=' + encodeURIComponent(token) + '&redirectUrl=' + encodeURIComponent(baseUrl + (fromUri || '/app/UserHome'));
  }
  function api(url, body) {
    return fetch(url, {method: 'POST', headers: {'Content-Type': 'application/json', 'Accept': 'application/json'}, body: JSON.stringify(body), credentials: 'same-origin'})
      .then(function (r) { return r.json().then(function (j) { return {ok: r.ok, body: j}; }); });
  }
  function form(title, fields, submit) {
    var f = el('form', {'class': 'o-form', novalidate: ''});
    var err = el('div', {'class': 'o-form-error-container', role: 'alert', style: 'display:none'});
    f.appendChild(el('h2', {'class': 'okta-form-title'}, title)); f.appendChild(err);
    fields.forEach(function (x) { f.appendChild(el('label', {'for': x.id}, x.label)); f.appendChild(el('input', x.attrs)); });
    f.appendChild(el('input', {type: 'submit', 'class': 'button button-primary', value: 'Verify'}));
    f.addEventListener('submit', function (ev) {
      ev.preventDefault(); err.style.display = 'none';
      submit(f).then(function (res) {
        if (res && res.error) { err.textContent = res.error; err.style.display = 'block'; }
      });
    });
    root.replaceChildren(f);
  }
  function next(res) {
    if (!res.ok) return {error: res.body.errorSummary || 'Sign in failed!'};
    var t = res.body;
    if (t.status === 'SUCCESS') { done(t.sessionToken); return null; }
    if (t.status === 'MFA_REQUIRED') {
      var totp = (t._embedded.factors || []).filter(function (f) { return f.factorType === 'token:software:totp'; })[0];
      if (!totp) return {error: 'This sign-in needs a factor this page cannot show.'};
      form('Enter your Google Authenticator code', [{id: 'code', label: 'Enter Code', attrs: {id: 'code', name: 'answer', type: 'text', autocomplete: 'one-time-code', inputmode: 'numeric'}}], function (f) {
        return api(totp._links.verify.href, {stateToken: t.stateToken, passCode: f.querySelector('#code').value}).then(next);
      });
      return null;
    }
    return {error: 'Okta answered ' + t.status};
  }
  form('Sign In', [
    {id: 'okta-signin-username', label: 'Username', attrs: {id: 'okta-signin-username', name: 'username', type: 'text', autocomplete: 'username'}},
    {id: 'okta-signin-password', label: 'Password', attrs: {id: 'okta-signin-password', name: 'password', type: 'password', autocomplete: 'current-password'}}
  ], function (f) {
    return api(baseUrl + '/api/v1/authn', {username: f.querySelector('#okta-signin-username').value, password: f.querySelector('#okta-signin-password').value}).then(next);
  });
})();
`
