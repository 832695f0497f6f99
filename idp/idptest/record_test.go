package idptest

import (
	"slices"
	"strings"
	"testing"
)

func TestCheckUsers(t *testing.T) {
	tests := []struct {
		who   string
		names []string
		fold  bool
		want  string
	}{
		{"user", []string{"alice", "bob"}, true, ""},
		{"user", []string{"alice", ""}, true, "idptest: user 1 has no Username"},
		{"okta user", []string{"a", "A"}, true, `idptest: duplicate okta user "A"`},
		{"user", []string{"a", "A"}, false, ""}, // SimpleSAMLphp matches names exactly
		{"user", []string{"a", "a"}, false, `idptest: duplicate user "a"`},
	}
	for _, tc := range tests {
		err := checkUsers(tc.who, tc.names, tc.fold)
		if (err == nil) != (tc.want == "") || (err != nil && err.Error() != tc.want) {
			t.Errorf("checkUsers(%q, %q, %v) = %v, want %q", tc.who, tc.names, tc.fold, err, tc.want)
		}
	}
	got := usernames([]User{{Username: "x"}, {Username: "y"}}, func(u *User) string { return u.Username })
	if !slices.Equal(got, []string{"x", "y"}) {
		t.Errorf("usernames = %q", got)
	}
}

func TestRecord(t *testing.T) {
	var r record[Stats]
	r.issue("resp-1", func(s *Stats) { s.SAMLIssued++ })
	r.issue("resp-2", nil) // served but not counted
	r.mu.Lock()
	r.keep("cookie-1")
	r.keep("") // an expiring cookie carries nothing
	r.mu.Unlock()
	if s := r.Stats(); s.SAMLIssued != 1 {
		t.Errorf("SAMLIssued = %d, want 1", s.SAMLIssued)
	}
	issued, kept := r.IssuedResponses(), r.keptValues()
	if strings.Join(issued, ",") != "resp-1,resp-2" || strings.Join(kept, ",") != "cookie-1" {
		t.Errorf("issued %q, kept %q", issued, kept)
	}
	issued[0] = "changed" // callers get copies
	if r.IssuedResponses()[0] != "resp-1" {
		t.Error("IssuedResponses shares its slice")
	}
}
