package alg

import (
	"bytes"
	"crypto"
	"crypto/subtle"
	"crypto/x509"
	"encoding/asn1"
	"fmt"

	"github.com/cloudflare/circl/sign/mldsa/mldsa44"
	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
	"github.com/cloudflare/circl/sign/mldsa/mldsa87"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// MLDSAKeyForm is one of the three RFC 9881 §6 encodings of an ML-DSA private key inside PKCS#8.
type MLDSAKeyForm uint8

const (
	// FormSeed writes `seed [0] OCTET STRING (SIZE (32))`: the form RFC 9881 recommends and the default.
	FormSeed MLDSAKeyForm = iota
	// FormExpanded writes the FIPS 204 expanded private key as an OCTET STRING.
	FormExpanded
	// FormBoth writes SEQUENCE { seed, expandedKey } (what `openssl genpkey` writes by default).
	FormBoth
)

func (f MLDSAKeyForm) String() string {
	switch f {
	case FormSeed:
		return "seed"
	case FormExpanded:
		return "expanded"
	case FormBoth:
		return "both"
	}
	return fmt.Sprintf("MLDSAKeyForm(%d)", uint8(f))
}

// MarshalPKCS8PrivateKey returns the PKCS#8 DER of a private key. ML-DSA keys are written in the seed form
// (RFC 9881's recommendation); use MarshalPKCS8PrivateKeyForm for the others. RSA, ECDSA and Ed25519 keys are
// written as crypto/x509 writes them.
func MarshalPKCS8PrivateKey(key crypto.PrivateKey) ([]byte, error) {
	return MarshalPKCS8PrivateKeyForm(key, FormSeed)
}

// MarshalPKCS8PrivateKeyForm is MarshalPKCS8PrivateKey with the ML-DSA form chosen. A key made from an expanded
// key alone has no seed: asking for FormSeed or FormBoth then fails with ErrNoSeed.
func MarshalPKCS8PrivateKeyForm(key crypto.PrivateKey, form MLDSAKeyForm) ([]byte, error) {
	const op = "marshal PKCS#8"
	var kt KeyType
	var seed, expanded []byte
	switch k := key.(type) {
	case *mldsa44.PrivateKey:
		kt, seed, expanded = KeyMLDSA44, k.Seed(), k.Bytes()
	case *mldsa65.PrivateKey:
		kt, seed, expanded = KeyMLDSA65, k.Seed(), k.Bytes()
	case *mldsa87.PrivateKey:
		kt, seed, expanded = KeyMLDSA87, k.Seed(), k.Bytes()
	default:
		if c, ok := stdlibMLDSAPrivate(key); ok {
			return MarshalPKCS8PrivateKeyForm(c, form)
		}
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, wrap(op, ErrUnsupportedKey, fmt.Sprintf("%T", key), err)
		}
		return der, nil
	}
	if form != FormExpanded && seed == nil {
		return nil, errf(op, ErrNoSeed, "the "+form.String()+" form needs the seed")
	}
	var inner cryptobyte.Builder
	switch form {
	case FormSeed:
		inner.AddASN1(cbasn1.Tag(0).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(seed) })
	case FormExpanded:
		inner.AddASN1OctetString(expanded)
	case FormBoth:
		inner.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1OctetString(seed)
			b.AddASN1OctetString(expanded)
		})
	default:
		return nil, errf(op, ErrUnsupportedKey, form.String())
	}
	innerDER, err := inner.Bytes()
	if err != nil {
		return nil, wrap(op, ErrMalformedKey, "", err)
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(0)
		kt.DefaultAlgorithm().AddAlgorithmIdentifier(b)
		b.AddASN1OctetString(innerDER)
	})
	return b.Bytes()
}

// ParsePKCS8PrivateKey parses a PKCS#8 (OneAsymmetricKey v1 or v2) private key. ML-DSA keys are accepted in all
// three RFC 9881 forms, chosen by tag (0x80 seed, 0x04 expanded, 0x30 both), and checked:
//   - both: the expanded key must equal the one derived from the seed;
//   - expanded: tr must be the hash of the public key computed from s1 and s2, and a pairwise sign/verify test
//     must pass (which catches a t0 that does not belong to s1/s2);
//   - v2 publicKey, when present, must match.
//
// A key failing a check is rejected with ErrInconsistentKey. ML-DSA keys come back as circl private keys;
// others as crypto/x509 returns them.
func ParsePKCS8PrivateKey(der []byte) (crypto.Signer, error) {
	const op = "parse PKCS#8"
	s := cryptobyte.String(der)
	var oak, aiSeq, privOctets cryptobyte.String
	var version int64
	var oid asn1.ObjectIdentifier
	if !s.ReadASN1(&oak, cbasn1.SEQUENCE) || !s.Empty() || !oak.ReadASN1Int64WithTag(&version, cbasn1.INTEGER) ||
		!oak.ReadASN1(&aiSeq, cbasn1.SEQUENCE) || !aiSeq.ReadASN1ObjectIdentifier(&oid) {
		return nil, errf(op, ErrMalformedKey, "not a DER OneAsymmetricKey")
	}
	var kt KeyType
	for _, a := range []Algorithm{MLDSA44, MLDSA65, MLDSA87} {
		if oid.Equal(table[a].oid) {
			kt = mldsaKeyTypeOfOID(a)
		}
	}
	if kt == KeyUnknown {
		key, err := x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			return nil, wrap(op, ErrMalformedKey, "", err)
		}
		signer, ok := key.(crypto.Signer)
		if !ok {
			return nil, errf(op, ErrUnsupportedKey, fmt.Sprintf("%T", key))
		}
		if _, err := KeyTypeOf(signer.Public()); err != nil {
			return nil, err
		}
		return signer, nil
	}
	if !aiSeq.Empty() {
		return nil, errf(op, ErrInvalidParameters, kt.String()+" parameters must be absent (RFC 9881)")
	}
	if version != 0 && version != 1 {
		return nil, errf(op, ErrMalformedKey, fmt.Sprintf("version %d", version))
	}
	if !oak.ReadASN1(&privOctets, cbasn1.OCTET_STRING) {
		return nil, errf(op, ErrMalformedKey, "privateKey OCTET STRING missing")
	}
	var pubBits cryptobyte.String
	var hasAttrs, hasPub bool
	if !oak.SkipOptionalASN1(cbasn1.Tag(0).Constructed().ContextSpecific()) ||
		!oak.ReadOptionalASN1(&pubBits, &hasPub, cbasn1.Tag(1).ContextSpecific()) || !oak.Empty() {
		return nil, errf(op, ErrMalformedKey, "trailing data in OneAsymmetricKey")
	}
	_ = hasAttrs
	if hasPub && version != 1 {
		return nil, errf(op, ErrMalformedKey, "publicKey needs version 1 (v2)")
	}
	key, err := parseMLDSAPrivate(kt, privOctets)
	if err != nil {
		return nil, err
	}
	if hasPub {
		// [1] IMPLICIT BIT STRING: first byte is the unused-bits count.
		if len(pubBits) < 1 || pubBits[0] != 0 {
			return nil, errf(op, ErrMalformedKey, "bad publicKey BIT STRING")
		}
		raw, _ := MLDSAPublicKeyBytes(key.Public())
		if !bytes.Equal(raw, pubBits[1:]) {
			return nil, errf(op, ErrInconsistentKey, "publicKey does not match the private key")
		}
	}
	return key, nil
}

func parseMLDSAPrivate(kt KeyType, inner cryptobyte.String) (crypto.Signer, error) {
	const op = "parse ML-DSA private key"
	expandedSize := map[KeyType]int{KeyMLDSA44: mldsa44.PrivateKeySize, KeyMLDSA65: mldsa65.PrivateKeySize, KeyMLDSA87: mldsa87.PrivateKeySize}[kt]
	var seed, expanded cryptobyte.String
	var tag cbasn1.Tag
	var body cryptobyte.String
	if !inner.ReadAnyASN1(&body, &tag) || !inner.Empty() {
		return nil, errf(op, ErrMalformedKey, "privateKey is not one DER element")
	}
	switch tag {
	case cbasn1.Tag(0).ContextSpecific(): // seed [0] IMPLICIT OCTET STRING
		seed = body
	case cbasn1.OCTET_STRING:
		expanded = body
	case cbasn1.SEQUENCE:
		if !body.ReadASN1(&seed, cbasn1.OCTET_STRING) || !body.ReadASN1(&expanded, cbasn1.OCTET_STRING) || !body.Empty() {
			return nil, errf(op, ErrMalformedKey, "both: want SEQUENCE { seed, expandedKey }")
		}
	default:
		return nil, errf(op, ErrMalformedKey, fmt.Sprintf("unknown private key form (tag 0x%x)", uint8(tag)))
	}
	if seed != nil && len(seed) != 32 {
		return nil, errf(op, ErrMalformedKey, fmt.Sprintf("seed must be 32 bytes, got %d", len(seed)))
	}
	if expanded != nil && len(expanded) != expandedSize {
		return nil, errf(op, ErrMalformedKey, fmt.Sprintf("%s expanded key must be %d bytes, got %d", kt, expandedSize, len(expanded)))
	}
	if seed != nil {
		key, err := NewMLDSAKeyFromSeed(kt, seed)
		if err != nil {
			return nil, err
		}
		if expanded != nil {
			derived, _ := MarshalPKCS8PrivateKeyForm(key, FormExpanded)
			want := derived[len(derived)-expandedSize:]
			if subtle.ConstantTimeCompare(want, expanded) != 1 {
				return nil, errf(op, ErrInconsistentKey, "expanded key does not match the seed")
			}
		}
		return key, nil
	}
	return fromExpanded(kt, expanded)
}

// fromExpanded loads an expanded-only key and checks it exactly as OpenSSL does (checkExpandedMLDSA): t0 and tr
// must be the ones s1 and s2 give.
func fromExpanded(kt KeyType, expanded []byte) (crypto.Signer, error) {
	const op = "parse ML-DSA expanded key"
	var key crypto.Signer
	var err error
	switch kt {
	case KeyMLDSA44:
		k := new(mldsa44.PrivateKey)
		err, key = k.UnmarshalBinary(expanded), k
	case KeyMLDSA65:
		k := new(mldsa65.PrivateKey)
		err, key = k.UnmarshalBinary(expanded), k
	default:
		k := new(mldsa87.PrivateKey)
		err, key = k.UnmarshalBinary(expanded), k
	}
	if err != nil {
		return nil, wrap(op, ErrMalformedKey, "", err)
	}
	pkRaw, err := MLDSAPublicKeyBytes(key.Public())
	if err != nil {
		return nil, err
	}
	if !checkExpandedMLDSA(kt, expanded, pkRaw) {
		return nil, errf(op, ErrInconsistentKey, "t0 or tr does not match s1 and s2")
	}
	return key, nil
}
