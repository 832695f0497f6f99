package config

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestAWSProfileShadows(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	data := `# work
[profile analytics]
credential_process = saml2sts credential-process --profile analytics
Role_Arn = arn:aws:iam::123456789012:role/Old
source_profile = base
s3 =
  aws_access_key_id = nested-not-a-profile-key
[profile other]
aws_access_key_id = AKIAOTHER
[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
[default]
sso_session = corp
`
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		profile string
		want    []string
	}{
		{"analytics", []string{"role_arn", "source_profile"}},
		{"other", []string{"aws_access_key_id"}},
		{"default", []string{"sso_session"}},
		{"missing", nil},
	}
	for _, tt := range tests {
		if got := AWSProfileShadows(path, tt.profile); !slices.Equal(got, tt.want) {
			t.Errorf("AWSProfileShadows(%q) = %v, want %v", tt.profile, got, tt.want)
		}
	}
	if got := AWSProfileShadows(filepath.Join(t.TempDir(), "none"), "analytics"); got != nil {
		t.Errorf("missing file: %v", got)
	}
}
