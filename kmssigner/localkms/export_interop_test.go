package localkms

import (
	"bytes"
	"context"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkikit/pkikit/internal/interop"
)

// opensslPublicKey decrypts an exported PEM bundle with `openssl pkey -passin` and returns the DER public key.
func opensslPublicKey(t *testing.T, ossl []string, bundle []byte, pass string) []byte {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "k.pem"), bundle, 0o600); err != nil {
		t.Fatal(err)
	}
	interop.MustRun(t, dir, append(append([]string{}, ossl...), "pkey", "-in", "k.pem", "-passin", "pass:"+pass, "-pubout", "-outform", "DER", "-out", "pub.der")...)
	pub, err := os.ReadFile(filepath.Join(dir, "pub.der"))
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

// OpenSSL decrypts the export of every key spec — OpenSSL 3.0 the classical ones, OpenSSL 3.5 all of them
// (ML-DSA: the seed-form PKCS#8 inside) — and finds the KMS's public key; with a wrong passphrase it fails.
func TestExportInteropOpenSSL(t *testing.T) {
	ossl30, ossl35 := interop.OpenSSL30(t), interop.OpenSSL35(t)
	k := NewMemory(&Options{WeakExportKDFUnsafe: true})
	ctx := context.Background()
	for _, spec := range allSpecs {
		t.Run(spec, func(t *testing.T) {
			id := createExportable(t, k, spec, true)
			out, err := k.ExportKey(ctx, &ExportKeyInput{KeyId: id, Passphrase: []byte(testExportPass), Iterations: weakExport})
			if err != nil {
				t.Fatal(err)
			}
			tools := [][]string{ossl35}
			if !strings.HasPrefix(spec, "ML_DSA") {
				tools = append(tools, ossl30)
			}
			for _, ossl := range tools {
				if pub := opensslPublicKey(t, ossl, out.PEM, testExportPass); !bytes.Equal(pub, publicKeyDER(t, k, id)) {
					t.Fatalf("%v: public key differs", ossl)
				}
			}
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "k.pem"), out.PEM, 0o600)
			if _, err := interop.Run(t, dir, append(append([]string{}, ossl35...), "pkey", "-in", "k.pem", "-passin", "pass:wrong passphrase", "-noout")...); err == nil {
				t.Fatal("openssl accepted a wrong passphrase")
			}
		})
	}
}

// The defaults — PBKDF2-HMAC-SHA256 with 600,000 iterations, and scrypt N=2^14 — decrypt in OpenSSL 3.0 and
// 3.5, and the bundle's certificate is the one attached, for the same key.
func TestExportInteropDefaultsAndChain(t *testing.T) {
	ossl30, ossl35 := interop.OpenSSL30(t), interop.OpenSSL35(t)
	k := NewMemory(nil)
	ctx := context.Background()
	id := createExportable(t, k, "ECC_NIST_P256", true)
	leaf := selfSigned(t, k, id, "exported leaf")
	if _, err := k.SetCertificateChain(ctx, &SetCertificateChainInput{KeyId: id, CertificateChain: [][]byte{leaf}}); err != nil {
		t.Fatal(err)
	}
	var pbkdf2PEM []byte
	for _, kdf := range []string{KDFPBKDF2, KDFScrypt} {
		out, err := k.ExportKey(ctx, &ExportKeyInput{KeyId: id, Passphrase: []byte(testExportPass), KDF: kdf})
		if err != nil {
			t.Fatal(err)
		}
		if kdf == KDFPBKDF2 {
			pbkdf2PEM = out.PEM
		}
		for _, ossl := range [][]string{ossl30, ossl35} {
			if pub := opensslPublicKey(t, ossl, out.PEM, testExportPass); !bytes.Equal(pub, publicKeyDER(t, k, id)) {
				t.Fatalf("%s %v: public key differs", kdf, ossl)
			}
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "bundle.pem"), out.PEM, 0o600)
			interop.MustRun(t, dir, append(append([]string{}, ossl...), "x509", "-in", "bundle.pem", "-outform", "DER", "-out", "leaf.der")...)
			if got, _ := os.ReadFile(filepath.Join(dir, "leaf.der")); !bytes.Equal(got, leaf) {
				t.Fatalf("%v: certificate in the bundle differs", ossl)
			}
		}
	}
	// And OpenSSL's view of the default parameters: PBES2, PBKDF2, hmacWithSHA256, 600000 (0x0927C0), aes-256-cbc.
	dir := t.TempDir()
	b, _ := pem.Decode(pbkdf2PEM)
	os.WriteFile(filepath.Join(dir, "k.der"), b.Bytes, 0o600)
	dump := interop.MustRun(t, dir, append(append([]string{}, ossl30...), "asn1parse", "-inform", "DER", "-in", "k.der")...)
	for _, want := range []string{":PBES2", ":PBKDF2", ":hmacWithSHA256", ":0927C0", ":aes-256-cbc"} {
		if !strings.Contains(dump, want) {
			t.Fatalf("asn1parse lacks %s:\n%s", want, dump)
		}
	}
}
