// Package keycloak logs in to Keycloak through a SAML client's
// IdP-initiated SSO URL and returns the SAMLResponse Keycloak would post to
// AWS.
//
// It drives the pages a browser would see: the optional Kerberos fallback
// page, the login form (old, base and keycloak.v2 themes, and custom themes
// with a username and a password field), and the OTP form with one or
// several authenticators. Keycloak answers HTTP 200 whether or not the
// login worked, so every page is classified and anything unknown ends the
// login with a typed error instead of a retry: a login never posts the
// password twice.
package keycloak
