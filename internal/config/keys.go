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

	"github.com/andybalholm/cascadia"

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

// keys is the one list of profile keys; a new key is one line here.
var keys = []Key{
	{"provider", "", "identity provider: keycloak, okta, adfs, entra or form", checkProvider, func(p *Profile, v string) { p.Provider = v }},
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
	{"dashboards_idp_url", "", "IdP-initiated sign-on URL of the OpenSearch Dashboards SAML app (default: url)", checkURL, func(p *Profile, v string) { p.DashboardsIdPURL = v }},
	{"adfs_auth", "forms", "AD FS sign-in: forms, ntlm (Windows integrated) or kerberos", oneOf("forms", "ntlm", "kerberos"), option("adfs_auth")},
	{"entra_entity_id", "", "entra provider: the AWS app's Identifier (Entity ID) when not https://signin.aws.amazon.com/saml, e.g. ...saml#2", checkEntityID, option("entra_entity_id")},
	{"form_username_field", "", "form provider: name of the username input, when the guess is wrong", checkFieldName, option("form_username_field")},
	{"form_password_field", "", "form provider: name of the password input, when the guess is wrong", checkFieldName, option("form_password_field")},
	{"form_error_selector", "", "form provider: CSS selector of the IdP's login error message", checkSelector, option("form_error_selector")},
}

// providerOnly are the keys only one provider reads, by key name: a profile
// of another provider that sets one would have it ignored without a word.
var providerOnly = map[string]string{
	"adfs_auth":           "adfs",
	"entra_entity_id":     "entra",
	"form_username_field": "form",
	"form_password_field": "form",
	"form_error_selector": "form",
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
func (k Key) Env() string { return "SAML2STS_" + strings.ToUpper(k.Name) }

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

// providerNames are the provider values; providerAliases are names users
// know a provider by, answered with the one to use.
var (
	providerNames   = []string{"keycloak", "okta", "adfs", "entra", "form"}
	providerAliases = map[string]string{"azuread": "entra", "aad": "entra", "azure": "entra", "azure-ad": "entra",
		"entraid": "entra", "entra-id": "entra", "microsoft": "entra", "o365": "entra", "office365": "entra"}
)

func checkProvider(v string) error {
	if to, ok := providerAliases[strings.ToLower(v)]; ok {
		return fmt.Errorf("%q is not one of %s (did you mean %q? Azure AD is now Microsoft Entra ID)", v, strings.Join(providerNames, ", "), to)
	}
	return oneOf(providerNames...)(v)
}

// checkEntityID wants an Entra app Identifier: an absolute URI (URL or URN).
func checkEntityID(v string) error {
	u, err := url.Parse(v)
	if err != nil || u.Scheme == "" || strings.ContainsAny(v, " \t") {
		return fmt.Errorf("%q is not an Identifier (Entity ID): copy it from the app's Basic SAML Configuration, e.g. https://signin.aws.amazon.com/saml#2", v)
	}
	return nil
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
	factor = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]*$`) })
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

// checkFieldName wants an HTML input name as written in the page's source.
func checkFieldName(v string) error {
	if strings.ContainsAny(v, " \t\"'<>") {
		return fmt.Errorf("%q is not an input name: give the name attribute of the input, e.g. j_username", v)
	}
	return nil
}

// checkSelector wants a CSS selector goquery can use; an invalid one would
// silently match nothing.
func checkSelector(v string) error {
	if _, err := cascadia.ParseGroup(v); err != nil {
		return fmt.Errorf("%q is not a CSS selector (%v): e.g. div.error or #errorText", v, err)
	}
	return nil
}

func checkFactor(v string) error {
	if factor().MatchString(v) {
		return nil
	}
	return fmt.Errorf("%q is not a factor name: use auto or a name such as totp", v)
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
