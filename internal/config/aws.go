package config

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
)

// AWSConfigPath returns $AWS_CONFIG_FILE, else ~/.aws/config.
// A nil getenv means os.Getenv.
func AWSConfigPath(getenv func(string) string) string {
	getenv = orEnv(getenv)
	if p := getenv("AWS_CONFIG_FILE"); p != "" {
		return expandHome(p, getenv)
	}
	return filepath.Join(home(getenv), ".aws", "config")
}

// awsCredentialsPath returns $AWS_SHARED_CREDENTIALS_FILE, else
// ~/.aws/credentials.
func awsCredentialsPath(getenv func(string) string) string {
	if p := getenv("AWS_SHARED_CREDENTIALS_FILE"); p != "" {
		return expandHome(p, getenv)
	}
	return filepath.Join(home(getenv), ".aws", "credentials")
}

// SetAWSProfile writes values (credential_process, region, ...) into
// [profile NAME], or [default], of the AWS config file at path. Unlike Set,
// an empty value leaves the key alone, so callers can pass an optional
// region as is. Values are written verbatim: AWS takes the rest of the line,
// spaces included. Comments, other profiles and other sections
// ([sso-session], [services] and their indented sub-keys) stay byte for
// byte; the file keeps its mode, or is created 0600 in a directory created
// 0700.
func SetAWSProfile(path, awsProfile string, values map[string]string) error {
	if err := checkName(awsProfile); err != nil {
		return fmt.Errorf("aws profile: %w", err)
	}
	names := make([]string, 0, len(values))
	for k, v := range values {
		if !isAWSKey(k) {
			return fmt.Errorf("aws profile %s: invalid key %q", awsProfile, k)
		}
		if strings.ContainsAny(v, "\r\n") {
			return fmt.Errorf("aws profile %s: value of %s contains a line break", awsProfile, k)
		}
		if v != "" {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	if len(names) == 0 {
		return nil
	}
	data, err := readCapped(path, maxAWSFileSize)
	if big := (*tooBigError)(nil); errors.As(err, &big) {
		return &Error{Path: path, Msg: fmt.Sprintf("the AWS config file is over %d MiB: is AWS_CONFIG_FILE the right file?", maxAWSFileSize>>20)}
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("read aws config: %w", err)
	}
	d := parse(data, "=:")
	h := d.find(func(n string) bool { return awsProfileOf(n) == awsProfile && n == headerName(awsProfile) })
	if h < 0 {
		// The AWS CLI also reads [profile default] as the default profile.
		h = d.find(func(n string) bool { return awsProfileOf(n) == awsProfile })
	}
	if h < 0 {
		h = d.addSection(headerName(awsProfile))
	}
	for _, k := range names {
		// Indented lines are sub-keys of a nested value (s3 =), not profile keys.
		d.setKey(h, k, values[k], func(l line) bool { return !l.indent && strings.EqualFold(l.key, k) })
	}
	return write(path, data, d.bytes())
}

// awsProfileOf returns the profile a ~/.aws/config header names, or "" for
// other sections: [default] and [profile default] are "default".
func awsProfileOf(h string) string {
	if h == "default" {
		return h
	}
	if rest, ok := strings.CutPrefix(h, "profile"); ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
		return strings.TrimSpace(rest)
	}
	return ""
}

// AWSCredentialsConflict reports whether the shared credentials file
// ($AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials) has static keys for
// awsProfile. The AWS CLI and SDKs use those instead of credential_process,
// so credentials would silently never refresh (saml2aws#895). It also
// returns the path it checked. An unreadable file is no conflict.
func AWSCredentialsConflict(getenv func(string) string, awsProfile string) (bool, string) {
	path := awsCredentialsPath(orEnv(getenv))
	data, err := readCapped(path, maxAWSFileSize)
	if err != nil {
		return false, path
	}
	in := false
	for _, l := range parse(data, "=:").lines {
		switch l.kind {
		case header:
			in = l.name == awsProfile // no "profile " prefix in this file
		case keyval:
			if in && !l.indent && strings.EqualFold(l.key, "aws_access_key_id") && l.value != "" {
				return true, path
			}
		}
	}
	return false, path
}

// shadowKeys in a ~/.aws/config profile make the AWS CLI or an SDK take
// credentials from somewhere else than credential_process: assume-role
// chains, web identity and SSO come first in botocore's chain, and the Go
// SDK prefers static keys in the profile.
var shadowKeys = []string{"aws_access_key_id", "role_arn", "source_profile", "credential_source",
	"web_identity_token_file", "sso_session", "sso_start_url", "sso_account_id"}

// AWSProfileShadows lists the keys of awsProfile's section in the AWS config
// file at path that would win over its credential_process. An unreadable
// file shadows nothing.
func AWSProfileShadows(path, awsProfile string) []string {
	return awsProfileKeys(path, awsProfile, func(k string) bool {
		return slices.ContainsFunc(shadowKeys, func(s string) bool { return strings.EqualFold(s, k) })
	})
}

// awsProfileKeys lists, lower-cased, the keys with a value in awsProfile's
// section of the AWS config file at path that match want.
func awsProfileKeys(path, awsProfile string, want func(key string) bool) []string {
	data, err := readCapped(path, maxAWSFileSize)
	if err != nil {
		return nil
	}
	var found []string
	in := false
	for _, l := range parse(data, "=:").lines {
		switch l.kind {
		case header:
			in = awsProfileOf(l.name) == awsProfile
		case keyval:
			if in && !l.indent && l.value != "" && want(l.key) {
				found = append(found, strings.ToLower(l.key))
			}
		}
	}
	return found
}
