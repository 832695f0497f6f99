package sts_test

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/saml2sts/saml2sts/sts"
	"github.com/saml2sts/saml2sts/sts/ststest"
)

const (
	roleARN  = "arn:aws:iam::123456789012:role/SearchReader"
	role2ARN = "arn:aws:iam::123456789012:role/Admin"
	provARN  = "arn:aws:iam::123456789012:saml-provider/Keycloak"
)

// isolate keeps the developer's AWS environment out of the test.
func isolate(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, k := range []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL",
		"AWS_ENDPOINT_URL_STS", "AWS_CA_BUNDLE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
		"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	return dir
}

type env struct {
	idp *ststest.IdP
	srv *ststest.Server
	clk *ststest.Clock
	c   *sts.Client
}

// testIdP is one IdP key for the package's tests: RSA key generation
// costs more than most tests, and none depends on a fresh key.
var testIdP = sync.OnceValues(func() (*ststest.IdP, error) { return ststest.NewIdP("https://idp.example.com/realms/corp") })

func newEnv(t *testing.T, o ststest.Options) *env {
	t.Helper()
	isolate(t)
	idp, err := testIdP()
	if err != nil {
		t.Fatal(err)
	}
	clk := &ststest.Clock{}
	o.Providers = map[string]*x509.Certificate{provARN: idp.Cert}
	o.Now = clk.Now
	srv := ststest.New(o)
	t.Cleanup(srv.Close)
	c, err := sts.NewClient(context.Background(), sts.ClientOptions{Region: "us-east-1", Endpoint: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	return &env{idp, srv, clk, c}
}

func (e *env) assertion(t *testing.T, r ststest.Response) *sts.Assertion {
	t.Helper()
	if r.Roles == nil {
		r.Roles = []string{provARN + "," + roleARN, role2ARN + "," + provARN}
	}
	if r.SessionName == "" {
		r.SessionName = "alice@example.com"
	}
	b64, err := e.idp.Sign(r)
	if err != nil {
		t.Fatal(err)
	}
	a, err := sts.ParseResponse(b64)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestAssumeRoleWithSAML(t *testing.T) {
	e := newEnv(t, ststest.Options{MaxSessionDuration: map[string]time.Duration{role2ARN: 4 * time.Hour}})
	ctx := context.Background()
	a := e.assertion(t, ststest.Response{})
	if len(a.Roles) != 2 || a.SessionName != "alice@example.com" {
		t.Fatalf("parsed %+v", a)
	}

	tests := []struct {
		name    string
		role    sts.Role
		d       time.Duration
		wantDur time.Duration // requested and granted
		wantExp time.Duration // expiry from now
		notice  string
	}{
		{"STS default", sts.Role{RoleARN: roleARN, PrincipalARN: provARN}, 0, 0, time.Hour, ""},
		{"principal from assertion", sts.Role{RoleARN: roleARN}, time.Hour, time.Hour, time.Hour, ""},
		{"within role maximum", sts.Role{RoleARN: role2ARN}, 2 * time.Hour, 2 * time.Hour, 2 * time.Hour, ""},
		{"clamped up", sts.Role{RoleARN: roleARN}, 5 * time.Minute, 15 * time.Minute, 15 * time.Minute, "duration 5m is below the STS minimum; using 15m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.srv.Calls("AssumeRoleWithSAML")
			res, err := e.c.AssumeRoleWithSAML(ctx, a, tt.role, tt.d)
			if err != nil {
				t.Fatal(err)
			}
			if n := e.srv.Calls("AssumeRoleWithSAML") - before; n != 1 {
				t.Errorf("%d calls, want 1", n)
			}
			issued := e.srv.Issued()
			last := issued[len(issued)-1]
			c := res.Credentials
			if c.AccessKeyID != last.AccessKeyID || c.SecretAccessKey != last.SecretAccessKey || c.SessionToken != last.SessionToken || !c.Expiration.Equal(last.Expiration) {
				t.Errorf("credentials differ from those issued")
			}
			if c.Expiration.Location() != time.UTC {
				t.Errorf("Expiration not UTC: %v", c.Expiration)
			}
			if got := time.Until(c.Expiration); got < tt.wantExp-time.Minute || got > tt.wantExp {
				t.Errorf("expires in %s, want %s", got, tt.wantExp)
			}
			if res.Duration != tt.wantDur || res.Notice != tt.notice {
				t.Errorf("Duration %s Notice %q, want %s %q", res.Duration, res.Notice, tt.wantDur, tt.notice)
			}
			if want := "arn:aws:sts::123456789012:assumed-role/" + last.RoleARN[strings.LastIndex(last.RoleARN, "/")+1:] + "/alice@example.com"; res.AssumedRoleARN != want {
				t.Errorf("AssumedRoleARN %q, want %q", res.AssumedRoleARN, want)
			}
		})
	}
}

func TestAssumeRoleWithSAMLMaxSessionRetry(t *testing.T) {
	e := newEnv(t, ststest.Options{})
	res, err := e.c.AssumeRoleWithSAML(context.Background(), e.assertion(t, ststest.Response{}), sts.Role{RoleARN: roleARN, PrincipalARN: provARN}, 8*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if n := e.srv.Calls("AssumeRoleWithSAML"); n != 2 {
		t.Errorf("Calls = %d, want 2", n)
	}
	if res.Duration != time.Hour || time.Until(res.Credentials.Expiration) > time.Hour {
		t.Errorf("Duration %s, expires %s", res.Duration, res.Credentials.Expiration)
	}
	want := "role SearchReader does not allow 8h sessions; got 1h: set duration = 1h in the profile"
	if !strings.HasPrefix(res.Notice, want) {
		t.Errorf("Notice %q, want prefix %q", res.Notice, want)
	}

	// 12h is clamped first, and a role that allows 4h still falls back to 1h.
	e = newEnv(t, ststest.Options{MaxSessionDuration: map[string]time.Duration{roleARN: 4 * time.Hour}})
	res, err = e.c.AssumeRoleWithSAML(context.Background(), e.assertion(t, ststest.Response{}), sts.Role{RoleARN: roleARN}, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if n := e.srv.Calls("AssumeRoleWithSAML"); n != 2 || res.Duration != time.Hour || !strings.Contains(res.Notice, "does not allow 12h sessions") {
		t.Errorf("Calls %d Duration %s Notice %q", n, res.Duration, res.Notice)
	}
}

func TestAssumeRoleWithSAMLErrors(t *testing.T) {
	e := newEnv(t, ststest.Options{DenyRoles: []string{role2ARN}})
	other, err := ststest.NewIdP("https://other.example.com")
	if err != nil {
		t.Fatal(err)
	}
	good := e.assertion(t, ststest.Response{})
	forged, err := other.Sign(ststest.Response{Roles: []string{roleARN + "," + provARN}, SessionName: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	forgedA, err := sts.ParseResponse(forged)
	if err != nil {
		t.Fatal(err)
	}
	otherProv := "arn:aws:iam::123456789012:saml-provider/Other"
	withOtherProv := e.assertion(t, ststest.Response{Roles: []string{roleARN + "," + otherProv}})

	tests := []struct {
		name   string
		a      *sts.Assertion
		role   sts.Role
		d      time.Duration
		code   string
		status int
		hint   []string
	}{
		{"trust policy denies", good, sts.Role{RoleARN: role2ARN}, 0, "AccessDenied", 403,
			[]string{"trust policy of " + role2ARN, "sts:AssumeRoleWithSAML", provARN}},
		{"bad signature", forgedA, sts.Role{RoleARN: roleARN}, 0, "InvalidIdentityToken", 400,
			[]string{"re-upload", provARN}},
		{"unknown provider", withOtherProv, sts.Role{RoleARN: roleARN}, 0, "InvalidIdentityToken", 400,
			[]string{"does not know the SAML provider " + otherProv, "us-east-1"}},
		{"expired", e.assertion(t, ststest.Response{IssueInstant: time.Now().Add(-2 * time.Minute), Lifetime: time.Minute}), sts.Role{RoleARN: roleARN}, 0,
			"ExpiredTokenException", 400, []string{"log in again", "clock (now "}},
		{"no session name", func() *sts.Assertion {
			b, _ := e.idp.Sign(ststest.Response{Roles: []string{roleARN + "," + provARN}})
			a, _ := sts.ParseResponse(b)
			return a
		}(), sts.Role{RoleARN: roleARN}, 0, "InvalidIdentityToken", 400, []string{"RoleSessionName"}},
		{"max session, no retry below 1h", good, sts.Role{RoleARN: roleARN}, 59 * time.Minute, "", 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.srv.Calls("AssumeRoleWithSAML")
			_, err := e.c.AssumeRoleWithSAML(context.Background(), tt.a, tt.role, tt.d)
			if tt.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var se *sts.Error
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want *sts.Error", err)
			}
			if se.Op != "AssumeRoleWithSAML" || se.Code != tt.code || se.Status != tt.status {
				t.Errorf("got %s %s %d, want %s %d", se.Op, se.Code, se.Status, tt.code, tt.status)
			}
			if tt.code == "ExpiredTokenException" && !regexp.MustCompile(`now \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ UTC`).MatchString(se.Hint) {
				t.Errorf("hint %q does not show the UTC time", se.Hint)
			}
			for _, h := range tt.hint {
				if !strings.Contains(se.Hint, h) {
					t.Errorf("hint %q lacks %q", se.Hint, h)
				}
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "sts AssumeRoleWithSAML: "+tt.code+": ") || !strings.HasSuffix(msg, "("+se.Hint+")") {
				t.Errorf("Error() = %q", msg)
			}
			if strings.Contains(msg, tt.a.Raw[:60]) {
				t.Error("error quotes the assertion")
			}
			if n := e.srv.Calls("AssumeRoleWithSAML") - before; n != 1 {
				t.Errorf("%d calls, want 1 (no retries)", n)
			}
		})
	}

	// A role the assertion does not grant never reaches STS.
	before := e.srv.Calls("AssumeRoleWithSAML")
	_, err = e.c.AssumeRoleWithSAML(context.Background(), good, sts.Role{RoleARN: "arn:aws:iam::123456789012:role/Nope"}, 0)
	var ae *sts.AssertionError
	if !errors.As(err, &ae) || !strings.Contains(err.Error(), roleARN) || e.srv.Calls("AssumeRoleWithSAML") != before {
		t.Errorf("ungranted role: %v", err)
	}
}

func TestCallerIdentity(t *testing.T) {
	e := newEnv(t, ststest.Options{})
	ctx := context.Background()
	res, err := e.c.AssumeRoleWithSAML(ctx, e.assertion(t, ststest.Response{}), sts.Role{RoleARN: roleARN}, 0)
	if err != nil {
		t.Fatal(err)
	}
	id, err := e.c.CallerIdentity(ctx, res.Credentials)
	if err != nil {
		t.Fatal(err)
	}
	issued := e.srv.Issued()[0]
	if id.ARN != res.AssumedRoleARN || id.Account != "123456789012" || id.UserID != issued.AssumedRoleID {
		t.Errorf("identity %+v", id)
	}
	if r := e.srv.Regions(); len(r) != 1 || r[0] != "us-east-1" {
		t.Errorf("signed for regions %v", r)
	}

	bad := res.Credentials
	bad.SecretAccessKey = strings.Repeat("A", 40)
	// A fresh client: the SDK signer caches derived keys by access key ID,
	// so e.c would still sign with the right secret.
	fresh, err := sts.NewClient(ctx, sts.ClientOptions{Region: "us-east-1", Endpoint: e.srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = fresh.CallerIdentity(ctx, bad)
	var se *sts.Error
	if !errors.As(err, &se) || se.Code != "SignatureDoesNotMatch" || se.Status != 403 || se.Op != "GetCallerIdentity" {
		t.Fatalf("wrong secret: %v", err)
	}
	for _, secret := range []string{bad.SecretAccessKey, res.Credentials.SessionToken[:40]} {
		if strings.Contains(err.Error(), secret) {
			t.Error("error quotes a secret")
		}
	}

	e.clk.Advance(2 * time.Hour)
	_, err = e.c.CallerIdentity(ctx, res.Credentials)
	if !errors.As(err, &se) || se.Code != "ExpiredToken" || !strings.Contains(se.Hint, "expired at "+res.Credentials.Expiration.Format(time.RFC3339)) {
		t.Fatalf("expired: %v", err)
	}
}

// TestNewClientEnvironment covers what the AWS CLI does to us when it runs
// saml2sts as credential_process: AWS_PROFILE names the very profile whose
// credential_process we are, and the endpoint comes from the environment.
func TestNewClientEnvironment(t *testing.T) {
	e := newEnv(t, ststest.Options{})
	dir := filepath.Dir(os.Getenv("AWS_CONFIG_FILE"))
	marker := filepath.Join(dir, "ran")
	script := filepath.Join(dir, "cp.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\ntouch "+marker+"\nexit 1\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	config := "[profile self]\ncredential_process = " + script + "\nregion = eu-west-3\n" +
		"[profile broken]\nrole_arn = arn:aws:iam::123456789012:role/X\nsource_profile = missing\n"
	if err := os.WriteFile(os.Getenv("AWS_CONFIG_FILE"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ENDPOINT_URL_STS", e.srv.URL())

	var hits atomic.Int32
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		hits.Add(1)
		return http.DefaultTransport.RoundTrip(r)
	})}
	for _, profile := range []string{"self", "missing", "broken", ""} {
		t.Run("profile "+profile, func(t *testing.T) {
			t.Setenv("AWS_PROFILE", profile)
			c, err := sts.NewClient(context.Background(), sts.ClientOptions{Region: "eu-west-1", HTTPClient: hc})
			if err != nil {
				t.Fatal(err)
			}
			before := hits.Load()
			res, err := c.AssumeRoleWithSAML(context.Background(), e.assertion(t, ststest.Response{}), sts.Role{RoleARN: roleARN}, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.CallerIdentity(context.Background(), res.Credentials); err != nil {
				t.Fatal(err)
			}
			if hits.Load()-before != 2 {
				t.Errorf("HTTPClient carried %d requests, want 2", hits.Load()-before)
			}
			if c.Region() != "eu-west-1" {
				t.Errorf("Region %q", c.Region())
			}
		})
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the profile's credential_process was run")
	}

	// The profile's region applies when none is given.
	t.Setenv("AWS_PROFILE", "self")
	c, err := sts.NewClient(context.Background(), sts.ClientOptions{})
	if err != nil || c.Region() != "eu-west-3" {
		t.Errorf("region from profile: %v %v", c, err)
	}

	// AWS_CA_BUNDLE with our own client must not trip the SDK's check that
	// the client is buildable.
	pemFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(pemFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: e.idp.Cert.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CA_BUNDLE", pemFile)
	c, err = sts.NewClient(context.Background(), sts.ClientOptions{Region: "us-east-1", HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.AssumeRoleWithSAML(context.Background(), e.assertion(t, ststest.Response{}), sts.Role{RoleARN: roleARN}, 0); err != nil {
		t.Fatal(err)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestNewClientEnvironmentVariables: each variable NewClient hands to the
// SDK works the same from the process environment (Getenv nil) and from an
// injected one (in-process runs), and injected values beat the process's.
func TestNewClientEnvironmentVariables(t *testing.T) {
	e := newEnv(t, ststest.Options{})
	dir := t.TempDir()
	home := filepath.Join(dir, "home")
	if err := os.MkdirAll(filepath.Join(home, ".aws"), 0o700); err != nil {
		t.Fatal(err)
	}
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(home, ".aws", "config"), "[profile h]\nregion = ca-central-1\n")
	cfg := filepath.Join(dir, "config")
	write(cfg, "[profile p]\nregion = eu-west-3\n[profile q]\nregion = sa-east-1\n"+
		"[profile ep]\nregion = eu-north-1\nendpoint_url = "+e.srv.URL()+"\n")
	emu := strings.TrimPrefix(e.srv.URL(), "http://")
	const dead = "http://127.0.0.1:1"

	tests := []struct {
		name      string
		env       map[string]string
		region    string
		host      string // "" is the emulator
		noMislead bool   // the process's values would win: the SDK reads them too
	}{
		{name: "AWS_ENDPOINT_URL_STS", env: map[string]string{"AWS_ENDPOINT_URL_STS": e.srv.URL(), "AWS_REGION": "eu-west-1"}, region: "eu-west-1"},
		{name: "AWS_ENDPOINT_URL", env: map[string]string{"AWS_ENDPOINT_URL": e.srv.URL(), "AWS_REGION": "eu-west-1"}, region: "eu-west-1"},
		{name: "service endpoint beats global", env: map[string]string{"AWS_ENDPOINT_URL": dead, "AWS_ENDPOINT_URL_STS": e.srv.URL(), "AWS_REGION": "eu-west-1"}, region: "eu-west-1"},
		{name: "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", env: map[string]string{"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true",
			"AWS_ENDPOINT_URL_STS": e.srv.URL(), "AWS_REGION": "eu-west-1"}, region: "eu-west-1", host: "sts.eu-west-1.amazonaws.com", noMislead: true},
		{name: "AWS_DEFAULT_REGION", env: map[string]string{"AWS_DEFAULT_REGION": "ap-south-1"}, region: "ap-south-1", host: "sts.ap-south-1.amazonaws.com"},
		{name: "AWS_REGION beats AWS_DEFAULT_REGION", env: map[string]string{"AWS_REGION": "eu-central-1", "AWS_DEFAULT_REGION": "ap-south-1"},
			region: "eu-central-1", host: "sts.eu-central-1.amazonaws.com"},
		{name: "AWS_CONFIG_FILE and AWS_PROFILE", env: map[string]string{"AWS_CONFIG_FILE": cfg, "AWS_PROFILE": "p"}, region: "eu-west-3", host: "sts.eu-west-3.amazonaws.com"},
		{name: "AWS_DEFAULT_PROFILE", env: map[string]string{"AWS_CONFIG_FILE": cfg, "AWS_DEFAULT_PROFILE": "q"}, region: "sa-east-1", host: "sts.sa-east-1.amazonaws.com"},
		{name: "HOME/.aws/config", env: map[string]string{"HOME": home, "AWS_CONFIG_FILE": "", "AWS_PROFILE": "h"}, region: "ca-central-1", host: "sts.ca-central-1.amazonaws.com"},
		{name: "profile endpoint_url", env: map[string]string{"AWS_CONFIG_FILE": cfg, "AWS_PROFILE": "ep"}, region: "eu-north-1"},
	}
	for _, tt := range tests {
		for _, injected := range []bool{false, true} {
			name := tt.name + "/process"
			if injected {
				name = tt.name + "/injected"
			}
			t.Run(name, func(t *testing.T) {
				var o sts.ClientOptions
				if injected {
					// The process says otherwise, for the same variables.
					for k := range tt.env {
						if !tt.noMislead {
							t.Setenv(k, map[bool]string{true: dead, false: "us-west-2"}[strings.HasPrefix(k, "AWS_ENDPOINT")])
						}
					}
					o.Getenv = func(k string) string { return tt.env[k] }
				} else {
					for k, v := range tt.env {
						t.Setenv(k, v)
					}
				}
				// Off loopback the call ends at once, with no SDK retries.
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				var hosts []string
				o.HTTPClient = &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
					hosts = append(hosts, r.URL.Host)
					if r.URL.Host != emu {
						cancel()
						return nil, errors.New("offline")
					}
					return http.DefaultTransport.RoundTrip(r)
				})}
				c, err := sts.NewClient(context.Background(), o)
				if err != nil {
					t.Fatal(err)
				}
				if c.Region() != tt.region {
					t.Errorf("region %q, want %q", c.Region(), tt.region)
				}
				_, err = c.AssumeRoleWithSAML(ctx, e.assertion(t, ststest.Response{}), sts.Role{RoleARN: roleARN}, 0)
				want := tt.host
				if want == "" {
					want = emu
					if err != nil {
						t.Errorf("AssumeRoleWithSAML: %v", err)
					}
				}
				if len(hosts) == 0 || hosts[0] != want {
					t.Errorf("sent to %v, want %s", hosts, want)
				}
			})
		}
	}
}
