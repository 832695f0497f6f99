package ststest

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
	"github.com/russellhaering/goxmldsig/etreeutils"
)

const (
	nsProtocol  = "urn:oasis:names:tc:SAML:2.0:protocol"
	nsAssertion = "urn:oasis:names:tc:SAML:2.0:assertion"
	nsDSig      = "http://www.w3.org/2000/09/xmldsig#"

	attrRole           = "https://aws.amazon.com/SAML/Attributes/Role"
	attrSessionName    = "https://aws.amazon.com/SAML/Attributes/RoleSessionName"
	attrSourceIdentity = "https://aws.amazon.com/SAML/Attributes/SourceIdentity"

	// redeemWithin is how long after IssueInstant STS accepts an assertion.
	redeemWithin = 5 * time.Minute
	// notBeforeSkew tolerates an IdP clock slightly ahead of ours.
	notBeforeSkew = 5 * time.Minute
	maxAssertion  = 100_000 // STS's SAMLAssertion length limit
)

var sessionNameRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[\w+=,.@-]{2,64}$`) })

// claims is what the emulator reads from a verified assertion.
type claims struct {
	issuer         string
	roles          [][2]string // role ARN, provider ARN
	sessionName    string
	hasSessionName bool
	sourceIdentity string
	recipient      string
	destination    string
	nameID         string
	nameIDFormat   string
	sessionEnd     time.Time // AuthnStatement@SessionNotOnOrAfter
}

// apiErr is an STS error response to send.
type apiErr struct {
	status        int
	code, message string
}

func invalidToken(msg string) *apiErr { return &apiErr{400, "InvalidIdentityToken", msg} }

// verifyAssertion decodes and verifies a SAMLResponse the way STS does for
// the provider whose signing certificate is cert.
func (s *Server) verifyAssertion(b64 string, cert *x509.Certificate, now time.Time) (*claims, *apiErr) {
	if len(b64) > maxAssertion {
		return nil, &apiErr{400, "ValidationError", "1 validation error detected: Value at 'sAMLAssertion' failed to satisfy constraint: Member must have length less than or equal to 100000"}
	}
	data, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(b64), ""))
	if err != nil {
		return nil, invalidToken("Invalid base64 SAMLResponse")
	}
	l := bytes.ToLower(data)
	if bytes.Contains(l, []byte("<!doctype")) || bytes.Contains(l, []byte("<!entity")) {
		return nil, invalidToken("Invalid SAML response: DTDs are not allowed")
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(data); err != nil || doc.Root() == nil {
		return nil, invalidToken("Invalid SAML response: not well-formed XML")
	}
	root := doc.Root()
	if root.Tag != "Response" || root.NamespaceURI() != nsProtocol {
		return nil, invalidToken("Invalid SAML response: root element is not a SAML 2.0 Response")
	}
	var assertions []*etree.Element
	for _, c := range root.ChildElements() {
		switch {
		case c.Tag == "Assertion" && c.NamespaceURI() == nsAssertion:
			assertions = append(assertions, c)
		case c.Tag == "EncryptedAssertion":
			return nil, invalidToken("Encrypted assertions are not supported by this emulator")
		}
	}
	if len(assertions) != 1 {
		return nil, invalidToken("Response must contain exactly one Assertion")
	}

	// IAM ignores the validity dates of the IdP certificate, so verify at a
	// time inside them rather than at now.
	vc := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{cert}})
	vc.Clock = dsig.NewFakeClockAt(cert.NotBefore.Add(cert.NotAfter.Sub(cert.NotBefore) / 2))
	resp := root
	var as *etree.Element
	switch {
	case hasSignature(root):
		v, err := vc.Validate(root)
		if err != nil {
			return nil, invalidToken("Response signature invalid")
		}
		resp = v
		for _, c := range v.ChildElements() {
			if c.Tag == "Assertion" {
				as = c
			}
		}
	case hasSignature(assertions[0]):
		ctx, err := etreeutils.NSBuildParentContext(assertions[0])
		if err != nil {
			return nil, invalidToken("Response signature invalid")
		}
		detached, err := etreeutils.NSDetatch(ctx, assertions[0])
		if err != nil {
			return nil, invalidToken("Response signature invalid")
		}
		if as, err = vc.Validate(detached); err != nil {
			return nil, invalidToken("Response signature invalid")
		}
	default:
		return nil, invalidToken("Response signature invalid")
	}
	if as == nil {
		return nil, invalidToken("Response must contain exactly one Assertion")
	}

	// Everything below reads only the verified elements.
	c := &claims{destination: resp.SelectAttrValue("Destination", "")}
	if is := child(as, "Issuer"); is != nil {
		c.issuer = strings.TrimSpace(is.Text())
	}
	issued, err := parseTime(as.SelectAttrValue("IssueInstant", ""))
	if err != nil {
		return nil, invalidToken("Invalid SAML response: bad IssueInstant")
	}
	subj := child(as, "Subject")
	if subj == nil {
		return nil, invalidToken("Invalid SAML response: no Subject")
	}
	if n := child(subj, "NameID"); n != nil {
		c.nameID = strings.TrimSpace(n.Text())
		c.nameIDFormat = n.SelectAttrValue("Format", "")
	}
	var scds []*etree.Element
	for _, sc := range subj.ChildElements() {
		if sc.Tag == "SubjectConfirmation" && sc.SelectAttrValue("Method", "") == "urn:oasis:names:tc:SAML:2.0:cm:bearer" {
			if d := child(sc, "SubjectConfirmationData"); d != nil {
				scds = append(scds, d)
			}
		}
	}
	if len(scds) != 1 {
		return nil, invalidToken("Invalid SAML response: expected exactly one bearer SubjectConfirmation")
	}
	c.recipient = scds[0].SelectAttrValue("Recipient", "")
	scdEnd, err := parseTime(scds[0].SelectAttrValue("NotOnOrAfter", ""))
	if err != nil || c.recipient == "" {
		return nil, invalidToken("Invalid SAML response: SubjectConfirmationData needs NotOnOrAfter and Recipient")
	}

	cond := child(as, "Conditions")
	var notBefore, condEnd time.Time
	var audiences []string
	if cond != nil {
		notBefore, _ = parseTime(cond.SelectAttrValue("NotBefore", ""))
		condEnd, _ = parseTime(cond.SelectAttrValue("NotOnOrAfter", ""))
		for _, ar := range cond.ChildElements() {
			if ar.Tag != "AudienceRestriction" {
				continue
			}
			for _, a := range ar.ChildElements() {
				if a.Tag == "Audience" {
					audiences = append(audiences, strings.TrimSpace(a.Text()))
				}
			}
		}
	}
	if an := child(as, "AuthnStatement"); an != nil {
		c.sessionEnd, _ = parseTime(an.SelectAttrValue("SessionNotOnOrAfter", ""))
	}

	switch {
	case !now.Before(scdEnd), !condEnd.IsZero() && !now.Before(condEnd):
		return nil, &apiErr{400, "ExpiredTokenException", "Response has expired"}
	case now.Sub(issued) > redeemWithin:
		return nil, &apiErr{400, "ExpiredTokenException", "Token must be redeemed within 5 minutes of issuance"}
	case !notBefore.IsZero() && now.Add(notBeforeSkew).Before(notBefore):
		return nil, invalidToken("Response is not yet valid")
	case !s.signinURL(c.recipient):
		return nil, invalidToken("Response Recipient is not an AWS sign-in endpoint")
	case c.destination != "" && !s.signinURL(c.destination):
		return nil, invalidToken("Response Destination is not an AWS sign-in endpoint")
	case !s.audienceOK(audiences):
		return nil, invalidToken("Response does not contain the required audience.")
	}

	for _, at := range descendants(as, "Attribute") {
		var vals []string
		for _, v := range at.ChildElements() {
			if v.Tag == "AttributeValue" {
				vals = append(vals, strings.TrimSpace(v.Text()))
			}
		}
		switch at.SelectAttrValue("Name", "") {
		case attrRole:
			for _, v := range vals {
				if pair, ok := rolePair(v); ok {
					c.roles = append(c.roles, pair)
				}
			}
		case attrSessionName:
			if len(vals) > 0 {
				c.sessionName, c.hasSessionName = vals[0], true
			}
		case attrSourceIdentity:
			if len(vals) > 0 {
				c.sourceIdentity = vals[0]
			}
		}
	}
	switch {
	case !c.hasSessionName:
		return nil, invalidToken("RoleSessionName is required in AuthnResponse")
	case !sessionNameRe().MatchString(c.sessionName):
		return nil, invalidToken("RoleSessionName in AuthnResponse must match [a-zA-Z_0-9+=,.@-]{2,64}")
	case c.sourceIdentity != "" && (!sessionNameRe().MatchString(c.sourceIdentity) || strings.HasPrefix(c.sourceIdentity, "aws:")):
		return nil, invalidToken(`Source Identity must match [a-zA-Z_0-9+=,.@-]{2,64} and not begin with "aws:"`)
	}
	return c, nil
}

// signinURL reports whether u is the configured audience or an AWS sign-in
// SAML endpoint: global, regional (with the /saml/acs/<id> form used with
// encryption), GovCloud or China.
func (s *Server) signinURL(u string) bool {
	if u == s.o.Audience {
		return true
	}
	p, err := url.Parse(u)
	if err != nil || p.Scheme != "https" {
		return false
	}
	host := strings.ToLower(p.Host)
	okHost := false
	for _, h := range []string{"signin.aws.amazon.com", "signin.amazonaws-us-gov.com", "signin.amazonaws.cn"} {
		if host == h || (strings.HasSuffix(host, "."+h) && regionRe().MatchString(strings.TrimSuffix(host, "."+h))) {
			okHost = true
		}
	}
	return okHost && (p.Path == "/saml" || p.Path == "/static/saml" || strings.HasPrefix(p.Path, "/saml/acs/"))
}

var regionRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d+$`) })

func (s *Server) audienceOK(auds []string) bool {
	for _, a := range auds {
		if a == "urn:amazon:webservices" || s.signinURL(a) {
			return true
		}
	}
	return false
}

// rolePair reads "role,provider" in either order.
func rolePair(v string) ([2]string, bool) {
	a, b, ok := strings.Cut(v, ",")
	if !ok {
		return [2]string{}, false
	}
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	if strings.Contains(a, ":saml-provider/") {
		a, b = b, a
	}
	if !strings.Contains(a, ":role/") || !strings.Contains(b, ":saml-provider/") {
		return [2]string{}, false
	}
	return [2]string{a, b}, true
}

func hasSignature(el *etree.Element) bool {
	for _, c := range el.ChildElements() {
		if c.Tag == "Signature" && c.NamespaceURI() == nsDSig {
			return true
		}
	}
	return false
}

func child(el *etree.Element, tag string) *etree.Element {
	for _, c := range el.ChildElements() {
		if c.Tag == tag {
			return c
		}
	}
	return nil
}

func descendants(el *etree.Element, tag string) []*etree.Element {
	var out []*etree.Element
	for _, c := range el.ChildElements() {
		if c.Tag == tag {
			out = append(out, c)
		}
		out = append(out, descendants(c, tag)...)
	}
	return out
}

func parseTime(s string) (time.Time, error) {
	return time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
}
