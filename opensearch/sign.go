package opensearch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go/logging"
)

const (
	hdrContentSHA = "X-Amz-Content-Sha256"
	hdrToken      = "X-Amz-Security-Token"
	emptySHA256   = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

// signer signs requests for one service and region.
type signer struct {
	service, region string
	// rawPath signs the wire path as is (S3 style, the SigV4 test suite);
	// es and aoss want it escaped once more.
	rawPath bool
	// noHash leaves X-Amz-Content-Sha256 out (only the test suite's
	// unsigned-body cases); es and aoss always get it.
	noHash bool
	// v is shared so its derived-key cache spares the HMAC chain per
	// request; nil makes one per call.
	v *v4.Signer
}

// sign adds X-Amz-Date, X-Amz-Security-Token, X-Amz-Content-Sha256 and
// Authorization to r, signing every header r has at this point (so the
// caller adds headers a proxy may rewrite only afterwards), and returns the
// canonical request with the token redacted. r.ContentLength must be 0 at
// this point: Content-Length is not signed (aoss rejects it signed).
func (s signer) sign(ctx context.Context, r *http.Request, body []byte, creds aws.Credentials, t time.Time) (string, error) {
	hash := emptySHA256
	if len(body) > 0 {
		sum := sha256.Sum256(body)
		hash = hex.EncodeToString(sum[:])
	}
	if !s.noHash {
		r.Header.Set(hdrContentSHA, hash)
	}
	var canon canonLogger
	v := s.v
	if v == nil {
		v = v4.NewSigner()
	}
	err := v.SignHTTP(ctx, creds, r, hash, s.service, s.region, t, func(o *v4.SignerOptions) {
		o.DisableURIPathEscaping = s.rawPath
		o.LogSigning = true
		o.Logger = &canon
	})
	if err != nil {
		return "", fmt.Errorf("sign request: %w", err)
	}
	return redactCanonical(canon.canonical), nil
}

// canonLogger keeps the canonical request the SDK logs while signing.
type canonLogger struct{ canonical string }

func (l *canonLogger) Logf(_ logging.Classification, format string, v ...any) {
	// logSignInfoMsg: canonical string, string to sign, signed URL.
	if len(v) > 0 {
		if s, ok := v[0].(string); ok {
			l.canonical = s
		}
	}
}

// redactCanonical hides the session token, the one secret a canonical
// request carries.
func redactCanonical(c string) string {
	lines := strings.Split(c, "\n")
	for i, l := range lines {
		if k, _, ok := strings.Cut(l, ":"); ok && strings.EqualFold(k, hdrToken) {
			lines[i] = k + ":<redacted>"
		}
	}
	return strings.Join(lines, "\n")
}

// escapePath returns the wire form of a path as typed: every byte outside
// RFC 3986 unreserved characters and '/' is percent-encoded (so "*", ",",
// ":", spaces and non-ASCII are), while a valid %XX escape the user typed
// (a "/" inside a document id as %2F) is kept. The canonical URI is then
// this wire form escaped once more, which is what es and aoss compute.
func escapePath(p string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '%' && i+2 < len(p) && isHex(p[i+1]) && isHex(p[i+2]):
			b.WriteByte('%')
			b.WriteByte(upper(p[i+1]))
			b.WriteByte(upper(p[i+2]))
			i += 2
		case unreserved(c) || c == '/':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func upper(c byte) byte {
	if 'a' <= c && c <= 'f' {
		return c - 'a' + 'A'
	}
	return c
}

// buildURL joins the endpoint base and a typed path (which may hold a
// "?query") with extra query values. The URL's RawPath is the escaped wire
// path, so net/http sends exactly what was signed.
func buildURL(base *url.URL, typed string, extra url.Values) (*url.URL, error) {
	p, rawQuery, _ := strings.Cut(typed, "?")
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, fmt.Errorf("query %q: %w", rawQuery, err)
	}
	for k, v := range extra {
		q[k] = append(q[k], v...)
	}
	u := *base
	u.RawPath = strings.TrimRight(base.EscapedPath(), "/") + escapePath(p)
	u.Path, err = url.PathUnescape(u.RawPath)
	if err != nil {
		return nil, fmt.Errorf("path %q: %w", typed, err)
	}
	// The SDK signer sorts and %20-encodes the query (and rewrites
	// RawQuery to that form); keep the wire form identical from here on.
	u.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
	return &u, nil
}
