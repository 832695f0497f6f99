// Package secretservice reads secrets from the freedesktop Secret Service
// (gnome-keyring, KeePassXC) over a minimal hand-written D-Bus client, for
// the one warm read `credential_process` makes on every call.
//
// It exists because godbus cannot be made cheaper: it negotiates SASL in
// four round trips before BEGIN (listing mechanisms, a DATA exchange,
// NEGOTIATE_UNIX_FD), and it and the `net` package it links cost process
// start time. Here a read is three round trips on one blocking Unix
// socket:
//
//  1. AUTH EXTERNAL with the uid as initial response, BEGIN, Hello, and
//     Properties.Get(Service, "Collections"), in one write;
//  2. OpenSession("plain") and a SearchItems per query, in one write (in
//     the login collection or, where Collections lists none, the default
//     alias: where go-keyring writes);
//  3. one GetSecrets for every item found.
//
// Why the first call is Properties.Get, answered before anything else is
// sent: gnome-keyring (42.1, and its code is unchanged since) creates a
// caller's per-client state in a G_PRIORITY_HIGH idle callback that its
// D-Bus message filter schedules for every incoming message, and
// OpenSession, SearchItems and GetSecrets assert that state exists. GLib
// unlocks the main context while it checks each ready source, so a
// method-call source queued just after that idle can join the batch being
// dispatched while the idle waits for the next one: the call runs first,
// the assertion fails, and gnome-keyring (which makes criticals fatal)
// aborts with SIGTRAP; D-Bus restarts it with the login keyring locked.
// The more clients come and go at once, the likelier it is (four parallel
// readers did it within a few calls). Collections is read through the
// daemon's internal session, so it is safe as a first call, and by the
// time its answer arrives the idle has run: it was queued before the Get,
// and the iteration after the Get's batch dispatches only HIGH sources.
// go-keyring starts the same way, which is why it never hit the race.
// The reader also never hangs up with a call unanswered (but on a broken
// stream or timeout): a call still queued when the caller's
// NameOwnerChanged is handled finds its state gone the same way.
//
// Only the signatures those calls use are marshalled and parsed, and every
// byte read is checked (bounded lengths, alignment, zero padding, the
// expected signature, reply serials, and that one daemon answered every
// Secret Service call). Anything else, a D-Bus error (no such collection,
// a locked item), or a reply it does not expect is ErrUnsupported: the
// caller then takes a general client's path. Writes, unlocking and
// prompts are never done here.
package secretservice
