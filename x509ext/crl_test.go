package x509ext

import (
	"bytes"
	"context"
	"errors"
	"math/big"
	"testing"
	"time"
)

func TestCreateCRLEveryIssuerAlgorithm(t *testing.T) {
	ctx := context.Background()
	for _, ia := range issuerAlgs {
		t.Run(ia.a.String(), func(t *testing.T) {
			root := newRoot(t, ia.kt, ia.a, "crl root "+ia.a.String())
			revoked := []RevokedCertificate{
				{SerialNumber: big.NewInt(1001), RevocationTime: testTime.Add(-time.Hour), Reason: ReasonKeyCompromise},
				{SerialNumber: big.NewInt(1002), RevocationTime: testTime.Add(-2 * time.Hour)},
				{SerialNumber: new(big.Int).Lsh(big.NewInt(1), 150), RevocationTime: testTime, Reason: ReasonCessationOfOperation},
			}
			crl, err := root.CreateCRL(ctx, &CRLRequest{Number: big.NewInt(42), Validity: 7 * 24 * time.Hour, Revoked: revoked})
			if err != nil {
				t.Fatal(err)
			}
			again, err := ParseCRL(crl.Raw)
			if err != nil {
				t.Fatal(err)
			}
			if again.SignatureAlgorithm != ia.a || again.Number.Int64() != 42 || !again.ThisUpdate.Equal(testTime) ||
				!again.NextUpdate.Equal(testTime.Add(7*24*time.Hour)) || !bytes.Equal(again.AuthorityKeyId, root.Certificate.SubjectKeyId) {
				t.Fatalf("fields: %v %v %v %v", again.SignatureAlgorithm, again.Number, again.ThisUpdate, again.NextUpdate)
			}
			if len(again.RevokedCertificateEntries) != 3 {
				t.Fatal("entries")
			}
			for i, e := range again.RevokedCertificateEntries {
				if e.SerialNumber.Cmp(revoked[i].SerialNumber) != 0 || !e.RevocationTime.Equal(revoked[i].RevocationTime) ||
					Reason(e) != revoked[i].Reason {
					t.Fatalf("entry %d: %v %v %v", i, e.SerialNumber, e.RevocationTime, e.ReasonCode)
				}
			}
			if err := again.CheckSignatureFrom(root.Certificate); err != nil {
				t.Fatal(err)
			}
			ok := otherKey(t, ia.kt) // same name, other key
			other, err := SelfSign(ctx, ok, &IssueRequest{Profile: RootCACertificateV1, Subject: root.Certificate.Subject,
				NotBefore: testTime, Validity: time.Hour, SignatureAlgorithm: ia.a})
			if err != nil {
				t.Fatal(err)
			}
			if err := again.CheckSignatureFrom(other); !errors.Is(err, ErrBadSignature) {
				t.Fatalf("other key: %v", err)
			}
		})
	}
}

func TestCreateCRLRefusals(t *testing.T) {
	ctx := context.Background()
	root := newRoot(t, KeyECDSAP256, 0, "crl refusal root")
	leafKey := testKey(t, KeyECDSAP384)
	leaf, err := root.Issue(ctx, &IssueRequest{Profile: CodeSigningCertificateV1, PublicKey: leafKey.Public(), Subject: pkixCN("leaf"), Validity: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ok := func() *CRLRequest { return &CRLRequest{Validity: time.Hour} }
	cases := map[string]struct {
		iss  *Issuer
		mod  func(*CRLRequest)
		want error
	}{
		"not a CA":        {&Issuer{Certificate: leaf, Signer: leafKey}, nil, ErrNotIssuer},
		"wrong signer":    {&Issuer{Certificate: root.Certificate, Signer: leafKey}, nil, ErrSignerMismatch},
		"no next update":  {root, func(r *CRLRequest) { r.Validity = 0 }, ErrInvalidRequest},
		"negative number": {root, func(r *CRLRequest) { r.Number = big.NewInt(-1) }, ErrInvalidRequest},
		"duplicate serial": {root, func(r *CRLRequest) {
			r.Revoked = []RevokedCertificate{{big.NewInt(5), testTime, 0}, {big.NewInt(5), testTime, 1}}
		}, ErrInvalidRequest},
		"reason 7":           {root, func(r *CRLRequest) { r.Revoked = []RevokedCertificate{{big.NewInt(5), testTime, 7}} }, ErrInvalidRequest},
		"removeFromCRL":      {root, func(r *CRLRequest) { r.Revoked = []RevokedCertificate{{big.NewInt(5), testTime, ReasonRemoveFromCRL}} }, ErrInvalidRequest},
		"no revocation time": {root, func(r *CRLRequest) { r.Revoked = []RevokedCertificate{{SerialNumber: big.NewInt(5)}} }, ErrInvalidRequest},
		"zero serial":        {root, func(r *CRLRequest) { r.Revoked = []RevokedCertificate{{big.NewInt(0), testTime, 0}} }, ErrInvalidRequest},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			r := ok()
			if c.mod != nil {
				c.mod(r)
			}
			if _, err := c.iss.CreateCRL(ctx, r); !errors.Is(err, c.want) {
				t.Fatalf("got %v want %v", err, c.want)
			}
		})
	}
	crl, err := root.CreateCRL(ctx, ok())
	if err != nil {
		t.Fatal(err)
	}
	if crl.Number.Int64() != testTime.Unix() || len(crl.RevokedCertificateEntries) != 0 {
		t.Fatal("default number / empty list")
	}
	if err := crl.CheckSignatureFrom(leaf); !errors.Is(err, ErrNotIssuer) {
		t.Fatalf("leaf as CRL issuer: %v", err)
	}
}

func TestReasonString(t *testing.T) {
	if ReasonKeyCompromise.String() != "keyCompromise" || RevocationReason(7).Valid() || RevocationReason(7).String() != "RevocationReason(7)" {
		t.Fatal("reason names")
	}
}
