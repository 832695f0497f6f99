package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/saml2sts/saml2sts/cache"
	"github.com/saml2sts/saml2sts/internal/config"
)

type exportOptions struct {
	f         *factory
	credsFile bool
	as        string
}

func newExportCmd(f *factory) *cobra.Command {
	opts := &exportOptions{f: f}
	cmd := &cobra.Command{
		Use:   "export --to-credentials-file [--as NAME]",
		Short: "Write the credentials into ~/.aws/credentials for tools without credential_process",
		Long: `Write aws_access_key_id, aws_secret_access_key, aws_session_token and
x_security_token_expires of the profile's credentials (renewing them like
credential-process does) into the [NAME] section of the shared credentials
file: $AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials. NAME defaults
to the profile's name.

This is for tools that cannot run credential_process (old SDKs, some IDE
plugins). The keys do not renew themselves: run export again before
x_security_token_expires. The file is replaced atomically and kept 0600 (a
new file) or at its mode; every other section and comment stays byte for
byte. "saml2sts logout" removes the section again (only the keys export
wrote: a section you have since edited is left alone).

Keys in this file win over credential_process: do not export under the
name of an AWS profile that uses credential_process.`,
		Example: `  saml2sts export --profile analytics --to-credentials-file
  saml2sts export --profile analytics --to-credentials-file --as analytics-static
  AWS_PROFILE=analytics-static old-tool ...`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !opts.credsFile {
				return usageErrorf("export: say where to: --to-credentials-file (see saml2sts export --help)")
			}
			if cmd.Flags().Changed("as") && !validSection(opts.as) {
				return usageErrorf("--as %q: use a section name without spaces, brackets or control characters", opts.as)
			}
			return exportRun(cmd.Context(), cmd, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.credsFile, "to-credentials-file", false, "write into the shared credentials file")
	cmd.Flags().StringVar(&opts.as, "as", "", "the `name` of the section to write (default: the profile's name)")
	return cmd
}

func validSection(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r == '[' || r == ']' || r == 0x7f {
			return false
		}
	}
	return true
}

func exportRun(ctx context.Context, cmd *cobra.Command, o *exportOptions) error {
	f := o.f
	p, r, err := f.credentials(ctx, cmd)
	if err != nil {
		return err
	}
	section := o.as
	if section == "" {
		section = p.Name
	}
	c := r.Credentials
	expires := c.Expiration.UTC().Truncate(time.Second).Format(time.RFC3339)
	path := config.AWSCredentialsPath(f.getenv)
	dir, err := f.cacheDir()
	if err != nil {
		return err
	}
	created, err := config.SetAWSCredentials(path, section, map[string]string{
		"aws_access_key_id":        c.AccessKeyID,
		"aws_secret_access_key":    c.SecretAccessKey,
		"aws_session_token":        c.SessionToken,
		"x_security_token_expires": expires,
	})
	if err != nil {
		return err
	}
	// A section that already held our keys was ours: keep "created" so
	// that logout still removes all of it.
	for _, e := range cache.Exports(dir, p.Name) {
		if e.Path == path && e.Section == section && e.Created {
			created = true
		}
	}
	if err := cache.RecordExport(dir, cache.Export{Profile: p.Name, Path: path, Section: section,
		Created: created, KeyHash: cache.KeyHash(c.AccessKeyID), Written: time.Now().UTC()}); err != nil {
		return err
	}
	fmt.Fprintf(f.errOut, "Wrote credentials of %s to [%s] in %s; they expire at %s and do not renew: run export again before then (logout removes them)\n",
		p.Name, section, path, expires)
	if config.AWSProfileHas(config.AWSConfigPath(f.getenv), section, "credential_process") {
		fmt.Fprintf(f.errOut, "warning: AWS profile %s also has credential_process in %s; the keys just written win over it and will not renew: export with --as another name\n",
			section, config.AWSConfigPath(f.getenv))
	}
	return nil
}

// removeExports deletes the credentials-file sections export wrote for
// profile, keeping any the user has since changed, and their records.
func removeExports(f *factory, dir, profile string) error {
	for _, e := range cache.Exports(dir, profile) {
		removed, err := config.RemoveAWSCredentials(e.Path, e.Section, e.Created, func(id string) bool { return cache.KeyHash(id) == e.KeyHash })
		if err != nil {
			return fmt.Errorf("logout %s: %w", profile, err)
		}
		if removed {
			fmt.Fprintf(f.errOut, "Removed [%s] from %s (written by saml2sts export)\n", e.Section, e.Path)
		} else {
			fmt.Fprintf(f.errOut, "Left [%s] in %s alone: it no longer holds the keys saml2sts export wrote\n", e.Section, e.Path)
		}
		if err := cache.DropExport(dir, e); err != nil {
			return err
		}
	}
	return nil
}

// exportedHint says how to get rid of a credentials-file section that
// shadows credential_process: logout, when export wrote it.
func exportedHint(f *factory, path, section string) string {
	if dir, err := f.cacheDir(); err == nil {
		for _, e := range cache.AllExports(dir) {
			if e.Path == path && e.Section == section {
				return fmt.Sprintf("saml2sts export wrote them; remove them with saml2sts logout --profile %s", shellQuote(e.Profile))
			}
		}
	}
	return "remove them"
}
