//go:build !go1.27

package csr

import (
	"crypto/x509"
	"testing"
)

// On Go 1.26 crypto/x509 parses an ML-DSA request's classical fields but leaves its key and algorithm unknown.
func checkStdlibMLDSA(t *testing.T, std *x509.CertificateRequest) {
	t.Helper()
	if std.PublicKey != nil || std.SignatureAlgorithm != x509.UnknownSignatureAlgorithm {
		t.Fatalf("Go 1.26 crypto/x509 unexpectedly knows ML-DSA: %T %v", std.PublicKey, std.SignatureAlgorithm)
	}
}
