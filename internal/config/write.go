package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/saml2sts/saml2sts/internal/atomicfile"
)

// Set writes values (keyed by key name) into profile's section of the
// profiles file at path, for `saml2sts configure`. Every value is checked
// before anything is written; a bad one is reported under its flag
// (--duration), since configure takes them from flags. An empty value
// deletes the key. Existing keys are edited in place, new ones go at the end
// of the section, a missing section is appended, and everything else stays
// byte for byte. A missing file is created 0600 in a directory created 0700.
func Set(path, profile string, values map[string]string) error {
	f, old, _, err := apply(path, profile, values)
	if err != nil || f == nil {
		return err
	}
	return write(path, old, f.doc.bytes())
}

// Preview returns profile as [Set] with values would leave it in the file
// at path (environment and flags aside), writing nothing: configure
// checks it with the provider before writing. The error is Set's.
func Preview(path, profile string, values map[string]string) (*Profile, error) {
	_, _, p, err := apply(path, profile, values)
	if p == nil && err == nil {
		p = &Profile{Name: profile}
	}
	return p, err
}

// apply checks values and applies them to the file in memory; a nil file
// means there is nothing to write.
func apply(path, profile string, values map[string]string) (*File, []byte, *Profile, error) {
	if err := checkValues(profile, values); err != nil {
		return nil, nil, nil, err
	}
	f, err := Load(path)
	if err != nil {
		return nil, nil, nil, err
	}
	old := f.doc.bytes()
	p, err := f.apply(profile, values)
	if err != nil || p == nil {
		return nil, nil, nil, err
	}
	return f, old, p, nil
}

// checkValues checks profile's name and values before anything is loaded.
func checkValues(profile string, values map[string]string) error {
	if err := checkName(profile); err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(values)) { // sorted: the same error every run
		v := values[name]
		k, ok := Lookup(name)
		if !ok {
			return fmt.Errorf("set profile %s: unknown key %q%s", profile, name, didYouMean(name, keyNames()))
		}
		if v == "" {
			continue
		}
		if err := k.Check(v); err != nil {
			return &Error{Path: k.Flag(), Key: name, Msg: err.Error()}
		}
	}
	return nil
}

// apply sets values in profile's section of f, in memory, and returns the
// profile as it will be; nil when there is nothing to write.
func (f *File) apply(profile string, values map[string]string) (*Profile, error) {
	path := f.path
	h, ok := f.heads[profile]
	if !ok {
		if !anyValue(values) {
			return nil, nil // nothing to delete, and no reason to create an empty section
		}
		h = f.doc.addSection(headerName(profile))
		f.heads[profile] = h
		f.names = append(f.names, profile)
	}
	for _, k := range keys { // table order, so new keys land in a stable order
		if v, ok := values[k.Name]; ok {
			f.doc.setKey(h, k.Name, v, func(l line) bool { return l.key == k.Name })
		}
	}
	// Duration and refresh_window depend on each other: check the section
	// as it will be, blaming the values being set.
	vals := map[string]setting{}
	for i, end := h+1, f.doc.end(h); i < end; i++ { // end once: O(n), not O(n²)
		if l := f.doc.lines[i]; l.kind == keyval {
			from := origin{fromFile, path, i + 1}
			if k, ok := Lookup(l.key); ok && values[l.key] != "" {
				from = origin{layer: fromFlag, path: k.Flag()}
			}
			vals[l.key] = setting{l.value, from}
		}
	}
	return build(profile, vals)
}

// SetMany writes several profiles into the profiles file at path in one
// atomic write, as [Set] writes one: each values map is checked first, and
// everything else in the file stays byte for byte. An error writes nothing.
func SetMany(path string, profiles []string, values []map[string]string) error {
	for i, name := range profiles {
		if err := checkValues(name, values[i]); err != nil {
			return err
		}
	}
	f, err := Load(path)
	if err != nil {
		return err
	}
	old := f.doc.bytes()
	for i, name := range profiles {
		if _, err := f.apply(name, values[i]); err != nil {
			return err
		}
		// An insert moves the lines of later sections: index them anew.
		f = &File{path: path, doc: parse(f.doc.bytes(), "="), heads: map[string]int{}}
		if err := f.check(); err != nil {
			return err
		}
	}
	return write(path, old, f.doc.bytes())
}

// Values returns the keys set in profile's section of the file, as written
// (no environment, no defaults); nil when there is no such section.
func (f *File) Values(profile string) map[string]string {
	h, ok := f.heads[profile]
	if !ok {
		return nil
	}
	m := map[string]string{}
	for i, end := h+1, f.doc.end(h); i < end; i++ {
		if l := f.doc.lines[i]; l.kind == keyval {
			m[l.key] = l.value
		}
	}
	return m
}

func anyValue(values map[string]string) bool {
	for _, v := range values {
		if v != "" {
			return true
		}
	}
	return false
}

// Delete removes profile's section, and the comment lines directly above
// its header, from the profiles file at path.
func Delete(path, profile string) error {
	f, err := Load(path)
	if err != nil {
		return err
	}
	h, ok := f.heads[profile]
	if !ok {
		return &NotFoundError{Profile: profile, Path: path, Known: f.Profiles()}
	}
	old := f.doc.bytes()
	f.doc.deleteSection(h)
	return write(path, old, f.doc.bytes())
}

// write replaces path with data unless it equals old. It follows a symlink,
// so that dotfile managers keep their link; an existing file keeps its mode,
// a new one is 0600 in a directory created 0700 (profiles name accounts and
// roles; ~/.aws/config may hold more).
func write(path string, old, data []byte) error {
	if bytes.Equal(old, data) {
		return nil
	}
	if target, err := filepath.EvalSymlinks(path); err == nil {
		path = target
	}
	mode := fs.FileMode(0o600)
	st, err := os.Stat(path)
	switch {
	case err == nil:
		mode = st.Mode().Perm()
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return fmt.Errorf("create directory: %w", err)
		}
	default:
		return fmt.Errorf("write %s: %w", path, err)
	}
	return atomicfile.Write(path, data, mode)
}
