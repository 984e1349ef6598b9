package x509ext

import (
	"bytes"
	"crypto"
	"crypto/x509"

	"github.com/pkikit/pkikit/internal/alg"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Certificate is a parsed certificate of any supported algorithm: the standard library's *x509.Certificate, with
// every classical field usable, plus what Go 1.26's crypto/x509 cannot represent.
type Certificate struct {
	// Certificate is crypto/x509's parse of the same DER. For ML-DSA certificates on Go 1.26 its PublicKey is nil
	// and its SignatureAlgorithm unknown: use the fields below, which are always set.
	*x509.Certificate

	// PublicKey is the subject public key (ML-DSA keys as circl's *mldsa44/65/87.PublicKey).
	PublicKey crypto.PublicKey
	// KeyAlgorithm is the subject key's type.
	KeyAlgorithm KeyAlgorithm
	// SignatureAlgorithm is the algorithm of the issuer's signature, from the strictly parsed AlgorithmIdentifier.
	SignatureAlgorithm SignatureAlgorithm
}

// ParseCertificate parses one DER certificate of any supported algorithm. The AlgorithmIdentifiers are checked
// strictly (ML-DSA parameters absent, RFC 9881) and the outer signatureAlgorithm must equal the TBS signature
// field. Bad input gives an *Error matching ErrMalformed, ErrUnsupportedAlgorithm or ErrAlgorithmMismatch.
func ParseCertificate(der []byte) (*Certificate, error) {
	const op = "parse certificate"
	std, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, newErr(op, ErrMalformed, "", err)
	}
	outer, inner, err := signatureAlgorithmFields(der)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(outer, inner) {
		return nil, newErr(op, ErrAlgorithmMismatch, "signatureAlgorithm differs from tbsCertificate.signature", nil)
	}
	sigAlg, err := alg.ParseAlgorithmIdentifier(outer)
	if err != nil {
		return nil, newErr(op, ErrUnsupportedAlgorithm, "signature algorithm", err)
	}
	pub, kt, err := alg.ParsePKIXPublicKey(std.RawSubjectPublicKeyInfo)
	if err != nil {
		return nil, newErr(op, ErrUnsupportedAlgorithm, "subject public key", err)
	}
	return &Certificate{Certificate: std, PublicKey: pub, KeyAlgorithm: kt, SignatureAlgorithm: sigAlg}, nil
}

// signatureAlgorithmFields returns the DER of Certificate.signatureAlgorithm and of TBSCertificate.signature.
func signatureAlgorithmFields(der []byte) (outer, inner []byte, err error) {
	s := cryptobyte.String(der)
	var cert, tbs cryptobyte.String
	var outerAI, innerAI cryptobyte.String
	if !s.ReadASN1(&cert, cbasn1.SEQUENCE) || !cert.ReadASN1(&tbs, cbasn1.SEQUENCE) ||
		!cert.ReadASN1Element(&outerAI, cbasn1.SEQUENCE) {
		return nil, nil, newErr("parse certificate", ErrMalformed, "certificate structure", nil)
	}
	// TBSCertificate: [0] version OPTIONAL, serialNumber, signature AlgorithmIdentifier, ...
	if !tbs.SkipOptionalASN1(cbasn1.Tag(0).Constructed().ContextSpecific()) || !tbs.SkipASN1(cbasn1.INTEGER) ||
		!tbs.ReadASN1Element(&innerAI, cbasn1.SEQUENCE) {
		return nil, nil, newErr("parse certificate", ErrMalformed, "tbsCertificate structure", nil)
	}
	return outerAI, innerAI, nil
}

// CheckSignature verifies that signature is a valid signature over signed by c's public key under algorithm a.
func (c *Certificate) CheckSignature(a SignatureAlgorithm, signed, signature []byte) error {
	if c == nil {
		return newErr("check signature", ErrBadSignature, "nil certificate", nil)
	}
	if err := alg.Verify(c.PublicKey, a, signed, signature); err != nil {
		return newErr("check signature", ErrBadSignature, a.String(), err)
	}
	return nil
}

// CheckSignatureFrom verifies that parent's key signed c. Like crypto/x509, it requires parent to be able to sign
// certificates (a CA by basicConstraints, or a v1 certificate; keyCertSign if keyUsage is present) and its
// subject to be c's issuer; path validation (validity, pathLen, name constraints) is truststore's work.
func (c *Certificate) CheckSignatureFrom(parent *Certificate) error {
	const op = "check signature from parent"
	if c == nil || c.Certificate == nil {
		return newErr(op, ErrBadSignature, "nil certificate", nil)
	}
	if parent == nil || parent.Certificate == nil {
		return newErr(op, ErrNotIssuer, "nil parent", nil)
	}
	if parent.Version == 3 && !parent.BasicConstraintsValid || parent.BasicConstraintsValid && !parent.IsCA {
		return newErr(op, ErrNotIssuer, "parent is not a CA", nil)
	}
	if parent.KeyUsage != 0 && parent.KeyUsage&x509.KeyUsageCertSign == 0 {
		return newErr(op, ErrNotIssuer, "parent keyUsage lacks keyCertSign", nil)
	}
	if !bytes.Equal(c.RawIssuer, parent.RawSubject) {
		return newErr(op, ErrNotIssuer, "issuer name differs from parent subject", nil)
	}
	return c.CheckSignatureFromKey(parent.PublicKey)
}

// CheckSignatureFromKey verifies c's signature with a public key alone (no issuer checks): the low-level step.
func (c *Certificate) CheckSignatureFromKey(pub crypto.PublicKey) error {
	if c == nil || c.Certificate == nil {
		return newErr("check certificate signature", ErrBadSignature, "nil certificate", nil)
	}
	if err := alg.Verify(pub, c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature); err != nil {
		return newErr("check certificate signature", ErrBadSignature, c.SignatureAlgorithm.String(), err)
	}
	return nil
}
