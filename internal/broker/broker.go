package broker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/saml2sts/saml2sts/cache"
	"github.com/saml2sts/saml2sts/idp"
	"github.com/saml2sts/saml2sts/internal/config"
	"github.com/saml2sts/saml2sts/internal/credrec"
	"github.com/saml2sts/saml2sts/internal/exitcode"
	"github.com/saml2sts/saml2sts/sts"
)

// STS is the part of the STS client the broker uses.
type STS interface {
	AssumeRoleWithSAML(ctx context.Context, a *sts.Assertion, role sts.Role, d time.Duration) (*sts.Result, error)
}

// Broker hands out credentials for profiles. Fields are dependencies; the
// zero value is not usable.
type Broker struct {
	Store     cache.Store
	Dir       string // cache directory: locks and the status index
	Providers map[string]idp.Provider
	NewSTS    func(ctx context.Context, region string) (STS, error)
	Transport http.RoundTripper // shared transport for IdP traffic
	Prompt    idp.Prompter
	Debug     idp.Debugger // nil unless --debug
	Notice    io.Writer    // one-line notices (stderr)
	Now       func() time.Time
	// Clock is the IdP login's (idp.Request.Clock): its waits for push
	// answers and rate limits; nil is the system clock. Give it the time
	// of Now.
	Clock idp.Clock
	// Getenv is the environment adapters read (KRB5CCNAME, ...); nil is
	// os.Getenv.
	Getenv func(string) string
	// Jitter returns a number in [0, 1) to spread backoff steps; nil is
	// crypto/rand (tests fix it).
	Jitter func() float64
	// SigninURL replaces the AWS sign-in host the assertion is posted to
	// for account names (SAML2STS_SIGNIN_URL; tests, emulators).
	SigninURL string

	triedNames bool // account names were fetched once in this process
}

// Options are per-call choices.
type Options struct {
	// Force ignores the cached credentials and the stored IdP session.
	Force bool
	// Password supplies the password (stdin, password_command, prompt);
	// nil means ask Prompt.
	Password func(ctx context.Context) (string, error)
	MFACode  string
	// LoginHint is the command to suggest when a login needs a terminal.
	LoginHint string
	// LockWait bounds the wait for another process's login (0: no bound).
	// Callers without a terminal set it, so an IDE never hangs behind a
	// login that sits at a password prompt elsewhere.
	LockWait time.Duration
	// NoTerminalWait is LockWait for callers that have no terminal, found
	// out only when the lock is contended: a warm call never opens the
	// terminal (/dev/tty) just to learn it needs none.
	NoTerminalWait time.Duration
	// Rejected is the access key ID of credentials a server refused as
	// expired: a cached record holding it is renewed (through the stored
	// IdP session) even when the local clock says it is fresh (clock skew,
	// an ended session). Another key in the cache means another process
	// renewed already, and that one is served.
	Rejected string
	// PasswordCommand says Password runs the profile's password_command:
	// an output the IdP rejected is remembered and never sent again.
	PasswordCommand bool
	// Interactive is a person asking (saml2sts login): the renewal backoff
	// does not apply, a login failure is reported rather than covered by
	// still-valid credentials, and a success clears what the IdP rejected.
	Interactive bool
	// Shared, when set, lets the profiles of one command that share an IdP
	// identity use one IdP login (login --profile a --profile b).
	Shared *SharedLogin
	// Ahead renews credentials that are still fresh but will enter the
	// refresh window within this long (the credential server renews in
	// the background before its clients need it).
	Ahead time.Duration
}

// BusyError is a login by another process that did not finish within
// Options.LockWait.
type BusyError struct {
	Profile string
	Waited  time.Duration
	Hint    string
}

func (e *BusyError) Error() string {
	return fmt.Sprintf("another saml2sts process has been logging in to %q for over %s (waiting for input?); finish it or run: %s",
		e.Profile, e.Waited.Round(time.Second), e.Hint)
}

// ExitCode implements the exit-status contract (internal/exitcode).
func (e *BusyError) ExitCode() int { return exitcode.Failure }

// Record is what is cached per profile (the format is credrec's, shared
// with the saml2sts-credential-process helper).
type Record = credrec.Record

// Result says where the credentials came from.
type Result struct {
	Record
	Cached bool // served from the cache without a login
	// Renewal is why these still-valid credentials were not renewed
	// although they are due (a failed or paused renewal); nil otherwise.
	Renewal error
	// RetryAt is when an automatic renewal will be tried again (the end
	// of the backoff step), when Renewal is set.
	RetryAt time.Time
}

// RoleError is a role choice that cannot be met: not granted, or several
// granted and no way to choose.
type RoleError struct {
	Want      string // role_arn asked for, "" if none
	Principal string // principal_arn asked for, "" if none
	Granted   []sts.Role
	// Names are account aliases by account ID, shown next to the ARNs.
	Names map[string]string
}

func (e *RoleError) Error() string {
	var arns []string
	for _, r := range e.Granted {
		s := r.RoleARN
		if n := e.Names[r.AccountID()]; n != "" {
			s += " [" + n + "]"
		}
		if e.Principal != "" {
			// The provider is what did not match: show it.
			s += " (via " + r.PrincipalARN + ")"
		}
		arns = append(arns, s)
	}
	granted := strings.Join(arns, ", ")
	switch {
	case e.Want != "" && e.Principal != "":
		return fmt.Sprintf("role %s is not granted through SAML provider %s; granted: %s", e.Want, e.Principal, granted)
	case e.Want != "":
		return fmt.Sprintf("role %s is not granted by the IdP; granted: %s", e.Want, granted)
	case e.Principal != "":
		return fmt.Sprintf("no role is granted through SAML provider %s: fix principal_arn; granted: %s", e.Principal, granted)
	}
	return fmt.Sprintf("the IdP grants %d roles and none was chosen: pass --role-arn (or set role_arn) to one of: %s",
		len(e.Granted), granted)
}

// ExitCode implements the exit-status contract (internal/exitcode).
func (e *RoleError) ExitCode() int { return exitcode.Usage }

// NeedLoginError is a refresh that needs the user while no terminal is
// attached. It wraps idp.ErrNoTerminal.
type NeedLoginError struct{ Hint string }

func (e *NeedLoginError) Error() string {
	return "a login is needed and there is no terminal to ask on; run: " + e.Hint
}

// ExitCode implements the exit-status contract (internal/exitcode).
func (e *NeedLoginError) ExitCode() int { return exitcode.NoTerminal }

func (e *NeedLoginError) Unwrap() error { return idp.ErrNoTerminal }

// Cached returns the profile's cached record, or cache.ErrNotFound.
func (b *Broker) Cached(p *config.Profile) (*Record, error) {
	raw, err := b.Store.Get(cache.CredsKey(p.Name))
	if err != nil {
		return nil, err
	}
	r, ok := credrec.Decode(raw)
	if !ok {
		return nil, cache.ErrNotFound // corrupt entry: a miss, re-login
	}
	return r, nil
}

// want is what the profile, as configured, asks of a cached record.
func want(p *config.Profile, ahead time.Duration) credrec.Want {
	return credrec.Want{Identity: identity(p), RoleARN: p.RoleARN, Window: p.RefreshWindow + ahead, Chain: p.ChainRoleARN}
}

// Fresh returns the profile's cached record when it may be served as is
// (the profile's identity, outside the refresh window): no lock, no login,
// no network. Shell completion uses it.
func (b *Broker) Fresh(p *config.Profile) (*Record, bool) {
	r, err := b.Cached(p)
	if err != nil || !b.fits(r, p, 0) {
		return nil, false
	}
	return r, true
}

// fits reports whether a cached record answers the profile as configured.
func (b *Broker) fits(r *Record, p *config.Profile, ahead time.Duration) bool {
	return credrec.Serves(r, want(p, ahead), b.Now())
}

// sameIdentity reports whether r was minted for p as configured now.
func sameIdentity(r *Record, p *config.Profile) bool { return credrec.SameIdentity(r, want(p, 0)) }

// storedSession is the IdP cookie jar with the identity it belongs to: a
// Keycloak session of user A must never log in a profile now set to user B.
type storedSession struct {
	Identity string          `json:"identity"`
	Jar      json.RawMessage `json:"jar"`
}

// session returns the saved cookie jar for p, or nil when there is none or
// it was saved for another identity.
func (b *Broker) session(p *config.Profile) []byte {
	if s, ok := b.storedSession(p.Name); ok && s.Identity == identity(p) {
		return s.Jar
	}
	return nil
}

func (b *Broker) storedSession(profile string) (storedSession, bool) {
	var s storedSession
	raw, err := b.Store.Get(cache.SessionKey(profile))
	return s, err == nil && json.Unmarshal(raw, &s) == nil
}

func (b *Broker) saveSession(p *config.Profile, jar []byte) error {
	raw, err := json.Marshal(storedSession{Identity: identity(p), Jar: jar})
	if err != nil {
		return err
	}
	return b.Store.Set(cache.SessionKey(p.Name), raw)
}

// Identity is the fingerprint of the settings that decide whose
// credentials p gets; state kept per identity (the browser profile) is
// bound to it.
func Identity(p *config.Profile) string { return identity(p) }

// identity fingerprints the settings that decide whose credentials a
// profile gets.
func identity(p *config.Profile) string {
	return credrec.Identity(p.Provider, p.URL, p.Username, p.PrincipalARN)
}

// Credentials returns fresh credentials for p, logging in when needed.
//
// A renewal that fails (IdP down or refusing, STS error, no terminal)
// never takes away credentials that are still valid: they are served with
// a one-line notice saying what failed and until when they last, unless
// the caller is a person logging in (Options.Interactive), asked for a
// new login (Force), or was told they are revoked (Options.Rejected). The
// failure starts a backoff shared by every process of the identity, during
// which automatic renewals do not call the IdP or STS at all.
func (b *Broker) Credentials(ctx context.Context, p *config.Profile, o Options) (*Result, error) {
	r, err := b.Cached(p)
	if err != nil && !errors.Is(err, cache.ErrNotFound) {
		// A store that cannot be read cannot keep a login either: fail
		// before asking for a password or logging in for nothing.
		return nil, credrec.ReadError(b.Store.Name(), err)
	}
	if !o.Force && err == nil && b.serves(r, p, o) {
		return &Result{Record: *r, Cached: true}, nil
	}
	unlock, err := b.lock(ctx, p, o)
	if err != nil {
		return nil, err
	}
	defer unlock()
	// Another process may have logged in while we waited for the lock.
	stale, _ := b.Cached(p)
	if !o.Force && stale != nil && b.serves(stale, p, o) {
		return &Result{Record: *stale, Cached: true}, nil
	}
	if !o.Force && !o.Interactive {
		// A pause because a person was needed does not hold back a
		// caller that has one at its terminal.
		if bo, ok := b.backoff(p); ok && !(bo.Code == exitcode.NoTerminal && idp.Interactive(b.Prompt)) {
			cause := &BackoffError{Cause: bo.Cause, Code: bo.Code, Next: bo.Next, Hint: o.LoginHint}
			if res := b.fallback(p, o, stale, cause, bo.Next); res != nil {
				return res, nil
			}
			return nil, cause
		}
	}
	r, err = b.login(ctx, p, o, stale)
	if err != nil {
		err = needLogin(err, o.LoginHint)
		var next time.Time
		if backsOff(ctx, err) {
			next = b.failed(p, err)
		}
		if res := b.fallback(p, o, stale, err, next); res != nil {
			return res, nil
		}
		return nil, err
	}
	b.succeeded(p)
	return &Result{Record: *r}, nil
}

// fallback returns the stale record, with a notice, when it may stand in
// for a renewal that failed with cause; nil when it may not.
func (b *Broker) fallback(p *config.Profile, o Options, stale *Record, cause error, retry time.Time) *Result {
	if stale == nil || o.Force || o.Interactive || o.rejects(stale) || revoked(cause) ||
		!sameIdentity(stale, p) || !cache.Usable(stale.Credentials.Expiration, b.Now()) {
		return nil
	}
	exp := stale.Credentials.Expiration
	var what string
	var be *BackoffError
	switch {
	case errors.As(cause, &be):
		what = fmt.Sprintf("renewal paused after a failure (%s) until %s", be.Cause, be.Next.UTC().Format(time.RFC3339))
	case errors.Is(cause, idp.ErrNoTerminal):
		what = "renewing them needs you at a terminal"
	default:
		what = fmt.Sprintf("could not renew them (%s)", oneLine(cause))
	}
	fmt.Fprintf(b.Notice, "saml2sts: using the cached credentials of %q, valid until %s (expire in %s): %s; to renew now run: %s\n",
		p.Name, exp.UTC().Format(time.RFC3339), short(exp.Sub(b.Now())), what, o.LoginHint)
	return &Result{Record: *stale, Cached: true, Renewal: cause, RetryAt: retry}
}

// short shows a duration as people say it: 1h5m, 10m, 45s.
func short(d time.Duration) string {
	switch {
	case d < time.Minute:
		return d.Round(time.Second).String()
	case d < time.Hour:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return fmt.Sprintf("%dh%dm", d/time.Hour, d%time.Hour/time.Minute)
}

// revoked reports a failure that says the credentials themselves are no
// longer good: serving them again would only fail later.
func revoked(err error) bool {
	var r interface{ Revoked() bool }
	return errors.As(err, &r) && r.Revoked()
}

// serves reports whether a cached record may be handed out as is.
func (b *Broker) serves(r *Record, p *config.Profile, o Options) bool {
	return b.fits(r, p, o.Ahead) && !o.rejects(r)
}

func (o Options) rejects(r *Record) bool {
	return o.Rejected != "" && r.Credentials.AccessKeyID == o.Rejected
}

// lock takes the profile's login lock (credentials and assertions both
// write the IdP session), waiting at most o.LockWait when set.
func (b *Broker) lock(ctx context.Context, p *config.Profile, o Options) (func(), error) {
	if o.LockWait == 0 && o.NoTerminalWait > 0 && !idp.Interactive(b.Prompt) {
		o.LockWait = o.NoTerminalWait
	}
	lctx := ctx
	if o.LockWait > 0 {
		var cancel context.CancelFunc
		lctx, cancel = context.WithTimeout(ctx, o.LockWait)
		defer cancel()
	}
	unlock, err := cache.Lock(lctx, b.Dir, profileLock(p.Name))
	if err != nil {
		if ctx.Err() == nil && lctx.Err() != nil {
			return nil, &BusyError{Profile: p.Name, Waited: o.LockWait, Hint: o.LoginHint}
		}
		return nil, err
	}
	return unlock, nil
}

// needLogin turns a bare idp.ErrNoTerminal into a *NeedLoginError that
// names the command to run.
func needLogin(err error, hint string) error {
	var ne *NeedLoginError
	if errors.Is(err, idp.ErrNoTerminal) && !errors.As(err, &ne) {
		return &NeedLoginError{Hint: hint}
	}
	return err
}

// login runs IdP login -> role choice -> AssumeRoleWithSAML -> store.
// The caller holds the profile lock; prev is the cached record, if any.
func (b *Broker) login(ctx context.Context, p *config.Profile, o Options, prev *Record) (*Record, error) {
	if err := p.CheckLogin(); err != nil {
		return nil, err
	}
	samlResp, err := b.idpResponse(ctx, p, o)
	if err != nil {
		return nil, err
	}
	a, err := sts.ParseResponse(samlResp)
	if err == nil {
		err = a.CheckAWS()
	}
	if err != nil {
		return nil, err
	}
	// A refresh keeps the role picked at the last login, so a silent
	// re-mint never stops at the role picker; --force picks again.
	var last string
	if prev != nil && !o.Force && prev.Identity == identity(p) {
		last = prev.RoleARN
	}
	role, err := b.pickRole(ctx, a, p, last)
	if err != nil {
		return nil, err
	}
	region := a.STSRegion(p.Region)
	client, err := b.NewSTS(ctx, region)
	if err != nil {
		return nil, err
	}
	res, err := client.AssumeRoleWithSAML(ctx, a, role, p.Duration)
	if err != nil {
		return nil, err
	}
	if res.Notice != "" {
		fmt.Fprintf(b.Notice, "saml2sts: %s\n", res.Notice)
	}
	if res, err = b.chain(ctx, client, p, res); err != nil {
		return nil, err
	}
	if res.Notice != "" && p.ChainRoleARN != "" {
		fmt.Fprintf(b.Notice, "saml2sts: %s\n", res.Notice)
	}
	if o.Interactive {
		b.accountNames(ctx, p, a) // cached for login's summary and status
	}
	rec := &Record{
		Profile:      p.Name,
		RoleARN:      role.RoleARN,
		PrincipalARN: role.PrincipalARN,
		Region:       p.Region,
		Credentials:  res.Credentials,
		Issued:       b.Now().UTC(),
		Identity:     identity(p),
		ChainRoleARN: p.ChainRoleARN,
	}
	if rec.Region == "" {
		rec.Region = region
	}
	if err := b.save(rec); err != nil {
		return nil, err
	}
	return rec, nil
}

// idpLogin runs the profile's IdP login against url and returns the base64
// SAMLResponse. It reuses the stored IdP session (a silent refresh) and
// saves it afterwards. The caller holds the profile lock.
func (b *Broker) idpLogin(ctx context.Context, p *config.Profile, o Options, url string) (string, error) {
	prov, ok := b.Providers[p.Provider]
	if !ok {
		return "", &ProviderError{Name: p.Provider, Known: b.providerNames()}
	}
	rej := b.loadRejected(p)
	if o.MFACode != "" && rej.code(o.MFACode) {
		return "", &RejectedCodeError{}
	}
	a := &attempt{}
	password := b.guardedPassword(p, o, rej, a)
	if rej.Password != nil && !o.Interactive && o.PasswordCommand {
		// Fail at once, before any request, when the output is still the
		// rejected one; else the login uses the output read here.
		pw, err := password(ctx)
		if err != nil {
			return "", err
		}
		password = func(context.Context) (string, error) { return pw, nil }
	}
	var saved []byte
	if !o.Force {
		saved = b.session(p)
	}
	jar, _ := idp.NewJar(saved) // a corrupt session is just no session
	prompt := b.Prompt
	if prompt != nil {
		prompt = watched{prompt, a}
	}
	req := &idp.Request{
		URL:      url,
		Username: p.Username,
		Password: password,
		MFA:      p.MFA,
		MFACode:  o.MFACode,
		Prompt:   prompt,
		Client:   idp.NewClient(b.Transport, jar),
		Debug:    b.Debug,
		Notice:   b.Notice,
		Options:  maps.Clone(p.Options),
		Fresh:    o.Force,
		// The partition of the role, else of the region.
		Partition: Partition(p.RoleARN, p.Region),
		Getenv:    b.Getenv,
		Clock:     b.Clock,
	}
	samlResp, err := prov.Login(ctx, req)
	b.remember(rej, a, o, err)
	if err != nil {
		return "", err
	}
	// Keep the IdP session even if a later step fails: the next try then
	// needs no password.
	if err := b.saveSession(p, jar.Export()); err != nil {
		fmt.Fprintf(b.Notice, "saml2sts: could not keep the IdP session (%v); the next refresh will ask for the password\n", err)
	}
	return samlResp, nil
}

// password returns the lazy password source: the caller's, else a prompt.
func (b *Broker) password(p *config.Profile, o Options) func(context.Context) (string, error) {
	if o.Password != nil {
		return o.Password
	}
	return func(ctx context.Context) (string, error) { return b.promptPassword(ctx, p) }
}

func (b *Broker) promptPassword(ctx context.Context, p *config.Profile) (string, error) {
	label := "Password"
	if p.Username != "" {
		label = fmt.Sprintf("Password for %s", p.Username)
	}
	return b.Prompt.Secret(ctx, label)
}

func (b *Broker) pickRole(ctx context.Context, a *sts.Assertion, p *config.Profile, last string) (sts.Role, error) {
	if p.RoleARN != "" {
		r, ok := a.Find(p.RoleARN)
		if !ok || (p.PrincipalARN != "" && r.PrincipalARN != p.PrincipalARN) {
			return sts.Role{}, &RoleError{Want: p.RoleARN, Principal: p.PrincipalARN, Granted: a.Roles, Names: b.accountNames(ctx, p, a)}
		}
		return r, nil
	}
	roles := a.Roles
	if p.PrincipalARN != "" {
		roles = nil
		for _, r := range a.Roles {
			if r.PrincipalARN == p.PrincipalARN {
				roles = append(roles, r)
			}
		}
	}
	switch len(roles) {
	case 0:
		return sts.Role{}, &RoleError{Principal: p.PrincipalARN, Granted: a.Roles, Names: b.accountNames(ctx, p, a)}
	case 1:
		return roles[0], nil
	}
	for _, r := range roles {
		if r.RoleARN == last {
			return r, nil
		}
	}
	names := b.accountNames(ctx, p, a)
	opts := make([]string, len(roles))
	for i, r := range roles {
		opts[i] = fmt.Sprintf("%-30s account %s  (%s)", r.Name(), AccountLabel(names, r.AccountID()), r.RoleARN)
	}
	i, err := b.Prompt.Choose(ctx, "Choose a role", opts)
	if errors.Is(err, idp.ErrNoTerminal) {
		return sts.Role{}, &RoleError{Granted: roles, Names: names}
	}
	if err != nil {
		return sts.Role{}, err
	}
	return roles[i], nil
}

func (b *Broker) save(r *Record) error {
	raw, err := credrec.Encode(r)
	if err != nil {
		return err
	}
	if err := b.Store.Set(cache.CredsKey(r.Profile), raw); err != nil {
		return fmt.Errorf("store credentials in %s: %w", b.Store.Name(), err)
	}
	return cache.UpdateIndex(b.Dir, func(m map[string]cache.Meta) {
		m[r.Profile] = cache.Meta{
			Profile:      r.Profile,
			RoleARN:      r.RoleARN,
			Region:       r.Region,
			Backend:      b.Store.Name(),
			Expiration:   r.Credentials.Expiration,
			Updated:      b.Now().UTC(),
			HasSession:   true,
			Identity:     r.Identity,
			ChainRoleARN: r.ChainRoleARN,
		}
	})
}

// Forget deletes the profile's credentials and IdP session (logout).
// What the IdP rejected for the profile's identity and its renewal backoff
// go too: logging out starts afresh.
func (b *Broker) Forget(profile string) error {
	keys := []string{cache.CredsKey(profile), cache.SessionKey(profile), cache.DashboardsKey(profile)}
	idx, _ := cache.ReadIndex(b.Dir)
	id := idx[profile].Identity
	if id != "" {
		keys = append(keys, cache.RejectedKey(id))
	}
	var errs []error
	for _, k := range keys {
		if err := b.Store.Delete(k); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, cache.UpdateIndex(b.Dir, func(m map[string]cache.Meta) { delete(m, profile) }))
	if _, ok := cache.ReadBackoff(b.Dir, id); ok && id != "" {
		errs = append(errs, cache.UpdateBackoff(b.Dir, id, func(*cache.Backoff) bool { return false }))
	}
	return errors.Join(errs...)
}

// ProviderError is a provider name with no adapter.
type ProviderError struct {
	Name  string
	Known []string
}

func (e *ProviderError) Error() string {
	return fmt.Sprintf("provider %q is not available in this version of saml2sts (available: %s)", e.Name, strings.Join(e.Known, ", "))
}

// ExitCode implements the exit-status contract (internal/exitcode).
func (e *ProviderError) ExitCode() int { return exitcode.Usage }

func (b *Broker) providerNames() []string {
	names := make([]string, 0, len(b.Providers))
	for n := range b.Providers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Partition is the AWS partition of roleARN (arn:PARTITION:...), else of
// region (us-gov-*, cn-*), else "aws".
func Partition(roleARN, region string) string {
	if p, ok := strings.CutPrefix(roleARN, "arn:"); ok {
		if i := strings.IndexByte(p, ':'); i > 0 {
			return p[:i]
		}
	}
	switch {
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	}
	return "aws"
}
