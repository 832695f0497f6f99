package cli

import (
	"encoding/json"
	"fmt"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/saml2sts/saml2sts/cache"
)

type statusOptions struct {
	f    *factory
	json bool
	now  func() time.Time
}

func newStatusCmd(f *factory, runF func(*statusOptions) error) *cobra.Command {
	opts := &statusOptions{f: f, now: f.now}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "List cached sessions: profile, role, time left, backend",
		Long: `List every profile with cached credentials: the role, the region, when the
credentials expire and how long is left, and where they are kept (keyring or
file). It reads only the non-secret index, never the secrets themselves.
With --profile, only that profile is shown.`,
		Example: `  saml2sts status
  saml2sts status --profile analytics
  saml2sts status --json | jq '.[] | select(.seconds_left < 900) | .profile'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return statusRun(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.json, "json", false, "print JSON instead of a table")
	return cmd
}

type statusRow struct {
	Profile     string    `json:"profile"`
	RoleARN     string    `json:"role_arn"`
	Region      string    `json:"region"`
	Backend     string    `json:"backend"`
	Expiration  time.Time `json:"expiration"`
	SecondsLeft int64     `json:"seconds_left"`
	IdPSession  bool      `json:"idp_session"`
}

func statusRun(o *statusOptions) error {
	dir, err := o.f.cacheDir()
	if err != nil {
		return err
	}
	idx, err := cache.ReadIndex(dir)
	if err != nil {
		return err
	}
	now := o.now()
	var rows []statusRow
	only := o.f.g.profile // the flag only: $SAML2STS_PROFILE picks a default, not a filter
	for _, m := range idx {
		if only != "" && m.Profile != only {
			continue
		}
		left := int64(m.Expiration.Sub(now).Seconds())
		if left < 0 {
			left = 0
		}
		rows = append(rows, statusRow{m.Profile, m.RoleARN, m.Region, m.Backend, m.Expiration.UTC(), left, m.HasSession})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Profile < rows[j].Profile })
	if o.json {
		if rows == nil {
			rows = []statusRow{}
		}
		b, err := json.MarshalIndent(rows, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(o.f.out, "%s\n", b)
		return err
	}
	if len(rows) == 0 {
		name := "NAME"
		if only != "" {
			name = only
		}
		fmt.Fprintln(o.f.errOut, "No cached sessions. Log in with: saml2sts login --profile "+name)
		return nil
	}
	tw := tabwriter.NewWriter(o.f.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROFILE\tROLE\tREGION\tEXPIRES\tLEFT\tBACKEND")
	for _, r := range rows {
		left := "expired"
		if r.SecondsLeft > 0 {
			left = human(time.Duration(r.SecondsLeft) * time.Second)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Profile, r.RoleARN, dash(r.Region),
			r.Expiration.Local().Format("2006-01-02 15:04 MST"), left, r.Backend)
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
