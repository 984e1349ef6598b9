//go:build cgo

package pkcs11

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pkikit/pkikit/csr"
	"github.com/pkikit/pkikit/internal/interop"
	"github.com/pkikit/pkikit/kmssigner"
	"github.com/pkikit/pkikit/x509ext"
)

func writePEM(t testing.TB, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestOpenSSL30VerifiesCSRsAndCertificatesFromSoftHSM: for every key type in the SoftHSM2 token, the csr package
// builds a CSR and x509ext a self-signed CA and a leaf it issues, all signed on the token through kmssigner;
// OpenSSL 3.0 verifies the CSR (openssl req -verify) and the chain (openssl verify).
func TestOpenSSL30VerifiesCSRsAndCertificatesFromSoftHSM(t *testing.T) {
	ossl := interop.OpenSSL30(t)
	c := newTestClient(t)
	ctx := context.Background()
	for _, tc := range []struct {
		label string
		alg   x509ext.SignatureAlgorithm
	}{
		{"p256", 0}, {"p384", 0}, {"p521", 0},
		{"rsa2048", x509ext.SHA256WithRSA}, {"rsa2048", x509ext.SHA256WithRSAPSS},
		{"rsa3072", x509ext.SHA384WithRSAPSS}, {"rsa3072", x509ext.SHA512WithRSA},
	} {
		name := tc.label + "/default"
		if tc.alg != 0 {
			name = tc.label + "/" + tc.alg.String()
		}
		t.Run(name, func(t *testing.T) {
			s, err := kmssigner.New(ctx, c, tc.label, nil)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			run := func(args ...string) string {
				return interop.MustRun(t, dir, append(append([]string{}, ossl...), args...)...)
			}
			req, err := csr.Create(ctx, s, &csr.Template{Subject: pkix.Name{CommonName: "hsm.pkikit.example", Organization: []string{"pkikit"}},
				DNSNames: []string{"hsm.pkikit.example"}, SignatureAlgorithm: tc.alg})
			if err != nil {
				t.Fatal(err)
			}
			writePEM(t, filepath.Join(dir, "req.pem"), "CERTIFICATE REQUEST", req)
			if out := run("req", "-in", "req.pem", "-verify", "-noout"); !strings.Contains(out, "verify OK") {
				t.Fatalf("openssl req -verify: %s", out)
			}

			now := time.Now().Add(-time.Hour)
			root, err := x509ext.SelfSign(ctx, s, &x509ext.IssueRequest{Profile: x509ext.RootCACertificateV1,
				Subject: pkix.Name{CommonName: "pkikit SoftHSM root " + name}, NotBefore: now, Validity: 24 * time.Hour, SignatureAlgorithm: tc.alg})
			if err != nil {
				t.Fatal(err)
			}
			leafKey, err := x509ext.GenerateKey(x509ext.KeyECDSAP256)
			if err != nil {
				t.Fatal(err)
			}
			issuer := &x509ext.Issuer{Certificate: root, Signer: s, Algorithm: tc.alg}
			leaf, err := issuer.Issue(ctx, &x509ext.IssueRequest{Profile: x509ext.EndEntityServerAuthCertificateV1, PublicKey: leafKey.Public(),
				Subject: pkix.Name{CommonName: "leaf.pkikit.example"}, DNSNames: []string{"leaf.pkikit.example"}, NotBefore: now, Validity: 24 * time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			writePEM(t, filepath.Join(dir, "root.pem"), "CERTIFICATE", root.Raw)
			writePEM(t, filepath.Join(dir, "leaf.pem"), "CERTIFICATE", leaf.Raw)
			if out := run("verify", "-x509_strict", "-purpose", "sslserver", "-CAfile", "root.pem", "leaf.pem"); !strings.Contains(out, "leaf.pem: OK") {
				t.Fatalf("openssl verify: %s", out)
			}
			// crypto/x509 agrees.
			pool := x509.NewCertPool()
			pool.AddCert(root.Certificate)
			if _, err := leaf.Certificate.Verify(x509.VerifyOptions{Roots: pool, DNSName: "leaf.pkikit.example"}); err != nil {
				t.Fatal(err)
			}
		})
	}
}
