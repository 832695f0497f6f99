package cli

import (
	"context"
	"encoding/json"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/spf13/cobra"

	"github.com/saml2sts/saml2sts/idp/providers"
	"github.com/saml2sts/saml2sts/internal/config"
	"github.com/saml2sts/saml2sts/opensearch"
)

// flagValues are the fixed answers for flags whose values are a closed set
// (or, for --mfa, the common factor names), by flag name; --format is per
// command.
var flagValues = map[string][]string{
	"provider":           providers.Names(),
	"mfa":                {"auto", "push", "totp", "sms", "call", "passcode", "email"},
	"cache":              {"auto", "keyring", "file"},
	"service":            {"auto", "es", "aoss"},
	"opensearch-service": {"auto", "es", "aoss"},
	"via":                {"iam", "dashboards"},
	"adfs-auth":          {"forms", "ntlm", "kerberos"},
	"browser":            {"never", "always", "fallback"},
	"account-names":      {"auto", "off"},
}

// addCompletions wires value completion into every command of the tree:
// profile names from the config file, closed sets from flagValues and each
// command's --format list. Nothing here logs in or touches the network.
func addCompletions(f *factory, root *cobra.Command) {
	_ = root.RegisterFlagCompletionFunc("profile", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return profileNames(f), cobra.ShellCompDirectiveNoFileComp
	})
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		local := c.LocalFlags() // built anew at each call: every run pays it
		for name, vals := range flagValues {
			if local.Lookup(name) != nil {
				_ = c.RegisterFlagCompletionFunc(name, fixed(vals))
			}
		}
		if fl := local.Lookup("format"); fl != nil {
			if vals := formatValues(fl.Usage); len(vals) > 0 {
				_ = c.RegisterFlagCompletionFunc("format", fixed(vals))
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

func fixed(vals []string) cobra.CompletionFunc {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return vals, cobra.ShellCompDirectiveNoFileComp
	}
}

// profileNames lists the config file's profiles; a missing or broken file
// completes nothing rather than printing an error into the shell.
func profileNames(f *factory) []string {
	file, err := config.Load(f.configPath())
	if err != nil {
		return nil
	}
	return file.Profiles()
}

// formatValues reads the values out of a --format usage line such as
// "output `format`: json, ndjson, csv or table (default json ...)", so the
// completion cannot drift from the help.
func formatValues(usage string) []string {
	_, list, ok := strings.Cut(usage, ":")
	if !ok {
		return nil
	}
	list, _, _ = strings.Cut(list, "(")
	list = strings.ReplaceAll(list, " or ", ",")
	var vals []string
	for _, v := range strings.Split(list, ",") {
		if v = strings.TrimSpace(v); v != "" && !strings.ContainsAny(v, " `") {
			vals = append(vals, v)
		}
	}
	return vals
}

// indexNames completes search's INDEX with the domain's index names, read
// with _cat/indices and signed with the profile's cached credentials only:
// no login, no prompt, nothing printed, 3 s at most. Anything missing
// (profile, endpoint, fresh credentials) completes nothing.
func indexNames(ctx context.Context, f *factory, cmd *cobra.Command, o *osFlags) []string {
	p, err := f.profile(overrides(cmd.Flags()))
	if err != nil {
		return nil
	}
	ep, err := f.osEndpoint(p, o)
	if err != nil {
		return nil
	}
	rt, err := f.transport()
	if err != nil {
		return nil
	}
	opts := opensearch.Options{Endpoint: ep, Transport: rt}
	if !o.noSign {
		b, err := f.broker(p)
		if err != nil {
			return nil
		}
		r, ok := b.Fresh(p)
		if !ok {
			return nil
		}
		c := r.Credentials
		opts.Credentials = credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)
	}
	c, err := opensearch.New(opts)
	if err != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	resp, err := c.Do(ctx, &opensearch.Request{Method: "GET", Path: "/_cat/indices", Query: url.Values{"h": {"index"}, "format": {"json"}}})
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var rows []struct{ Index string }
	if resp.Status != 200 || json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(&rows) != nil {
		return nil
	}
	names := make([]string, 0, len(rows))
	for _, r := range rows {
		if !strings.HasPrefix(r.Index, ".") { // system indexes
			names = append(names, r.Index)
		}
	}
	return names
}
