package okta

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/saml2sts/saml2sts/idp"
	"github.com/saml2sts/saml2sts/idp/duo"
)

// kind is how a factor is verified.
type kind int

const (
	unsupported kind = iota
	push             // send, then poll
	passcode         // one POST with a code the user has (TOTP, YubiKey, RSA)
	sendCode         // POST to send a code (SMS, call, email), then POST it back
	question         // security question answer
	duoPrompt        // Duo's Universal Prompt, answered by package duo
)

// choice is one factor as the user sees it.
type choice struct {
	f     factor
	name  string // the mfa name: push, totp, sms, call, email, yubikey ...
	label string // what the picker shows
	kind  kind
	body  map[string]any // IDX: the authenticator object to post
}

// describe names a factor for the mfa key and the picker. The names are
// the ones docs/okta.md lists.
func describe(f factor) choice {
	c := choice{f: f}
	typ, prov := strings.ToLower(f.FactorType), strings.ToUpper(f.Provider)
	phone := f.profileString("phoneNumber")
	switch {
	case typ == "push":
		c.name, c.kind, c.label = "push", push, "Okta Verify push"
		if n := f.profileString("name"); n != "" {
			c.label += " (" + n + ")"
		}
	case typ == "token:software:totp" && prov == "GOOGLE":
		c.name, c.kind, c.label = "totp", passcode, "Google Authenticator code"
	case typ == "token:software:totp":
		c.name, c.kind, c.label = "totp", passcode, "Okta Verify code"
	case typ == "token:hotp":
		c.name, c.kind, c.label = "hotp", passcode, "one-time code ("+orDefault(f.VendorName, "HOTP")+")"
	case typ == "token:hardware":
		c.name, c.kind, c.label = "yubikey", passcode, "YubiKey OTP"
	case typ == "token" && prov == "RSA":
		c.name, c.kind, c.label = "rsa", passcode, "RSA SecurID code"
	case typ == "token" && prov == "SYMANTEC":
		c.name, c.kind, c.label = "symantec", passcode, "Symantec VIP code"
	case typ == "sms":
		c.name, c.kind, c.label = "sms", sendCode, "SMS code to "+orDefault(phone, "your phone")
	case typ == "call":
		c.name, c.kind, c.label = "call", sendCode, "voice call to "+orDefault(phone, "your phone")
	case typ == "email":
		c.name, c.kind, c.label = "email", sendCode, "email code to "+orDefault(f.profileString("email"), "your address")
	case typ == "question":
		c.name, c.kind, c.label = "question", question, "security question"
	case typ == "webauthn" || typ == "u2f" || prov == "FIDO":
		c.name, c.label = "webauthn", "WebAuthn / FIDO security key or biometrics"
		if n := f.profileString("authenticatorName"); n != "" {
			c.label += " (" + n + ")"
		}
	case typ == "claims_provider":
		c.name, c.kind, c.label = "duo", duoPrompt, "Duo Universal Prompt ("+orDefault(f.VendorName, "custom IdP factor")+")"
	case prov == "DUO" || typ == "web":
		// Duo's traditional iframe prompt, which Duo ended in 2024.
		c.name, c.label = "duo", "Duo Security"
	default:
		c.name, c.label = typ, fmt.Sprintf("%s factor %q", orDefault(f.Provider, "unknown"), f.FactorType)
	}
	return c
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// matches reports whether the mfa setting names c: its short name, Okta's
// factorType, the provider, or saml2aws' "PROVIDER FACTORTYPE".
func (c choice) matches(mfa string) bool {
	m := strings.ToLower(strings.TrimSpace(mfa))
	typ, prov := strings.ToLower(c.f.FactorType), strings.ToLower(c.f.Provider)
	switch m {
	case c.name, typ, prov, prov + " " + typ, prov + ":" + typ:
		return true
	case "voice":
		return c.name == "call"
	case "otp", "code":
		return c.kind == passcode
	}
	return false
}

// unsupportedError explains a factor saml2sts cannot verify.
func unsupportedError(c choice, others []choice) error {
	hint := "enroll a supported factor (Okta Verify, an authenticator app, SMS, call, email or YubiKey OTP) in your Okta settings"
	var names []string
	for _, o := range others {
		if o.kind != unsupported {
			names = append(names, o.name)
		}
	}
	if len(names) > 0 {
		hint = "set mfa to one of your other factors: " + strings.Join(unique(names), ", ")
	}
	return &idp.UnsupportedError{What: "Okta factor " + c.label, Hint: hint}
}

func unique(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// pick chooses the Classic factor to verify.
func (l *login) pick(ctx context.Context, factors []factor) (choice, error) {
	cs := make([]choice, len(factors))
	for i, f := range factors {
		cs[i] = describe(f)
	}
	return l.pickChoice(ctx, cs)
}

// pickChoice chooses among the factors Okta offers: the one mfa names,
// else the only one, else the user's pick on a terminal, else (scripted)
// the one that needs no terminal: a code factor when --mfa-code is given,
// a push otherwise.
func (l *login) pickChoice(ctx context.Context, all []choice) (choice, error) {
	if len(all) == 0 {
		return choice{}, errors.New("okta: Okta asks for MFA but lists no factor you can use: enroll one in your Okta settings")
	}
	var ok []choice
	for _, c := range all {
		if c.kind != unsupported {
			ok = append(ok, c)
		}
	}
	mfa := strings.TrimSpace(l.req.MFA)
	if mfa != "" && !strings.EqualFold(mfa, "auto") {
		var named []choice
		for _, c := range all {
			if c.matches(mfa) {
				named = append(named, c)
			}
		}
		if len(named) == 0 && duo.IsMethod(mfa) {
			// push, passcode, call: Duo's factors, when Okta hands off to Duo.
			for _, c := range all {
				if c.kind == duoPrompt {
					named = append(named, c)
				}
			}
		}
		if len(named) == 0 {
			var names []string
			for _, c := range all {
				names = append(names, c.name)
			}
			return choice{}, idp.Configf("okta: mfa %q is not one of your Okta factors (%s): set mfa to one of them or to auto",
				mfa, strings.Join(unique(names), ", "))
		}
		var usable []choice
		for _, c := range named {
			if c.kind != unsupported {
				usable = append(usable, c)
			}
		}
		if len(usable) == 0 {
			return choice{}, unsupportedError(named[0], all)
		}
		return l.choose(ctx, usable)
	}
	if len(ok) == 0 {
		return choice{}, unsupportedError(all[0], all)
	}
	if l.req.MFACode != "" {
		// A code given up front means a scripted TOTP: do not ask which.
		for _, c := range ok {
			if c.kind == passcode {
				return c, nil
			}
		}
	}
	return l.choose(ctx, ok)
}

// choose asks among several factors; without a terminal it takes the one
// that can work unattended (a push), else the first.
func (l *login) choose(ctx context.Context, cs []choice) (choice, error) {
	labels := make([]string, len(cs))
	def := 0
	for i, c := range cs {
		labels[i] = c.label
		if c.kind == push && cs[def].kind != push {
			def = i
		}
	}
	i, err := l.in.Choose(ctx, "Okta factor", labels, def)
	if err != nil {
		return choice{}, err
	}
	if cs[i].kind == push && l.in.CodeGiven() {
		// Said, so that a scripted login waiting on a phone is no mystery.
		l.in.Notice("--mfa-code is not used: %s takes no code", cs[i].label)
	}
	return cs[i], nil
}
