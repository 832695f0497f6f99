package cli

import (
	"testing"

	"github.com/saml2sts/saml2sts/internal/config"
	"github.com/saml2sts/saml2sts/sts"
)

// FuzzRoleProfileName: any template checkTemplate accepts and any account
// alias give a name that is empty or a valid profile name holding only
// letters, digits, '.', '_' and '-'.
func FuzzRoleProfileName(f *testing.F) {
	f.Add(defaultNameTemplate, "prod search", "Search/Admin")
	f.Add("team a/{profile} {role_name}", "", "R")
	f.Add("{account_id}-{role_name}", "[x]", "r")
	f.Fuzz(func(t *testing.T, tmpl, alias, role string) {
		if checkTemplate(tmpl) != nil {
			return
		}
		r := sts.Role{RoleARN: "arn:aws:iam::123456789012:role/" + role}
		name := roleProfileName(tmpl, "corp", r, map[string]string{"123456789012": alias})
		if name == "" {
			return
		}
		if err := config.CheckProfileName(name); err != nil || unsafeNameRe.MatchString(name) {
			t.Errorf("template %q alias %q role %q gave %q: %v", tmpl, alias, role, name, err)
		}
	})
}

func TestRoleProfileName(t *testing.T) {
	r := sts.Role{RoleARN: "arn:aws:iam::123456789012:role/team/SearchAdmin"}
	for _, tc := range []struct{ tmpl, alias, want string }{
		{defaultNameTemplate, "prod-search", "prod-search-SearchAdmin"},
		{defaultNameTemplate, "", "123456789012-SearchAdmin"},
		{"{profile}.{account_name}.{role_name}", "Prod Search!", "corp.Prod-Search-.SearchAdmin"},
		{"{account_id}_{role_name}", "x", "123456789012_SearchAdmin"},
	} {
		if got := roleProfileName(tc.tmpl, "corp", r, map[string]string{"123456789012": tc.alias}); got != tc.want {
			t.Errorf("%q with alias %q = %q, want %q", tc.tmpl, tc.alias, got, tc.want)
		}
	}
}
