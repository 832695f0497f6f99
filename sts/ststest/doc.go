// Package ststest is an in-process AWS STS emulator for tests and the demo,
// in the spirit of net/http/httptest: a loopback server speaking the STS
// Query API (AssumeRoleWithSAML with XML signature checks, GetCallerIdentity
// with SigV4 checks) with AWS's response and error shapes, plus an IdP that
// signs SAMLResponses for it and a SigV4 verifier other emulators can share.
//
// Point the AWS SDKs or CLI at it with AWS_ENDPOINT_URL_STS=<Server.URL>.
package ststest
