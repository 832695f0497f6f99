// Package config reads and writes the saml2sts profiles file and edits
// ~/.aws/config.
//
// The profiles file lives at $SAML2STS_CONFIG, else
// $XDG_CONFIG_HOME/saml2sts/config, else ~/.config/saml2sts/config. It is INI
// shaped like ~/.aws/config:
//
//	# work account
//	[default]
//	provider = keycloak
//	url      = https://sso.example.com/realms/corp/protocol/saml/clients/aws
//
//	[profile prod]
//	provider = keycloak
//	url      = https://sso.example.com/realms/corp/protocol/saml/clients/aws
//	role_arn = arn:aws:iam::123456789012:role/Admin
//
// Sections do not inherit from each other. Whole-line comments start with #
// or ;. A # inside a value is part of the value (URLs have fragments and
// password commands have shell syntax). Every problem is reported with its
// file and line; see [Error].
//
// A resolved [Profile] takes each key from, in increasing precedence, its
// default, the file, the environment (SAML2STS_<KEY>) and the command line.
// The keys themselves are listed once, in [Keys].
//
// Edits ([Set], [Delete], [SetAWSProfile]) go through a line-oriented model
// that rewrites only the lines they touch, so comments, blank lines and the
// order of everything else survive byte for byte, and they replace the file
// atomically.
package config
