package sts

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"
)

const opChain = "AssumeRole"

// ChainLimit is the longest session AWS grants a role assumed with
// another role's credentials (role chaining).
const ChainLimit = time.Hour

// Chain is the role to assume with the SAML role's credentials.
type Chain struct {
	RoleARN        string
	ExternalID     string // sts:ExternalId the target's trust policy asks for
	SourceIdentity string // sts:SourceIdentity; kept if the SAML session set one
	SessionName    string // "" reuses the SAML session's name
}

var sessionNameRe = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)

// AssumeRole assumes c.RoleARN with creds, the credentials of source (the
// assumed-role ARN of the SAML session), as sts:AssumeRole. d is capped at
// [ChainLimit], which AWS enforces for chained roles; Result.Notice says so
// when d asked more.
func (cl *Client) AssumeRole(ctx context.Context, creds Credentials, source string, c Chain, d time.Duration) (*Result, error) {
	if creds.AccessKeyID == "" {
		return nil, errors.New("sts AssumeRole: no source credentials: log in first")
	}
	res := &Result{}
	switch {
	case d > ChainLimit:
		res.Notice = fmt.Sprintf("role chaining: AWS limits %s to %s sessions; duration %s applies to the SAML role only", roleName(c.RoleARN), fmtDuration(ChainLimit), fmtDuration(d))
		d = ChainLimit
	case d > 0 && d < minDuration:
		d = minDuration
	}
	name := c.SessionName
	if name == "" {
		name = ChainSessionName(source)
	}
	in := &awssts.AssumeRoleInput{
		RoleArn:         aws.String(c.RoleARN),
		RoleSessionName: aws.String(name),
	}
	if d > 0 {
		in.DurationSeconds = aws.Int32(int32(d / time.Second))
	}
	if c.ExternalID != "" {
		in.ExternalId = aws.String(c.ExternalID)
	}
	if c.SourceIdentity != "" {
		in.SourceIdentity = aws.String(c.SourceIdentity)
	}
	out, err := cl.api.AssumeRole(ctx, in, func(o *awssts.Options) {
		o.Credentials = credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken)
	})
	if err != nil {
		return nil, call{op: opChain, role: Role{RoleARN: c.RoleARN}, source: source, external: c.ExternalID != "",
			region: cl.region, exp: creds.Expiration, now: cl.now()}.apiError(err)
	}
	return res.fill(opChain, out.Credentials, out.AssumedRoleUser, d)
}

// ChainSessionName is the session name of an assumed-role ARN
// (arn:aws:sts::1:assumed-role/Role/alice@example.com -> alice@example.com),
// so CloudTrail shows the same person in both roles; "saml2sts" when it
// has none AWS accepts.
func ChainSessionName(assumedRoleARN string) string {
	n := assumedRoleARN[strings.LastIndex(assumedRoleARN, "/")+1:]
	if strings.Contains(assumedRoleARN, ":assumed-role/") && sessionNameRe.MatchString(n) {
		return n
	}
	return "saml2sts"
}

// CheckSessionName reports a role session name AWS would refuse.
func CheckSessionName(n string) error {
	if !sessionNameRe.MatchString(n) {
		return fmt.Errorf("session name %q must be 2 to 64 characters of A-Z a-z 0-9 and _+=,.@-", n)
	}
	return nil
}

func roleName(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }
