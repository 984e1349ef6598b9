package x509ext

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/pkikit/pkikit/internal/alg"
	"github.com/pkikit/pkikit/internal/der"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Issuer is a CA: its certificate and a signer holding that certificate's key (in memory, in a KMS, in an HSM:
// any crypto.Signer; context-aware signers get Issue's context).
type Issuer struct {
	Certificate *Certificate
	Signer      crypto.Signer
	// Algorithm is the signature algorithm; the zero value uses the signer key's default (ML-DSA: its own
	// parameter set; ECDSA P-256/384/521: SHA-256/384/512; RSA: SHA-256 PKCS#1 v1.5; Ed25519).
	Algorithm SignatureAlgorithm
	// Policy, when set, is checked on every certificate Issue makes (ErrPolicy).
	Policy *Policy
	// Now is the clock for default validity start and CRL times; nil means time.Now.
	Now func() time.Time
}

// IssueRequest is what the requester and the CA operator ask for; the Profile decides the rest.
type IssueRequest struct {
	// Profile is the certificate profile (EndEntityCertificateV1, ...). Required.
	Profile Profile

	// PublicKey is the subject public key. Give it, or CSR, or both (they must then be the same key).
	PublicKey crypto.PublicKey
	// CSR is a certificate request as crypto/x509 (or pkikit's csr package) parsed it. Issue verifies its
	// signature itself from csr.Raw (ML-DSA included) and takes the key, subject and subjectAltName from it
	// when the request does not give them. Everything is read from csr.Raw, the bytes whose signature was
	// verified: the other fields of the struct are not used.
	CSR *x509.CertificateRequest

	// Subject is the subject name; if empty, the API passthrough's subject, then the CSR's, are used.
	Subject pkix.Name
	// Subject alternative names; if all are empty, the API passthrough's, then the CSR's, are used.
	DNSNames       []string
	EmailAddresses []string
	IPAddresses    []net.IP
	URIs           []*url.URL

	// NotBefore defaults to the issuer's clock (Now). NotAfter defaults to NotBefore + Validity; one of them is
	// required.
	NotBefore time.Time
	NotAfter  time.Time
	Validity  time.Duration

	// SerialNumber defaults to 126 random bits (positive, 16 octets). A given one must be positive and at most
	// 20 octets (RFC 5280 §4.1.2.2).
	SerialNumber *big.Int

	// CRLDistributionPoints, OCSPServers, IssuingCertificateURLs (AIA caIssuers), IssuerAltName and Policies add
	// the corresponding extensions.
	CRLDistributionPoints  []string
	OCSPServers            []string
	IssuingCertificateURLs []string
	IssuerAltName          AltNames
	Policies               []CertificatePolicy

	// ExtraExtensions are added as given (OID, critical, DER value). An OID that Issue writes itself
	// (basicConstraints, keyUsage, SKI, ...) is refused with ErrInvalidRequest.
	ExtraExtensions []pkix.Extension

	// APIPassthrough carries AWS-style passthrough values; only profiles with APIPassthrough accept it.
	APIPassthrough *APIPassthrough

	// SignatureAlgorithm overrides the issuer's algorithm (for SelfSign, the only way to choose it).
	SignatureAlgorithm SignatureAlgorithm

	// Now, when set, is the clock for a default NotBefore (it overrides Issuer.Now; SelfSign has no other).
	// Nil falls back to Issuer.Now, then time.Now.
	Now func() time.Time
}

// Draft is the content of a certificate about to be signed, as a Profile's Check hook and Policy see it.
type Draft struct {
	Profile               *Profile
	Issuer                *Certificate // nil when self-signed
	Subject               pkix.Name
	RawSubject            []byte
	PublicKey             crypto.PublicKey
	KeyAlgorithm          KeyAlgorithm
	SerialNumber          *big.Int
	NotBefore             time.Time
	NotAfter              time.Time
	IsCA                  bool
	MaxPathLen            int // -1: none
	KeyUsage              x509.KeyUsage
	ExtKeyUsage           []x509.ExtKeyUsage
	UnknownExtKeyUsage    []asn1.ObjectIdentifier
	SubjectAltNames       AltNames
	IssuerAltName         AltNames
	CRLDistributionPoints []string
	// Extensions is the complete, ordered extension list that will be signed.
	Extensions []pkix.Extension
	// SignatureAlgorithm is the issuer's signature algorithm.
	SignatureAlgorithm SignatureAlgorithm
}

// HasExtension reports whether the draft carries an extension with this OID.
func (d *Draft) HasExtension(oid asn1.ObjectIdentifier) bool {
	for _, e := range d.Extensions {
		if e.Id.Equal(oid) {
			return true
		}
	}
	return false
}

// Issue makes, signs (one alg.Sign call through i.Signer) and returns a certificate. It refuses, with an
// *Error, an issuer that is not a CA or whose signer does not hold its key (ErrNotIssuer, ErrSignerMismatch), a
// certificate that would outlive its issuer (ErrOutlivesIssuer), a CA certificate the issuer's pathLen forbids
// (ErrPathLen; a self-issued CA certificate, subject = issuer, does not count towards the path length, RFC 5280
// §6.1.4, and may repeat but not exceed the issuer's pathLen), a CA certificate with an empty subject or a
// certificate with neither subject nor subjectAltName (ErrInvalidRequest), a key usage the subject key cannot
// have (ErrProfileKeyMismatch), a CSR whose signature does not
// verify (ErrBadCSR), passthrough values with a profile that takes none (ErrPassthroughNotAllowed), and anything
// the profile or the issuer's Policy forbids (ErrProfileRequirement, ErrPolicy). A signer that fails or returns
// a signature that does not verify gives ErrSignerFailed; a cancelled ctx also matches context.Canceled.
func (i *Issuer) Issue(ctx context.Context, req *IssueRequest) (*Certificate, error) {
	const op = "issue"
	if i == nil || i.Certificate == nil || i.Certificate.Certificate == nil || i.Signer == nil {
		return nil, newErr(op, ErrNotIssuer, "issuer needs a certificate and a signer", nil)
	}
	if req == nil {
		return nil, newErr(op, ErrInvalidRequest, "nil request", nil)
	}
	ic := i.Certificate
	if !ic.BasicConstraintsValid || !ic.IsCA {
		return nil, newErr(op, ErrNotIssuer, "issuer certificate is not a CA (basicConstraints cA)", nil)
	}
	if ic.KeyUsage != 0 && ic.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, newErr(op, ErrNotIssuer, "issuer keyUsage lacks keyCertSign", nil)
	}
	// MatchesPublicKey avoids Public() for in-memory ML-DSA keys (circl recomputes the public key each time).
	if !signerMatches(i.Signer, ic.PublicKey) {
		return nil, newErr(op, ErrSignerMismatch, "signer's public key is not the issuer certificate's", nil)
	}
	a, err := pickAlgorithm(op, ic.PublicKey, i.Algorithm, req)
	if err != nil {
		return nil, err
	}
	return build(ctx, ic, i.Signer, a, i.Policy, i.Now, req)
}

// SelfSign makes a self-signed certificate (a root CA with RootCACertificateV1) for signer's key. The request's
// PublicKey, if given, must be the signer's; a CSR, if given, must be signed by the same key (ErrSignerMismatch,
// ErrInvalidRequest otherwise).
func SelfSign(ctx context.Context, signer crypto.Signer, req *IssueRequest) (*Certificate, error) {
	const op = "self-sign"
	if signer == nil {
		return nil, newErr(op, ErrSignerMismatch, "nil signer", nil)
	}
	if req == nil {
		return nil, newErr(op, ErrInvalidRequest, "nil request", nil)
	}
	signerPub := signer.Public()
	a, err := pickAlgorithm(op, signerPub, 0, req)
	if err != nil {
		return nil, err
	}
	r := *req
	if r.PublicKey == nil {
		// Also with a CSR: build then requires the CSR's key to be this one, so that a self-signed certificate
		// never certifies a key other than the one that signed it.
		r.PublicKey = signerPub
	} else if !publicKeysEqual(r.PublicKey, signerPub) {
		return nil, newErr(op, ErrSignerMismatch, "request key is not the signer's key", nil)
	}
	return build(ctx, nil, signer, a, nil, nil, &r)
}

func pickAlgorithm(op string, signerPub crypto.PublicKey, a SignatureAlgorithm, req *IssueRequest) (SignatureAlgorithm, error) {
	if req != nil && req.SignatureAlgorithm != 0 {
		a = req.SignatureAlgorithm
	}
	kt, err := alg.KeyTypeOf(signerPub)
	if err != nil {
		return 0, newErr(op, ErrUnsupportedAlgorithm, "issuer key", err)
	}
	if a == 0 {
		a = kt.DefaultAlgorithm()
	}
	if err := a.CheckKeyType(kt); err != nil {
		return 0, newErr(op, ErrSignerMismatch, "signature algorithm does not fit the signer's key", err)
	}
	return a, nil
}

// publicKeysEqual compares two public keys by value.
func publicKeysEqual(a, b crypto.PublicKey) bool {
	if a == nil || b == nil {
		return false
	}
	if e, ok := a.(interface{ Equal(crypto.PublicKey) bool }); ok && e.Equal(b) {
		return true
	}
	da, err1 := alg.MarshalPKIXPublicKey(a)
	db, err2 := alg.MarshalPKIXPublicKey(b)
	return err1 == nil && err2 == nil && bytes.Equal(da, db)
}

// generatedOIDs are the extensions Issue writes itself; ExtraExtensions and custom passthrough extensions may
// not repeat them.
var generatedOIDs = []asn1.ObjectIdentifier{
	OIDExtensionBasicConstraints, OIDExtensionKeyUsage, OIDExtensionExtKeyUsage, OIDExtensionSubjectKeyID,
	OIDExtensionAuthorityKeyID, OIDExtensionSubjectAltName, OIDExtensionIssuerAltName,
	OIDExtensionCRLDistributionPoints, OIDExtensionAuthorityInfoAccess, OIDExtensionCertificatePolicies,
}

func isGenerated(oid asn1.ObjectIdentifier) bool {
	for _, g := range generatedOIDs {
		if g.Equal(oid) {
			return true
		}
	}
	return false
}

func build(ctx context.Context, ic *Certificate, signer crypto.Signer, a SignatureAlgorithm, pol *Policy,
	clock func() time.Time, req *IssueRequest) (*Certificate, error) {
	const op = "issue"
	if req == nil {
		return nil, newErr(op, ErrInvalidRequest, "nil request", nil)
	}
	prof := req.Profile
	if prof.Name == "" {
		return nil, newErr(op, ErrInvalidRequest, "request has no profile", nil)
	}
	pt := req.APIPassthrough
	if pt != nil && !prof.APIPassthrough {
		return nil, newErr(op, ErrPassthroughNotAllowed, prof.Name, nil)
	}

	// Subject key: from the request, the CSR, or both (then equal). Everything taken from a CSR (key, subject,
	// names, extensions) comes from the DER whose signature was just verified, never from fields of the
	// *x509.CertificateRequest that may have been changed after parsing.
	pub := req.PublicKey
	var spki []byte
	var csr *x509.CertificateRequest
	if req.CSR != nil {
		v, err := verifyCSRDER(req.CSR.Raw)
		if err != nil {
			return nil, err
		}
		if csr, err = x509.ParseCertificateRequest(req.CSR.Raw); err != nil {
			return nil, newErr(op, ErrBadCSR, "crypto/x509 cannot parse the CSR", err)
		}
		if pub == nil {
			pub, spki = v.pub, v.spki
		} else if !publicKeysEqual(pub, v.pub) {
			return nil, newErr(op, ErrInvalidRequest, "PublicKey and CSR key differ", nil)
		}
	}
	if pub == nil {
		return nil, newErr(op, ErrInvalidRequest, "no subject public key (PublicKey or CSR)", nil)
	}
	kt, err := alg.KeyTypeOf(pub)
	if err != nil {
		return nil, newErr(op, ErrUnsupportedAlgorithm, "subject key", err)
	}
	if spki == nil {
		if spki, err = alg.MarshalPKIXPublicKey(pub); err != nil {
			return nil, newErr(op, ErrUnsupportedAlgorithm, "subject key", err)
		}
	}
	if len(prof.KeyAlgorithms) > 0 && !containsKT(prof.KeyAlgorithms, kt) {
		return nil, newErr(op, ErrProfileKeyMismatch, prof.Name+" does not allow "+kt.String()+" keys", nil)
	}

	d := &Draft{Profile: &prof, Issuer: ic, PublicKey: pub, KeyAlgorithm: kt, SignatureAlgorithm: a,
		IsCA: prof.IsCA, MaxPathLen: -1}
	if prof.IsCA {
		d.MaxPathLen = prof.MaxPathLen
		if d.MaxPathLen < -1 {
			d.MaxPathLen = -1
		}
	}

	// CSR-requested extensions (read only for CSRPassthrough profiles, except subjectAltName which every
	// template copies from the CSR).
	var csrExt map[string]pkix.Extension
	if csr != nil {
		csrExt = make(map[string]pkix.Extension, len(csr.Extensions))
		for _, e := range csr.Extensions {
			if _, dup := csrExt[e.Id.String()]; dup {
				return nil, newErr(op, ErrBadCSR, "CSR requests extension "+e.Id.String()+" twice", nil)
			}
			csrExt[e.Id.String()] = e
		}
	}

	// Key usage and extended key usage: profile > API passthrough > CSR.
	kuCritical, ekuCritical := prof.KeyUsageCritical, prof.ExtKeyUsageCritical
	switch {
	case prof.KeyUsage != 0:
		d.KeyUsage = prof.KeyUsage
	case pt != nil && pt.KeyUsage != 0:
		d.KeyUsage, kuCritical = pt.KeyUsage, true
	case prof.CSRPassthrough && csrExt != nil:
		if e, ok := csrExt[OIDExtensionKeyUsage.String()]; ok {
			ku, ok := parseKeyUsage(e.Value)
			if !ok {
				return nil, newErr(op, ErrBadCSR, "malformed keyUsage in CSR", nil)
			}
			d.KeyUsage, kuCritical = ku, e.Critical
		}
	}
	switch {
	case len(prof.ExtKeyUsage)+len(prof.UnknownExtKeyUsage) > 0:
		d.ExtKeyUsage, d.UnknownExtKeyUsage = prof.ExtKeyUsage, prof.UnknownExtKeyUsage
	case pt != nil && len(pt.ExtKeyUsage)+len(pt.UnknownExtKeyUsage) > 0:
		d.ExtKeyUsage, d.UnknownExtKeyUsage, ekuCritical = pt.ExtKeyUsage, pt.UnknownExtKeyUsage, false
	case prof.CSRPassthrough && csrExt != nil:
		if e, ok := csrExt[OIDExtensionExtKeyUsage.String()]; ok {
			k, u, ok := parseExtKeyUsage(e.Value)
			if !ok {
				return nil, newErr(op, ErrBadCSR, "malformed extendedKeyUsage in CSR", nil)
			}
			d.ExtKeyUsage, d.UnknownExtKeyUsage, ekuCritical = k, u, e.Critical
		}
	}
	if err := checkKeyUsage(kt, d.KeyUsage, prof.IsCA); err != nil {
		return nil, err
	}

	// Subject: request > passthrough > CSR.
	switch {
	case len(req.Subject.ToRDNSequence()) > 0:
		d.Subject = req.Subject
	case pt != nil && pt.HasSubject:
		d.Subject = pt.Subject
	case csr != nil:
		d.Subject = csr.Subject
		d.RawSubject = csr.RawSubject
	}
	if d.RawSubject == nil {
		if d.RawSubject, err = der.MarshalName(d.Subject); err != nil {
			return nil, newErr(op, ErrInvalidRequest, "subject", err)
		}
	}
	subjectEmpty := len(d.RawSubject) == 2 // SEQUENCE {}
	if subjectEmpty && prof.IsCA {
		return nil, newErr(op, ErrInvalidRequest, "a CA certificate needs a non-empty subject (RFC 5280 §4.1.2.6)", nil)
	}

	// Subject alternative names: request > passthrough > CSR (raw, to keep every name form).
	var sanExt *pkix.Extension
	reqSAN := AltNames{DNSNames: req.DNSNames, EmailAddresses: req.EmailAddresses, IPAddresses: req.IPAddresses, URIs: req.URIs}
	switch {
	case !reqSAN.empty():
		d.SubjectAltNames = reqSAN
	case pt != nil && !pt.SubjectAltNames.empty():
		d.SubjectAltNames = pt.SubjectAltNames
	case csrExt != nil:
		if e, ok := csrExt[OIDExtensionSubjectAltName.String()]; ok {
			d.SubjectAltNames = AltNames{DNSNames: csr.DNSNames, EmailAddresses: csr.EmailAddresses, IPAddresses: csr.IPAddresses, URIs: csr.URIs}
			// RFC 5280 §4.2.1.6: critical exactly when the subject is empty, whatever the CSR asked.
			e.Critical = subjectEmpty
			sanExt = &e
		}
	}
	if sanExt == nil && !d.SubjectAltNames.empty() {
		v, err := d.SubjectAltNames.marshal()
		if err != nil {
			return nil, newErr(op, ErrInvalidRequest, "subjectAltName", err)
		}
		e := extension(OIDExtensionSubjectAltName, subjectEmpty, v)
		sanExt = &e
	}
	if subjectEmpty && sanExt == nil {
		return nil, newErr(op, ErrInvalidRequest, "empty subject and no subjectAltName (RFC 5280 §4.1.2.6)", nil)
	}

	// Validity.
	now := time.Now
	switch {
	case req.Now != nil:
		now = req.Now
	case clock != nil:
		now = clock
	}
	d.NotBefore = req.NotBefore
	if d.NotBefore.IsZero() {
		d.NotBefore = now()
	}
	d.NotBefore = d.NotBefore.UTC().Truncate(time.Second)
	d.NotAfter = req.NotAfter
	if d.NotAfter.IsZero() {
		if req.Validity <= 0 {
			return nil, newErr(op, ErrInvalidRequest, "neither NotAfter nor Validity given", nil)
		}
		d.NotAfter = d.NotBefore.Add(req.Validity)
	}
	d.NotAfter = d.NotAfter.UTC().Truncate(time.Second)
	if !d.NotAfter.After(d.NotBefore) {
		return nil, newErr(op, ErrInvalidRequest, "NotAfter is not after NotBefore", nil)
	}
	if d.NotBefore.Year() < 1950 || d.NotAfter.Year() > 9999 {
		return nil, newErr(op, ErrInvalidRequest, "validity outside the years 1950..9999", nil)
	}
	if prof.MaxValidity > 0 && d.NotAfter.Sub(d.NotBefore) > prof.MaxValidity {
		return nil, newErr(op, ErrProfileRequirement, prof.Name+": validity longer than the profile's maximum", nil)
	}
	if ic != nil {
		if d.NotAfter.After(ic.NotAfter) {
			return nil, newErr(op, ErrOutlivesIssuer, "NotAfter "+d.NotAfter.Format(time.RFC3339)+" is after the issuer's "+ic.NotAfter.UTC().Format(time.RFC3339), nil)
		}
		if d.NotBefore.Before(ic.NotBefore) {
			return nil, newErr(op, ErrOutlivesIssuer, "NotBefore is before the issuer's", nil)
		}
		// Path length: the issuer's pathLenConstraint bounds the CA certificates below it (RFC 5280 §4.2.1.9,
		// §6.1.4 (l), (m)). A self-issued CA certificate (subject = issuer, e.g. a key rollover) does not count
		// towards the path length: it may carry the issuer's own pathLen but not more.
		if prof.IsCA && ic.MaxPathLen >= 0 && (ic.MaxPathLen > 0 || ic.MaxPathLenZero) {
			selfIssued := bytes.Equal(d.RawSubject, ic.RawSubject)
			switch {
			case selfIssued && (d.MaxPathLen < 0 || d.MaxPathLen > ic.MaxPathLen):
				return nil, newErr(op, ErrPathLen, "self-issued CA certificate: pathLen must not exceed the issuer's "+strconv.Itoa(ic.MaxPathLen), nil)
			case selfIssued:
			case ic.MaxPathLen == 0:
				return nil, newErr(op, ErrPathLen, "issuer has pathLen 0 and cannot issue CA certificates", nil)
			case d.MaxPathLen < 0 || d.MaxPathLen >= ic.MaxPathLen:
				return nil, newErr(op, ErrPathLen, "subordinate pathLen must be below the issuer's "+strconv.Itoa(ic.MaxPathLen), nil)
			}
		}
	}

	// Serial number.
	if req.SerialNumber != nil {
		if !validSerial(req.SerialNumber) {
			return nil, newErr(op, ErrInvalidRequest, "serial number must be positive and at most 20 octets", nil)
		}
		d.SerialNumber = new(big.Int).Set(req.SerialNumber)
	} else {
		d.SerialNumber, err = randomSerial()
		if err != nil {
			return nil, newErr(op, ErrInvalidRequest, "serial number", err)
		}
	}

	// Extensions, in a fixed order.
	exts := make([]pkix.Extension, 0, 12)
	if prof.IsCA || !prof.OmitBasicConstraints {
		exts = append(exts, extension(OIDExtensionBasicConstraints, prof.BasicConstraintsCritical, marshalBasicConstraints(prof.IsCA, d.MaxPathLen)))
	}
	if d.KeyUsage != 0 {
		exts = append(exts, extension(OIDExtensionKeyUsage, kuCritical, marshalKeyUsage(d.KeyUsage)))
	}
	if len(d.ExtKeyUsage)+len(d.UnknownExtKeyUsage) > 0 {
		v, err := marshalExtKeyUsage(d.ExtKeyUsage, d.UnknownExtKeyUsage)
		if err != nil {
			return nil, err
		}
		exts = append(exts, extension(OIDExtensionExtKeyUsage, ekuCritical, v))
	}
	ski := subjectKeyID(spki)
	if !prof.OmitSubjectKeyID {
		exts = append(exts, extension(OIDExtensionSubjectKeyID, false, marshalOctetString(ski)))
	}
	if !prof.OmitAuthorityKeyID {
		aki := ski
		if ic != nil {
			aki = ic.SubjectKeyId
			if len(aki) == 0 {
				aki = subjectKeyID(ic.RawSubjectPublicKeyInfo)
			}
		}
		exts = append(exts, extension(OIDExtensionAuthorityKeyID, false, marshalAuthorityKeyID(aki)))
	}
	if sanExt != nil {
		exts = append(exts, *sanExt)
	}
	d.IssuerAltName = req.IssuerAltName
	if !d.IssuerAltName.empty() {
		v, err := d.IssuerAltName.marshal()
		if err != nil {
			return nil, newErr(op, ErrInvalidRequest, "issuerAltName", err)
		}
		exts = append(exts, extension(OIDExtensionIssuerAltName, false, v))
	} else if prof.RequireIssuerAltName {
		return nil, newErr(op, ErrProfileRequirement, prof.Name+" requires issuerAltName", nil)
	}
	d.CRLDistributionPoints = req.CRLDistributionPoints
	switch {
	case len(d.CRLDistributionPoints) > 0 && prof.NoCRLDistributionPoints:
		return nil, newErr(op, ErrProfileRequirement, prof.Name+" has no CRL distribution points", nil)
	case len(d.CRLDistributionPoints) > 0:
		v, err := marshalCRLDistributionPoints(d.CRLDistributionPoints)
		if err != nil {
			return nil, err
		}
		exts = append(exts, extension(OIDExtensionCRLDistributionPoints, false, v))
	case prof.RequireCRLDistributionPoints:
		return nil, newErr(op, ErrProfileRequirement, prof.Name+" requires CRL distribution points", nil)
	}
	if len(req.OCSPServers)+len(req.IssuingCertificateURLs) > 0 {
		v, err := marshalAIA(req.OCSPServers, req.IssuingCertificateURLs)
		if err != nil {
			return nil, err
		}
		exts = append(exts, extension(OIDExtensionAuthorityInfoAccess, false, v))
	}
	policies := req.Policies
	if len(policies) == 0 && pt != nil {
		policies = pt.CertificatePolicies
	}
	if len(policies) > 0 {
		v, err := marshalCertificatePolicies(policies)
		if err != nil {
			return nil, err
		}
		exts = append(exts, extension(OIDExtensionCertificatePolicies, false, v))
	}
	custom := append([]pkix.Extension{}, req.ExtraExtensions...)
	if pt != nil {
		custom = append(custom, pt.CustomExtensions...)
	}
	for _, e := range custom {
		if len(e.Id) < 2 || len(e.Value) == 0 {
			return nil, newErr(op, ErrInvalidRequest, "extension without OID or value", nil)
		}
		if !isOneElement(e.Value) {
			return nil, newErr(op, ErrInvalidRequest, "extension "+e.Id.String()+": value is not one DER element", nil)
		}
		if isGenerated(e.Id) {
			return nil, newErr(op, ErrInvalidRequest, "extension "+e.Id.String()+" is written by Issue; use the request field", nil)
		}
		if hasOID(exts, e.Id) {
			return nil, newErr(op, ErrInvalidRequest, "duplicate extension "+e.Id.String(), nil)
		}
		exts = append(exts, e)
	}
	if prof.CSRPassthrough && csr != nil {
		for _, e := range csr.Extensions {
			if isGenerated(e.Id) || hasOID(exts, e.Id) {
				continue // profile and request win
			}
			exts = append(exts, e)
		}
	}
	d.Extensions = exts

	if pol != nil {
		if err := pol.Check(d); err != nil {
			return nil, err
		}
	}
	if prof.Check != nil {
		if err := prof.Check(d); err != nil {
			return nil, newErr(op, ErrProfileRequirement, prof.Name, err)
		}
	}

	issuerName := d.RawSubject
	if ic != nil {
		issuerName = ic.RawSubject
	}
	// The certificate is assembled in the buffer the TBS is written to (one allocation instead of two): the TBS
	// starts after room for the outer SEQUENCE header, and the algorithm and signature are appended after it.
	buf, err := marshalTBS(d, a, issuerName, spki, certHeaderRoom, signatureRoom(a))
	if err != nil {
		return nil, err
	}
	tbs := buf[certHeaderRoom:]
	sig, err := alg.Sign(ctx, signer, a, tbs)
	if err != nil {
		return nil, newErr(op, ErrSignerFailed, "signing failed", err)
	}
	certDER, err := wrapCertificate(buf, a, sig)
	if err != nil {
		return nil, newErr(op, ErrInvalidRequest, "encode certificate", err)
	}
	return parseIssued(certDER, pub, kt, a)
}

func hasOID(exts []pkix.Extension, oid asn1.ObjectIdentifier) bool {
	for _, e := range exts {
		if e.Id.Equal(oid) {
			return true
		}
	}
	return false
}

func containsKT(list []KeyAlgorithm, kt KeyAlgorithm) bool {
	for _, k := range list {
		if k == kt {
			return true
		}
	}
	return false
}

// checkKeyUsage refuses key usages the subject key's algorithm cannot have.
func checkKeyUsage(kt KeyAlgorithm, ku x509.KeyUsage, isCA bool) error {
	const op = "check key usage"
	if ku >= x509.KeyUsageDecipherOnly<<1 || ku < 0 {
		return newErr(op, ErrInvalidRequest, "keyUsage has bits beyond decipherOnly", nil)
	}
	if ku&(x509.KeyUsageCertSign) != 0 && !isCA {
		return newErr(op, ErrInvalidRequest, "keyCertSign on a certificate that is not a CA (RFC 5280 §4.2.1.3)", nil)
	}
	if ku == 0 {
		return nil
	}
	const sigBits = x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment | x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	switch kt.Family() {
	case alg.FamilyMLDSA, alg.FamilyEd25519:
		// RFC 9881 §5 (ML-DSA) and RFC 8410 §5 (Ed25519): signature usages only, at least one.
		if ku&^sigBits != 0 {
			return newErr(op, ErrProfileKeyMismatch, kt.String()+" keys can only sign: keyEncipherment, dataEncipherment, keyAgreement, encipherOnly and decipherOnly are not allowed (RFC 9881 §5, RFC 8410 §5)", nil)
		}
		if ku&sigBits == 0 {
			return newErr(op, ErrProfileKeyMismatch, "keyUsage needs a signature usage", nil)
		}
	case alg.FamilyRSA:
		// RFC 3279 §2.3.1: keyAgreement, encipherOnly and decipherOnly are meaningless for RSA.
		if ku&(x509.KeyUsageKeyAgreement|x509.KeyUsageEncipherOnly|x509.KeyUsageDecipherOnly) != 0 {
			return newErr(op, ErrProfileKeyMismatch, "keyAgreement, encipherOnly and decipherOnly are not allowed for RSA keys (RFC 3279 §2.3.1)", nil)
		}
	case alg.FamilyECDSA:
		// RFC 5480 §3: encipherOnly / decipherOnly only together with keyAgreement.
		if ku&(x509.KeyUsageEncipherOnly|x509.KeyUsageDecipherOnly) != 0 && ku&x509.KeyUsageKeyAgreement == 0 {
			return newErr(op, ErrProfileKeyMismatch, "encipherOnly/decipherOnly without keyAgreement (RFC 5480 §3)", nil)
		}
		if ku&x509.KeyUsageEncipherOnly != 0 && ku&x509.KeyUsageDecipherOnly != 0 {
			return newErr(op, ErrProfileKeyMismatch, "encipherOnly and decipherOnly together (RFC 5480 §3)", nil)
		}
		if ku&x509.KeyUsageDataEncipherment != 0 {
			return newErr(op, ErrProfileKeyMismatch, "dataEncipherment is not defined for EC keys (RFC 5480 §3)", nil)
		}
	}
	return nil
}

// validSerial reports whether n is a positive INTEGER whose DER contents fit in 20 octets (RFC 5280 §4.1.2.2):
// at most 159 bits, since a 160-bit value needs a leading zero octet.
func validSerial(n *big.Int) bool { return n != nil && n.Sign() > 0 && n.BitLen() <= 159 }

// isOneElement reports whether v is exactly one DER TLV.
func isOneElement(v []byte) bool {
	s := cryptobyte.String(v)
	var e cryptobyte.String
	var tag cbasn1.Tag
	return s.ReadAnyASN1Element(&e, &tag) && s.Empty()
}

// randomSerial returns a positive 16-octet serial with 126 random bits (top bit clear, next bit set so the
// encoding is always 16 octets).
func randomSerial() (*big.Int, error) {
	var buf [16]byte
	if _, err := rand.Read(buf[:]); err != nil {
		return nil, err
	}
	buf[0] = buf[0]&0x7f | 0x40
	return new(big.Int).SetBytes(buf[:]), nil
}

func addTime(b *cryptobyte.Builder, t time.Time) {
	t = t.UTC()
	if y := t.Year(); y >= 1950 && y < 2050 {
		b.AddASN1UTCTime(t)
	} else {
		b.AddASN1GeneralizedTime(t)
	}
}

// certHeaderRoom is the room left before the TBS for the Certificate SEQUENCE header: tag and up to four length
// octets (certificates are far below 2^32 bytes).
const certHeaderRoom = 6

// signatureRoom estimates the room after the TBS for signatureAlgorithm and signature, so that appending them
// does not copy the buffer.
func signatureRoom(a SignatureAlgorithm) int {
	if a.Family() == alg.FamilyMLDSA {
		return 4700 // ML-DSA-87 signature: 4627 octets
	}
	return 640 // RSA-4096: 512 octets; ECDSA P-521: ~139; PSS parameters ~65
}

// marshalTBS writes the DER TBSCertificate after `before` zero octets and leaves capacity for `after` more.
func marshalTBS(d *Draft, a SignatureAlgorithm, issuerName, spki []byte, before, after int) ([]byte, error) {
	size := 128 + len(issuerName) + len(d.RawSubject) + len(spki)
	for _, e := range d.Extensions {
		size += len(e.Value) + len(e.Id)*2 + 16
	}
	b := cryptobyte.NewBuilder(make([]byte, before, before+size+after))
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) { b.AddASN1Int64(2) })
		b.AddASN1BigInt(d.SerialNumber)
		a.AddAlgorithmIdentifier(b)
		b.AddBytes(issuerName)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			addTime(b, d.NotBefore)
			addTime(b, d.NotAfter)
		})
		b.AddBytes(d.RawSubject)
		b.AddBytes(spki)
		if len(d.Extensions) > 0 {
			b.AddASN1(cbasn1.Tag(3).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					for _, e := range d.Extensions {
						der.AddExtension(b, e)
					}
				})
			})
		}
	})
	out, err := b.Bytes()
	if err != nil {
		return nil, newErr("issue", ErrInvalidRequest, "encode tbsCertificate", err)
	}
	return out, nil
}

// wrapCertificate turns buf (certHeaderRoom spare octets, then the TBS) into the DER Certificate
// SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING } and returns it (a sub-slice of buf's
// array when the capacity sufficed).
func wrapCertificate(buf []byte, a SignatureAlgorithm, sig []byte) ([]byte, error) {
	aid := a.MarshalAlgorithmIdentifier()
	if aid == nil {
		return nil, newErr("issue", ErrUnsupportedAlgorithm, a.String(), nil)
	}
	buf = append(buf, aid...)
	buf = appendHeader(buf, byte(cbasn1.BIT_STRING), len(sig)+1)
	buf = append(buf, 0) // no unused bits
	buf = append(buf, sig...)
	var hdr [certHeaderRoom]byte
	h := appendHeader(hdr[:0], byte(cbasn1.SEQUENCE), len(buf)-certHeaderRoom)
	if len(h) > certHeaderRoom {
		return nil, newErr("issue", ErrLimit, "certificate too large", nil)
	}
	start := certHeaderRoom - len(h)
	copy(buf[start:], h)
	return buf[start:], nil
}

// appendHeader appends a DER tag and definite length.
func appendHeader(b []byte, tag byte, n int) []byte {
	b = append(b, tag)
	switch {
	case n < 0x80:
		return append(b, byte(n))
	case n < 1<<8:
		return append(b, 0x81, byte(n))
	case n < 1<<16:
		return append(b, 0x82, byte(n>>8), byte(n))
	case n < 1<<24:
		return append(b, 0x83, byte(n>>16), byte(n>>8), byte(n))
	default:
		return append(b, 0x84, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
}

// parseIssued wraps a certificate Issue just made; the subject key is known, so it is not decoded again.
func parseIssued(certDER []byte, pub crypto.PublicKey, kt KeyAlgorithm, a SignatureAlgorithm) (*Certificate, error) {
	std, err := x509.ParseCertificate(certDER)
	if err != nil {
		return nil, newErr("issue", ErrMalformed, "crypto/x509 cannot parse the certificate made", err)
	}
	return &Certificate{Certificate: std, PublicKey: pub, KeyAlgorithm: kt, SignatureAlgorithm: a}, nil
}
