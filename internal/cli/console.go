package cli

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/saml2sts/saml2sts/sts"
)

// signinURLEnv overrides the AWS federation endpoint (emulators, tests).
const signinURLEnv = "SAML2STS_SIGNIN_URL"

type consoleOptions struct {
	f           *factory
	print       bool
	destination string
}

func newConsoleCmd(f *factory) *cobra.Command {
	opts := &consoleOptions{f: f}
	cmd := &cobra.Command{
		Use:   "console [--print] [--destination PATH|URL]",
		Short: "Open the AWS console as the profile's role",
		Long: `Exchange the profile's credentials (refreshing them like credential-process
does) for an AWS console sign-in link, using the AWS sign-in federation
endpoint of the role's partition (aws, aws-us-gov, aws-cn), and open it in
your browser. The console opens in the profile's region.

The link is a credential: for 15 minutes anyone who has it can sign in to the
console as your role. It is printed on stdout only with --print, or when no
browser can be opened (no DISPLAY or WAYLAND_DISPLAY, or no xdg-open); do not
paste it into chats or tickets. --debug never shows it.

SAML2STS_SIGNIN_URL replaces the federation endpoint (https, or http to a
loopback host), for emulators and tests.`,
		Example: `  saml2sts console --profile analytics
  saml2sts console --profile analytics --destination /s3/home
  saml2sts console --profile analytics --destination 'https://console.aws.amazon.com/iam/home#/roles'
  saml2sts console --profile analytics --print   # over SSH: copy it to your browser`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkDestination(opts.destination); err != nil {
				return err
			}
			return consoleRun(cmd.Context(), cmd, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.print, "print", false, "print the sign-in link on stdout instead of opening a browser")
	cmd.Flags().StringVar(&opts.destination, "destination", "", "console `path` (/s3/home) or https URL to land on (default: console home)")
	addBrowserFlags(cmd.Flags())
	return cmd
}

// checkDestination fails a bad --destination before any login.
func checkDestination(d string) error {
	if d == "" {
		return nil
	}
	u, err := url.Parse(d)
	if err != nil || (u.Scheme != "" || u.Host != "") && (u.Scheme != "https" || u.Host == "") {
		return usageErrorf("--destination %q: give a console path such as /s3/home or an https:// URL", d)
	}
	return nil
}

func consoleRun(ctx context.Context, cmd *cobra.Command, o *consoleOptions) error {
	signin := o.f.getenv(signinURLEnv)
	if signin != "" {
		if err := sts.CheckSigninURL(signin); err != nil {
			return usageErrorf("%s: %v", signinURLEnv, err)
		}
	}
	p, r, err := o.f.credentials(ctx, cmd)
	if err != nil {
		return err
	}
	hc, err := o.f.httpClient()
	if err != nil {
		return err
	}
	link, err := sts.ConsoleURL(ctx, hc, r.Credentials, sts.ConsoleOptions{
		Partition:   sts.Role{RoleARN: r.RoleARN}.Partition(),
		Region:      region(p, r),
		Destination: o.destination,
		SigninURL:   signin,
	})
	var ce *sts.ConsoleError
	if errors.As(err, &ce) {
		ce.Hint = strings.Replace(ce.Hint, "saml2sts login", o.f.loginHint(p), 1)
		return &exitError{code: exitAWS, err: err}
	}
	if err != nil {
		return err
	}

	role := sts.Role{RoleARN: r.RoleARN}.String()
	if !o.print {
		argv := browserCommand(runtime.GOOS, o.f.getenv, exec.LookPath)
		if argv == nil {
			fmt.Fprintf(o.f.errOut, "No browser to open here; open this link within 15 minutes (it signs in as %s, do not share it):\n", role)
		} else if err := openBrowser(ctx, argv, link); err != nil {
			fmt.Fprintf(o.f.errOut, "Could not open a browser (%s: %v); open this link within 15 minutes (it signs in as %s, do not share it):\n", argv[0], err, role)
		} else {
			fmt.Fprintf(o.f.errOut, "Opened the AWS console for %s in your browser.\n", role)
			return nil
		}
	} else {
		fmt.Fprintf(o.f.errOut, "This link signs in to the AWS console as %s for the next 15 minutes; do not share it.\n", role)
	}
	_, err = fmt.Fprintln(o.f.out, link)
	return err
}

// browserCommand is the command that opens a URL given as its last
// argument, or nil when none can work here: Linux and the BSDs need a
// graphical session and xdg-open. Windows uses rundll32 rather than
// "cmd /c start", which would split the URL at '&'.
func browserCommand(goos string, getenv func(string) string, lookPath func(string) (string, error)) []string {
	switch goos {
	case "darwin":
		return []string{"open"}
	case "windows":
		return []string{"rundll32", "url.dll,FileProtocolHandler"}
	}
	if getenv("DISPLAY") == "" && getenv("WAYLAND_DISPLAY") == "" {
		return nil
	}
	path, err := lookPath("xdg-open")
	if err != nil {
		return nil
	}
	return []string{path}
}

// openBrowser runs argv with the URL. Some xdg-open setups run the browser
// in the foreground, so after a few seconds a still-running opener counts
// as success and is left to run.
func openBrowser(ctx context.Context, argv []string, link string) error {
	c := exec.Command(argv[0], append(argv[1:], link)...)
	if err := c.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(5 * time.Second):
		return nil
	case <-ctx.Done():
		return nil
	}
}
