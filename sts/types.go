package sts

import (
	"time"

	"github.com/saml2sts/saml2sts/internal/credrec"
)

// Credentials are temporary AWS credentials; the type is credrec's, so
// that the warm-path helper reads what the broker stores.
type Credentials = credrec.Credentials

// Role is one (role, SAML provider) pair granted by an assertion.
type Role struct {
	RoleARN      string
	PrincipalARN string
}

// Assertion is what saml2sts needs from a SAMLResponse. Raw keeps the base64
// text exactly as the IdP sent it: STS wants it unchanged.
type Assertion struct {
	Raw             string
	Roles           []Role
	SessionName     string        // RoleSessionName attribute, "" if absent
	SessionDuration time.Duration // SessionDuration attribute, 0 if absent
	Destination     string        // Response@Destination, else Recipient
	NotOnOrAfter    time.Time     // SubjectConfirmationData@NotOnOrAfter
	Region          string        // from a regional sign-in host, else ""
	Partition       string        // aws, aws-cn or aws-us-gov
}
