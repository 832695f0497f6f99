package opensearch

import (
	"errors"
	"strings"
	"testing"
)

func TestParseEndpoint(t *testing.T) {
	tests := []struct {
		raw, service, region string
		wantURL              string
		wantSvc, wantRegion  string
		wantErr              string
	}{
		{raw: "https://search-logs-abc123.eu-west-1.es.amazonaws.com", wantURL: "https://search-logs-abc123.eu-west-1.es.amazonaws.com", wantSvc: "es", wantRegion: "eu-west-1"},
		{raw: "https://search-logs-abc123.eu-west-1.es.amazonaws.com/", wantURL: "https://search-logs-abc123.eu-west-1.es.amazonaws.com", wantSvc: "es", wantRegion: "eu-west-1"},
		{raw: "search-logs-abc123.eu-west-1.es.amazonaws.com", wantURL: "https://search-logs-abc123.eu-west-1.es.amazonaws.com", wantSvc: "es", wantRegion: "eu-west-1"},
		{raw: "https://vpc-logs-abc123.us-east-2.es.amazonaws.com:443", wantURL: "https://vpc-logs-abc123.us-east-2.es.amazonaws.com:443", wantSvc: "es", wantRegion: "us-east-2"},
		{raw: "https://SEARCH-Logs-abc.EU-WEST-1.ES.AMAZONAWS.COM.", wantSvc: "es", wantRegion: "eu-west-1"},
		{raw: "https://search-logs-abc.cn-north-1.es.amazonaws.com.cn", wantSvc: "es", wantRegion: "cn-north-1"},
		{raw: "https://vpc-logs-abc.cn-northwest-1.es.amazonaws.com.cn", wantSvc: "es", wantRegion: "cn-northwest-1"},
		{raw: "https://search-logs-abc.us-gov-west-1.es.amazonaws.com", wantSvc: "es", wantRegion: "us-gov-west-1"},
		{raw: "https://search-logs-abc.us-gov-east-1.es-fips.amazonaws.com", wantSvc: "es", wantRegion: "us-gov-east-1"},
		{raw: "https://search-logs-abc.aos.eu-central-1.on.aws", wantSvc: "es", wantRegion: "eu-central-1"},
		{raw: "https://abc123xyz.eu-west-1.aoss.amazonaws.com", wantSvc: "aoss", wantRegion: "eu-west-1"},
		{raw: "https://abc123xyz.us-gov-west-1.aoss-fips.amazonaws.com", wantSvc: "aoss", wantRegion: "us-gov-west-1"},
		{raw: "https://abc123xyz.aoss.ap-southeast-2.on.aws", wantSvc: "aoss", wantRegion: "ap-southeast-2"},
		{raw: "https://123456789012.aoss.us-west-2.on.aws", wantSvc: "aoss", wantRegion: "us-west-2"},
		{raw: "https://abc123xyz.cn-north-1.aoss.amazonaws.com.cn", wantSvc: "aoss", wantRegion: "cn-north-1"},
		// A proxy's base path is kept, without the trailing slash.
		{raw: "https://search.example.com/opensearch/", service: "es", region: "eu-west-1", wantURL: "https://search.example.com/opensearch", wantSvc: "es", wantRegion: "eu-west-1"},
		// The Dashboards URL, or any path on an AWS host, would send the
		// API calls to Dashboards: the error gives the root URL.
		{raw: "https://search-x-1.eu-west-1.es.amazonaws.com/_dashboards/", wantErr: "use --endpoint https://search-x-1.eu-west-1.es.amazonaws.com (for Dashboards use --via dashboards"},
		{raw: "https://search-x-1.eu-west-1.es.amazonaws.com/_plugin/kibana", wantErr: "the API is at the root of the host"},
		{raw: "https://abc.eu-west-1.aoss.amazonaws.com/logs", wantErr: "use --endpoint https://abc.eu-west-1.aoss.amazonaws.com "},
		{raw: "https://search.example.com/_dashboards", service: "es", region: "eu-west-1", wantErr: "use --endpoint https://search.example.com "},
		// Explicit service/region win over the host.
		{raw: "https://abc.eu-west-1.aoss.amazonaws.com", service: "es", region: "us-east-1", wantSvc: "es", wantRegion: "us-east-1"},
		{raw: "https://abc.eu-west-1.aoss.amazonaws.com", service: "auto", wantSvc: "aoss", wantRegion: "eu-west-1"},
		// Custom domains need both.
		{raw: "https://search.example.com", service: "es", region: "eu-west-1", wantSvc: "es", wantRegion: "eu-west-1"},
		{raw: "https://search.example.com", wantErr: "--service es (managed domain) or --service aoss (Serverless), and --region"},
		{raw: "https://search.example.com", region: "eu-west-1", wantErr: "cannot tell the service from host search.example.com (custom domain?): pass --service"},
		{raw: "https://search.example.com", service: "aoss", wantErr: "cannot tell the region from host search.example.com (custom domain?): pass --region"},
		// Look-alike hosts are custom domains.
		{raw: "https://search-x.eu-west-1.es.amazonaws.com.evil.example", wantErr: "pass --service"},
		{raw: "https://es.amazonaws.com", wantErr: "pass --service"},
		{raw: "https://x.notaregion.es.amazonaws.com", wantErr: "pass --service"},
		// Loopback over http is fine; anything else over http is not.
		{raw: "http://127.0.0.1:9200", service: "es", region: "eu-west-1", wantURL: "http://127.0.0.1:9200", wantSvc: "es", wantRegion: "eu-west-1"},
		{raw: "http://localhost:9200/", service: "aoss", region: "eu-west-1", wantURL: "http://localhost:9200", wantSvc: "aoss", wantRegion: "eu-west-1"},
		{raw: "http://[::1]:9200", service: "es", region: "eu-west-1", wantSvc: "es", wantRegion: "eu-west-1"},
		{raw: "http://search-x.eu-west-1.es.amazonaws.com", wantErr: "uses http: use https"},
		{raw: "ftp://search-x.eu-west-1.es.amazonaws.com", wantErr: `scheme "ftp" is not https`},
		{raw: "https://u:p@search-x.eu-west-1.es.amazonaws.com", wantErr: "remove the user name or password"},
		{raw: "https://search-x.eu-west-1.es.amazonaws.com/?pretty", wantErr: "remove the query"},
		{raw: "https://search-x.eu-west-1.es.amazonaws.com", service: "opensearch", wantErr: `unknown service "opensearch"`},
		{raw: "https://search-x.eu-west-1.es.amazonaws.com", region: "Ireland", wantErr: `"Ireland" is not an AWS region`},
	}
	// No endpoint at all: what to pass, without a quoted "".
	var ee *EndpointError
	if _, err := ParseEndpoint(" ", "", ""); !errors.As(err, &ee) || strings.Contains(err.Error(), `""`) || !strings.Contains(err.Error(), "pass --endpoint https://HOST, or set it once with saml2sts configure --opensearch-endpoint") {
		t.Errorf("empty endpoint: %v", err)
	}
	for _, tt := range tests {
		e, err := ParseEndpoint(tt.raw, tt.service, tt.region)
		if tt.wantErr != "" {
			var ee *EndpointError
			if !errors.As(err, &ee) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseEndpoint(%q, %q, %q) = %v, %v; want *EndpointError containing %q", tt.raw, tt.service, tt.region, e, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseEndpoint(%q, %q, %q): %v", tt.raw, tt.service, tt.region, err)
			continue
		}
		if e.Service != tt.wantSvc || e.Region != tt.wantRegion {
			t.Errorf("ParseEndpoint(%q, %q, %q) = %s/%s; want %s/%s", tt.raw, tt.service, tt.region, e.Service, e.Region, tt.wantSvc, tt.wantRegion)
		}
		if tt.wantURL != "" && e.URL.String() != tt.wantURL {
			t.Errorf("ParseEndpoint(%q).URL = %s; want %s", tt.raw, e.URL, tt.wantURL)
		}
	}
}
