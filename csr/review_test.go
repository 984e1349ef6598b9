package csr

import (
	"context"
	"crypto/x509/pkix"
	"errors"
	"testing"

	"github.com/pkikit/pkikit/internal/der"
	"github.com/pkikit/pkikit/x509ext"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// TestSignerPublicCacheKeepsKeysApart: requests made alternately with two ML-DSA keys of each parameter set carry
// each its own signer's key (the remembered public keys are per key object) and verify.
func TestSignerPublicCacheKeepsKeysApart(t *testing.T) {
	for _, kt := range []x509ext.KeyAlgorithm{x509ext.KeyMLDSA44, x509ext.KeyMLDSA65, x509ext.KeyMLDSA87} {
		a, err := x509ext.GenerateKey(kt)
		if err != nil {
			t.Fatal(err)
		}
		b, err := x509ext.GenerateKey(kt)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 4; i++ {
			k := a
			if i%2 == 1 {
				k = b
			}
			der, err := Create(context.Background(), k, nil)
			if err != nil {
				t.Fatal(err)
			}
			req, err := Parse(der)
			if err != nil {
				t.Fatal(err)
			}
			if err := req.CheckSignature(); err != nil {
				t.Fatal(err)
			}
			want, _ := x509ext.MarshalPKIXPublicKey(k.Public())
			if string(req.RawSubjectPublicKeyInfo) != string(want) {
				t.Fatalf("%v request %d carries another key", kt, i)
			}
		}
	}
}

// TestParseRefusesDuplicateRequestedExtension: an extensionRequest that asks for the same extension twice is
// ambiguous (which one would a CA take?) and is refused; the same request with the extension once parses.
func TestParseRefusesDuplicateRequestedExtension(t *testing.T) {
	key := testKey(t, x509ext.KeyECDSAP256)
	ext := der.MarshalExtension(pkix.Extension{Id: OIDSubjectAltName, Value: []byte{0x30, 0x03, 0x82, 0x01, 'a'}})
	seq := func(exts ...[]byte) []byte {
		var b cryptobyte.Builder
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			for _, e := range exts {
				b.AddBytes(e)
			}
		})
		return b.BytesOrPanic()
	}
	for _, c := range []struct {
		name string
		val  []byte
		ok   bool
	}{{"once", seq(ext), true}, {"twice", seq(ext, ext), false}} {
		der, err := Create(context.Background(), key, &Template{Subject: pkix.Name{CommonName: "dup"},
			Attributes: []Attribute{{Type: OIDExtensionRequest, Values: [][]byte{c.val}}}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = Parse(der)
		if c.ok && err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !c.ok && !errors.Is(err, ErrMalformed) {
			t.Fatalf("%s: got %v, want ErrMalformed", c.name, err)
		}
	}
}
