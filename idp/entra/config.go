package entra

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// Config is the part of an Entra sign-in page's `$Config={...}` object the
// adapter reads. Entra renders every page (sign-in, MFA, "Stay signed
// in?", errors) from it; pgid names the page.
type Config struct {
	PGID                 string  `json:"pgid"`
	FlowToken            string  `json:"sFT"`
	FlowTokenName        string  `json:"sFTName"`
	Ctx                  string  `json:"sCtx"`
	Canary               string  `json:"canary"`
	APICanary            string  `json:"apiCanary"`
	CorrelationID        string  `json:"correlationId"`
	SessionID            string  `json:"sessionId"`
	HPGAct               flexStr `json:"hpgact"`
	HPGID                flexStr `json:"hpgid"`
	URLPost              string  `json:"urlPost"`
	URLGetCredentialType string  `json:"urlGetCredentialType"`
	URLBeginAuth         string  `json:"urlBeginAuth"`
	URLEndAuth           string  `json:"urlEndAuth"`
	URLSkipMFA           string  `json:"urlSkipMfaRegistration"`
	Proofs               []Proof `json:"arrUserProofs"`
	// PollInterval is seconds between EndAuth polls, by AuthMethodId.
	PollInterval    map[string]float64 `json:"oPerAuthPollingInterval"`
	MaxPollAttempts int                `json:"iMaxPollAttempts"`
	PollingTimeout  int                `json:"iPollingTimeout"` // milliseconds
	ErrorCode       flexStr            `json:"sErrorCode"`
	ErrorText       string             `json:"sErrTxt"`
	Username        string             `json:"sPOST_Username"`
}

// Proof is one of the user's MFA methods on the ConvergedTFA page.
type Proof struct {
	AuthMethodID string `json:"authMethodId"`
	Display      string `json:"display"`
	IsDefault    bool   `json:"isDefault"`
}

// flexStr reads a JSON string or number as a string: Entra writes
// sErrorCode, hpgact and hpgid either way.
type flexStr string

func (f *flexStr) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexStr(s)
	case bytes.Equal(b, []byte("null")):
		*f = ""
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return err
		}
		*f = flexStr(n.String())
	}
	return nil
}

// errNoConfig is a page without a `$Config=` object.
var errNoConfig = errors.New("no $Config object on the page")

const configMarker = "$Config="

// maxConfig bounds the object read: real ones are tens of kilobytes.
const maxConfig = 2 << 20

var pageIDMeta = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?i)<meta\s+name=["']PageID["']\s+content=["']([^"']*)["']`)
})

// ParseConfig decodes the first `$Config=` object on an Entra page with a
// streaming JSON decoder, which stops at the object's end whatever follows
// it (`;`, `//]]>`, more JavaScript, a line break). The pgid falls back to
// the page's <meta name="PageID">.
func ParseConfig(page []byte) (*Config, error) {
	i := bytes.Index(page, []byte(configMarker))
	if i < 0 {
		return nil, errNoConfig
	}
	rest := page[i+len(configMarker):]
	if len(rest) > maxConfig {
		rest = rest[:maxConfig]
	}
	d := json.NewDecoder(bytes.NewReader(rest))
	var c Config
	if err := d.Decode(&c); err != nil {
		return nil, errors.New("the page's $Config object is not JSON: " + shortJSONErr(err))
	}
	if c.PGID == "" {
		if m := pageIDMeta().FindSubmatch(page); m != nil {
			c.PGID = string(m[1])
		}
	}
	c.PGID = strings.TrimSpace(c.PGID)
	return &c, nil
}

// shortJSONErr keeps a decoder error free of page text (which may hold
// tokens): only its kind and offset.
func shortJSONErr(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return "syntax error at byte " + strconv.FormatInt(se.Offset, 10)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return "field " + te.Field + " has an unexpected type"
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "it ends early"
	}
	return "unreadable"
}
