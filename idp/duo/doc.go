// Package duo answers Duo's Universal Prompt wherever an identity provider
// hands the login off to Duo: Okta's Duo factor, AD FS's Duo adapter, and
// the Shibboleth and SimpleSAMLphp Duo Universal modules that redirect the
// browser to Duo. It imports only package idp.
//
// An adapter that meets a page [IsHandoff] recognises (or, like Okta, a
// link to Duo) calls [Login] (or [LoginURL]) and gets back the first page
// at the IdP after Duo: the SAML form, or the IdP's next step.
//
// Both prompt generations are driven without a browser: the frameless v4
// prompt (plugin form, /frame/frameless/v4/auth, a login-form with sid and
// _xsrf, /frame/v4/prompt, polls of /frame/v4/status, /frame/v4/oidc/exit,
// then duo_code and state back to the IdP) and Duo's newer prompt (a root
// element with data-authkey and /prompt/{akey}/... JSON endpoints).
//
// Factors: Duo Push to the default device or the profile's duo_device
// (with Verified Push, the code Duo shows is printed for the user to type
// on the phone), passcode (--mfa-code, or asked once per try), phone call.
// WebAuthn needs a browser: the error says to run again with --browser.
// When the admin allows remembered devices the prompt's "trust this
// browser" is answered yes, so Duo's cookie in the stored jar spares the
// next silent login a push. sid, _xsrf, txid, authkey, duo_code, state and
// passcodes are registered with [idp.Inputs] and never shown.
//
// All knowledge of Duo's pages (paths, form fields, JSON shapes, status
// codes, factor names) is in pages.go: a change of Duo's pages is a change
// of that one file. duo.go only speaks of methods, devices and states.
package duo
