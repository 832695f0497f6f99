package browser

import (
	"net/url"
	"regexp"
	"strings"
	"sync"

	"github.com/chromedp/cdproto/fetch"
)

// signinHosts are the AWS sign-in hosts of the partitions; each also has
// regional forms (<region>.signin.aws.amazon.com).
var signinHosts = []string{"signin.aws.amazon.com", "signin.amazonaws-us-gov.com", "signin.amazonaws.cn"}

// patterns are what the Fetch domain pauses; isSignin then decides on the
// exact URL, as the wildcards match more than the hosts above.
func patterns() []*fetch.RequestPattern {
	var ps []*fetch.RequestPattern
	for _, h := range signinHosts {
		for _, host := range []string{h, "*." + h} {
			ps = append(ps, &fetch.RequestPattern{URLPattern: "https://" + host + "/*", RequestStage: fetch.RequestStageRequest})
		}
	}
	return ps
}

var regionRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`) })

// isSignin reports whether raw is an AWS SAML sign-in endpoint: /saml (or
// /static/saml, or /saml/acs/<id>) on a partition's sign-in host or one
// of its regional hosts, over https.
func isSignin(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Port() != "" {
		return false
	}
	host := strings.ToLower(u.Hostname())
	ok := false
	for _, h := range signinHosts {
		if host == h || strings.HasSuffix(host, "."+h) && regionRe().MatchString(strings.TrimSuffix(host, "."+h)) {
			ok = true
		}
	}
	p := u.Path
	return ok && (p == "/saml" || p == "/saml/" || p == "/static/saml" || strings.HasPrefix(p, "/saml/acs/"))
}

// samlFromBody takes SAMLResponse from a form-encoded POST body.
func samlFromBody(body []byte) (string, bool) {
	v, err := url.ParseQuery(string(body))
	if err != nil {
		return "", false
	}
	for k, vs := range v {
		if strings.EqualFold(k, "SAMLResponse") && len(vs) > 0 && strings.TrimSpace(vs[0]) != "" {
			return strings.TrimSpace(vs[0]), true
		}
	}
	return "", false
}

// donePage answers the intercepted POST in the browser.
const donePage = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>saml2sts: signed in</title></head>
<body style="font-family:sans-serif;margin:3em"><h1>Signed in</h1><p>saml2sts has the sign-in it needed. You can close this window.</p></body></html>`
