package idptest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Identity Engine (IDX). Okta does not document this API as stable; the
// shapes follow what its SDKs (okta-auth-js, okta-idx-*) and the Sign-In
// Widget read: Ion objects {"type":"array","value":[...]}, remediation
// forms {rel, name, href, method, produces, value:[fields], accepts}, and
// every body is application/ion+json; okta-version=1.0.0.

// idxTx is one Identity Engine transaction.
type idxTx struct {
	token   string // stateToken on the sign-in page
	handle  string // stateHandle
	from    string // app path to return to
	user    *oktaUser
	login   string // identifier typed, echoed in user.value.identifier
	expires time.Time

	stage  string   // "identify", "password", "select", "challenge", "expired", "warn", "enroll", "done"
	auth   *idxAuth // current authenticator (nil = password)
	method string   // its method type
	factor *oktaFactor
	sent   bool
	polls  int
	shown  bool
	msgs   []idxMsg // messages to show once
	duo    string   // the state sent to Duo (claims_provider)
}

type idxMsg struct{ text, key string }

// idxAuth is an OIE authenticator enrollment grouping Classic factors.
type idxAuth struct {
	key, typ, label string
	id, enrollID    string
	methods         []idxMethod
}

type idxMethod struct {
	typ, label string
	factor     *oktaFactor
}

// idxAuths groups u's factors into OIE authenticators, in a stable order.
// The ids derive from the factor ids so they are stable per user.
func idxAuths(u *oktaUser) []*idxAuth {
	var out []*idxAuth
	get := func(key, typ, label string, seed *oktaFactor) *idxAuth {
		for _, a := range out {
			if a.key == key {
				return a
			}
		}
		a := &idxAuth{key: key, typ: typ, label: label, id: "aut" + seed.id[3:], enrollID: "pfd" + seed.id[3:]}
		out = append(out, a)
		return a
	}
	for _, f := range u.factors {
		var a *idxAuth
		var m idxMethod
		switch {
		case f.Type == "push":
			a, m = get("okta_verify", "app", "Okta Verify", f), idxMethod{"push", "Get a push notification", f}
		case f.Type == "token:software:totp" && f.Provider == "GOOGLE":
			a, m = get("google_otp", "app", "Google Authenticator", f), idxMethod{"otp", "Enter a code", f}
		case f.Type == "token:software:totp":
			a, m = get("okta_verify", "app", "Okta Verify", f), idxMethod{"totp", "Enter a code", f}
		case f.Type == "sms":
			a, m = get("phone_number", "phone", "Phone", f), idxMethod{"sms", "SMS", f}
		case f.Type == "call":
			a, m = get("phone_number", "phone", "Phone", f), idxMethod{"voice", "Voice call", f}
		case f.Type == "email":
			a, m = get("okta_email", "email", "Email", f), idxMethod{"email", "Email", f}
		case f.Type == "token:hardware":
			a, m = get("yubikey_token", "security_key", "YubiKey Authenticator", f), idxMethod{"otp", "Enter a code", f}
		case f.Type == "webauthn":
			a, m = get("webauthn", "security_key", "Security Key or Biometric", f), idxMethod{"webauthn", "Security Key or Biometric", f}
		case f.Type == "web":
			a, m = get("duo", "app", "Duo Security", f), idxMethod{"duo", "Duo", f}
		case f.Type == "claims_provider":
			a, m = get("external_idp", "federated", "Duo Security", f), idxMethod{"idp", "IdP Authenticator", f}
		case f.Type == "question":
			a, m = get("security_question", "security_question", "Security Question", f), idxMethod{"security_question", "Security Question", f}
		}
		a.methods = append(a.methods, m)
	}
	return out
}

// newIDX starts an IDX transaction. Called with k.mu held.
func (k *Okta) newIDX(from string) *idxTx {
	now := time.Now()
	for h, t := range k.idxs {
		if now.After(t.expires) {
			delete(k.idxs, h)
		}
	}
	if from == "" {
		from = "/home/amazon_aws/" + k.o.AppID + "/" + oktaAppInstance
	}
	t := &idxTx{token: k.stateToken("02"), handle: "02" + newToken() + "~c." + oktaID(22), from: from,
		expires: now.Add(30 * time.Minute), stage: "identify"}
	k.keep(t.handle)
	k.idxs[t.handle] = t
	return t
}

type idxReq struct {
	StateToken  string `json:"stateToken"`
	StateHandle string `json:"stateHandle"`
	Identifier  string `json:"identifier"`
	Credentials struct {
		Passcode string `json:"passcode"`
		Answer   string `json:"answer"`
	} `json:"credentials"`
	Authenticator struct {
		ID         string `json:"id"`
		MethodType string `json:"methodType"`
	} `json:"authenticator"`
}

// idx routes POST /idp/idx/*.
func (k *Okta) idx(w http.ResponseWriter, r *http.Request, rest string) {
	if r.Method != http.MethodPost {
		k.idxError(w, http.StatusMethodNotAllowed, "Method not allowed", "errors.E0000022")
		return
	}
	var b idxReq
	if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<16)).Decode(&b); err != nil {
		k.idxError(w, http.StatusBadRequest, "The request body was not well-formed.", "errors.E0000003")
		return
	}
	if rest == "identify" && k.limited(w) {
		return
	}
	k.setDT(w, r)
	k.mu.Lock()
	defer k.mu.Unlock()
	k.stats.IDXRequests++
	var t *idxTx
	if rest == "introspect" {
		for _, c := range k.idxs {
			if b.StateToken != "" && c.token == b.StateToken || b.StateHandle != "" && c.handle == b.StateHandle {
				t = c
			}
		}
	} else {
		t = k.idxs[b.StateHandle]
	}
	if t == nil || time.Now().After(t.expires) {
		k.idxError(w, http.StatusUnauthorized, "The session has expired.", "idx.session.expired")
		return
	}
	status := http.StatusOK
	switch rest {
	case "introspect":
	case "identify":
		if t.stage != "identify" {
			status = k.idxState(w, t)
			break
		}
		t.login = b.Identifier
		t.user = k.users[strings.ToLower(b.Identifier)]
		t.stage = "password"
		if b.Credentials.Passcode != "" {
			status = k.idxPassword(t, b.Credentials.Passcode)
		}
	case "challenge":
		status = k.idxChallenge(t, b.Authenticator.ID, b.Authenticator.MethodType)
	case "challenge/answer":
		status = k.idxAnswer(t, b.Credentials.Passcode, b.Credentials.Answer)
	case "challenge/poll", "authenticators/poll":
		status = k.idxPoll(t)
	case "challenge/resend":
		if t.stage != "challenge" || t.factor == nil || !t.sent {
			status = k.idxState(w, t)
			break
		}
		switch t.factor.Type {
		case "sms", "call", "email":
			k.stats.CodesSent++
		case "push":
			t.polls, t.shown = 0, false
		}
	case "skip":
		if t.stage == "warn" {
			t.stage = "done"
		} else {
			status = k.idxState(w, t)
		}
	case "cancel":
		delete(k.idxs, t.handle)
		k.idxError(w, http.StatusOK, "The transaction was cancelled.", "idx.transaction.cancelled")
		return
	default:
		k.idxError(w, http.StatusNotFound, "Not found: Resource not found: /idp/idx/"+rest, "errors.E0000007")
		return
	}
	if status < 0 { // already written
		return
	}
	writeTyped(w, status, ionJSON, k.idxJSON(t))
	t.msgs = nil
}

// idxState answers a request the current stage does not take: 400 with
// the current remediations. Called with k.mu held.
func (k *Okta) idxState(w http.ResponseWriter, t *idxTx) int {
	t.msgs = append(t.msgs, idxMsg{"This operation is not allowed in the current authentication state.", "errors.E0000079"})
	return http.StatusBadRequest
}

// idxPassword checks the password. Called with k.mu held.
func (k *Okta) idxPassword(t *idxTx, pw string) int {
	k.stats.PasswordPosts++
	u := t.user
	if u == nil || u.Password == "" || pw != u.Password || u.Status == "LOCKED_OUT" {
		// OIE hides whether the user exists or is locked.
		t.msgs = append(t.msgs, idxMsg{"Authentication failed", "errors.E0000004"})
		return http.StatusUnauthorized
	}
	switch {
	case u.Status == "MFA_ENROLL":
		t.stage = "enroll"
	case len(u.factors) > 0:
		t.stage = "select"
	default:
		k.idxAfterMFA(t)
	}
	return http.StatusOK
}

func (k *Okta) idxAfterMFA(t *idxTx) {
	t.auth, t.factor, t.sent = nil, nil, false
	switch t.user.Status {
	case "PASSWORD_EXPIRED":
		t.stage = "expired"
		t.msgs = append(t.msgs, idxMsg{"Your password has expired", "password.expired.title.generic"})
	case "PASSWORD_WARN":
		t.stage = "warn"
		t.msgs = append(t.msgs, idxMsg{"Your password will expire in 5 days", "password.expiring.title"})
	default:
		t.stage = "done"
	}
}

// idxChallenge selects an authenticator. Called with k.mu held.
func (k *Okta) idxChallenge(t *idxTx, id, method string) int {
	if t.stage != "select" && t.stage != "challenge" {
		t.msgs = append(t.msgs, idxMsg{"This operation is not allowed in the current authentication state.", "errors.E0000079"})
		return http.StatusBadRequest
	}
	var a *idxAuth
	for _, c := range idxAuths(t.user) {
		if c.id == id {
			a = c
		}
	}
	if a == nil {
		t.msgs = append(t.msgs, idxMsg{"Invalid authenticator.", "errors.E0000001"})
		return http.StatusBadRequest
	}
	m := a.methods[0]
	if method != "" {
		found := false
		for _, c := range a.methods {
			if c.typ == method {
				m, found = c, true
			}
		}
		if !found {
			t.msgs = append(t.msgs, idxMsg{"Invalid method type.", "errors.E0000001"})
			return http.StatusBadRequest
		}
	}
	t.stage, t.auth, t.method, t.factor = "challenge", a, m.typ, m.factor
	t.sent, t.polls, t.shown = false, 0, false
	switch m.factor.Type {
	case "sms", "call", "email":
		k.stats.CodesSent++
		t.sent = true
	case "push":
		t.sent = true
	}
	return http.StatusOK
}

// idxAnswer is challenge/answer: the password or an OTP. Called with k.mu
// held.
func (k *Okta) idxAnswer(t *idxTx, passcode, answer string) int {
	switch t.stage {
	case "password":
		return k.idxPassword(t, passcode)
	case "expired", "warn":
		// A new password: the emulator keeps the configured one so tests
		// can log in again; only the transaction moves on.
		if passcode == "" || t.user == nil || passcode == t.user.Password {
			t.msgs = append(t.msgs, idxMsg{"Password requirements were not met.", "password.passwordRequirementsNotMet"})
			return http.StatusBadRequest
		}
		t.stage = "done"
		return http.StatusOK
	case "challenge":
	default:
		t.msgs = append(t.msgs, idxMsg{"This operation is not allowed in the current authentication state.", "errors.E0000079"})
		return http.StatusBadRequest
	}
	f := t.factor
	got := passcode
	if f.Type == "question" {
		got = answer
	}
	switch f.Type {
	case "push", "webauthn", "web", "claims_provider":
		t.msgs = append(t.msgs, idxMsg{"This operation is not allowed in the current authentication state.", "errors.E0000079"})
		return http.StatusBadRequest
	}
	k.stats.FactorVerifies++
	if f.Code == "" || got != f.Code {
		k.stats.BadPasscodes++
		t.msgs = append(t.msgs, idxMsg{"Invalid code. Try again.", "api.authn.error.PASSCODE_INVALID"})
		return http.StatusBadRequest
	}
	k.idxAfterMFA(t)
	return http.StatusOK
}

// idxPoll answers a push poll. Called with k.mu held.
func (k *Okta) idxPoll(t *idxTx) int {
	if t.stage != "challenge" || t.factor == nil || t.factor.Type != "push" {
		t.msgs = append(t.msgs, idxMsg{"This operation is not allowed in the current authentication state.", "errors.E0000079"})
		return http.StatusBadRequest
	}
	if !t.sent { // a spent push: the client must select the authenticator again
		t.msgs = append(t.msgs, idxMsg{"This operation is not allowed in the current authentication state.", "errors.E0000079"})
		return http.StatusBadRequest
	}
	k.stats.Polls++
	t.polls++
	switch pushOutcome(t.factor, t.polls, &t.shown, k.o.PushTimeout) {
	case "SUCCESS":
		k.idxAfterMFA(t)
	case "REJECTED":
		t.sent = false
		t.stage = "select"
		t.msgs = append(t.msgs, idxMsg{"You have chosen to reject this login.", "okta.push.rejected"})
		return http.StatusForbidden
	case "TIMEOUT":
		t.sent = false
		t.stage = "select"
		t.msgs = append(t.msgs, idxMsg{"Your push notification has expired.", "okta.push.timeout"})
		return http.StatusForbidden
	}
	return http.StatusOK
}

// idxRedirect is the success-redirect link /login/token/redirect?stateToken=:
// it sets sid and idx and sends the browser on to the app.
func (k *Okta) idxRedirect(w http.ResponseWriter, r *http.Request) {
	tok := r.URL.Query().Get("stateToken")
	k.mu.Lock()
	var t *idxTx
	for _, c := range k.idxs {
		if c.token == tok && c.stage == "done" {
			t = c
		}
	}
	if t == nil {
		k.mu.Unlock()
		k.errorPage(w, http.StatusForbidden, "The session token is invalid or has expired.")
		return
	}
	delete(k.idxs, t.handle)
	s := k.newSession(w, t.user)
	s.stepped = true // IDX evaluates the app's policy before success
	http.SetCookie(w, &http.Cookie{Name: "idx", Value: k.secret("eyJ"), Path: "/", HttpOnly: true})
	from := t.from
	k.mu.Unlock()
	http.Redirect(w, r, k.srv.URL+from, http.StatusFound)
}

func (k *Okta) idxError(w http.ResponseWriter, status int, msg, key string) {
	writeTyped(w, status, ionJSON, map[string]any{
		"version":  "1.0.0",
		"messages": ionArray(idxMessage(idxMsg{msg, key})),
	})
}

func idxMessage(m idxMsg) map[string]any {
	return map[string]any{"message": m.text, "i18n": map[string]any{"key": m.key}, "class": "ERROR"}
}

func ionArray(v ...any) map[string]any {
	if v == nil {
		v = []any{}
	}
	return map[string]any{"type": "array", "value": v}
}

func ionObject(v any) map[string]any { return map[string]any{"type": "object", "value": v} }

// form is one remediation form. Called with or without k.mu.
func (k *Okta) form(t *idxTx, name, path string, fields ...any) map[string]any {
	fields = append(fields, map[string]any{
		"name": "stateHandle", "required": true, "value": t.handle, "visible": false, "mutable": false,
	})
	return map[string]any{
		"rel": []string{"create-form"}, "name": name, "href": k.srv.URL + path, "method": "POST",
		"produces": ionJSON, "value": fields, "accepts": "application/json; okta-version=1.0.0",
	}
}

func passcodeField(label string) map[string]any {
	return map[string]any{"name": "credentials", "type": "object", "required": true,
		"form": map[string]any{"value": []any{map[string]any{"name": "passcode", "label": label, "secret": true}}}}
}

func (a *idxAuth) json() map[string]any {
	var ms []any
	for _, m := range a.methods {
		ms = append(ms, map[string]any{"type": m.typ})
	}
	return map[string]any{"type": a.typ, "key": a.key, "id": a.id, "displayName": a.label, "methods": ms}
}

// idxJSON is the whole IDX state of t. Called with k.mu held.
func (k *Okta) idxJSON(t *idxTx) map[string]any {
	out := map[string]any{
		"version":     "1.0.0",
		"stateHandle": t.handle,
		"expiresAt":   oktaTime(t.expires),
		"intent":      "LOGIN",
		"cancel":      k.form(t, "cancel", "/idp/idx/cancel"),
		"app":         ionObject(map[string]any{"name": "amazon_aws", "label": "Amazon Web Services", "id": k.o.AppID}),
	}
	var rem []any
	var auths []*idxAuth
	if t.user != nil {
		auths = idxAuths(t.user)
	}
	pwAuth := map[string]any{"type": "password", "key": "okta_password", "id": "aut" + k.orgID[3:],
		"displayName": "Password", "methods": []any{map[string]any{"type": "password"}}}
	if t.stage != "identify" {
		id := "00u" + oktaID(17)
		if t.user != nil {
			id = t.user.id
		}
		out["user"] = ionObject(map[string]any{"id": id, "identifier": t.login})
	}
	selectForm := func() map[string]any {
		var opts []any
		for i, a := range auths {
			fields := []any{map[string]any{"name": "id", "required": true, "value": a.id, "mutable": false}}
			if len(a.methods) > 1 {
				var mo []any
				for _, m := range a.methods {
					mo = append(mo, map[string]any{"label": m.label, "value": m.typ})
				}
				fields = append(fields, map[string]any{"name": "methodType", "type": "string", "required": false, "options": mo})
			} else {
				fields = append(fields, map[string]any{"name": "methodType", "required": false, "value": a.methods[0].typ, "mutable": false})
			}
			opts = append(opts, map[string]any{"label": a.label,
				"value":     map[string]any{"form": map[string]any{"value": fields}},
				"relatesTo": "$.authenticatorEnrollments.value[" + strconv.Itoa(i) + "]"})
		}
		return k.form(t, "select-authenticator-authenticate", "/idp/idx/challenge",
			map[string]any{"name": "authenticator", "type": "object", "options": opts})
	}
	switch t.stage {
	case "identify":
		rem = append(rem, k.form(t, "identify", "/idp/idx/identify",
			map[string]any{"name": "identifier", "label": "Username", "required": true},
			map[string]any{"name": "rememberMe", "type": "boolean", "label": "Keep me signed in"}))
	case "password":
		rem = append(rem, k.form(t, "challenge-authenticator", "/idp/idx/challenge/answer", passcodeField("Password")))
		pw := map[string]any{}
		for k, v := range pwAuth {
			pw[k] = v
		}
		pw["profile"] = map[string]any{}
		out["currentAuthenticatorEnrollment"] = ionObject(pw)
		out["authenticators"] = ionArray(pwAuth)
		out["authenticatorEnrollments"] = ionArray(pwAuth)
	case "select":
		rem = append(rem, selectForm())
	case "challenge":
		a := t.auth
		cur := a.json()
		cur["id"] = a.enrollID
		switch t.factor.Type {
		case "push":
			rem = append(rem, k.form(t, "challenge-poll", "/idp/idx/authenticators/poll"))
			rem[0].(map[string]any)["refresh"] = 4000
			cur["contextualData"] = map[string]any{}
			if t.shown && t.factor.CorrectAnswer > 0 {
				cur["contextualData"] = map[string]any{"correctAnswer": t.factor.CorrectAnswer}
			}
			cur["poll"] = k.form(t, "poll", "/idp/idx/authenticators/poll")
			cur["poll"].(map[string]any)["refresh"] = 4000
			cur["resend"] = k.form(t, "resend", "/idp/idx/challenge/resend")
		case "sms", "call", "email":
			rem = append(rem, k.form(t, "challenge-authenticator", "/idp/idx/challenge/answer", passcodeField("Enter code")))
			cur["resend"] = k.form(t, "resend", "/idp/idx/challenge/resend")
			switch t.factor.Type {
			case "email":
				cur["profile"] = map[string]any{"email": maskEmail(t.user.Username)}
			default:
				cur["profile"] = map[string]any{"phoneNumber": "+1 XXX-XXX-1337"}
			}
		case "webauthn":
			rem = append(rem, k.form(t, "challenge-authenticator", "/idp/idx/challenge/answer",
				map[string]any{"name": "credentials", "type": "object", "required": true, "form": map[string]any{"value": []any{
					map[string]any{"name": "authenticatorData", "label": "Authenticator Data", "visible": false},
					map[string]any{"name": "clientData", "label": "Client Data", "visible": false},
					map[string]any{"name": "signatureData", "label": "Signature Data", "visible": false},
				}}}))
			cur["contextualData"] = map[string]any{"challengeData": map[string]any{
				"challenge": "vygOPcUHYZvFD2-nAGzqpBYxFKWwz1ED", "userVerification": "preferred", "extensions": map[string]any{"appid": k.srv.URL}}}
		case "web":
			rem = append(rem, map[string]any{"name": "redirect-idp", "type": "DUO", "href": "https://api-1234abcd.duosecurity.com/oauth/v1/authorize",
				"method": "GET", "idp": map[string]any{"id": a.id, "name": "Duo Security"}})
		case "claims_provider":
			rem = append(rem, map[string]any{"name": "redirect-idp", "type": "EXTERNAL_IDP",
				"href":   k.srv.URL + "/sso/idps/" + t.factor.id + "?" + url.Values{"stateHandle": {t.handle}}.Encode(),
				"method": "GET", "idp": map[string]any{"id": a.id, "name": "Duo Security"}})
		case "question":
			rem = append(rem, k.form(t, "challenge-authenticator", "/idp/idx/challenge/answer",
				map[string]any{"name": "credentials", "type": "object", "required": true, "form": map[string]any{"value": []any{
					map[string]any{"name": "questionKey", "required": true, "value": "favorite_sports_player", "mutable": false},
					map[string]any{"name": "answer", "label": "Answer", "required": true, "secret": true},
				}}}))
			cur["profile"] = map[string]any{"questionKey": "favorite_sports_player", "question": "Who's your favorite sports player?"}
		default: // totp, google, yubikey
			rem = append(rem, k.form(t, "challenge-authenticator", "/idp/idx/challenge/answer", passcodeField("Enter code")))
		}
		cur["methods"] = []any{map[string]any{"type": t.method}}
		out["currentAuthenticatorEnrollment"] = ionObject(cur)
		rem = append(rem, selectForm())
	case "expired":
		rem = append(rem, k.form(t, "reenroll-authenticator", "/idp/idx/challenge/answer",
			map[string]any{"name": "credentials", "type": "object", "required": true, "form": map[string]any{"value": []any{
				map[string]any{"name": "passcode", "label": "New password", "secret": true}}}}))
		out["currentAuthenticator"] = ionObject(pwAuth)
	case "warn":
		rem = append(rem, k.form(t, "reenroll-authenticator-warning", "/idp/idx/challenge/answer",
			map[string]any{"name": "credentials", "type": "object", "required": true, "form": map[string]any{"value": []any{
				map[string]any{"name": "passcode", "label": "New password", "secret": true}}}}),
			k.form(t, "skip", "/idp/idx/skip"))
		out["currentAuthenticator"] = ionObject(pwAuth)
	case "enroll":
		var opts []any
		for _, o := range [][3]string{{"okta_verify", "app", "Okta Verify"}, {"google_otp", "app", "Google Authenticator"}, {"phone_number", "phone", "Phone"}} {
			opts = append(opts, map[string]any{"label": o[2], "value": map[string]any{"form": map[string]any{"value": []any{
				map[string]any{"name": "id", "required": true, "value": "aut" + oktaID(17), "mutable": false}}}}})
		}
		rem = append(rem, k.form(t, "select-authenticator-enroll", "/idp/idx/credential/enroll",
			map[string]any{"name": "authenticator", "type": "object", "options": opts}))
	case "done":
		out["success"] = map[string]any{"name": "success-redirect",
			"href": k.srv.URL + "/login/token/redirect?stateToken=" + t.token}
	}
	if len(auths) > 0 && t.stage != "password" && t.stage != "identify" {
		var as []any
		for _, a := range auths {
			as = append(as, a.json())
		}
		out["authenticators"] = ionArray(as...)
		var es []any
		for _, a := range auths {
			e := a.json()
			e["id"] = a.enrollID
			es = append(es, e)
		}
		out["authenticatorEnrollments"] = ionArray(es...)
	}
	if rem != nil {
		out["remediation"] = ionArray(rem...)
	}
	if len(t.msgs) > 0 {
		var ms []any
		for _, m := range t.msgs {
			ms = append(ms, idxMessage(m))
		}
		out["messages"] = ionArray(ms...)
	}
	return out
}
