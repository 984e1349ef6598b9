package kmssigner_test

import (
	"context"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pkikit/pkikit/internal/interop"
	"github.com/pkikit/pkikit/kmssigner"
	"github.com/pkikit/pkikit/x509ext"
)

// An ML-DSA-87 root whose TBSCertificate exceeds 4096 bytes (many SANs) is self-signed through the Signer over
// in-process localkms (so through EXTERNAL_MU) and OpenSSL 3.5 verifies it.
func TestOpenSSL35VerifiesLargeMLDSA87CertificateSignedViaExternalMu(t *testing.T) {
	ossl := interop.OpenSSL35(t)
	s, rec, _ := newSigner(t, kmssigner.KeySpecMLDSA87)
	var sans []string
	for i := 0; i < 120; i++ {
		sans = append(sans, fmt.Sprintf("host-%03d.kms-interop.example.com", i))
	}
	cert, err := x509ext.SelfSign(context.Background(), s, &x509ext.IssueRequest{
		Profile:  x509ext.RootCACertificateV1,
		Subject:  pkix.Name{CommonName: "kmssigner ML-DSA-87 root", Organization: []string{"pkikit"}},
		DNSNames: sans,
		Validity: 24 * time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(cert.RawTBSCertificate); n <= kmssigner.MaxRawMessage {
		t.Fatalf("TBSCertificate is %d bytes; the test needs > 4096", n)
	}
	if r := rec.last(t); r.MessageType != kmssigner.MessageTypeExternalMu || len(r.Message) != 64 {
		t.Fatalf("signed with %s (%d bytes), want EXTERNAL_MU", r.MessageType, len(r.Message))
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "root.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	out := interop.MustRun(t, dir, append(append([]string{}, ossl...), "verify", "-x509_strict", "-CAfile", "root.pem", "root.pem")...)
	if !strings.Contains(out, "root.pem: OK") {
		t.Fatalf("openssl verify: %s", out)
	}
	out = interop.MustRun(t, dir, append(append([]string{}, ossl...), "x509", "-in", "root.pem", "-noout", "-text")...)
	if !strings.Contains(out, "ML-DSA-87") || !strings.Contains(out, "host-119.kms-interop.example.com") {
		t.Fatalf("openssl x509 -text: %s", out[:min(len(out), 2000)])
	}
}
