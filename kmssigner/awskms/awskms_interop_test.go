package awskms

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kms/types"

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

// TestOpenSSL35VerifiesLargeMLDSA87CertificateSignedThroughSDK: an ML-DSA-87 CA key lives in localkms, reached
// through the AWS SDK over loopback HTTP. x509ext self-signs the root with it, then issues a leaf whose
// to-be-signed part exceeds 4096 bytes (an ML-DSA-87 subject key and 120 DNS names), which the signer must send
// as EXTERNAL_MU. OpenSSL 3.5 verifies the chain.
func TestOpenSSL35VerifiesLargeMLDSA87CertificateSignedThroughSDK(t *testing.T) {
	ossl := interop.OpenSSL35(t)
	l := startLocalKMS(t, Options{})
	ctx := context.Background()
	keyID := l.createKey(t, types.KeySpecMlDsa87)
	s, err := kmssigner.New(ctx, l.client, keyID, nil)
	if err != nil {
		t.Fatal(err)
	}
	// One clock for both certificates: the leaf must not outlive the root when the second ticks in between.
	notBefore := time.Now().Add(-time.Hour)
	root, err := x509ext.SelfSign(ctx, s, &x509ext.IssueRequest{Profile: x509ext.RootCACertificateV1,
		Subject: pkix.Name{CommonName: "pkikit KMS ML-DSA-87 root"}, NotBefore: notBefore, Validity: 48 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	leafKey, err := x509ext.GenerateKey(x509ext.KeyMLDSA87)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for i := range 120 {
		names = append(names, fmt.Sprintf("host-%03d.interop.pkikit.example", i))
	}
	issuer := &x509ext.Issuer{Certificate: root, Signer: s}
	profile := x509ext.EndEntityServerAuthCertificateV1
	profile.KeyUsage = x509.KeyUsageDigitalSignature // RFC 9881 §5: no keyEncipherment on ML-DSA
	leaf, err := issuer.Issue(ctx, &x509ext.IssueRequest{Profile: profile, PublicKey: leafKey.Public(),
		Subject: pkix.Name{CommonName: names[0]}, DNSNames: names, NotBefore: notBefore, Validity: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(leaf.RawTBSCertificate); n <= kmssigner.MaxRawMessage {
		t.Fatalf("leaf TBS is %d bytes; the test needs more than %d", n, kmssigner.MaxRawMessage)
	}
	if got := l.recorder.lastType(); got != types.MessageTypeExternalMu {
		t.Fatalf("leaf signed with MessageType %s, want EXTERNAL_MU", got)
	}
	if err := leaf.CheckSignatureFrom(root); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writePEM(t, filepath.Join(dir, "root.pem"), "CERTIFICATE", root.Raw)
	writePEM(t, filepath.Join(dir, "leaf.pem"), "CERTIFICATE", leaf.Raw)
	out := interop.MustRun(t, dir, append(append([]string{}, ossl...), "verify", "-x509_strict", "-purpose", "sslserver", "-CAfile", "root.pem", "leaf.pem")...)
	if !strings.Contains(out, "leaf.pem: OK") {
		t.Fatalf("openssl verify: %s", out)
	}
	t.Logf("leaf TBSCertificate %d bytes signed through EXTERNAL_MU; %s", len(leaf.RawTBSCertificate), strings.TrimSpace(out))
}

// TestOpenSSLVerifiesCSRsSignedThroughSDK: csr.Create over keys in localkms, through the AWS SDK; OpenSSL
// (3.0 for ECDSA and RSA-PSS, 3.5 for ML-DSA) checks the request signatures.
func TestOpenSSLVerifiesCSRsSignedThroughSDK(t *testing.T) {
	l := startLocalKMS(t, Options{})
	ctx := context.Background()
	for _, tc := range []struct {
		spec types.KeySpec
		alg  x509ext.SignatureAlgorithm
		ossl func(testing.TB) []string
	}{
		{types.KeySpecEccNistP256, 0, interop.OpenSSL30},
		{types.KeySpecEccNistP521, 0, interop.OpenSSL30},
		{types.KeySpecRsa3072, x509ext.SHA384WithRSAPSS, interop.OpenSSL30},
		{types.KeySpecRsa2048, x509ext.SHA256WithRSA, interop.OpenSSL30},
		{types.KeySpecMlDsa65, 0, interop.OpenSSL35},
		{types.KeySpecMlDsa87, 0, interop.OpenSSL35},
	} {
		name := string(tc.spec) + "/default"
		if tc.alg != 0 {
			name = string(tc.spec) + "/" + tc.alg.String()
		}
		t.Run(name, func(t *testing.T) {
			ossl := tc.ossl(t)
			s, err := kmssigner.New(ctx, l.client, l.createKey(t, tc.spec), nil)
			if err != nil {
				t.Fatal(err)
			}
			der, err := csr.Create(ctx, s, &csr.Template{Subject: pkix.Name{CommonName: "kms.pkikit.example", Organization: []string{"pkikit"}},
				DNSNames: []string{"kms.pkikit.example"}, SignatureAlgorithm: tc.alg})
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			writePEM(t, filepath.Join(dir, "req.pem"), "CERTIFICATE REQUEST", der)
			out := interop.MustRun(t, dir, append(append([]string{}, ossl...), "req", "-in", "req.pem", "-verify", "-noout")...)
			if !strings.Contains(out, "verify OK") {
				t.Fatalf("openssl req -verify: %s", out)
			}
		})
	}
}
