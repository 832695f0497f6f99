package cli

import (
	"errors"
	"slices"
	"testing"
)

func TestBrowserCommand(t *testing.T) {
	t.Parallel()
	found := func(string) (string, error) { return "/usr/bin/xdg-open", nil }
	missing := func(string) (string, error) { return "", errors.New("not found") }
	tests := []struct {
		goos string
		env  map[string]string
		look func(string) (string, error)
		want []string
	}{
		{"darwin", nil, missing, []string{"open"}},
		{"windows", nil, missing, []string{"rundll32", "url.dll,FileProtocolHandler"}},
		{"linux", nil, found, nil},
		{"linux", map[string]string{"DISPLAY": ":0"}, found, []string{"/usr/bin/xdg-open"}},
		{"linux", map[string]string{"WAYLAND_DISPLAY": "wayland-0"}, found, []string{"/usr/bin/xdg-open"}},
		{"freebsd", map[string]string{"DISPLAY": ":0"}, missing, nil},
	}
	for _, tt := range tests {
		got := browserCommand(tt.goos, func(k string) string { return tt.env[k] }, tt.look)
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s %v: %q, want %q", tt.goos, tt.env, got, tt.want)
		}
	}
}

func TestCheckDestination(t *testing.T) {
	t.Parallel()
	for d, ok := range map[string]bool{
		"": true, "/s3/home": true, "s3/home?region=eu-west-1": true, "/ec2/home#Instances:": true,
		"https://console.aws.amazon.com/iam/home#/roles": true,
		"http://console.aws.amazon.com/":                 false,
		"https:///nohost":                                false,
		"//evil.example.com/x":                           false,
		"javascript:alert(1)":                            false,
	} {
		if err := checkDestination(d); (err == nil) != ok {
			t.Errorf("checkDestination(%q) = %v, want ok=%v", d, err, ok)
		}
	}
}
