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
//
// Search sends one Query (query string, DSL or both, with size, sort and
// _source fields) and returns the raw response; WriteHits streams its hits
// to a HitWriter. Export pages through every hit with a point in time and
// search_after, or a scroll where there is no point in time, optionally in
// parallel slices, writing each hit exactly once even when a page must be
// fetched again after a broken connection, and deletes its contexts at the
// end and on cancellation. Sort values stay raw JSON bytes, so int64 and
// dates never round through float64. NewHitWriter writes hits in one of
// Formats: json, ndjson (optionally with _index and _id), csv (dotted paths
// reach nested fields) or table (fitted to a width). Progress draws the
// hit count and rate on a terminal.
package opensearch
