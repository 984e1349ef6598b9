package x509ext

import (
	"crypto"
	"errors"

	"github.com/pkikit/pkikit/internal/alg"
)

// SignatureAlgorithm is a signature algorithm of pkikit's algorithm table (ML-DSA-44/65/87, ECDSA with
// SHA-256/384/512, RSA PKCS#1 v1.5 and PSS with SHA-256/384/512, Ed25519).
type SignatureAlgorithm = alg.Algorithm

// The signature algorithms.
const (
	UnknownSignatureAlgorithm = alg.Unknown
	MLDSA44                   = alg.MLDSA44
	MLDSA65                   = alg.MLDSA65
	MLDSA87                   = alg.MLDSA87
	ECDSAWithSHA256           = alg.ECDSAWithSHA256
	ECDSAWithSHA384           = alg.ECDSAWithSHA384
	ECDSAWithSHA512           = alg.ECDSAWithSHA512
	SHA256WithRSA             = alg.SHA256WithRSA
	SHA384WithRSA             = alg.SHA384WithRSA
	SHA512WithRSA             = alg.SHA512WithRSA
	SHA256WithRSAPSS          = alg.SHA256WithRSAPSS
	SHA384WithRSAPSS          = alg.SHA384WithRSAPSS
	SHA512WithRSAPSS          = alg.SHA512WithRSAPSS
	PureEd25519               = alg.PureEd25519
)

// KeyAlgorithm is a key type and size.
type KeyAlgorithm = alg.KeyType

// The key algorithms GenerateKey makes (KeyRSAOther only verifies).
const (
	KeyMLDSA44   = alg.KeyMLDSA44
	KeyMLDSA65   = alg.KeyMLDSA65
	KeyMLDSA87   = alg.KeyMLDSA87
	KeyECDSAP256 = alg.KeyECDSAP256
	KeyECDSAP384 = alg.KeyECDSAP384
	KeyECDSAP521 = alg.KeyECDSAP521
	KeyRSA2048   = alg.KeyRSA2048
	KeyRSA3072   = alg.KeyRSA3072
	KeyRSA4096   = alg.KeyRSA4096
	KeyRSAOther  = alg.KeyRSAOther
	KeyEd25519   = alg.KeyEd25519
)

// MLDSAKeyForm chooses the RFC 9881 §6 encoding of an ML-DSA private key.
type MLDSAKeyForm = alg.MLDSAKeyForm

// The ML-DSA private key forms; FormSeed is the default and the one RFC 9881 recommends.
const (
	FormSeed     = alg.FormSeed
	FormExpanded = alg.FormExpanded
	FormBoth     = alg.FormBoth
)

// GenerateKey makes a private key in memory (ML-DSA keys are circl's and keep their seed).
func GenerateKey(k KeyAlgorithm) (crypto.Signer, error) {
	key, err := alg.GenerateKey(k)
	if err != nil {
		return nil, keyErr("generate key", err)
	}
	return key, nil
}

// KeyAlgorithmOf returns the type of a public or private key.
func KeyAlgorithmOf(key any) (KeyAlgorithm, error) {
	kt, err := alg.KeyTypeOf(key)
	if err != nil {
		return kt, keyErr("key algorithm", err)
	}
	return kt, nil
}

// MarshalPKIXPublicKey returns the DER SubjectPublicKeyInfo of any supported public key, ML-DSA included.
func MarshalPKIXPublicKey(pub crypto.PublicKey) ([]byte, error) {
	der, err := alg.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, keyErr("marshal public key", err)
	}
	return der, nil
}

// ParsePKIXPublicKey parses a DER SubjectPublicKeyInfo of any supported algorithm.
func ParsePKIXPublicKey(der []byte) (crypto.PublicKey, error) {
	pub, _, err := alg.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, keyErr("parse public key", err)
	}
	return pub, nil
}

// MarshalPKCS8PrivateKey writes a private key as PKCS#8 DER (ML-DSA: the seed form).
func MarshalPKCS8PrivateKey(key crypto.PrivateKey) ([]byte, error) {
	der, err := alg.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, keyErr("marshal private key", err)
	}
	return der, nil
}

// MarshalPKCS8PrivateKeyForm writes a private key as PKCS#8 DER with the ML-DSA form chosen.
func MarshalPKCS8PrivateKeyForm(key crypto.PrivateKey, form MLDSAKeyForm) ([]byte, error) {
	der, err := alg.MarshalPKCS8PrivateKeyForm(key, form)
	if err != nil {
		return nil, keyErr("marshal private key", err)
	}
	return der, nil
}

// ParsePKCS8PrivateKey parses a PKCS#8 private key of any supported algorithm; ML-DSA keys in all three RFC 9881
// forms, with inconsistent keys rejected.
func ParsePKCS8PrivateKey(der []byte) (crypto.Signer, error) {
	key, err := alg.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, keyErr("parse private key", err)
	}
	return key, nil
}

// keyErr wraps an error of the algorithm table in this package's *Error: ErrUnsupportedAlgorithm for keys and
// algorithms outside the table, ErrMalformed otherwise. The alg error stays reachable (errors.Is / As) as the
// cause; it never holds key material.
func keyErr(op string, err error) error {
	if errors.Is(err, alg.ErrUnsupportedAlgorithm) || errors.Is(err, alg.ErrUnsupportedKey) {
		return newErr(op, ErrUnsupportedAlgorithm, "", err)
	}
	return newErr(op, ErrMalformed, "", err)
}
