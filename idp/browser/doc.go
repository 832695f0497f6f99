// Package browser logs in through the Chrome, Chromium, Edge or Brave
// already installed on the machine, driven over the DevTools protocol
// (chromedp, through a pipe: no debugging port, no driver, nothing
// downloaded). It is for the steps only a person can do: passkeys and
// security keys, pushes, Conditional Access and device checks, pages built
// by JavaScript.
//
// The browser runs with a private user-data directory per profile
// identity under the cache directory. The Fetch domain intercepts the
// POST to every AWS SAML sign-in endpoint, takes the SAMLResponse from its
// body and answers it locally, so the assertion never reaches AWS from
// the browser. Cookies are carried over in the login's [idp.Jar], which
// the broker stores in the keyring like any IdP session: session cookies
// (which a browser drops on restart) survive, and a later headless run
// re-mints without a window.
//
// Where the live page shows a login or one-time-code form that the form
// adapter's heuristics recognise ([form.Find]) and the value is known, it
// is typed in through DevTools; everything else is left to the person in
// the window. [Provider] wraps a provider adapter: "always" uses the
// browser, "fallback" only when the adapter stops at a step it cannot do.
package browser
