package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/saml2sts/saml2sts/internal/broker"
	"github.com/saml2sts/saml2sts/internal/config"
	"github.com/saml2sts/saml2sts/internal/httpx"
	"github.com/saml2sts/saml2sts/opensearch"
)

// osFlags are the OpenSearch connection flags shared by os and search.
type osFlags struct {
	endpoint, service, region, via, dashboardsURL string
	noSign                                        bool

	host string // the host requests go to, once resolved (for netError)
}

// addOSFlags registers the connection flags on fl.
func addOSFlags(fl *pflag.FlagSet, o *osFlags) {
	fl.StringVar(&o.endpoint, "endpoint", "", "OpenSearch `URL` (default: the profile's opensearch_endpoint)")
	fl.StringVar(&o.service, "service", "", "SigV4 `service`: auto, es (managed domain) or aoss (Serverless) (default: the profile's opensearch_service)")
	fl.StringVar(&o.region, "region", "", "AWS `region` to sign for (default: from the endpoint host, else the profile's region)")
	fl.StringVar(&o.via, "via", "iam", "`route` to OpenSearch: iam (SigV4-signed) or dashboards (Dashboards console proxy with a SAML session)")
	fl.StringVar(&o.dashboardsURL, "dashboards-url", "", "OpenSearch Dashboards base `URL` for --via dashboards, e.g. https://HOST/_dashboards")
	fl.BoolVar(&o.noSign, "no-sign", false, "send requests unsigned (open or loopback clusters; no profile, login, --service or --region needed)")
	addBrowserFlags(fl)
}

// openSearch returns the Doer the flags and the profile ask for: a SigV4
// *opensearch.Client, or an *opensearch.Dashboards for --via dashboards.
// Credentials come from the broker (cached, refreshed through it, never one
// STS call per request); GetCallerIdentity is called only when a 403 needs
// the caller's ARN.
func (f *factory) openSearch(ctx context.Context, cmd *cobra.Command, o *osFlags) (opensearch.Doer, error) {
	p, err := f.profile(overrides(cmd.Flags()))
	var nf *config.NotFoundError
	if err != nil && o.noSign && errors.As(err, &nf) {
		// Unsigned calls to a local or open cluster need no profile.
		p, err = &config.Profile{Name: f.profileName(), OpenSearchService: "auto"}, nil
	}
	if err != nil {
		return nil, err
	}
	var debug io.Writer
	if f.debug() {
		debug = f.errOut
	}
	rt, err := f.transport()
	if err != nil {
		return nil, err
	}
	switch o.via {
	case "", "iam":
		if o.dashboardsURL != "" {
			return nil, usageErrorf("--dashboards-url needs --via dashboards")
		}
	case "dashboards":
		return f.dashboards(ctx, p, o, rt, debug)
	default:
		return nil, usageErrorf("--via %q: use iam or dashboards", o.via)
	}
	ep, err := f.osEndpoint(p, o)
	if err != nil {
		return nil, err
	}
	o.host = ep.URL.Host
	opts := opensearch.Options{Endpoint: ep, Transport: rt, Debug: debug, Retry: f.retry()}
	if !o.noSign {
		b, err := f.broker(p)
		if err != nil {
			return nil, err
		}
		bc := &brokerCreds{b: b, p: p, o: f.silentOptions(p, b)}
		// Log in now: a login failure is reported before any request
		// (and before stdin is read for a body).
		if _, err := bc.Retrieve(ctx); err != nil {
			return nil, err
		}
		opts.Credentials = bc
		// Ask the broker no earlier than it renews: asked inside the SDK's
		// window but outside its own, it would serve the same credentials
		// on every request.
		opts.ExpiryWindow = min(opensearch.DefaultExpiryWindow, p.RefreshWindow)
		opts.Caller = f.caller(p, bc)
	}
	return opensearch.New(opts)
}

// osEndpoint resolves endpoint, service and region: flags, else the
// profile; the region from the host wins over the profile's (STS) region.
// --no-sign needs neither: nothing is signed, and the service only words
// the diagnosis of a 403.
func (f *factory) osEndpoint(p *config.Profile, o *osFlags) (*opensearch.Endpoint, error) {
	raw, service, region := o.endpoint, o.service, o.region
	if raw == "" {
		raw = p.OpenSearchEndpoint
	}
	if service == "" {
		service = p.OpenSearchService
	}
	host := raw
	if u, err := url.Parse(raw); err == nil && u.Host != "" {
		host = u.Hostname()
	}
	hostSvc, hostRegion := opensearch.Detect(host)
	if region == "" && hostRegion == "" {
		region = p.Region
	}
	unknownRegion := false
	if o.noSign {
		if hostSvc == "" && (service == "" || strings.EqualFold(service, "auto")) {
			service = opensearch.ServiceES
		}
		if region == "" && hostRegion == "" {
			region, unknownRegion = "us-east-1", true
		}
	}
	ep, err := opensearch.ParseEndpoint(raw, service, region)
	if err == nil && unknownRegion {
		ep.Region = ""
	}
	return ep, err
}

// brokerCreds serves the broker's cached credentials to the SDK's
// credentials cache, which asks again only when they near expiry or after
// the server refused them as expired (see Expired).
type brokerCreds struct {
	b *broker.Broker
	p *config.Profile
	o broker.Options

	mu       sync.Mutex
	rejected string // access key ID the server called expired
}

func (c *brokerCreds) Retrieve(ctx context.Context) (aws.Credentials, error) {
	c.mu.Lock()
	o := c.o
	o.Rejected = c.rejected
	c.mu.Unlock()
	r, err := c.b.Credentials(ctx, c.p, o)
	if err != nil {
		return aws.Credentials{}, err
	}
	return aws.Credentials{
		AccessKeyID: r.Credentials.AccessKeyID, SecretAccessKey: r.Credentials.SecretAccessKey,
		SessionToken: r.Credentials.SessionToken, Source: "saml2sts",
		CanExpire: true, Expires: r.Credentials.Expiration,
	}, nil
}

// Expired makes the broker renew the cached credentials holding key
// through the stored IdP session, even when its clock calls them fresh.
func (c *brokerCreds) Expired(key string) {
	c.mu.Lock()
	c.rejected = key
	c.mu.Unlock()
}

// caller returns the caller-ARN lookup for 403 diagnoses.
func (f *factory) caller(p *config.Profile, bc *brokerCreds) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		r, err := bc.b.Credentials(ctx, bc.p, bc.o)
		if err != nil {
			return "", err
		}
		hc, err := f.httpClient()
		if err != nil {
			return "", err
		}
		c, err := f.stsClient(ctx, region(p, r), hc)
		if err != nil {
			return "", err
		}
		id, err := c.CallerIdentity(ctx, r.Credentials)
		if err != nil {
			return "", err
		}
		return id.ARN, nil
	}
}

// dashboards builds the console-proxy Doer: SAML assertions from the
// profile's Dashboards IdP app (dashboards_idp_url, required: the profile's
// url is the AWS app, whose assertion must never go to Dashboards), cookies
// kept by the broker in the credential store.
func (f *factory) dashboards(ctx context.Context, p *config.Profile, o *osFlags, rt http.RoundTripper, debug io.Writer) (opensearch.Doer, error) {
	if o.dashboardsURL == "" {
		return nil, usageErrorf("--via dashboards needs --dashboards-url https://HOST/_dashboards")
	}
	if o.endpoint != "" || o.service != "" || o.region != "" || o.noSign {
		return nil, usageErrorf("--via dashboards takes --dashboards-url only (no --endpoint, --service, --region or --no-sign)")
	}
	u, err := url.Parse(o.dashboardsURL)
	if err == nil {
		o.host = u.Host
	}
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		return nil, usageErrorf("--dashboards-url %q is not a URL like https://HOST/_dashboards", o.dashboardsURL)
	case u.Scheme == "http" && !httpx.IsLoopback(u.Hostname()):
		return nil, usageErrorf("--dashboards-url %s uses http: use https (http is allowed only for localhost)", u.Redacted())
	case u.User != nil || u.RawQuery != "":
		return nil, usageErrorf("--dashboards-url: give only https://HOST/PATH, without user, password or query")
	}
	if p.DashboardsIdPURL == "" {
		prof := ""
		if p.Name != "default" {
			prof = " --profile " + shellQuote(p.Name)
		}
		return nil, &config.Error{Path: p.Source, Key: "dashboards_idp_url", Msg: fmt.Sprintf(
			"--via dashboards needs dashboards_idp_url, the IdP-initiated URL of the Dashboards SAML app "+
				"(the profile url is the AWS app, whose assertion must not go to Dashboards): saml2sts configure%s --dashboards-idp-url URL",
			prof)}
	}
	b, err := f.broker(p)
	if err != nil {
		return nil, err
	}
	bo := f.silentOptions(p, b)
	return opensearch.NewDashboards(opensearch.DashboardsOptions{
		URL: u,
		Assertion: func(ctx context.Context) (string, error) {
			return b.Assertion(ctx, p, bo, p.DashboardsIdPURL)
		},
		Cookies:   b.DashboardsCookies(p, u.String()),
		Transport: rt,
		Debug:     debug,
		Retry:     f.retry(),
	})
}

// netError words a failure to reach the OpenSearch (or Dashboards) host
// itself: the generic hint would point at the profile's IdP url. Failures
// to reach the IdP or STS (a credential renewal) keep theirs.
func (o *osFlags) netError(err error) error {
	var (
		ue *url.Error
		de *net.DNSError
		oe *net.OpError
	)
	if o.host == "" || !errors.As(err, &ue) {
		return err
	}
	if u, perr := url.Parse(ue.URL); perr != nil || u.Host != o.host {
		return err
	}
	flag := "--endpoint or the profile's opensearch_endpoint"
	if o.via == "dashboards" {
		flag = "--dashboards-url"
	}
	switch {
	case errors.As(err, &de):
		return errors.New(err.Error() + " (check the host name in " + flag + "; a VPC domain resolves only inside its VPC or over the VPN)")
	case errors.As(err, &oe) && oe.Op == "dial":
		return errors.New(err.Error() + " (is OpenSearch reachable? a VPC domain needs the VPN; check " + flag + " and HTTPS_PROXY)")
	}
	return err
}

// osError prints an OpenSearch access error with its diagnosis and fix on
// stderr and turns it into exit 5; other errors pass through.
func (f *factory) osError(err error) error {
	var ae *opensearch.AccessError
	if !errors.As(err, &ae) {
		return err
	}
	fmt.Fprintf(f.errOut, "saml2sts: %s\n", strings.ReplaceAll(ae.Error(), "\n", " "))
	if ae.Diagnosis != "" {
		fmt.Fprintf(f.errOut, "  why: %s\n", ae.Diagnosis)
	}
	if ae.Fix != "" {
		fmt.Fprintf(f.errOut, "  fix: %s\n", ae.Fix)
	}
	return &exitError{code: exitAWS, err: err, silent: true}
}
