package csr_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"log"

	"github.com/pkikit/pkikit/csr"
	"github.com/pkikit/pkikit/x509ext"
)

// A TLS server's request with an in-memory ECDSA key; a KMS or HSM signer is used the same way.
func ExampleCreate() {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	der, err := csr.Create(context.Background(), key, &csr.Template{
		Subject:  pkix.Name{CommonName: "www.example.com", Organization: []string{"Example"}},
		DNSNames: []string{"www.example.com", "example.com"},
	})
	if err != nil {
		log.Fatal(err)
	}
	req, err := csr.Parse(der)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(req.Subject)
	fmt.Println(req.DNSNames)
	fmt.Println(req.SignatureAlgorithm, req.CheckSignature() == nil)
	// Output:
	// CN=www.example.com,O=Example
	// [www.example.com example.com]
	// ECDSA-SHA256 true
}

// An ML-DSA-65 request with a challenge password, as PEM.
func ExampleCreate_mldsa() {
	key, err := x509ext.GenerateKey(x509ext.KeyMLDSA65)
	if err != nil {
		log.Fatal(err)
	}
	der, err := csr.Create(context.Background(), key, &csr.Template{
		Subject:           pkix.Name{CommonName: "pq.example.com"},
		DNSNames:          []string{"pq.example.com"},
		ChallengePassword: "one-time-secret",
	})
	if err != nil {
		log.Fatal(err)
	}
	req, err := csr.ParsePEM(csr.EncodePEM(der))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(req.KeyAlgorithm, req.SignatureAlgorithm, len(req.Signature))
	fmt.Println(req.ChallengePassword, req.CheckSignature() == nil)
	// Output:
	// ML-DSA-65 ML-DSA-65 3309
	// one-time-secret true
}

// The two-step form: the request info is signed somewhere else (here with crypto/ed25519 directly), then
// assembled into a request.
func ExampleNewTBS() {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	tbs, err := csr.NewTBS(pub, &csr.Template{Subject: pkix.Name{CommonName: "offline signer"}})
	if err != nil {
		log.Fatal(err)
	}
	signature := ed25519.Sign(priv, tbs) // made elsewhere
	der, err := csr.Assemble(tbs, x509ext.PureEd25519, signature)
	if err != nil {
		log.Fatal(err)
	}
	req, err := csr.Parse(der)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(req.Subject.CommonName, req.SignatureAlgorithm, req.CheckSignature() == nil)

	// A signature that does not match is refused.
	signature[0] ^= 1
	_, err = csr.Assemble(tbs, x509ext.PureEd25519, signature)
	fmt.Println(errors.Is(err, csr.ErrBadSignature))
	// Output:
	// offline signer Ed25519 true
	// true
}
