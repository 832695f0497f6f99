package sts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/saml2sts/saml2sts/internal/exitcode"
	"github.com/saml2sts/saml2sts/internal/httpx"
)

// The console URL is built with the "custom identity broker" flow AWS
// documents in the IAM User Guide (id_roles_providers_enable-console-custom-url):
// getSigninToken on the partition's federation endpoint, then a login URL
// carrying the token.

// SigninTokenLifetime is how long AWS accepts a sign-in token, and so a
// console URL, after it was issued.
const SigninTokenLifetime = 15 * time.Minute

const (
	// DefaultIssuer is the login URL's Issuer when none is given.
	DefaultIssuer = "saml2sts"

	maxSigninBody = 64 << 10
)

// ConsoleOptions configures [ConsoleURL].
type ConsoleOptions struct {
	// Partition is aws, aws-us-gov or aws-cn; empty derives it from Region
	// (cn-* and us-gov-* regions), else aws.
	Partition string
	// Region opens the console in that region; empty leaves it to the
	// console (the last region used).
	Region string
	// Destination is a console path ("/s3/home", "cloudwatch/home#logs:")
	// or a full URL; empty is the console home.
	Destination string
	// Issuer is shown by AWS when the console session expires; empty is
	// [DefaultIssuer].
	Issuer string
	// SigninURL replaces the partition's federation endpoint
	// (https://signin.aws.amazon.com/federation) for tests and emulators;
	// it must be https, or http to a loopback host.
	SigninURL string
	// SessionDuration, when set (15m to 12h), is sent as getSigninToken's
	// SessionDuration: how long the console session lasts. AWS accepts it
	// only for AssumeRole* credentials not obtained by role chaining and
	// answers 400 otherwise, so leave it 0 (as aws-vault and granted do)
	// unless you need it: AWS then applies its default.
	SessionDuration time.Duration
}

// ConsoleError is the AWS sign-in federation endpoint refusing
// getSigninToken. It never holds the credentials or the token.
type ConsoleError struct {
	Status int // HTTP status
	Hint   string
}

func (e *ConsoleError) Error() string {
	s := fmt.Sprintf("aws sign-in getSigninToken: HTTP %d %s", e.Status, http.StatusText(e.Status))
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

// ExitCode implements the exit-status contract (internal/exitcode).
func (e *ConsoleError) ExitCode() int { return exitcode.Refused }

// partitionHosts are the sign-in and console hosts of each partition.
var partitionHosts = map[string]struct{ signin, console string }{
	"aws":        {"signin.aws.amazon.com", "console.aws.amazon.com"},
	"aws-us-gov": {"signin.amazonaws-us-gov.com", "console.amazonaws-us-gov.com"},
	"aws-cn":     {"signin.amazonaws.cn", "console.amazonaws.cn"},
}

// ConsoleURL exchanges temporary credentials for an AWS console sign-in URL.
// The URL is itself a credential: anyone holding it can open the console
// as the role for [SigninTokenLifetime], so never log it. c should carry
// the httpx transport; nil uses a fresh one.
func ConsoleURL(ctx context.Context, c *http.Client, creds Credentials, o ConsoleOptions) (string, error) {
	if creds.AccessKeyID == "" || creds.SecretAccessKey == "" {
		return "", errors.New("console sign-in: no credentials: log in first")
	}
	if creds.SessionToken == "" {
		return "", errors.New("console sign-in needs temporary credentials with a session token, not long-term access keys: log in with saml2sts")
	}
	if !creds.Expiration.IsZero() && !time.Now().Before(creds.Expiration) {
		return "", fmt.Errorf("console sign-in: the credentials expired at %s: log in again", creds.Expiration.UTC().Format(time.RFC3339))
	}
	if o.SessionDuration != 0 && (o.SessionDuration < minDuration || o.SessionDuration > maxDuration) {
		return "", fmt.Errorf("console sign-in: session duration %s is outside the 15m to 12h AWS accepts", fmtDuration(o.SessionDuration))
	}
	if o.Region != "" && !regionRe().MatchString(o.Region) {
		return "", fmt.Errorf("console sign-in: %q is not an AWS region name: fix the profile's region", o.Region)
	}
	partition := o.Partition
	if partition == "" {
		partition = regionPartition(o.Region)
	}
	hosts, ok := partitionHosts[partition]
	if !ok {
		return "", fmt.Errorf("console sign-in: partition %q has no public console (only aws, aws-us-gov and aws-cn do)", partition)
	}
	endpoint := "https://" + hosts.signin + "/federation"
	if o.SigninURL != "" {
		if err := CheckSigninURL(o.SigninURL); err != nil {
			return "", err
		}
		endpoint = o.SigninURL
	}
	dest, err := consoleDestination(hosts.console, partition, o.Region, o.Destination)
	if err != nil {
		return "", err
	}
	if c == nil {
		if c, err = httpx.NewClient(httpx.Options{}, 30*time.Second); err != nil {
			return "", err
		}
	}

	token, err := signinToken(ctx, c, endpoint, creds, o.SessionDuration)
	if err != nil {
		return "", err
	}
	u, _ := url.Parse(endpoint) // checked above or a constant
	issuer := o.Issuer
	if issuer == "" {
		issuer = DefaultIssuer
	}
	u.RawQuery = url.Values{
		"Action":      {"login"},
		"Issuer":      {issuer},
		"Destination": {dest},
		"SigninToken": {token},
	}.Encode()
	return u.String(), nil
}

// signinToken calls getSigninToken. The credentials travel in the query,
// as AWS documents; the httpx trace redacts Session and SigninToken, and
// errors here never quote the URL unredacted.
func signinToken(ctx context.Context, c *http.Client, endpoint string, creds Credentials, d time.Duration) (string, error) {
	session, err := json.Marshal(map[string]string{
		"sessionId":    creds.AccessKeyID,
		"sessionKey":   creds.SecretAccessKey,
		"sessionToken": creds.SessionToken,
	})
	if err != nil {
		return "", err
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return "", err
	}
	q := url.Values{"Action": {"getSigninToken"}, "Session": {string(session)}}
	if d > 0 {
		q.Set("SessionDuration", strconv.Itoa(int(d/time.Second)))
	}
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", err
	}
	resp, err := c.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			// url.Error quotes the whole URL, secret key included.
			err = &url.Error{Op: ue.Op, URL: httpx.RedactURL(u), Err: ue.Err}
		}
		return "", fmt.Errorf("aws sign-in getSigninToken: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxSigninBody))
	if err != nil {
		return "", fmt.Errorf("aws sign-in getSigninToken: read response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", &ConsoleError{Status: resp.StatusCode, Hint: signinHint(resp.StatusCode, d > 0)}
	}
	var out struct{ SigninToken string }
	if err := json.Unmarshal(body, &out); err != nil || out.SigninToken == "" {
		return "", errors.New("aws sign-in getSigninToken: the answer holds no SigninToken: check the sign-in URL and any proxy in between")
	}
	return out.SigninToken, nil
}

func signinHint(status int, sentDuration bool) string {
	switch {
	case status == http.StatusBadRequest || status == http.StatusForbidden:
		h := "the credentials are not role credentials, belong to another partition or have expired: run saml2sts login"
		if sentDuration {
			h += "; or AWS refused SessionDuration for them: leave it unset"
		}
		return h
	case status == http.StatusTooManyRequests:
		return "too many sign-in requests: wait a minute and try again"
	case status >= 500:
		return "the AWS sign-in service failed: try again later"
	}
	return ""
}

// CheckSigninURL accepts a federation endpoint override only if it is https,
// or http to a loopback host (emulators): the credentials travel in its
// query.
func CheckSigninURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil {
		return fmt.Errorf("sign-in URL %q is not an absolute URL such as https://signin.aws.amazon.com/federation", s)
	}
	switch {
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && httpx.IsLoopback(u.Hostname()):
		return nil
	}
	return fmt.Errorf("sign-in URL %q must be https, or http to a loopback host: credentials are sent to it", s)
}

// consoleDestination turns a path or URL into the console URL to land on.
// With a region, the aws partition uses the regional console host AWS
// documents (https://<region>.console.aws.amazon.com); every partition also
// gets ?region=, which the console honours on any host.
func consoleDestination(host, partition, region, dest string) (string, error) {
	if partition == "aws" && region != "" {
		host = region + "." + host
	}
	if dest == "" {
		dest = "/console/home"
	}
	u, err := url.Parse(dest)
	if err != nil {
		return "", fmt.Errorf("destination %q is not a console path or URL: %v", dest, err)
	}
	if u.Scheme != "" || u.Host != "" {
		if u.Scheme != "https" && !(u.Scheme == "http" && httpx.IsLoopback(u.Hostname())) || u.Host == "" {
			return "", fmt.Errorf("destination %q must be an https URL or a console path such as /s3/home", dest)
		}
		return u.String(), nil
	}
	path := "/" + strings.TrimLeft(u.Path, "/")
	q := u.Query()
	if region != "" && q.Get("region") == "" {
		q.Set("region", region)
	}
	out := url.URL{Scheme: "https", Host: host, Path: path, RawQuery: q.Encode(), Fragment: u.Fragment}
	return out.String(), nil
}

// regionPartition guesses the partition from a region name.
func regionPartition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

// Partition is the role's partition (aws, aws-cn, aws-us-gov), "" when the
// ARN is malformed.
func (r Role) Partition() string {
	if m := roleARNRe().FindStringSubmatch(r.RoleARN); m != nil {
		return m[1]
	}
	return ""
}
