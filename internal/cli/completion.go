package cli

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/saml2sts/saml2sts/internal/config"
)

// flagValues are the fixed answers for flags whose values are a closed set
// (or, for --mfa, the common factor names), by flag name; --format is per
// command.
var flagValues = map[string][]string{
	"provider":           {"keycloak", "okta", "adfs", "form"},
	"mfa":                {"auto", "push", "totp", "sms", "call", "passcode", "email"},
	"cache":              {"auto", "keyring", "file"},
	"service":            {"auto", "es", "aoss"},
	"opensearch-service": {"auto", "es", "aoss"},
	"via":                {"iam", "dashboards"},
	"adfs-auth":          {"forms", "ntlm", "kerberos"},
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
		for name, vals := range flagValues {
			if c.LocalFlags().Lookup(name) != nil {
				_ = c.RegisterFlagCompletionFunc(name, fixed(vals))
			}
		}
		if fl := c.LocalFlags().Lookup("format"); fl != nil {
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
