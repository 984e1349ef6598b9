package csr

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"testing"

	"github.com/cloudflare/circl/sign/mldsa/mldsa44"
	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
	"github.com/cloudflare/circl/sign/mldsa/mldsa87"
	"github.com/pkikit/pkikit/x509ext"
)

// signElsewhere signs msg with the raw primitives (not through pkikit's algorithm layer), as a signature made
// in another system would be.
func signElsewhere(t testing.TB, key crypto.Signer, a x509ext.SignatureAlgorithm, msg []byte) []byte {
	t.Helper()
	var sig []byte
	var err error
	digest := func() []byte {
		h := a.Hash().New()
		h.Write(msg)
		return h.Sum(nil)
	}
	switch k := key.(type) {
	case *mldsa44.PrivateKey:
		sig = make([]byte, mldsa44.SignatureSize)
		err = mldsa44.SignTo(k, msg, nil, false, sig)
	case *mldsa65.PrivateKey:
		sig = make([]byte, mldsa65.SignatureSize)
		err = mldsa65.SignTo(k, msg, nil, false, sig)
	case *mldsa87.PrivateKey:
		sig = make([]byte, mldsa87.SignatureSize)
		err = mldsa87.SignTo(k, msg, nil, false, sig)
	case *ecdsa.PrivateKey:
		sig, err = ecdsa.SignASN1(rand.Reader, k, digest())
	case *rsa.PrivateKey:
		if a.IsPSS() {
			sig, err = rsa.SignPSS(rand.Reader, k, a.Hash(), digest(), &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		} else {
			sig, err = rsa.SignPKCS1v15(rand.Reader, k, a.Hash(), digest())
		}
	case ed25519.PrivateKey:
		sig = ed25519.Sign(k, msg)
	default:
		t.Fatalf("signElsewhere: %T", key)
	}
	if err != nil {
		t.Fatal(err)
	}
	return sig
}
