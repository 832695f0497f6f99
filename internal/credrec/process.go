package credrec

import (
	"encoding/json"
	"fmt"
	"time"
)

// processCreds has the exact field order of the credential_process contract.
type processCreds struct {
	Version         int
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string
	SessionToken    string
	Expiration      string
}

// ProcessJSON is the credential_process output for c, without the final
// newline: Version 1 and Expiration in UTC RFC 3339 ("Z"), which every SDK
// parses.
func ProcessJSON(c Credentials) ([]byte, error) {
	return json.Marshal(processCreds{
		Version:         1,
		AccessKeyID:     c.AccessKeyID,
		SecretAccessKey: c.SecretAccessKey,
		SessionToken:    c.SessionToken,
		Expiration:      c.Expiration.UTC().Truncate(time.Second).Format(time.RFC3339),
	})
}

// ReadError is the error of a cache store (named store) that could not be
// read: both binaries report it in these words.
func ReadError(store string, err error) error {
	return fmt.Errorf("read cached credentials from %s: %w", store, err)
}

// Serve is the whole warm-path decision on a stored record: the
// credential_process line (with its newline) when raw decodes to a record
// that serves w at now; ok is false for anything else (corrupt, another
// identity or role, due for renewal), which only the broker may handle.
func Serve(raw []byte, w Want, now time.Time) (line []byte, ok bool) {
	r, ok := Decode(raw)
	if !ok || !Serves(r, w, now) {
		return nil, false
	}
	b, err := ProcessJSON(r.Credentials)
	if err != nil {
		return nil, false
	}
	return append(b, '\n'), true
}
