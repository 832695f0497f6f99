// Package cli is the saml2sts command line: one file per command, each
// turning flags into an options struct and handing it to a run function.
// Business logic lives in internal/broker and below; this package only wires
// dependencies, prints, and maps errors to exit codes.
package cli
