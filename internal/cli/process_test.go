package cli

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestInjectedEnv: an injected environment is all a run sees, children
// included, and PATH lookups search its PATH.
func TestInjectedEnv(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tool := filepath.Join(dir, "only-here")
	if err := os.WriteFile(tool, []byte("#!/bin/sh\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	e := newEnv([]string{"PATH=" + dir, "A=1", "A=2", "EMPTY="})
	if e.getenv("A") != "2" || e.getenv("HOME") != "" || e.getenv("EMPTY") != "" {
		t.Errorf("getenv: A=%q HOME=%q", e.getenv("A"), e.getenv("HOME"))
	}
	if p, err := e.lookPath("only-here"); err != nil || p != tool {
		t.Errorf("lookPath in the injected PATH: %q, %v", p, err)
	}
	if _, err := e.lookPath("sh"); err == nil {
		t.Error("lookPath found sh outside the injected PATH")
	}
	if env := newEnv([]string{}).environ(); env == nil || len(env) != 0 {
		t.Errorf("an empty injected environment must stay empty for children (nil means os.Environ): %#v", env)
	}
	if real := newEnv(nil); !real.real() || real.getenv("PATH") != os.Getenv("PATH") {
		t.Error("a nil environment is not the process's")
	}
	got := overlay([]string{"A=1", "B=2"}, map[string]string{"A": "x", "C": ""})
	slices.Sort(got)
	if want := []string{"A=x", "B=2", "C="}; !slices.Equal(got, want) {
		t.Errorf("overlay = %v, want %v", got, want)
	}
}

// environ turns vars into KEY=value lines for Process.Env.
func environ(vars map[string]string) []string {
	env := make([]string, 0, len(vars))
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	return env
}
