package x509ext

import (
	"context"
	"crypto/x509/pkix"
	"errors"
	"os"
	"testing"
	"time"
)

func TestIssuancePolicy(t *testing.T) {
	ctx := context.Background()
	base := newRoot(t, KeyECDSAP256, 0, "policy root")
	k := testKey(t, KeyECDSAP384)
	pol := &Policy{AllowedKeyAlgorithms: []KeyAlgorithm{KeyECDSAP384, KeyMLDSA65}, DenyWildcardNames: true,
		AllowedDNSSuffixes: []string{"example.com", ".internal.test."}, MaxValidity: 398 * 24 * time.Hour,
		AllowedProfiles: []string{"EndEntityServerAuthCertificate/V1", TemplateARNPrefix + "SubordinateCACertificate_PathLen0/V1"}, DenyCA: false}
	iss := &Issuer{Certificate: base.Certificate, Signer: base.Signer, Policy: pol, Now: fixedNow}
	req := func(mod func(r *IssueRequest)) *IssueRequest {
		r := &IssueRequest{Profile: EndEntityServerAuthCertificateV1, PublicKey: k.Public(), Subject: pkix.Name{CommonName: "a.example.com"},
			DNSNames: []string{"a.example.com", "example.com", "x.internal.test"}, Validity: 90 * 24 * time.Hour}
		if mod != nil {
			mod(r)
		}
		return r
	}
	if _, err := iss.Issue(ctx, req(nil)); err != nil {
		t.Fatalf("allowed request refused: %v", err)
	}
	if _, err := iss.Issue(ctx, req(func(r *IssueRequest) { r.Profile = SubordinateCACertificatePathLen0V1; r.DNSNames = nil })); err != nil {
		t.Fatalf("allowed profile by ARN refused: %v", err)
	}
	for name, mod := range map[string]func(r *IssueRequest){
		"key algorithm":      func(r *IssueRequest) { r.PublicKey = testKey(t, KeyRSA2048).Public() },
		"wildcard SAN":       func(r *IssueRequest) { r.DNSNames = []string{"*.example.com"} },
		"wildcard CN":        func(r *IssueRequest) { r.Subject.CommonName = "*.example.com" },
		"suffix lookalike":   func(r *IssueRequest) { r.DNSNames = []string{"badexample.com"} },
		"other domain":       func(r *IssueRequest) { r.DNSNames = []string{"example.org"} },
		"validity too long":  func(r *IssueRequest) { r.Validity = 400 * 24 * time.Hour },
		"profile not listed": func(r *IssueRequest) { r.Profile = EndEntityClientAuthCertificateV1 },
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := iss.Issue(ctx, req(mod)); !errors.Is(err, ErrPolicy) {
				t.Fatalf("got %v", err)
			}
		})
	}
	iss.Policy = &Policy{DenyCA: true}
	if _, err := iss.Issue(ctx, req(func(r *IssueRequest) { r.Profile = SubordinateCACertificatePathLen0V1 })); !errors.Is(err, ErrPolicy) {
		t.Fatalf("DenyCA: %v", err)
	}
	var zero *Policy
	if err := zero.Check(&Draft{}); err != nil {
		t.Fatal("nil policy refuses")
	}
}

// TestIssueWithAPIPassthroughFile: every passthrough value of testdata/passthrough/smartcard.json reaches a
// certificate made with BlankEndEntityCertificate_APIPassthrough/V1.
func TestIssueWithAPIPassthroughFile(t *testing.T) {
	data, err := os.ReadFile("testdata/passthrough/smartcard.json")
	if err != nil {
		t.Fatal(err)
	}
	pt, err := ParseAPIPassthrough(data)
	if err != nil {
		t.Fatal(err)
	}
	root := newRoot(t, KeyRSA3072, SHA256WithRSAPSS, "passthrough root")
	c, err := root.Issue(context.Background(), &IssueRequest{Profile: BlankEndEntityCertificateAPIPassthroughV1,
		PublicKey: testKey(t, KeyRSA2048).Public(), APIPassthrough: pt, Validity: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject.CommonName != "Smart Card User" || c.Subject.Country[0] != "US" || c.KeyUsage != pt.KeyUsage ||
		len(c.UnknownExtKeyUsage) != 2 || len(c.PolicyIdentifiers) != 1 || c.URIs[0].String() != "urn:example:device:1" {
		t.Fatalf("%v %b %v %v", c.Subject, c.KeyUsage, c.UnknownExtKeyUsage, c.PolicyIdentifiers)
	}
	found := false
	for _, e := range c.Extensions {
		if e.Id.String() == "1.3.6.1.4.1.99999.2" && string(e.Value[2:]) == "hello" {
			found = true
		}
	}
	if !found {
		t.Fatal("custom extension missing")
	}
	// The passthrough's keyEncipherment is refused for an Ed25519 key (profile/key mismatch).
	if _, err := root.Issue(context.Background(), &IssueRequest{Profile: BlankEndEntityCertificateAPIPassthroughV1,
		PublicKey: testKey(t, KeyEd25519).Public(), APIPassthrough: pt, Validity: time.Hour}); !errors.Is(err, ErrProfileKeyMismatch) {
		t.Fatalf("Ed25519 + keyEncipherment: %v", err)
	}
}

func TestParseCAConfigSizeLimit(t *testing.T) {
	if _, err := ParseCAConfig(make([]byte, MaxJSONSize+1)); !errors.Is(err, ErrLimit) {
		t.Fatal(err)
	}
}
