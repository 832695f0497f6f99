package config

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
)

// AWSCredentialsPath returns $AWS_SHARED_CREDENTIALS_FILE, else
// ~/.aws/credentials. A nil getenv means os.Getenv.
func AWSCredentialsPath(getenv func(string) string) string {
	return awsCredentialsPath(orEnv(getenv))
}

// CredentialKeys are the keys SetAWSCredentials writes, in file order:
// x_security_token_expires is the expiry old SDKs and plugins read.
var CredentialKeys = []string{"aws_access_key_id", "aws_secret_access_key", "aws_session_token", "x_security_token_expires"}

// SetAWSCredentials writes values (the keys of CredentialKeys) into [section]
// of the shared credentials file at path, and reports whether it created the
// section (so that its removal can take the whole section, and only then).
// Other sections, comments and keys stay byte for byte; an existing file
// keeps its mode, a new one is 0600 in a directory created 0700. A file
// with two [section] headers is refused: which one a tool reads differs.
func SetAWSCredentials(path, section string, values map[string]string) (created bool, err error) {
	if err := checkName(section); err != nil {
		return false, fmt.Errorf("credentials section: %w", err)
	}
	for k, v := range values {
		if !slices.Contains(CredentialKeys, k) || v == "" || strings.ContainsAny(v, "\r\n") {
			return false, fmt.Errorf("credentials section %s: bad value for %q", section, k)
		}
	}
	data, d, err := readCredentials(path)
	if err != nil {
		return false, err
	}
	h, err := credentialsSection(d, path, section)
	if err != nil {
		return false, err
	}
	if h < 0 {
		// Always one empty separator line (unlike addSection), so that
		// dropSection knows what to take back.
		if len(d.lines) > 0 {
			d.insert(len(d.lines), "")
		}
		d.insert(len(d.lines), "["+section+"]")
		h, created = len(d.lines)-1, true
	}
	for _, k := range CredentialKeys {
		if v, ok := values[k]; ok {
			d.setKey(h, k, v, func(l line) bool { return !l.indent && strings.EqualFold(l.key, k) })
		}
	}
	return created, write(path, data, d.bytes())
}

// RemoveAWSCredentials undoes SetAWSCredentials: when [section] of the file
// at path still holds what was written (ours reports it from its
// aws_access_key_id), it deletes the section if created, else only the
// CredentialKeys lines, and reports true. Anything the user changed or
// wrote there is left alone (false). A missing file or section is false.
func RemoveAWSCredentials(path, section string, created bool, ours func(keyID string) bool) (bool, error) {
	data, d, err := readCredentials(path)
	if err != nil || len(data) == 0 {
		return false, err
	}
	h, err := credentialsSection(d, path, section)
	if err != nil || h < 0 {
		return false, err
	}
	end, other := d.end(h), false
	var mine []int
	for i := h + 1; i < end; i++ {
		l := d.lines[i]
		if l.kind == blank || l.kind == comment {
			continue
		}
		if l.kind == keyval && !l.indent && slices.Contains(CredentialKeys, strings.ToLower(l.key)) {
			if strings.EqualFold(l.key, "aws_access_key_id") && !ours(l.value) {
				return false, nil
			}
			mine = append(mine, i)
			continue
		}
		other = true
	}
	if len(mine) == 0 {
		return false, nil
	}
	if created && !other {
		d.dropSection(h)
	} else {
		for _, i := range slices.Backward(mine) {
			d.lines = slices.Delete(d.lines, i, i+1)
		}
	}
	return true, write(path, data, d.bytes())
}

func readCredentials(path string) ([]byte, *doc, error) {
	data, err := readCapped(path, maxAWSFileSize)
	if big := (*tooBigError)(nil); errors.As(err, &big) {
		return nil, nil, &Error{Path: path, Msg: fmt.Sprintf("the AWS credentials file is over %d MiB: is AWS_SHARED_CREDENTIALS_FILE the right file?", maxAWSFileSize>>20)}
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("read aws credentials: %w", err)
	}
	return data, parse(data, "=:"), nil
}

// credentialsSection finds [section] (no "profile " prefix in this file).
func credentialsSection(d *doc, path, section string) (int, error) {
	h := d.find(func(n string) bool { return n == section })
	if h >= 0 {
		if next := slices.IndexFunc(d.lines[h+1:], func(l line) bool { return l.kind == header && l.name == section }); next >= 0 {
			return -1, &Error{Path: path, Line: h + 1 + next + 1,
				Msg: fmt.Sprintf("[%s] appears twice (lines %d and %d); tools disagree on which one counts: merge them, then run export again", section, h+1, h+1+next+1)}
		}
	}
	return h, nil
}

// dropSection removes the section at h and what SetAWSCredentials put
// before it: the comments above the next header stay with it, and for the
// last section one empty separating line goes too.
func (d *doc) dropSection(h int) {
	from, to := h, d.end(h)
	for to-1 > h && (d.lines[to-1].kind == comment || d.lines[to-1].kind == blank) && to < len(d.lines) {
		to--
	}
	if to == len(d.lines) && from > 0 && d.lines[from-1].raw == "" {
		from--
	}
	d.lines = slices.Delete(d.lines, from, to)
}

// AWSProfileHas reports whether awsProfile's section of the AWS config file
// at path sets key (e.g. credential_process). An unreadable file has none.
func AWSProfileHas(path, awsProfile, key string) bool {
	return len(awsProfileKeys(path, awsProfile, func(k string) bool { return strings.EqualFold(k, key) })) > 0
}
