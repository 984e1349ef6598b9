package x509ext

import (
	"context"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func readPEM(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(data)
	if b == nil {
		t.Fatalf("%s: no PEM block", path)
	}
	return b.Bytes
}

// TestRFC9881Examples: the RFC's example certificates parse, self-verify, carry the .pub key, and can act as
// issuers (with their seed keys) of leaves we make.
func TestRFC9881Examples(t *testing.T) {
	for _, c := range []struct {
		name string
		kt   KeyAlgorithm
		a    SignatureAlgorithm
	}{{"ML-DSA-44", KeyMLDSA44, MLDSA44}, {"ML-DSA-65", KeyMLDSA65, MLDSA65}, {"ML-DSA-87", KeyMLDSA87, MLDSA87}} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join("testdata", "rfc9881")
			cert, err := ParseCertificate(readPEM(t, filepath.Join(dir, c.name+".crt")))
			if err != nil {
				t.Fatal(err)
			}
			if cert.KeyAlgorithm != c.kt || cert.SignatureAlgorithm != c.a || cert.Subject.CommonName != "LAMPS WG" {
				t.Fatalf("%v %v %v", cert.KeyAlgorithm, cert.SignatureAlgorithm, cert.Subject)
			}
			if err := cert.CheckSignatureFrom(cert); err != nil {
				t.Fatal(err)
			}
			pub, err := ParsePKIXPublicKey(readPEM(t, filepath.Join(dir, c.name+".pub")))
			if err != nil || !publicKeysEqual(pub, cert.PublicKey) {
				t.Fatalf(".pub differs: %v", err)
			}
			key, err := ParsePKCS8PrivateKey(readPEM(t, filepath.Join(dir, c.name+"-seed.priv")))
			if err != nil {
				t.Fatal(err)
			}
			iss := &Issuer{Certificate: cert, Signer: key, Now: func() time.Time { return time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC) }}
			leaf, err := iss.Issue(context.Background(), &IssueRequest{Profile: CodeSigningCertificateV1,
				PublicKey: testKey(t, KeyECDSAP256).Public(), Subject: pkixCN("leaf under " + c.name), Validity: 24 * time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			if err := leaf.CheckSignatureFrom(cert); err != nil {
				t.Fatal(err)
			}
			if string(leaf.AuthorityKeyId) != string(cert.SubjectKeyId) {
				t.Fatal("AKI is not the RFC certificate's SKI")
			}
		})
	}
}
