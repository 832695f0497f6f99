package sts_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/saml2sts/saml2sts/internal/httpx"
	"github.com/saml2sts/saml2sts/sts"
	"github.com/saml2sts/saml2sts/sts/ststest"
)

// creds logs in to the emulator and returns the issued credentials.
func (e *env) creds(t *testing.T) sts.Credentials {
	t.Helper()
	res, err := e.c.AssumeRoleWithSAML(context.Background(), e.assertion(t, ststest.Response{}), sts.Role{RoleARN: roleARN}, 0)
	if err != nil {
		t.Fatal(err)
	}
	return res.Credentials
}

// noRedirect is a client that reports redirects instead of following them.
func noRedirect(rt http.RoundTripper) *http.Client {
	return &http.Client{Transport: rt, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func TestConsoleURLEmulator(t *testing.T) {
	e := newEnv(t, ststest.Options{})
	creds := e.creds(t)
	var queries []url.Values
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		queries = append(queries, r.URL.Query())
		return http.DefaultTransport.RoundTrip(r)
	})
	got, err := sts.ConsoleURL(context.Background(), &http.Client{Transport: rt}, creds, sts.ConsoleOptions{
		Region: "eu-west-1", SigninURL: e.srv.SigninURL(),
	})
	if err != nil {
		t.Fatal(err)
	}

	// The getSigninToken call: the documented Session JSON, no SessionDuration.
	if len(queries) != 1 {
		t.Fatalf("%d requests, want 1", len(queries))
	}
	q := queries[0]
	if q.Get("Action") != "getSigninToken" || q.Has("SessionDuration") {
		t.Errorf("getSigninToken query: Action=%q SessionDuration present=%v", q.Get("Action"), q.Has("SessionDuration"))
	}
	wantSession := `{"sessionId":"` + creds.AccessKeyID + `","sessionKey":"` + creds.SecretAccessKey + `","sessionToken":"` + creds.SessionToken + `"}`
	if q.Get("Session") != wantSession {
		t.Errorf("Session = %q, want the three documented keys", q.Get("Session"))
	}

	u, err := url.Parse(got)
	if err != nil {
		t.Fatal(err)
	}
	if base := u.Scheme + "://" + u.Host + u.Path; base != e.srv.SigninURL() {
		t.Errorf("login URL base %q, want %q", base, e.srv.SigninURL())
	}
	lq := u.Query()
	const dest = "https://eu-west-1.console.aws.amazon.com/console/home?region=eu-west-1"
	if lq.Get("Action") != "login" || lq.Get("Issuer") != sts.DefaultIssuer || lq.Get("Destination") != dest {
		t.Errorf("login query %v", lq)
	}
	ic, ok := e.srv.SigninCredentials(lq.Get("SigninToken"))
	if !ok || ic.AccessKeyID != creds.AccessKeyID {
		t.Errorf("SigninToken not issued for these credentials (ok=%v)", ok)
	}

	resp, err := noRedirect(nil).Get(got)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != dest {
		t.Errorf("login: %d -> %q, want 302 -> %q", resp.StatusCode, resp.Header.Get("Location"), dest)
	}
}

func TestConsoleURLErrors(t *testing.T) {
	e := newEnv(t, ststest.Options{})
	good := e.creds(t)
	ctx := context.Background()
	tests := []struct {
		name     string
		creds    func(sts.Credentials) sts.Credentials
		o        sts.ConsoleOptions
		advance  time.Duration // emulator clock
		status   int           // want *ConsoleError with this status; 0 = other error
		want     string        // in the message
		noRemote bool          // refused before any request
	}{
		{name: "ok"},
		{name: "session duration", o: sts.ConsoleOptions{SessionDuration: 2 * time.Hour}},
		{name: "expired at AWS", advance: 2 * time.Hour, status: 400, want: "run saml2sts login"},
		{name: "unknown key", creds: func(c sts.Credentials) sts.Credentials { c.AccessKeyID = "ASIAUNKNOWN00000"; return c }, status: 400, want: "not role credentials"},
		{name: "wrong secret", creds: func(c sts.Credentials) sts.Credentials { c.SecretAccessKey += "x"; return c }, status: 400},
		{name: "wrong token", creds: func(c sts.Credentials) sts.Credentials { c.SessionToken = "x" + c.SessionToken; return c }, status: 400},
		{name: "expired here", creds: func(c sts.Credentials) sts.Credentials { c.Expiration = time.Now().Add(-time.Minute); return c }, want: "expired at", noRemote: true},
		{name: "long-term keys", creds: func(c sts.Credentials) sts.Credentials { c.SessionToken = ""; return c }, want: "temporary credentials", noRemote: true},
		{name: "no credentials", creds: func(sts.Credentials) sts.Credentials { return sts.Credentials{} }, want: "log in first", noRemote: true},
		{name: "duration too short", o: sts.ConsoleOptions{SessionDuration: 10 * time.Minute}, want: "15m to 12h", noRemote: true},
		{name: "duration too long", o: sts.ConsoleOptions{SessionDuration: 13 * time.Hour}, want: "15m to 12h", noRemote: true},
		{name: "bad region", o: sts.ConsoleOptions{Region: "eu.evil.com/x"}, want: "not an AWS region", noRemote: true},
		{name: "no public console", o: sts.ConsoleOptions{Partition: "aws-iso"}, want: "no public console", noRemote: true},
		{name: "plain http sign-in", o: sts.ConsoleOptions{SigninURL: "http://signin.example.com/federation"}, want: "must be https", noRemote: true},
		{name: "relative sign-in", o: sts.ConsoleOptions{SigninURL: "/federation"}, want: "not an absolute URL", noRemote: true},
		{name: "http destination", o: sts.ConsoleOptions{Destination: "http://console.aws.amazon.com/"}, want: "must be an https URL", noRemote: true},
		{name: "scheme-like destination", o: sts.ConsoleOptions{Destination: "javascript:alert(1)"}, want: "must be an https URL", noRemote: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			creds := good
			if tt.creds != nil {
				creds = tt.creds(good)
			}
			o := tt.o
			if o.SigninURL == "" {
				o.SigninURL = e.srv.SigninURL()
			}
			e.clk.Advance(tt.advance)
			defer e.clk.Advance(-tt.advance)
			before := e.srv.Calls("getSigninToken")
			got, err := sts.ConsoleURL(ctx, nil, creds, o)
			if calls := e.srv.Calls("getSigninToken") - before; tt.noRemote && calls != 0 {
				t.Errorf("made %d getSigninToken calls, want none", calls)
			}
			if tt.status == 0 && tt.want == "" {
				if err != nil || got == "" {
					t.Fatalf("ConsoleURL: %q, %v", got, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("ConsoleURL succeeded: %q", got)
			}
			var ce *sts.ConsoleError
			if isCE := errors.As(err, &ce); isCE != (tt.status != 0) || isCE && ce.Status != tt.status {
				t.Errorf("error %T %v, want ConsoleError status %d", err, err, tt.status)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q lacks %q", err, tt.want)
			}
			for _, secret := range []string{good.SecretAccessKey, good.SessionToken} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error leaks a secret: %v", err)
				}
			}
		})
	}
}

// fakeSignin answers getSigninToken like AWS, recording the request URLs.
func fakeSignin(status int, body string, seen *[]*url.URL) *http.Client {
	return &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		*seen = append(*seen, r.URL)
		return &http.Response{StatusCode: status, Body: io.NopCloser(strings.NewReader(body)), Header: http.Header{}, Request: r}, nil
	})}
}

func TestConsoleURLPartitions(t *testing.T) {
	creds := sts.Credentials{AccessKeyID: "ASIAEXAMPLE", SecretAccessKey: "secret", SessionToken: "token", Expiration: time.Now().Add(time.Hour)}
	tests := []struct {
		name       string
		o          sts.ConsoleOptions
		signin     string // federation endpoint called and used in the login URL
		dest, issu string
	}{
		{"aws no region", sts.ConsoleOptions{}, "https://signin.aws.amazon.com/federation",
			"https://console.aws.amazon.com/console/home", "saml2sts"},
		{"aws region", sts.ConsoleOptions{Partition: "aws", Region: "us-east-1"}, "https://signin.aws.amazon.com/federation",
			"https://us-east-1.console.aws.amazon.com/console/home?region=us-east-1", "saml2sts"},
		{"gov", sts.ConsoleOptions{Partition: "aws-us-gov", Region: "us-gov-east-1"}, "https://signin.amazonaws-us-gov.com/federation",
			"https://console.amazonaws-us-gov.com/console/home?region=us-gov-east-1", "saml2sts"},
		{"gov from region", sts.ConsoleOptions{Region: "us-gov-west-1"}, "https://signin.amazonaws-us-gov.com/federation",
			"https://console.amazonaws-us-gov.com/console/home?region=us-gov-west-1", "saml2sts"},
		{"cn", sts.ConsoleOptions{Partition: "aws-cn"}, "https://signin.amazonaws.cn/federation",
			"https://console.amazonaws.cn/console/home", "saml2sts"},
		{"cn from region", sts.ConsoleOptions{Region: "cn-northwest-1"}, "https://signin.amazonaws.cn/federation",
			"https://console.amazonaws.cn/console/home?region=cn-northwest-1", "saml2sts"},
		{"path", sts.ConsoleOptions{Region: "eu-west-1", Destination: "s3/home", Issuer: "https://sso.example.com/"}, "https://signin.aws.amazon.com/federation",
			"https://eu-west-1.console.aws.amazon.com/s3/home?region=eu-west-1", "https://sso.example.com/"},
		{"path keeps its region and fragment", sts.ConsoleOptions{Region: "eu-west-1", Destination: "/ec2/home?region=eu-central-1#Instances:"}, "https://signin.aws.amazon.com/federation",
			"https://eu-west-1.console.aws.amazon.com/ec2/home?region=eu-central-1#Instances:", "saml2sts"},
		{"full URL verbatim", sts.ConsoleOptions{Region: "eu-west-1", Destination: "https://console.aws.amazon.com/iam/home#/roles"}, "https://signin.aws.amazon.com/federation",
			"https://console.aws.amazon.com/iam/home#/roles", "saml2sts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var seen []*url.URL
			got, err := sts.ConsoleURL(context.Background(), fakeSignin(200, `{"SigninToken":"tok+/="}`, &seen), creds, tt.o)
			if err != nil {
				t.Fatal(err)
			}
			if len(seen) != 1 {
				t.Fatalf("%d requests", len(seen))
			}
			if base := seen[0].Scheme + "://" + seen[0].Host + seen[0].Path; base != tt.signin {
				t.Errorf("getSigninToken sent to %s, want %s", base, tt.signin)
			}
			u, err := url.Parse(got)
			if err != nil {
				t.Fatal(err)
			}
			if base := u.Scheme + "://" + u.Host + u.Path; base != tt.signin {
				t.Errorf("login URL on %s, want %s", base, tt.signin)
			}
			q := u.Query()
			if q.Get("Destination") != tt.dest || q.Get("Issuer") != tt.issu || q.Get("SigninToken") != "tok+/=" || q.Get("Action") != "login" {
				t.Errorf("login query:\n got %v\nwant Destination=%s Issuer=%s", q, tt.dest, tt.issu)
			}
		})
	}
}

func TestConsoleURLAnswers(t *testing.T) {
	creds := sts.Credentials{AccessKeyID: "ASIAEXAMPLE", SecretAccessKey: "secret", SessionToken: "token"}
	tests := []struct {
		status   int
		body     string
		duration time.Duration
		want     string
	}{
		{403, "<html>denied</html>", 0, "HTTP 403 Forbidden (the credentials are not role credentials"},
		{400, "Invalid SessionDuration", time.Hour, "refused SessionDuration"},
		{503, "", 0, "try again later"},
		{429, "", 0, "wait a minute"},
		{200, "<html>proxy login</html>", 0, "holds no SigninToken"},
		{200, `{"SigninToken":""}`, 0, "holds no SigninToken"},
	}
	for _, tt := range tests {
		var seen []*url.URL
		_, err := sts.ConsoleURL(context.Background(), fakeSignin(tt.status, tt.body, &seen), creds, sts.ConsoleOptions{SessionDuration: tt.duration})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%d %q: error %v, want %q", tt.status, tt.body, err, tt.want)
		}
		if len(seen) == 1 && tt.duration > 0 && seen[0].Query().Get("SessionDuration") != "3600" {
			t.Errorf("SessionDuration = %q, want 3600", seen[0].Query().Get("SessionDuration"))
		}
	}
}

// Neither a failed request nor the --debug trace may show the credentials
// or the sign-in token.
func TestConsoleURLRedaction(t *testing.T) {
	e := newEnv(t, ststest.Options{})
	creds := e.creds(t)

	var trace bytes.Buffer
	rt, err := httpx.NewTransport(httpx.Options{Trace: &trace})
	if err != nil {
		t.Fatal(err)
	}
	got, err := sts.ConsoleURL(context.Background(), &http.Client{Transport: rt}, creds, sts.ConsoleOptions{SigninURL: e.srv.SigninURL()})
	if err != nil {
		t.Fatal(err)
	}
	token := mustQuery(t, got).Get("SigninToken")
	if !strings.Contains(trace.String(), "Action=getSigninToken") || !strings.Contains(trace.String(), "Session=REDACTED") {
		t.Errorf("trace does not show the redacted call:\n%s", trace.String())
	}
	for name, secret := range map[string]string{"secret key": creds.SecretAccessKey, "session token": creds.SessionToken, "sign-in token": token} {
		if strings.Contains(trace.String(), secret) || strings.Contains(trace.String(), url.QueryEscape(secret)) {
			t.Errorf("trace shows the %s:\n%s", name, trace.String())
		}
	}

	// A connection failure: net/http's error quotes the URL it tried.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String() + "/federation"
	l.Close()
	_, err = sts.ConsoleURL(context.Background(), nil, creds, sts.ConsoleOptions{SigninURL: dead})
	var oe *net.OpError
	if err == nil || !errors.As(err, &oe) {
		t.Fatalf("error %v, want a wrapped *net.OpError", err)
	}
	for _, secret := range []string{creds.SecretAccessKey, url.QueryEscape(creds.SecretAccessKey), url.QueryEscape(creds.SessionToken), creds.AccessKeyID} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("connection error leaks credentials: %v", err)
		}
	}
}

func mustQuery(t *testing.T, s string) url.Values {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

func TestRolePartition(t *testing.T) {
	for arn, want := range map[string]string{
		roleARN: "aws",
		"arn:aws-us-gov:iam::123456789012:role/R": "aws-us-gov",
		"arn:aws-cn:iam::123456789012:role/a/b/R": "aws-cn",
		"not-an-arn": "",
	} {
		if got := (sts.Role{RoleARN: arn}).Partition(); got != want {
			t.Errorf("Partition(%s) = %q, want %q", arn, got, want)
		}
	}
}
