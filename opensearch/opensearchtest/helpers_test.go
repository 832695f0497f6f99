package opensearchtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/saml2sts/saml2sts/sts/ststest"
)

const (
	testRole = "arn:aws:iam::123456789012:role/SearchReader"
	testProv = "arn:aws:iam::123456789012:saml-provider/Keycloak"
)

// clock is real time plus an offset tests move.

// world is an STS emulator with one issued credential set.
type world struct {
	sts   *ststest.Server
	idp   *ststest.IdP
	clk   *ststest.Clock
	creds aws.Credentials
	arn   string
}

var idpOnce = sync.OnceValues(func() (*ststest.IdP, error) { return ststest.NewIdP("https://idp.example.com/realms/corp") })

func newWorld(t *testing.T) *world {
	t.Helper()
	idp, err := idpOnce()
	if err != nil {
		t.Fatal(err)
	}
	clk := &ststest.Clock{}
	srv := ststest.New(ststest.Options{Providers: map[string]*x509.Certificate{testProv: idp.Cert}, Now: clk.Now})
	t.Cleanup(srv.Close)
	assertion, err := idp.Sign(ststest.Response{Roles: []string{testRole + "," + testProv}, SessionName: "alice@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"Action": {"AssumeRoleWithSAML"}, "Version": {"2011-06-15"}, "RoleArn": {testRole}, "PrincipalArn": {testProv}, "SAMLAssertion": {assertion}}
	res, err := http.PostForm(srv.URL(), form)
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Result struct {
			Credentials struct{ AccessKeyId, SecretAccessKey, SessionToken string }
			User        struct{ Arn string } `xml:"AssumedRoleUser"`
		} `xml:"AssumeRoleWithSAMLResult"`
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if err := xml.Unmarshal(b, &out); err != nil || res.StatusCode != 200 {
		t.Fatalf("AssumeRoleWithSAML: %d %s", res.StatusCode, b)
	}
	c := out.Result.Credentials
	return &world{sts: srv, idp: idp, clk: clk, arn: out.Result.User.Arn,
		creds: aws.Credentials{AccessKeyID: c.AccessKeyId, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken}}
}

// verify adapts (*ststest.Server).Verify to Options.Verify.
func (w *world) verify(r *http.Request, body []byte, service string) (string, error) {
	c, err := w.sts.Verify(r, body, service)
	return c.AssumedRoleARN, err
}

// server starts an emulator verifying signatures against w.
func (w *world) server(t *testing.T, o Options) *Server {
	t.Helper()
	if o.Verify == nil {
		o.Verify = w.verify
	}
	if o.Now == nil {
		o.Now = w.clk.Now
	}
	return newServer(t, o)
}

func newServer(t *testing.T, o Options) *Server {
	t.Helper()
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// call is one request to the emulator.
type call struct {
	method, path string // path as sent (escaped)
	body         string
	creds        *aws.Credentials // nil: unsigned
	service      string           // default: the server's
	region       string           // default eu-west-1
	noSHA        bool             // omit X-Amz-Content-Sha256
	header       http.Header
	at           time.Time // signing time; default now
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t *testing.T) map[string]any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(r.body))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("decode %q: %v", r.body, err)
	}
	return m
}

func do(t *testing.T, s *Server, c call) resp {
	t.Helper()
	r, err := send(s.URL(), s.o.Service, c)
	if err != nil {
		t.Fatalf("%s %s: %v", c.method, c.path, err)
	}
	return r
}

func send(base, service string, c call) (resp, error) {
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	req, err := http.NewRequest(c.method, base+c.path, body)
	if err != nil {
		return resp{}, err
	}
	for k, v := range c.header {
		req.Header[k] = v
	}
	if c.body != "" && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.creds != nil {
		sum := sha256.Sum256([]byte(c.body))
		hash := hex.EncodeToString(sum[:])
		if !c.noSHA {
			req.Header.Set("X-Amz-Content-Sha256", hash)
		}
		svc, region, at := service, "eu-west-1", time.Now()
		if c.service != "" {
			svc = c.service
		}
		if c.region != "" {
			region = c.region
		}
		if !c.at.IsZero() {
			at = c.at
		}
		if err := v4.NewSigner().SignHTTP(context.Background(), *c.creds, req, hash, svc, region, at); err != nil {
			return resp{}, err
		}
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return resp{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return resp{res.StatusCode, res.Header, b}, err
}

// docs makes JSON documents.
func docs(t *testing.T, vs ...string) []json.RawMessage {
	t.Helper()
	out := make([]json.RawMessage, len(vs))
	for i, v := range vs {
		if !json.Valid([]byte(v)) {
			t.Fatalf("bad fixture %q", v)
		}
		out[i] = json.RawMessage(v)
	}
	return out
}

// hitIDs returns the _id of each hit and the sort values of the last one.
func hitIDs(t *testing.T, r resp) (ids []string, last []any) {
	t.Helper()
	m := r.json(t)
	hits, ok := m["hits"].(map[string]any)
	if !ok {
		t.Fatalf("no hits in %s", r.body)
	}
	for _, h := range hits["hits"].([]any) {
		hm := h.(map[string]any)
		ids = append(ids, hm["_id"].(string))
		last, _ = hm["sort"].([]any)
	}
	return ids, last
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
