package browser

import (
	"os"
	"os/exec"
	"path/filepath"

	"github.com/saml2sts/saml2sts/idp"
)

// pathNames are the browser executables looked up on PATH, in order.
var pathNames = []string{"google-chrome", "google-chrome-stable", "chromium", "chromium-browser", "microsoft-edge", "microsoft-edge-stable", "brave-browser"}

// installPaths are the standard install places per GOOS. Windows entries
// start with the environment variable of their base directory.
var installPaths = map[string][]string{
	"darwin": {
		"/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
		"/Applications/Chromium.app/Contents/MacOS/Chromium",
		"/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge",
		"/Applications/Brave Browser.app/Contents/MacOS/Brave Browser",
		"~/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
		"~/Applications/Chromium.app/Contents/MacOS/Chromium",
	},
	"windows": {
		`%ProgramFiles%\Google\Chrome\Application\chrome.exe`,
		`%ProgramFiles(x86)%\Google\Chrome\Application\chrome.exe`,
		`%LocalAppData%\Google\Chrome\Application\chrome.exe`,
		`%ProgramFiles(x86)%\Microsoft\Edge\Application\msedge.exe`,
		`%ProgramFiles%\Microsoft\Edge\Application\msedge.exe`,
		`%ProgramFiles%\BraveSoftware\Brave-Browser\Application\brave.exe`,
		`%LocalAppData%\BraveSoftware\Brave-Browser\Application\brave.exe`,
		`%LocalAppData%\Chromium\Application\chrome.exe`,
	},
}

// system is what discovery asks of the machine; tests replace it.
type system struct {
	goos     string
	getenv   func(string) string
	lookPath func(string) (string, error)
	isFile   func(string) bool
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// find returns the browser to run: configured (browser_path or
// SAML2STS_BROWSER, a path or a name on PATH), else the first known name
// on PATH, else the first standard install place that exists.
func (s system) find(configured string) (string, error) {
	if configured != "" {
		if p, err := s.lookPath(configured); err == nil {
			return p, nil
		}
		if s.isFile(configured) {
			return configured, nil
		}
		return "", idp.Configf("browser: browser_path %q is not an executable file: set browser_path (or SAML2STS_BROWSER) to the full path of Chrome, Chromium, Edge or Brave", configured)
	}
	for _, n := range pathNames {
		if p, err := s.lookPath(n); err == nil {
			return p, nil
		}
	}
	for _, p := range installPaths[s.goos] {
		if p = s.expand(p); p != "" && s.isFile(p) {
			return p, nil
		}
	}
	return "", idp.Configf("browser: no Chrome, Chromium, Edge or Brave found (looked for %s on PATH%s): install one (Debian/Ubuntu: apt-get install chromium) "+
		"or set browser_path (or SAML2STS_BROWSER) to its executable", joinNames(), map[bool]string{true: " and in the standard install places", false: ""}[len(installPaths[s.goos]) > 0])
}

// expand resolves ~/ and %VAR% prefixes; "" when the variable is unset.
func (s system) expand(p string) string {
	if len(p) > 2 && p[:2] == "~/" {
		h := s.getenv("HOME")
		if h == "" {
			return ""
		}
		return filepath.Join(h, p[2:])
	}
	if len(p) > 0 && p[0] == '%' {
		end := 1
		for end < len(p) && p[end] != '%' {
			end++
		}
		if end == len(p) {
			return ""
		}
		base := s.getenv(p[1:end])
		if base == "" {
			return ""
		}
		return base + p[end+1:]
	}
	return p
}

func joinNames() string {
	s := ""
	for i, n := range pathNames {
		if i > 0 {
			s += ", "
		}
		s += n
	}
	return s
}

// hasDisplay reports whether a window can be shown: always on macOS and
// Windows, with DISPLAY or WAYLAND_DISPLAY elsewhere.
func (s system) hasDisplay() bool {
	switch s.goos {
	case "darwin", "windows":
		return true
	}
	return s.getenv("DISPLAY") != "" || s.getenv("WAYLAND_DISPLAY") != ""
}

// hostSystem is the running machine, with getenv as its environment.
func hostSystem(goos string, getenv func(string) string) system {
	return system{goos: goos, getenv: getenv, lookPath: exec.LookPath, isFile: isFile}
}
