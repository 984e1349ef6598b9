package localkms

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkikit/pkikit/internal/alg"
	"github.com/pkikit/pkikit/kmssigner"
)

var update = flag.Bool("update", false, "rewrite testdata/ (key files, requests)")

// testMasterKey is the master key of the key files in testdata/ (test only: 32 bytes of 0x42).
var testMasterKey = bytes.Repeat([]byte{0x42}, 32)

// TestWriteTestdata regenerates testdata/keys (with -update): a store under testMasterKey with one ECDSA P-256,
// one Ed25519 and one ML-DSA-44 key.
func TestWriteTestdata(t *testing.T) {
	if !*update {
		t.Skip("run with -update to regenerate testdata/store")
	}
	dir := filepath.Join("testdata", "store")
	for _, name := range []string{headerFile, aliasesFile, keysDir} {
		os.RemoveAll(filepath.Join(dir, name)) // keeps README.md
	}
	k, err := Open(dir, &Options{MasterKey: testMasterKey})
	if err != nil {
		t.Fatal(err)
	}
	for _, spec := range []string{"ECC_NIST_P256", "ECC_NIST_EDWARDS25519", "ML_DSA_44"} {
		id := mustCreate(t, k, spec)
		if spec == "ML_DSA_44" {
			k.CreateAlias(context.Background(), &CreateAliasInput{AliasName: "alias/testdata", TargetKeyId: id})
		}
	}
}

// The checked-in store opens with its master key and every key signs.
func TestTestdataStoreOpens(t *testing.T) {
	dir := t.TempDir()
	copyDir(t, filepath.Join("testdata", "store"), dir)
	k, err := Open(dir, &Options{MasterKey: testMasterKey})
	if err != nil {
		t.Fatal(err)
	}
	if len(k.keys) != 3 {
		t.Fatalf("%d keys", len(k.keys))
	}
	if _, err := k.Sign(context.Background(), &kmssigner.SignRequest{KeyID: "alias/testdata", Message: []byte("m"), SigningAlgorithm: "ML_DSA_SHAKE_256"}); err != nil {
		t.Fatal(err)
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	filepath.WalkDir(from, func(path string, e os.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(from, path)
		if e.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o700)
		}
		b, _ := os.ReadFile(path)
		return os.WriteFile(filepath.Join(to, rel), b, 0o600)
	})
}

func testdataKeyFiles(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "store", keysDir, "*"+keyFileExt))
	if len(files) == 0 {
		f.Fatal("no key files in testdata/store/keys")
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, strings.TrimSuffix(filepath.Base(p), keyFileExt))
	}
}

// FuzzParseKeyFile: arbitrary key files never panic, and anything that authenticates is the original.
func FuzzParseKeyFile(f *testing.F) {
	testdataKeyFiles(f)
	aead, _, err := subkeys(testMasterKey)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte, id string) {
		meta, pkcs8, err := parseKeyFile(aead, data, id)
		if err != nil {
			if !errors.Is(err, ErrTampered) && !errors.Is(err, ErrMalformedFile) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if meta.KeyID != id {
			t.Fatal("accepted a key file for another id")
		}
		if _, err := keyFromPKCS8(meta, pkcs8); err != nil {
			t.Fatalf("authenticated key file does not load: %v", err)
		}
	})
}

func FuzzParseAliasFile(f *testing.F) {
	b, err := os.ReadFile(filepath.Join("testdata", "store", aliasesFile))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	_, mac, _ := subkeys(testMasterKey)
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := parseAliasFile(mac, data); err != nil && !errors.Is(err, ErrTampered) && !errors.Is(err, ErrMalformedFile) {
			t.Fatalf("untyped error %v", err)
		}
	})
}

// FuzzDecodeRequest: the HTTP request decoding (protocol headers, JSON body into the operation's shape) and a
// dispatch of whatever decodes against an in-memory KMS never panic and always give an AWS error name.
func FuzzDecodeRequest(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "requests", "*.json"))
	if len(files) == 0 {
		f.Fatal("no requests in testdata/requests")
	}
	for _, p := range files {
		b, _ := os.ReadFile(p)
		op := strings.SplitN(filepath.Base(p), "-", 2)[0]
		f.Add("TrentService."+op, "application/x-amz-json-1.1", b)
	}
	k := NewMemory(nil)
	if _, err := k.CreateKey(context.Background(), &CreateKeyInput{KeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY"}); err != nil {
		f.Fatal(err)
	}
	srv, _ := NewServer(k, &ServerOptions{AllowUnauthenticatedUnsafe: true})
	f.Fuzz(func(t *testing.T, target, contentType string, body []byte) {
		op, aerr := operationOf(target, contentType)
		if aerr != nil {
			if aerr.Code == "" {
				t.Fatal("empty error code")
			}
			return
		}
		if op == "CreateKey" || op == "ScheduleKeyDeletion" {
			// Decode only: creating RSA keys or deleting the one key would make the fuzzer slow or useless.
			if _, aerr := decodeRequest(op, body); aerr != nil && aerr.Code == "" {
				t.Fatal("empty error code")
			}
			return
		}
		_, err := srv.dispatch(context.Background(), op, body)
		if err != nil {
			var ae *kmssigner.APIError
			if !errors.As(err, &ae) || ae.Code == "" {
				t.Fatalf("not an AWS error: %v", err)
			}
		}
	})
}

func FuzzParseAuthorization(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/kms/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" + strings.Repeat("ab", 32))
	f.Add("AWS4-HMAC-SHA256 Credential=a/b")
	f.Fuzz(func(t *testing.T, h string) {
		a, aerr := parseAuthorization(h)
		if aerr != nil {
			if aerr.Code != CodeIncompleteSignature {
				t.Fatalf("code %s", aerr.Code)
			}
			return
		}
		if a.AccessKeyID == "" || len(a.Signature) != 32 || len(a.SignedHeaders) == 0 {
			t.Fatalf("accepted incomplete header %+v", a)
		}
	})
}

// FuzzParseEncryptedPKCS8 parses encrypted PKCS#8 (seeded from testdata/pkcs8, OpenSSL's, and our own output):
// no panic; whatever parses re-encodes to the same bytes; and when the work factor is small, decryption runs
// and fails only with the package's typed errors.
func FuzzParseEncryptedPKCS8(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "pkcs8", "*.pem"))
	if len(files) == 0 {
		f.Fatal("no vectors in testdata/pkcs8")
	}
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		b, _ := pem.Decode(data)
		f.Add(b.Bytes)
	}
	key, err := alg.GenerateKey(alg.KeyMLDSA44)
	if err != nil {
		f.Fatal(err)
	}
	p8, _ := alg.MarshalPKCS8PrivateKey(key)
	for _, o := range []EncryptOptions{{Iterations: 3, WeakKDFUnsafe: true}, {KDF: KDFScrypt, ScryptLogN: 2, WeakKDFUnsafe: true}} {
		der, err := EncryptPKCS8(p8, []byte("pkikit-test-passphrase"), &o)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(der)
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		e, err := ParseEncryptedPKCS8(der)
		if err != nil {
			if !errors.Is(err, ErrMalformedPKCS8) && !errors.Is(err, ErrUnsupportedPKCS8) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		re, err := e.Marshal()
		if err != nil || !bytes.Equal(re, der) {
			t.Fatalf("re-encoding differs: %v", err)
		}
		if (e.KDF == KDFPBKDF2 && e.Iterations <= 64) || (e.KDF == KDFScrypt && e.ScryptN*e.ScryptR <= 1024 && e.ScryptP <= 2) {
			_, err := DecryptPKCS8(der, []byte("pkikit-test-passphrase"))
			if err != nil && !errors.Is(err, ErrWrongPKCS8Passphrase) && !errors.Is(err, ErrMalformedPKCS8) && !errors.Is(err, ErrUnsupportedPKCS8) {
				t.Fatalf("untyped error %v", err)
			}
		}
	})
}
