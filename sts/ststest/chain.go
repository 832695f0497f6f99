package ststest

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"
)

// chainLimit is the longest session AWS grants to role chaining.
const chainLimit = time.Hour

// assumeRole emulates sts:AssumeRole called with credentials this server
// issued (role chaining): the caller's SigV4 signature is verified, the
// target's trust (Options.ChainTrust) and external ID checked, and the
// session is capped at one hour as AWS does for chained roles.
func (s *Server) assumeRole(w http.ResponseWriter, r *http.Request, body []byte, form url.Values) {
	now := s.o.Now()
	sc, ok := s.caller(w, r, body)
	if !ok {
		return
	}
	caller, _ := s.Lookup(sc.akid)
	target, session := form.Get("RoleArn"), form.Get("RoleSessionName")
	for _, p := range []struct{ name, v string }{{"roleArn", target}, {"roleSessionName", session}} {
		if p.v == "" {
			writeError(w, &apiErr{400, "ValidationError", fmt.Sprintf("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", p.name)})
			return
		}
	}
	if !sessionNameRe().MatchString(session) {
		writeError(w, &apiErr{400, "ValidationError", fmt.Sprintf("1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*", session)})
		return
	}
	dur := defaultSession
	if v := form.Get("DurationSeconds"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || time.Duration(n)*time.Second < minSession {
			writeError(w, &apiErr{400, "ValidationError", fmt.Sprintf("Value '%s' for parameter DurationSeconds is invalid.", v)})
			return
		}
		dur = time.Duration(n) * time.Second
	}
	if dur > chainLimit {
		writeError(w, &apiErr{400, "ValidationError", "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."})
		return
	}
	if !slices.Contains(s.o.ChainTrust[target], caller.RoleARN) {
		writeError(w, &apiErr{403, "AccessDenied", fmt.Sprintf("User: %s is not authorized to perform: sts:AssumeRole on resource: %s", caller.AssumedRoleARN, target)})
		return
	}
	ext := form.Get("ExternalId")
	if want, ok := s.o.ExternalIDs[target]; ok && want != ext {
		writeError(w, &apiErr{403, "AccessDenied", fmt.Sprintf("User: %s is not authorized to perform: sts:AssumeRole on resource: %s", caller.AssumedRoleARN, target)})
		return
	}
	srcID := form.Get("SourceIdentity")
	if caller.SourceIdentity != "" {
		if srcID != "" && srcID != caller.SourceIdentity {
			writeError(w, &apiErr{400, "ValidationError", "Source identity cannot be changed once set."})
			return
		}
		srcID = caller.SourceIdentity
	}
	exp := now.Add(dur).UTC().Truncate(time.Second)
	if caller.Expiration.Before(exp) {
		exp = caller.Expiration // a chained session never outlives its source
	}
	ic := newSession(target, session, exp)
	ic.SourceRoleARN, ic.SourceIdentity, ic.ExternalID = caller.RoleARN, srcID, ext
	s.mu.Lock()
	s.issued = append(s.issued, ic)
	s.regions = append(s.regions, sc.region)
	s.mu.Unlock()
	writeXML(w, http.StatusOK, chainResponse{
		Result: chainResult{
			AssumedRoleUser: assumedRoleUser{Arn: ic.AssumedRoleARN, AssumedRoleID: ic.AssumedRoleID},
			Credentials: credentialsXML{
				AccessKeyID:     ic.AccessKeyID,
				SecretAccessKey: ic.SecretAccessKey,
				SessionToken:    ic.SessionToken,
				Expiration:      ic.Expiration.Format(time.RFC3339),
			},
			SourceIdentity: ic.SourceIdentity,
		},
		Meta: meta{RequestID: requestID()},
	})
}

// newSession mints fresh credentials for a session of role.
func newSession(role, session string, exp time.Time) IssuedCredentials {
	partition, account, roleName := splitRoleARN(role)
	return IssuedCredentials{
		AccessKeyID:     "ASIA" + randBase32(16),
		SecretAccessKey: randSecret(40),
		SessionToken:    "IQoJb3JpZ2luX2Vj" + base64.StdEncoding.EncodeToString(randBytes(600)),
		Expiration:      exp,
		RoleARN:         role,
		SessionName:     session,
		Account:         account,
		AssumedRoleARN:  fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/%s", partition, account, roleName, session),
		AssumedRoleID:   roleID(role) + ":" + session,
	}
}
