package cli

import (
	"runtime/debug"
	"testing"
)

func TestVersionFrom(t *testing.T) {
	vcs := []debug.BuildSetting{
		{Key: "vcs.revision", Value: "b238bf9c0ffee1234567890abcdef01234567890"},
		{Key: "vcs.time", Value: "2026-12-03T15:21:00Z"},
		{Key: "vcs.modified", Value: "true"},
	}
	tests := []struct {
		name    string
		ldflags string
		bi      *debug.BuildInfo
		want    string
	}{
		{"no build info", "", nil, "dev"},
		{"ldflags win", "v1.4.0", &debug.BuildInfo{Main: debug.Module{Version: "v1.3.0"}}, "v1.4.0"},
		{"go install @v1.3.0", "", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.3.0"}}, "v1.3.0 (go1.26.8)"},
		{"local build with vcs", "", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: vcs},
			"dev (b238bf9c0ffe, 2026-12-03T15:21:00Z, modified, go1.26.8)"},
		{"pseudo-version keeps its own revision", "", &debug.BuildInfo{
			Main:     debug.Module{Version: "v0.0.0-20261203152100-b238bf9c0ffe"},
			Settings: vcs[:1]}, "v0.0.0-20261203152100-b238bf9c0ffe"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := versionFrom(tt.ldflags, tt.bi); got != tt.want {
				t.Errorf("versionFrom = %q, want %q", got, tt.want)
			}
		})
	}
}
