package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/saml2sts/saml2sts/internal/broker"
	"github.com/saml2sts/saml2sts/internal/ecsserver"
	"github.com/saml2sts/saml2sts/internal/prompt"
)

type execOptions struct {
	f         *factory
	argv      []string
	ecsServer bool
}

func newExecCmd(f *factory) *cobra.Command {
	opts := &execOptions{f: f}
	cmd := &cobra.Command{
		Use:   "exec [--ecs-server] [flags] -- command [args...]",
		Short: "Run a command with the profile's credentials",
		Long: `Run a command with the profile's credentials. Signals are forwarded to the
command (Ctrl-C and Ctrl-\ on the terminal reach it directly, once) and its
exit status becomes ours.

By default the credentials are in the command's environment:
AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN and
AWS_CREDENTIAL_EXPIRATION, with AWS_REGION and AWS_DEFAULT_REGION set and
AWS_PROFILE removed. They never change, so a command that runs longer than
they last (duration) starts failing.

With --ecs-server, saml2sts serves credentials on a loopback endpoint for as
long as the command runs and sets AWS_CONTAINER_CREDENTIALS_FULL_URI and
AWS_CONTAINER_AUTHORIZATION_TOKEN instead (the ECS container credentials
protocol, read by both AWS CLIs and the AWS SDKs). Every request is answered
at once; saml2sts renews in the background, without a prompt (the stored IdP
session, then password_command), 5 minutes before refresh_window. When
renewing fails (IdP down, password rejected, or it needs you) it says so once
per retry on stderr and serves the old credentials; from one minute before
they expire requests get HTTP 500 naming the failure. Run saml2sts login in
another terminal to fix it. AWS_PROFILE and any static or container
credential variables are removed, as they would win over the endpoint. A
[default] profile with credentials in ~/.aws also wins: see
docs/credentials.md.

The first credentials are fetched before the command starts, so a login
problem fails here, with the usual exit status.`,
		Example: `  saml2sts exec --profile analytics -- python report.py
  saml2sts exec --profile analytics -- aws sts get-caller-identity
  # a notebook or a 3-hour export: credentials are renewed while it runs
  saml2sts exec --ecs-server --profile analytics -- jupyter lab
  saml2sts exec --ecs-server --profile analytics -- python export.py`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErrorf("exec: no command given: saml2sts exec --profile P -- command [args...]")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.argv = args
			return execRun(cmd.Context(), cmd, opts)
		},
	}
	cmd.Flags().SetInterspersed(false)
	cmd.Flags().BoolVar(&opts.ecsServer, "ecs-server", false,
		"serve renewing credentials on a loopback container-credentials endpoint instead of fixed variables")
	addBrowserFlags(cmd.Flags())
	return cmd
}

func execRun(ctx context.Context, cmd *cobra.Command, o *execOptions) error {
	if o.ecsServer {
		return execECS(ctx, cmd, o)
	}
	p, r, err := o.f.credentials(ctx, cmd)
	if err != nil {
		return err
	}
	env := childEnv(o.f.env.environ(), credentialEnv(p, r))
	env = append(env, "SAML2STS_PROFILE_ACTIVE="+p.Name)
	return runChild(o.f, o.argv, env)
}

// execECS runs the command against a credential server for its lifetime.
func execECS(ctx context.Context, cmd *cobra.Command, o *execOptions) error {
	p, err := o.f.profile(overrides(cmd.Flags()))
	if err != nil {
		return err
	}
	b, err := o.f.broker(p)
	if err != nil {
		return err
	}
	bo := o.f.silentOptions(p, b)
	bo.LockWait, bo.NoTerminalWait = 0, 0
	// Up front, with the terminal if there is one: a login problem stops
	// us here, before the command starts.
	r, err := b.Credentials(ctx, p, bo)
	if err != nil {
		return err
	}
	// Later logins run in the background while the command owns the
	// terminal; a prompt there would race it for keystrokes (a password
	// typed into a shell or a REPL). So they are silent or they fail with
	// a hint to run saml2sts login, and old credentials are served
	// meanwhile. The server says once per backoff step what failed, so
	// the broker's per-call notices are dropped.
	b.Prompt = prompt.None{}
	notice := b.Notice
	b.Notice = io.Discard
	bo.LockWait = lockWait(b)
	src := func(ctx context.Context, ahead time.Duration) (ecsserver.Answer, error) {
		o := bo
		o.Ahead = ahead
		r, err := b.Credentials(ctx, p, o)
		if err != nil {
			return ecsserver.Answer{RetryAt: b.RetryAt(p)}, bare(err)
		}
		return answer(r), nil
	}
	srv, err := ecsserver.New(src,
		ecsserver.WithWindow(p.RefreshWindow),
		ecsserver.WithAnswer(answer(r)),
		ecsserver.WithLog(notice),
		ecsserver.WithClock(runClock{o.f.now, time.After}))
	if err != nil {
		return err
	}
	defer srv.Close()
	env := childEnv(o.f.env.environ(), containerEnv(p, r, srv.URL(), srv.Token()), shadowContainer...)
	env = append(env, "SAML2STS_PROFILE_ACTIVE="+p.Name)
	return runChild(o.f, o.argv, env)
}

func answer(r *broker.Result) ecsserver.Answer {
	return ecsserver.Answer{Credentials: r.Credentials, RoleARN: r.RoleARN, Renewal: bare(r.Renewal), RetryAt: r.RetryAt}
}

// bare is the failure behind a paused renewal: the server says itself
// when it tries next.
func bare(err error) error {
	var be *broker.BackoffError
	if errors.As(err, &be) {
		return errors.New(be.Cause)
	}
	return err
}

// runClock is a clock made of the run's functions: Process.Now and
// After. The credential server takes real waits (time.After) on the run's
// time: its renewal timer must not race through a test's fake time.
type runClock struct {
	now   func() time.Time
	after func(time.Duration) <-chan time.Time
}

func (c runClock) Now() time.Time                         { return c.now() }
func (c runClock) After(d time.Duration) <-chan time.Time { return c.after(d) }

// runChild runs argv with env, forwarding signals; the child's exit status
// becomes ours.
func runChild(f *factory, argv, env []string) error {
	path, err := f.env.lookPath(argv[0])
	if err != nil {
		return usageErrorf("exec: %v", err)
	}
	c := exec.Command(path, argv[1:]...)
	c.Env = env
	c.Stdin, c.Stdout, c.Stderr = f.in, f.out, f.errOut
	// Take the signals before starting, so none is lost in between; the
	// child gets each one once and decides for itself.
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, relayed...)
	defer signal.Stop(sigs)
	if err := c.Start(); err != nil {
		return fmt.Errorf("exec %s: %w", argv[0], err)
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				// Only the process's own terminal signals its group.
				if f.noTTY || f.tty != nil || !fromTerminal(s) {
					c.Process.Signal(s)
				}
			case <-done:
				return
			}
		}
	}()
	err = c.Wait()
	close(done)
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return &exitError{code: 128 + int(ws.Signal()), silent: true}
		}
		return &exitError{code: ee.ExitCode(), silent: true}
	}
	return err
}

// childEnv is base without the variables we set or unset (and without
// extra), plus ours.
func childEnv(base []string, vars []envVar, extra ...string) []string {
	drop := map[string]bool{"AWS_SECURITY_TOKEN": true}
	for _, u := range unsetVars {
		drop[u] = true
	}
	for _, u := range extra {
		drop[u] = true
	}
	for _, v := range vars {
		drop[v.name] = true
	}
	var env []string
	for _, kv := range base {
		name, _, _ := strings.Cut(kv, "=")
		if !drop[name] {
			env = append(env, kv)
		}
	}
	for _, v := range vars {
		env = append(env, v.name+"="+v.value)
	}
	return env
}
