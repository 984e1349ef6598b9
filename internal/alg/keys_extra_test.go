package alg

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
	"github.com/pkikit/pkikit/internal/interop"
)

func TestExpandedKeyChecks(t *testing.T) {
	for _, kt := range []KeyType{KeyMLDSA44, KeyMLDSA65, KeyMLDSA87} {
		k := testKeys(t)[kt]
		der, err := MarshalPKCS8PrivateKeyForm(k, FormExpanded)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParsePKCS8PrivateKey(der); err != nil {
			t.Fatalf("%v: good expanded key rejected: %v", kt, err)
		}
		// Flip the lowest bit of the first t0 coefficient (as RFC 9881's bad key 3 does), then of tr.
		n := len(der)
		sizes := map[KeyType][2]int{KeyMLDSA44: {4, 96}, KeyMLDSA65: {6, 128}, KeyMLDSA87: {8, 96}}[kt]
		t0Start := n - sizes[0]*416
		for name, off := range map[string]int{"t0": t0Start, "tr": n - mldsaExpandedLen(kt) + 64} {
			bad := bytes.Clone(der)
			bad[off] ^= 1
			if _, err := ParsePKCS8PrivateKey(bad); !errors.Is(err, ErrInconsistentKey) {
				t.Errorf("%v: flipped %s bit: got %v", kt, name, err)
			}
		}
		both, _ := MarshalPKCS8PrivateKeyForm(k, FormBoth)
		both[len(both)-1] ^= 0x80
		if _, err := ParsePKCS8PrivateKey(both); !errors.Is(err, ErrInconsistentKey) {
			t.Errorf("%v: inconsistent both: got %v", kt, err)
		}
	}
}

func mldsaExpandedLen(kt KeyType) int {
	return map[KeyType]int{KeyMLDSA44: 2560, KeyMLDSA65: 4032, KeyMLDSA87: 4896}[kt]
}

// TestOpenSSL35Keys: OpenSSL 3.5 reads our seed-form PKCS#8 and SPKI and signs a message we verify; we read the
// `both` keys `openssl genpkey` writes by default.
func TestOpenSSL35Keys(t *testing.T) {
	ossl := interop.OpenSSL35(t)
	dir := t.TempDir()
	for _, kt := range []KeyType{KeyMLDSA44, KeyMLDSA65, KeyMLDSA87} {
		name := kt.String()
		k := testKeys(t)[kt]
		der, _ := MarshalPKCS8PrivateKey(k)
		keyFile := filepath.Join(dir, name+".der")
		if err := os.WriteFile(keyFile, der, 0o600); err != nil {
			t.Fatal(err)
		}
		msgFile := filepath.Join(dir, "msg")
		os.WriteFile(msgFile, []byte("signed by openssl"), 0o600)
		sigFile := filepath.Join(dir, name+".sig")
		interop.MustRun(t, dir, append(ossl, "pkeyutl", "-sign", "-rawin", "-inkey", keyFile, "-keyform", "DER", "-in", msgFile, "-out", sigFile)...)
		sig, _ := os.ReadFile(sigFile)
		if err := Verify(k.Public(), kt.DefaultAlgorithm(), []byte("signed by openssl"), sig); err != nil {
			t.Fatalf("%s: OpenSSL's signature with our key: %v", name, err)
		}
		// Our SPKI matches what OpenSSL derives from our private key.
		pubFile := filepath.Join(dir, name+".pub")
		interop.MustRun(t, dir, append(ossl, "pkey", "-in", keyFile, "-inform", "DER", "-pubout", "-outform", "DER", "-out", pubFile)...)
		osslPub, _ := os.ReadFile(pubFile)
		ours, _ := MarshalPKIXPublicKey(k.Public())
		if !bytes.Equal(osslPub, ours) {
			t.Fatalf("%s: SPKI differs from OpenSSL's", name)
		}
		// OpenSSL's default (both) key parses, and our signature verifies in OpenSSL.
		genFile := filepath.Join(dir, name+"-gen.der")
		interop.MustRun(t, dir, append(ossl, "genpkey", "-algorithm", name, "-outform", "DER", "-out", genFile)...)
		genDER, _ := os.ReadFile(genFile)
		gk, err := ParsePKCS8PrivateKey(genDER)
		if err != nil {
			t.Fatalf("%s: OpenSSL genpkey key: %v", name, err)
		}
		ourSig, err := Sign(context.Background(), gk, kt.DefaultAlgorithm(), []byte("signed by openssl"))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(sigFile, ourSig, 0o600)
		interop.MustRun(t, dir, append(ossl, "pkeyutl", "-verify", "-rawin", "-inkey", genFile, "-keyform", "DER", "-in", msgFile, "-sigfile", sigFile)...)
	}
}

func FuzzParsePKCS8PrivateKey(f *testing.F) {
	for _, name := range []string{"ML-DSA-44-seed", "ML-DSA-44-both", "ML-DSA-44-expanded", "bad-ML-DSA-44-3"} {
		f.Add(readPEM(f, filepath.Join("testdata", "rfc9881", name+".priv")))
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		k, err := ParsePKCS8PrivateKey(der)
		if err == nil && k == nil {
			t.Fatal("nil key without error")
		}
	})
}

func FuzzParsePKIXPublicKey(f *testing.F) {
	f.Add(readPEM(f, filepath.Join("testdata", "rfc9881", "ML-DSA-44.pub")))
	f.Fuzz(func(t *testing.T, der []byte) {
		pub, _, err := ParsePKIXPublicKey(der)
		if err == nil {
			if _, err := MarshalPKIXPublicKey(pub); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func FuzzParseAlgorithmIdentifier(f *testing.F) {
	for _, a := range All() {
		f.Add(a.MarshalAlgorithmIdentifier())
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		a, err := ParseAlgorithmIdentifier(der)
		if err == nil && !bytes.Equal(a.MarshalAlgorithmIdentifier(), der) && a.Family() != FamilyRSA {
			t.Fatalf("%v accepted non-canonical %x", a, der)
		}
	})
}

var sink []byte

func BenchmarkSignMLDSA65(b *testing.B) {
	k := testKeys(b)[KeyMLDSA65]
	msg := make([]byte, 1024)
	b.ReportAllocs()
	for b.Loop() {
		sink, _ = Sign(context.Background(), k, MLDSA65, msg)
	}
}

func BenchmarkSignMLDSA65_RawCircl(b *testing.B) {
	k := testKeys(b)[KeyMLDSA65].(*mldsa65.PrivateKey)
	msg := make([]byte, 1024)
	b.ReportAllocs()
	for b.Loop() {
		sig := make([]byte, mldsa65.SignatureSize)
		_ = mldsa65.SignTo(k, msg, nil, true, sig)
		sink = sig
	}
}

func BenchmarkVerifyMLDSA65(b *testing.B) {
	k := testKeys(b)[KeyMLDSA65]
	msg := make([]byte, 1024)
	sig, _ := Sign(context.Background(), k, MLDSA65, msg)
	pub := k.Public()
	b.ReportAllocs()
	for b.Loop() {
		if Verify(pub, MLDSA65, msg, sig) != nil {
			b.Fatal("verify")
		}
	}
}

func BenchmarkVerifyMLDSA65_RawCircl(b *testing.B) {
	k := testKeys(b)[KeyMLDSA65]
	pk := k.Public().(*mldsa65.PublicKey)
	msg := make([]byte, 1024)
	sig, _ := Sign(context.Background(), k, MLDSA65, msg)
	b.ReportAllocs()
	for b.Loop() {
		if !mldsa65.Verify(pk, msg, nil, sig) {
			b.Fatal("verify")
		}
	}
}

func TestMatchesPublicKey(t *testing.T) {
	ks := testKeys(t)
	for kt, k := range ks {
		if !MatchesPublicKey(k, k.Public()) {
			t.Errorf("%v: own key does not match", kt)
		}
		if !MatchesPublicKey(opaque{k}, k.Public()) {
			t.Errorf("%v: opaque own key does not match", kt)
		}
		for kt2, k2 := range ks {
			if kt2 != kt && MatchesPublicKey(k, k2.Public()) {
				t.Errorf("%v matches %v", kt, kt2)
			}
		}
		other, _ := GenerateKey(kt)
		if kt != KeyRSA4096 && kt != KeyRSA3072 && MatchesPublicKey(k, other.Public()) {
			t.Errorf("%v: matches another key of the same type", kt)
		}
	}
}
