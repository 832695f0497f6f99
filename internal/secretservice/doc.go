// Package secretservice reads secrets from the freedesktop Secret Service
// (gnome-keyring, KeePassXC) over a minimal hand-written D-Bus client, for
// the one warm read `credential_process` makes on every call.
//
// It exists because godbus cannot be made cheaper: it negotiates SASL in
// four round trips before BEGIN (listing mechanisms, a DATA exchange,
// NEGOTIATE_UNIX_FD), and it and the `net` package it links cost process
// start time. Here the exchange is four round trips on one blocking Unix
// socket, in the order general clients use (see exchange for why no more
// is pipelined):
//
//  1. AUTH EXTERNAL with the uid as initial response;
//  2. BEGIN and Hello, which the bus answers itself;
//  3. OpenSession("plain") and a SearchItems per query, in one write;
//  4. one GetSecrets for every item found.
//
// Only the signatures those calls use are marshalled and parsed, and every
// byte read is checked (bounded lengths, alignment, zero padding, the
// expected signature, reply serials, and that one daemon answered every Secret Service call). Anything else, a D-Bus
// error (no such collection, a locked item), or a reply it does not expect
// is ErrUnsupported: the caller then takes a general client's path.
// Writes, unlocking and prompts are never done here.
package secretservice
