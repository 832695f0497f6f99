package sts

import (
	"context"
	"errors"
	"fmt"
	"net/http"
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
	// Endpoint overrides the STS URL (tests, demo). Empty leaves it to the
	// SDK, which honours AWS_ENDPOINT_URL_STS and regional endpoints.
	Endpoint string
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
	cfg, err := loadConfig(ctx, o.Region)
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
	return &Client{api: api, region: cfg.Region, now: time.Now}, nil
}

// loadConfig loads the SDK config. The profile only contributes settings
// here, so a missing or broken AWS_PROFILE (the AWS CLI sets it when it runs
// us as credential_process) falls back to the environment alone.
func loadConfig(ctx context.Context, region string) (aws.Config, error) {
	opts := []func(*config.LoadOptions) error{config.WithCredentialsProvider(aws.AnonymousCredentials{})}
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err == nil {
		return cfg, nil
	}
	env, envErr := config.NewEnvConfig()
	if envErr != nil {
		return aws.Config{}, fmt.Errorf("load AWS SDK configuration: %w", err)
	}
	cfg = aws.Config{
		Region:        region,
		Credentials:   aws.AnonymousCredentials{},
		ConfigSources: []any{env},
	}
	if cfg.Region == "" {
		cfg.Region = env.Region
	}
	if env.BaseEndpoint != "" && !aws.ToBool(env.IgnoreConfiguredEndpoints) {
		cfg.BaseEndpoint = aws.String(env.BaseEndpoint)
	}
	// Without LoadDefaultConfig nothing applies AWS_CA_BUNDLE; httpx does.
	hc, hcErr := httpx.NewClient(httpx.Options{}, time.Minute)
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
