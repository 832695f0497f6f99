package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/saml2sts/saml2sts/internal/credrec"
	"github.com/saml2sts/saml2sts/internal/exitcode"
)

// Error is a problem in the profiles file at a line, or in a value from an
// environment variable or flag (Path is then that name and Line is 0).
type Error struct {
	Path string
	Line int
	Key  string // the key involved, if any
	Msg  string
}

func (e *Error) Error() string {
	switch {
	case e.Line > 0:
		return fmt.Sprintf("%s:%d: %s", e.Path, e.Line, e.Msg)
	case e.Path == "":
		return e.Msg
	}
	return e.Path + ": " + e.Msg
}

// ExitCode implements the exit-status contract (internal/exitcode).
func (e *Error) ExitCode() int { return exitcode.Usage }

// NotFoundError is a profile that is neither in the file nor fully given by
// the environment or flags.
type NotFoundError struct {
	Profile, Path string
	Known         []string // the file's profiles
}

func (e *NotFoundError) Error() string {
	known := "no profiles"
	if len(e.Known) > 0 {
		known = "profiles: " + strings.Join(e.Known, ", ")
	}
	create := "saml2sts configure"
	if e.Profile != "default" {
		create += " --profile " + e.Profile
	}
	return fmt.Sprintf("profile %q not found in %s (%s); create it: %s --provider keycloak --url URL",
		e.Profile, e.Path, known, create)
}

// ExitCode implements the exit-status contract (internal/exitcode).
func (e *NotFoundError) ExitCode() int { return exitcode.Usage }

// File is a parsed, checked profiles file.
type File struct {
	path  string
	doc   *doc
	names []string       // profile names in file order
	heads map[string]int // profile name -> index of its header line
}

// Path returns the profiles file's path: $SAML2STS_CONFIG, else
// $XDG_CONFIG_HOME/saml2sts/config, else ~/.config/saml2sts/config.
// A nil getenv means os.Getenv.
// The rule is credrec's, which the warm-path helper reads with.
func Path(getenv func(string) string) string { return credrec.ConfigPath(orEnv(getenv)) }

func orEnv(getenv func(string) string) func(string) string {
	if getenv == nil {
		return os.Getenv
	}
	return getenv
}

func home(getenv func(string) string) string { return credrec.Home(getenv) }

// expandHome expands a leading ~/ as the AWS CLI does for AWS_CONFIG_FILE;
// shells leave it alone inside quotes.
func expandHome(p string, getenv func(string) string) string {
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		return filepath.Join(home(getenv), rest)
	}
	return p
}

// Load reads and checks the profiles file at path: syntax, section names,
// duplicates, key names and every value, in every section. A missing file is
// an empty File.
func Load(path string) (*File, error) {
	f := &File{path: path, doc: &doc{nl: "\n"}, heads: map[string]int{}}
	data, err := readCapped(path, MaxFileSize)
	if errors.Is(err, fs.ErrNotExist) {
		return f, nil
	}
	var big *tooBigError
	if errors.As(err, &big) {
		return nil, &Error{Path: path, Msg: fmt.Sprintf("the profiles file is over %d KiB, which no profiles file needs: is it the right file (--config, SAML2STS_CONFIG)?", MaxFileSize>>10)}
	}
	if err != nil {
		return nil, fmt.Errorf("read profiles: %w", err)
	}
	f.doc = parse(data, "=")
	if err := f.check(); err != nil {
		return nil, err
	}
	return f, nil
}

// MaxFileSize bounds the profiles file: a few hundred profiles are tens
// of KiB. ~/.aws/config, which other tools fill too, may be maxAWSFileSize.
const (
	MaxFileSize    = 1 << 20
	maxAWSFileSize = 16 << 20
)

type tooBigError struct{ max int64 }

func (e *tooBigError) Error() string { return fmt.Sprintf("larger than %d bytes", e.max) }

// readCapped reads path, refusing more than max bytes (a mistaken
// --config /dev/zero, a log file) before holding them in memory.
func readCapped(path string, max int64) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	b, err := io.ReadAll(io.LimitReader(fh, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, &tooBigError{max}
	}
	return b, nil
}

func (f *File) check() error {
	section := ""
	var seen map[string]int // key -> line, in the current section
	for i, l := range f.doc.lines {
		at := func(key, format string, args ...any) error {
			return &Error{Path: f.path, Line: i + 1, Key: key, Msg: fmt.Sprintf(format, args...)}
		}
		switch l.kind {
		case bad:
			return at("", "malformed line: want key = value, a [section] header or a # comment")
		case header:
			name, err := sectionProfile(l.name)
			if err != nil {
				return at("", "%v", err)
			}
			if h, dup := f.heads[name]; dup {
				return at("", "duplicate section [%s] (first on line %d)", l.name, h+1)
			}
			f.heads[name] = i
			f.names = append(f.names, name)
			section, seen = name, map[string]int{}
		case keyval:
			if section == "" {
				return at(l.key, "key %q is outside any section: put it under [default] or [profile NAME]", l.key)
			}
			k, ok := Lookup(l.key)
			if !ok {
				return at(l.key, "unknown key %q%s", l.key, didYouMean(l.key, keyNames()))
			}
			if first, dup := seen[l.key]; dup {
				return at(l.key, "duplicate key %q in %s (first on line %d)", l.key, sectionName(section), first)
			}
			seen[l.key] = i + 1
			if err := k.Check(l.value); err != nil {
				return at(l.key, "%s: %v", l.key, err)
			}
		}
	}
	return nil
}

// sectionProfile maps a header to its profile: [default] and
// [profile default] are "default", [profile x] is "x".
func sectionProfile(h string) (string, error) {
	if h == "default" {
		return h, nil
	}
	if h == "" {
		return "", errors.New("empty section name: want [default] or [profile NAME]")
	}
	rest, ok := strings.CutPrefix(h, "profile")
	if !ok || (rest != "" && rest[0] != ' ' && rest[0] != '\t') {
		return "", fmt.Errorf("section [%s] is not [default] or [profile NAME] (did you mean [profile %s]?)", h, h)
	}
	name := strings.TrimSpace(rest)
	if name == "" {
		return "", errors.New("section [profile] has no name: want [profile NAME]")
	}
	return name, checkName(name)
}

// headerName is the text between the brackets of profile name's header, in
// our file and in ~/.aws/config alike.
func headerName(name string) string {
	if name == "default" {
		return name
	}
	return "profile " + name
}

func sectionName(name string) string { return "[" + headerName(name) + "]" }

// CheckProfileName reports a profile name that cannot be written as a
// section header and read back as the same name.
func CheckProfileName(name string) error { return checkName(name) }

// checkName refuses profile names that could not be written back as a
// header, or read back as the same name.
func checkName(name string) error {
	if name == "" {
		return errors.New("empty profile name")
	}
	if strings.ContainsFunc(name, func(r rune) bool {
		return r <= ' ' || r == '[' || r == ']' || r == 0x7f
	}) {
		return fmt.Errorf("invalid profile name %q: no spaces, brackets or control characters", name)
	}
	return nil
}

// Path returns the file's path.
func (f *File) Path() string { return f.path }

// Profiles returns the profile names in file order.
func (f *File) Profiles() []string { return slices.Clone(f.names) }

// Has reports whether the file has a section for profile name.
func (f *File) Has(name string) bool {
	_, ok := f.heads[name]
	return ok
}

// ProfileName returns the profile to use: the --profile flag, else
// $SAML2STS_PROFILE, else "default".
func ProfileName(flag string, getenv func(string) string) string {
	return credrec.ProfileName(flag, orEnv(getenv))
}

// origin is where a value came from, for errors; layers rank precedence.
type origin struct {
	layer int
	path  string // file, environment variable or flag
	line  int
}

const (
	fromDefault = iota
	fromFile
	fromEnv
	fromFlag
)

func (o origin) err(key, msg string) *Error {
	if o.line > 0 {
		msg = key + ": " + msg // a line number alone does not name the key
	}
	return &Error{Path: o.path, Line: o.line, Key: key, Msg: msg}
}

type setting struct {
	value string
	from  origin
}

// Resolve builds profile name from the file's section, then SAML2STS_<KEY>
// environment variables, then flags (keyed by key name: "role_arn"), then
// defaults. Empty environment and flag values count as unset. It returns a
// *NotFoundError when the file has no such section and the environment and
// flags do not give both provider and url, and an *Error for a bad value.
// A nil f is an empty file; a nil getenv means os.Getenv.
func Resolve(f *File, name string, getenv func(string) string, flags map[string]string) (*Profile, error) {
	if f == nil {
		f = &File{heads: map[string]int{}}
	}
	getenv = orEnv(getenv)
	vals := map[string]setting{}
	h, inFile := f.heads[name]
	if inFile {
		for i, end := h+1, f.doc.end(h); i < end; i++ { // end once: O(n), not O(n²)
			if l := f.doc.lines[i]; l.kind == keyval {
				vals[l.key] = setting{l.value, origin{fromFile, f.path, i + 1}}
			}
		}
	}
	for _, k := range keys {
		if v := strings.TrimSpace(getenv(k.Env())); v != "" {
			vals[k.Name] = setting{v, origin{layer: fromEnv, path: k.Env()}}
		}
	}
	for key, v := range flags {
		k, ok := Lookup(key)
		if !ok {
			return nil, fmt.Errorf("resolve profile: unknown flag key %q%s", key, didYouMean(key, keyNames()))
		}
		if v = strings.TrimSpace(v); v != "" {
			vals[key] = setting{v, origin{layer: fromFlag, path: k.Flag()}}
		}
	}
	if !inFile && (vals["provider"].value == "" || vals["url"].value == "") {
		return nil, &NotFoundError{Profile: name, Path: f.path, Known: f.Profiles()}
	}
	p, err := build(name, vals)
	if err != nil {
		return nil, err
	}
	p.Source = "environment and flags"
	if inFile {
		p.Source, p.File = f.path, f.path
	}
	return p, nil
}

// build checks every value, fills in defaults and checks the keys that
// depend on each other.
func build(name string, vals map[string]setting) (*Profile, error) {
	p := &Profile{Name: name}
	for _, k := range keys {
		s, ok := vals[k.Name]
		if !ok {
			if k.Default == "" {
				continue
			}
			s = setting{value: k.Default}
			vals[k.Name] = s
		}
		if err := k.Check(s.value); err != nil {
			return nil, s.from.err(k.Name, err.Error())
		}
		k.set(p, s.value)
	}
	for _, k := range keys {
		only, s := providerOnly[k.Name], vals[k.Name]
		// An environment variable is set for every profile; only a
		// profile's own setting can be at odds with its provider.
		if only == "" || s.from.layer < fromFile || s.from.layer == fromEnv || p.Provider == "" || p.Provider == only {
			continue
		}
		return nil, s.from.err(k.Name, fmt.Sprintf("applies only to provider %s, and %s uses provider %s, which would ignore it: remove it (saml2sts configure%s %s '')",
			only, sectionName(name), p.Provider, profileFlag(name), k.Flag()))
	}
	if p.RefreshWindow >= p.Duration {
		// Blame whichever of the two was set with more precedence.
		rw, d := vals["refresh_window"], vals["duration"]
		if rw.from.layer >= d.from.layer {
			return nil, rw.from.err("refresh_window", fmt.Sprintf("%s must be shorter than duration %s: lower refresh_window or raise duration",
				fmtDuration(p.RefreshWindow), fmtDuration(p.Duration)))
		}
		dflt := ""
		if rw.from.layer == fromDefault {
			dflt = " (the default)"
		}
		return nil, d.from.err("duration", fmt.Sprintf("%s must be longer than refresh_window %s%s: raise duration or lower refresh_window",
			fmtDuration(p.Duration), fmtDuration(p.RefreshWindow), dflt))
	}
	return p, nil
}

// CheckLogin reports a missing provider or url, the keys a login needs, as
// an *Error (a configuration problem). Only configure has --provider and
// --url, so the message points there.
func (p *Profile) CheckLogin() error {
	for _, k := range []struct{ key, v, example string }{{"provider", p.Provider, "keycloak"}, {"url", p.URL, "URL"}} {
		if k.v == "" {
			kk, _ := Lookup(k.key)
			create := "saml2sts configure"
			if p.Name != "default" {
				create += " --profile " + p.Name
			}
			return &Error{Path: p.Source, Key: k.key,
				Msg: fmt.Sprintf("%s has no %s: set it with %s %s %s", sectionName(p.Name), k.key, create, kk.Flag(), k.example)}
		}
	}
	return nil
}

// profileFlag is " --profile NAME" for commands we suggest, "" for default.
func profileFlag(name string) string {
	if name == "default" {
		return ""
	}
	return " --profile " + name
}
