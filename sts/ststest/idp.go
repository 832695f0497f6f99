package ststest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/big"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// IdP signs SAMLResponses like a real IdP does for AWS, so tests and demos
// can feed the emulator (and saml2sts) genuine signed assertions. Put Cert
// into Options.Providers under the saml-provider ARN.
type IdP struct {
	Issuer string
	Key    *rsa.PrivateKey
	Cert   *x509.Certificate
}

// NewIdP makes an IdP with a fresh RSA key and a self-signed certificate.
func NewIdP(issuer string) (*IdP, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generate IdP key: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano()),
		Subject:      pkix.Name{CommonName: issuer},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(10, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("create IdP certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse IdP certificate: %w", err)
	}
	return &IdP{Issuer: issuer, Key: key, Cert: cert}, nil
}

// Response describes one SAMLResponse for [IdP.Sign]. Zero fields take the
// defaults a Keycloak AWS client would produce.
type Response struct {
	// Roles are Role attribute values, "role-ARN,provider-ARN" in either order.
	Roles []string
	// SessionName is the RoleSessionName value; "" omits the attribute.
	SessionName string
	// SessionDuration is the SessionDuration attribute; 0 omits it.
	SessionDuration time.Duration
	// Recipient is SubjectConfirmationData@Recipient; default DefaultAudience.
	Recipient string
	// Destination is Response@Destination; default Recipient.
	Destination string
	// Audience default urn:amazon:webservices.
	Audience string
	// IssueInstant default now.
	IssueInstant time.Time
	// Lifetime sets NotOnOrAfter = IssueInstant + Lifetime; default 5m.
	Lifetime time.Duration
	// NameID default SessionName.
	NameID string
	// SignResponse signs the whole Response instead of the Assertion.
	SignResponse bool
}

// Sign builds and signs the response and returns it base64-encoded, as the
// IdP's POST form carries it.
func (p *IdP) Sign(r Response) (string, error) {
	if r.Recipient == "" {
		r.Recipient = DefaultAudience
	}
	if r.Destination == "" {
		r.Destination = r.Recipient
	}
	if r.Audience == "" {
		r.Audience = "urn:amazon:webservices"
	}
	if r.IssueInstant.IsZero() {
		r.IssueInstant = time.Now()
	}
	if r.Lifetime == 0 {
		r.Lifetime = 5 * time.Minute
	}
	if r.NameID == "" {
		r.NameID = r.SessionName
	}
	ts := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
	issued, end := ts(r.IssueInstant), ts(r.IssueInstant.Add(r.Lifetime))

	as := etree.NewElement("saml:Assertion")
	as.CreateAttr("xmlns:saml", nsAssertion)
	as.CreateAttr("ID", newID())
	as.CreateAttr("Version", "2.0")
	as.CreateAttr("IssueInstant", issued)
	as.CreateElement("saml:Issuer").SetText(p.Issuer)
	subj := as.CreateElement("saml:Subject")
	nid := subj.CreateElement("saml:NameID")
	nid.CreateAttr("Format", "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent")
	nid.SetText(r.NameID)
	sc := subj.CreateElement("saml:SubjectConfirmation")
	sc.CreateAttr("Method", "urn:oasis:names:tc:SAML:2.0:cm:bearer")
	scd := sc.CreateElement("saml:SubjectConfirmationData")
	scd.CreateAttr("NotOnOrAfter", end)
	scd.CreateAttr("Recipient", r.Recipient)
	cond := as.CreateElement("saml:Conditions")
	cond.CreateAttr("NotBefore", issued)
	cond.CreateAttr("NotOnOrAfter", end)
	cond.CreateElement("saml:AudienceRestriction").CreateElement("saml:Audience").SetText(r.Audience)
	an := as.CreateElement("saml:AuthnStatement")
	an.CreateAttr("AuthnInstant", issued)
	an.CreateAttr("SessionIndex", newID())
	an.CreateElement("saml:AuthnContext").CreateElement("saml:AuthnContextClassRef").
		SetText("urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport")
	st := as.CreateElement("saml:AttributeStatement")
	attr := func(name string, vals ...string) {
		a := st.CreateElement("saml:Attribute")
		a.CreateAttr("Name", name)
		a.CreateAttr("NameFormat", "urn:oasis:names:tc:SAML:2.0:attrname-format:basic")
		for _, v := range vals {
			a.CreateElement("saml:AttributeValue").SetText(v)
		}
	}
	if len(r.Roles) > 0 {
		attr(attrRole, r.Roles...)
	}
	if r.SessionName != "" {
		attr(attrSessionName, r.SessionName)
	}
	if r.SessionDuration > 0 {
		attr("https://aws.amazon.com/SAML/Attributes/SessionDuration", fmt.Sprint(int(r.SessionDuration/time.Second)))
	}

	ctx, err := dsig.NewSigningContext(p.Key, [][]byte{p.Cert.Raw})
	if err != nil {
		return "", fmt.Errorf("sign SAML response: %w", err)
	}
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	if !r.SignResponse {
		if as, err = signAfterIssuer(ctx, as); err != nil {
			return "", err
		}
	}

	resp := etree.NewElement("samlp:Response")
	resp.CreateAttr("xmlns:samlp", nsProtocol)
	resp.CreateAttr("xmlns:saml", nsAssertion)
	resp.CreateAttr("ID", newID())
	resp.CreateAttr("Version", "2.0")
	resp.CreateAttr("IssueInstant", issued)
	resp.CreateAttr("Destination", r.Destination)
	resp.CreateElement("saml:Issuer").SetText(p.Issuer)
	resp.CreateElement("samlp:Status").CreateElement("samlp:StatusCode").
		CreateAttr("Value", "urn:oasis:names:tc:SAML:2.0:status:Success")
	resp.AddChild(as)
	if r.SignResponse {
		if resp, err = signAfterIssuer(ctx, resp); err != nil {
			return "", err
		}
	}
	doc := etree.NewDocument()
	doc.SetRoot(resp)
	b, err := doc.WriteToBytes()
	if err != nil {
		return "", fmt.Errorf("sign SAML response: %w", err)
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

// signAfterIssuer signs el enveloped and moves the Signature right after
// Issuer, where the SAML schema wants it (the digest does not depend on its
// place, since the enveloped transform removes it).
func signAfterIssuer(ctx *dsig.SigningContext, el *etree.Element) (*etree.Element, error) {
	signed, err := ctx.SignEnveloped(el)
	if err != nil {
		return nil, fmt.Errorf("sign SAML response: %w", err)
	}
	sig := signed.Child[len(signed.Child)-1]
	signed.Child = signed.Child[:len(signed.Child)-1]
	signed.InsertChildAt(1, sig)
	return signed, nil
}

func newID() string { return "_" + hex.EncodeToString(randBytes(16)) }
