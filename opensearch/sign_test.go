package opensearch

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// suiteSkip lists the AWS SigV4 test-suite cases (awslabs/aws-c-auth
// tests/aws-signing-test-suite/v4) that are not copied into testdata/sigv4,
// and why: neither behaviour applies to OpenSearch requests.
var suiteSkip = map[string]string{
	// Dot-segment and slash normalisation of the path: S3-style services
	// normalise, es/aoss sign the path as sent, and so do we.
	"get-relative-normalized":            "path normalisation",
	"get-relative-relative-normalized":   "path normalisation",
	"get-slash-dot-slash-normalized":     "path normalisation",
	"get-slash-pointless-dot-normalized": "path normalisation",
	"get-slashes-normalized":             "path normalisation",
	"get-slash-normalized":               "path normalisation",
	// The session token is added after signing: we always sign it.
	"post-sts-header-after": "unsigned session token",
}

type suiteContext struct {
	Credentials struct {
		AccessKeyID     string `json:"access_key_id"`
		SecretAccessKey string `json:"secret_access_key"`
		Token           string `json:"token"`
	} `json:"credentials"`
	Normalize        bool      `json:"normalize"`
	Region           string    `json:"region"`
	Service          string    `json:"service"`
	SignBody         bool      `json:"sign_body"`
	Timestamp        time.Time `json:"timestamp"`
	OmitSessionToken bool      `json:"omit_session_token"`
}

// readSuiteRequest parses request.txt: request line, headers (continuation
// lines are folded into the previous value), blank line, body.
func readSuiteRequest(t *testing.T, path string) (method, target string, h http.Header, body []byte) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	head, b, _ := strings.Cut(string(raw), "\n\n")
	sc := bufio.NewScanner(strings.NewReader(head))
	sc.Scan()
	line := sc.Text()
	method, rest, _ := strings.Cut(line, " ")
	target = rest[:strings.LastIndex(rest, " HTTP/")]
	h = http.Header{}
	var last string
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, " ") && last != "" {
			// obs-fold: an HTTP parser unfolds it into one space.
			vs := h[last]
			vs[len(vs)-1] += " " + strings.TrimSpace(l)
			continue
		}
		k, v, _ := strings.Cut(l, ":")
		last = http.CanonicalHeaderKey(k)
		h[last] = append(h[last], v)
	}
	return method, target, h, []byte(b)
}

// TestSigV4Suite signs every applicable case of the AWS test suite with the
// signer the Client uses and compares the canonical request and the
// Authorization header. The suite signs the path S3-style (escaped once),
// so it runs with rawPath; es/aoss escaping is tested in TestSignPaths.
func TestSigV4Suite(t *testing.T) {
	dirs, err := filepath.Glob("testdata/sigv4/*")
	if err != nil || len(dirs) < 30 {
		t.Fatalf("want the suite in testdata/sigv4, found %d cases (%v)", len(dirs), err)
	}
	if n := len(dirs); n < 30 {
		t.Fatalf("only %d suite cases to run; want at least 30", n)
	}
	for _, dir := range dirs {
		name := filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			if why, skip := suiteSkip[name]; skip {
				t.Skip(why)
			}
			raw, err := os.ReadFile(filepath.Join(dir, "context.json"))
			if err != nil {
				t.Fatal(err)
			}
			var c suiteContext
			if err := json.Unmarshal(raw, &c); err != nil {
				t.Fatal(err)
			}
			method, target, h, body := readSuiteRequest(t, filepath.Join(dir, "request.txt"))
			host := h.Get("Host")
			u, err := buildURL(&url.URL{Scheme: "https", Host: host}, target, nil)
			if err != nil {
				t.Fatal(err)
			}
			req, err := http.NewRequest(method, u.String(), nil)
			if err != nil {
				t.Fatal(err)
			}
			req.URL = u
			req.Host = host
			for k, vs := range h {
				switch k {
				case "Host":
				case "Content-Length":
					req.ContentLength, _ = strconv.ParseInt(vs[0], 10, 64)
				default:
					req.Header[k] = vs
				}
			}
			creds := aws.Credentials{AccessKeyID: c.Credentials.AccessKeyID, SecretAccessKey: c.Credentials.SecretAccessKey, SessionToken: c.Credentials.Token}
			s := signer{service: c.Service, region: c.Region, rawPath: true, noHash: !c.SignBody}
			canon, err := s.sign(context.Background(), req, body, creds, c.Timestamp)
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join(dir, "header-canonical-request.txt"))
			if err != nil {
				t.Fatal(err)
			}
			wantCanon := redactCanonical(string(want))
			if canon != wantCanon {
				t.Errorf("canonical request:\n%s\nwant:\n%s", canon, wantCanon)
			}
			signed, err := os.ReadFile(filepath.Join(dir, "header-signed-request.txt"))
			if err != nil {
				t.Fatal(err)
			}
			var wantAuth string
			for _, l := range strings.Split(string(signed), "\n") {
				if v, ok := strings.CutPrefix(l, "Authorization:"); ok {
					wantAuth = v
				}
			}
			if got := req.Header.Get("Authorization"); got != wantAuth {
				t.Errorf("Authorization:\n%s\nwant:\n%s", got, wantAuth)
			}
		})
	}
}
