package config

import (
	"os"
	"strings"
	"testing"

	"github.com/saml2sts/saml2sts/idp/providers"
)

// TestDocsListEveryKey keeps docs/configuration.md in step with the key table.
func TestDocsListEveryKey(t *testing.T) {
	b, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, k := range Keys() {
		row := "| `" + k.Name + "` | `" + k.Env() + "` |"
		if !strings.Contains(doc, row) {
			t.Errorf("docs/configuration.md has no row for %s (want a line starting %q)", k.Name, row)
		}
		if k.Default != "" && !strings.Contains(doc, row+" `"+k.Default+"` |") {
			t.Errorf("docs/configuration.md: %s default should read %q", k.Name, k.Default)
		}
	}
	// The provider row names every registered provider.
	_, row, _ := strings.Cut(doc, "| `provider` |")
	row, _, _ = strings.Cut(row, "\n")
	for _, name := range providers.Names() {
		if !strings.Contains(row, "`"+name+"`") {
			t.Errorf("docs/configuration.md: the provider row does not name provider %s", name)
		}
	}
}
