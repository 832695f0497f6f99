package ststest

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	testRole  = "arn:aws:iam::123456789012:role/SearchReader"
	testRole2 = "arn:aws:iam::123456789012:role/Admin"
	testProv  = "arn:aws:iam::123456789012:saml-provider/Keycloak"
	issuer    = "https://idp.example.com/realms/corp"
)

// clock is the emulator's clock: real time plus an offset tests move.

// testIdP is one IdP key for the package's tests: RSA key generation
// costs more than most tests, and none depends on a fresh key.
var testIdP = sync.OnceValues(func() (*IdP, error) { return NewIdP(issuer) })

func setup(t *testing.T, o Options) (*IdP, *Server, *Clock) {
	t.Helper()
	idp, err := testIdP()
	if err != nil {
		t.Fatal(err)
	}
	clk := &Clock{}
	if o.Providers == nil {
		o.Providers = map[string]*x509.Certificate{testProv: idp.Cert}
	}
	o.Now = clk.Now
	srv := New(o)
	t.Cleanup(srv.Close)
	return idp, srv, clk
}

func sign(t *testing.T, idp *IdP, r Response) string {
	t.Helper()
	if r.Roles == nil {
		r.Roles = []string{testProv + "," + testRole, testRole2 + "," + testProv}
	}
	if r.SessionName == "" {
		r.SessionName = "alice@example.com"
	}
	b64, err := idp.Sign(r)
	if err != nil {
		t.Fatal(err)
	}
	return b64
}

func post(t *testing.T, srv *Server, form url.Values) (int, []byte) {
	t.Helper()
	resp, err := http.PostForm(srv.URL(), form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); ct != "text/xml" {
		t.Errorf("Content-Type = %q", ct)
	}
	return resp.StatusCode, b
}

func assumeForm(assertion, role string, dur string) url.Values {
	f := url.Values{"Action": {"AssumeRoleWithSAML"}, "Version": {"2011-06-15"},
		"RoleArn": {role}, "PrincipalArn": {testProv}, "SAMLAssertion": {assertion}}
	if dur != "" {
		f.Set("DurationSeconds", dur)
	}
	return f
}

type errorXML struct {
	XMLName xml.Name
	Error   struct{ Type, Code, Message string }
	ReqID   string `xml:"RequestId"`
}

type assumeXML struct {
	XMLName xml.Name
	Result  struct {
		Issuer          string
		AssumedRoleUser struct{ Arn, AssumedRoleId string }
		Credentials     struct{ AccessKeyId, SecretAccessKey, SessionToken, Expiration string }
		Audience        string
		SubjectType     string
		NameQualifier   string
		Subject         string
	} `xml:"AssumeRoleWithSAMLResult"`
	Meta struct{ RequestId string } `xml:"ResponseMetadata"`
}

func TestAssumeRoleWithSAML(t *testing.T) {
	idp, srv, clk := setup(t, Options{MaxSessionDuration: map[string]time.Duration{testRole2: 4 * time.Hour}})
	for _, signResponse := range []bool{false, true} {
		start := clk.Now()
		status, body := post(t, srv, assumeForm(sign(t, idp, Response{SignResponse: signResponse}), testRole, ""))
		if status != 200 {
			t.Fatalf("status %d: %s", status, body)
		}
		var got assumeXML
		if err := xml.Unmarshal(body, &got); err != nil {
			t.Fatal(err)
		}
		if got.XMLName.Space != "https://sts.amazonaws.com/doc/2011-06-15/" || got.XMLName.Local != "AssumeRoleWithSAMLResponse" {
			t.Errorf("root = %v", got.XMLName)
		}
		r := got.Result
		c := r.Credentials
		if !regexp.MustCompile(`^ASIA[A-Z2-7]{16}$`).MatchString(c.AccessKeyId) || len(c.SecretAccessKey) != 40 || len(c.SessionToken) < 700 {
			t.Errorf("credentials shape: %q, %d-char secret, %d-char token", c.AccessKeyId, len(c.SecretAccessKey), len(c.SessionToken))
		}
		exp, err := time.Parse(time.RFC3339, c.Expiration)
		if err != nil || exp.Sub(start) < 59*time.Minute || exp.Sub(start) > 61*time.Minute {
			t.Errorf("Expiration %q, want about 1h from now", c.Expiration)
		}
		if r.AssumedRoleUser.Arn != "arn:aws:sts::123456789012:assumed-role/SearchReader/alice@example.com" ||
			!regexp.MustCompile(`^AROA[A-Z2-7]{17}:alice@example.com$`).MatchString(r.AssumedRoleUser.AssumedRoleId) {
			t.Errorf("AssumedRoleUser = %+v", r.AssumedRoleUser)
		}
		nq := sha1.Sum([]byte(issuer + "123456789012/Keycloak"))
		if r.Issuer != issuer || r.Audience != DefaultAudience || r.Subject != "alice@example.com" ||
			r.SubjectType != "persistent" || r.NameQualifier != base64.StdEncoding.EncodeToString(nq[:]) {
			t.Errorf("result = %+v", r)
		}
		if got.Meta.RequestId == "" {
			t.Error("no RequestId")
		}
		ic, ok := srv.Lookup(c.AccessKeyId)
		if !ok || ic.SecretAccessKey != c.SecretAccessKey || ic.SessionToken != c.SessionToken || ic.RoleARN != testRole {
			t.Errorf("Lookup = %+v, %v", ic, ok)
		}
	}
	if n := len(srv.Issued()); n != 2 {
		t.Errorf("Issued: %d", n)
	}

	// A role with a longer maximum honours DurationSeconds.
	status, body := post(t, srv, assumeForm(sign(t, idp, Response{}), testRole2, "7200"))
	var got assumeXML
	if status != 200 || xml.Unmarshal(body, &got) != nil {
		t.Fatalf("status %d: %s", status, body)
	}
	if exp, _ := time.Parse(time.RFC3339, got.Result.Credentials.Expiration); exp.Sub(clk.Now()) < 119*time.Minute {
		t.Errorf("Expiration %s, want 2h from now", got.Result.Credentials.Expiration)
	}
	if n := srv.Calls("AssumeRoleWithSAML"); n != 3 {
		t.Errorf("Calls = %d, want 3", n)
	}
}

func TestAssumeRoleWithSAMLErrors(t *testing.T) {
	idp, srv, _ := setup(t, Options{DenyRoles: []string{testRole2}})
	other, err := NewIdP(issuer)
	if err != nil {
		t.Fatal(err)
	}
	good := sign(t, idp, Response{})
	tamper := func(old, new string) string {
		b, _ := base64.StdEncoding.DecodeString(good)
		return base64.StdEncoding.EncodeToString(bytes.ReplaceAll(b, []byte(old), []byte(new)))
	}
	wrapped := func() string {
		// Signature wrapping: a second, unsigned assertion next to the signed one.
		b, _ := base64.StdEncoding.DecodeString(good)
		s := string(b)
		i := strings.Index(s, "<saml:Assertion")
		j := strings.LastIndex(s, "</saml:Assertion>") + len("</saml:Assertion>")
		evil := strings.ReplaceAll(s[i:j], "SearchReader", "Root")
		return base64.StdEncoding.EncodeToString([]byte(s[:i] + evil + s[i:]))
	}
	tests := []struct {
		name   string
		form   url.Values
		status int
		code   string
		msg    string
	}{
		{"unknown provider", func() url.Values {
			f := assumeForm(good, testRole, "")
			f.Set("PrincipalArn", "arn:aws:iam::123456789012:saml-provider/Other")
			return f
		}(), 400, "InvalidIdentityToken", "Specified provider doesn't exist"},
		{"signed by another key", assumeForm(sign(t, other, Response{}), testRole, ""), 400, "InvalidIdentityToken", "Response signature invalid"},
		{"tampered", assumeForm(tamper("alice@example.com", "mallory@example.com"), testRole, ""), 400, "InvalidIdentityToken", "Response signature invalid"},
		{"signature wrapping", assumeForm(wrapped(), testRole, ""), 400, "InvalidIdentityToken", "exactly one Assertion"},
		{"unsigned", assumeForm(func() string {
			b, _ := base64.StdEncoding.DecodeString(good)
			s := string(b)
			i := strings.Index(s, "<ds:Signature")
			j := strings.Index(s, "</ds:Signature>") + len("</ds:Signature>")
			return base64.StdEncoding.EncodeToString([]byte(s[:i] + s[j:]))
		}(), testRole, ""), 400, "InvalidIdentityToken", "Response signature invalid"},
		{"role not in assertion", assumeForm(good, "arn:aws:iam::123456789012:role/Other", ""), 403, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithSAML"},
		{"trust policy denies", assumeForm(good, testRole2, ""), 403, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithSAML"},
		{"expired", assumeForm(sign(t, idp, Response{IssueInstant: time.Now().Add(-3 * time.Minute), Lifetime: time.Minute}), testRole, ""),
			400, "ExpiredTokenException", "Response has expired"},
		{"older than 5 minutes", assumeForm(sign(t, idp, Response{IssueInstant: time.Now().Add(-6 * time.Minute), Lifetime: time.Hour}), testRole, ""),
			400, "ExpiredTokenException", "Token must be redeemed within 5 minutes of issuance"},
		{"recipient not AWS", assumeForm(sign(t, idp, Response{Recipient: "https://evil.example.com/saml"}), testRole, ""),
			400, "InvalidIdentityToken", "Recipient is not an AWS sign-in endpoint"},
		{"wrong audience", assumeForm(sign(t, idp, Response{Audience: "https://app.example.com"}), testRole, ""),
			400, "InvalidIdentityToken", "Response does not contain the required audience."},
		{"no session name", assumeForm(func() string {
			b, _ := idp.Sign(Response{Roles: []string{testRole + "," + testProv}})
			return b
		}(), testRole, ""), 400, "InvalidIdentityToken", "RoleSessionName is required in AuthnResponse"},
		{"bad session name", assumeForm(sign(t, idp, Response{SessionName: "alice smith"}), testRole, ""),
			400, "InvalidIdentityToken", "RoleSessionName in AuthnResponse must match [a-zA-Z_0-9+=,.@-]{2,64}"},
		{"above role maximum", assumeForm(good, testRole, "7200"), 400, "ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."},
		{"below 900", assumeForm(good, testRole, "600"), 400, "ValidationError", "greater than or equal to 900"},
		{"above 43200", assumeForm(good, testRole, "43201"), 400, "ValidationError", "less than or equal to 43200"},
		{"no role", assumeForm(good, "", ""), 400, "ValidationError", "Value null at 'roleArn'"},
		{"not base64", assumeForm("%%%not base64%%%", testRole, ""), 400, "InvalidIdentityToken", "base64"},
		{"doctype", assumeForm(base64.StdEncoding.EncodeToString([]byte(`<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>`)), testRole, ""), 400, "InvalidIdentityToken", "DTD"},
		{"unknown action", url.Values{"Action": {"AssumeRoleWithWebIdentity"}, "Version": {"2011-06-15"}}, 400, "InvalidAction", "Could not find operation AssumeRoleWithWebIdentity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := post(t, srv, tt.form)
			var e errorXML
			if err := xml.Unmarshal(body, &e); err != nil {
				t.Fatalf("%s: %v", body, err)
			}
			if e.XMLName.Local != "ErrorResponse" || e.XMLName.Space != "https://sts.amazonaws.com/doc/2011-06-15/" || e.Error.Type != "Sender" || e.ReqID == "" {
				t.Errorf("error shape: %s", body)
			}
			if status != tt.status || e.Error.Code != tt.code || !strings.Contains(e.Error.Message, tt.msg) {
				t.Errorf("got %d %s %q, want %d %s %q", status, e.Error.Code, e.Error.Message, tt.status, tt.code, tt.msg)
			}
		})
	}
	if n := len(srv.Issued()); n != 0 {
		t.Errorf("%d credentials issued for bad requests", n)
	}
}

func TestRegionalRecipient(t *testing.T) {
	idp, srv, _ := setup(t, Options{})
	for _, rcpt := range []string{"https://eu-central-1.signin.aws.amazon.com/saml", "https://us-east-2.signin.aws.amazon.com/saml/acs/SAMLSP4SHN3UIS2D558H46"} {
		status, body := post(t, srv, assumeForm(sign(t, idp, Response{Recipient: rcpt}), testRole, ""))
		if status != 200 {
			t.Errorf("%s: %d %s", rcpt, status, body)
		}
	}
}

// issue returns credentials from the emulator via AssumeRoleWithSAML.
func issue(t *testing.T, idp *IdP, srv *Server) IssuedCredentials {
	t.Helper()
	status, body := post(t, srv, assumeForm(sign(t, idp, Response{}), testRole, ""))
	var got assumeXML
	if status != 200 || xml.Unmarshal(body, &got) != nil {
		t.Fatalf("AssumeRoleWithSAML: %d %s", status, body)
	}
	ic, _ := srv.Lookup(got.Result.Credentials.AccessKeyId)
	return ic
}

func signedIdentityRequest(t *testing.T, url string, c aws.Credentials, region string) *http.Request {
	t.Helper()
	body := "Action=GetCallerIdentity&Version=2011-06-15"
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(context.Background(), c, req, hex.EncodeToString(sum[:]), "sts", region, time.Now()); err != nil {
		t.Fatal(err)
	}
	return req
}

func TestGetCallerIdentity(t *testing.T) {
	idp, srv, clk := setup(t, Options{})
	ic := issue(t, idp, srv)
	good := aws.Credentials{AccessKeyID: ic.AccessKeyID, SecretAccessKey: ic.SecretAccessKey, SessionToken: ic.SessionToken}
	tests := []struct {
		name   string
		creds  aws.Credentials
		region string
		status int
		want   string // Arn or error code
	}{
		{"ok", good, "us-east-1", 200, "arn:aws:sts::123456789012:assumed-role/SearchReader/alice@example.com"},
		{"other region", good, "eu-west-1", 200, "arn:aws:sts::123456789012:assumed-role/SearchReader/alice@example.com"},
		{"wrong secret", aws.Credentials{AccessKeyID: ic.AccessKeyID, SecretAccessKey: strings.Repeat("x", 40), SessionToken: ic.SessionToken}, "us-east-1", 403, "SignatureDoesNotMatch"},
		{"no token", aws.Credentials{AccessKeyID: ic.AccessKeyID, SecretAccessKey: ic.SecretAccessKey}, "us-east-1", 403, "InvalidClientTokenId"},
		{"unknown key", aws.Credentials{AccessKeyID: "ASIAUNKNOWNUNKNOWN00", SecretAccessKey: ic.SecretAccessKey}, "us-east-1", 403, "InvalidClientTokenId"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.DefaultClient.Do(signedIdentityRequest(t, srv.URL(), tt.creds, tt.region))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			var v struct {
				Result struct{ Arn, UserId, Account string } `xml:"GetCallerIdentityResult"`
				Error  struct{ Code string }
			}
			if err := xml.Unmarshal(body, &v); err != nil {
				t.Fatal(err)
			}
			got := v.Result.Arn
			if resp.StatusCode != 200 {
				got = v.Error.Code
			} else if v.Result.Account != "123456789012" || v.Result.UserId != ic.AssumedRoleID {
				t.Errorf("result = %+v", v.Result)
			}
			if resp.StatusCode != tt.status || got != tt.want {
				t.Errorf("got %d %s, want %d %s", resp.StatusCode, got, tt.status, tt.want)
			}
		})
	}
	if r := srv.Regions(); strings.Join(r, ",") != "us-east-1,eu-west-1" {
		t.Errorf("Regions = %v", r)
	}

	clk.Advance(2 * time.Hour)
	resp, err := http.DefaultClient.Do(signedIdentityRequest(t, srv.URL(), good, "us-east-1"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 403 || !strings.Contains(string(body), "<Code>ExpiredToken</Code>") {
		t.Errorf("after expiry: %d %s", resp.StatusCode, body)
	}
	if n := srv.Calls("GetCallerIdentity"); n != 6 {
		t.Errorf("Calls = %d, want 6", n)
	}
}

func TestServerVerify(t *testing.T) {
	idp, srv, _ := setup(t, Options{})
	ic := issue(t, idp, srv)
	c := aws.Credentials{AccessKeyID: ic.AccessKeyID, SecretAccessKey: ic.SecretAccessKey, SessionToken: ic.SessionToken}
	req := signedIdentityRequest(t, "https://search.example.com/", c, "eu-west-1")
	// As another emulator's handler would see it.
	in, _ := http.NewRequest(req.Method, req.URL.RequestURI(), nil)
	in.Host, in.Header = req.URL.Host, req.Header
	got, err := srv.Verify(in, []byte("Action=GetCallerIdentity&Version=2011-06-15"), "sts")
	if err != nil || got.AccessKeyID != ic.AccessKeyID {
		t.Fatalf("Verify = %+v, %v", got, err)
	}
	if _, err := srv.Verify(in, []byte("Action=GetCallerIdentity&Version=2011-06-15"), "es"); err == nil {
		t.Error("Verify accepted the wrong service")
	}
}

// TestAWSCLI runs the real AWS CLI against the emulator with credentials it
// issued: botocore's signing is the reference the verifier must accept.
func TestAWSCLI(t *testing.T) {
	aws, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("aws CLI not on PATH")
	}
	idp, srv, _ := setup(t, Options{})
	ic := issue(t, idp, srv)
	dir := t.TempDir()
	for _, region := range []string{"us-east-1", "ap-southeast-2"} {
		cmd := exec.Command(aws, "sts", "get-caller-identity", "--output", "json")
		cmd.Env = []string{
			"PATH=" + os.Getenv("PATH"),
			"HOME=" + dir,
			"AWS_CONFIG_FILE=" + filepath.Join(dir, "config"),
			"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "credentials"),
			"AWS_ACCESS_KEY_ID=" + ic.AccessKeyID,
			"AWS_SECRET_ACCESS_KEY=" + ic.SecretAccessKey,
			"AWS_SESSION_TOKEN=" + ic.SessionToken,
			"AWS_DEFAULT_REGION=" + region,
			"AWS_ENDPOINT_URL_STS=" + srv.URL(),
			"AWS_EC2_METADATA_DISABLED=true",
		}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("aws sts get-caller-identity (%s): %v\n%s", region, err, stderr.String())
		}
		var id struct{ UserId, Account, Arn string }
		if err := json.Unmarshal(out, &id); err != nil {
			t.Fatalf("output %q: %v", out, err)
		}
		if id.Arn != ic.AssumedRoleARN || id.Account != "123456789012" || id.UserId != ic.AssumedRoleID {
			t.Errorf("aws CLI in %s got %+v", region, id)
		}
	}
	if r := srv.Regions(); strings.Join(r, ",") != "us-east-1,ap-southeast-2" {
		t.Errorf("Regions = %v", r)
	}
}
