// Package opensearchtest is an in-process Amazon OpenSearch Service emulator
// for tests, benchmarks and the demo, in the spirit of net/http/httptest: a
// loopback server that behaves like a managed domain (signing name "es",
// OpenSearch 2.13, OpenSearch 1.3 or Elasticsearch 7.10) or a Serverless
// collection ("aoss") closely enough that a client which works against it
// works against AWS.
//
//	srv, _ := opensearchtest.New(opensearchtest.Options{Verify: verify})
//	defer srv.Close()
//	srv.Synthetic("logs-2024", 1_000_000)
//	srv.AddDocs("cats", json.RawMessage(`{"name":"Tom"}`))
//
// # Signatures and denials
//
// With Options.Verify set (wire it to (*ststest.Server).Verify, which
// recomputes SigV4 with the issued secret), every API call is checked the
// way the AWS front end does and a refusal carries AWS's status and body:
//
//   - es: unsigned {"Message":"User: anonymous is not authorized to perform:
//     es:ESHttpGet"}; {"message":...} for an invalid or expired security
//     token, a malformed Authorization header, clock skew, a region or
//     service other than the domain's ("Credential should be scoped to a
//     valid region, not 'us-east-1'. "), and a signature mismatch, which
//     includes the canonical request and string to sign the server
//     computed (they contain the session token, as AWS's do: redact before
//     logging).
//   - aoss: {"status":403,"request-id":...,"error":{...}} with
//     x-aoss-response-hint: X01:gw-helper-deny for an unsigned request, a
//     missing X-Amz-Content-Sha256 and a data access policy denial;
//     "Customer authentication failed: ResultDetail: { Code=..., }" for
//     signature and token failures (no canonical request, as AWS).
//   - Options.Allow refusing a verified caller: the aoss policy denial, the
//     FGAC security_exception naming the role ARN with backend_roles=[]
//     (Options.FGAC), else the es IAM denial "User: <arn> is not authorized
//     to perform: es:ESHttpPost on resource: ...".
//
// Bodies marked unverified in the anchors document (aoss token and scope
// errors, aoss unsigned) use the documented envelope with AWS's message.
//
// # API
//
// _search (match_all, match, match_phrase, term, terms, range, exists,
// ids, prefix, wildcard, bool, query_string with fields, AND/OR/NOT, +/-,
// groups, phrases, wildcards, ranges and _exists_; q= and df=), from/size
// with the 10000-hit result window, sort (fields, _doc, _shard_doc, _score,
// _id; dates sort as epoch millis) and search_after compared exactly (int64
// beyond 2^53 never goes through float64), _source filtering (list,
// includes/excludes, wildcards, _source_includes), track_total_hits and
// rest_total_hits_as_int. Point in time (POST /{index}/_search/point_in_time,
// DELETE /_search/point_in_time and /_all) on OpenSearch 2.x and aoss; on
// OpenSearch 1.3 and Elasticsearch 7.10 it is the "no handler found" 400
// they answer. Scroll (?scroll=, POST/GET /_search/scroll with the id in the
// body, query or path, DELETE by id or _all) except on aoss, which answers
// 404. slice{id,max} for both partitions every index by position (p mod
// max), so slices are disjoint and complete. Contexts expire after their
// keep_alive (Options.Now). _count, _bulk (index, create, delete; aoss
// refuses refresh=true and PUT), _cat/indices (text with v and h, or
// format=json), /{index}/_doc/{id}, GET /. Index expressions take ',', '*'
// and any percent-encoded name (spaces, ':', non-ASCII), decoded like
// OpenSearch. Responses keep OpenSearch's field order and error envelopes.
//
// # Memory and concurrency
//
// Synthetic indexes compute document i from i (see Synthetic, SyntheticID,
// SyntheticLevel, SeqBase): no memory whatever their size. Sorting them by
// _doc or _shard_doc, or a single synthetic index by seq or @timestamp
// (monotonic in i), seeks straight to the search_after position. Any other
// sort materialises the matching positions and is refused with a 400 above
// MaxSortDocs documents. Searches run on immutable snapshots outside the
// server lock, so sliced exports are served in parallel; writes copy on
// delete so open PITs keep their view.
//
// # Faults
//
// Faults.Rate answers a seeded fraction of data calls (search, scroll,
// count, bulk, PIT creation; never context deletes) with 429, 502, 503 and
// 504 in turn, 429 and 503 with Retry-After. Faults.ResetAt cuts the
// response of the given search calls (1-based Stats.SearchCalls numbers)
// after half of the body with a TCP reset. Faults do not apply through the
// Dashboards console proxy.
//
// # Dashboards
//
// With Options.Dashboards the server also plays OpenSearch Dashboards (or
// Kibana under /_plugin/kibana) behind SAML. The IdP-initiated ACS
// (ACSURL) verifies the posted SAMLResponse signature against IdPCert,
// Destination and Recipient, Audience, validity and the absence of
// InResponseTo, then answers 302 with security_authentication and, on
// OpenSearch 2.x, the security_authentication_saml1..2 cookies; any failure
// is the plugin's bare 500. The console proxy (POST
// <path>/api/console/proxy?path=&method=) needs osd-xsrf (kbn-xsrf) or the
// version header, every cookie of a live session (401 otherwise), forwards
// to the emulated cluster as the SAML subject (Allow and FGAC apply) and
// pretty-prints JSON like pretty=true.
//
// Stats counts requests, signatures, rejections by reason, faults, search
// calls, logins, and PIT and scroll contexts so tests can assert every
// context was deleted (OpenContexts).
package opensearchtest
