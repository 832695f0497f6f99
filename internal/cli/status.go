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

func newStatusCmd(f *factory) *cobra.Command {
	opts := &statusOptions{f: f, now: time.Now}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "List cached sessions: profile, role, time left, backend",
		Long: `List every profile with cached credentials: the role, the region, when the
credentials expire and how long is left, and where they are kept (keyring or
file), and, on stderr, any renewal paused after a failure (why, until when).
It reads only the non-secret index, never the secrets themselves.
With --profile, only that profile is shown.`,
		Example: `  saml2sts status
  saml2sts status --profile analytics
  saml2sts status --json | jq '.[] | select(.seconds_left < 900) | .profile'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
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
	// Set while automatic renewals back off after a failure.
	RenewalFailures    int        `json:"renewal_failures,omitempty"`
	RenewalPausedUntil *time.Time `json:"renewal_paused_until,omitempty"`
	RenewalError       string     `json:"renewal_error,omitempty"`
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
		row := statusRow{Profile: m.Profile, RoleARN: m.RoleARN, Region: m.Region, Backend: m.Backend,
			Expiration: m.Expiration.UTC(), SecondsLeft: left, IdPSession: m.HasSession}
		if bo, ok := cache.ReadBackoff(dir, m.Identity); ok && m.Identity != "" && now.Before(bo.Next) {
			until := bo.Next.UTC()
			row.RenewalFailures, row.RenewalPausedUntil, row.RenewalError = bo.Failures, &until, bo.Cause
		}
		rows = append(rows, row)
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
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range rows {
		if r.RenewalPausedUntil != nil {
			fmt.Fprintf(o.f.errOut, "%s: renewal paused until %s after %d failed attempts: %s (saml2sts login --profile %s renews now)\n",
				r.Profile, r.RenewalPausedUntil.Local().Format("15:04:05 MST"), r.RenewalFailures, r.RenewalError, r.Profile)
		}
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
