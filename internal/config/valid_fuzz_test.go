package config

import (
	"regexp"
	"testing"
)

// The regular expressions the hand-written matchers replaced.
var (
	oldRoleARN      = regexp.MustCompile(`^` + oldPartition + `role/([!-~]+/)?[\w+=,.@-]{1,64}$`)
	oldPrincipalARN = regexp.MustCompile(`^` + oldPartition + `saml-provider/[\w.-]{1,128}$`)
	oldRegion       = regexp.MustCompile(`^[a-z]{2,4}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]{1,2}$`)
	oldFactor       = regexp.MustCompile(`^[\p{L}\p{N}](?:[^\p{C}#;"]{0,98}[^\p{C}#;"\s])?$`)
	oldAWSKey       = regexp.MustCompile(`^[A-Za-z0-9_]+$`)
)

const oldPartition = `arn:(aws|aws-cn|aws-us-gov):iam::[0-9]{12}:`

var validSeeds = []string{
	"", "arn:aws:iam::123456789012:role/SearchReader", "arn:aws:iam::123456789012:role/path/to/R+=,.@-_9",
	"arn:aws:iam::123456789012:role//R", "arn:aws:iam::123456789012:role/a b/R", "arn:aws-cn:iam::123456789012:role/" + string(make([]byte, 65)),
	"arn:aws-us-gov:iam::123456789012:saml-provider/corp.example-1", "arn:aws:iam::12345678901:saml-provider/x", "arn:aws:iam::123456789012:saml-provider/",
	"eu-west-1", "us-gov-west-1", "us-isob-east-1", "cn-north-1", "eusc-de-east-1", "us-gov-1", "us-iso-x-10", "u-west-1", "us-west-100", "us--1",
	"totp", "Google Authenticator", "Ana's phone (work)", "x ", "é", "#x", "a\u200b", "\xff", "1\xff", "a\x00", "a\t", "a;b",
	"region", "AWS_key_1", "a-b",
}

func match(in string) [5][2]bool {
	return [5][2]bool{
		{isRoleARN(in), oldRoleARN.MatchString(in)},
		{isPrincipalARN(in), oldPrincipalARN.MatchString(in)},
		{isRegion(in), oldRegion.MatchString(in)},
		{isFactor(in), oldFactor.MatchString(in)},
		{isAWSKey(in), oldAWSKey.MatchString(in)},
	}
}

func TestValidatorsMatchRegexps(t *testing.T) {
	t.Parallel()
	long := "a"
	for range 120 {
		long += "b"
	}
	seeds := append(validSeeds, long[:100], long[:101], long[:99]+" ")
	accepted := 0
	for _, s := range seeds {
		for i, m := range match(s) {
			if m[0] != m[1] {
				t.Errorf("matcher %d on %q: hand-written %v, regexp %v", i, s, m[0], m[1])
			}
			if m[1] {
				accepted++
			}
		}
	}
	if accepted < 12 {
		t.Errorf("only %d seeds accepted: the table tests too little", accepted)
	}
}

func FuzzValidators(f *testing.F) {
	for _, s := range validSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		for i, m := range match(in) {
			if m[0] != m[1] {
				t.Errorf("matcher %d on %q: hand-written %v, regexp %v", i, in, m[0], m[1])
			}
		}
	})
}
