package alg

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha3"
	"fmt"

	"github.com/cloudflare/circl/sign/mldsa/mldsa44"
	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
	"github.com/cloudflare/circl/sign/mldsa/mldsa87"
)

// KeyType is a key family and size. The zero value is KeyUnknown.
type KeyType uint8

const (
	KeyUnknown KeyType = iota
	KeyMLDSA44
	KeyMLDSA65
	KeyMLDSA87
	KeyECDSAP256
	KeyECDSAP384
	KeyECDSAP521
	KeyRSA2048
	KeyRSA3072
	KeyRSA4096
	// KeyRSAOther is an RSA key of another size (≥ 2048 bits): it verifies, but GenerateKey does not make it.
	KeyRSAOther
	KeyEd25519
	numKeyTypes
)

var keyTypeNames = [numKeyTypes]string{
	KeyUnknown: "unknown", KeyMLDSA44: "ML-DSA-44", KeyMLDSA65: "ML-DSA-65", KeyMLDSA87: "ML-DSA-87",
	KeyECDSAP256: "ECDSA-P256", KeyECDSAP384: "ECDSA-P384", KeyECDSAP521: "ECDSA-P521",
	KeyRSA2048: "RSA-2048", KeyRSA3072: "RSA-3072", KeyRSA4096: "RSA-4096", KeyRSAOther: "RSA", KeyEd25519: "Ed25519",
}

func (k KeyType) String() string {
	if k >= numKeyTypes {
		return fmt.Sprintf("KeyType(%d)", uint8(k))
	}
	return keyTypeNames[k]
}

// KeyTypes returns every key type GenerateKey makes.
func KeyTypes() []KeyType {
	return []KeyType{KeyMLDSA44, KeyMLDSA65, KeyMLDSA87, KeyECDSAP256, KeyECDSAP384, KeyECDSAP521,
		KeyRSA2048, KeyRSA3072, KeyRSA4096, KeyEd25519}
}

// ParseKeyType maps a name as String returns it to a key type.
func ParseKeyType(name string) (KeyType, error) {
	for k := KeyType(1); k < numKeyTypes; k++ {
		if keyTypeNames[k] == name && k != KeyRSAOther {
			return k, nil
		}
	}
	return KeyUnknown, errf("parse key type", ErrUnsupportedKey, name)
}

// Family returns the key's family.
func (k KeyType) Family() Family {
	switch k {
	case KeyMLDSA44, KeyMLDSA65, KeyMLDSA87:
		return FamilyMLDSA
	case KeyECDSAP256, KeyECDSAP384, KeyECDSAP521:
		return FamilyECDSA
	case KeyRSA2048, KeyRSA3072, KeyRSA4096, KeyRSAOther:
		return FamilyRSA
	case KeyEd25519:
		return FamilyEd25519
	}
	return FamilyUnknown
}

// DefaultAlgorithm returns the algorithm a key of this type signs with unless told otherwise: the matching
// ML-DSA parameter set; ECDSA with the hash that matches the curve (P-256/SHA-256, P-384/SHA-384,
// P-521/SHA-512, as crypto/x509 and AWS KMS pair them); SHA-256 with RSA PKCS#1 v1.5; Ed25519.
func (k KeyType) DefaultAlgorithm() Algorithm {
	switch k {
	case KeyMLDSA44:
		return MLDSA44
	case KeyMLDSA65:
		return MLDSA65
	case KeyMLDSA87:
		return MLDSA87
	case KeyECDSAP256:
		return ECDSAWithSHA256
	case KeyECDSAP384:
		return ECDSAWithSHA384
	case KeyECDSAP521:
		return ECDSAWithSHA512
	case KeyRSA2048, KeyRSA3072, KeyRSA4096, KeyRSAOther:
		return SHA256WithRSA
	case KeyEd25519:
		return PureEd25519
	}
	return Unknown
}

// KeyTypeOf returns the type of a public key (or of a private key: anything with a Public method is asked).
// ML-DSA public keys are circl's *mldsa44/65/87.PublicKey; on Go 1.27 and later, the standard library's
// *mldsa.PublicKey is accepted too.
func KeyTypeOf(key any) (KeyType, error) {
	switch k := key.(type) {
	case *mldsa44.PublicKey:
		return KeyMLDSA44, nil
	case *mldsa65.PublicKey:
		return KeyMLDSA65, nil
	case *mldsa87.PublicKey:
		return KeyMLDSA87, nil
	case *ecdsa.PublicKey:
		if k == nil || k.Curve == nil {
			break
		}
		switch k.Curve {
		case elliptic.P256():
			return KeyECDSAP256, nil
		case elliptic.P384():
			return KeyECDSAP384, nil
		case elliptic.P521():
			return KeyECDSAP521, nil
		}
		return KeyUnknown, errf("key type", ErrUnsupportedKey, "ECDSA curve "+k.Curve.Params().Name)
	case *rsa.PublicKey:
		if k == nil || k.N == nil {
			break
		}
		switch k.N.BitLen() {
		case 2048:
			return KeyRSA2048, nil
		case 3072:
			return KeyRSA3072, nil
		case 4096:
			return KeyRSA4096, nil
		}
		if k.N.BitLen() < 2048 {
			return KeyUnknown, errf("key type", ErrUnsupportedKey, fmt.Sprintf("RSA key of %d bits is too small", k.N.BitLen()))
		}
		return KeyRSAOther, nil
	case ed25519.PublicKey:
		if len(k) == ed25519.PublicKeySize {
			return KeyEd25519, nil
		}
	// Private keys of known types are typed without Public(): circl's recomputes the ML-DSA public key.
	case *mldsa44.PrivateKey:
		return KeyMLDSA44, nil
	case *mldsa65.PrivateKey:
		return KeyMLDSA65, nil
	case *mldsa87.PrivateKey:
		return KeyMLDSA87, nil
	case *ecdsa.PrivateKey:
		if k != nil {
			return KeyTypeOf(&k.PublicKey)
		}
	case *rsa.PrivateKey:
		if k != nil {
			return KeyTypeOf(&k.PublicKey)
		}
	case ed25519.PrivateKey:
		if len(k) == ed25519.PrivateKeySize {
			return KeyEd25519, nil
		}
	case interface{ Public() crypto.PublicKey }:
		return KeyTypeOf(k.Public())
	default:
		if kt, ok := keyTypeOfStdlib(key); ok {
			return kt, nil
		}
	}
	return KeyUnknown, errf("key type", ErrUnsupportedKey, fmt.Sprintf("%T", key))
}

// CheckKey reports whether a public key can be used with the algorithm.
func (a Algorithm) CheckKey(pub crypto.PublicKey) error {
	kt, err := KeyTypeOf(pub)
	if err != nil {
		return err
	}
	return a.CheckKeyType(kt)
}

// CheckKeyType reports whether a key of type kt can be used with the algorithm.
func (a Algorithm) CheckKeyType(kt KeyType) error {
	if !a.valid() {
		return errf("check key", ErrUnsupportedAlgorithm, a.String())
	}
	in := &table[a]
	if in.family != kt.Family() || (in.family == FamilyMLDSA && in.mldsaKT != kt) {
		return errf("check key", ErrKeyMismatch, kt.String()+" key with "+in.name)
	}
	return nil
}

// GenerateKey makes a new private key of type kt with crypto/rand. ML-DSA keys are circl's
// *mldsa44/65/87.PrivateKey and keep their seed (so MarshalPKCS8PrivateKey writes the RFC 9881 seed form).
func GenerateKey(kt KeyType) (crypto.Signer, error) {
	switch kt {
	case KeyMLDSA44:
		_, sk, err := mldsa44.GenerateKey(rand.Reader)
		return sk, err
	case KeyMLDSA65:
		_, sk, err := mldsa65.GenerateKey(rand.Reader)
		return sk, err
	case KeyMLDSA87:
		_, sk, err := mldsa87.GenerateKey(rand.Reader)
		return sk, err
	case KeyECDSAP256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case KeyECDSAP384:
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case KeyECDSAP521:
		return ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	case KeyRSA2048:
		return rsa.GenerateKey(rand.Reader, 2048)
	case KeyRSA3072:
		return rsa.GenerateKey(rand.Reader, 3072)
	case KeyRSA4096:
		return rsa.GenerateKey(rand.Reader, 4096)
	case KeyEd25519:
		_, sk, err := ed25519.GenerateKey(rand.Reader)
		return sk, err
	}
	return nil, errf("generate key", ErrUnsupportedKey, kt.String())
}

// NewMLDSAKeyFromSeed derives the ML-DSA private key of type kt from its 32-byte seed (FIPS 204 ML-DSA.KeyGen_internal).
func NewMLDSAKeyFromSeed(kt KeyType, seed []byte) (crypto.Signer, error) {
	if len(seed) != 32 {
		return nil, errf("ML-DSA key from seed", ErrMalformedKey, "seed must be 32 bytes")
	}
	var s [32]byte
	copy(s[:], seed)
	switch kt {
	case KeyMLDSA44:
		_, sk := mldsa44.NewKeyFromSeed(&s)
		return sk, nil
	case KeyMLDSA65:
		_, sk := mldsa65.NewKeyFromSeed(&s)
		return sk, nil
	case KeyMLDSA87:
		_, sk := mldsa87.NewKeyFromSeed(&s)
		return sk, nil
	}
	return nil, errf("ML-DSA key from seed", ErrUnsupportedKey, kt.String())
}

// MLDSASeed returns the 32-byte seed of an ML-DSA private key, or nil if the key was made from an expanded key.
func MLDSASeed(key crypto.PrivateKey) []byte {
	switch k := key.(type) {
	case *mldsa44.PrivateKey:
		return k.Seed()
	case *mldsa65.PrivateKey:
		return k.Seed()
	case *mldsa87.PrivateKey:
		return k.Seed()
	}
	return nil
}

// MLDSAPublicKeyBytes returns the raw FIPS 204 encoding of an ML-DSA public key (what the SPKI BIT STRING holds).
func MLDSAPublicKeyBytes(pub crypto.PublicKey) ([]byte, error) {
	switch k := pub.(type) {
	case *mldsa44.PublicKey:
		return k.Bytes(), nil
	case *mldsa65.PublicKey:
		return k.Bytes(), nil
	case *mldsa87.PublicKey:
		return k.Bytes(), nil
	}
	if k, ok := stdlibMLDSAPublic(pub); ok {
		return MLDSAPublicKeyBytes(k)
	}
	return nil, errf("ML-DSA public key", ErrKeyMismatch, fmt.Sprintf("%T is not an ML-DSA public key", pub))
}

// NewMLDSAPublicKey decodes a raw FIPS 204 public key of type kt.
func NewMLDSAPublicKey(kt KeyType, raw []byte) (crypto.PublicKey, error) {
	const op = "ML-DSA public key"
	var want int
	switch kt {
	case KeyMLDSA44:
		want = mldsa44.PublicKeySize
	case KeyMLDSA65:
		want = mldsa65.PublicKeySize
	case KeyMLDSA87:
		want = mldsa87.PublicKeySize
	default:
		return nil, errf(op, ErrUnsupportedKey, kt.String())
	}
	if len(raw) != want {
		return nil, errf(op, ErrMalformedKey, fmt.Sprintf("%s public key must be %d bytes, got %d", kt, want, len(raw)))
	}
	var err error
	var pk crypto.PublicKey
	switch kt {
	case KeyMLDSA44:
		k := new(mldsa44.PublicKey)
		err, pk = k.UnmarshalBinary(raw), k
	case KeyMLDSA65:
		k := new(mldsa65.PublicKey)
		err, pk = k.UnmarshalBinary(raw), k
	default:
		k := new(mldsa87.PublicKey)
		err, pk = k.UnmarshalBinary(raw), k
	}
	if err != nil {
		return nil, wrap(op, ErrMalformedKey, "", err)
	}
	return pk, nil
}

func mldsaKeyTypeOfOID(oidAlg Algorithm) KeyType {
	if oidAlg.Family() == FamilyMLDSA {
		return table[oidAlg].mldsaKT
	}
	return KeyUnknown
}

// MatchesPublicKey reports whether signer's key is the private half of pub. For in-memory circl ML-DSA keys it
// compares ρ and tr = H(pk) stored in the private key with the public key, instead of calling Public(), which
// recomputes t1 (as costly as a verification); key parsing already checked that tr belongs to the key.
func MatchesPublicKey(signer crypto.Signer, pub crypto.PublicKey) bool {
	if signer == nil || pub == nil {
		return false
	}
	var packed []byte
	switch k := signer.(type) {
	case *mldsa44.PrivateKey:
		var b [mldsa44.PrivateKeySize]byte
		k.Pack(&b)
		packed = b[:128]
	case *mldsa65.PrivateKey:
		var b [mldsa65.PrivateKeySize]byte
		k.Pack(&b)
		packed = b[:128]
	case *mldsa87.PrivateKey:
		var b [mldsa87.PrivateKeySize]byte
		k.Pack(&b)
		packed = b[:128]
	default:
		p, ok := signer.Public().(interface{ Equal(crypto.PublicKey) bool })
		if !ok {
			return false
		}
		if c, conv := stdlibMLDSAPublic(pub); conv {
			pub = c
		}
		if p.Equal(pub) {
			return true
		}
		if c, conv := stdlibMLDSAPublic(signer.Public()); conv {
			return c.(interface{ Equal(crypto.PublicKey) bool }).Equal(pub)
		}
		return false
	}
	kt, _ := KeyTypeOf(signer)
	if pkt, err := KeyTypeOf(pub); err != nil || pkt != kt {
		return false
	}
	raw, err := MLDSAPublicKeyBytes(pub)
	if err != nil {
		return false
	}
	return bytes.Equal(packed[:32], raw[:32]) && bytes.Equal(packed[64:128], sha3.SumSHAKE256(raw, 64))
}
