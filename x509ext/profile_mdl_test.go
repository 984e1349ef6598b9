package x509ext

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"testing"
	"time"
)

func mdlRequest(p Profile, cn string) *IssueRequest {
	return &IssueRequest{Profile: p, Subject: pkix.Name{Country: []string{"US"}, Province: []string{"NY"}, CommonName: cn},
		NotBefore: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Validity: 365 * 24 * time.Hour,
		IssuerAltName: AltNames{EmailAddresses: []string{"iaca@example.org"}}, CRLDistributionPoints: []string{"https://example.org/iaca.crl"}}
}

func TestMDLProfiles(t *testing.T) {
	ctx := context.Background()
	iacaKey, _ := GenerateKey(KeyECDSAP384)
	req := mdlRequest(MDLIACACertificateV1, "IACA")
	req.Validity = 9 * 365 * 24 * time.Hour
	iaca, err := SelfSign(ctx, iacaKey, req)
	if err != nil {
		t.Fatal(err)
	}
	if !iaca.IsCA || iaca.MaxPathLen != 0 || !iaca.MaxPathLenZero || iaca.KeyUsage != x509.KeyUsageCertSign|x509.KeyUsageCRLSign ||
		len(iaca.ExtKeyUsage)+len(iaca.UnknownExtKeyUsage) != 0 || len(iaca.SubjectKeyId) == 0 || len(iaca.CRLDistributionPoints) != 1 {
		t.Fatalf("IACA content: %+v", iaca.Certificate)
	}
	dsKey, _ := GenerateKey(KeyECDSAP256)
	iss := &Issuer{Certificate: iaca, Signer: iacaKey}
	dreq := mdlRequest(MDLDocumentSignerCertificateV1, "DS")
	dreq.PublicKey = dsKey.Public()
	ds, err := iss.Issue(ctx, dreq)
	if err != nil {
		t.Fatal(err)
	}
	if ds.BasicConstraintsValid || ds.KeyUsage != x509.KeyUsageDigitalSignature || len(ds.UnknownExtKeyUsage) != 1 ||
		!ds.UnknownExtKeyUsage[0].Equal(OIDExtKeyUsageMDLDocumentSigner) || len(ds.AuthorityKeyId) == 0 {
		t.Fatalf("DS content: %+v", ds.Certificate)
	}
	for _, e := range ds.Extensions {
		if (e.Id.Equal(OIDExtensionExtKeyUsage) || e.Id.Equal(OIDExtensionKeyUsage)) && !e.Critical {
			t.Fatalf("%v not critical", e.Id)
		}
	}
	for _, name := range []string{"MDLIACACertificate/V1", "MDLDocumentSignerCertificateV1"} {
		if _, err := LookupProfile(name); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}

	refuse := []struct {
		name string
		edit func(r *IssueRequest)
		self bool
	}{
		{"DS valid over 457 days", func(r *IssueRequest) { r.Validity = 458 * 24 * time.Hour }, false},
		{"DS country differs from IACA", func(r *IssueRequest) { r.Subject.Country = []string{"DE"} }, false},
		{"DS state differs from IACA", func(r *IssueRequest) { r.Subject.Province = []string{"CA"} }, false},
		{"DS without issuerAltName", func(r *IssueRequest) { r.IssuerAltName = AltNames{} }, false},
		{"DS without CRL distribution point", func(r *IssueRequest) { r.CRLDistributionPoints = nil }, false},
		{"DS with a short serial", func(r *IssueRequest) { r.SerialNumber = big.NewInt(42) }, false},
		{"DS with lower-case country", func(r *IssueRequest) { r.Subject.Country = []string{"us"} }, false},
		{"DS self-signed", func(r *IssueRequest) {}, true},
		{"DS with an RSA key", func(r *IssueRequest) { k, _ := GenerateKey(KeyRSA2048); r.PublicKey = k.Public() }, false},
	}
	for _, tc := range refuse {
		t.Run(tc.name, func(t *testing.T) {
			r := mdlRequest(MDLDocumentSignerCertificateV1, "DS")
			r.PublicKey = dsKey.Public()
			tc.edit(r)
			var err error
			if tc.self {
				r.PublicKey = nil
				_, err = SelfSign(ctx, dsKey, r)
			} else {
				_, err = iss.Issue(ctx, r)
			}
			if !errors.Is(err, ErrProfileRequirement) && !errors.Is(err, ErrProfileKeyMismatch) {
				t.Fatalf("got %v", err)
			}
		})
	}
	// IACA validity over 20 years is refused.
	long := mdlRequest(MDLIACACertificateV1, "IACA")
	long.Validity = 21 * 365 * 24 * time.Hour
	if _, err := SelfSign(ctx, iacaKey, long); !errors.Is(err, ErrProfileRequirement) {
		t.Fatalf("21-year IACA: %v", err)
	}
	// The IACA profile only makes roots: an IACA cannot issue another IACA (pathLen 0).
	sub := mdlRequest(MDLIACACertificateV1, "sub")
	sub.PublicKey = dsKey.Public()
	if _, err := iss.Issue(ctx, sub); err == nil {
		t.Fatal("an IACA issued a CA certificate")
	}
}
