// Package arch holds no code: its test enforces the import rules of
// docs/architecture.md on the whole module.
package arch
