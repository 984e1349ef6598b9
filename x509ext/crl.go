package x509ext

import (
	"bytes"
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"time"

	"github.com/pkikit/pkikit/internal/alg"
	"github.com/pkikit/pkikit/internal/der"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// RevocationReason is a CRLReason (RFC 5280 §5.3.1).
type RevocationReason int

// The CRL reason codes (value 7 is unused in RFC 5280).
const (
	ReasonUnspecified          RevocationReason = 0
	ReasonKeyCompromise        RevocationReason = 1
	ReasonCACompromise         RevocationReason = 2
	ReasonAffiliationChanged   RevocationReason = 3
	ReasonSuperseded           RevocationReason = 4
	ReasonCessationOfOperation RevocationReason = 5
	ReasonCertificateHold      RevocationReason = 6
	ReasonRemoveFromCRL        RevocationReason = 8
	ReasonPrivilegeWithdrawn   RevocationReason = 9
	ReasonAACompromise         RevocationReason = 10
)

var reasonNames = map[RevocationReason]string{
	ReasonUnspecified: "unspecified", ReasonKeyCompromise: "keyCompromise", ReasonCACompromise: "cACompromise",
	ReasonAffiliationChanged: "affiliationChanged", ReasonSuperseded: "superseded",
	ReasonCessationOfOperation: "cessationOfOperation", ReasonCertificateHold: "certificateHold",
	ReasonRemoveFromCRL: "removeFromCRL", ReasonPrivilegeWithdrawn: "privilegeWithdrawn", ReasonAACompromise: "aACompromise",
}

// String returns the RFC 5280 name of the reason.
func (r RevocationReason) String() string {
	if n, ok := reasonNames[r]; ok {
		return n
	}
	return fmt.Sprintf("RevocationReason(%d)", int(r))
}

// Valid reports whether r is one of the RFC 5280 reason codes.
func (r RevocationReason) Valid() bool { _, ok := reasonNames[r]; return ok }

// RevokedCertificate is one CRL entry.
type RevokedCertificate struct {
	SerialNumber   *big.Int
	RevocationTime time.Time
	// Reason is written as a reasonCode entry extension, except ReasonUnspecified, which RFC 5280 §5.3.1 says
	// should be left out.
	Reason RevocationReason
}

// CRLRequest describes a CRL to make.
type CRLRequest struct {
	// Number is the cRLNumber (non-negative, at most 20 octets); nil uses ThisUpdate as Unix seconds, which
	// grows with every CRL made later.
	Number *big.Int
	// ThisUpdate defaults to the issuer's clock. NextUpdate defaults to ThisUpdate + Validity; one of them is
	// required.
	ThisUpdate time.Time
	NextUpdate time.Time
	Validity   time.Duration
	// Revoked lists the revoked certificates (serial numbers must be distinct).
	Revoked []RevokedCertificate
	// ExtraExtensions are added to crlExtensions after AKI and cRLNumber.
	ExtraExtensions []pkix.Extension
}

// CRL is a parsed CRL of any supported algorithm: the standard library's *x509.RevocationList plus the
// strictly parsed signature algorithm (crypto/x509 on Go 1.26 does not know ML-DSA).
type CRL struct {
	*x509.RevocationList
	SignatureAlgorithm SignatureAlgorithm
}

// CreateCRL makes and signs (one alg.Sign call) a version 2 CRL with authorityKeyIdentifier and cRLNumber, and
// one entry per revoked certificate with its revocation date and reason code. The issuer must be a CA whose
// keyUsage, if present, has cRLSign.
func (i *Issuer) CreateCRL(ctx context.Context, req *CRLRequest) (*CRL, error) {
	const op = "create CRL"
	if i == nil || i.Certificate == nil || i.Certificate.Certificate == nil || i.Signer == nil {
		return nil, newErr(op, ErrNotIssuer, "issuer needs a certificate and a signer", nil)
	}
	if req == nil {
		return nil, newErr(op, ErrInvalidRequest, "nil request", nil)
	}
	ic := i.Certificate
	if !ic.BasicConstraintsValid || !ic.IsCA {
		return nil, newErr(op, ErrNotIssuer, "issuer is not a CA", nil)
	}
	if ic.KeyUsage != 0 && ic.KeyUsage&x509.KeyUsageCRLSign == 0 {
		return nil, newErr(op, ErrNotIssuer, "issuer keyUsage lacks cRLSign", nil)
	}
	if !signerMatches(i.Signer, ic.PublicKey) {
		return nil, newErr(op, ErrSignerMismatch, "signer's public key is not the issuer certificate's", nil)
	}
	a, err := pickAlgorithm(op, ic.PublicKey, i.Algorithm, nil)
	if err != nil {
		return nil, err
	}
	now := time.Now
	if i.Now != nil {
		now = i.Now
	}
	this := req.ThisUpdate
	if this.IsZero() {
		this = now()
	}
	this = this.UTC().Truncate(time.Second)
	next := req.NextUpdate
	if next.IsZero() {
		if req.Validity <= 0 {
			return nil, newErr(op, ErrInvalidRequest, "neither NextUpdate nor Validity given", nil)
		}
		next = this.Add(req.Validity)
	}
	next = next.UTC().Truncate(time.Second)
	if !next.After(this) {
		return nil, newErr(op, ErrInvalidRequest, "NextUpdate is not after ThisUpdate", nil)
	}
	if this.Year() < 1950 || next.Year() > 9999 {
		return nil, newErr(op, ErrInvalidRequest, "times outside the years 1950..9999", nil)
	}
	number := req.Number
	if number == nil {
		number = big.NewInt(this.Unix())
	}
	if number.Sign() < 0 || number.BitLen() > 159 { // RFC 5280 §5.2.3: at most 20 octets of DER contents
		return nil, newErr(op, ErrInvalidRequest, "cRLNumber must be non-negative and at most 20 octets", nil)
	}
	seen := make(map[string]bool, len(req.Revoked))
	for _, r := range req.Revoked {
		switch {
		case !validSerial(r.SerialNumber):
			return nil, newErr(op, ErrInvalidRequest, "revoked serial number must be positive and at most 20 octets", nil)
		case seen[string(r.SerialNumber.Bytes())]:
			return nil, newErr(op, ErrInvalidRequest, "serial number "+r.SerialNumber.Text(16)+" listed twice", nil)
		case !r.Reason.Valid():
			return nil, newErr(op, ErrInvalidRequest, "unknown reason code "+r.Reason.String(), nil)
		case r.Reason == ReasonRemoveFromCRL:
			return nil, newErr(op, ErrInvalidRequest, "removeFromCRL is only for delta CRLs (RFC 5280 §5.3.1)", nil)
		case r.RevocationTime.IsZero() || r.RevocationTime.Year() < 1950 || r.RevocationTime.Year() > 9999:
			return nil, newErr(op, ErrInvalidRequest, "revocation time missing or out of range", nil)
		}
		seen[string(r.SerialNumber.Bytes())] = true
	}
	for k, e := range req.ExtraExtensions {
		if len(e.Id) < 2 || !isOneElement(e.Value) || e.Id.Equal(OIDExtensionAuthorityKeyID) || e.Id.Equal(OIDExtensionCRLNumber) ||
			hasOID(req.ExtraExtensions[:k], e.Id) {
			return nil, newErr(op, ErrInvalidRequest, "bad or duplicate CRL extension", nil)
		}
	}
	aki := ic.SubjectKeyId
	if len(aki) == 0 {
		aki = subjectKeyID(ic.RawSubjectPublicKeyInfo)
	}

	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(1) // v2
		a.AddAlgorithmIdentifier(b)
		b.AddBytes(ic.RawSubject)
		addTime(b, this)
		addTime(b, next)
		if len(req.Revoked) > 0 {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				for _, r := range req.Revoked {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1BigInt(r.SerialNumber)
						addTime(b, r.RevocationTime.UTC().Truncate(time.Second))
						if r.Reason != ReasonUnspecified {
							b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
								var v cryptobyte.Builder
								v.AddASN1Enum(int64(r.Reason))
								der.AddExtension(b, extension(OIDExtensionReasonCode, false, v.BytesOrPanic()))
							})
						}
					})
				}
			})
		}
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				der.AddExtension(b, extension(OIDExtensionAuthorityKeyID, false, marshalAuthorityKeyID(aki)))
				var n cryptobyte.Builder
				n.AddASN1BigInt(number)
				der.AddExtension(b, extension(OIDExtensionCRLNumber, false, n.BytesOrPanic()))
				for _, e := range req.ExtraExtensions {
					der.AddExtension(b, e)
				}
			})
		})
	})
	tbs, err := b.Bytes()
	if err != nil {
		return nil, newErr(op, ErrInvalidRequest, "encode tbsCertList", err)
	}
	sig, err := alg.Sign(ctx, i.Signer, a, tbs)
	if err != nil {
		return nil, newErr(op, ErrSignerFailed, "signing failed", err)
	}
	var out cryptobyte.Builder
	out.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(tbs)
		a.AddAlgorithmIdentifier(b)
		b.AddASN1BitString(sig)
	})
	crlDER, err := out.Bytes()
	if err != nil {
		return nil, newErr(op, ErrInvalidRequest, "encode CRL", err)
	}
	return ParseCRL(crlDER)
}

// ParseCRL parses a DER CRL of any supported algorithm. The signature AlgorithmIdentifiers are parsed strictly
// and the outer one must equal the one inside tbsCertList. Errors match ErrMalformed, ErrUnsupportedAlgorithm or
// ErrAlgorithmMismatch.
func ParseCRL(crlDER []byte) (*CRL, error) {
	const op = "parse CRL"
	rl, err := x509.ParseRevocationList(crlDER)
	if err != nil {
		return nil, newErr(op, ErrMalformed, "", err)
	}
	s := cryptobyte.String(crlDER)
	var list, tbs, outer, inner cryptobyte.String
	if !s.ReadASN1(&list, cbasn1.SEQUENCE) || !s.Empty() || !list.ReadASN1(&tbs, cbasn1.SEQUENCE) ||
		!list.ReadASN1Element(&outer, cbasn1.SEQUENCE) {
		return nil, newErr(op, ErrMalformed, "CRL structure", nil)
	}
	if tbs.PeekASN1Tag(cbasn1.INTEGER) && !tbs.SkipASN1(cbasn1.INTEGER) {
		return nil, newErr(op, ErrMalformed, "tbsCertList version", nil)
	}
	if !tbs.ReadASN1Element(&inner, cbasn1.SEQUENCE) {
		return nil, newErr(op, ErrMalformed, "tbsCertList signature", nil)
	}
	if !bytes.Equal(outer, inner) {
		return nil, newErr(op, ErrAlgorithmMismatch, "signatureAlgorithm differs from tbsCertList.signature", nil)
	}
	a, err := alg.ParseAlgorithmIdentifier(outer)
	if err != nil {
		return nil, newErr(op, ErrUnsupportedAlgorithm, "signature algorithm", err)
	}
	return &CRL{RevocationList: rl, SignatureAlgorithm: a}, nil
}

// CheckSignatureFrom verifies that issuer signed the CRL: issuer's subject must be the CRL's issuer, issuer
// must be a CA with cRLSign (when keyUsage is present), and the signature must verify.
func (c *CRL) CheckSignatureFrom(issuer *Certificate) error {
	const op = "check CRL signature"
	if c == nil || c.RevocationList == nil {
		return newErr(op, ErrBadSignature, "nil CRL", nil)
	}
	if issuer == nil || issuer.Certificate == nil {
		return newErr(op, ErrNotIssuer, "nil issuer", nil)
	}
	if issuer.Version == 3 && !issuer.BasicConstraintsValid || issuer.BasicConstraintsValid && !issuer.IsCA {
		return newErr(op, ErrNotIssuer, "issuer is not a CA", nil)
	}
	if issuer.KeyUsage != 0 && issuer.KeyUsage&x509.KeyUsageCRLSign == 0 {
		return newErr(op, ErrNotIssuer, "issuer keyUsage lacks cRLSign", nil)
	}
	if !bytes.Equal(c.RawIssuer, issuer.RawSubject) {
		return newErr(op, ErrNotIssuer, "CRL issuer differs from the certificate's subject", nil)
	}
	if err := alg.Verify(issuer.PublicKey, c.SignatureAlgorithm, c.RawTBSRevocationList, c.Signature); err != nil {
		return newErr(op, ErrBadSignature, c.SignatureAlgorithm.String(), err)
	}
	return nil
}

// Reason returns the reason code of a parsed CRL entry (ReasonUnspecified when the entry has none).
func Reason(e x509.RevocationListEntry) RevocationReason { return RevocationReason(e.ReasonCode) }
