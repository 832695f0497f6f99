package cli

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/saml2sts/saml2sts/cache"
	"github.com/saml2sts/saml2sts/internal/broker"
	"github.com/saml2sts/saml2sts/internal/config"
	"github.com/saml2sts/saml2sts/internal/exitcode"
	"github.com/saml2sts/saml2sts/sts"
)

type loginOptions struct {
	f             *factory
	overrides     map[string]string
	passwordStdin bool
	mfaCode       string
	force         bool
	// Set by loginMany: one password read and one IdP login for all.
	password func(context.Context) (string, error)
	shared   *broker.SharedLogin
	// login --all-roles
	allRoles    bool
	template    string
	awsProfiles bool
}

var loginKeys = []string{"role_arn", "principal_arn", "region", "duration", "mfa", "username", "cache", "duo_device",
	"account_names", "chain_role_arn", "chain_external_id", "chain_source_identity", "chain_session_name"}

func newLoginCmd(f *factory) *cobra.Command {
	opts := &loginOptions{f: f}
	cmd := &cobra.Command{
		Use:   "login [flags]",
		Short: "Log in to the IdP and cache AWS credentials for a profile",
		Long: `Log in to the profile's identity provider, pick the AWS role, call STS
AssumeRoleWithSAML and cache the credentials (and the IdP session, so later
refreshes need no password while it lives).

Cached credentials that are still fresh are reused; --force ignores them and
the stored IdP session. Prompts (password, one-time code, role picker) appear
on the terminal, never on stdout. Without a terminal, pass the password with
--password-stdin or set password_command, and the code with --mfa-code.

--browser logs in through your own Chrome/Chromium/Edge/Brave instead (for
passkeys, security keys, pushes, pages only a browser can show): a window
opens where a display is available, headless otherwise (or with --headless);
saml2sts types the username, password and --mfa-code it knows and takes the
SAML assertion before it reaches AWS. --browser=fallback uses the browser
only when the adapter meets a step it cannot do. See docs/browser.md.

Several --profile flags log in each profile in turn; profiles with the same
provider, url and username share one IdP login (one password, one second
factor): its SAMLResponse is reused in memory only, while it is valid.

--all-roles logs in once with the profile's IdP settings and writes one
profile per role the assertion grants into the profiles file (the base
profile's keys, with that role_arn and principal_arn), named by
--name-template, then caches credentials for each from that one login.
Re-running it is safe; a name taken by a profile with other settings is
refused. --aws-profiles also wires each into ~/.aws/config. See docs/roles.md.`,
		Example: `  saml2sts login --profile analytics
  pass show corp/sso | saml2sts login --profile analytics --password-stdin --mfa-code 123456
  saml2sts login --profile analytics --role-arn arn:aws:iam::123456789012:role/SearchAdmin --force
  # role chaining: SAML role first, then sts:AssumeRole into another (1h at most)
  saml2sts login --profile analytics --chain-role-arn arn:aws:iam::999988887777:role/Analyst --chain-external-id corp-42
  saml2sts login --profile prod --profile sandbox   # one password and code for both
  # one profile per granted role, e.g. [profile prod-Admin], one password and code
  saml2sts login --profile corp --all-roles
  saml2sts login --profile corp --all-roles --name-template 'corp-{account_id}-{role_name}' --aws-profiles
  saml2sts login --profile corp --mfa passcode --mfa-code 123456     # Duo passcode
  saml2sts login --profile corp --mfa push --duo-device Pixel        # Duo Push to another phone
  saml2sts login --profile m365 --mfa totp --mfa-code 123456         # Entra: push, totp, sms or call
  saml2sts login --profile corp --browser              # finish any MFA in the browser window
  saml2sts login --profile corp --browser --headless --password-stdin < pw.txt`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.overrides = overrides(cmd.Flags(), loginKeys...)
			if opts.allRoles {
				return loginAllRoles(cmd.Context(), opts)
			}
			if cmd.Flags().Changed("name-template") || opts.awsProfiles {
				return usageErrorf("--name-template and --aws-profiles go with --all-roles (one profile per role); for one profile use configure --aws-profile")
			}
			if len(f.g.profiles) > 1 {
				return loginMany(cmd.Context(), opts)
			}
			return loginRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&opts.passwordStdin, "password-stdin", false, "read the password from standard input")
	fl.StringVar(&opts.mfaCode, "mfa-code", "", "one-time `code` for the IdP's second factor")
	fl.BoolVar(&opts.force, "force", false, "ignore cached credentials and the stored IdP session (full login)")
	fl.String("role-arn", "", "role to assume (default: the profile's role_arn, else pick)")
	fl.String("principal-arn", "", "SAML provider ARN, when a role is granted through several")
	fl.String("region", "", "AWS region for STS (default: the profile's region)")
	fl.String("duration", "", "session `duration`, e.g. 1h, 90m or 3600 (default: the profile's)")
	fl.String("mfa", "", "second factor to use: auto or a factor name (push, totp, sms, call, ...; behind Duo: push, passcode or call)")
	fl.String("username", "", "IdP user name (default: the profile's)")
	fl.String("cache", "", "cache backend: auto, keyring or file")
	fl.String("account-names", "", "account aliases in the role picker and summary: auto or off")
	fl.String("chain-role-arn", "", "role to assume with the SAML role's credentials (role chaining, 1h at most)")
	fl.String("chain-external-id", "", "sts:ExternalId for the chained role")
	fl.String("chain-source-identity", "", "sts:SourceIdentity for the chained session")
	fl.String("chain-session-name", "", "session name of the chained role (default: the SAML session's)")
	fl.String("duo-device", "", "Duo device to push to or call: its name or last digits (default: Duo's)")
	fl.BoolVar(&opts.allRoles, "all-roles", false, "write and log in one profile per role the login grants (see --name-template)")
	fl.StringVar(&opts.template, "name-template", defaultNameTemplate, "names of the --all-roles profiles: {account_name}, {account_id}, {role_name}, {profile}")
	fl.BoolVar(&opts.awsProfiles, "aws-profiles", false, "with --all-roles, also write credential_process for each profile into ~/.aws/config")
	addBrowserFlags(fl)
	return cmd
}

func loginRun(ctx context.Context, o *loginOptions) error {
	f := o.f
	p, b, err := o.selected()
	if err != nil {
		return err
	}
	r, err := b.Credentials(ctx, p, o.brokerOptions(p))
	if err != nil {
		return err
	}
	left := human(r.Credentials.Expiration.Sub(f.now()))
	verb := "Logged in"
	if r.Cached {
		verb = "Already logged in (cached; --force to log in again)"
	}
	fmt.Fprintf(f.errOut, "%s: profile %s, role %s, expires %s (in %s), cached in %s\n",
		verb, p.Name, roleSummary(b.Dir, p.AccountNames, r.RoleARN, r.ChainRoleARN), r.Credentials.Expiration.Local().Format("15:04 MST"), left, b.Store.Name())
	return nil
}

// selected resolves and checks the selected profile, with its broker.
func (o *loginOptions) selected() (*config.Profile, *broker.Broker, error) {
	p, err := o.f.profile(o.overrides)
	if err != nil {
		return nil, nil, err
	}
	if err := checkProfile(p); err != nil {
		return nil, nil, err
	}
	b, err := o.f.broker(p)
	return p, b, err
}

// brokerOptions are the options of a login of p that a person asked for.
func (o *loginOptions) brokerOptions(p *config.Profile) broker.Options {
	f := o.f
	// Telling login to run login would go round in circles.
	hint := f.loginHint(p) + " in a terminal, or pass --password-stdin and --mfa-code"
	// A person asked: no backoff, and failures are reported, not covered
	// by still-valid credentials.
	bo := broker.Options{Force: o.force, MFACode: o.mfaCode, LoginHint: hint, Interactive: true}
	switch {
	case o.passwordStdin:
		bo.Password = readPassword(f.in)
	case p.PasswordCommand != "":
		bo.Password, bo.PasswordCommand = trustedCommand(p, f.passwordCommand(p.PasswordCommand)), true
	}
	if o.password != nil {
		bo.Password = o.password
	}
	bo.Shared = o.shared
	return bo
}

// roleSummary names the role (and the chained role, whose credentials
// these are) with account aliases from the index when known.
func roleSummary(dir, accountNames, role, chained string) string {
	names := map[string]string{}
	if accountNames != "off" {
		names = cache.AccountNames(dir, time.Now())
	}
	label := func(arn string) string { return withName(arn, names[sts.Role{RoleARN: arn}.AccountID()]) }
	if chained == "" {
		return label(role)
	}
	return label(chained) + " via " + label(role)
}

// human shows a duration the way people say it: 1h, 1h5m, 59m, <1m.
func human(d time.Duration) string {
	d = d.Round(time.Minute)
	switch {
	case d < time.Minute:
		return "<1m"
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d < time.Hour:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return fmt.Sprintf("%dh%dm", d/time.Hour, (d%time.Hour)/time.Minute)
}

// loginMany logs in each --profile in turn, sharing one IdP login between
// profiles of one identity, and reports every failure.
func loginMany(ctx context.Context, o *loginOptions) error {
	f := o.f
	for _, k := range []string{"role_arn", "principal_arn", "username"} {
		if _, ok := o.overrides[k]; ok {
			return usageErrorf("--%s applies to one profile: log in with one --profile, or set %s in each profile", strings.ReplaceAll(k, "_", "-"), k)
		}
	}
	o.shared = &broker.SharedLogin{}
	if o.passwordStdin {
		o.password = onceValue(readPassword(f.in))
	}
	var errs []error
	seen := map[string]bool{}
	for _, name := range f.g.profiles {
		if seen[name] {
			continue
		}
		seen[name] = true
		f.g.profile = name
		if err := loginRun(ctx, o); err != nil {
			fmt.Fprintf(f.errOut, "saml2sts: login %s: %s\n", name, message(err, f.idpHost))
			errs = append(errs, err)
		}
	}
	return manyError(errs)
}

// manyError is the exit of a command that reported each of errs already.
func manyError(errs []error) error {
	if len(errs) > 0 {
		return &exitError{code: exitcode.Of(errs[0]), silent: true}
	}
	return nil
}

// onceValue reads a password once, for every profile of the command.
func onceValue(read func(context.Context) (string, error)) func(context.Context) (string, error) {
	var (
		mu  sync.Mutex
		pw  string
		err error
		ok  bool
	)
	return func(ctx context.Context) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		if !ok {
			pw, err = read(ctx)
			ok = true
		}
		return pw, err
	}
}

// profilesFlag is the global --profile: the last one given is the profile,
// and login takes them all.
type profilesFlag struct{ g *globalFlags }

func (p *profilesFlag) String() string { return p.g.profile }
func (p *profilesFlag) Type() string   { return "string" }
func (p *profilesFlag) Set(v string) error {
	p.g.profile, p.g.profiles = v, append(p.g.profiles, v)
	return nil
}
