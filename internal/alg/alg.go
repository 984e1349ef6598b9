// Package alg is pkikit's one algorithm table: for every signature algorithm the library supports, its OID, its
// DER AlgorithmIdentifier, the key type it takes, how it hashes, and the single Sign and Verify used by x509ext,
// csr, cms, mdl and CRLs alike. Nothing outside pkikit imports it.
//
// Supported: ML-DSA-44/65/87 (FIPS 204 pure mode, empty context, RFC 9881/9882), ECDSA P-256/384/521 with
// SHA-256/384/512, RSA PKCS#1 v1.5 and RSASSA-PSS (RFC 4055, salt = hash length, MGF1 with the same hash) with
// SHA-256/384/512, and Ed25519 (RFC 8410). HashML-DSA is not supported (RFC 9881 forbids it in PKIX).
package alg

import (
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Algorithm is a signature algorithm. The zero value is Unknown.
type Algorithm uint8

const (
	Unknown Algorithm = iota
	MLDSA44
	MLDSA65
	MLDSA87
	ECDSAWithSHA256
	ECDSAWithSHA384
	ECDSAWithSHA512
	SHA256WithRSA
	SHA384WithRSA
	SHA512WithRSA
	SHA256WithRSAPSS
	SHA384WithRSAPSS
	SHA512WithRSAPSS
	PureEd25519
	numAlgorithms
)

// Family is the kind of key an algorithm takes.
type Family uint8

const (
	FamilyUnknown Family = iota
	FamilyMLDSA
	FamilyECDSA
	FamilyRSA
	FamilyEd25519
)

func (f Family) String() string {
	switch f {
	case FamilyMLDSA:
		return "ML-DSA"
	case FamilyECDSA:
		return "ECDSA"
	case FamilyRSA:
		return "RSA"
	case FamilyEd25519:
		return "Ed25519"
	}
	return "unknown"
}

// Object identifiers of the algorithms and keys in the table.
var (
	OIDMLDSA44         = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 17}
	OIDMLDSA65         = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 18}
	OIDMLDSA87         = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 19}
	OIDECDSAWithSHA256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	OIDECDSAWithSHA384 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
	OIDECDSAWithSHA512 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}
	OIDSHA256WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	OIDSHA384WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}
	OIDSHA512WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}
	OIDRSASSAPSS       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}
	OIDMGF1            = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 8}
	OIDEd25519         = asn1.ObjectIdentifier{1, 3, 101, 112}
	OIDPublicKeyRSA    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	OIDPublicKeyECDSA  = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	OIDSHA256          = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	OIDSHA384          = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	OIDSHA512          = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
	OIDSHA3_256        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 8}
	OIDSHA3_384        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 9}
	OIDSHA3_512        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 10}
	OIDSHAKE128        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 11}
	OIDSHAKE256        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 12}
	OIDNamedCurveP256  = asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}
	OIDNamedCurveP384  = asn1.ObjectIdentifier{1, 3, 132, 0, 34}
	OIDNamedCurveP521  = asn1.ObjectIdentifier{1, 3, 132, 0, 35}
)

type info struct {
	name    string
	oid     asn1.ObjectIdentifier
	family  Family
	hash    crypto.Hash // 0: the algorithm signs the message itself (ML-DSA, Ed25519)
	pss     bool
	x509    x509.SignatureAlgorithm
	mldsaKT KeyType // for ML-DSA: the one key type it takes
	aid     []byte  // DER AlgorithmIdentifier, computed once
}

var table [numAlgorithms]info

func init() {
	table = [numAlgorithms]info{
		MLDSA44:          {name: "ML-DSA-44", oid: OIDMLDSA44, family: FamilyMLDSA, mldsaKT: KeyMLDSA44},
		MLDSA65:          {name: "ML-DSA-65", oid: OIDMLDSA65, family: FamilyMLDSA, mldsaKT: KeyMLDSA65},
		MLDSA87:          {name: "ML-DSA-87", oid: OIDMLDSA87, family: FamilyMLDSA, mldsaKT: KeyMLDSA87},
		ECDSAWithSHA256:  {name: "ECDSA-SHA256", oid: OIDECDSAWithSHA256, family: FamilyECDSA, hash: crypto.SHA256, x509: x509.ECDSAWithSHA256},
		ECDSAWithSHA384:  {name: "ECDSA-SHA384", oid: OIDECDSAWithSHA384, family: FamilyECDSA, hash: crypto.SHA384, x509: x509.ECDSAWithSHA384},
		ECDSAWithSHA512:  {name: "ECDSA-SHA512", oid: OIDECDSAWithSHA512, family: FamilyECDSA, hash: crypto.SHA512, x509: x509.ECDSAWithSHA512},
		SHA256WithRSA:    {name: "SHA256-RSA", oid: OIDSHA256WithRSA, family: FamilyRSA, hash: crypto.SHA256, x509: x509.SHA256WithRSA},
		SHA384WithRSA:    {name: "SHA384-RSA", oid: OIDSHA384WithRSA, family: FamilyRSA, hash: crypto.SHA384, x509: x509.SHA384WithRSA},
		SHA512WithRSA:    {name: "SHA512-RSA", oid: OIDSHA512WithRSA, family: FamilyRSA, hash: crypto.SHA512, x509: x509.SHA512WithRSA},
		SHA256WithRSAPSS: {name: "SHA256-RSAPSS", oid: OIDRSASSAPSS, family: FamilyRSA, hash: crypto.SHA256, pss: true, x509: x509.SHA256WithRSAPSS},
		SHA384WithRSAPSS: {name: "SHA384-RSAPSS", oid: OIDRSASSAPSS, family: FamilyRSA, hash: crypto.SHA384, pss: true, x509: x509.SHA384WithRSAPSS},
		SHA512WithRSAPSS: {name: "SHA512-RSAPSS", oid: OIDRSASSAPSS, family: FamilyRSA, hash: crypto.SHA512, pss: true, x509: x509.SHA512WithRSAPSS},
		PureEd25519:      {name: "Ed25519", oid: OIDEd25519, family: FamilyEd25519, x509: x509.PureEd25519},
	}
	for a := Algorithm(1); a < numAlgorithms; a++ {
		table[a].aid = buildAlgorithmIdentifier(a)
	}
}

// All returns every supported algorithm, in table order.
func All() []Algorithm {
	out := make([]Algorithm, 0, numAlgorithms-1)
	for a := Algorithm(1); a < numAlgorithms; a++ {
		out = append(out, a)
	}
	return out
}

func (a Algorithm) valid() bool { return a > Unknown && a < numAlgorithms }

// String returns the algorithm's name ("ML-DSA-65", "ECDSA-SHA256", "SHA256-RSAPSS", ...).
func (a Algorithm) String() string {
	if !a.valid() {
		return fmt.Sprintf("Algorithm(%d)", uint8(a))
	}
	return table[a].name
}

// OID returns the algorithm's object identifier (for RSASSA-PSS, id-RSASSA-PSS).
func (a Algorithm) OID() asn1.ObjectIdentifier {
	if !a.valid() {
		return nil
	}
	return table[a].oid
}

// Family returns the key family the algorithm takes.
func (a Algorithm) Family() Family {
	if !a.valid() {
		return FamilyUnknown
	}
	return table[a].family
}

// Hash returns the hash the algorithm applies to the message before the private-key operation, or 0 for
// algorithms that take the message itself (ML-DSA, Ed25519).
func (a Algorithm) Hash() crypto.Hash {
	if !a.valid() {
		return 0
	}
	return table[a].hash
}

// IsPSS reports whether the algorithm is RSASSA-PSS.
func (a Algorithm) IsPSS() bool { return a.valid() && table[a].pss }

// IsPostQuantum reports whether the algorithm is ML-DSA.
func (a Algorithm) IsPostQuantum() bool { return a.Family() == FamilyMLDSA }

// X509 returns the crypto/x509 constant for the algorithm, or x509.UnknownSignatureAlgorithm for ML-DSA
// (which Go 1.26's crypto/x509 does not know).
func (a Algorithm) X509() x509.SignatureAlgorithm {
	if !a.valid() {
		return x509.UnknownSignatureAlgorithm
	}
	return table[a].x509
}

// FromX509 maps a crypto/x509 signature algorithm to the table.
func FromX509(s x509.SignatureAlgorithm) (Algorithm, error) {
	for a := Algorithm(1); a < numAlgorithms; a++ {
		if table[a].x509 == s && s != x509.UnknownSignatureAlgorithm {
			return a, nil
		}
	}
	return Unknown, errf("map x509 algorithm", ErrUnsupportedAlgorithm, s.String())
}

// ParseName maps a name as String returns it (case-sensitive) to the algorithm.
func ParseName(name string) (Algorithm, error) {
	for a := Algorithm(1); a < numAlgorithms; a++ {
		if table[a].name == name {
			return a, nil
		}
	}
	return Unknown, errf("parse algorithm name", ErrUnsupportedAlgorithm, name)
}

// SignerOpts returns the crypto.SignerOpts a crypto.Signer expects for this algorithm: the hash for ECDSA and
// RSA PKCS#1 v1.5, *rsa.PSSOptions with salt length = hash length for PSS, crypto.Hash(0) for ML-DSA and Ed25519.
func (a Algorithm) SignerOpts() crypto.SignerOpts {
	if !a.valid() {
		return crypto.Hash(0)
	}
	return signerOpts[a]
}

// MarshalAlgorithmIdentifier returns the DER AlgorithmIdentifier: parameters absent for ML-DSA, ECDSA and Ed25519
// (RFC 9881, RFC 5758, RFC 8410), NULL for RSA PKCS#1 v1.5 (RFC 4055), and RSASSA-PSS-params with the hash,
// MGF1 with the same hash and salt = hash length (RFC 4055, byte-identical to crypto/x509's). The returned slice
// is shared: do not modify it.
func (a Algorithm) MarshalAlgorithmIdentifier() []byte {
	if !a.valid() {
		return nil
	}
	return table[a].aid
}

// AddAlgorithmIdentifier appends the algorithm's DER AlgorithmIdentifier to b.
func (a Algorithm) AddAlgorithmIdentifier(b *cryptobyte.Builder) {
	b.AddBytes(a.MarshalAlgorithmIdentifier())
}

func hashAlgorithmOID(h crypto.Hash) asn1.ObjectIdentifier {
	switch h {
	case crypto.SHA256:
		return OIDSHA256
	case crypto.SHA384:
		return OIDSHA384
	case crypto.SHA512:
		return OIDSHA512
	}
	return nil
}

func buildAlgorithmIdentifier(a Algorithm) []byte {
	in := table[a]
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(in.oid)
		switch {
		case in.pss:
			addPSSParams(b, in.hash)
		case in.family == FamilyRSA:
			b.AddASN1NULL()
		}
	})
	return b.BytesOrPanic()
}

// addPSSParams writes RSASSA-PSS-params as crypto/x509 and OpenSSL do: hash and MGF1 hash with NULL parameters,
// the salt length, trailer field omitted (DEFAULT 1).
func addPSSParams(b *cryptobyte.Builder, h crypto.Hash) {
	hashAI := func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(hashAlgorithmOID(h))
			b.AddASN1NULL()
		})
	}
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), hashAI)
		b.AddASN1(cbasn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(OIDMGF1)
				hashAI(b)
			})
		})
		b.AddASN1(cbasn1.Tag(2).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1Int64(int64(h.Size()))
		})
	})
}

// ParseAlgorithmIdentifier parses a DER AlgorithmIdentifier (the whole SEQUENCE, nothing after it) strictly:
// ML-DSA, ECDSA and Ed25519 parameters must be absent; RSA PKCS#1 v1.5 parameters must be NULL or absent;
// RSASSA-PSS parameters must name SHA-256/384/512, MGF1 with the same hash, salt length equal to the hash
// length and the trailer field 1.
func ParseAlgorithmIdentifier(der []byte) (Algorithm, error) {
	s := cryptobyte.String(der)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() {
		return Unknown, errf("parse AlgorithmIdentifier", ErrInvalidParameters, "not a single DER SEQUENCE")
	}
	return parseAlgorithmIdentifierContents(seq)
}

// ReadAlgorithmIdentifier reads one AlgorithmIdentifier from s (for parsers built on cryptobyte).
func ReadAlgorithmIdentifier(s *cryptobyte.String) (Algorithm, error) {
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return Unknown, errf("parse AlgorithmIdentifier", ErrInvalidParameters, "not a DER SEQUENCE")
	}
	return parseAlgorithmIdentifierContents(seq)
}

func parseAlgorithmIdentifierContents(seq cryptobyte.String) (Algorithm, error) {
	const op = "parse AlgorithmIdentifier"
	var oid asn1.ObjectIdentifier
	if !seq.ReadASN1ObjectIdentifier(&oid) {
		return Unknown, errf(op, ErrInvalidParameters, "bad OID")
	}
	params := seq // whatever remains
	if oid.Equal(OIDRSASSAPSS) {
		return parsePSSParams(params)
	}
	for a := Algorithm(1); a < numAlgorithms; a++ {
		in := &table[a]
		if in.pss || !in.oid.Equal(oid) {
			continue
		}
		switch {
		case len(params) == 0:
			return a, nil
		case in.family == FamilyRSA && string(params) == "\x05\x00":
			return a, nil
		case in.family == FamilyMLDSA:
			return Unknown, errf(op, ErrInvalidParameters, in.name+" parameters must be absent (RFC 9881)")
		default:
			return Unknown, errf(op, ErrInvalidParameters, in.name+" has unexpected parameters")
		}
	}
	return Unknown, errf(op, ErrUnsupportedAlgorithm, oid.String())
}

func parsePSSParams(params cryptobyte.String) (Algorithm, error) {
	const op = "parse RSASSA-PSS parameters"
	var seq cryptobyte.String
	if !params.ReadASN1(&seq, cbasn1.SEQUENCE) || !params.Empty() {
		return Unknown, errf(op, ErrInvalidParameters, "parameters missing or malformed")
	}
	readHash := func(s *cryptobyte.String) (crypto.Hash, bool) {
		var ai cryptobyte.String
		var oid asn1.ObjectIdentifier
		if !s.ReadASN1(&ai, cbasn1.SEQUENCE) || !ai.ReadASN1ObjectIdentifier(&oid) {
			return 0, false
		}
		if !ai.Empty() && string(ai) != "\x05\x00" {
			return 0, false
		}
		switch {
		case oid.Equal(OIDSHA256):
			return crypto.SHA256, true
		case oid.Equal(OIDSHA384):
			return crypto.SHA384, true
		case oid.Equal(OIDSHA512):
			return crypto.SHA512, true
		}
		return 0, false
	}
	var hashField, mgfField, saltField, trailerField cryptobyte.String
	var hasHash, hasMGF, hasSalt, hasTrailer bool
	if !seq.ReadOptionalASN1(&hashField, &hasHash, cbasn1.Tag(0).Constructed().ContextSpecific()) ||
		!seq.ReadOptionalASN1(&mgfField, &hasMGF, cbasn1.Tag(1).Constructed().ContextSpecific()) ||
		!seq.ReadOptionalASN1(&saltField, &hasSalt, cbasn1.Tag(2).Constructed().ContextSpecific()) ||
		!seq.ReadOptionalASN1(&trailerField, &hasTrailer, cbasn1.Tag(3).Constructed().ContextSpecific()) ||
		!seq.Empty() {
		return Unknown, errf(op, ErrInvalidParameters, "malformed RSASSA-PSS-params")
	}
	if !hasHash || !hasMGF || !hasSalt {
		return Unknown, errf(op, ErrInvalidParameters, "SHA-1 defaults are not supported")
	}
	h, ok := readHash(&hashField)
	if !ok || !hashField.Empty() {
		return Unknown, errf(op, ErrInvalidParameters, "hash must be SHA-256, SHA-384 or SHA-512")
	}
	var mgf cryptobyte.String
	var mgfOID asn1.ObjectIdentifier
	if !mgfField.ReadASN1(&mgf, cbasn1.SEQUENCE) || !mgfField.Empty() || !mgf.ReadASN1ObjectIdentifier(&mgfOID) || !mgfOID.Equal(OIDMGF1) {
		return Unknown, errf(op, ErrInvalidParameters, "mask generation must be MGF1")
	}
	mh, ok := readHash(&mgf)
	if !ok || !mgf.Empty() || mh != h {
		return Unknown, errf(op, ErrInvalidParameters, "MGF1 hash must equal the message hash")
	}
	var salt int64
	if !saltField.ReadASN1Int64WithTag(&salt, cbasn1.INTEGER) || !saltField.Empty() || salt != int64(h.Size()) {
		return Unknown, errf(op, ErrInvalidParameters, "salt length must equal the hash length")
	}
	if hasTrailer {
		var t int64
		if !trailerField.ReadASN1Int64WithTag(&t, cbasn1.INTEGER) || !trailerField.Empty() || t != 1 {
			return Unknown, errf(op, ErrInvalidParameters, "trailer field must be 1")
		}
	}
	switch h {
	case crypto.SHA256:
		return SHA256WithRSAPSS, nil
	case crypto.SHA384:
		return SHA384WithRSAPSS, nil
	default:
		return SHA512WithRSAPSS, nil
	}
}
