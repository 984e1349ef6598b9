//go:build go1.27

package alg

import (
	"bytes"
	"context"
	"crypto/mldsa"
	"crypto/x509"
	"testing"
)

// TestStdlibMLDSA: on Go 1.27 the standard library's ML-DSA keys sign and verify through the table, convert to
// circl's, and our SPKI/PKCS#8 encodings agree with crypto/x509's.
func TestStdlibMLDSA(t *testing.T) {
	for _, tc := range []struct {
		p  mldsa.Parameters
		kt KeyType
	}{{mldsa.MLDSA44(), KeyMLDSA44}, {mldsa.MLDSA65(), KeyMLDSA65}, {mldsa.MLDSA87(), KeyMLDSA87}} {
		sk, err := mldsa.GenerateKey(tc.p)
		if err != nil {
			t.Fatal(err)
		}
		if kt, err := KeyTypeOf(sk); err != nil || kt != tc.kt {
			t.Fatalf("KeyTypeOf: %v %v", kt, err)
		}
		msg := []byte("stdlib key")
		sig, err := Sign(context.Background(), sk, tc.kt.DefaultAlgorithm(), msg)
		if err != nil {
			t.Fatal(err)
		}
		if err := Verify(sk.PublicKey(), tc.kt.DefaultAlgorithm(), msg, sig); err != nil {
			t.Fatal(err)
		}
		ours, err := MarshalPKIXPublicKey(sk.PublicKey())
		if err != nil {
			t.Fatal(err)
		}
		std, err := x509.MarshalPKIXPublicKey(sk.PublicKey())
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(ours, std) {
			t.Fatalf("%v: SPKI differs from crypto/x509's", tc.kt)
		}
		p8, err := MarshalPKCS8PrivateKey(sk)
		if err != nil {
			t.Fatal(err)
		}
		stdP8, err := x509.MarshalPKCS8PrivateKey(sk)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(p8, stdP8) {
			t.Fatalf("%v: PKCS#8 differs from crypto/x509's", tc.kt)
		}
		back, err := x509.ParsePKCS8PrivateKey(p8)
		if err != nil || !back.(*mldsa.PrivateKey).Equal(sk) {
			t.Fatalf("%v: crypto/x509 cannot read our PKCS#8: %v", tc.kt, err)
		}
	}
}
