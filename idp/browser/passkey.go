package browser

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
)

// Passkey is a software authenticator holding one credential, offered to
// the page through a DevTools virtual authenticator (CTAP2, internal
// transport, user verification). It exists for CI tests of an IdP's
// passkey sign-in; a real person uses their own security key or platform
// passkey in the window.
type Passkey struct {
	RPID         string `json:"rp_id"`
	CredentialID string `json:"credential_id"` // base64url
	PrivateKey   string `json:"private_key"`   // base64 PKCS#8, ECDSA P-256
	UserHandle   string `json:"user_handle,omitempty"`
	SignCount    int    `json:"sign_count,omitempty"`
}

// LoadPasskey reads a [Passkey] from a JSON file (SAML2STS_BROWSER_PASSKEY).
func LoadPasskey(path string) (*Passkey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("browser passkey: %w", err)
	}
	var k Passkey
	if err := json.Unmarshal(b, &k); err != nil {
		return nil, fmt.Errorf("browser passkey %s: %w", path, err)
	}
	if _, _, err := k.decode(); err != nil {
		return nil, fmt.Errorf("browser passkey %s: %w", path, err)
	}
	return &k, nil
}

func (k *Passkey) decode() (id, key []byte, err error) {
	if id, err = base64.RawURLEncoding.DecodeString(k.CredentialID); err != nil || len(id) == 0 {
		return nil, nil, fmt.Errorf("credential_id is not base64url")
	}
	if key, err = base64.StdEncoding.DecodeString(k.PrivateKey); err != nil {
		return nil, nil, fmt.Errorf("private_key is not base64")
	}
	if _, err := x509.ParsePKCS8PrivateKey(key); err != nil {
		return nil, nil, fmt.Errorf("private_key is not a PKCS#8 key: %v", err)
	}
	if k.RPID == "" {
		return nil, nil, fmt.Errorf("rp_id is empty")
	}
	return id, key, nil
}

// install adds the virtual authenticator and the credential to the tab.
func (k *Passkey) install(tab context.Context) error {
	id, key, err := k.decode()
	if err != nil {
		return err
	}
	off := false
	if _, err := chromedp.Call(tab, webauthn.Enable, webauthn.EnableParams{EnableUI: &off}); err != nil {
		return fmt.Errorf("browser passkey: %w", err)
	}
	res, err := chromedp.Call(tab, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{Options: &webauthn.VirtualAuthenticatorOptions{
		Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21, Transport: webauthn.AuthenticatorTransportInternal,
		HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true,
		// cdproto always sends generateCmtgKeyOnNextOperation, which
		// Chrome refuses from an authenticator without the extension.
		HasCmtgKey: true,
	}})
	if err != nil {
		return fmt.Errorf("browser passkey: %w", err)
	}
	var handle []byte
	if k.UserHandle != "" {
		handle, _ = base64.RawURLEncoding.DecodeString(k.UserHandle)
	}
	_, err = chromedp.Call(tab, webauthn.AddCredential, webauthn.AddCredentialParams{AuthenticatorID: res.AuthenticatorID, Credential: &webauthn.Credential{
		CredentialID: id, RpID: k.RPID, PrivateKey: key, UserHandle: handle, SignCount: float64(k.SignCount), IsResidentCredential: len(handle) > 0,
	}})
	if err != nil {
		return fmt.Errorf("browser passkey: %w", err)
	}
	return nil
}
