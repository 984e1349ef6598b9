package alg

import (
	"crypto"
	"crypto/x509"
	"encoding/asn1"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// MarshalPKIXPublicKey returns the DER SubjectPublicKeyInfo of a public key of any supported type. For ML-DSA the
// AlgorithmIdentifier has no parameters and the BIT STRING holds the raw FIPS 204 public key (RFC 9881 §4).
func MarshalPKIXPublicKey(pub crypto.PublicKey) ([]byte, error) {
	kt, err := KeyTypeOf(pub)
	if err != nil {
		return nil, err
	}
	if kt.Family() != FamilyMLDSA {
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			return nil, wrap("marshal SPKI", ErrUnsupportedKey, "", err)
		}
		return der, nil
	}
	raw, err := MLDSAPublicKeyBytes(pub)
	if err != nil {
		return nil, err
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		kt.DefaultAlgorithm().AddAlgorithmIdentifier(b)
		b.AddASN1BitString(raw)
	})
	return b.Bytes()
}

// ParsePKIXPublicKey parses a DER SubjectPublicKeyInfo strictly (one SEQUENCE, nothing after it). ML-DSA keys
// (parameters must be absent, exact key length) come back as circl's *mldsa44/65/87.PublicKey; RSA, ECDSA and
// Ed25519 keys as crypto/x509 returns them.
func ParsePKIXPublicKey(der []byte) (crypto.PublicKey, KeyType, error) {
	const op = "parse SPKI"
	s := cryptobyte.String(der)
	var spki, aiSeq cryptobyte.String
	var oid asn1.ObjectIdentifier
	if !s.ReadASN1(&spki, cbasn1.SEQUENCE) || !s.Empty() || !spki.ReadASN1(&aiSeq, cbasn1.SEQUENCE) ||
		!aiSeq.ReadASN1ObjectIdentifier(&oid) {
		return nil, KeyUnknown, errf(op, ErrMalformedKey, "not a DER SubjectPublicKeyInfo")
	}
	for _, a := range []Algorithm{MLDSA44, MLDSA65, MLDSA87} {
		if !oid.Equal(table[a].oid) {
			continue
		}
		if !aiSeq.Empty() {
			return nil, KeyUnknown, errf(op, ErrInvalidParameters, table[a].name+" parameters must be absent (RFC 9881)")
		}
		var bits asn1.BitString
		if !spki.ReadASN1BitString(&bits) || !spki.Empty() || bits.BitLength%8 != 0 {
			return nil, KeyUnknown, errf(op, ErrMalformedKey, "bad subjectPublicKey BIT STRING")
		}
		kt := mldsaKeyTypeOfOID(a)
		pk, err := NewMLDSAPublicKey(kt, bits.Bytes)
		return pk, kt, err
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, KeyUnknown, wrap(op, ErrMalformedKey, "", err)
	}
	kt, err := KeyTypeOf(pub)
	if err != nil {
		return nil, KeyUnknown, err
	}
	if kt.Family() == FamilyMLDSA { // Go 1.27's x509 knows ML-DSA; we never get here for it, but stay total.
		pub, _ = stdlibMLDSAPublic(pub)
	}
	return pub, kt, nil
}
