package sts

import (
	"strings"

	"github.com/beevik/etree"
)

// Addressees returns whom a base64 SAMLResponse is addressed to:
// Response@Destination and every SubjectConfirmationData@Recipient,
// trimmed, empty ones left out, in document order. Unlike ParseResponse it
// needs no AWS role: it is for assertions meant for other apps (OpenSearch
// Dashboards), which must be sent nowhere but there. The signature is not
// checked; the receiving service does that.
func Addressees(b64 string) ([]string, error) {
	if len(b64) > MaxResponseSize {
		return nil, &AssertionError{Reason: "it is larger than 1 MiB, which no login response is"}
	}
	data, err := decodeResponse(b64)
	if err != nil {
		return nil, err
	}
	if hasDTD(data) {
		return nil, &AssertionError{Reason: "it contains a DOCTYPE or ENTITY declaration, which SAML forbids: refusing to parse it"}
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(data); err != nil || doc.Root() == nil {
		return nil, &AssertionError{Reason: "it is not XML"}
	}
	var out []string
	add := func(v string) {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	root := doc.Root()
	add(root.SelectAttrValue("Destination", ""))
	for _, scd := range findAll(root, "SubjectConfirmationData") {
		add(scd.SelectAttrValue("Recipient", ""))
	}
	return out, nil
}

// IsSignin reports whether u is an AWS sign-in SAML endpoint
// (https://signin.aws.amazon.com/saml, a regional one, GovCloud or China):
// an assertion addressed there is exchangeable at STS by whoever holds it.
func IsSignin(u string) bool {
	_, p := signinRegion(u)
	return p != ""
}
