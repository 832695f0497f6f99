package sts_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/saml2sts/saml2sts/sts"
	"github.com/saml2sts/saml2sts/sts/ststest"
)

const chainTarget = "arn:aws:iam::999988887777:role/Analyst"

func TestAssumeRoleChain(t *testing.T) {
	e := newEnv(t, ststest.Options{
		ChainTrust:  map[string][]string{chainTarget: {roleARN}},
		ExternalIDs: map[string]string{chainTarget: "ext-1"},
	})
	ctx := context.Background()
	saml, err := e.c.AssumeRoleWithSAML(ctx, e.assertion(t, ststest.Response{}), sts.Role{RoleARN: roleARN}, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		chain    sts.Chain
		d        time.Duration
		code     string
		hint     string
		notice   string
		session  string
		wantDur  time.Duration
		sourceID string
	}{
		{name: "ok", chain: sts.Chain{RoleARN: chainTarget, ExternalID: "ext-1"}, session: "alice@example.com", wantDur: 0},
		{name: "capped", chain: sts.Chain{RoleARN: chainTarget, ExternalID: "ext-1", SessionName: "bob", SourceIdentity: "alice"}, d: 8 * time.Hour,
			notice: "AWS limits Analyst to 1h sessions", session: "bob", wantDur: time.Hour, sourceID: "alice"},
		{name: "external id missing", chain: sts.Chain{RoleARN: chainTarget}, code: "AccessDenied", hint: "set chain_external_id"},
		{name: "not trusted", chain: sts.Chain{RoleARN: "arn:aws:iam::999988887777:role/Other"}, code: "AccessDenied",
			hint: "must allow sts:AssumeRole for " + roleARN},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := e.c.AssumeRole(ctx, saml.Credentials, saml.AssumedRoleARN, tc.chain, tc.d)
			if tc.code != "" {
				var se *sts.Error
				if !errors.As(err, &se) || se.Code != tc.code || !strings.Contains(se.Hint, tc.hint) || se.ExitCode() != 5 {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(res.Notice, tc.notice) || (tc.notice == "") != (res.Notice == "") || res.Duration != tc.wantDur {
				t.Errorf("notice %q duration %s", res.Notice, res.Duration)
			}
			ic, ok := e.srv.Lookup(res.Credentials.AccessKeyID)
			if !ok || ic.RoleARN != chainTarget || ic.SourceRoleARN != roleARN || ic.SessionName != tc.session || ic.SourceIdentity != tc.sourceID {
				t.Fatalf("issued %+v", ic)
			}
			if res.AssumedRoleARN != ic.AssumedRoleARN || res.Credentials.Expiration.After(saml.Credentials.Expiration) {
				t.Errorf("result %s exp %s", res.AssumedRoleARN, res.Credentials.Expiration)
			}
		})
	}
	// A signature made with a wrong secret is refused before any trust check.
	bad := saml.Credentials
	bad.SecretAccessKey = strings.Repeat("x", 40)
	// A fresh client: the SDK signer caches derived keys by access key ID.
	fresh, err := sts.NewClient(ctx, sts.ClientOptions{Region: "us-east-1", Endpoint: e.srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = fresh.AssumeRole(ctx, bad, saml.AssumedRoleARN, sts.Chain{RoleARN: chainTarget, ExternalID: "ext-1"}, 0)
	var se *sts.Error
	if !errors.As(err, &se) || se.Code != "SignatureDoesNotMatch" {
		t.Fatalf("bad signature: %v", err)
	}
}

func TestChainSessionName(t *testing.T) {
	for in, want := range map[string]string{
		"arn:aws:sts::123456789012:assumed-role/R/alice@example.com": "alice@example.com",
		"arn:aws:sts::123456789012:assumed-role/R/a b":               "saml2sts",
		"": "saml2sts",
	} {
		if got := sts.ChainSessionName(in); got != want {
			t.Errorf("%q: %q", in, got)
		}
	}
}

func TestAccountNamesEmulator(t *testing.T) {
	for _, page := range []ststest.Chooser{ststest.ChooserLegacy, ststest.ChooserNextJS} {
		e := newEnv(t, ststest.Options{ChooserPage: page, AccountNames: map[string]string{"123456789012": "prod-search"}})
		a := e.assertion(t, ststest.Response{})
		names, err := sts.AccountNames(context.Background(), nil, a, e.srv.SigninURL())
		if err != nil || names["123456789012"] != "prod-search" || len(names) != 1 {
			t.Fatalf("page %d: %v %v", page, names, err)
		}
	}
	e := newEnv(t, ststest.Options{ChooserPage: ststest.ChooserBroken})
	if _, err := sts.AccountNames(context.Background(), nil, e.assertion(t, ststest.Response{}), e.srv.SigninURL()); err == nil {
		t.Fatal("broken page: no error")
	}
}
