package localkms

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pkikit/pkikit/internal/alg"
	"github.com/pkikit/pkikit/kmssigner"
)

var allSpecs = []string{"RSA_2048", "RSA_3072", "RSA_4096", "ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521",
	"ECC_NIST_EDWARDS25519", "ML_DSA_44", "ML_DSA_65", "ML_DSA_87"}

const testExportPass = "correct horse battery staple"

// weakExport is the iteration count the tests export with (WeakExportKDFUnsafe): PBKDF2 at 600,000 iterations
// takes about 2 s under -race. TestExportDefaultKDF and the interop test cover the default.
const weakExport = 1000

func createExportable(t testing.TB, k *KMS, spec string, exportable bool) string {
	t.Helper()
	out, err := k.CreateKey(context.Background(), &CreateKeyInput{KeySpec: spec, KeyUsage: kmssigner.KeyUsageSignVerify, Exportable: exportable})
	if err != nil {
		t.Fatalf("CreateKey %s: %v", spec, err)
	}
	if out.KeyMetadata.Exportable != exportable {
		t.Fatalf("KeyMetadata.Exportable = %v", out.KeyMetadata.Exportable)
	}
	return out.KeyMetadata.KeyId
}

func publicKeyDER(t testing.TB, k *KMS, id string) []byte {
	t.Helper()
	pk, err := k.GetPublicKey(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return pk.PublicKey
}

// Every key spec exports, and our parser gives back a private key whose public key is the KMS's.
func TestExportRoundTripEverySpec(t *testing.T) {
	k := NewMemory(&Options{WeakExportKDFUnsafe: true})
	ctx := context.Background()
	for _, spec := range allSpecs {
		t.Run(spec, func(t *testing.T) {
			id := createExportable(t, k, spec, true)
			out, err := k.ExportKey(ctx, &ExportKeyInput{KeyId: id, Passphrase: []byte(testExportPass), Iterations: weakExport})
			if err != nil {
				t.Fatal(err)
			}
			if out.KeySpec != spec || out.KeyId != k.keyARN(id) || len(out.CertificateChain) != 0 {
				t.Fatalf("output %s %s %d", out.KeySpec, out.KeyId, len(out.CertificateChain))
			}
			e, err := ParseEncryptedPKCS8(out.EncryptedPrivateKey)
			if err != nil {
				t.Fatal(err)
			}
			if e.KDF != KDFPBKDF2 || e.Iterations != weakExport || e.PRF.String() != "SHA-256" || len(e.Salt) != 16 {
				t.Fatalf("parameters %+v", e)
			}
			for _, in := range [][]byte{out.PEM, out.EncryptedPrivateKey} {
				key, err := DecryptPKCS8(in, []byte(testExportPass))
				if err != nil {
					t.Fatal(err)
				}
				spki, err := alg.MarshalPKIXPublicKey(key.Public())
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(spki, publicKeyDER(t, k, id)) {
					t.Fatal("exported key's public key differs from GetPublicKey")
				}
			}
			if strings.HasPrefix(spec, "ML_DSA") {
				// Inner PKCS#8 in RFC 9881's seed form: a 32-byte seed, no expanded key.
				plain, err := e.Decrypt([]byte(testExportPass))
				if err != nil {
					t.Fatal(err)
				}
				if len(plain) > 64 {
					t.Fatalf("ML-DSA PKCS#8 is %d bytes: not the seed form", len(plain))
				}
			}
		})
	}
}

// The default KDF is PBKDF2-HMAC-SHA256 with 600,000 iterations, and the result decrypts.
func TestExportDefaultKDF(t *testing.T) {
	k := NewMemory(nil)
	id := createExportable(t, k, "ECC_NIST_P256", true)
	out, err := k.ExportKey(context.Background(), &ExportKeyInput{KeyId: id, Passphrase: []byte(testExportPass)})
	if err != nil {
		t.Fatal(err)
	}
	e, err := ParseEncryptedPKCS8(out.EncryptedPrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	if e.KDF != KDFPBKDF2 || e.Iterations != 600_000 || e.PRF.String() != "SHA-256" {
		t.Fatalf("parameters %+v", e)
	}
	if _, err := DecryptPKCS8(out.PEM, []byte(testExportPass)); err != nil {
		t.Fatal(err)
	}
}

func TestExportScrypt(t *testing.T) {
	k := NewMemory(nil)
	id := createExportable(t, k, "ECC_NIST_EDWARDS25519", true)
	out, err := k.ExportKey(context.Background(), &ExportKeyInput{KeyId: id, Passphrase: []byte(testExportPass), KDF: KDFScrypt})
	if err != nil {
		t.Fatal(err)
	}
	e, err := ParseEncryptedPKCS8(out.EncryptedPrivateKey)
	if err != nil || e.KDF != KDFScrypt || e.ScryptN != 1<<14 || e.ScryptR != 8 || e.ScryptP != 1 {
		t.Fatalf("%v %+v", err, e)
	}
	key, err := DecryptPKCS8(out.PEM, []byte(testExportPass))
	if err != nil {
		t.Fatal(err)
	}
	spki, _ := alg.MarshalPKIXPublicKey(key.Public())
	if !bytes.Equal(spki, publicKeyDER(t, k, id)) {
		t.Fatal("public key differs")
	}
}

// A key created without Exportable never leaves: ErrNotExportable, carrying the API error name.
func TestExportRefusesNonExportable(t *testing.T) {
	k := NewMemory(&Options{WeakExportKDFUnsafe: true})
	id := createExportable(t, k, "ML_DSA_65", false)
	out, err := k.ExportKey(context.Background(), &ExportKeyInput{KeyId: id, Passphrase: []byte(testExportPass), Iterations: weakExport})
	if out != nil || !errors.Is(err, ErrNotExportable) {
		t.Fatalf("out=%v err=%v", out, err)
	}
	wantCode(t, err, CodeKeyNotExportable)
}

func TestExportValidation(t *testing.T) {
	ctx := context.Background()
	weak := NewMemory(&Options{WeakExportKDFUnsafe: true})
	strict := NewMemory(nil)
	for _, tc := range []struct {
		name string
		k    *KMS
		in   ExportKeyInput
		code string
	}{
		{"short passphrase", weak, ExportKeyInput{Passphrase: []byte("1234567"), Iterations: weakExport}, CodeValidation},
		{"iterations below 600000 without the unsafe option", strict, ExportKeyInput{Passphrase: []byte(testExportPass), Iterations: 100_000}, CodeValidation},
		{"iterations above the maximum", strict, ExportKeyInput{Passphrase: []byte(testExportPass), Iterations: 20_000_000}, CodeValidation},
		{"negative iterations", weak, ExportKeyInput{Passphrase: []byte(testExportPass), Iterations: -1}, CodeValidation},
		{"scrypt below N=2^14 without the unsafe option", strict, ExportKeyInput{Passphrase: []byte(testExportPass), KDF: KDFScrypt, ScryptLogN: 10}, CodeValidation},
		{"unknown KDF", weak, ExportKeyInput{Passphrase: []byte(testExportPass), KDF: "ARGON2"}, CodeValidation},
		{"unknown key", weak, ExportKeyInput{KeyId: "alias/none", Passphrase: []byte(testExportPass), Iterations: weakExport}, CodeNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			if in.KeyId == "" {
				in.KeyId = createExportable(t, tc.k, "ECC_NIST_P256", true)
			}
			_, err := tc.k.ExportKey(ctx, &in)
			wantCode(t, err, tc.code)
		})
	}
	// A key pending deletion does not export.
	id := createExportable(t, weak, "ECC_NIST_P256", true)
	if _, err := weak.ScheduleKeyDeletion(ctx, &ScheduleKeyDeletionInput{KeyId: id, PendingWindowInDays: 7}); err != nil {
		t.Fatal(err)
	}
	_, err := weak.ExportKey(ctx, &ExportKeyInput{KeyId: id, Passphrase: []byte(testExportPass), Iterations: weakExport})
	wantCode(t, err, CodeInvalidState)
}

// A wrong passphrase is ErrWrongPKCS8Passphrase, also when the decryption happens to end in valid padding.
func TestDecryptWrongPassphrase(t *testing.T) {
	der, err := EncryptPKCS8(mustPKCS8(t), []byte(testExportPass), &EncryptOptions{Iterations: 1, WeakKDFUnsafe: true})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 600 {
		_, err := DecryptPKCS8(der, []byte(testExportPass+" "+strings.Repeat("x", i)))
		if !errors.Is(err, ErrWrongPKCS8Passphrase) {
			t.Fatalf("attempt %d: err = %v", i, err)
		}
	}
	if _, err := DecryptPKCS8(der, []byte(testExportPass)); err != nil {
		t.Fatal(err)
	}
}

func mustPKCS8(t testing.TB) []byte {
	t.Helper()
	key, err := alg.GenerateKey(alg.KeyECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	der, err := alg.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// Vectors written by OpenSSL 3.0 and 3.5 decrypt; the ones with algorithms we refuse are ErrUnsupportedPKCS8;
// parse → marshal gives the same bytes.
func TestDecryptOpenSSLVectors(t *testing.T) {
	pass := []byte("pkikit-test-passphrase")
	for _, tc := range []struct {
		file string
		kdf  string
		kt   alg.KeyType
		err  error
	}{
		{"ecdsa-p256-pbkdf2-sha256.pem", KDFPBKDF2, alg.KeyECDSAP256, nil},
		{"rsa2048-pbkdf2-sha512.pem", KDFPBKDF2, alg.KeyRSA2048, nil},
		{"ed25519-scrypt.pem", KDFScrypt, alg.KeyEd25519, nil},
		{"mldsa65-pbkdf2-sha256.pem", KDFPBKDF2, alg.KeyMLDSA65, nil},
		{"unsupported-aes128.pem", "", 0, ErrUnsupportedPKCS8},
		{"unsupported-prf-sha1.pem", "", 0, ErrUnsupportedPKCS8},
	} {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "pkcs8", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			key, err := DecryptPKCS8(data, pass)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if kt, _ := alg.KeyTypeOf(key.Public()); kt != tc.kt {
				t.Fatalf("key type %v", kt)
			}
			if _, err := DecryptPKCS8(data, []byte("not the passphrase")); !errors.Is(err, ErrWrongPKCS8Passphrase) {
				t.Fatalf("wrong passphrase: %v", err)
			}
			b, _ := pem.Decode(data)
			e, err := ParseEncryptedPKCS8(b.Bytes)
			if err != nil || e.KDF != tc.kdf {
				t.Fatalf("%v %+v", err, e)
			}
			re, err := e.Marshal()
			if err != nil || !bytes.Equal(re, b.Bytes) {
				t.Fatalf("re-encoding differs: %v", err)
			}
		})
	}
}

func TestParseEncryptedPKCS8Malformed(t *testing.T) {
	good, err := EncryptPKCS8(mustPKCS8(t), []byte(testExportPass), &EncryptOptions{Iterations: 1, WeakKDFUnsafe: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		der  []byte
		err  error
	}{
		{"empty", nil, ErrMalformedPKCS8},
		{"trailing data", append(append([]byte(nil), good...), 0), ErrMalformedPKCS8},
		{"truncated", good[:len(good)-1], ErrMalformedPKCS8},
		{"PEM without the block", []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), ErrMalformedPKCS8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := DecryptPKCS8(tc.der, []byte(testExportPass)); !errors.Is(err, tc.err) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

// selfSigned makes a self-signed certificate for a KMS key (ECDSA/RSA/Ed25519: crypto/x509 signs through the
// kmssigner over the KMS).
func selfSigned(t testing.TB, k *KMS, id, cn string) []byte {
	t.Helper()
	s, err := kmssigner.New(context.Background(), k, id, nil)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, s.Public(), s)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// The chain attached to a key is persisted (authenticated with the key) and exported with it; a leaf for
// another key, too many certificates or something that is not a certificate is refused.
func TestCertificateChainPersistedAndExported(t *testing.T) {
	dir := t.TempDir()
	k, err := Open(dir, &Options{Passphrase: []byte("store pass"), KDF: cheapKDF, WeakExportKDFUnsafe: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	id := createExportable(t, k, "ECC_NIST_P256", true)
	ca := createExportable(t, k, "ECC_NIST_P384", false)
	leaf, caCert := selfSigned(t, k, id, "leaf"), selfSigned(t, k, ca, "ca")
	for _, tc := range []struct {
		name  string
		chain [][]byte
	}{
		{"leaf of another key", [][]byte{caCert}},
		{"not a certificate", [][]byte{leaf, []byte("junk")}},
		{"too many", bytes.Split(bytes.Repeat([]byte("x,"), 11), []byte(","))},
	} {
		_, err := k.SetCertificateChain(ctx, &SetCertificateChainInput{KeyId: id, CertificateChain: tc.chain})
		if err == nil {
			t.Fatalf("%s: accepted", tc.name)
		}
		wantCode(t, err, CodeValidation)
	}
	if _, err := k.SetCertificateChain(ctx, &SetCertificateChainInput{KeyId: id, CertificateChain: [][]byte{leaf, caCert}}); err != nil {
		t.Fatal(err)
	}
	k.Close()

	k2, err := Open(dir, &Options{Passphrase: []byte("store pass"), WeakExportKDFUnsafe: true})
	if err != nil {
		t.Fatal(err)
	}
	defer k2.Close()
	out, err := k2.ExportKey(ctx, &ExportKeyInput{KeyId: id, Passphrase: []byte(testExportPass), Iterations: weakExport})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.CertificateChain) != 2 || !bytes.Equal(out.CertificateChain[0], leaf) || !bytes.Equal(out.CertificateChain[1], caCert) {
		t.Fatal("chain not returned")
	}
	var types []string
	for rest := out.PEM; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		types = append(types, b.Type)
	}
	if strings.Join(types, ",") != "ENCRYPTED PRIVATE KEY,CERTIFICATE,CERTIFICATE" {
		t.Fatalf("PEM blocks %v", types)
	}
	// An empty chain removes it.
	if _, err := k2.SetCertificateChain(ctx, &SetCertificateChainInput{KeyId: id}); err != nil {
		t.Fatal(err)
	}
	out, err = k2.ExportKey(ctx, &ExportKeyInput{KeyId: id, Passphrase: []byte(testExportPass), Iterations: weakExport})
	if err != nil || len(out.CertificateChain) != 0 {
		t.Fatalf("%v %d", err, len(out.CertificateChain))
	}
}

// Editing a key file to make a non-exportable key exportable (or to attach a chain) breaks its authentication:
// the store refuses to open with ErrTampered, and the key is never exported.
func TestTamperedMetadataCannotMakeExportable(t *testing.T) {
	dir := t.TempDir()
	opts := &Options{Passphrase: []byte("store pass"), KDF: cheapKDF, WeakExportKDFUnsafe: true}
	k, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	id := createExportable(t, k, "ECC_NIST_P256", false)
	k.Close()
	path := filepath.Join(dir, keysDir, id+keyFileExt)
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, edit := range []func(m map[string]any){
		func(m map[string]any) { m["exportable"] = true },
		func(m map[string]any) { m["exportable"] = true; m["certificateChain"] = []string{"MAA="} },
	} {
		var kf map[string]any
		if err := json.Unmarshal(orig, &kf); err != nil {
			t.Fatal(err)
		}
		edit(kf["meta"].(map[string]any))
		b, _ := json.Marshal(kf)
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(dir, opts); !errors.Is(err, ErrTampered) {
			t.Fatalf("edited key file: err = %v", err)
		}
	}
	// Restored, it opens and still refuses to export.
	if err := os.WriteFile(path, orig, 0o600); err != nil {
		t.Fatal(err)
	}
	k, err = Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	if _, err := k.ExportKey(context.Background(), &ExportKeyInput{KeyId: id, Passphrase: []byte(testExportPass), Iterations: weakExport}); !errors.Is(err, ErrNotExportable) {
		t.Fatalf("err = %v", err)
	}
}

// Exportable survives a restart, and key files written before the extension (no "exportable" field) still open.
func TestExportableSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	opts := &Options{Passphrase: []byte("store pass"), KDF: cheapKDF, WeakExportKDFUnsafe: true}
	k, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	id := createExportable(t, k, "ML_DSA_44", true)
	k.Close()
	st, err := os.Stat(filepath.Join(dir, keysDir, id+keyFileExt))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("%v %v", err, st)
	}
	k, err = Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	d, err := k.DescribeKey(context.Background(), &DescribeKeyInput{KeyId: id})
	if err != nil || !d.KeyMetadata.Exportable {
		t.Fatalf("%v %+v", err, d)
	}
	if _, err := k.ExportKey(context.Background(), &ExportKeyInput{KeyId: id, Passphrase: []byte(testExportPass), Iterations: weakExport}); err != nil {
		t.Fatal(err)
	}
}
