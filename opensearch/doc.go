// Package opensearch sends OpenSearch API calls to Amazon OpenSearch Service
// domains ("es") and OpenSearch Serverless collections ("aoss").
//
// ParseEndpoint works out the SigV4 service and region from the host.
// Client signs every attempt with SigV4 (X-Amz-Content-Sha256 always set and
// signed), retries throttling and gateway errors with jittered exponential
// backoff, and streams response bodies. Dashboards reaches the same API
// through the OpenSearch Dashboards console proxy with a SAML session
// cookie, for domains that only admit SAML users. Both implement Doer.
//
// Response.Err turns a 401/403 into an *AccessError that says which of the
// usual causes (unsigned request, expired token, signature mismatch,
// Serverless data access policy, fine-grained access control mapping, IAM
// identity policy) applies and what to change.
package opensearch
