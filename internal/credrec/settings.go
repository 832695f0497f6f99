package credrec

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Settings are what the warm path needs of one profile: whose credentials
// (the identity keys and role_arn), where they are cached, and how early
// they are renewed. Defaults are filled in as internal/config does.
type Settings struct {
	Name, Path                                  string
	Provider, URL, Username, RoleARN, Principal string
	ChainRoleARN                                string
	Cache                                       string        // auto | keyring | file
	RefreshWindow, Duration                     time.Duration // defaults 15m, 1h
}

// Want is what s asks of a cached record.
func (s *Settings) Want() Want {
	return Want{Identity: Identity(s.Provider, s.URL, s.Username, s.Principal), RoleARN: s.RoleARN, Window: s.RefreshWindow, Chain: s.ChainRoleARN}
}

// ErrUnsure is a profile the minimal reader cannot resolve exactly as
// internal/config would (a syntax or value error, a setting from the
// environment, a profile given without a file section): the caller leaves
// it to the full binary, which reports it in its own words.
var ErrUnsure = errors.New("profile needs the full reader")

// ConfigPath is the profiles file: $SAML2STS_CONFIG, else
// $XDG_CONFIG_HOME/saml2sts/config, else ~/.config/saml2sts/config (as
// config.Path, which calls this).
func ConfigPath(getenv func(string) string) string {
	if p := getenv("SAML2STS_CONFIG"); p != "" {
		if rest, ok := strings.CutPrefix(p, "~/"); ok {
			return filepath.Join(Home(getenv), rest)
		}
		return p
	}
	// The XDG spec says to ignore a relative XDG_CONFIG_HOME.
	if x := getenv("XDG_CONFIG_HOME"); filepath.IsAbs(x) {
		return filepath.Join(x, "saml2sts", "config")
	}
	return filepath.Join(Home(getenv), ".config", "saml2sts", "config")
}

// Home is $HOME (on Windows also %USERPROFILE%), else the OS's answer.
func Home(getenv func(string) string) string {
	h := getenv("HOME")
	if h == "" && runtime.GOOS == "windows" {
		h = getenv("USERPROFILE")
	}
	if h == "" {
		h, _ = os.UserHomeDir()
	}
	return h
}

// ProfileName is the --profile flag, else $SAML2STS_PROFILE, else
// "default" (as config.ProfileName).
func ProfileName(flag string, getenv func(string) string) string {
	if flag != "" {
		return flag
	}
	if p := getenv("SAML2STS_PROFILE"); p != "" {
		return p
	}
	return "default"
}

// maxConfig is config.MaxFileSize.
const maxConfig = 1 << 20

// ReadSettings resolves profile name from the profiles file at path. It
// checks the file's syntax, sections and duplicates, and the values it
// uses, as internal/config does; anything it cannot decide exactly as
// internal/config would is ErrUnsure. Of the environment's SAML2STS_<KEY>
// overrides it applies SAML2STS_CACHE; the others are the caller's to
// refuse (see Overridden).
func ReadSettings(path, name string, getenv func(string) string) (*Settings, error) {
	data, err := readCapped(path)
	if err != nil {
		return nil, err
	}
	s := string(data)
	s = strings.TrimPrefix(s, "\ufeff")
	vals := map[string]string{}
	var section string
	seen := map[string]bool{} // sections
	var keys map[string]bool  // keys of the current section
	for s != "" {
		raw := s
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			raw, s = s[:i], s[i+1:]
			raw = strings.TrimSuffix(raw, "\r")
		} else {
			s = ""
		}
		t := strings.TrimSpace(raw)
		switch {
		case t == "" || t[0] == '#' || t[0] == ';':
		case t[0] == '[':
			end := strings.IndexByte(t, ']')
			if end < 0 {
				return nil, ErrUnsure
			}
			if rest := strings.TrimSpace(t[end+1:]); rest != "" && rest[0] != '#' && rest[0] != ';' {
				return nil, ErrUnsure
			}
			p, ok := sectionProfile(strings.TrimSpace(t[1:end]))
			if !ok || seen[p] {
				return nil, ErrUnsure
			}
			seen[p], section, keys = true, p, map[string]bool{}
		default:
			i := strings.IndexByte(raw, '=')
			if i < 0 || section == "" {
				return nil, ErrUnsure
			}
			k, v := strings.TrimSpace(raw[:i]), strings.TrimSpace(raw[i+1:])
			if k == "" || v == "" || keys[k] || !keyName(k) {
				return nil, ErrUnsure
			}
			keys[k] = true
			if section == name {
				vals[k] = v
			}
		}
	}
	if !seen[name] {
		return nil, ErrUnsure // environment and flags alone, or not found
	}
	st := &Settings{Name: name, Path: path,
		Provider: vals["provider"], URL: vals["url"], Username: vals["username"],
		RoleARN: vals["role_arn"], Principal: vals["principal_arn"], ChainRoleARN: vals["chain_role_arn"],
		Cache: or(strings.TrimSpace(getenv("SAML2STS_CACHE")), or(vals["cache"], "auto"))}
	switch st.Cache {
	case "auto", "keyring", "file":
	default:
		return nil, ErrUnsure
	}
	var ok1, ok2 bool
	st.RefreshWindow, ok1 = parseDuration(or(vals["refresh_window"], "15m"))
	st.Duration, ok2 = parseDuration(or(vals["duration"], "1h"))
	if !ok1 || !ok2 || st.Duration < 15*time.Minute || st.Duration > 12*time.Hour || st.RefreshWindow >= st.Duration {
		return nil, ErrUnsure
	}
	return st, nil
}

// Overridden reports whether environ sets a profile key through
// SAML2STS_<KEY> (or asks for --debug): such values are checked, and
// merged, only by the full reader.
func Overridden(environ []string) bool {
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		rest, ok := strings.CutPrefix(k, "SAML2STS_")
		if !ok || strings.TrimSpace(v) == "" {
			continue
		}
		switch rest {
		case "PROFILE", "CONFIG", "CACHE", "CACHE_DIR", "NO_INPUT":
			continue
		}
		return true
	}
	return false
}

func or(v, dflt string) string {
	if v == "" {
		return dflt
	}
	return v
}

// keyName is the spelling of every profile key: snake_case.
func keyName(k string) bool {
	for i, r := range k {
		if !(r >= 'a' && r <= 'z' || i > 0 && (r >= '0' && r <= '9' || r == '_')) {
			return false
		}
	}
	return k != ""
}

// sectionProfile maps [default], [profile default] and [profile x].
func sectionProfile(h string) (string, bool) {
	if h == "default" {
		return h, true
	}
	rest, ok := strings.CutPrefix(h, "profile")
	if !ok || rest == "" || rest[0] != ' ' && rest[0] != '\t' {
		return "", false
	}
	name := strings.TrimSpace(rest)
	if name == "" || strings.ContainsFunc(name, func(r rune) bool { return r <= ' ' || r == '[' || r == ']' || r == 0x7f }) {
		return "", false
	}
	return name, true
}

// parseDuration is config.ParseDuration: Go syntax or plain seconds.
func parseDuration(s string) (time.Duration, bool) {
	if strings.Trim(s, "0123456789") == "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n > int64(1<<63-1)/int64(time.Second) {
			return 0, false
		}
		return time.Duration(n) * time.Second, true
	}
	d, err := time.ParseDuration(s)
	return d, err == nil && d >= 0
}

func readCapped(path string) ([]byte, error) {
	fh, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrUnsure // no file: the profile is not found
	}
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	b, err := io.ReadAll(io.LimitReader(fh, maxConfig+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxConfig {
		return nil, fmt.Errorf("%w: over %d bytes", ErrUnsure, maxConfig)
	}
	return b, nil
}
