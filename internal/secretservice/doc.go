// Package secretservice reads secrets from the freedesktop Secret Service
// (gnome-keyring, KeePassXC) over a minimal hand-written D-Bus client, for
// the one warm read `credential_process` makes on every call.
//
// It exists because a general client cannot pipeline: godbus negotiates
// SASL in four round trips before BEGIN, and its package init and
// the `net` package it links cost about a millisecond of process start.
// Here the whole exchange is three round trips on one blocking Unix socket:
//
//  1. one write of the SASL EXTERNAL handshake (with BEGIN) and Hello,
//     which the bus answers itself (see exchange for why Hello is not
//     pipelined with the rest);
//  2. one write of GetNameOwner, OpenSession("plain") and a SearchItems
//     per query;
//  3. one GetSecrets for every item found.
//
// Only the signatures those calls use are marshalled and parsed, and every
// byte read is checked (bounded lengths, alignment, zero padding, the
// expected signature, reply serials and senders). Anything else, a D-Bus
// error (no such collection, a locked item), or a reply it does not expect
// is ErrUnsupported: the caller then takes a general client's path.
// Writes, unlocking and prompts are never done here.
package secretservice
