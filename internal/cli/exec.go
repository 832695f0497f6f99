package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

type execOptions struct {
	f    *factory
	argv []string
}

func newExecCmd(f *factory, runF func(context.Context, *cobra.Command, *execOptions) error) *cobra.Command {
	opts := &execOptions{f: f}
	cmd := &cobra.Command{
		Use:   "exec [flags] -- command [args...]",
		Short: "Run a command with the profile's credentials in its environment",
		Long: `Run a command with AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
AWS_SESSION_TOKEN, AWS_CREDENTIAL_EXPIRATION, AWS_REGION and AWS_DEFAULT_REGION
set and AWS_PROFILE removed. Signals are forwarded to the command and its
exit status becomes ours.`,
		Example: `  saml2sts exec --profile analytics -- python report.py
  saml2sts exec --profile analytics -- aws sts get-caller-identity`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErrorf("exec: no command given: saml2sts exec --profile P -- command [args...]")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.argv = args
			if runF != nil {
				return runF(cmd.Context(), cmd, opts)
			}
			return execRun(cmd.Context(), cmd, opts)
		},
	}
	cmd.Flags().SetInterspersed(false)
	return cmd
}

func execRun(ctx context.Context, cmd *cobra.Command, o *execOptions) error {
	p, r, err := o.f.credentials(ctx, cmd)
	if err != nil {
		return err
	}
	path, err := exec.LookPath(o.argv[0])
	if err != nil {
		return usageErrorf("exec: %v", err)
	}
	env := childEnv(os.Environ(), credentialEnv(p, r))
	env = append(env, "SAML2STS_PROFILE_ACTIVE="+p.Name)
	c := exec.Command(path, o.argv[1:]...)
	c.Env = env
	c.Stdin, c.Stdout, c.Stderr = os.Stdin, os.Stdout, os.Stderr
	// Take the signals before starting, so none is lost in between; the
	// child gets each one and decides for itself.
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH)
	defer signal.Stop(sigs)
	if err := c.Start(); err != nil {
		return fmt.Errorf("exec %s: %w", o.argv[0], err)
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				c.Process.Signal(s)
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

// childEnv is base without the variables we set or unset, plus ours.
func childEnv(base []string, vars []envVar) []string {
	drop := map[string]bool{"AWS_SECURITY_TOKEN": true}
	for _, u := range unsetVars {
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
