package sts

import (
	"errors"
	"fmt"
	"strings"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"github.com/saml2sts/saml2sts/internal/exitcode"
)

// Error is STS refusing a call. Code and Message are STS's own; Hint says
// what to change. None of the fields holds the assertion or a secret.
type Error struct {
	Op      string // "AssumeRoleWithSAML" or "GetCallerIdentity"
	Code    string // e.g. "AccessDenied"
	Message string
	Hint    string
	Status  int // HTTP status, 0 if unknown

	err error
}

func (e *Error) Error() string {
	s := fmt.Sprintf("sts %s: %s: %s", e.Op, e.Code, e.Message)
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

// ExitCode implements the exit-status contract (internal/exitcode).
func (e *Error) ExitCode() int { return exitcode.Refused }

func (e *Error) Unwrap() error { return e.err }

// call describes the failed call for hints.
type call struct {
	op     string
	role   Role
	region string
	// Role chaining (AssumeRole): the SAML session's assumed-role ARN and
	// whether an external ID was sent.
	source   string
	external bool
	exp      time.Time // credentials' expiry, GetCallerIdentity only
	now      time.Time
}

// apiError turns an SDK error into *Error when STS answered, or wraps it.
func (c call) apiError(err error) error {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return fmt.Errorf("sts %s in %s: %w", c.op, c.region, err)
	}
	e := &Error{Op: c.op, Code: ae.ErrorCode(), Message: ae.ErrorMessage(), err: err}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		e.Status = re.HTTPStatusCode()
	}
	e.Hint = c.hint(e.Code, e.Message)
	return e
}

func (c call) hint(code, msg string) string {
	now := c.now.UTC().Format(time.RFC3339)
	lower := strings.ToLower(msg)
	switch code {
	case "AccessDenied", "AccessDeniedException":
		if c.op == opChain {
			h := fmt.Sprintf("the trust policy of %s must allow sts:AssumeRole for %s", c.role.RoleARN, sourceRole(c.source))
			if c.external {
				h += " with the sts:ExternalId condition matching chain_external_id"
			} else {
				h += "; if it requires an sts:ExternalId, set chain_external_id"
			}
			return h + ", and that role's permissions policy must allow sts:AssumeRole on it: ask your AWS admin"
		}
		if c.op == opAssume {
			return fmt.Sprintf("the trust policy of %s must allow sts:AssumeRoleWithSAML for the federated principal %s, and the role name in the IdP mapping must match exactly (case matters): ask your AWS admin",
				c.role.RoleARN, c.role.PrincipalARN)
		}
		return "these credentials may not call sts:GetCallerIdentity"
	case "ExpiredTokenException":
		return fmt.Sprintf("the SAML assertion expired or is older than STS accepts: log in again; if it keeps happening check this computer's clock (now %s UTC) and the assertion lifetime set in the IdP", now)
	case "ExpiredToken":
		if !c.exp.IsZero() {
			return fmt.Sprintf("the credentials expired at %s (now %s UTC): log in again", c.exp.UTC().Format(time.RFC3339), now)
		}
		return "the credentials have expired: log in again"
	case "InvalidIdentityToken":
		switch {
		case strings.Contains(lower, "rolesessionname"):
			return "ask the IdP admin to map https://aws.amazon.com/SAML/Attributes/RoleSessionName to a value of 2-64 characters from [A-Za-z0-9_+=,.@-]"
		case strings.Contains(lower, "provider") || strings.Contains(lower, "manifest"):
			return fmt.Sprintf("STS in %s does not know the SAML provider %s: check the provider ARN; for GovCloud or China set a region of that partition in the profile", c.region, c.role.PrincipalARN)
		case strings.Contains(lower, "audience"):
			return "the IdP must set the assertion audience to urn:amazon:webservices or https://signin.aws.amazon.com/saml"
		}
		return fmt.Sprintf("AWS could not validate the assertion: the IdP metadata (signing certificate) uploaded to IAM for %s probably does not match the IdP any more, so an admin should re-upload it; or the provider ARN is wrong", c.role.PrincipalARN)
	case "IDPRejectedClaim":
		return "the identity provider rejected the claim: ask the IdP admin to check the AWS application's role and session attributes"
	case "RegionDisabledException":
		return fmt.Sprintf("STS is not activated in %s for this account: ask an admin to activate it (IAM account settings) or set another region in the profile", c.region)
	case "ValidationError":
		if c.op == opChain && strings.Contains(lower, "chaining") {
			return "AWS limits chained role sessions to 1h: set duration = 1h or less"
		}
		if c.op == opChain && strings.Contains(lower, "source identity") {
			return "the SAML session already carries a source identity, which cannot change: remove chain_source_identity"
		}
		if c.op == opChain && strings.Contains(lower, "rolesessionname") {
			return "set chain_session_name to 2-64 characters from [A-Za-z0-9_+=,.@-]"
		}
		if strings.Contains(msg, "MaxSessionDuration") {
			return "lower duration in the profile, or ask an admin to raise the role's maximum session duration"
		}
	case "InvalidClientTokenId":
		return "STS does not know these credentials (revoked, or issued in another partition): log in again"
	case "SignatureDoesNotMatch":
		return fmt.Sprintf("the secret key does not match the access key, or this computer's clock is off (now %s UTC): log in again", now)
	case "Throttling", "ThrottlingException":
		return "too many STS calls: wait a minute and try again"
	}
	return ""
}

// exceedsMax reports STS refusing DurationSeconds above the role's maximum.
func exceedsMax(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "ValidationError" &&
		strings.Contains(ae.ErrorMessage(), "MaxSessionDuration")
}

// sourceRole turns arn:aws:sts::1:assumed-role/R/s into the role ARN
// arn:aws:iam::1:role/R a trust policy names.
func sourceRole(assumed string) string {
	p := strings.SplitN(assumed, ":", 6)
	if len(p) != 6 || !strings.HasPrefix(p[5], "assumed-role/") {
		return "the SAML role"
	}
	r := strings.TrimPrefix(p[5], "assumed-role/")
	if i := strings.LastIndex(r, "/"); i > 0 {
		r = r[:i]
	}
	return fmt.Sprintf("arn:%s:iam::%s:role/%s", p[1], p[4], r)
}
