// Package idp holds what every identity-provider adapter shares: the
// [Provider] interface, the HTTP client (TLS, proxies, loopback-only plain
// HTTP, redacted debug trace), a cookie jar that can be saved so a later run
// can reuse the IdP session, HTML-form helpers, and SAMLResponse extraction.
//
// [Inputs] is the per-login bookkeeping every adapter needs the same way:
// the password asked at most once, --mfa-code spent before any prompt, a
// picker that falls back to a default without a terminal, and the secrets
// scrubbed from every error, notice and saved debug page.
//
// [Walker] is the page loop of an HTML login: it fetches and counts pages,
// stops after its page budget with the one "still no SAML response after N
// pages" error, and builds [PageError]s that save a redacted copy of the
// page with --debug. [Poller] is the wait for a push or number match: an
// interval, a deadline and a [Clock] that tests replace (idptest.Clock), so
// no test sleeps. Adapters take that clock from [Request.Clock], which the
// CLI sets to its run's clock. New adapters build their loops on these two.
//
// Adapters live in sub-packages (keycloak, okta, adfs, entra, form) and return
// typed errors that declare their exit code with an ExitCode() int method
// (internal/exitcode): [ConfigError] 2, [AuthError] and [TimeoutError] 3,
// [ErrNoTerminal] 4, [PageError] and [UnsupportedError] 1.
package idp
