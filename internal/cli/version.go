package cli

import (
	"runtime/debug"
	"strings"
)

// Version is set at build time with -ldflags "-X .../internal/cli.Version=v1.2.3"
// (the release build does); otherwise it comes from the build info.
var Version = ""

// version is what --version prints: the ldflags version, else the module
// version `go install ...@vX` records, else "dev", followed by the VCS
// revision the binary was built from when the toolchain recorded it.
func version() string {
	bi, _ := debug.ReadBuildInfo()
	return versionFrom(Version, bi)
}

func versionFrom(ldflags string, bi *debug.BuildInfo) string {
	v := ldflags
	if v == "" && bi != nil && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v = bi.Main.Version
	}
	if v == "" {
		v = "dev"
	}
	if bi == nil {
		return v
	}
	var rev, when string
	dirty := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	var extra []string
	if rev != "" && !strings.Contains(v, shortRev(rev)) {
		extra = append(extra, shortRev(rev))
	}
	if when != "" {
		extra = append(extra, when)
	}
	if dirty {
		extra = append(extra, "modified")
	}
	if bi.GoVersion != "" {
		extra = append(extra, bi.GoVersion)
	}
	if len(extra) > 0 {
		v += " (" + strings.Join(extra, ", ") + ")"
	}
	return v
}

// shortRev is the 12-character form pseudo-versions use.
func shortRev(r string) string {
	if len(r) > 12 {
		return r[:12]
	}
	return r
}
