package cli

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/saml2sts/saml2sts/idp/idptest"
	"github.com/saml2sts/saml2sts/opensearch/opensearchtest"
	"github.com/saml2sts/saml2sts/sts/ststest"
)

type demoOptions struct {
	f    *factory
	keep bool
}

func newDemoCmd(f *factory) *cobra.Command {
	opts := &demoOptions{f: f}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the whole flow against loopback emulators (no AWS account needed)",
		Long: `Start a Keycloak emulator that issues real signed SAML responses, an STS
emulator that verifies them and an OpenSearch emulator that checks every
request's SigV4 signature, all on 127.0.0.1, then run configure, login
(password and one-time code), credential-process, exec, status, whoami,
search (one query, then a paged export) and logout against them, printing
each command as it goes. Nothing outside a temporary directory is touched:
not your config, not your keyring.`,
		Example: `  go run ./cmd/saml2sts demo
  saml2sts demo --keep     # keep the temporary directory to look around`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return demoRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.keep, "keep", false, "keep the temporary directory")
	return cmd
}

const (
	demoAccount  = "123456789012"
	demoProvider = "arn:aws:iam::" + demoAccount + ":saml-provider/corp-keycloak"
	demoReader   = "arn:aws:iam::" + demoAccount + ":role/SearchReader"
	demoAdmin    = "arn:aws:iam::" + demoAccount + ":role/SearchAdmin"
	demoUser     = "ana"
	demoPassword = "correct horse battery staple"
	demoOTP      = "246810"
)

func demoRun(ctx context.Context, o *demoOptions) error {
	f := o.f
	dir, err := os.MkdirTemp("", "saml2sts-demo-")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Fprintf(f.errOut, "# keeping %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	kc, err := idptest.NewKeycloak(idptest.KeycloakOptions{
		Users: []idptest.User{{
			Username: demoUser,
			Password: demoPassword,
			OTP:      []idptest.OTP{{ID: "otp-1", Label: "FreeOTP", Code: demoOTP}},
			Roles:    []string{demoReader + "," + demoProvider, demoProvider + "," + demoAdmin},
		}},
	})
	if err != nil {
		return err
	}
	defer kc.Close()
	st := ststest.New(ststest.Options{Providers: map[string]*x509.Certificate{demoProvider: kc.Certificate()},
		AccountNames: map[string]string{demoAccount: "demo-search"}})
	defer st.Close()
	osrv, err := demoOpenSearch(st)
	if err != nil {
		return err
	}
	defer osrv.Close()

	// Every step runs in an environment that points at the temporary
	// directory and the emulators.
	env := map[string]string{
		"SAML2STS_CONFIG":             filepath.Join(dir, "config"),
		"SAML2STS_CACHE_DIR":          filepath.Join(dir, "cache"),
		"AWS_CONFIG_FILE":             filepath.Join(dir, "aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "aws-credentials"),
		"AWS_ENDPOINT_URL_STS":        st.URL(),
		"SAML2STS_SIGNIN_URL":         st.SigninURL(),
		"SAML2STS_CACHE":              "file",
		"SAML2STS_PROFILE":            "",
		"AWS_PROFILE":                 "",
	}
	environ := overlay(f.env.environ(), env)
	sub := func(stdin string) *factory {
		return newFactory(Process{Env: environ, Stdin: strings.NewReader(stdin), Stdout: f.out, Stderr: f.errOut,
			Now: f.now, After: f.after, NoTerminal: f.noTTY})
	}
	fmt.Fprintf(f.errOut, "# Keycloak emulator: %s\n# STS emulator:      %s\n# OpenSearch emulator: %s\n# user %q, password %q, one-time code %s\n\n",
		kc.URL(), st.URL(), osrv.URL(), demoUser, demoPassword, demoOTP)

	steps := []struct {
		stdin string
		args  []string
	}{
		{"", []string{"configure", "--profile", "demo", "--provider", "keycloak", "--url", kc.URL(),
			"--username", demoUser, "--role-arn", demoReader, "--region", "eu-west-1", "--aws-profile", "demo",
			"--opensearch-endpoint", osrv.URL(), "--opensearch-service", "es"}},
		{demoPassword + "\n", []string{"login", "--profile", "demo", "--password-stdin", "--mfa-code", demoOTP}},
		{"", []string{"credential-process", "--profile", "demo"}},
		{"", []string{"status"}},
		{"", []string{"whoami", "--profile", "demo"}},
		{"", []string{"env", "--profile", "demo", "--format", "dotenv"}},
		{"", []string{"console", "--profile", "demo", "--print"}},
		{"", []string{"search", "cats_and_dogs", "description:farm", "--profile", "demo", "--format", "table"}},
		{"", []string{"search", "cats_and_dogs", "--all", "--size", "2", "--profile", "demo", "--format", "ndjson", "--with-meta"}},
	}
	if _, err := f.env.lookPath("sh"); err == nil {
		steps = append(steps, struct {
			stdin string
			args  []string
		}{"", []string{"exec", "--profile", "demo", "--", "sh", "-c", `echo "child sees AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID, region $AWS_REGION, expires $AWS_CREDENTIAL_EXPIRATION"`}})
	}

	// The throwaway `go run` binary exists for as long as the demo runs, so
	// ~/.aws/config can point at it.
	self := f.self
	if self == "" {
		exe, _ := os.Executable()
		self = shellQuote(exe)
	}
	for _, s := range steps {
		fmt.Fprintf(f.errOut, "$ saml2sts %s\n", demoQuote(s.args))
		sf := sub(s.stdin)
		sf.g.noInput = true
		sf.self = self
		if code := run(ctx, sf, s.args); code != 0 {
			return &exitError{code: code, silent: true}
		}
		fmt.Fprintln(f.errOut)
	}
	if aws, err := f.env.lookPath("aws"); err == nil {
		fmt.Fprintf(f.errOut, "$ aws sts get-caller-identity --profile demo --endpoint-url %s   # the AWS CLI runs our credential_process\n", st.URL())
		c := exec.CommandContext(ctx, aws, "sts", "get-caller-identity", "--profile", "demo", "--output", "json", "--endpoint-url", st.URL())
		c.Env, c.Stdout, c.Stderr = environ, f.out, f.errOut
		if err := c.Run(); err != nil {
			return fmt.Errorf("the AWS CLI failed with our credential_process: %w", err)
		}
		fmt.Fprintln(f.errOut)
	}
	fmt.Fprintf(f.errOut, "$ saml2sts logout --profile demo\n")
	lf := sub("")
	lf.noKeyring = true
	if code := run(ctx, lf, []string{"logout", "--profile", "demo"}); code != 0 {
		return &exitError{code: code, silent: true}
	}
	fmt.Fprintln(f.errOut)
	stats := kc.Stats()
	fmt.Fprintf(f.errOut, "# done: %d IdP login(s), %d AssumeRoleWithSAML call(s), %d GetCallerIdentity call(s), %d signed OpenSearch request(s)\n",
		stats.Logins, st.Calls("AssumeRoleWithSAML"), st.Calls("GetCallerIdentity"), osrv.Stats().Signed)
	return nil
}

// demoOpenSearch starts an OpenSearch emulator that checks every request's
// SigV4 signature against the credentials the STS emulator issued.
func demoOpenSearch(st *ststest.Server) (*opensearchtest.Server, error) {
	srv, err := opensearchtest.New(opensearchtest.Options{Region: "eu-west-1",
		Verify: func(r *http.Request, body []byte, service string) (string, error) {
			c, err := st.Verify(r, body, service)
			return c.AssumedRoleARN, err
		}})
	if err != nil {
		return nil, err
	}
	var docs []json.RawMessage
	for _, d := range []string{
		`{"name":"Tom","kind":"cat","description":"farm cat, catches mice in the barn"}`,
		`{"name":"Rex","kind":"dog","description":"herds sheep on the farm"}`,
		`{"name":"Felix","kind":"cat","description":"city cat, sleeps on the sofa"}`,
		`{"name":"Lassie","kind":"dog","description":"farm dog, rescues everyone"}`,
		`{"name":"Nemo","kind":"fish","description":"lives in a bowl"}`,
	} {
		docs = append(docs, json.RawMessage(d))
	}
	srv.AddDocs("cats_and_dogs", docs...)
	return srv, nil
}

func demoQuote(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = shellQuote(a)
	}
	return strings.Join(out, " ")
}
