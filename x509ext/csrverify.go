package x509ext

import (
	"crypto"
	"crypto/x509"

	"github.com/pkikit/pkikit/internal/alg"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// CheckCSRSignature verifies a certificate request's self-signature from its raw DER (csr.Raw) with pkikit's
// algorithm table, ML-DSA included, and returns the subject public key. crypto/x509's own CheckSignature
// cannot do this for ML-DSA on Go 1.26. Errors match ErrBadCSR.
func CheckCSRSignature(csr *x509.CertificateRequest) (crypto.PublicKey, error) {
	return verifyCSR(csr)
}

func verifyCSR(csr *x509.CertificateRequest) (crypto.PublicKey, error) {
	if csr == nil {
		return nil, newErr("verify CSR", ErrBadCSR, "nil CSR", nil)
	}
	v, err := verifyCSRDER(csr.Raw)
	if err != nil {
		return nil, err
	}
	return v.pub, nil
}

// verifiedCSR is what verifyCSRDER read from a request whose signature verified.
type verifiedCSR struct {
	pub  crypto.PublicKey
	spki []byte // DER SubjectPublicKeyInfo, as signed
}

// verifyCSRDER checks the self-signature of a DER CertificationRequest (RFC 2986) and returns its key.
func verifyCSRDER(raw []byte) (*verifiedCSR, error) {
	const op = "verify CSR"
	if len(raw) == 0 {
		return nil, newErr(op, ErrBadCSR, "no CSR DER (csr.Raw)", nil)
	}
	s := cryptobyte.String(raw)
	var req, cri cryptobyte.String
	if !s.ReadASN1(&req, cbasn1.SEQUENCE) || !s.Empty() || !req.ReadASN1Element(&cri, cbasn1.SEQUENCE) {
		return nil, newErr(op, ErrBadCSR, "not a DER CertificationRequest", nil)
	}
	a, err := alg.ReadAlgorithmIdentifier(&req)
	if err != nil {
		return nil, newErr(op, ErrBadCSR, "signature algorithm", err)
	}
	var bs cryptobyteBitString
	if !bs.read(&req) || !req.Empty() {
		return nil, newErr(op, ErrBadCSR, "signature BIT STRING", nil)
	}
	// The SPKI inside the signed info: version, subject, subjectPKInfo, attributes.
	body := cri
	var inner cryptobyte.String
	var spki cryptobyte.String
	if !body.ReadASN1(&inner, cbasn1.SEQUENCE) || !inner.SkipASN1(cbasn1.INTEGER) || !inner.SkipASN1(cbasn1.SEQUENCE) ||
		!inner.ReadASN1Element(&spki, cbasn1.SEQUENCE) {
		return nil, newErr(op, ErrBadCSR, "certificationRequestInfo", nil)
	}
	pub, _, err := alg.ParsePKIXPublicKey(spki)
	if err != nil {
		return nil, newErr(op, ErrBadCSR, "subject public key", err)
	}
	if err := alg.Verify(pub, a, cri, bs.bytes); err != nil {
		return nil, newErr(op, ErrBadCSR, "signature does not verify", err)
	}
	return &verifiedCSR{pub: pub, spki: spki}, nil
}

type cryptobyteBitString struct{ bytes []byte }

func (b *cryptobyteBitString) read(s *cryptobyte.String) bool {
	var bs cryptobyte.String
	if !s.ReadASN1(&bs, cbasn1.BIT_STRING) || len(bs) == 0 || bs[0] != 0 {
		return false
	}
	b.bytes = bs[1:]
	return true
}
