package entra

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestParseConfigVariants: the three shapes saml2aws met in the wild.
func TestParseConfigVariants(t *testing.T) {
	for _, name := range []string{"LoginEmbeddedJsonLineBreak.html", "LoginEmbeddedJsonNoLineBreak.html", "LoginEmbeddedJsonExtraJavascript.html"} {
		t.Run(name, func(t *testing.T) {
			b := fixture(t, name)
			if _, err := ParseConfig(b); err != nil {
				t.Fatalf("ParseConfig: %v", err)
			}
			// The object decoded is the one after $Config=, whatever follows.
			c, _ := ParseConfig(append(b, []byte(`<script>$Config={"pgid":"Later"};</script>`)...))
			if c.PGID != "" {
				t.Errorf("pgid %q: the second object was read", c.PGID)
			}
		})
	}
}

// TestParseConfigPages reads the fields the adapter uses from captured pages.
func TestParseConfigPages(t *testing.T) {
	tests := []struct {
		file  string
		check func(t *testing.T, c *Config)
	}{
		{"ConvergedSignIn.html", func(t *testing.T, c *Config) {
			if c.PGID != "ConvergedSignIn" || c.ErrorCode != "50058" || c.URLGetCredentialType == "" || c.URLPost == "" {
				t.Errorf("%+v", c)
			}
		}},
		{"ConvergedTFA.html", func(t *testing.T, c *Config) {
			if c.PGID != "ConvergedTFA" || len(c.Proofs) != 2 || c.Proofs[0].AuthMethodID != "OneWaySMS" || c.MaxPollAttempts != 10 ||
				c.PollInterval["PhoneAppNotification"] != 1 || c.URLBeginAuth != "{{.UrlBeginAuth}}" || c.FlowToken != "{{.SFT}}" {
				t.Errorf("%+v", c)
			}
		}},
		{"KmsiInterrupt.html", func(t *testing.T, c *Config) {
			if c.PGID != "KmsiInterrupt" || c.URLPost != "{{.UrlPost}}" || c.Ctx != "{{.Ctx}}" {
				t.Errorf("%+v", c)
			}
		}},
		{"ConvergedProofUpRedirect.html", func(t *testing.T, c *Config) {
			if c.PGID != "ConvergedProofUpRedirect" || c.URLSkipMFA != "{{.UrlSkipMfaRegistration}}" {
				t.Errorf("%+v", c)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			c, err := ParseConfig(fixture(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, c)
		})
	}
}

func TestParseConfigErrors(t *testing.T) {
	if _, err := ParseConfig(fixture(t, "HiddenForm.html")); err != errNoConfig {
		t.Errorf("hidden form page: %v, want errNoConfig", err)
	}
	secret := "AQABAAEAAAD--flowtoken-secret"
	_, err := ParseConfig([]byte(`<script>$Config={"sFT":"` + secret + `", broken`))
	if err == nil || strings.Contains(err.Error(), secret) {
		t.Errorf("broken object: %v (must fail without quoting the page)", err)
	}
	// pgid from the meta tag; numbers where strings are usual.
	c, err := ParseConfig([]byte(`<meta name="PageID" content="ConvergedError" /><script>$Config={"sErrorCode":50034,"hpgact":1800,"hpgid":null}`))
	if err != nil || c.PGID != "ConvergedError" || c.ErrorCode != "50034" || c.HPGAct != "1800" || c.HPGID != "" {
		t.Errorf("%+v, %v", c, err)
	}
}

func FuzzParseConfig(f *testing.F) {
	for _, name := range []string{"LoginEmbeddedJsonLineBreak.html", "LoginEmbeddedJsonExtraJavascript.html", "ConvergedTFA.html", "HiddenForm.html"} {
		f.Add(fixture(f, name))
	}
	f.Add([]byte(`$Config={"pgid":1,"sErrorCode":[1]}`))
	f.Add([]byte(`$Config=`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseConfig(b)
		if err == nil && c == nil {
			t.Fatal("nil config without error")
		}
		if err != nil && len(err.Error()) > 200 {
			t.Fatalf("error quotes the page: %v", err)
		}
	})
}

// BenchmarkParseConfig reads a captured sign-in page (17 KB); the baseline
// decodes the same object after it has been cut out of the page, so the
// ratio is what finding it and stopping at its end cost.
func BenchmarkParseConfig(b *testing.B) {
	page := fixture(b, "ConvergedSignIn.html")
	b.Run("page", func(b *testing.B) {
		for b.Loop() {
			if _, err := ParseConfig(page); err != nil {
				b.Fatal(err)
			}
		}
	})
	i := strings.Index(string(page), configMarker) + len(configMarker)
	obj := page[i:]
	var c Config
	dec := json.NewDecoder(strings.NewReader(string(obj)))
	if err := dec.Decode(&c); err != nil {
		b.Fatal(err)
	}
	obj = obj[:dec.InputOffset()]
	b.Run("baseline-object-only", func(b *testing.B) {
		for b.Loop() {
			var c Config
			if err := json.Unmarshal(obj, &c); err != nil {
				b.Fatal(err)
			}
		}
	})
}
