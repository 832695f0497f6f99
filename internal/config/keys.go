package config

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/saml2sts/saml2sts/idp/providers"
	"github.com/saml2sts/saml2sts/internal/httpx"
)

// Key is one profile key: how it is named in the file, the environment and
// on the command line, its default and its help.
type Key struct {
	Name    string // in the file: "role_arn"
	Default string // "" when the key has none
	Help    string // one line, for help text and docs

	check func(v string) error // v is non-empty and on one line
	set   func(p *Profile, v string)
}

// keys is the one list of profile keys; a new key is one line here, a new
// provider-only key is in its adapter's idp.Registration.
var keys = append([]Key{
	{"provider", "", "identity provider: " + orList(providers.Names()), oneOf(providers.Names()...), func(p *Profile, v string) { p.Provider = v }},
	{"url", "", "IdP-initiated sign-on URL (https; http only to localhost)", checkURL, func(p *Profile, v string) { p.URL = v }},
	{"username", "", "IdP user name", nil, func(p *Profile, v string) { p.Username = v }},
	{"role_arn", "", "IAM role to assume, arn:aws:iam::ACCOUNT:role/NAME", checkARN(roleARN, "role/NAME"), func(p *Profile, v string) { p.RoleARN = v }},
	{"principal_arn", "", "SAML provider of the role, arn:aws:iam::ACCOUNT:saml-provider/NAME", checkARN(principalARN, "saml-provider/NAME"), func(p *Profile, v string) { p.PrincipalARN = v }},
	{"region", "", "AWS region for STS and AWS profiles, e.g. eu-west-1", checkRegion, func(p *Profile, v string) { p.Region = v }},
	{"duration", "1h", "session length asked of STS, 15m to 12h", checkSession, func(p *Profile, v string) { p.Duration = mustDuration(v) }},
	{"mfa", "auto", "MFA factor to use, or auto", checkFactor, func(p *Profile, v string) { p.MFA = v }},
	{"cache", "auto", "where credentials are cached: auto, keyring or file", oneOf("auto", "keyring", "file"), func(p *Profile, v string) { p.Cache = v }},
	{"password_command", "", "command that prints the IdP password", nil, func(p *Profile, v string) { p.PasswordCommand = v }},
	{"refresh_window", "15m", "renew credentials this long before they expire; less than duration", checkDuration, func(p *Profile, v string) { p.RefreshWindow = mustDuration(v) }},
	{"opensearch_endpoint", "", "OpenSearch URL for the search commands (https)", checkURL, func(p *Profile, v string) { p.OpenSearchEndpoint = v }},
	{"opensearch_service", "auto", "SigV4 service name for OpenSearch: auto, es or aoss", oneOf("auto", "es", "aoss"), func(p *Profile, v string) { p.OpenSearchService = v }},
	{"dashboards_idp_url", "", "IdP-initiated sign-on URL of the OpenSearch Dashboards SAML app (needed by --via dashboards; no default)", checkURL, func(p *Profile, v string) { p.DashboardsIdPURL = v }},
	// Shared by the adapters that hand off to Duo (okta, adfs, form).
	{"duo_device", "", "Duo device to push to or call: its name, last digits or Duo key (phone2); default Duo's", nil, option("duo_device")},
	{"browser", "never", "log in through a local Chrome/Chromium/Edge/Brave: never, always, or fallback (when the adapter meets a step only a person can do)", oneOf("never", "always", "fallback"), func(p *Profile, v string) { p.Browser = v }},
	{"browser_headless", "false", "browser login without a window (true or false); default: a window when a display is available", checkBool, func(p *Profile, v string) { p.BrowserHeadless = v == "true" }},
	{"browser_path", "", "browser executable for browser login (default: found on PATH or in the standard install places)", nil, func(p *Profile, v string) { p.BrowserPath = v }},
	{"browser_timeout", "5m", "how long a browser login may take before it is given up", checkPositiveDuration, func(p *Profile, v string) { p.BrowserTimeout = mustDuration(v) }},
}, providerKeys()...)

// envNames are the environment variables of keys whose name does not
// follow SAML2STS_<KEY>: SAML2STS_BROWSER names the browser executable,
// as other tools' BROWSER variables do, so the mode gets _MODE.
var envNames = map[string]string{
	"browser":      "SAML2STS_BROWSER_MODE",
	"browser_path": "SAML2STS_BROWSER",
}

func checkBool(v string) error {
	if v == "true" || v == "false" {
		return nil
	}
	return fmt.Errorf("%q is not true or false", v)
}

func checkPositiveDuration(v string) error {
	d, err := ParseDuration(v)
	if err == nil && d <= 0 {
		err = fmt.Errorf("%q must be more than zero", v)
	}
	return err
}

// providerOnly are the keys only one provider reads, by key name: a profile
// of another provider that sets one would have it ignored without a word.
var providerOnly = func() map[string]string {
	m := map[string]string{}
	for _, r := range providers.All {
		for _, k := range r.Keys {
			m[k.Name] = r.Name
		}
	}
	return m
}()

// providerKeys are the keys the adapters register, stored in
// Profile.Options for the adapter.
func providerKeys() []Key {
	var ks []Key
	for _, r := range providers.All {
		for _, k := range r.Keys {
			check := k.Check
			if len(k.Values) > 0 {
				check = oneOf(k.Values...)
			}
			ks = append(ks, Key{Name: k.Name, Default: k.Default, Help: k.Help, check: check, set: option(k.Name)})
		}
	}
	return ks
}

// orList is "a, b or c".
func orList(s []string) string {
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// option stores a provider-specific key in Profile.Options.
func option(name string) func(p *Profile, v string) {
	return func(p *Profile, v string) {
		if p.Options == nil {
			p.Options = map[string]string{}
		}
		p.Options[name] = v
	}
}

// Keys returns the profile keys in the order they are documented.
func Keys() []Key { return slices.Clone(keys) }

// Lookup returns the key called name.
func Lookup(name string) (Key, bool) {
	i := slices.IndexFunc(keys, func(k Key) bool { return k.Name == name })
	if i < 0 {
		return Key{}, false
	}
	return keys[i], true
}

// Env is the environment variable that overrides the key: SAML2STS_ROLE_ARN.
func (k Key) Env() string {
	if e, ok := envNames[k.Name]; ok {
		return e
	}
	return "SAML2STS_" + strings.ToUpper(k.Name)
}

// Flag is the command-line flag for the key: --role-arn.
func (k Key) Flag() string { return "--" + strings.ReplaceAll(k.Name, "_", "-") }

// Check reports whether v is a valid value for the key. The error does not
// name the key; callers say where the value came from.
func (k Key) Check(v string) error {
	if v == "" {
		if k.Default != "" {
			return fmt.Errorf("empty value: delete the line to use the default (%s)", k.Default)
		}
		return errors.New("empty value: delete the line to unset it")
	}
	if strings.ContainsAny(v, "\r\n") {
		return errors.New("value contains a line break")
	}
	if k.check == nil {
		return nil
	}
	return k.check(v)
}

func keyNames() []string {
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = k.Name
	}
	return names
}

// ParseDuration parses Go duration syntax (1h, 90m, 14m59s) or plain
// seconds (3600). Negative durations are refused: none of ours can be.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s != "" && strings.Trim(s, "0123456789") == "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n > math.MaxInt64/int64(time.Second) {
			return 0, fmt.Errorf("duration %q is too long", s)
		}
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q: use Go syntax like 1h, 90m, 14m59s, or seconds like 3600", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("invalid duration %q: must not be negative", s)
	}
	return d, nil
}

func mustDuration(s string) time.Duration {
	d, err := ParseDuration(s)
	if err != nil {
		panic("config: unchecked duration: " + err.Error())
	}
	return d
}

// fmtDuration prints 1h rather than time.Duration's 1h0m0s.
func fmtDuration(d time.Duration) string {
	s := d.String()
	if t, ok := strings.CutSuffix(s, "m0s"); ok {
		s = t + "m"
	}
	if t, ok := strings.CutSuffix(s, "h0m"); ok {
		s = t + "h"
	}
	return s
}

func checkDuration(v string) error {
	_, err := ParseDuration(v)
	return err
}

// AWS limits for AssumeRoleWithSAML's DurationSeconds; the role's own
// maximum may be lower, which only STS knows.
const (
	minSession = 15 * time.Minute
	maxSession = 12 * time.Hour
)

func checkSession(v string) error {
	d, err := ParseDuration(v)
	switch {
	case err != nil:
		return err
	case d < minSession:
		return fmt.Errorf("%s is below the AWS minimum of %s", fmtDuration(d), fmtDuration(minSession))
	case d > maxSession:
		return fmt.Errorf("%s is above the AWS maximum of %s", fmtDuration(d), fmtDuration(maxSession))
	}
	return nil
}

func oneOf(allowed ...string) func(string) error {
	return func(v string) error {
		if slices.Contains(allowed, v) {
			return nil
		}
		return fmt.Errorf("%q is not one of %s%s", v, strings.Join(allowed, ", "), didYouMean(v, allowed))
	}
}

// checkURL wants an absolute https URL, or http to a loopback host (tests,
// local IdPs): anything else would send credentials in clear.
func checkURL(v string) error {
	u, err := url.Parse(v)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return errors.New("not an absolute URL: want https://HOST/PATH")
	}
	if u.User != nil {
		return errors.New("URL contains a user name or password: remove it (use username and password_command)")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if httpx.IsLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("%s uses http: use https (http is allowed only for localhost)", u.Redacted())
	}
	return fmt.Errorf("%s: scheme %q is not https", u.Redacted(), u.Scheme)
}

const partition = `arn:(aws|aws-cn|aws-us-gov):iam::[0-9]{12}:`

var (
	// IAM allows a path of printable ASCII and a name of [\w+=,.@-]{1,64}.
	roleARN      = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^` + partition + `role/([!-~]+/)?[\w+=,.@-]{1,64}$`) })
	principalARN = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^` + partition + `saml-provider/[\w.-]{1,128}$`) })
	// eu-west-1, us-gov-west-1, cn-north-1, us-isob-east-1, eusc-de-east-1.
	region = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z]{2,4}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]{1,2}$`) })
	// A factor name, or an authenticator label as the IdP shows it
	// ("Google Authenticator", "Ana's phone (work)"): printable, starting
	// with a letter or digit, no ini comment or quote characters.
	factor = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[\p{L}\p{N}](?:[^\p{C}#;"]{0,98}[^\p{C}#;"\s])?$`) })
)

func checkARN(re func() *regexp.Regexp, resource string) func(string) error {
	return func(v string) error {
		if re().MatchString(v) {
			return nil
		}
		return fmt.Errorf("%q is not an IAM ARN like arn:aws:iam::123456789012:%s", v, resource)
	}
}

func checkRegion(v string) error {
	if region().MatchString(v) {
		return nil
	}
	return fmt.Errorf("%q is not an AWS region like eu-west-1", v)
}

func checkFactor(v string) error {
	if factor().MatchString(v) {
		return nil
	}
	return fmt.Errorf("%q is not a factor name: use auto, a name such as totp, or the authenticator's label as the IdP shows it", v)
}

// didYouMean returns ` (did you mean "x"?)` for the option closest to s by
// edit distance, or "" when none is close.
func didYouMean(s string, options []string) string {
	best, bestD := "", 1+len(s)/4
	if bestD > 3 {
		bestD = 3
	}
	ls := strings.ToLower(s)
	for _, o := range options {
		// "adfs2019", "okta-preview": a known name with something added.
		if len(o) >= 4 && strings.HasPrefix(ls, o) {
			return fmt.Sprintf(" (did you mean %q?)", o)
		}
	}
	for _, o := range options {
		if d := distance(ls, o); d <= bestD && (best == "" || d < distance(ls, best)) {
			best = o
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// distance is the Levenshtein distance between a and b, in bytes.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
