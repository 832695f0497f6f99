package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/saml2sts/saml2sts/internal/broker"
	"github.com/saml2sts/saml2sts/internal/config"
)

type envOptions struct {
	f      *factory
	format string
}

var envFormats = []string{"sh", "fish", "powershell", "dotenv", "json"}

func newEnvCmd(f *factory) *cobra.Command {
	opts := &envOptions{f: f}
	cmd := &cobra.Command{
		Use:   "env [--format sh|fish|powershell|dotenv|json]",
		Short: "Print the credentials as environment variables for a shell",
		Long: `Print AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
AWS_CREDENTIAL_EXPIRATION, AWS_REGION and AWS_DEFAULT_REGION in the chosen
format (and unset AWS_PROFILE, which would otherwise win over them). Prefer
"saml2sts exec" or credential_process: these variables do not refresh.`,
		Example: `  eval "$(saml2sts env --profile analytics)"
  saml2sts env --profile analytics --format fish | source
  saml2sts env --profile analytics --format powershell | Invoke-Expression
  saml2sts env --profile analytics --format dotenv > .env`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !contains(envFormats, opts.format) {
				return usageErrorf("--format %q: use one of %s", opts.format, strings.Join(envFormats, ", "))
			}
			return envRun(cmd.Context(), cmd, opts)
		},
	}
	cmd.Flags().StringVarP(&opts.format, "format", "f", "sh", "output `format`: "+strings.Join(envFormats, ", "))
	addBrowserFlags(cmd.Flags())
	return cmd
}

func envRun(ctx context.Context, cmd *cobra.Command, o *envOptions) error {
	p, r, err := o.f.credentials(ctx, cmd)
	if err != nil {
		return err
	}
	return writeEnv(o.f.out, o.format, credentialEnv(p, r))
}

// envVar is one variable to set, in a stable order.
type envVar struct{ name, value string }

// credentialEnv lists what exec and env set.
func credentialEnv(p *config.Profile, r *broker.Result) []envVar {
	c := r.Credentials
	vars := []envVar{
		{"AWS_ACCESS_KEY_ID", c.AccessKeyID},
		{"AWS_SECRET_ACCESS_KEY", c.SecretAccessKey},
		{"AWS_SESSION_TOKEN", c.SessionToken},
		{"AWS_CREDENTIAL_EXPIRATION", c.Expiration.UTC().Truncate(time.Second).Format(time.RFC3339)},
	}
	return append(vars, regionEnv(p, r)...)
}

// containerEnv lists what exec --ecs-server sets: where to fetch
// credentials rather than the credentials.
func containerEnv(p *config.Profile, r *broker.Result, url, token string) []envVar {
	vars := []envVar{
		{"AWS_CONTAINER_CREDENTIALS_FULL_URI", url},
		{"AWS_CONTAINER_AUTHORIZATION_TOKEN", token},
	}
	return append(vars, regionEnv(p, r)...)
}

// regionEnv is the profile's region, else the one the login used.
func regionEnv(p *config.Profile, r *broker.Result) []envVar {
	reg := region(p, r)
	if reg == "" {
		return nil
	}
	return []envVar{{"AWS_REGION", reg}, {"AWS_DEFAULT_REGION", reg}}
}

// unsetVars would shadow the credentials we set.
var unsetVars = []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE"}

// shadowContainer would win over the container endpoint in the SDKs'
// credential chains (botocore even prefers the RELATIVE_URI and
// TOKEN_FILE variants), or describe credentials the child no longer has.
var shadowContainer = []string{
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
	"AWS_CREDENTIAL_EXPIRATION", "AWS_WEB_IDENTITY_TOKEN_FILE",
	"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
}

func writeEnv(w io.Writer, format string, vars []envVar) error {
	var b strings.Builder
	switch format {
	case "json":
		m := map[string]string{}
		for _, v := range vars {
			m[v.name] = v.value
		}
		out, err := json.MarshalIndent(m, "", "  ")
		if err != nil {
			return err
		}
		b.Write(out)
		b.WriteByte('\n')
	case "dotenv":
		for _, v := range vars {
			fmt.Fprintf(&b, "%s=%s\n", v.name, dotenvQuote(v.value))
		}
	case "fish":
		for _, u := range unsetVars {
			fmt.Fprintf(&b, "set -e %s;\n", u)
		}
		for _, v := range vars {
			fmt.Fprintf(&b, "set -gx %s %s;\n", v.name, shQuote(v.value))
		}
	case "powershell":
		for _, u := range unsetVars {
			fmt.Fprintf(&b, "Remove-Item Env:%s -ErrorAction SilentlyContinue\n", u)
		}
		for _, v := range vars {
			fmt.Fprintf(&b, "$Env:%s = '%s'\n", v.name, strings.ReplaceAll(v.value, "'", "''"))
		}
	default: // sh
		for _, u := range unsetVars {
			fmt.Fprintf(&b, "unset %s\n", u)
		}
		for _, v := range vars {
			fmt.Fprintf(&b, "export %s=%s\n", v.name, shQuote(v.value))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// shQuote single-quotes s for sh and fish.
func shQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// dotenvQuote quotes only when needed; AWS values never need it.
func dotenvQuote(s string) string {
	if strings.ContainsAny(s, " #\"'$\\\n") {
		return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "$", `\$`).Replace(s) + `"`
	}
	return s
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
