package idptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
)

// WebAuthnKey is a registered WebAuthn credential: its ID and its P-256
// public key (COSE ES256), as a security key or passkey gives at
// registration.
type WebAuthnKey struct {
	ID        []byte
	PublicKey *ecdsa.PublicKey
}

// rpID is the relying party ID: the host the pages are served from.
func (k *Keycloak) rpID() string {
	u, _ := url.Parse(k.base)
	return u.Hostname()
}

// verifyWebAuthn checks a WebAuthn assertion as Keycloak's
// WebAuthnAuthenticator does: a registered credential, clientDataJSON of
// type webauthn.get with this page's challenge and our origin, the rpIdHash
// of our RP ID, user presence and verification flags, and the ES256
// signature over authenticatorData || SHA-256(clientDataJSON). Called
// with k.mu held.
func (k *Keycloak) verifyWebAuthn(f *flow, form url.Values) error {
	if form.Get("error") != "" {
		return errors.New("the browser reported an error")
	}
	dec := func(name string) []byte {
		b, err := base64.RawURLEncoding.DecodeString(form.Get(name))
		if err != nil {
			return nil
		}
		return b
	}
	credID, clientData, authData, sig := dec("credentialId"), dec("clientDataJSON"), dec("authenticatorData"), dec("signature")
	var key *WebAuthnKey
	for i := range f.user.WebAuthn {
		if bytes.Equal(f.user.WebAuthn[i].ID, credID) {
			key = &f.user.WebAuthn[i]
		}
	}
	if key == nil || len(credID) == 0 {
		return errors.New("unknown credential")
	}
	var cd struct {
		Type, Challenge, Origin string
	}
	if err := json.Unmarshal(clientData, &cd); err != nil {
		return errors.New("bad clientDataJSON")
	}
	if cd.Type != "webauthn.get" || cd.Challenge != base64.RawURLEncoding.EncodeToString(f.challenge) || cd.Origin != k.base || len(f.challenge) == 0 {
		return errors.New("clientDataJSON does not match the challenge or origin")
	}
	f.challenge = nil // one use
	rpHash := sha256.Sum256([]byte(k.rpID()))
	if len(authData) < 37 || !bytes.Equal(authData[:32], rpHash[:]) {
		return errors.New("rpIdHash mismatch")
	}
	const up, uv = 0x01, 0x04
	if authData[32]&up == 0 || authData[32]&uv == 0 {
		return errors.New("user not present or not verified")
	}
	h := sha256.New()
	h.Write(authData)
	cdHash := sha256.Sum256(clientData)
	h.Write(cdHash[:])
	if !ecdsa.VerifyASN1(key.PublicKey, h.Sum(nil), sig) {
		return errors.New("bad signature")
	}
	return nil
}

// webAuthnJS stands in for Keycloak's webauthnAuthenticate.js: it asks the
// browser for an assertion of one of the listed credentials and posts it
// (base64url fields) in form#webauth, or the error.
const webAuthnJS = `const b64 = buf => btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const unb64 = s => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), c => c.charCodeAt(0));
export async function authenticateByWebAuthn(input) {
  const allow = [...document.querySelectorAll('form#authn_select input[name=authn_use_chk]')].map(i => ({type: 'public-key', id: unb64(i.value)}));
  const form = document.getElementById('webauth');
  try {
    const cred = await navigator.credentials.get({publicKey: {challenge: unb64(input.challenge), rpId: input.rpId,
      allowCredentials: allow, userVerification: input.userVerification === 'not specified' ? 'preferred' : input.userVerification}});
    const r = cred.response;
    form.clientDataJSON.value = b64(r.clientDataJSON);
    form.authenticatorData.value = b64(r.authenticatorData);
    form.signature.value = b64(r.signature);
    form.credentialId.value = cred.id;
    if (r.userHandle) form.userHandle.value = b64(r.userHandle);
  } catch (e) {
    form.error.value = String(e);
  }
  form.submit();
}
`
