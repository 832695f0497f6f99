package sts

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/beevik/etree"

	"github.com/saml2sts/saml2sts/internal/exitcode"
)

// MaxResponseSize bounds a SAMLResponse, encoded or decoded. Real ones are a
// few KiB; anything near this is not a login response.
const MaxResponseSize = 1 << 20

// AWS SAML attribute names. China's documentation spells them with the
// amazonaws.cn host, so both prefixes are accepted.
const (
	attrPrefix    = "https://aws.amazon.com/SAML/Attributes/"
	attrPrefixCN  = "http://www.amazonaws.cn/SAML/Attributes/"
	attrRole      = "Role"
	attrSession   = "RoleSessionName"
	attrDuration  = "SessionDuration"
	roleAttrHelp  = "https://aws.amazon.com/SAML/Attributes/Role"
	maxReasonARNs = 200 // characters of an offending value quoted in errors
)

// AssertionError is a SAMLResponse that cannot be used. Reason says what is
// wrong and what to do; it never quotes the assertion beyond role values.
type AssertionError struct {
	Reason string
}

func (e *AssertionError) Error() string { return "unusable SAML response: " + e.Reason }

// ExitCode implements the exit-status contract (internal/exitcode).
func (e *AssertionError) ExitCode() int { return exitcode.Failure }

var (
	roleARNRe = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^arn:(aws[a-z-]*):iam::(\d{12}):role/([\w+=,.@/-]+)$`)
	})
	providerARNRe = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^arn:(aws[a-z-]*):iam::(\d{12}):saml-provider/([\w+=,.@/-]+)$`)
	})
	regionRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d+$`) })
)

// ParseResponse decodes a base64 SAMLResponse as posted by the IdP and
// extracts what AssumeRoleWithSAML needs. It tolerates transport damage
// (line breaks, %-escapes, '+' turned into spaces) and rejects DTDs before
// any XML parsing. The signature is not checked: STS does that.
func ParseResponse(b64 string) (*Assertion, error) {
	if len(b64) > MaxResponseSize {
		return nil, &AssertionError{Reason: "it is larger than 1 MiB, which no login response is: check the sign-on URL in the profile"}
	}
	data, err := decodeResponse(b64)
	if err != nil {
		return nil, err
	}
	if len(data) > MaxResponseSize {
		return nil, &AssertionError{Reason: "it decodes to more than 1 MiB, which no login response is: check the sign-on URL in the profile"}
	}
	if hasDTD(data) {
		return nil, &AssertionError{Reason: "it contains a DOCTYPE or ENTITY declaration, which SAML forbids (possible XML entity attack): refusing to parse it; report this to your IdP admin"}
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(data); err != nil || doc.Root() == nil {
		return nil, &AssertionError{Reason: "it is not XML: the IdP page held something other than a SAMLResponse; rerun with --debug to see the (redacted) exchange with the IdP"}
	}
	root := doc.Root()
	as := root
	if root.Tag != "Assertion" {
		as = findFirst(root, "Assertion")
	}
	if as == nil {
		if findFirst(root, "EncryptedAssertion") != nil {
			return nil, &AssertionError{Reason: "the assertion is encrypted, so its roles cannot be read: ask the IdP admin to turn off assertion encryption for the AWS application"}
		}
		why := ""
		if sc := findFirst(root, "StatusCode"); sc != nil {
			why = " (IdP status " + sc.SelectAttrValue("Value", "")
			if m := findFirst(root, "StatusMessage"); m != nil && strings.TrimSpace(m.Text()) != "" {
				why += ": " + strings.TrimSpace(m.Text())
			}
			why += ")"
		}
		return nil, &AssertionError{Reason: "it holds no Assertion" + why + ": log in again, or rerun with --debug to see the (redacted) exchange with the IdP"}
	}

	if n := len(findAll(root, "Assertion")); n > 1 || (root.Tag == "Assertion" && n > 0) {
		// STS verifies one signed assertion; reading roles from another
		// (XML signature wrapping) would show roles it will not grant.
		return nil, &AssertionError{Reason: fmt.Sprintf("it holds %d assertions where a response carries one (possible XML signature wrapping): refusing it; report this to your IdP admin",
			max(n, 2))}
	}
	a := &Assertion{Raw: base64.StdEncoding.EncodeToString(data)}
	attrs := attributes(as)
	values, ok := attrs[attrRole]
	if !ok || len(values) == 0 {
		return nil, &AssertionError{Reason: "the assertion grants no AWS role: ask the IdP admin to map " + roleAttrHelp}
	}
	seen := map[Role]bool{}
	for _, v := range values {
		r, err := parseRole(v)
		if err != nil {
			return nil, err
		}
		if !seen[r] {
			seen[r] = true
			a.Roles = append(a.Roles, r)
		}
	}
	if v := attrs[attrSession]; len(v) > 0 {
		a.SessionName = v[0]
	}
	if v := attrs[attrDuration]; len(v) > 0 {
		// Optional and only a console hint; a bad value is ignored rather
		// than failing a login STS would accept.
		if n, err := strconv.Atoi(v[0]); err == nil && n > 0 {
			a.SessionDuration = time.Duration(n) * time.Second
		}
	}

	var recipient string
	for _, scd := range findAll(as, "SubjectConfirmationData") {
		if recipient == "" {
			recipient = strings.TrimSpace(scd.SelectAttrValue("Recipient", ""))
		}
		a.NotOnOrAfter = earliest(a.NotOnOrAfter, scd.SelectAttrValue("NotOnOrAfter", ""))
	}
	// STS also refuses the assertion once Conditions@NotOnOrAfter has passed,
	// so NotOnOrAfter is the earlier of the two.
	if c := findFirst(as, "Conditions"); c != nil {
		a.NotOnOrAfter = earliest(a.NotOnOrAfter, c.SelectAttrValue("NotOnOrAfter", ""))
	}
	a.Destination = strings.TrimSpace(root.SelectAttrValue("Destination", ""))
	if a.Destination == "" {
		a.Destination = recipient
	}

	a.Region, a.Partition = signinRegion(a.Destination)
	if m := roleARNRe().FindStringSubmatch(a.Roles[0].RoleARN); m != nil {
		a.Partition = m[1] // the ARN is authoritative for the partition
	}
	if a.Partition == "" {
		a.Partition = "aws"
	}
	return a, nil
}

// decodeResponse undoes base64 and the ways it gets damaged on the way.
func decodeResponse(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "SAMLResponse=")
	if strings.Contains(s, "%") {
		if u, err := url.PathUnescape(s); err == nil {
			s = u
		}
	}
	candidates := []string{stripSpace(s)}
	if strings.Contains(s, " ") && !strings.Contains(s, "+") {
		// A form decoder turned every '+' into ' '; line wrapping uses
		// newlines, so spaces without any '+' are most likely that.
		candidates = []string{stripSpace(strings.ReplaceAll(s, " ", "+")), candidates[0]}
	}
	decoded := false
	for _, c := range candidates {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			b, err := enc.DecodeString(c)
			if err != nil {
				continue
			}
			decoded = true
			t := bytes.TrimPrefix(bytes.TrimLeftFunc(b, unicode.IsSpace), []byte("\xef\xbb\xbf"))
			if len(t) > 0 && t[0] == '<' && utf8.Valid(b) {
				return b, nil
			}
		}
	}
	if s == "" {
		return nil, &AssertionError{Reason: "it is empty: the IdP did not return a SAMLResponse; log in again"}
	}
	if decoded {
		return nil, &AssertionError{Reason: "it is not XML: the IdP page held something other than a SAMLResponse; rerun with --debug to see the (redacted) exchange with the IdP"}
	}
	return nil, &AssertionError{Reason: "it is not base64: the SAMLResponse was damaged or is not one; rerun with --debug to see the (redacted) exchange with the IdP"}
}

func stripSpace(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}

// hasDTD reports a DOCTYPE or ENTITY declaration anywhere. SAML never needs
// one, and refusing them up front closes XXE and entity expansion attacks.
func hasDTD(b []byte) bool {
	l := bytes.ToLower(b)
	return bytes.Contains(l, []byte("<!doctype")) || bytes.Contains(l, []byte("<!entity"))
}

// findFirst and findAll match by local name: IdPs use any prefix (saml:,
// saml2:, none), sometimes undeclared.
func findFirst(el *etree.Element, tag string) *etree.Element {
	for _, c := range el.ChildElements() {
		if c.Tag == tag {
			return c
		}
		if f := findFirst(c, tag); f != nil {
			return f
		}
	}
	return nil
}

func findAll(el *etree.Element, tag string) []*etree.Element {
	var out []*etree.Element
	for _, c := range el.ChildElements() {
		if c.Tag == tag {
			out = append(out, c)
		}
		out = append(out, findAll(c, tag)...)
	}
	return out
}

// attributes maps short AWS attribute names (Role, RoleSessionName, ...) to
// their trimmed values.
func attributes(as *etree.Element) map[string][]string {
	out := map[string][]string{}
	for _, at := range findAll(as, "Attribute") {
		name := at.SelectAttrValue("Name", "")
		short, ok := strings.CutPrefix(name, attrPrefix)
		if !ok {
			if short, ok = strings.CutPrefix(name, attrPrefixCN); !ok {
				continue
			}
		}
		for _, v := range at.ChildElements() {
			if v.Tag == "AttributeValue" {
				out[short] = append(out[short], strings.TrimSpace(v.Text()))
			}
		}
	}
	return out
}

// parseRole reads one Role value: a role ARN and a saml-provider ARN, comma
// separated, in either order.
func parseRole(v string) (Role, error) {
	parts := strings.Split(v, ",")
	var r Role
	if len(parts) == 2 {
		for _, p := range parts {
			p = strings.TrimSpace(p)
			switch {
			case roleARNRe().MatchString(p) && r.RoleARN == "":
				r.RoleARN = p
			case providerARNRe().MatchString(p) && r.PrincipalARN == "":
				r.PrincipalARN = p
			}
		}
	}
	if r.RoleARN == "" || r.PrincipalARN == "" {
		q := v
		if len(q) > maxReasonARNs {
			q = q[:maxReasonARNs] + "..."
		}
		return Role{}, &AssertionError{Reason: fmt.Sprintf("Role value %q is not one role ARN and one saml-provider ARN separated by a comma: ask the IdP admin to fix the %s mapping", q, roleAttrHelp)}
	}
	return r, nil
}

// earliest returns the earlier of t and the RFC 3339 time s; unparsable or
// empty s leaves t unchanged.
func earliest(t time.Time, s string) time.Time {
	v, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		return t
	}
	v = v.UTC()
	if t.IsZero() || v.Before(t) {
		return v
	}
	return t
}

// signinRegion reads the region and partition from an AWS sign-in URL;
// other hosts give "", "".
func signinRegion(dest string) (region, partition string) {
	u, err := url.Parse(dest)
	if err != nil {
		return "", ""
	}
	host := strings.ToLower(u.Hostname())
	for _, s := range []struct{ host, partition string }{
		{"signin.aws.amazon.com", "aws"},
		{"signin.amazonaws-us-gov.com", "aws-us-gov"},
		{"signin.amazonaws.cn", "aws-cn"},
	} {
		if host == s.host {
			return "", s.partition
		}
		if r, ok := strings.CutSuffix(host, "."+s.host); ok && regionRe().MatchString(r) {
			return r, s.partition
		}
	}
	return "", ""
}

// CheckAWS fails an assertion addressed to something other than an AWS
// sign-in endpoint: STS would refuse it, and the profile's url is then the
// sign-on URL of another application (or of a hostile page).
func (a *Assertion) CheckAWS() error {
	if a.Destination == "" || IsSignin(a.Destination) {
		return nil
	}
	dest, _, _ := strings.Cut(a.Destination, "?")
	return &AssertionError{Reason: fmt.Sprintf("it is addressed to %s, not to AWS sign-in (https://signin.aws.amazon.com/saml): "+
		"set the profile's url to the IdP-initiated sign-on URL of the AWS application", dest)}
}

// Find returns the granted role with that ARN.
func (a *Assertion) Find(roleARN string) (Role, bool) {
	roleARN = strings.TrimSpace(roleARN)
	for _, r := range a.Roles {
		if r.RoleARN == roleARN {
			return r, true
		}
	}
	return Role{}, false
}

// STSRegion picks the region to call STS in: the profile's, else the
// assertion's regional sign-in endpoint, else the partition's default
// (GovCloud and China cannot use the global endpoint).
func (a *Assertion) STSRegion(profileRegion string) string {
	if profileRegion != "" {
		return profileRegion
	}
	if a.Region != "" {
		return a.Region
	}
	return DefaultRegion(a.Partition)
}

// DefaultRegion is the region STS calls use in a partition when nothing else
// says; "" for an unknown partition.
func DefaultRegion(partition string) string {
	switch partition {
	case "aws", "":
		return "us-east-1"
	case "aws-cn":
		return "cn-north-1"
	case "aws-us-gov":
		return "us-gov-west-1"
	}
	return ""
}

// AccountID is the 12-digit account of the role.
func (r Role) AccountID() string {
	if m := roleARNRe().FindStringSubmatch(r.RoleARN); m != nil {
		return m[2]
	}
	return ""
}

// Name is the role name without its path.
func (r Role) Name() string {
	if m := roleARNRe().FindStringSubmatch(r.RoleARN); m != nil {
		return m[3][strings.LastIndex(m[3], "/")+1:]
	}
	return ""
}

// String is "account 123456789012 role SearchReader", the form shown in role
// pickers and messages; a malformed ARN is shown as is.
func (r Role) String() string {
	if r.AccountID() == "" {
		return r.RoleARN
	}
	return "account " + r.AccountID() + " role " + r.Name()
}
