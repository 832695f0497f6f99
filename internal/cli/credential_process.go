package cli

import (
	"context"
	"encoding/json"
	"time"

	"github.com/spf13/cobra"

	"github.com/saml2sts/saml2sts/sts"
)

type credentialProcessOptions struct{ f *factory }

func newCredentialProcessCmd(f *factory) *cobra.Command {
	opts := &credentialProcessOptions{f: f}
	cmd := &cobra.Command{
		Use:   "credential-process",
		Short: "Print credentials as credential_process JSON (for the AWS CLI and SDKs)",
		Long: `Print the profile's credentials in the AWS credential_process format and
nothing else on stdout:

  {"Version":1,"AccessKeyId":...,"SecretAccessKey":...,"SessionToken":...,"Expiration":"2026-01-02T15:04:05Z"}

Fresh cached credentials are printed at once. Stale ones are re-minted without
a prompt where possible (the stored IdP session, then password_command), else
the password is asked on the terminal; with no terminal it exits 4 at once
and says to run saml2sts login. Concurrent calls share a single login.

When renewing fails (IdP unreachable, IdP error, rejected password, STS) the
cached credentials are printed while they are valid, with one line on stderr
saying what failed and until when they last; later calls wait for a backoff
(30s doubling to 10m, shared by all processes) instead of trying the IdP
each time. A password_command output the IdP rejected is never sent again:
calls fail at once (exit 3) until it prints something else or saml2sts login
succeeds.`,
		Example: `  # ~/.aws/config (saml2sts configure --aws-profile writes this for you)
  [profile analytics]
  credential_process = saml2sts credential-process --profile analytics`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return credentialProcessRun(cmd.Context(), cmd, opts)
		},
	}
	addBrowserFlags(cmd.Flags())
	return cmd
}

// processCreds has the exact field order of the credential_process contract.
type processCreds struct {
	Version         int
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string
	SessionToken    string
	Expiration      string
}

func credentialProcessJSON(c sts.Credentials) ([]byte, error) {
	return json.Marshal(processCreds{
		Version:         1,
		AccessKeyID:     c.AccessKeyID,
		SecretAccessKey: c.SecretAccessKey,
		SessionToken:    c.SessionToken,
		Expiration:      c.Expiration.UTC().Truncate(time.Second).Format(time.RFC3339),
	})
}

func credentialProcessRun(ctx context.Context, cmd *cobra.Command, o *credentialProcessOptions) error {
	_, r, err := o.f.credentials(ctx, cmd)
	if err != nil {
		return err
	}
	b, err := credentialProcessJSON(r.Credentials)
	if err != nil {
		return err
	}
	_, err = o.f.out.Write(append(b, '\n'))
	return err
}
