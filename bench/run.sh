#!/usr/bin/env bash
# Whole-process benchmarks: warm credential-process (file and keyring
# backends) against a Go hello-world, in one run. Starts a private D-Bus
# session with gnome-keyring for the keyring figures.
set -euo pipefail
cd "$(dirname "$0")/.."
count=${COUNT:-5}
# The documented install is a static build (no libc to load at start-up).
export CGO_ENABLED=${CGO_ENABLED:-0}
if command -v dbus-run-session >/dev/null && command -v gnome-keyring-daemon >/dev/null; then
  exec dbus-run-session -- bash -c "echo -n pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null
    go test -run '^$' -bench WarmCredentialProcess -benchtime 200x -count $count ./bench/
    go test -run '^$' -bench KeyringChurn -benchtime 1600x -count ${CHURN:-3} ./bench/"
fi
echo "gnome-keyring not installed: file backend only (apt-get install gnome-keyring dbus)" >&2
go test -run '^$' -bench WarmCredentialProcess -benchtime 200x -count "$count" ./bench/
