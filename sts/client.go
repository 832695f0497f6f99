package sts

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/saml2sts/saml2sts/internal/httpx"
)

const (
	opAssume   = "AssumeRoleWithSAML"
	opIdentity = "GetCallerIdentity"

	// STS bounds for DurationSeconds, and the fallback when a role allows
	// less than was asked (every role allows at least an hour).
	minDuration   = 15 * time.Minute
	maxDuration   = 12 * time.Hour
	retryDuration = time.Hour
)

// ClientOptions configures [NewClient].
type ClientOptions struct {
	// Region is the STS region, usually [Assertion.STSRegion]. Empty uses
	// the SDK's (AWS_REGION, the profile), else us-east-1.
	Region string
	// HTTPClient replaces the SDK's client; pass the httpx one so the CA
	// bundle, proxy and --debug trace apply.
	HTTPClient *http.Client
	// Endpoint overrides the STS URL (tests, demo). Empty takes
	// AWS_ENDPOINT_URL_STS, else AWS_ENDPOINT_URL, else the shared
	// config's endpoint settings and regional endpoints.
	Endpoint string
	// Getenv reads the environment the SDK settings come from: AWS_REGION,
	// AWS_DEFAULT_REGION, AWS_PROFILE, AWS_DEFAULT_PROFILE, AWS_CONFIG_FILE,
	// AWS_SHARED_CREDENTIALS_FILE, AWS_ENDPOINT_URL(_STS),
	// AWS_IGNORE_CONFIGURED_ENDPOINT_URLS, AWS_CA_BUNDLE and the proxy
	// variables. nil is os.Getenv. They are handed to the SDK as explicit
	// options, so a caller with an environment of its own (an in-process
	// test) is not steered by the process's.
	Getenv func(string) string
	// Now is the clock for error messages about expiry; nil is time.Now.
	Now func() time.Time
}

// Client calls STS. Calls are anonymous except GetCallerIdentity, which is
// signed with the credentials being checked.
type Client struct {
	api    *awssts.Client
	region string
	now    func() time.Time
}

// Result is what AssumeRoleWithSAML returned.
type Result struct {
	Credentials    Credentials
	AssumedRoleARN string // arn:aws:sts::<account>:assumed-role/<role>/<session>
	// Duration is the DurationSeconds that succeeded; 0 when none was sent
	// and STS applied its default (1h).
	Duration time.Duration
	// Notice, when set, tells the user that the session is shorter or
	// longer than asked and what to change; print it on stderr.
	Notice string
}

// Identity is who a set of credentials belongs to.
type Identity struct {
	Account string
	ARN     string
	UserID  string
}

// NewClient loads the AWS SDK configuration with anonymous credentials, so
// AWS_ENDPOINT_URL_STS, AWS_CA_BUNDLE, proxies and profile settings apply
// while no credential provider (in particular the profile's
// credential_process, which may be saml2sts itself) is ever run.
func NewClient(ctx context.Context, o ClientOptions) (*Client, error) {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Endpoint == "" {
		o.Endpoint = envEndpoint(o.Getenv)
	}
	cfg, err := loadConfig(ctx, o)
	if err != nil {
		return nil, err
	}
	if o.HTTPClient != nil {
		// Set after loading: LoadDefaultConfig rejects a non-buildable
		// client when AWS_CA_BUNDLE is set, and httpx applies it anyway.
		cfg.HTTPClient = o.HTTPClient
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion("aws")
	}
	api := awssts.NewFromConfig(cfg, func(so *awssts.Options) {
		if o.Endpoint != "" {
			so.BaseEndpoint = aws.String(o.Endpoint)
		}
	})
	return &Client{api: api, region: cfg.Region, now: o.Now}, nil
}

// envEndpoint is the STS endpoint the environment names, as the SDK reads
// it: AWS_ENDPOINT_URL_STS, else AWS_ENDPOINT_URL, unless
// AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true.
func envEndpoint(getenv func(string) string) string {
	if strings.EqualFold(strings.TrimSpace(getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")), "true") {
		return ""
	}
	if e := getenv("AWS_ENDPOINT_URL_STS"); e != "" {
		return e
	}
	return getenv("AWS_ENDPOINT_URL")
}

// envFirst is the first of names set in the environment.
func envFirst(getenv func(string) string, names ...string) string {
	for _, n := range names {
		if v := getenv(n); v != "" {
			return v
		}
	}
	return ""
}

// envLoadOptions are the SDK settings the environment gives, as explicit
// options: the same values LoadDefaultConfig would read from the process
// environment, taken from getenv's.
func envLoadOptions(getenv func(string) string, region string) []func(*config.LoadOptions) error {
	var opts []func(*config.LoadOptions) error
	if region == "" {
		region = envFirst(getenv, "AWS_REGION", "AWS_DEFAULT_REGION")
	}
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	// "default" when unset, as the SDK does, but said here so that the
	// process's AWS_PROFILE cannot creep in.
	profile := envFirst(getenv, "AWS_PROFILE", "AWS_DEFAULT_PROFILE")
	if profile == "" {
		profile = config.DefaultSharedConfigProfile
	}
	opts = append(opts, config.WithSharedConfigProfile(profile))
	home := getenv("HOME")
	if runtime.GOOS == "windows" {
		home = getenv("USERPROFILE")
	}
	if f := getenv("AWS_CONFIG_FILE"); f != "" {
		opts = append(opts, config.WithSharedConfigFiles([]string{f}))
	} else if home != "" {
		opts = append(opts, config.WithSharedConfigFiles([]string{filepath.Join(home, ".aws", "config")}))
	}
	if f := getenv("AWS_SHARED_CREDENTIALS_FILE"); f != "" {
		opts = append(opts, config.WithSharedCredentialsFiles([]string{f}))
	} else if home != "" {
		opts = append(opts, config.WithSharedCredentialsFiles([]string{filepath.Join(home, ".aws", "credentials")}))
	}
	return opts
}

// loadConfig loads the SDK config. The profile only contributes settings
// here, so a missing or broken AWS_PROFILE (the AWS CLI sets it when it runs
// us as credential_process) falls back to the environment alone.
func loadConfig(ctx context.Context, o ClientOptions) (aws.Config, error) {
	opts := []func(*config.LoadOptions) error{config.WithCredentialsProvider(aws.AnonymousCredentials{})}
	opts = append(opts, envLoadOptions(o.Getenv, o.Region)...)
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err == nil {
		return cfg, nil
	}
	cfg = aws.Config{
		Region:      o.Region,
		Credentials: aws.AnonymousCredentials{},
	}
	if cfg.Region == "" {
		cfg.Region = envFirst(o.Getenv, "AWS_REGION", "AWS_DEFAULT_REGION")
	}
	if o.Endpoint != "" {
		cfg.BaseEndpoint = aws.String(o.Endpoint)
	}
	// Without LoadDefaultConfig nothing applies AWS_CA_BUNDLE; httpx does.
	hc, hcErr := httpx.NewClient(httpx.Options{Getenv: o.Getenv}, time.Minute)
	if hcErr != nil {
		return aws.Config{}, fmt.Errorf("load AWS SDK configuration: %w", hcErr)
	}
	cfg.HTTPClient = hc
	return cfg, nil
}

// Region is the region STS is called in.
func (c *Client) Region() string { return c.region }

// AssumeRoleWithSAML exchanges the assertion for credentials of role. d is
// the session length wanted: 0 leaves it to STS (1h); otherwise it is
// clamped to 15m..12h, and when the role allows less than d the call is
// retried once at 1h and Result.Notice says so. role.PrincipalARN may be
// empty: it is then taken from the assertion.
func (c *Client) AssumeRoleWithSAML(ctx context.Context, a *Assertion, role Role, d time.Duration) (*Result, error) {
	if a == nil || a.Raw == "" {
		return nil, errors.New("sts AssumeRoleWithSAML: no SAML assertion: log in first")
	}
	if granted, ok := a.Find(role.RoleARN); ok {
		if role.PrincipalARN == "" {
			role = granted
		}
	} else if len(a.Roles) > 0 {
		return nil, &AssertionError{Reason: fmt.Sprintf("it does not grant %s (it grants %s): pick one of those or ask the IdP admin to map the role", role.RoleARN, roleList(a.Roles))}
	}
	if role.PrincipalARN == "" {
		return nil, fmt.Errorf("sts AssumeRoleWithSAML: no SAML provider ARN for %s: set it in the profile", role.RoleARN)
	}

	res := &Result{}
	switch {
	case d == 0:
	case d < minDuration:
		res.Notice = fmt.Sprintf("duration %s is below the STS minimum; using %s", fmtDuration(d), fmtDuration(minDuration))
		d = minDuration
	case d > maxDuration:
		res.Notice = fmt.Sprintf("duration %s is above the STS maximum; using %s", fmtDuration(d), fmtDuration(maxDuration))
		d = maxDuration
	}
	in := &awssts.AssumeRoleWithSAMLInput{
		RoleArn:       aws.String(role.RoleARN),
		PrincipalArn:  aws.String(role.PrincipalARN),
		SAMLAssertion: aws.String(a.Raw),
	}
	if d > 0 {
		in.DurationSeconds = aws.Int32(int32(d / time.Second))
	}
	out, err := c.api.AssumeRoleWithSAML(ctx, in)
	if err != nil && d > retryDuration && exceedsMax(err) {
		in.DurationSeconds = aws.Int32(int32(retryDuration / time.Second))
		out, err = c.api.AssumeRoleWithSAML(ctx, in)
		if err == nil {
			res.Notice = fmt.Sprintf("role %s does not allow %s sessions; got %s: set duration = %s in the profile, or ask an admin to raise the role's maximum session duration",
				role.Name(), fmtDuration(d), fmtDuration(retryDuration), fmtDuration(retryDuration))
			d = retryDuration
		}
	}
	if err != nil {
		return nil, call{op: opAssume, role: role, region: c.region, now: c.now()}.apiError(err)
	}
	return res.fill(opAssume, out.Credentials, out.AssumedRoleUser, d)
}

// fill completes res from an Assume* answer.
func (res *Result) fill(op string, c *ststypes.Credentials, u *ststypes.AssumedRoleUser, d time.Duration) (*Result, error) {
	if c == nil {
		return nil, fmt.Errorf("sts %s: response holds no credentials", op)
	}
	res.Credentials = Credentials{
		AccessKeyID:     aws.ToString(c.AccessKeyId),
		SecretAccessKey: aws.ToString(c.SecretAccessKey),
		SessionToken:    aws.ToString(c.SessionToken),
		Expiration:      aws.ToTime(c.Expiration).UTC(),
	}
	if u != nil {
		res.AssumedRoleARN = aws.ToString(u.Arn)
	}
	res.Duration = d
	return res, nil
}

// CallerIdentity asks STS who creds belong to (GetCallerIdentity, signed
// with creds). It is the cheapest check that credentials still work.
func (c *Client) CallerIdentity(ctx context.Context, creds Credentials) (*Identity, error) {
	out, err := c.api.GetCallerIdentity(ctx, &awssts.GetCallerIdentityInput{}, func(o *awssts.Options) {
		o.Credentials = credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken)
	})
	if err != nil {
		return nil, call{op: opIdentity, region: c.region, exp: creds.Expiration, now: c.now()}.apiError(err)
	}
	return &Identity{
		Account: aws.ToString(out.Account),
		ARN:     aws.ToString(out.Arn),
		UserID:  aws.ToString(out.UserId),
	}, nil
}

func roleList(rs []Role) string {
	var names []string
	for i, r := range rs {
		if i == 5 {
			names = append(names, fmt.Sprintf("and %d more", len(rs)-i))
			break
		}
		names = append(names, r.RoleARN)
	}
	return strings.Join(names, ", ")
}

// fmtDuration prints 8h, 90m as 1h30m, 15m: no trailing zero units.
func fmtDuration(d time.Duration) string {
	s := d.Round(time.Second).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
