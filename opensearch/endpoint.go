package opensearch

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync"

	"github.com/saml2sts/saml2sts/internal/exitcode"
	"github.com/saml2sts/saml2sts/internal/httpx"
)

// Endpoint is a parsed OpenSearch endpoint.
type Endpoint struct {
	URL     *url.URL // scheme://host[:port][/base path], no trailing slash
	Service string   // "es" or "aoss"
	Region  string
}

// EndpointError is an endpoint that cannot be used as given.
type EndpointError struct {
	Endpoint string
	Why      string
}

func (e *EndpointError) Error() string {
	if strings.TrimSpace(e.Endpoint) == "" {
		return e.Why
	}
	return fmt.Sprintf("opensearch endpoint %q: %s", e.Endpoint, e.Why)
}

// ExitCode implements the exit-status contract (internal/exitcode).
func (e *EndpointError) ExitCode() int { return exitcode.Usage }

// Services are the SigV4 signing names.
const (
	ServiceES   = "es"   // managed domains, OpenSearch and legacy Elasticsearch
	ServiceAOSS = "aoss" // OpenSearch Serverless collections
)

var regionRe = sync.OnceValue(func() *regexp.Regexp {
	// eu-west-1, us-gov-west-1, cn-north-1, us-isob-east-1, eusc-de-east-1.
	return regexp.MustCompile(`^[a-z]{2,4}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]{1,2}$`)
})

// DNS suffixes of the partitions' service endpoints.
var amazonSuffixes = []string{"amazonaws.com", "amazonaws.com.cn", "c2s.ic.gov", "sc2s.sgov.gov"}

// Detect reads the SigV4 service and region from an AWS OpenSearch host
// name; both are "" for any other host (custom domain, tunnel, loopback).
//
//	search-NAME-ID.REGION.es.amazonaws.com   es   (vpc-… for VPC domains; .com.cn in China)
//	search-NAME-ID.aos.REGION.on.aws         es   (dual-stack domain endpoint)
//	ID.REGION.aoss.amazonaws.com             aoss (Serverless; also VPC endpoints via private DNS)
//	ID.aoss.REGION.on.aws                    aoss (Serverless per-collection and per-account)
//
// FIPS variants (es-fips, aoss-fips) sign with the plain service name.
func Detect(host string) (service, region string) {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	labels := strings.Split(host, ".")
	svc := func(l string) string {
		switch l {
		case "es", "es-fips":
			return ServiceES
		case "aoss", "aoss-fips":
			return ServiceAOSS
		}
		return ""
	}
	// ….SERVICE.REGION.on.aws: the region follows the service label.
	if n := len(labels); n >= 5 && labels[n-2] == "on" && labels[n-1] == "aws" {
		r, s := labels[n-3], labels[n-4]
		if s == "aos" || s == "aos-fips" {
			s = "es"
		}
		if svc(s) != "" && regionRe().MatchString(r) {
			return svc(s), r
		}
		return "", ""
	}
	// ….REGION.SERVICE.<partition suffix>: the region precedes it.
	for _, suf := range amazonSuffixes {
		rest, ok := strings.CutSuffix(host, "."+suf)
		if !ok {
			continue
		}
		l := strings.Split(rest, ".")
		if n := len(l); n >= 3 && svc(l[n-1]) != "" && regionRe().MatchString(l[n-2]) {
			return svc(l[n-1]), l[n-2]
		}
	}
	return "", ""
}

// dashboardsPath reports a Dashboards or Kibana base path.
func dashboardsPath(p string) bool {
	p = strings.ToLower(p)
	return strings.HasSuffix(p, "/_dashboards") || strings.HasSuffix(p, "/_plugin/kibana")
}

// ParseEndpoint detects service and region from the host (see Detect).
// service "" or "auto" = detect, "es"/"aoss" = explicit; region "" = from
// the host. A host it cannot read needs both explicitly: the error names
// the flag to set. http:// is allowed only for loopback hosts; a bare host
// name means https.
func ParseEndpoint(raw, service, region string) (*Endpoint, error) {
	bad := func(format string, a ...any) error {
		return &EndpointError{Endpoint: raw, Why: fmt.Sprintf(format, a...)}
	}
	s := strings.TrimSpace(raw)
	if s == "" {
		return nil, &EndpointError{Why: "no OpenSearch endpoint: pass --endpoint https://HOST, or set it once with saml2sts configure --opensearch-endpoint https://HOST"}
	}
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Hostname() == "" {
		return nil, bad("not a URL: want https://HOST[:PORT][/PATH]")
	}
	if u.User != nil {
		return nil, bad("remove the user name or password from the URL (requests are signed with AWS credentials)")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, bad("remove the query or fragment: give only https://HOST[:PORT][/PATH]")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !httpx.IsLoopback(u.Hostname()) {
			return nil, bad("uses http: use https (http is allowed only for localhost)")
		}
	default:
		return nil, bad("scheme %q is not https", u.Scheme)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = strings.TrimRight(u.RawPath, "/")
	hostSvc, hostRegion := Detect(u.Hostname())
	if dashboardsPath(u.Path) || (hostSvc != "" && u.Path != "") {
		// The API of an AWS endpoint is at its root; a path there (most
		// often the Dashboards URL pasted from the console) would send
		// every call to Dashboards instead.
		return nil, bad("the API is at the root of the host: use --endpoint %s://%s (for Dashboards use --via dashboards --dashboards-url)", u.Scheme, u.Host)
	}
	switch strings.ToLower(service) {
	case "", "auto":
		service = hostSvc
	case ServiceES, ServiceAOSS:
		service = strings.ToLower(service)
	default:
		return nil, bad("unknown service %q: use --service es (managed domain) or --service aoss (Serverless)", service)
	}
	if region == "" {
		region = hostRegion
	} else if !regionRe().MatchString(region) {
		return nil, bad("%q is not an AWS region like eu-west-1: fix --region", region)
	}
	switch {
	case service == "" && region == "":
		return nil, bad("cannot tell the service and region from host %s (custom domain?): pass --service es (managed domain) or --service aoss (Serverless), and --region", u.Hostname())
	case service == "":
		return nil, bad("cannot tell the service from host %s (custom domain?): pass --service es (managed domain) or --service aoss (Serverless), or set opensearch_service", u.Hostname())
	case region == "":
		return nil, bad("cannot tell the region from host %s (custom domain?): pass --region, or set region in the profile", u.Hostname())
	}
	return &Endpoint{URL: u, Service: service, Region: region}, nil
}
