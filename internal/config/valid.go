package config

import (
	"strings"
	"unicode"
)

// Hand-written matchers for the profile values: compiling a regexp cost
// every process ~45 page faults and its init, for one match. Each has the
// answers of the regular expression in its comment (FuzzValidators).

// isPartitionIAM strips `arn:(aws|aws-cn|aws-us-gov):iam::[0-9]{12}:`.
func isPartitionIAM(v string) (rest string, ok bool) {
	rest, ok = strings.CutPrefix(v, "arn:")
	if !ok {
		return "", false
	}
	part, rest, ok := strings.Cut(rest, ":")
	if !ok || part != "aws" && part != "aws-cn" && part != "aws-us-gov" {
		return "", false
	}
	rest, ok = strings.CutPrefix(rest, "iam::")
	if !ok || len(rest) < 13 || rest[12] != ':' || !allBytes(rest[:12], isDigit) {
		return "", false
	}
	return rest[13:], true
}

// isRoleARN is `^PARTITION role/([!-~]+/)?[\w+=,.@-]{1,64}$`.
func isRoleARN(v string) bool {
	rest, ok := isPartitionIAM(v)
	if !ok {
		return false
	}
	rest, ok = strings.CutPrefix(rest, "role/")
	if !ok {
		return false
	}
	name := rest
	if i := strings.LastIndexByte(rest, '/'); i >= 0 {
		if i == 0 || !allBytes(rest[:i], func(c byte) bool { return c >= '!' && c <= '~' }) {
			return false
		}
		name = rest[i+1:]
	}
	return len(name) >= 1 && len(name) <= 64 && allBytes(name, func(c byte) bool { return isWord(c) || strings.IndexByte("+=,.@-", c) >= 0 })
}

// isPrincipalARN is `^PARTITION saml-provider/[\w.-]{1,128}$`.
func isPrincipalARN(v string) bool {
	rest, ok := isPartitionIAM(v)
	if !ok {
		return false
	}
	name, ok := strings.CutPrefix(rest, "saml-provider/")
	return ok && len(name) >= 1 && len(name) <= 128 && allBytes(name, func(c byte) bool { return isWord(c) || c == '.' || c == '-' })
}

// isRegion is `^[a-z]{2,4}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]{1,2}$`.
func isRegion(v string) bool {
	f := strings.Split(v, "-")
	n := len(f)
	if n < 3 || n > 4 {
		return false
	}
	lower := func(s string) bool { return s != "" && allBytes(s, func(c byte) bool { return c >= 'a' && c <= 'z' }) }
	if len(f[0]) < 2 || len(f[0]) > 4 || !lower(f[0]) || !lower(f[n-2]) {
		return false
	}
	if last := f[n-1]; len(last) < 1 || len(last) > 2 || !allBytes(last, isDigit) {
		return false
	}
	if n == 4 {
		m := f[1]
		return m == "gov" || m == "iso" || len(m) == 4 && strings.HasPrefix(m, "iso") && m[3] >= 'a' && m[3] <= 'z'
	}
	return true
}

// isFactor is `^[\p{L}\p{N}](?:[^\p{C}#;"]{0,98}[^\p{C}#;"\s])?$`: a
// letter or digit, then up to 99 more runes that are no control, format
// or private-use character nor # ; ", the last not ASCII white space.
// Invalid UTF-8 reads as U+FFFD, as in regexp.
func isFactor(v string) bool {
	n := 0
	var last rune
	for _, r := range v {
		n++
		if n == 1 {
			if !unicode.IsLetter(r) && !unicode.IsNumber(r) {
				return false
			}
		} else if unicode.In(r, unicode.C) || r == '#' || r == ';' || r == '"' {
			return false
		}
		last = r
	}
	if n == 0 || n > 100 {
		return false
	}
	return n == 1 || !(last == ' ' || last == '\t' || last == '\n' || last == '\f' || last == '\r')
}

// isAWSKey is `^[A-Za-z0-9_]+$`.
func isAWSKey(k string) bool { return k != "" && allBytes(k, isWord) }

func allBytes(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// isWord is regexp's \w: ASCII letters, digits and '_'.
func isWord(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || isDigit(c) || c == '_'
}
