package cli

import (
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/saml2sts/saml2sts/idp"
	"github.com/saml2sts/saml2sts/idp/browser"
	"github.com/saml2sts/saml2sts/internal/broker"
	"github.com/saml2sts/saml2sts/internal/config"
)

// addBrowserFlags adds --browser[=MODE] and --headless to a command that
// can log in; overrides turns them into the browser keys.
func addBrowserFlags(fl *pflag.FlagSet) {
	fl.String("browser", "", "log in through the local Chrome/Chromium: --browser (always), --browser=fallback or --browser=never")
	fl.Lookup("browser").NoOptDefVal = browser.Always
	fl.Bool("headless", false, "browser login without a window (the default when there is no display)")
}

// browserDir is the profile's browser state directory under the cache
// directory; logout deletes it.
func browserDir(cacheDir, profile string) string { return filepath.Join(cacheDir, "browser", profile) }

// withBrowser wraps the profile's adapter in the browser provider when
// the profile's browser mode asks for it.
func (f *factory) withBrowser(provs map[string]idp.Provider, p *config.Profile, cacheDir string) error {
	if p.Browser == "" || p.Browser == browser.Never {
		return nil
	}
	cfg := browser.Config{Mode: p.Browser, Headless: p.BrowserHeadless, Path: p.BrowserPath, Timeout: p.BrowserTimeout,
		Dir: browserDir(cacheDir, p.Name), Identity: broker.Identity(p), Getenv: f.getenv}
	if f.debug() {
		cfg.Trace = f.errOut
	}
	if path := f.getenv("SAML2STS_BROWSER_PASSKEY"); path != "" {
		k, err := browser.LoadPasskey(path)
		if err != nil {
			return idp.Configf("SAML2STS_BROWSER_PASSKEY: %v", err)
		}
		cfg.Passkey = k
	}
	if next, ok := provs[p.Provider]; ok {
		provs[p.Provider] = browser.New(next, cfg)
	}
	return nil
}
