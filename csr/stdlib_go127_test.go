//go:build go1.27

package csr

import (
	"context"
	"crypto/mldsa"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"slices"
	"testing"

	"github.com/pkikit/pkikit/x509ext"
)

// On Go 1.27 crypto/x509 knows ML-DSA: it must verify our request itself.
func checkStdlibMLDSA(t *testing.T, std *x509.CertificateRequest) {
	t.Helper()
	if _, ok := std.PublicKey.(*mldsa.PublicKey); !ok {
		t.Fatalf("Go 1.27 crypto/x509 public key is %T", std.PublicKey)
	}
	if err := std.CheckSignature(); err != nil {
		t.Fatalf("Go 1.27 crypto/x509 CheckSignature: %v", err)
	}
}

// TestStdlibVerifiesMLDSA (Go 1.27+): crypto/x509 parses and verifies our ML-DSA-44/65/87 requests, and we
// parse and verify crypto/x509's; our Create also takes a standard-library *mldsa.PrivateKey.
func TestStdlibVerifiesMLDSA(t *testing.T) {
	params := map[x509ext.SignatureAlgorithm]mldsa.Parameters{
		x509ext.MLDSA44: mldsa.MLDSA44(), x509ext.MLDSA65: mldsa.MLDSA65(), x509ext.MLDSA87: mldsa.MLDSA87(),
	}
	for _, c := range allCases[:3] {
		t.Run(c.name, func(t *testing.T) {
			der, err := Create(context.Background(), testKey(t, c.kt), fullTemplate(t))
			if err != nil {
				t.Fatal(err)
			}
			std, err := x509.ParseCertificateRequest(der)
			if err != nil {
				t.Fatalf("x509.ParseCertificateRequest: %v", err)
			}
			checkStdlibMLDSA(t, std)
			if !slices.Equal(std.DNSNames, []string{"www.example.com", "example.com"}) {
				t.Fatalf("DNSNames %v", std.DNSNames)
			}

			sk, err := mldsa.GenerateKey(params[c.alg])
			if err != nil {
				t.Fatal(err)
			}
			stdDER, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
				Subject: pkix.Name{CommonName: "go1.27"}, DNSNames: []string{"std.example"}}, sk)
			if err != nil {
				t.Fatal(err)
			}
			req, err := Parse(stdDER)
			if err != nil {
				t.Fatalf("Parse(crypto/x509 ML-DSA request): %v", err)
			}
			if err := req.CheckSignature(); err != nil {
				t.Fatal(err)
			}
			if req.SignatureAlgorithm != c.alg || req.KeyAlgorithm != c.kt {
				t.Fatalf("parsed %v/%v", req.SignatureAlgorithm, req.KeyAlgorithm)
			}
			checkRebuild(t, req)

			ours, err := Create(context.Background(), sk, &Template{Subject: pkix.Name{CommonName: "stdlib key"}})
			if err != nil {
				t.Fatalf("Create with *mldsa.PrivateKey: %v", err)
			}
			std, err = x509.ParseCertificateRequest(ours)
			if err != nil {
				t.Fatal(err)
			}
			if err := std.CheckSignature(); err != nil {
				t.Fatal(err)
			}
		})
	}
}
