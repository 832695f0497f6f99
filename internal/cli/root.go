package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/saml2sts/saml2sts/internal/exitcode"
)

// Exit codes, documented in the root help and docs/exit-codes.md.
const (
	exitOK       = exitcode.OK
	exitFailure  = exitcode.Failure
	exitUsage    = exitcode.Usage      // bad flags, arguments or configuration
	exitAuth     = exitcode.Auth       // the IdP rejected the credentials or the MFA answer
	exitNoTTY    = exitcode.NoTerminal // an interactive login is needed but there is no terminal
	exitAWS      = exitcode.Refused    // AWS refused (STS error, 403)
	exitSignaled = exitcode.Signaled
)

const exitHelp = `Exit status:
  0  ok
  1  other error
  2  usage or configuration error (bad flag, unknown profile, bad config line, role not granted)
  3  the identity provider rejected the credentials or the MFA code
  4  an interactive login is needed but there is no terminal (run: saml2sts login)
  5  AWS refused (STS error such as AccessDenied or an expired assertion,
     or an OpenSearch 401/403)`

func run(ctx context.Context, f *factory, args []string) int {
	root := newRootCmd(f)
	if len(args) > 0 && (args[0] == cobra.ShellCompRequestCmd || args[0] == cobra.ShellCompNoDescRequestCmd) {
		// Only the shell's completion request needs them, and wiring them
		// walks every flag of every command: most of a run's start-up.
		addCompletions(f, root)
	}
	root.SetArgs(args)
	root.SetOut(f.out)
	root.SetErr(f.errOut)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) && ee.silent {
		return ee.code
	}
	code := exitCode(err)
	fmt.Fprintf(f.errOut, "saml2sts: %s\n", message(err, f.idpHost))
	if code == exitUsage && isFlagError(err) && cmd != nil {
		fmt.Fprintf(f.errOut, "Run '%s --help' for usage.\n", cmd.CommandPath())
	}
	return code
}

// factory holds the process-wide dependencies; commands copy what they need
// into their options.
type factory struct {
	in     io.Reader
	out    io.Writer
	errOut io.Writer
	getenv func(string) string
	env    *env
	now    func() time.Time
	after  func(time.Duration) <-chan time.Time // Process.After
	noTTY  bool
	tty    *os.File // Process.TTY
	g      globalFlags
	self   string // how other programs run us; "" = work it out
	// noKeyring keeps logout away from the OS keyring (the demo must
	// never touch the user's real one).
	noKeyring bool
	// idpHost is the host of the url of the profile a login was set up
	// for, so that network hints name the profile's url only for it.
	idpHost string
}

type globalFlags struct {
	profile  string
	profiles []string // every --profile given, for login
	config   string
	debug    bool
	noInput  bool
	caBundle string
}

func newFactory(p Process) *factory {
	e := newEnv(p.Env)
	f := &factory{in: p.Stdin, out: p.Stdout, errOut: p.Stderr, getenv: e.getenv, env: e,
		now: p.Now, after: p.After, noTTY: p.NoTerminal, tty: p.TTY}
	if p.Executable != "" {
		f.self = shellQuote(p.Executable)
	}
	if f.in == nil {
		f.in = strings.NewReader("")
	}
	if f.out == nil {
		f.out = io.Discard
	}
	if f.errOut == nil {
		f.errOut = io.Discard
	}
	if f.now == nil {
		f.now = time.Now
	}
	if f.after == nil {
		f.after = time.After
	}
	return f
}

func newRootCmd(f *factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "saml2sts",
		Short: "Turn a corporate SAML SSO login into short-lived AWS credentials",
		Long: `saml2sts logs in to your company's SAML identity provider (Okta, Microsoft
Entra ID, AD FS, Keycloak, or any plain SAML login form) from the terminal, exchanges the SAML
assertion with STS AssumeRoleWithSAML, caches the temporary credentials in the
OS keyring (or a private file), and serves them to the AWS CLI and SDKs
(credential_process), to other programs (exec, env), to you (login, status)
and to OpenSearch (os, search: SigV4-signed calls and full exports).

` + exitHelp,
		Example: `  # once: describe the profile and wire it into ~/.aws/config
  saml2sts configure --profile analytics --provider keycloak \
      --url https://sso.example.com/realms/corp/protocol/saml/clients/aws \
      --username ana --role-arn arn:aws:iam::123456789012:role/SearchReader \
      --region eu-west-1 --aws-profile analytics
  saml2sts login --profile analytics        # password + OTP on the terminal
  aws s3 ls --profile analytics             # the AWS CLI runs saml2sts credential-process
  saml2sts exec --profile analytics -- python report.py
  saml2sts search 'logs-*' 'level:ERROR' --profile analytics --format table
  saml2sts demo                             # everything on loopback emulators`,
		Version:       version(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	// Unknown commands are usage errors (exit 2), with cobra's suggestion.
	root.Args = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return nil
		}
		msg := fmt.Sprintf("unknown command %q", args[0])
		if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
			msg += fmt.Sprintf(" (did you mean %q?)", s[0])
		}
		return usageErrorf("%s", msg)
	}
	root.SuggestionsMinimumDistance = 2
	root.RunE = func(cmd *cobra.Command, args []string) error { return cmd.Help() }
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })
	pf := root.PersistentFlags()
	pf.VarP(&profilesFlag{g: &f.g}, "profile", "p", "profile `name` (default $SAML2STS_PROFILE, else \"default\")")
	pf.StringVar(&f.g.config, "config", "", "config `file` (default $SAML2STS_CONFIG, else ~/.config/saml2sts/config)")
	pf.BoolVar(&f.g.debug, "debug", false, "print a redacted HTTP trace on stderr")
	pf.BoolVar(&f.g.noInput, "no-input", false, "never prompt; fail instead (exit 4) when input is needed")
	pf.StringVar(&f.g.caBundle, "ca-bundle", "", "extra trusted CA certificates, PEM `file` (default $AWS_CA_BUNDLE)")
	root.AddCommand(
		newConfigureCmd(f),
		newLoginCmd(f),
		newCredentialProcessCmd(f),
		newExecCmd(f),
		newEnvCmd(f),
		newExportCmd(f),
		newStatusCmd(f),
		newWhoamiCmd(f),
		newConsoleCmd(f),
		newLogoutCmd(f),
		newSearchCmd(f),
		newDemoCmd(f),
		newOSCmd(f),
	)
	return root
}
