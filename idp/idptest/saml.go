package idptest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"sync"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"
)

// AWS attribute names (case-sensitive).
const (
	AttrRole            = "https://aws.amazon.com/SAML/Attributes/Role"
	AttrRoleSessionName = "https://aws.amazon.com/SAML/Attributes/RoleSessionName"
	AttrSessionDuration = "https://aws.amazon.com/SAML/Attributes/SessionDuration"
)

const (
	nameIDUnspecified = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
	attrFormatBasic   = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic"
)

// SAMLOptions shape the signed SAMLResponses every emulator issues. The
// zero value is usable: it posts to AWS with a 5-minute assertion signed by
// a key generated once per process.
type SAMLOptions struct {
	// Destination is Response@Destination, the Recipient and the POST page
	// action; default "https://signin.aws.amazon.com/saml".
	Destination string
	// Audience is the AudienceRestriction; default "urn:amazon:webservices".
	Audience string
	// AssertionLifetime sets NotOnOrAfter = now + AssertionLifetime;
	// default 5m; negative issues an already expired assertion.
	AssertionLifetime time.Duration
	// SessionDuration is the SessionDuration attribute; 0 omits it.
	SessionDuration time.Duration
	// Now is the clock for assertion times; default time.Now.
	Now func() time.Time
	// Key and Cert sign assertions; both or neither. The default pair is
	// generated once per process.
	Key  *rsa.PrivateKey
	Cert *x509.Certificate
	// SignResponse also signs the samlp:Response (the Assertion is always
	// signed), as Keycloak's "Sign documents" switch does.
	SignResponse bool
}

func (o *SAMLOptions) setDefaults() error {
	if o.Destination == "" {
		o.Destination = defaultDest
	}
	if o.Audience == "" {
		o.Audience = clientID
	}
	if o.AssertionLifetime == 0 {
		o.AssertionLifetime = 5 * time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	switch {
	case o.Key == nil && o.Cert == nil:
		key, cert, err := defaultKeyPair()
		if err != nil {
			return err
		}
		o.Key, o.Cert = key, cert
	case o.Key == nil || o.Cert == nil:
		return errors.New("idptest: set both Key and Cert, or neither")
	case !o.Key.PublicKey.Equal(o.Cert.PublicKey):
		return errors.New("idptest: Cert does not hold Key's public key")
	}
	return nil
}

// response builds and signs the base64 samlp:Response an IdP named issuer
// posts for a user with the given AWS Role attribute values. session ties
// the AuthnStatement to the IdP's SSO session.
func (o *SAMLOptions) response(issuer, nameID, sessionName, session string, roles []string) (string, error) {
	now := o.Now().UTC().Truncate(time.Millisecond)
	exp := now.Add(o.AssertionLifetime)
	notBefore := now
	if !exp.After(notBefore) {
		// Keep the window well-formed so verifiers report "expired", not
		// "not yet valid".
		notBefore = exp.Add(-5 * time.Minute)
	}

	attrs := []saml.Attribute{{
		FriendlyName: "Role", Name: AttrRole, NameFormat: attrFormatBasic,
		Values: stringValues(roles...),
	}, {
		Name: AttrRoleSessionName, NameFormat: attrFormatBasic,
		Values: stringValues(sessionName),
	}}
	if d := o.SessionDuration; d != 0 {
		attrs = append(attrs, saml.Attribute{
			Name: AttrSessionDuration, NameFormat: attrFormatBasic,
			Values: stringValues(strconv.Itoa(int(d / time.Second))),
		})
	}

	a := &saml.Assertion{
		ID:           "ID_" + newUUID(),
		IssueInstant: now,
		Version:      "2.0",
		Issuer:       saml.Issuer{Value: issuer},
		Subject: &saml.Subject{
			NameID: &saml.NameID{Format: nameIDUnspecified, Value: nameID},
			SubjectConfirmations: []saml.SubjectConfirmation{{
				Method: "urn:oasis:names:tc:SAML:2.0:cm:bearer",
				SubjectConfirmationData: &saml.SubjectConfirmationData{
					NotOnOrAfter: exp,
					Recipient:    o.Destination,
				},
			}},
		},
		Conditions: &saml.Conditions{
			NotBefore:    notBefore,
			NotOnOrAfter: exp,
			AudienceRestrictions: []saml.AudienceRestriction{
				{Audience: saml.Audience{Value: o.Audience}},
			},
		},
		AuthnStatements: []saml.AuthnStatement{{
			AuthnInstant: now,
			SessionIndex: session + "::" + newUUID(),
			AuthnContext: saml.AuthnContext{AuthnContextClassRef: &saml.AuthnContextClassRef{
				Value: "urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified",
			}},
		}},
		AttributeStatements: []saml.AttributeStatement{{Attributes: attrs}},
	}
	sig, err := o.sign(a.Element())
	if err != nil {
		return "", err
	}
	a.Signature = sig

	r := &saml.Response{
		ID:           "ID_" + newUUID(),
		Version:      "2.0",
		IssueInstant: now,
		Destination:  o.Destination,
		Issuer:       &saml.Issuer{Value: issuer},
		Status:       saml.Status{StatusCode: saml.StatusCode{Value: saml.StatusSuccess}},
		Assertion:    a,
	}
	if o.SignResponse {
		if r.Signature, err = o.sign(r.Element()); err != nil {
			return "", err
		}
	}
	doc := etree.NewDocument()
	doc.SetRoot(r.Element())
	b, err := doc.WriteToBytes()
	if err != nil {
		return "", fmt.Errorf("idptest: serialize saml response: %w", err)
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

// sign returns an enveloped RSA-SHA256 signature of el (exclusive C14N, as
// Keycloak uses). The caller re-renders el with the signature in its schema
// place, after Issuer; the enveloped transform drops it before digesting, so
// its place does not matter to verifiers.
func (o *SAMLOptions) sign(el *etree.Element) (*etree.Element, error) {
	ctx, err := dsig.NewSigningContext(o.Key, [][]byte{o.Cert.Raw})
	if err != nil {
		return nil, fmt.Errorf("idptest: signing context: %w", err)
	}
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	if err := ctx.SetSignatureMethod(dsig.RSASHA256SignatureMethod); err != nil {
		return nil, fmt.Errorf("idptest: signature method: %w", err)
	}
	sig, err := ctx.ConstructSignature(el, true)
	if err != nil {
		return nil, fmt.Errorf("idptest: sign %s: %w", el.Tag, err)
	}
	return sig, nil
}

func stringValues(vs ...string) []saml.AttributeValue {
	out := make([]saml.AttributeValue, 0, len(vs))
	for _, v := range vs {
		out = append(out, saml.AttributeValue{Type: "xs:string", Value: v})
	}
	return out
}

// MetadataXML is the realm's SAML IdP descriptor, as Keycloak serves at
// /realms/<realm>/protocol/saml/descriptor.
func (k *Keycloak) MetadataXML() []byte {
	sso := k.realmURL() + "/protocol/saml"
	cert := base64.StdEncoding.EncodeToString(k.o.Cert.Raw)
	ed := saml.EntityDescriptor{
		EntityID: k.realmURL(),
		IDPSSODescriptors: []saml.IDPSSODescriptor{{
			SSODescriptor: saml.SSODescriptor{
				RoleDescriptor: saml.RoleDescriptor{
					ProtocolSupportEnumeration: "urn:oasis:names:tc:SAML:2.0:protocol",
					KeyDescriptors: []saml.KeyDescriptor{{
						Use: "signing",
						KeyInfo: saml.KeyInfo{X509Data: saml.X509Data{
							X509Certificates: []saml.X509Certificate{{Data: cert}},
						}},
					}},
				},
				SingleLogoutServices: []saml.Endpoint{{Binding: saml.HTTPPostBinding, Location: sso}},
				NameIDFormats: []saml.NameIDFormat{
					"urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
					"urn:oasis:names:tc:SAML:2.0:nameid-format:transient",
					nameIDUnspecified,
					"urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
				},
			},
			SingleSignOnServices: []saml.Endpoint{
				{Binding: saml.HTTPPostBinding, Location: sso},
				{Binding: saml.HTTPRedirectBinding, Location: sso},
			},
		}},
	}
	b, err := xml.MarshalIndent(ed, "", "  ")
	if err != nil {
		panic("idptest: marshal metadata: " + err.Error()) // static shape; cannot fail
	}
	return append([]byte(xml.Header), b...)
}

var defaultKey struct {
	once sync.Once
	key  *rsa.PrivateKey
	cert *x509.Certificate
	err  error
}

// defaultKeyPair makes one self-signed realm key per process: RSA key
// generation costs tens of milliseconds, too much for every test.
func defaultKeyPair() (*rsa.PrivateKey, *x509.Certificate, error) {
	d := &defaultKey
	d.once.Do(func() {
		d.key, d.cert, d.err = NewKeyPair("idptest")
	})
	return d.key, d.cert, d.err
}

// NewKeyPair makes a 2048-bit RSA key and a self-signed certificate for it
// with the given common name, valid from an hour ago for ten years, like
// the certificate Keycloak generates for a new realm.
func NewKeyPair(cn string) (*rsa.PrivateKey, *x509.Certificate, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, fmt.Errorf("idptest: generate rsa key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, nil, fmt.Errorf("idptest: certificate serial: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("idptest: create certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("idptest: parse certificate: %w", err)
	}
	return key, cert, nil
}
