package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/saml2sts/saml2sts/cache"
	"github.com/saml2sts/saml2sts/idp"
	"github.com/saml2sts/saml2sts/idp/providers"
	"github.com/saml2sts/saml2sts/internal/broker"
	"github.com/saml2sts/saml2sts/internal/clock"
	"github.com/saml2sts/saml2sts/internal/config"
	"github.com/saml2sts/saml2sts/internal/httpx"
	"github.com/saml2sts/saml2sts/internal/prompt"
	"github.com/saml2sts/saml2sts/opensearch"
	"github.com/saml2sts/saml2sts/sts"
)

// configPath is --config, else the environment's default.
func (f *factory) configPath() string {
	if f.g.config != "" {
		return f.g.config
	}
	return config.Path(f.getenv)
}

func (f *factory) profileName() string { return config.ProfileName(f.g.profile, f.getenv) }

// profile resolves the selected profile with flag overrides (keyed by
// config key name).
func (f *factory) profile(overrides map[string]string) (*config.Profile, error) {
	file, err := config.Load(f.configPath())
	if err != nil {
		return nil, err
	}
	return config.Resolve(file, f.profileName(), f.getenv, overrides)
}

// overrides collects the changed flags among names (flag names are config
// keys with '-' for '_').
func overrides(flags *pflag.FlagSet, keys ...string) map[string]string {
	m := map[string]string{}
	// Every command that can log in has --browser and --headless.
	if fl := flags.Lookup("browser"); fl != nil && fl.Changed {
		m["browser"] = fl.Value.String()
	}
	if fl := flags.Lookup("headless"); fl != nil && fl.Changed {
		m["browser_headless"] = fl.Value.String()
	}
	for _, k := range keys {
		name := strings.ReplaceAll(k, "_", "-")
		if fl := flags.Lookup(name); fl != nil && fl.Changed {
			m[k] = fl.Value.String()
		}
	}
	return m
}

// httpClient is a client on the shared transport, for one-off AWS calls.
func (f *factory) httpClient() (*http.Client, error) {
	rt, err := f.transport()
	if err != nil {
		return nil, err
	}
	return &http.Client{Transport: rt, Timeout: 30 * time.Second}, nil
}

// region is the profile's region, else the one the credentials were
// minted in.
func region(p *config.Profile, r *broker.Result) string {
	if p.Region != "" {
		return p.Region
	}
	return r.Region
}

// transport is built on first use: cached answers make no request.
func (f *factory) transport() (http.RoundTripper, error) {
	o := httpx.Options{CABundle: f.g.caBundle, Getenv: f.getenv}
	if f.debug() {
		o.Trace = f.errOut
	}
	return httpx.NewLazyTransport(o), nil
}

func (f *factory) debug() bool {
	return f.g.debug || envTrue(f.getenv("SAML2STS_DEBUG"))
}

func (f *factory) prompter() idp.Prompter {
	noInput := f.g.noInput || envTrue(f.getenv("SAML2STS_NO_INPUT"))
	switch {
	case f.noTTY || noInput && f.tty != nil:
		return prompt.None{}
	case f.tty != nil:
		return prompt.New(f.tty, f.tty)
	}
	return prompt.Open(noInput)
}

// checkProfile has the profile's adapter check its url, mfa and options
// without the network: a setting no login could work with is refused by
// configure before it is written, and by login before anything is sent.
func checkProfile(p *config.Profile) error {
	if p.Provider == "" || p.URL == "" {
		return nil // configure in steps; login says what is missing
	}
	r, ok := providers.Lookup(p.Provider)
	if !ok {
		return nil
	}
	c, ok := r.New().(idp.Checker)
	if !ok {
		return nil
	}
	return c.Check(&idp.Request{URL: p.URL, MFA: p.MFA, Options: p.Options})
}

// store opens the cache backend the profile asks for.
func (f *factory) store(mode string) (cache.Store, string, error) {
	dir, err := f.cacheDir()
	if err != nil {
		return nil, "", err
	}
	// Before anything reads it: a dir others could write is emptied.
	if err := cache.PrivateDir(dir, f.errOut); err != nil {
		return nil, "", err
	}
	s, err := cache.Open(mode, dir, f.errOut)
	return s, dir, err
}

// broker builds the pipeline for one profile.
func (f *factory) broker(p *config.Profile) (*broker.Broker, error) {
	if u, err := url.Parse(p.URL); err == nil {
		f.idpHost = u.Hostname()
	}
	rt, err := f.transport()
	if err != nil {
		return nil, err
	}
	s, dir, err := f.store(p.Cache)
	if err != nil {
		return nil, err
	}
	provs := providers.New()
	if err := f.withBrowser(provs, p, dir); err != nil {
		return nil, err
	}
	b := &broker.Broker{
		Store:     s,
		Dir:       dir,
		Providers: provs,
		Transport: rt,
		Prompt:    f.prompter(),
		Notice:    f.errOut,
		Now:       f.now,
		Clock:     f.clock(),
		Getenv:    f.getenv,
		SigninURL: f.getenv(signinURLEnv),
		NewSTS: func(ctx context.Context, region string) (broker.STS, error) {
			return f.stsClient(ctx, region, &http.Client{Transport: rt, Timeout: 60 * time.Second})
		},
	}
	if f.debug() {
		// The dir is made at the first saved page, in the environment's
		// temp dir (TMPDIR; os.TempDir when unset and on Windows).
		parent := ""
		if runtime.GOOS != "windows" {
			parent = f.getenv("TMPDIR")
		}
		b.Debug = &idp.DirDebugger{Parent: parent, W: f.errOut}
	}
	return b, nil
}

// clock is the run's clock (Process.Now and After): IdP logins and
// OpenSearch retries wait on it.
func (f *factory) clock() runClock { return runClock{f.now, f.after} }

// sleep waits d on the run's clock, or until ctx ends.
func (f *factory) sleep(ctx context.Context, d time.Duration) error {
	return clock.Sleep(ctx, f.clock(), d)
}

// retry is the OpenSearch retry policy's defaults, on the run's clock.
func (f *factory) retry() opensearch.Retry { return opensearch.Retry{Sleep: f.sleep, Now: f.now} }

// stsClient is an STS client configured from this run's environment.
func (f *factory) stsClient(ctx context.Context, region string, hc *http.Client) (*sts.Client, error) {
	return sts.NewClient(ctx, sts.ClientOptions{Region: region, HTTPClient: hc, Getenv: f.getenv, Now: f.now})
}

// trustedCommand runs pw, the profile's password_command, only when the
// profiles file that holds it could not have been written by another
// local user: such a file does not get to choose a command we run.
func trustedCommand(p *config.Profile, pw func(context.Context) (string, error)) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		if p.File != "" {
			if err := config.CheckTrusted(p.File); err != nil {
				return "", err
			}
		}
		return pw(ctx)
	}
}

// passwordCommand runs the profile's password_command, in our environment;
// its stdout (without the trailing newline) is the password. Its output
// never reaches our streams.
func (f *factory) passwordCommand(command string) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		// A password manager waiting for a pinentry nobody sees must not
		// hold the profile lock forever.
		ctx, cancel := context.WithTimeout(ctx, passwordCommandTimeout)
		defer cancel()
		var out, errb bytes.Buffer
		c := shellCommand(ctx, command)
		c.Env, c.Stdout, c.Stderr = f.env.environ(), &out, &errb
		if err := c.Run(); err != nil {
			if ctx.Err() == context.DeadlineExceeded {
				err = fmt.Errorf("no answer within %s", passwordCommandTimeout)
			}
			// Its first stderr line says why (gpg, pass, op); stdout may
			// hold the password and is never shown.
			why, _, _ := strings.Cut(strings.TrimSpace(errb.String()), "\n")
			if len(why) > 200 {
				why = why[:200]
			}
			if why != "" {
				why = ": " + why
			}
			return "", fmt.Errorf("password_command failed (%v%s): check it runs on its own: %s", err, why, command)
		}
		pw := strings.TrimRight(out.String(), "\r\n")
		if pw == "" {
			return "", fmt.Errorf("password_command printed nothing: %s", command)
		}
		return pw, nil
	}
}

const passwordCommandTimeout = 2 * time.Minute

// noTerminalWait bounds how long a caller with no terminal waits for
// another process's login: long enough for an MFA push, short enough for
// an IDE. The broker asks for the terminal only when it must wait.
const noTerminalWait = 3 * time.Minute

// lockWait is noTerminalWait for a broker without a terminal, else 0.
func lockWait(b *broker.Broker) time.Duration {
	if idp.Interactive(b.Prompt) {
		return 0
	}
	return noTerminalWait
}

// envTrue reads a boolean environment variable: unset, "", 0, false, no
// and off are false.
func envTrue(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "0", "false", "no", "off":
		return false
	}
	return true
}

// readPassword reads the password from r once (for --password-stdin).
func readPassword(r io.Reader) func(context.Context) (string, error) {
	return func(context.Context) (string, error) {
		b, err := io.ReadAll(io.LimitReader(r, 64<<10))
		if err != nil {
			return "", fmt.Errorf("read password from stdin: %w", err)
		}
		pw := strings.TrimRight(string(b), "\r\n")
		if pw == "" {
			return "", usageErrorf("--password-stdin: stdin was empty")
		}
		return pw, nil
	}
}

// silentPassword is the source for non-interactive refreshes:
// password_command when set, else the terminal prompt (which fails fast
// without a terminal).
func (f *factory) silentPassword(p *config.Profile) func(context.Context) (string, error) {
	if p.PasswordCommand != "" {
		return trustedCommand(p, f.passwordCommand(p.PasswordCommand))
	}
	return nil
}

// explicitConfig is the absolute path of the config file when --config or
// SAML2STS_CONFIG chose it, else "": commands we suggest or write for later
// runs must name it, as those runs may not share our directory or
// environment.
func (f *factory) explicitConfig() string {
	if f.g.config == "" && f.getenv("SAML2STS_CONFIG") == "" {
		return ""
	}
	path := f.configPath()
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	return path
}

// loginHint is the login command for p, with --config when it was given.
func (f *factory) loginHint(p *config.Profile) string {
	h := "saml2sts login"
	if p.Name != "default" {
		h += " --profile " + shellQuote(p.Name)
	}
	if f.g.config != "" {
		h += " --config " + shellQuote(f.explicitConfig())
	}
	return h
}

// credentials is the common path of credential-process, exec, env and whoami.
func (f *factory) credentials(ctx context.Context, cmd *cobra.Command, keys ...string) (*config.Profile, *broker.Result, error) {
	p, err := f.profile(overrides(cmd.Flags(), keys...))
	if err != nil {
		return nil, nil, err
	}
	b, err := f.broker(p)
	if err != nil {
		return nil, nil, err
	}
	r, err := b.Credentials(ctx, p, f.silentOptions(p, b))
	return p, r, err
}

// silentOptions are the broker options of callers that renew without
// asking anyone (credential-process, exec, env, os, search): password_command
// when set, a bounded wait for another login, the renewal backoff.
func (f *factory) silentOptions(p *config.Profile, b *broker.Broker) broker.Options {
	return broker.Options{
		Password:        f.silentPassword(p),
		PasswordCommand: p.PasswordCommand != "",
		LoginHint:       f.loginHint(p),
		NoTerminalWait:  noTerminalWait,
	}
}

// cacheDir is where the file cache, the index and IdP sessions live.
func (f *factory) cacheDir() (string, error) { return cache.Dir(runtime.GOOS, f.getenv) }
