package httpx

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestSecretsScrub(t *testing.T) {
	const v = `p&ss "w'rd" <1>/é`
	var s Secrets
	s.Add("", v, v)
	for _, form := range []string{
		v,
		url.QueryEscape(v), strings.ToLower(url.QueryEscape(v)), url.PathEscape(v),
		`p&amp;ss &#34;w&#39;rd&#34; &lt;1&gt;/é`,                             // html.EscapeString
		`p&amp;ss &quot;w&#39;rd&quot; &lt;1&gt;/é`,                           // FreeMarker, htmlspecialchars
		`p\u0026ss \"w'rd\" \u003c1\u003e/é`,                                  // encoding/json
		`p&ss \"w'rd\" <1>\/é`,                                                // PHP json_encode
		`p\u0026ss\u0020\u0022w\u0027rd\u0022\u0020\u003c1\u003e\u002f\u00e9`, // \u00XX
		`p\x26ss\x20\x22w\x27rd\x22\x20\x3C1\x3E\x2F\xC3\xA9`,                 // Okta's \xHH
		`&#112;&#38;&#115;&#115;&#32;&#34;&#119;&#39;&#114;&#100;&#34;&#32;&#60;&#49;&#62;&#47;&#233;`,
		"cCZzcyAidydyZCIgPDE+L8Op", "cCZzcyAidydyZCIgPDE-L8Op",
	} {
		if got := s.Scrub("[" + form + "]"); got != "[REDACTED]" {
			t.Errorf("Scrub(%q) = %q", form, got)
		}
		if !s.Contains("x" + form) {
			t.Errorf("Contains(%q) = false", form)
		}
	}
	if got := s.Scrub("nothing here"); got != "nothing here" || s.Contains("nothing") {
		t.Errorf("scrubbed innocent text: %q", got)
	}
	var none *Secrets
	if none.Scrub(v) != v || none.Contains(v) {
		t.Error("a nil Secrets scrubbed something")
	}
	// A longer secret holding a shorter one goes whole.
	s.Add("123456", "xx123456yy")
	if got := s.Scrub("a xx123456yy b"); got != "a REDACTED b" {
		t.Errorf("nested secrets: %q", got)
	}
}

// TestTraceScrubsByValue: whatever the fields are called, the values of
// the request's secrets never reach the trace, nor do session cookies
// repeated in a Location.
func TestTraceScrubsByValue(t *testing.T) {
	const pw, code, sess = "Tr0ub4dor & <3!", "271828", "hostile-session-77"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		http.SetCookie(w, &http.Cookie{Name: "s", Value: sess})
		http.SetCookie(w, &http.Cookie{Name: "lang", Value: "en"})
		w.Header().Set("Location", "/next/"+sess+"?x="+url.QueryEscape(pw))
		w.WriteHeader(http.StatusFound)
	}))
	defer srv.Close()
	var trace lockedBuf
	rt, err := NewTransport(Options{Trace: &trace})
	if err != nil {
		t.Fatal(err)
	}
	sec := &Secrets{}
	sec.Add(pw, code)
	form := url.Values{"login": {"ana"}, "pwd": {pw}, "answer": {code}, "note": {"was " + pw}}.Encode()
	req, _ := http.NewRequestWithContext(WithSecrets(context.Background(), sec), "POST", srv.URL+"/p?pin="+code, strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	out := trace.String()
	for _, s := range append(Encodings(pw), code, sess) {
		if strings.Contains(out, s) {
			t.Errorf("trace holds %q:\n%s", s, out)
		}
	}
	for _, want := range []string{"login=ana", "pwd=REDACTED", "answer=REDACTED", "note=REDACTED", "pin=REDACTED", "/next/REDACTED"} {
		if !strings.Contains(out, want) {
			t.Errorf("trace lacks %q:\n%s", want, out)
		}
	}
	if sec.Contains("en") {
		t.Error("a two-letter cookie became a secret")
	}
}
