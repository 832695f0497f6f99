package cli

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/saml2sts/saml2sts/idp/browser"
	"github.com/saml2sts/saml2sts/internal/config"
)

type configureOptions struct {
	f          *factory
	values     map[string]string // config key -> value, only flags given
	awsProfile string
	exe        string // how ~/.aws/config should call us
}

func newConfigureCmd(f *factory) *cobra.Command {
	opts := &configureOptions{f: f}
	cmd := &cobra.Command{
		Use:   "configure [flags]",
		Short: "Create or update a profile (and wire it into ~/.aws/config)",
		Long: `Write the given settings into the profile's section of the saml2sts config
file, keeping everything else (comments included). Only the flags you pass
are written; an empty value ("--role-arn ''") removes that key.

With --aws-profile NAME, also write "credential_process = saml2sts
credential-process --profile PROFILE" (with --config FILE when the file was
chosen by --config or $SAML2STS_CONFIG, and the region) into ~/.aws/config
($AWS_CONFIG_FILE), so that every AWS CLI and SDK call with --profile NAME
gets credentials from saml2sts. When saml2sts-credential-process is
installed beside saml2sts (go install ./cmd/...), the line runs it instead:
it prints cached credentials in a fraction of the start-up time and runs
saml2sts credential-process for everything else.`,
		Example: `  saml2sts configure --profile analytics --provider keycloak \
      --url https://sso.example.com/realms/corp/protocol/saml/clients/aws \
      --username ana --role-arn arn:aws:iam::123456789012:role/SearchReader \
      --region eu-west-1 --aws-profile analytics
  saml2sts configure --profile m365 --provider entra \
      --url https://login.microsoftonline.com/<tenant-id>/saml2 \
      --entra-entity-id https://signin.aws.amazon.com/saml#2 --username ana@corp.example \
      --role-arn arn:aws:iam::123456789012:role/Analyst --region eu-west-1 --aws-profile m365
  saml2sts configure --profile analytics --password-command 'pass show corp/sso'
  saml2sts configure --profile analytics --duration 8h --refresh-window 20m
  saml2sts configure --profile corp --provider okta --url https://corp.okta.com/home/amazon_aws/0oa1b2c3/272 \
      --username ana --browser            # or --browser=fallback: the browser only when needed
  # role chaining: assume Analyst in another account with the SAML role's credentials
  saml2sts configure --profile analytics --chain-role-arn arn:aws:iam::999988887777:role/Analyst \
      --chain-external-id corp-42
  saml2sts configure --profile analytics --account-names off   # account numbers only`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.values = overrides(cmd.Flags(), keyNames()...)
			if len(opts.values) == 0 && opts.awsProfile == "" {
				return usageErrorf("nothing to configure: pass at least one setting, e.g. --provider keycloak --url URL")
			}
			// Before anything is written: a bad --aws-profile must not
			// leave the profile half configured.
			if err := config.CheckProfileName(f.profileName()); err != nil {
				return usageErrorf("%v", err)
			}
			if err := config.CheckProfileName(opts.awsProfile); opts.awsProfile != "" && err != nil {
				return usageErrorf("--aws-profile: %v", err)
			}
			opts.exe = f.selfCommand()
			return configureRun(opts)
		},
	}
	for _, k := range config.Keys() {
		help := k.Help
		if k.Default != "" {
			help += " (default " + k.Default + ")"
		}
		cmd.Flags().String(strings.ReplaceAll(k.Name, "_", "-"), "", help)
	}
	cmd.Flags().Lookup("browser").NoOptDefVal = browser.Always // --browser alone
	cmd.Flags().StringVar(&opts.awsProfile, "aws-profile", "", "also write credential_process into this ~/.aws/config `profile`")
	return cmd
}

func keyNames() []string {
	var names []string
	for _, k := range config.Keys() {
		names = append(names, k.Name)
	}
	return names
}

func configureRun(o *configureOptions) error {
	f := o.f
	path := f.configPath()
	name := f.profileName()
	if len(o.values) > 0 {
		p, err := config.Preview(path, name, o.values)
		if err != nil {
			return err
		}
		if err := checkProfile(p); err != nil {
			return err
		}
		if err := config.Set(path, name, o.values); err != nil {
			return err
		}
		var set, removed []string
		for k, v := range o.values {
			if v == "" {
				removed = append(removed, k)
			} else {
				set = append(set, k)
			}
		}
		sort.Strings(set)
		sort.Strings(removed)
		if len(set) > 0 {
			fmt.Fprintf(f.errOut, "Wrote %s to [%s] in %s\n", strings.Join(set, ", "), sectionName(name), path)
		}
		if len(removed) > 0 {
			fmt.Fprintf(f.errOut, "Removed %s from [%s] in %s\n", strings.Join(removed, ", "), sectionName(name), path)
		}
	}
	if o.awsProfile == "" {
		return nil
	}
	return wireAWSProfile(f, o.exe, name, o.awsProfile)
}

// wireAWSProfile writes credential_process for saml2sts profile name into
// the ~/.aws/config profile awsName, warning of what would shadow it.
func wireAWSProfile(f *factory, exe, name, awsName string) error {
	// Check the profile resolves before pointing the AWS CLI at it.
	p, err := f.profile(nil)
	if err != nil {
		return err
	}
	// The AWS CLI runs this from any directory and environment: name the
	// profile even when it is default (SAML2STS_PROFILE may be set there)
	// and the file by absolute path when it is not the default one.
	cp := exe + " credential-process --profile " + shellQuote(name)
	if h := helperBeside(exe); h != "" {
		cp = h + " --profile " + shellQuote(name)
	}
	if cfg := f.explicitConfig(); cfg != "" {
		cp += " --config " + shellQuote(cfg)
	}
	vals := map[string]string{"credential_process": cp}
	if p.Region != "" {
		vals["region"] = p.Region
	}
	awsPath := config.AWSConfigPath(f.getenv)
	if err := config.SetAWSProfile(awsPath, awsName, vals); err != nil {
		return err
	}
	fmt.Fprintf(f.errOut, "Wrote credential_process to [%s] in %s\n", awsSection(awsName), awsPath)
	if bad, credPath := config.AWSCredentialsConflict(f.getenv, awsName); bad {
		fmt.Fprintf(f.errOut, "warning: %s has static keys for [%s]; the AWS CLI uses those instead of credential_process: %s\n", credPath, awsName, exportedHint(f, credPath, awsName))
	}
	if keys := config.AWSProfileShadows(awsPath, awsName); len(keys) > 0 {
		fmt.Fprintf(f.errOut, "warning: [%s] in %s also sets %s, which the AWS CLI and SDKs use before credential_process: remove them\n",
			awsSection(awsName), awsPath, strings.Join(keys, ", "))
	}
	return nil
}

// selfCommand is how ~/.aws/config should call us.
func (f *factory) selfCommand() string {
	if f.self != "" {
		return f.self
	}
	return selfCommand()
}

func sectionName(profile string) string {
	if profile == "default" {
		return "default"
	}
	return "profile " + profile
}

func awsSection(profile string) string { return sectionName(profile) }

// selfCommand is how other programs should run us: our absolute path, or
// plain "saml2sts" when running from a throwaway `go run` build.
func selfCommand() string {
	exe, err := os.Executable()
	if err != nil {
		return "saml2sts"
	}
	if strings.Contains(exe, string(filepath.Separator)+"go-build") {
		return "saml2sts"
	}
	return shellQuote(stablePath(exe, exec.LookPath))
}

// helperName is the warm-path helper (cmd/saml2sts-credential-process).
const helperName = "saml2sts-credential-process"

// helperBeside is the quoted absolute path of the warm-path helper when it
// sits beside exe (how we are run, shell-quoted), else "": the helper
// answers cached calls in a fraction of our start-up time, and runs us
// for everything else.
func helperBeside(exe string) string {
	path := exe
	if u, err := unquote(exe); err == nil {
		path = u
	}
	if !filepath.IsAbs(path) {
		return ""
	}
	name := helperName
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	h := filepath.Join(filepath.Dir(path), name)
	if fi, err := os.Stat(h); err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 && runtime.GOOS != "windows" {
		return ""
	}
	return shellQuote(h)
}

// unquote undoes shellQuote.
func unquote(s string) (string, error) {
	if !strings.HasPrefix(s, "'") {
		return s, nil
	}
	if len(s) < 2 || !strings.HasSuffix(s, "'") {
		return "", fmt.Errorf("bad quoting: %s", s)
	}
	return strings.ReplaceAll(s[1:len(s)-1], `'\''`, "'"), nil
}

// stablePath prefers the PATH entry that runs exe (often a symlink such as
// /opt/homebrew/bin/saml2sts) over exe itself, whose versioned target
// disappears on upgrade.
func stablePath(exe string, lookPath func(string) (string, error)) string {
	p, err := lookPath("saml2sts")
	if err != nil {
		return exe
	}
	if abs, err := filepath.Abs(p); err == nil {
		p = abs
	}
	a, err1 := os.Stat(p)
	b, err2 := os.Stat(exe)
	if err1 == nil && err2 == nil && os.SameFile(a, b) {
		return p
	}
	return exe
}

// shellQuote quotes s for the AWS CLI's credential_process parser (shlex).
func shellQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t'\"\\$`") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
