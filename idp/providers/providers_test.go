package providers

import (
	"regexp"
	"slices"
	"testing"
)

// TestRegistrations: every adapter in the list is usable as registered:
// a unique lower-case name, an adapter, keys spelled like profile keys
// and a default that passes its own check.
func TestRegistrations(t *testing.T) {
	t.Parallel()
	keyName := regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	seen, keys := map[string]bool{}, map[string]string{}
	for _, r := range All {
		if !keyName.MatchString(r.Name) || seen[r.Name] {
			t.Errorf("provider name %q is empty, not lower case, or listed twice", r.Name)
		}
		seen[r.Name] = true
		if r.New == nil || r.New() == nil {
			t.Errorf("%s: New gives no adapter", r.Name)
		}
		if got, ok := Lookup(r.Name); !ok || got.Name != r.Name {
			t.Errorf("Lookup(%q) = %v, %v", r.Name, got.Name, ok)
		}
		for _, k := range r.Keys {
			if !keyName.MatchString(k.Name) || k.Help == "" {
				t.Errorf("%s: key %q needs a snake_case name and a help line", r.Name, k.Name)
			}
			if other, dup := keys[k.Name]; dup {
				t.Errorf("key %s registered by %s and %s", k.Name, other, r.Name)
			}
			keys[k.Name] = r.Name
			if k.Default != "" && len(k.Values) > 0 && !slices.Contains(k.Values, k.Default) {
				t.Errorf("%s: default %q of %s is not one of %v", r.Name, k.Default, k.Name, k.Values)
			}
			if k.Default != "" && k.Check != nil && k.Check(k.Default) != nil {
				t.Errorf("%s: default %q of %s fails its check", r.Name, k.Default, k.Name)
			}
		}
	}
	if !slices.Equal(Names(), []string{"keycloak", "okta", "adfs", "entra", "form"}) {
		t.Errorf("Names() = %v", Names())
	}
	if _, ok := Lookup("saml"); ok {
		t.Error("Lookup found an unknown provider")
	}
	if m := New(); len(m) != len(All) {
		t.Errorf("New() made %d adapters for %d providers", len(m), len(All))
	}
}

// TestAliases: no alias is a provider name, and each names one provider.
func TestAliases(t *testing.T) {
	seen := map[string]string{}
	for _, r := range All {
		for _, a := range r.Aliases {
			if _, ok := Lookup(a); ok || seen[a] != "" {
				t.Errorf("alias %q of %s is a provider name or another provider's alias", a, r.Name)
			}
			seen[a] = r.Name
		}
	}
	if seen["azuread"] != "entra" || seen["aad"] != "entra" || seen["azure"] != "entra" {
		t.Errorf("aliases %v: azuread, aad and azure must name entra", seen)
	}
}
