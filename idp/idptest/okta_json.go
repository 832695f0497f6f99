package idptest

import (
	"net/http"
	"net/url"
	"strings"
	"time"
)

// The JSON shapes below follow Okta's Authentication API reference: the
// transaction object with _embedded {user, factors|factor, policy, target}
// and HAL _links whose entries carry hints.allow.

// link is one HAL link. Called with or without k.mu.
func (k *Okta) link(name, path, method string) map[string]any {
	l := map[string]any{"href": k.srv.URL + path, "hints": map[string]any{"allow": []string{method}}}
	if name != "" {
		l["name"] = name
	}
	return l
}

func oktaTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func (k *Okta) userJSON(u *oktaUser) map[string]any {
	login := u.Username
	first, last := login, "User"
	if local, _, ok := strings.Cut(login, "@"); ok {
		first = local
	}
	if a, b, ok := strings.Cut(first, "."); ok {
		first, last = a, b
	}
	return map[string]any{
		"id":              u.id,
		"passwordChanged": "2025-09-08T20:14:45.000Z",
		"profile": map[string]any{
			"login": login, "firstName": title(first), "lastName": title(last),
			"locale": "en_US", "timeZone": "America/Los_Angeles",
		},
	}
}

func title(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func vendorName(f *oktaFactor) string {
	if f.Type == "claims_provider" {
		return "Duo Security"
	}
	if f.Provider == "GOOGLE" {
		return "GOOGLE"
	}
	return f.Provider
}

// factorJSON is the factor object; withLinks adds its verify link (the
// MFA_REQUIRED list); challenge adds what the current challenge shows.
func (k *Okta) factorJSON(tx *oktaTx, f *oktaFactor, withLinks bool) map[string]any {
	login := tx.user.Username
	var profile map[string]any
	switch f.Type {
	case "push":
		profile = map[string]any{"credentialId": login, "deviceType": "SmartPhone_IPhone",
			"keys": []any{map[string]any{"kty": "EC", "use": "sig", "kid": "default", "crv": "P-256",
				"x": "3Y53lDoQYwzzVbjsbsPnqOnVaotIrVByQh5Sa-RwOHQ", "y": "0zHY_y9rVh-bq_-lR-MrmzlcKi4TzlO5MzmqRGqe06I"}},
			"name": "Gibson", "platform": "IOS", "version": "17.2"}
	case "token:software:totp", "token:hardware":
		profile = map[string]any{"credentialId": login}
	case "sms", "call":
		profile = map[string]any{"phoneNumber": "+1 XXX-XXX-1337"}
	case "email":
		profile = map[string]any{"email": maskEmail(login)}
	case "question":
		profile = map[string]any{"question": "favorite_sports_player", "questionText": "Who's your favorite sports player?"}
	case "webauthn":
		profile = map[string]any{"credentialId": "vdCxGVn6xGUuI2Fg05_yULbVVw2aSjRZ7lcuBQ6QYxRbgDoLM7pGNjVnVWuwn1CxAGIEvQt4fwYt2MJj8fKsSQ",
			"authenticatorName": "MacBook Touch ID"}
	case "web":
		profile = map[string]any{"credentialId": login}
	}
	m := map[string]any{
		"id": f.id, "factorType": f.Type, "provider": f.Provider, "vendorName": vendorName(f), "profile": profile,
	}
	if withLinks {
		m["_links"] = map[string]any{"verify": k.link("", "/api/v1/authn/factors/"+f.id+"/verify", "POST")}
	}
	if tx.factor != f || !tx.sent {
		return m
	}
	switch {
	case f.Type == "push" && tx.result == "WAITING" && tx.shown && f.CorrectAnswer > 0:
		m["_embedded"] = map[string]any{"challenge": map[string]any{"correctAnswer": f.CorrectAnswer}}
	case f.Type == "webauthn":
		m["_embedded"] = map[string]any{"challenge": map[string]any{
			"challenge":        "vygOPcUHYZvFD2-nAGzqpBYxFKWwz1ED",
			"userVerification": "preferred",
			"extensions":       map[string]any{"appid": k.srv.URL},
		}}
	case f.Type == "web":
		m["_embedded"] = map[string]any{"verification": map[string]any{
			"host":         "api-1234abcd.duosecurity.com",
			"signature":    "TX|dGVzdA==|ZmFrZQ:APP|dGVzdA==|ZmFrZQ",
			"factorResult": "WAITING",
			"_links": map[string]any{
				"complete": k.link("", "/api/v1/authn/factors/"+f.id+"/lifecycle/duoCallback", "POST"),
				"script":   map[string]any{"href": k.srv.URL + "/js/sections/duo/Duo-Web-v2.6.js", "type": "text/javascript; charset=utf-8"},
			},
		}}
	}
	return m
}

func maskEmail(login string) string {
	local, domain, ok := strings.Cut(login, "@")
	if !ok || local == "" {
		return "a...z@example.com"
	}
	return local[:1] + "...@" + domain
}

// writeTx writes tx in its current state. Called with k.mu held.
func (k *Okta) writeTx(w http.ResponseWriter, tx *oktaTx) {
	out := map[string]any{"expiresAt": oktaTime(tx.expires), "status": tx.status}
	emb := map[string]any{}
	links := map[string]any{}
	cancel := k.link("", "/api/v1/authn/cancel", "POST")
	if tx.kind != "" {
		out["type"] = tx.kind
		emb["target"] = map[string]any{"type": "APP", "name": "amazon_aws", "label": "Amazon Web Services",
			"_links": map[string]any{"logo": map[string]any{"name": "medium", "type": "image/png",
				"href": k.srv.URL + "/assets/img/logos/amazon-aws.png"}}}
		emb["authentication"] = map[string]any{"protocol": "SAML2.0",
			"issuer": map[string]any{"id": k.o.AppID, "name": "Amazon Web Services", "uri": k.issuer}}
	}
	if tx.status != "UNAUTHENTICATED" {
		emb["user"] = k.userJSON(tx.user)
	}
	switch tx.status {
	case "UNAUTHENTICATED":
		out["stateToken"] = tx.token
		links["next"] = k.link("authenticate", "/api/v1/authn", "POST")
	case "MFA_REQUIRED":
		out["stateToken"] = tx.token
		var fs []any
		for _, f := range tx.user.factors {
			fs = append(fs, k.factorJSON(tx, f, true))
		}
		emb["factors"] = fs
		emb["policy"] = map[string]any{"allowRememberDevice": true, "rememberDeviceLifetimeInMinutes": 0,
			"rememberDeviceByDefault": false, "factorsPolicyInfo": map[string]any{}}
		links["cancel"] = cancel
	case "MFA_CHALLENGE":
		out["stateToken"] = tx.token
		f := tx.factor
		verify := "/api/v1/authn/factors/" + f.id + "/verify"
		emb["factor"] = k.factorJSON(tx, f, false)
		emb["policy"] = map[string]any{"allowRememberDevice": true, "rememberDeviceLifetimeInMinutes": 0,
			"rememberDeviceByDefault": false, "factorsPolicyInfo": map[string]any{}}
		switch {
		case f.Type == "push" && tx.result != "":
			out["factorResult"] = tx.result
			if tx.result == "WAITING" {
				links["next"] = k.link("poll", verify, "POST")
			} else {
				links["next"] = k.link("verify", verify, "POST")
			}
		case f.Type == "webauthn":
			out["factorResult"] = "CHALLENGE"
			out["challengeType"] = "FACTOR"
			links["next"] = k.link("verify", verify, "POST")
		case f.Type == "web":
			out["factorResult"] = "WAITING"
			links["next"] = k.link("poll", verify, "POST")
		case f.Type == "claims_provider":
			out["factorResult"] = "CHALLENGE"
			links["next"] = map[string]any{"name": "redirect", "href": k.srv.URL + "/sso/idps/" + f.id + "?" + url.Values{"stateToken": {tx.token}}.Encode(),
				"hints": map[string]any{"allow": []string{"GET"}}}
		default:
			links["next"] = k.link("verify", verify, "POST")
		}
		links["cancel"] = cancel
		links["prev"] = k.link("", "/api/v1/authn/previous", "POST")
		switch f.Type {
		case "push", "sms", "call", "email":
			links["resend"] = []any{k.link(f.Type, verify+"/resend", "POST")}
		}
	case "MFA_ENROLL":
		out["stateToken"] = tx.token
		var fs []any
		for _, t := range [][2]string{{"token:software:totp", "OKTA"}, {"token:software:totp", "GOOGLE"}, {"push", "OKTA"}, {"sms", "OKTA"}} {
			fs = append(fs, map[string]any{
				"factorType": t[0], "provider": t[1], "vendorName": t[1],
				"_links": map[string]any{"enroll": k.link("", "/api/v1/authn/factors", "POST")},
				"status": "NOT_SETUP", "enrollment": "REQUIRED",
			})
		}
		emb["factors"] = fs
		links["cancel"] = cancel
	case "PASSWORD_EXPIRED", "PASSWORD_WARN":
		out["stateToken"] = tx.token
		pol := map[string]any{"complexity": map[string]any{"minLength": 8, "minLowerCase": 1, "minUpperCase": 1, "minNumber": 1, "minSymbol": 0}}
		if tx.status == "PASSWORD_WARN" {
			pol["expiration"] = map[string]any{"passwordExpireDays": 5}
			links["skip"] = k.link("skip", "/api/v1/authn/skip", "POST")
		}
		emb["policy"] = pol
		links["next"] = k.link("changePassword", "/api/v1/authn/credentials/change_password", "POST")
		links["cancel"] = cancel
	case "SUCCESS":
		tok := &oktaToken{user: tx.user, expires: time.Now().Add(oktaTxTTL)}
		st := k.secret("20111")
		k.tokens[st] = tok
		out["sessionToken"] = st
		if tx.kind == "SESSION_STEP_UP" {
			tok.stepUp, tok.sid = tx.sid != "", tx.sid
			out["stateToken"] = tx.token
			next := k.link("original", "/login/step-up/redirect?stateToken="+tx.token, "GET")
			links["next"] = next
		} else {
			delete(k.txs, tx.token)
		}
	}
	if len(emb) > 0 {
		out["_embedded"] = emb
	}
	if len(links) > 0 {
		out["_links"] = links
	}
	writeJSON(w, http.StatusOK, out)
}
