package cli

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/saml2sts/saml2sts/sts"
)

type whoamiOptions struct {
	f    *factory
	json bool
}

func newWhoamiCmd(f *factory) *cobra.Command {
	opts := &whoamiOptions{f: f}
	cmd := &cobra.Command{
		Use:   "whoami",
		Short: "Show who the profile's credentials belong to (sts:GetCallerIdentity)",
		Long: `Call sts:GetCallerIdentity with the profile's credentials (refreshing them
like credential-process does) and print the account, the assumed-role ARN and
the user id. The ARN is what to add to an OpenSearch data-access policy or
role mapping.`,
		Example: `  saml2sts whoami --profile analytics
  saml2sts whoami --profile analytics --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return whoamiRun(cmd.Context(), cmd, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.json, "json", false, "print JSON")
	addBrowserFlags(cmd.Flags())
	return cmd
}

func whoamiRun(ctx context.Context, cmd *cobra.Command, o *whoamiOptions) error {
	p, r, err := o.f.credentials(ctx, cmd)
	if err != nil {
		return err
	}
	hc, err := o.f.httpClient()
	if err != nil {
		return err
	}
	c, err := sts.NewClient(ctx, sts.ClientOptions{Region: region(p, r), HTTPClient: hc})
	if err != nil {
		return err
	}
	id, err := c.CallerIdentity(ctx, r.Credentials)
	if err != nil {
		return err
	}
	if o.json {
		b, _ := json.Marshal(map[string]string{"Account": id.Account, "Arn": id.ARN, "UserId": id.UserID})
		_, err = fmt.Fprintf(o.f.out, "%s\n", b)
		return err
	}
	_, err = fmt.Fprintf(o.f.out, "Account: %s\nArn:     %s\nUserId:  %s\n", id.Account, id.ARN, id.UserID)
	return err
}
