package ecsserver

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
)

// TestGoSDKDefaultChain: the Go SDK v2's default chain, given only the two
// variables exec --ecs-server sets, finds and parses our credentials (and
// our error shape).
func TestGoSDKDefaultChain(t *testing.T) {
	exp := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	want := creds(4, exp)
	s, err := New(func(context.Context, time.Duration) (Answer, error) {
		return Answer{Credentials: want, RoleARN: role}, nil
	},
		WithAnswer(Answer{Credentials: want, RoleARN: role}))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_CONFIG_FILE":                        filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE":            filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED":              "true",
		"AWS_REGION":                             "eu-west-1",
		"AWS_PROFILE":                            "",
		"AWS_ACCESS_KEY_ID":                      "",
		"AWS_SECRET_ACCESS_KEY":                  "",
		"AWS_SESSION_TOKEN":                      "",
		"AWS_WEB_IDENTITY_TOKEN_FILE":            "",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "",
		"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": "",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI":     s.URL(),
		"AWS_CONTAINER_AUTHORIZATION_TOKEN":      s.Token(),
	} {
		t.Setenv(k, v)
	}
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		t.Fatalf("Retrieve: %v", err)
	}
	if got.AccessKeyID != want.AccessKeyID || got.SecretAccessKey != want.SecretAccessKey ||
		got.SessionToken != want.SessionToken || !got.CanExpire {
		t.Errorf("SDK got %+v", got)
	}
	// The SDK's cache reports expiry 5 minutes early: that is when it asks
	// again (docs/credentials.md relies on this).
	if early := exp.Sub(got.Expires); early != 5*time.Minute {
		t.Errorf("SDK expiry %s is %s before ours, want 5m", got.Expires, early)
	}
	if got.AccountID != "123456789012" {
		t.Errorf("AccountID = %q", got.AccountID)
	}

	t.Setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "wrong")
	cfg, err = config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = cfg.Credentials.Retrieve(ctx)
	if err == nil || !strings.Contains(err.Error(), "wrong authorization token") {
		t.Errorf("wrong token: the SDK error should carry our message: %v", err)
	}
}
