// Package atomicfile writes files so that readers see either the old or the
// new content, never a half-written file.
package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// StaleAge is how old a temporary file must be before a later write of the
// same file removes it: a write takes milliseconds, so an older one was
// left by a writer that was killed (kill -9, power loss) and may hold a
// secret nobody would ever delete.
const StaleAge = time.Minute

// Write replaces path with data: a temporary file in the same directory is
// written, synced, given perm, and renamed over path. The directory must exist.
func Write(path string, data []byte, perm os.FileMode) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	name := tmp.Name()
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(name)
		}
	}()
	if err := tmp.Chmod(perm); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(name, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	ok = true
	RemoveTemps(path, StaleAge)
	return nil
}

// RemoveTemps removes the temporary files Write leaves for path when it is
// killed mid-write, those older than age (0: all; only when no other
// writer of path can be running, e.g. under its lock).
func RemoveTemps(path string, age time.Duration) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	prefix := "." + base + ".tmp-"
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), prefix) {
			continue
		}
		if fi, err := e.Info(); err == nil && (age == 0 || time.Since(fi.ModTime()) > age) {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}
