package sts

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const (
	role1 = "arn:aws:iam::123456789012:role/SearchReader"
	prov1 = "arn:aws:iam::123456789012:saml-provider/Keycloak"
)

// doc builds a SAMLResponse; p is the assertion namespace prefix ("" for
// the default namespace), attrs the AttributeStatement content.
type doc struct {
	p, dest, recipient, attrs string
	noAssertion, encrypted    bool
}

func (d doc) String() string {
	p := d.p
	if p != "" {
		p += ":"
	}
	ns := fmt.Sprintf(`xmlns%s="urn:oasis:names:tc:SAML:2.0:assertion"`, strings.TrimSuffix(":"+d.p, ":"))
	dest := ""
	if d.dest != "" {
		dest = fmt.Sprintf(` Destination="%s"`, d.dest)
	}
	body := fmt.Sprintf(`<%[1]sAssertion %[2]s ID="_a" Version="2.0" IssueInstant="2024-05-01T10:00:00Z">
  <%[1]sIssuer>https://idp.example.com/realms/corp</%[1]sIssuer>
  <%[1]sSubject><%[1]sSubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">
    <%[1]sSubjectConfirmationData NotOnOrAfter="2024-05-01T10:05:00Z" Recipient="%[3]s"/>
  </%[1]sSubjectConfirmation></%[1]sSubject>
  <%[1]sAttributeStatement>%[4]s</%[1]sAttributeStatement>
</%[1]sAssertion>`, p, ns, d.recipient, d.attrs)
	switch {
	case d.noAssertion:
		body = `<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Responder"/></samlp:Status>`
	case d.encrypted:
		body = `<saml:EncryptedAssertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"><xenc:EncryptedData xmlns:xenc="http://www.w3.org/2001/04/xmlenc#"/></saml:EncryptedAssertion>`
	}
	return fmt.Sprintf(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_r" Version="2.0"%s>%s</samlp:Response>`, dest, body)
}

func attr(p, name string, vals ...string) string {
	if p != "" {
		p += ":"
	}
	s := fmt.Sprintf(`<%sAttribute Name="https://aws.amazon.com/SAML/Attributes/%s">`, p, name)
	for _, v := range vals {
		s += fmt.Sprintf(`<%sAttributeValue>%s</%sAttributeValue>`, p, v, p)
	}
	return s + fmt.Sprintf(`</%sAttribute>`, p)
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func fixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b64(string(b))
}

func TestParseResponse(t *testing.T) {
	std := attr("", "Role", role1+","+prov1) + attr("", "RoleSessionName", "alice@example.com")
	adfs := func(name string) Role {
		return Role{"arn:aws:iam::123123123123:role/" + name, "arn:aws:iam::123123123123:saml-provider/ExampleADFS"}
	}
	ping := func(acct, name string) Role {
		return Role{"arn:aws:iam::" + acct + ":role/" + name, "arn:aws:iam::" + acct + ":saml-provider/example-idp"}
	}
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name string
		in   string
		want Assertion // Raw is not compared
	}{
		{
			name: "saml2aws ADFS fixture",
			in:   fixture(t, "assertion.xml"),
			want: Assertion{
				Roles:           []Role{adfs("AWS-Admin-CloudOPSBuild"), adfs("AWS-Admin-CloudOPSNonProd")},
				SessionName:     "wolfeidau@example.com",
				SessionDuration: 8 * time.Hour,
				Destination:     "https://signin.aws.amazon.com/saml",
				NotOnOrAfter:    at("2016-09-10T02:59:39.387Z"),
				Partition:       "aws",
			},
		},
		{
			name: "no destination uses recipient",
			in:   fixture(t, "assertion_no_destination.xml"),
			want: Assertion{
				Roles:           []Role{adfs("AWS-Admin-CloudOPSBuild"), adfs("AWS-Admin-CloudOPSNonProd")},
				SessionName:     "wolfeidau@example.com",
				SessionDuration: 8 * time.Hour,
				Destination:     "https://signin.aws.amazon.com/saml",
				NotOnOrAfter:    at("2016-09-10T02:59:39.387Z"),
				Partition:       "aws",
			},
		},
		{
			name: "invalid subject date falls back to conditions",
			in:   fixture(t, "assertion_invalid_date.xml"),
			want: Assertion{
				Roles:           []Role{adfs("AWS-Admin-CloudOPSBuild"), adfs("AWS-Admin-CloudOPSNonProd")},
				SessionName:     "wolfeidau@example.com",
				SessionDuration: 8 * time.Hour,
				Destination:     "https://signin.aws.amazon.com/saml",
				NotOnOrAfter:    at("2016-09-10T03:54:39.371Z"),
				Partition:       "aws",
			},
		},
		{
			name: "pingfed role first, padded values",
			in:   fixture(t, "assertion_pingfed.xml"),
			want: Assertion{
				Roles: []Role{ping("456456456456", "admin"), ping("456456456456", "developer"),
					ping("789789789789", "admin"), ping("123123123123", "developer"), ping("123123123123", "admin")},
				SessionName:  "evan.mclean",
				Destination:  "https://signin.aws.amazon.com/saml",
				NotOnOrAfter: at("2016-09-23T23:34:25.315Z"),
				Partition:    "aws",
			},
		},
		{
			name: "saml2 prefix, provider first, duplicates dropped",
			in: b64(doc{p: "saml2", dest: "https://signin.aws.amazon.com/saml", recipient: "https://signin.aws.amazon.com/saml",
				attrs: attr("saml2", "Role", prov1+","+role1, " "+role1+" , "+prov1+"\n") + attr("saml2", "RoleSessionName", "alice") +
					attr("saml2", "SessionDuration", "3600")}.String()),
			want: Assertion{Roles: []Role{{role1, prov1}}, SessionName: "alice", SessionDuration: time.Hour,
				Destination: "https://signin.aws.amazon.com/saml", NotOnOrAfter: at("2024-05-01T10:05:00Z"), Partition: "aws"},
		},
		{
			name: "regional destination",
			in:   b64(doc{p: "saml", dest: "https://eu-west-1.signin.aws.amazon.com/saml", recipient: "https://eu-west-1.signin.aws.amazon.com/saml", attrs: attr("saml", "Role", role1+","+prov1) + attr("saml", "RoleSessionName", "alice@example.com")}.String()),
			want: Assertion{Roles: []Role{{role1, prov1}}, SessionName: "alice@example.com",
				Destination: "https://eu-west-1.signin.aws.amazon.com/saml", NotOnOrAfter: at("2024-05-01T10:05:00Z"),
				Region: "eu-west-1", Partition: "aws"},
		},
		{
			name: "no destination, regional recipient",
			in:   b64(doc{recipient: "https://ap-southeast-2.signin.aws.amazon.com/saml", attrs: std}.String()),
			want: Assertion{Roles: []Role{{role1, prov1}}, SessionName: "alice@example.com",
				Destination: "https://ap-southeast-2.signin.aws.amazon.com/saml", NotOnOrAfter: at("2024-05-01T10:05:00Z"),
				Region: "ap-southeast-2", Partition: "aws"},
		},
		{
			name: "govcloud",
			in: b64(doc{dest: "https://signin.amazonaws-us-gov.com/saml", recipient: "https://signin.amazonaws-us-gov.com/saml",
				attrs: attr("", "Role", "arn:aws-us-gov:iam::123456789012:role/R,arn:aws-us-gov:iam::123456789012:saml-provider/P")}.String()),
			want: Assertion{Roles: []Role{{"arn:aws-us-gov:iam::123456789012:role/R", "arn:aws-us-gov:iam::123456789012:saml-provider/P"}},
				Destination: "https://signin.amazonaws-us-gov.com/saml", NotOnOrAfter: at("2024-05-01T10:05:00Z"), Partition: "aws-us-gov"},
		},
		{
			name: "china",
			in: b64(doc{dest: "https://signin.amazonaws.cn/saml", recipient: "https://signin.amazonaws.cn/saml",
				attrs: attr("", "Role", "arn:aws-cn:iam::123456789012:saml-provider/P,arn:aws-cn:iam::123456789012:role/path/R")}.String()),
			want: Assertion{Roles: []Role{{"arn:aws-cn:iam::123456789012:role/path/R", "arn:aws-cn:iam::123456789012:saml-provider/P"}},
				Destination: "https://signin.amazonaws.cn/saml", NotOnOrAfter: at("2024-05-01T10:05:00Z"), Partition: "aws-cn"},
		},
		{
			name: "partition from ARNs when destination is not AWS",
			in: b64(doc{recipient: "http://127.0.0.1:9999/saml",
				attrs: attr("", "Role", "arn:aws-cn:iam::123456789012:role/R,arn:aws-cn:iam::123456789012:saml-provider/P")}.String()),
			want: Assertion{Roles: []Role{{"arn:aws-cn:iam::123456789012:role/R", "arn:aws-cn:iam::123456789012:saml-provider/P"}},
				Destination: "http://127.0.0.1:9999/saml", NotOnOrAfter: at("2024-05-01T10:05:00Z"), Partition: "aws-cn"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseResponse(tt.in)
			if err != nil {
				t.Fatalf("ParseResponse: %v", err)
			}
			if got.Raw == "" {
				t.Error("Raw is empty")
			}
			got.Raw = ""
			if fmt.Sprint(*got) != fmt.Sprint(tt.want) {
				t.Errorf("got  %+v\nwant %+v", *got, tt.want)
			}
		})
	}
}

func TestParseResponseDamagedTransport(t *testing.T) {
	base := doc{dest: "https://signin.aws.amazon.com/saml", recipient: "x", attrs: attr("", "Role", role1+","+prov1)}.String()
	// Pad with a trailing comment until the encoding has '+', '/' and '='.
	var enc string
	for i := 0; ; i++ {
		if i == 12 {
			t.Fatal("no padding gives '+', '/' and '='")
		}
		enc = b64(base + "<!--" + strings.Repeat("~", i) + "???~~~>>>-->")
		if strings.Contains(enc, "+") && strings.Contains(enc, "/") && strings.HasSuffix(enc, "=") {
			break
		}
	}
	var wrapped strings.Builder
	for i := 0; i < len(enc); i += 76 {
		wrapped.WriteString(enc[i:min(i+76, len(enc))] + "\r\n")
	}
	for name, in := range map[string]string{
		"line wrapped":   wrapped.String(),
		"url escaped":    url.QueryEscape(enc),
		"plus to space":  strings.ReplaceAll(enc, "+", " "),
		"form prefix":    "SAMLResponse=" + url.QueryEscape(enc),
		"surrounding ws": "\n\t " + enc + " \n",
	} {
		t.Run(name, func(t *testing.T) {
			a, err := ParseResponse(in)
			if err != nil {
				t.Fatalf("ParseResponse: %v", err)
			}
			if a.Raw != enc {
				t.Errorf("Raw not repaired to the IdP's base64")
			}
			if len(a.Roles) != 1 {
				t.Errorf("roles = %v", a.Roles)
			}
		})
	}
}

// wrappedAssertion is the unsigned assertion of a signature wrapping attack.
const wrappedAssertion = `<saml:Assertion ID="evil"><saml:AttributeStatement><saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/Role">` +
	`<saml:AttributeValue>arn:aws:iam::999999999999:role/Evil,arn:aws:iam::999999999999:saml-provider/evil</saml:AttributeValue>` +
	`</saml:Attribute></saml:AttributeStatement></saml:Assertion>`

func TestParseResponseRejects(t *testing.T) {
	good := attr("", "Role", role1+","+prov1)
	valid := doc{dest: "https://signin.aws.amazon.com/saml", attrs: good}.String()
	tests := []struct {
		name, in, want string
	}{
		{"empty", "  ", "empty"},
		{"not base64", "PHNhbWxw!!!OlJl@@c3BvbnNl", "not base64"},
		{"not xml", b64("hello, this is not a SAML response"), "not XML"},
		{"saml2aws notxml fixture", fixture(t, "notxml.xml"), "not XML"},
		{"truncated xml", b64(valid[:len(valid)/2]), "not XML"},
		{"oversize encoded", strings.Repeat("A", MaxResponseSize+1), "larger than 1 MiB"},
		{"doctype", b64(`<?xml version="1.0"?><!DOCTYPE r [<!ELEMENT r ANY>]>` + valid), "DOCTYPE or ENTITY"},
		{"billion laughs", b64(`<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><lolz>&lol2;</lolz>`), "DOCTYPE or ENTITY"},
		{"entity only", b64(`<!eNtItY x SYSTEM "file:///etc/passwd">` + valid), "DOCTYPE or ENTITY"},
		{"encrypted", b64(doc{encrypted: true}.String()), "encrypted"},
		{"no assertion", b64(doc{noAssertion: true}.String()), "no Assertion (IdP status urn:oasis:names:tc:SAML:2.0:status:Responder)"},
		{"no role attribute", b64(doc{attrs: attr("", "RoleSessionName", "alice")}.String()),
			"grants no AWS role: ask the IdP admin to map https://aws.amazon.com/SAML/Attributes/Role"},
		{"empty role attribute", b64(doc{attrs: attr("", "Role")}.String()), "grants no AWS role"},
		{"role without provider", b64(doc{attrs: attr("", "Role", role1)}.String()), "not one role ARN and one saml-provider ARN"},
		{"two roles", b64(doc{attrs: attr("", "Role", role1+","+role1)}.String()), "not one role ARN and one saml-provider ARN"},
		{"three parts", b64(doc{attrs: attr("", "Role", role1+","+prov1+","+prov1)}.String()), "not one role ARN"},
		{"bad account", b64(doc{attrs: attr("", "Role", "arn:aws:iam::1234:role/R,"+prov1)}.String()), "not one role ARN"},
		{"role name only", b64(doc{attrs: attr("", "Role", "Admin,"+prov1)}.String()), `"Admin,arn:aws`},
		// XML signature wrapping: an unsigned assertion next to, or
		// around, the signed one.
		{"two assertions", b64(strings.Replace(valid, "</samlp:Response>", wrappedAssertion+"</samlp:Response>", 1)), "2 assertions"},
		{"assertion in assertion", b64(strings.Replace(valid, "</Assertion>", wrappedAssertion+"</Assertion>", 1)), "signature wrapping"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseResponse(tt.in)
			var ae *AssertionError
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v, want *AssertionError", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestCheckAWS(t *testing.T) {
	for dest, ok := range map[string]bool{
		"":                                   true,
		"https://signin.aws.amazon.com/saml": true,
		"https://eu-west-1.signin.aws.amazon.com/saml":                      true,
		"https://signin.amazonaws.cn/saml":                                  true,
		"https://dashboards.example.com/_opendistro/_security/saml/acs?x=1": false,
		"https://signin.aws.amazon.com.evil.example/saml":                   false,
	} {
		err := (&Assertion{Destination: dest}).CheckAWS()
		var ae *AssertionError
		if ok != (err == nil) || (!ok && (!errors.As(err, &ae) || !strings.Contains(err.Error(), "not to AWS sign-in") || strings.Contains(err.Error(), "x=1"))) {
			t.Errorf("CheckAWS(%q) = %v", dest, err)
		}
	}
}

func TestParseResponseDecodedSizeLimit(t *testing.T) {
	// Just under the encoded limit decodes to well under it, so the decoded
	// check can only trip on inputs that shrink when repaired; make sure a
	// big but valid response still parses.
	big := doc{attrs: attr("", "Role", role1+","+prov1) + "<!-- " + strings.Repeat("x", 600_000) + " -->"}.String()
	if _, err := ParseResponse(b64(big)); err != nil {
		t.Fatalf("600 KB response: %v", err)
	}
}

func TestRole(t *testing.T) {
	tests := []struct {
		r                  Role
		acct, name, string string
	}{
		{Role{role1, prov1}, "123456789012", "SearchReader", "account 123456789012 role SearchReader"},
		{Role{"arn:aws-cn:iam::210987654321:role/team/ops/Admin", ""}, "210987654321", "Admin", "account 210987654321 role Admin"},
		{Role{"not-an-arn", ""}, "", "", "not-an-arn"},
	}
	for _, tt := range tests {
		if got := tt.r.AccountID(); got != tt.acct {
			t.Errorf("%s AccountID = %q, want %q", tt.r.RoleARN, got, tt.acct)
		}
		if got := tt.r.Name(); got != tt.name {
			t.Errorf("%s Name = %q, want %q", tt.r.RoleARN, got, tt.name)
		}
		if got := tt.r.String(); got != tt.string {
			t.Errorf("%s String = %q, want %q", tt.r.RoleARN, got, tt.string)
		}
	}
}

func TestFind(t *testing.T) {
	a := &Assertion{Roles: []Role{{role1, prov1}, {"arn:aws:iam::123456789012:role/Other", prov1}}}
	if r, ok := a.Find(" " + role1 + "\n"); !ok || r.PrincipalARN != prov1 {
		t.Errorf("Find(role1) = %v, %v", r, ok)
	}
	if _, ok := a.Find("arn:aws:iam::123456789012:role/searchreader"); ok {
		t.Error("Find matched a role ARN with different case")
	}
}

func TestRegions(t *testing.T) {
	for p, want := range map[string]string{"aws": "us-east-1", "": "us-east-1", "aws-cn": "cn-north-1", "aws-us-gov": "us-gov-west-1", "aws-iso": ""} {
		if got := DefaultRegion(p); got != want {
			t.Errorf("DefaultRegion(%q) = %q, want %q", p, got, want)
		}
	}
	tests := []struct {
		a       Assertion
		profile string
		want    string
	}{
		{Assertion{Region: "eu-west-1", Partition: "aws"}, "us-west-2", "us-west-2"},
		{Assertion{Region: "eu-west-1", Partition: "aws"}, "", "eu-west-1"},
		{Assertion{Partition: "aws-us-gov"}, "", "us-gov-west-1"},
		{Assertion{Partition: "aws-cn"}, "", "cn-north-1"},
		{Assertion{Partition: "aws"}, "", "us-east-1"},
	}
	for _, tt := range tests {
		if got := tt.a.STSRegion(tt.profile); got != tt.want {
			t.Errorf("STSRegion(%q) with %+v = %q, want %q", tt.profile, tt.a, got, tt.want)
		}
	}
}

func TestAddressees(t *testing.T) {
	enc := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	acs := "https://dash.example.com/_dashboards/_opendistro/_security/saml/acs/idpinitiated"
	for _, tt := range []struct {
		name string
		in   string
		want []string
		err  bool
	}{
		{"both", enc(doc{dest: acs, recipient: acs}.String()), []string{acs, acs}, false},
		{"recipient only", enc(doc{recipient: " " + acs + " "}.String()), []string{acs}, false},
		{"destination only, no role needed", enc(doc{dest: "https://signin.aws.amazon.com/saml"}.String()), []string{"https://signin.aws.amazon.com/saml"}, false},
		{"none", enc(doc{}.String()), nil, false},
		{"dtd", enc(`<!DOCTYPE x [<!ENTITY a "b">]><Response Destination="x"/>`), nil, true},
		{"not xml", enc("hello"), nil, true},
	} {
		got, err := Addressees(tt.in)
		if (err != nil) != tt.err || strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("%s: %q, %v; want %q (error %v)", tt.name, got, err, tt.want, tt.err)
		}
	}
	for u, want := range map[string]bool{
		"https://signin.aws.amazon.com/saml":              true,
		"https://eu-west-1.signin.aws.amazon.com/saml":    true,
		"https://signin.amazonaws-us-gov.com/saml":        true,
		"https://signin.amazonaws.cn/saml":                true,
		"https://signin.aws.amazon.com.evil.example/saml": false,
		acs: false,
	} {
		if IsSignin(u) != want {
			t.Errorf("IsSignin(%s) = %v", u, !want)
		}
	}
}
