package idptest_test

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/saml2sts/saml2sts/idp/idptest"
)

// want is what an issued assertion must say.
type want struct {
	dest, issuer, nameID, sessionName string
	roles                             []string
	duration                          string // "" means no SessionDuration attribute
	notOnOrAfter                      [2]time.Time
}

func parseSAML(t *testing.T, b64 string) *etree.Document {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatalf("SAMLResponse is not standard base64: %v", err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil {
		t.Fatalf("SAMLResponse is not XML: %v", err)
	}
	return doc
}

// verify checks el's enveloped signature with goxmldsig, an implementation
// independent of the signing code path's wrapper (crewjam/saml).
func verify(el *etree.Element, cert *x509.Certificate) error {
	ctx := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{cert}})
	_, err := ctx.Validate(el)
	return err
}

func attrValues(a *etree.Element, name string) []string {
	var out []string
	for _, at := range a.FindElements("./AttributeStatement/Attribute") {
		if at.SelectAttrValue("Name", "") != name {
			continue
		}
		for _, v := range at.SelectElements("AttributeValue") {
			out = append(out, v.Text())
		}
		if out == nil {
			out = []string{} // present but empty
		}
	}
	return out
}

// find is FindElement that fails the test instead of returning nil.
func find(t *testing.T, el *etree.Element, path string) *etree.Element {
	t.Helper()
	found := el.FindElement(path)
	if found == nil {
		t.Fatalf("no %s in %s", path, el.Tag)
	}
	return found
}

func checkAssertion(t *testing.T, b64 string, cert *x509.Certificate, w want) {
	t.Helper()
	doc := parseSAML(t, b64)
	r := doc.Root()
	if r.Tag != "Response" || r.NamespaceURI() != "urn:oasis:names:tc:SAML:2.0:protocol" {
		t.Fatalf("root is %s:%s, want samlp:Response", r.Space, r.Tag)
	}
	if got := r.SelectAttrValue("Destination", ""); got != w.dest {
		t.Errorf("Response@Destination = %q, want %q", got, w.dest)
	}
	if got := find(t, r, "./Issuer").Text(); got != w.issuer {
		t.Errorf("Response Issuer = %q, want %q", got, w.issuer)
	}
	if got := find(t, r, "./Status/StatusCode").SelectAttrValue("Value", ""); got != saml.StatusSuccess {
		t.Errorf("StatusCode = %q", got)
	}
	as := r.SelectElements("Assertion")
	if len(as) != 1 {
		t.Fatalf("%d Assertion elements, want 1", len(as))
	}
	a := as[0]
	if err := verify(a, cert); err != nil {
		t.Errorf("assertion signature does not verify: %v", err)
	}
	// Schema order: Issuer, Signature, Subject, ...
	if kids := a.ChildElements(); len(kids) < 2 || kids[0].Tag != "Issuer" || kids[1].Tag != "Signature" {
		t.Errorf("assertion does not start with Issuer, Signature")
	}
	if got := find(t, a, "./Signature/SignedInfo/SignatureMethod").SelectAttrValue("Algorithm", ""); got != dsig.RSASHA256SignatureMethod {
		t.Errorf("SignatureMethod = %q, want RSA-SHA256", got)
	}
	if got := find(t, a, "./Issuer").Text(); got != w.issuer {
		t.Errorf("Assertion Issuer = %q, want %q", got, w.issuer)
	}
	if got := find(t, a, "./Subject/NameID").Text(); got != w.nameID {
		t.Errorf("NameID = %q, want %q", got, w.nameID)
	}
	scs := a.FindElements("./Subject/SubjectConfirmation")
	if len(scs) != 1 {
		t.Fatalf("%d SubjectConfirmation, want exactly 1", len(scs))
	}
	if m := scs[0].SelectAttrValue("Method", ""); m != "urn:oasis:names:tc:SAML:2.0:cm:bearer" {
		t.Errorf("SubjectConfirmation Method = %q", m)
	}
	scd := scs[0].FindElement("./SubjectConfirmationData")
	if got := scd.SelectAttrValue("Recipient", ""); got != w.dest {
		t.Errorf("Recipient = %q, want %q", got, w.dest)
	}
	noa, err := time.Parse(time.RFC3339, scd.SelectAttrValue("NotOnOrAfter", ""))
	if err != nil {
		t.Fatalf("SubjectConfirmationData NotOnOrAfter: %v", err)
	}
	if noa.Before(w.notOnOrAfter[0]) || noa.After(w.notOnOrAfter[1]) {
		t.Errorf("NotOnOrAfter = %v, want within %v..%v", noa, w.notOnOrAfter[0], w.notOnOrAfter[1])
	}
	cond := find(t, a, "./Conditions")
	nb, _ := time.Parse(time.RFC3339, cond.SelectAttrValue("NotBefore", ""))
	cnoa, _ := time.Parse(time.RFC3339, cond.SelectAttrValue("NotOnOrAfter", ""))
	if !cnoa.Equal(noa) || !nb.Before(cnoa) {
		t.Errorf("Conditions %v..%v, want NotBefore < NotOnOrAfter = %v", nb, cnoa, noa)
	}
	if got := find(t, a, "./Conditions/AudienceRestriction/Audience").Text(); got != "urn:amazon:webservices" {
		t.Errorf("Audience = %q", got)
	}
	if got := attrValues(a, idptest.AttrRole); !slices.Equal(got, w.roles) {
		t.Errorf("Role values = %q, want %q", got, w.roles)
	}
	if got := attrValues(a, idptest.AttrRoleSessionName); !slices.Equal(got, []string{w.sessionName}) {
		t.Errorf("RoleSessionName = %q, want %q", got, w.sessionName)
	}
	got := attrValues(a, idptest.AttrSessionDuration)
	switch {
	case w.duration == "" && got != nil:
		t.Errorf("SessionDuration = %q, want none", got)
	case w.duration != "" && !slices.Equal(got, []string{w.duration}):
		t.Errorf("SessionDuration = %q, want %q", got, w.duration)
	}

	// crewjam/saml's own schema types must read it too.
	raw, _ := base64.StdEncoding.DecodeString(b64)
	var resp saml.Response
	if err := xml.Unmarshal(raw, &resp); err != nil {
		t.Errorf("crewjam/saml cannot unmarshal the response: %v", err)
	} else if resp.Assertion == nil || resp.Assertion.Subject.NameID.Value != w.nameID {
		t.Errorf("crewjam/saml reads no assertion/NameID")
	}
}

func TestSignatureRejectsTamperingAndOtherKeys(t *testing.T) {
	k := newKeycloak(t, idptest.KeycloakOptions{Theme: "v1", SAMLOptions: idptest.SAMLOptions{SignResponse: true}, Users: []idptest.User{
		{Username: "alice", Password: "pw", Roles: []string{"arn:aws:iam::123456789012:role/Reader,arn:aws:iam::123456789012:saml-provider/corp"}},
	}})
	p, err := newBrowser().login(k, "alice", "pw")
	if err != nil {
		t.Fatal(err)
	}
	doc := parseSAML(t, samlResponse(p))

	// With SignResponse both signatures verify.
	if err := verify(doc.Root(), k.Certificate()); err != nil {
		t.Errorf("response signature: %v", err)
	}
	a := doc.Root().SelectElement("Assertion")
	if err := verify(a, k.Certificate()); err != nil {
		t.Errorf("assertion signature: %v", err)
	}

	other, err := otherPair()
	if err != nil {
		t.Fatal(err)
	}
	if err := verify(a, other.cert); err == nil {
		t.Error("assertion verified against a certificate that did not sign it")
	}

	tampered := doc.Copy()
	for _, v := range tampered.FindElements("//AttributeValue") {
		if strings.Contains(v.Text(), ":role/") {
			v.SetText(strings.Replace(v.Text(), "Reader", "Admin", 1))
		}
	}
	if err := verify(tampered.Root().SelectElement("Assertion"), k.Certificate()); err == nil {
		t.Error("assertion with an edited Role still verifies")
	}
	if err := verify(tampered.Root(), k.Certificate()); err == nil {
		t.Error("response with an edited Role still verifies")
	}
}

func TestAssertionTimes(t *testing.T) {
	fixed := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	user := idptest.User{Username: "Bob", Password: "pw", SessionName: "bob@example.com",
		Roles: []string{"arn:aws:iam::1:saml-provider/corp,arn:aws:iam::1:role/A", "arn:aws:iam::1:role/B,arn:aws:iam::1:saml-provider/corp"}}
	tests := []struct {
		name     string
		lifetime time.Duration
		session  time.Duration
		wantNOA  time.Time
		duration string
	}{
		{"default lifetime", 0, 0, fixed.Add(5 * time.Minute), ""},
		{"one hour with session duration", time.Hour, 2 * time.Hour, fixed.Add(time.Hour), "7200"},
		{"already expired", -time.Minute, 0, fixed.Add(-time.Minute), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := newKeycloak(t, idptest.KeycloakOptions{
				Users: []idptest.User{user}, SAMLOptions: idptest.SAMLOptions{
					AssertionLifetime: tt.lifetime, SessionDuration: tt.session,
					Now: func() time.Time { return fixed }, Destination: "https://eu-west-1.signin.aws.amazon.com/saml",
				}})
			p, err := newBrowser().login(k, "bob", "pw") // usernames match case-insensitively
			if err != nil {
				t.Fatal(err)
			}
			b64 := samlResponse(p)
			checkAssertion(t, b64, k.Certificate(), want{
				dest: "https://eu-west-1.signin.aws.amazon.com/saml", issuer: k.BaseURL() + "/realms/corp",
				nameID: "Bob", sessionName: "bob@example.com", roles: user.Roles, duration: tt.duration,
				notOnOrAfter: [2]time.Time{tt.wantNOA, tt.wantNOA},
			})
			issued := parseSAML(t, b64).Root().SelectAttrValue("IssueInstant", "")
			if issued != "2030-01-02T03:04:05Z" {
				t.Errorf("IssueInstant = %q, want the injected clock", issued)
			}
		})
	}
}

func TestMetadata(t *testing.T) {
	k := newKeycloak(t, idptest.KeycloakOptions{Realm: "acme", AuthPrefix: true})
	var ed saml.EntityDescriptor
	if err := xml.Unmarshal(k.MetadataXML(), &ed); err != nil {
		t.Fatalf("metadata does not parse: %v", err)
	}
	if ed.EntityID != k.BaseURL()+"/auth/realms/acme" {
		t.Errorf("EntityID = %q", ed.EntityID)
	}
	if len(ed.IDPSSODescriptors) != 1 {
		t.Fatalf("%d IDPSSODescriptors", len(ed.IDPSSODescriptors))
	}
	kd := ed.IDPSSODescriptors[0].KeyDescriptors
	if len(kd) != 1 || kd[0].Use != "signing" {
		t.Fatalf("key descriptors = %+v", kd)
	}
	der, _ := base64.StdEncoding.DecodeString(kd[0].KeyInfo.X509Data.X509Certificates[0].Data)
	if c, err := x509.ParseCertificate(der); err != nil || !c.Equal(k.Certificate()) {
		t.Errorf("metadata certificate is not the signing certificate (%v)", err)
	}

	// Served where Keycloak serves it, too.
	p := newBrowser().mustGet(t, k.BaseURL()+"/auth/realms/acme/protocol/saml/descriptor")
	if p.status != 200 || p.body != string(k.MetadataXML()) {
		t.Errorf("descriptor endpoint: status %d", p.status)
	}
}

// otherPair is a realm key that is not the emulators' default one, made
// once: RSA key generation costs more than the tests using it.
var otherPair = sync.OnceValues(func() (keyPair, error) {
	key, cert, err := idptest.NewKeyPair("other")
	return keyPair{key, cert}, err
})

type keyPair struct {
	key  *rsa.PrivateKey
	cert *x509.Certificate
}

func TestOptionsErrors(t *testing.T) {
	pair, err := otherPair()
	if err != nil {
		t.Fatal(err)
	}
	key, cert := pair.key, pair.cert
	// The default realm key's certificate, which does not hold key.
	otherCert := newKeycloak(t, idptest.KeycloakOptions{}).Certificate()
	tests := []struct {
		name string
		o    idptest.KeycloakOptions
		want string
	}{
		{"bad theme", idptest.KeycloakOptions{Theme: "v3"}, "unknown keycloak theme"},
		{"key without cert", idptest.KeycloakOptions{SAMLOptions: idptest.SAMLOptions{Key: key}}, "both Key and Cert"},
		{"mismatched pair", idptest.KeycloakOptions{SAMLOptions: idptest.SAMLOptions{Key: key, Cert: otherCert}}, "does not hold Key"},
		{"duplicate user", idptest.KeycloakOptions{Users: []idptest.User{{Username: "a"}, {Username: "A"}}}, "duplicate user"},
		{"empty username", idptest.KeycloakOptions{Users: []idptest.User{{}}}, "no Username"},
		{"realm with slash", idptest.KeycloakOptions{Realm: "a/b"}, "plain path segments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := idptest.NewKeycloak(tt.o)
			if err == nil {
				k.Close()
				t.Fatal("NewKeycloak succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
		})
	}

	// A caller-supplied pair is used as given.
	k := newKeycloak(t, idptest.KeycloakOptions{SAMLOptions: idptest.SAMLOptions{Key: key, Cert: cert}})
	if !k.Certificate().Equal(cert) {
		t.Error("Certificate() is not the supplied certificate")
	}
}

// TestServiceProviderAcceptsResponse runs the response through crewjam/saml's
// full service-provider checks (signature against the metadata certificate,
// Issuer, Destination, Recipient, Audience, times), with AWS's identifiers.
func TestServiceProviderAcceptsResponse(t *testing.T) {
	tests := []struct {
		name     string
		lifetime time.Duration
		wantErr  bool
	}{
		{"fresh", 0, false},
		{"expired", -10 * time.Minute, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := newKeycloak(t, idptest.KeycloakOptions{SAMLOptions: idptest.SAMLOptions{AssertionLifetime: tt.lifetime}, Users: users})
			p, err := newBrowser().login(k, "alice", "correct horse")
			if err != nil {
				t.Fatal(err)
			}
			var ed saml.EntityDescriptor
			if err := xml.Unmarshal(k.MetadataXML(), &ed); err != nil {
				t.Fatal(err)
			}
			acs, _ := url.Parse("https://signin.aws.amazon.com/saml")
			sp := saml.ServiceProvider{EntityID: "urn:amazon:webservices", AcsURL: *acs, IDPMetadata: &ed, AllowIDPInitiated: true}
			raw, _ := base64.StdEncoding.DecodeString(samlResponse(p))
			a, err := sp.ParseXMLResponse(raw, nil, *acs)
			if tt.wantErr {
				if err == nil {
					t.Fatal("expired assertion accepted")
				}
				return
			}
			if err != nil {
				var ire *saml.InvalidResponseError
				if errors.As(err, &ire) {
					err = ire.PrivateErr
				}
				t.Fatalf("service provider rejects the response: %v", err)
			}
			if a.Subject.NameID.Value != "alice" {
				t.Errorf("NameID = %q", a.Subject.NameID.Value)
			}
		})
	}
}
