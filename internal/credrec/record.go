package credrec

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"
)

// Credentials are temporary AWS credentials (sts.Credentials is this type).
type Credentials struct {
	AccessKeyID     string    `json:"AccessKeyId"`
	SecretAccessKey string    `json:"SecretAccessKey"`
	SessionToken    string    `json:"SessionToken"`
	Expiration      time.Time `json:"Expiration"`
}

// Record is what is cached per profile, under the store key creds/PROFILE.
type Record struct {
	Profile      string      `json:"profile"`
	RoleARN      string      `json:"role_arn"`
	PrincipalARN string      `json:"principal_arn"`
	Region       string      `json:"region"`
	Credentials  Credentials `json:"credentials"`
	Issued       time.Time   `json:"issued"`
	// Identity fingerprints the profile settings the record was minted
	// for (provider, url, username, principal_arn); no secret.
	Identity string `json:"identity"`
	// ChainRoleARN is the role assumed from RoleARN by role chaining; the
	// credentials are its. "" without chaining.
	ChainRoleARN string `json:"chain_role_arn,omitempty"`
}

// Decode parses a stored record. ok is false for a corrupt one (bad JSON,
// no access key), which callers treat as a miss.
func Decode(raw []byte) (r *Record, ok bool) {
	r = new(Record)
	if json.Unmarshal(raw, r) != nil || r.Credentials.AccessKeyID == "" {
		return nil, false
	}
	return r, true
}

// Encode is the stored form of r.
func Encode(r *Record) ([]byte, error) { return json.Marshal(r) }

// Fingerprint is a short non-secret hash of parts, for binding stored
// secrets to the settings they were made for.
func Fingerprint(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(h[:12])
}

// Identity fingerprints the settings that decide whose credentials a
// profile gets.
func Identity(provider, url, username, principalARN string) string {
	return Fingerprint(provider, url, username, principalARN)
}

// Want is what a profile, as configured now, asks of a cached record.
type Want struct {
	Identity string        // Identity of the profile's settings
	RoleARN  string        // role_arn, "" when any granted role will do
	Window   time.Duration // refresh_window (plus any renewal ahead)
	Chain    string        // chain_role_arn, "" without chaining
}

// SameIdentity reports whether r was minted for the profile as configured
// now: the cache is keyed by profile name, and the same name in another
// config file, or a profile whose url or username changed, must not get
// these credentials.
func SameIdentity(r *Record, w Want) bool {
	return r.Identity == w.Identity && (w.RoleARN == "" || w.RoleARN == r.RoleARN)
}

// Serves reports whether r may be handed out as is at now: the right
// identity and more than the refresh window left.
func Serves(r *Record, w Want, now time.Time) bool {
	return SameIdentity(r, w) && r.ChainRoleARN == w.Chain && Fresh(r.Credentials.Expiration, now, w.Window)
}
