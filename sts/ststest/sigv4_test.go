package ststest

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type vector struct {
	name   string
	req    *http.Request
	body   []byte
	akid   string
	secret string
	token  string
	region string
	svc    string
	at     time.Time
}

// loadVector reads one case of the AWS SigV4 test suite as a server would
// receive it.
func loadVector(t *testing.T, dir string) vector {
	t.Helper()
	var ctx struct {
		Credentials struct {
			AKID   string `json:"access_key_id"`
			Secret string `json:"secret_access_key"`
			Token  string `json:"token"`
		}
		Region, Service, Timestamp string
	}
	b, err := os.ReadFile(filepath.Join(dir, "context.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &ctx); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "header-signed-request.txt"))
	if err != nil {
		t.Fatal(err)
	}
	s := strings.ReplaceAll(string(raw), "\n", "\r\n")
	if !strings.Contains(s, "\r\n\r\n") {
		s += "\r\n"
	}
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(s)))
	if err != nil {
		t.Fatalf("%s: %v", dir, err)
	}
	body, _ := io.ReadAll(r.Body)
	at, err := time.Parse(time.RFC3339, ctx.Timestamp)
	if err != nil {
		t.Fatal(err)
	}
	return vector{filepath.Base(dir), r, body, ctx.Credentials.AKID, ctx.Credentials.Secret, ctx.Credentials.Token, ctx.Region, ctx.Service, at}
}

func (v vector) lookup(akid string) (string, string, time.Time, bool) {
	return v.secret, v.token, v.at.Add(time.Hour), akid == v.akid
}

func TestVerifySigV4Vectors(t *testing.T) {
	dirs, err := filepath.Glob("testdata/sigv4/*")
	if err != nil || len(dirs) < 20 {
		t.Fatalf("vectors: %v %d", err, len(dirs))
	}
	for _, d := range dirs {
		v := loadVector(t, d)
		t.Run(v.name, func(t *testing.T) {
			akid, err := VerifySigV4(v.req, v.body, v.lookup, v.svc, v.region, v.at)
			if err != nil || akid != v.akid {
				t.Fatalf("VerifySigV4 = %q, %v", akid, err)
			}
			// Any region is fine when none is required.
			if _, err := VerifySigV4(v.req, v.body, v.lookup, v.svc, "", v.at.Add(10*time.Minute)); err != nil {
				t.Fatalf("any region, 10 min later: %v", err)
			}
		})
	}
}

func TestVerifySigV4Rejects(t *testing.T) {
	base := loadVector(t, "testdata/sigv4/post-x-www-form-urlencoded")
	withToken := loadVector(t, "testdata/sigv4/get-vanilla-with-session-token")
	tests := []struct {
		name       string
		v          vector
		mutate     func(v *vector)
		service    string
		region     string
		now        time.Duration // after the signing time
		code       string
		status     int
		msgContain string
	}{
		{name: "body changed", v: base, mutate: func(v *vector) { v.body = []byte("Param1=value2") },
			code: "SignatureDoesNotMatch", status: 403, msgContain: "Check your AWS Secret Access Key"},
		{name: "wrong secret", v: base, mutate: func(v *vector) { v.secret = "x" + v.secret[1:] },
			code: "SignatureDoesNotMatch", status: 403},
		{name: "signed header changed", v: base, mutate: func(v *vector) { v.req.Header.Set("Content-Type", "text/plain") },
			code: "SignatureDoesNotMatch", status: 403},
		{name: "host changed", v: base, mutate: func(v *vector) { v.req.Host = "evil.example.com" },
			code: "SignatureDoesNotMatch", status: 403},
		{name: "unknown key", v: base, mutate: func(v *vector) { v.akid = "ASIAOTHER" },
			code: "InvalidClientTokenId", status: 403, msgContain: "The security token included in the request is invalid."},
		{name: "expired", v: base, now: 2 * time.Hour,
			code: "ExpiredToken", status: 403, msgContain: "The security token included in the request is expired"},
		{name: "session token missing", v: withToken, mutate: func(v *vector) { v.req.Header.Del("X-Amz-Security-Token") },
			code: "InvalidClientTokenId", status: 403},
		{name: "session token wrong", v: withToken, mutate: func(v *vector) { v.token += "x" },
			code: "InvalidClientTokenId", status: 403},
		{name: "old signature", v: base, now: 16 * time.Minute, code: "SignatureDoesNotMatch", status: 403, msgContain: "Signature expired: 20150830T123600Z is now earlier than"},
		{name: "future signature", v: base, now: -16 * time.Minute, code: "SignatureDoesNotMatch", status: 403, msgContain: "Signature not yet current"},
		{name: "wrong service", v: base, service: "sts", code: "SignatureDoesNotMatch", status: 403, msgContain: "scoped to correct service: 'sts'"},
		{name: "wrong region", v: base, region: "eu-west-1", code: "SignatureDoesNotMatch", status: 403, msgContain: "valid region"},
		{name: "malformed region", v: base, mutate: func(v *vector) {
			v.req.Header.Set("Authorization", strings.Replace(v.req.Header.Get("Authorization"), "/us-east-1/", "/US_EAST/", 1))
		}, code: "SignatureDoesNotMatch", status: 403, msgContain: "valid region"},
		{name: "scope date mismatch", v: base, mutate: func(v *vector) { v.req.Header.Set("X-Amz-Date", "20150831T000000Z") },
			now: 12 * time.Hour, code: "SignatureDoesNotMatch", status: 403, msgContain: "Date in Credential scope does not match"},
		{name: "no authorization", v: base, mutate: func(v *vector) { v.req.Header.Del("Authorization") },
			code: "MissingAuthenticationToken", status: 403},
		{name: "no date", v: base, mutate: func(v *vector) { v.req.Header.Del("X-Amz-Date") },
			code: "IncompleteSignature", status: 400},
		{name: "sigv2", v: base, mutate: func(v *vector) { v.req.Header.Set("Authorization", "AWS AKIDEXAMPLE:abc") },
			code: "IncompleteSignature", status: 400},
		{name: "host unsigned", v: base, mutate: func(v *vector) {
			v.req.Header.Set("Authorization", strings.Replace(v.req.Header.Get("Authorization"), "content-type;host;", "content-type;", 1))
		}, code: "SignatureDoesNotMatch", status: 403, msgContain: "'Host' must be a 'SignedHeader'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := loadVector(t, "testdata/sigv4/"+tt.v.name)
			if tt.mutate != nil {
				tt.mutate(&v)
			}
			svc := v.svc
			if tt.service != "" {
				svc = tt.service
			}
			_, err := VerifySigV4(v.req, v.body, v.lookup, svc, tt.region, v.at.Add(tt.now))
			var se *SigError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want *SigError", err)
			}
			if se.Code != tt.code || se.Status != tt.status || !strings.Contains(se.Message, tt.msgContain) {
				t.Errorf("got %d %s %q, want %d %s containing %q", se.Status, se.Code, se.Message, tt.status, tt.code, tt.msgContain)
			}
		})
	}
}
