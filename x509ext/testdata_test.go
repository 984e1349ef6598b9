package x509ext

import (
	"crypto/x509"
	"os"
	"testing"
)

// TestCommittedOpenSSL35Artifacts: the committed OpenSSL 3.5 ML-DSA-44 certificate, CSR and CRL parse and
// verify (no OpenSSL needed).
func TestCommittedOpenSSL35Artifacts(t *testing.T) {
	rd := func(name string) []byte {
		b, err := os.ReadFile("testdata/openssl35/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	root, err := ParseCertificate(rd("root.der"))
	if err != nil {
		t.Fatal(err)
	}
	if root.SignatureAlgorithm != MLDSA44 || root.KeyAlgorithm != KeyMLDSA44 {
		t.Fatal(root.SignatureAlgorithm, root.KeyAlgorithm)
	}
	if err := root.CheckSignatureFrom(root); err != nil {
		t.Fatal(err)
	}
	crl, err := ParseCRL(rd("crl.der"))
	if err != nil {
		t.Fatal(err)
	}
	if crl.SignatureAlgorithm != MLDSA44 || crl.Number.Int64() != 1 {
		t.Fatal(crl.SignatureAlgorithm, crl.Number)
	}
	if err := crl.CheckSignatureFrom(root); err != nil {
		t.Fatal(err)
	}
	csr, err := x509.ParseCertificateRequest(rd("leaf.csr.der"))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := CheckCSRSignature(csr)
	if err != nil {
		t.Fatal(err)
	}
	if kt, _ := KeyAlgorithmOf(pub); kt != KeyMLDSA44 {
		t.Fatal(kt)
	}
}
