// Package form logs in to any SAML IdP that shows a plain HTML login form
// (SimpleSAMLphp, Shibboleth, Keycloak, PingFederate, Authentik, ...) and
// returns the SAMLResponse the IdP would post to AWS.
//
// It starts at the profile's IdP-initiated sign-on URL and walks pages the
// way a browser without JavaScript would: redirects are followed by the
// HTTP client, pages that only submit themselves are submitted, and on
// each other page the login form (a form with one password input) is
// filled in. The username input is guessed from autocomplete, type, name
// and id; a form with a single code-looking input asks for a one-time
// code. The profile keys form_username_field, form_password_field and
// form_error_selector override the guesses (see [idp.Request.Options]).
//
// The password is posted at most once: the login form shown again after it
// was sent means the IdP refused it, reported as an [idp.AuthError] with
// the page's own error text. Any page the adapter cannot get past, and
// running out of steps, end the login with an [idp.PageError].
package form
