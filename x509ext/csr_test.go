package x509ext

import (
	"context"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"testing"
	"time"

	"github.com/pkikit/pkikit/internal/alg"
	"github.com/pkikit/pkikit/internal/der"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// makeCSR builds a PKCS#10 request for any key (ML-DSA included) with a test-only encoder (pkikit's csr
// package sits above x509ext and cannot be imported here), then parses it with crypto/x509 as callers do.
func makeCSR(t testing.TB, k crypto.Signer, subject pkix.Name, dns []string, exts []pkix.Extension) *x509.CertificateRequest {
	t.Helper()
	return parseCSR(t, makeCSRDER(t, k, subject, dns, exts))
}

func makeCSRDER(t testing.TB, k crypto.Signer, subject pkix.Name, dns []string, exts []pkix.Extension) []byte {
	t.Helper()
	spki, err := MarshalPKIXPublicKey(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	name, err := der.MarshalName(subject)
	if err != nil {
		t.Fatal(err)
	}
	if len(dns) > 0 {
		v, err := der.MarshalGeneralNames(der.GeneralNames{DNSNames: dns})
		if err != nil {
			t.Fatal(err)
		}
		exts = append(exts, pkix.Extension{Id: OIDExtensionSubjectAltName, Value: v})
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(0)
		b.AddBytes(name)
		b.AddBytes(spki)
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			if len(exts) == 0 {
				return
			}
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 14})
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						for _, e := range exts {
							der.AddExtension(b, e)
						}
					})
				})
			})
		})
	})
	cri := b.BytesOrPanic()
	kt, _ := KeyAlgorithmOf(k.Public())
	a := kt.DefaultAlgorithm()
	sig, err := alg.Sign(context.Background(), k, a, cri)
	if err != nil {
		t.Fatal(err)
	}
	var out cryptobyte.Builder
	out.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(cri)
		a.AddAlgorithmIdentifier(b)
		b.AddASN1BitString(sig)
	})
	return out.BytesOrPanic()
}

func parseCSR(t testing.TB, d []byte) *x509.CertificateRequest {
	t.Helper()
	csr, err := x509.ParseCertificateRequest(d)
	if err != nil {
		t.Fatalf("crypto/x509 cannot parse the CSR: %v", err)
	}
	return csr
}

func TestIssueFromCSREveryKey(t *testing.T) {
	ctx := context.Background()
	root := newRoot(t, KeyMLDSA65, 0, "csr root")
	for _, kt := range subjectKeys {
		t.Run(kt.String(), func(t *testing.T) {
			k := testKey(t, kt)
			csr := makeCSR(t, k, pkix.Name{CommonName: "csr " + kt.String()}, []string{"a.example"}, nil)
			pub, err := CheckCSRSignature(csr)
			if err != nil || !publicKeysEqual(pub, k.Public()) {
				t.Fatalf("CheckCSRSignature: %v", err)
			}
			c, err := root.Issue(ctx, &IssueRequest{Profile: CodeSigningCertificateV1, CSR: csr, Validity: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			if c.Subject.CommonName != "csr "+kt.String() || c.DNSNames[0] != "a.example" || !publicKeysEqual(c.PublicKey, k.Public()) {
				t.Fatal("CSR content not used")
			}
			// A tampered CSR is refused.
			bad := *csr
			bad.Raw = append([]byte{}, csr.Raw...)
			bad.Raw[len(bad.Raw)-3] ^= 0x40
			if _, err := root.Issue(ctx, &IssueRequest{Profile: CodeSigningCertificateV1, CSR: &bad, Validity: time.Hour}); !errors.Is(err, ErrBadCSR) {
				t.Fatalf("tampered CSR: %v", err)
			}
			// PublicKey and CSR must agree.
			if _, err := root.Issue(ctx, &IssueRequest{Profile: CodeSigningCertificateV1, CSR: csr,
				PublicKey: otherKey(t, kt).Public(), Validity: time.Hour}); !errors.Is(err, ErrInvalidRequest) {
				t.Fatalf("key mismatch: %v", err)
			}
		})
	}
}

func TestCheckCSRSignatureRejects(t *testing.T) {
	for name, csr := range map[string]*x509.CertificateRequest{
		"nil":     nil,
		"no raw":  {},
		"garbage": {Raw: []byte{0x30, 0x03, 0x02, 0x01, 0x00}},
	} {
		if _, err := CheckCSRSignature(csr); !errors.Is(err, ErrBadCSR) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
