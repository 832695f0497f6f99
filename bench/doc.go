// Package bench holds whole-process benchmarks of saml2sts. Run them with
// ./bench/run.sh (which starts gnome-keyring for the keyring figures); the
// results go into docs/performance.md.
package bench
