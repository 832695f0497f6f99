// Command saml2sts turns a corporate SAML SSO login into short-lived AWS
// credentials. See internal/cli for the commands.
package main

import (
	"os"

	"github.com/saml2sts/saml2sts/internal/cli"
)

func main() { os.Exit(cli.Main()) }
