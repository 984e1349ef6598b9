package truststore

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"time"

	"github.com/pkikit/pkikit/internal/alg"
	"github.com/pkikit/pkikit/x509ext"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
	"golang.org/x/crypto/ocsp"
)

// CRL reason codes (RFC 5280 §5.3.1), for PathError.RevocationReason.
const (
	ReasonUnspecified          = 0
	ReasonKeyCompromise        = 1
	ReasonCACompromise         = 2
	ReasonAffiliationChanged   = 3
	ReasonSuperseded           = 4
	ReasonCessationOfOperation = 5
	ReasonCertificateHold      = 6
	ReasonRemoveFromCRL        = 8
	ReasonPrivilegeWithdrawn   = 9
	ReasonAACompromise         = 10
)

// ReasonString names a CRL reason code.
func ReasonString(code int) string {
	switch code {
	case ReasonUnspecified:
		return "unspecified"
	case ReasonKeyCompromise:
		return "keyCompromise"
	case ReasonCACompromise:
		return "cACompromise"
	case ReasonAffiliationChanged:
		return "affiliationChanged"
	case ReasonSuperseded:
		return "superseded"
	case ReasonCessationOfOperation:
		return "cessationOfOperation"
	case ReasonCertificateHold:
		return "certificateHold"
	case ReasonRemoveFromCRL:
		return "removeFromCRL"
	case ReasonPrivilegeWithdrawn:
		return "privilegeWithdrawn"
	case ReasonAACompromise:
		return "aACompromise"
	}
	return fmt.Sprintf("reason(%d)", code)
}

var (
	oidCRLNumber           = asn1.ObjectIdentifier{2, 5, 29, 20}
	oidDeltaCRLIndicator   = asn1.ObjectIdentifier{2, 5, 29, 27}
	oidIssuingDistPoint    = asn1.ObjectIdentifier{2, 5, 29, 28}
	oidAuthorityKeyID      = x509ext.OIDExtensionAuthorityKeyID
	oidCRLReasonCode       = asn1.ObjectIdentifier{2, 5, 29, 21}
	oidInvalidityDate      = asn1.ObjectIdentifier{2, 5, 29, 24}
	maxFetchedCRLsPerCheck = 4
)

type revocationState struct {
	ocsp    []*ocsp.Response
	ocspErr []error
	fetched map[string]*x509.RevocationList
}

// CheckCRLSignature verifies that issuer signed crl, for every algorithm of pkikit (ML-DSA included, which
// crypto/x509's RevocationList.CheckSignatureFrom cannot do): the outer and TBS signature algorithms must be the
// same supported AlgorithmIdentifier, the CRL's issuer name must be issuer's subject, and issuer's keyUsage, when
// present, must include cRLSign.
func CheckCRLSignature(crl *x509.RevocationList, issuer *x509ext.Certificate) error {
	const op = "check CRL signature"
	if crl == nil || issuer == nil || issuer.Certificate == nil {
		return newErr(op, ErrMalformed, "nil CRL or issuer", nil)
	}
	if !bytes.Equal(crl.RawIssuer, issuer.RawSubject) {
		return newErr(op, ErrBadCRL, "CRL issuer is not "+issuer.Subject.String(), nil)
	}
	if issuer.KeyUsage != 0 && issuer.KeyUsage&x509.KeyUsageCRLSign == 0 {
		return newErr(op, ErrKeyUsage, "issuer keyUsage lacks cRLSign", nil)
	}
	a, err := crlSignatureAlgorithm(crl.Raw)
	if err != nil {
		return err
	}
	if err := alg.Verify(issuer.PublicKey, a, crl.RawTBSRevocationList, crl.Signature); err != nil {
		return newErr(op, ErrBadSignature, a.String(), err)
	}
	return nil
}

// crlSignatureAlgorithm reads CertificateList.signatureAlgorithm and checks it equals TBSCertList.signature.
func crlSignatureAlgorithm(der []byte) (alg.Algorithm, error) {
	const op = "parse CRL signature algorithm"
	s := cryptobyte.String(der)
	var list, tbs, outer, inner cryptobyte.String
	if !s.ReadASN1(&list, cbasn1.SEQUENCE) || !list.ReadASN1(&tbs, cbasn1.SEQUENCE) ||
		!list.ReadASN1Element(&outer, cbasn1.SEQUENCE) {
		return alg.Unknown, newErr(op, ErrMalformed, "CertificateList structure", nil)
	}
	if tbs.PeekASN1Tag(cbasn1.INTEGER) && !tbs.SkipASN1(cbasn1.INTEGER) {
		return alg.Unknown, newErr(op, ErrMalformed, "TBSCertList version", nil)
	}
	if !tbs.ReadASN1Element(&inner, cbasn1.SEQUENCE) {
		return alg.Unknown, newErr(op, ErrMalformed, "TBSCertList signature", nil)
	}
	if !bytes.Equal(outer, inner) {
		return alg.Unknown, newErr(op, ErrMalformed, "signatureAlgorithm differs from TBSCertList.signature", nil)
	}
	a, err := alg.ParseAlgorithmIdentifier(outer)
	if err != nil {
		return alg.Unknown, newErr(op, ErrMalformed, "", err)
	}
	return a, nil
}

// ParseCRL parses a DER or PEM ("X509 CRL") CRL of any algorithm.
func ParseCRL(data []byte) (*x509.RevocationList, error) {
	if bytes.HasPrefix(bytes.TrimSpace(data), []byte("-----BEGIN")) {
		if der := pemBlock(data, "X509 CRL"); der != nil {
			data = der
		}
	}
	crl, err := x509.ParseRevocationList(data)
	if err != nil {
		return nil, newErr("parse CRL", ErrMalformed, "", err)
	}
	if _, err := crlSignatureAlgorithm(crl.Raw); err != nil {
		return nil, err
	}
	return crl, nil
}

type status int

const (
	statusUnknown status = iota
	statusGood
	statusRevoked
)

type revInfo struct {
	st     status
	reason int
	at     time.Time
	why    string // why unknown (for Required)
}

func (b *builder) checkRevocation(chain []*x509ext.Certificate) *PathError {
	if b.opts.Revocation == RevocationOff {
		return nil
	}
	if b.opts.Revocation == RevocationBestEffort && len(b.opts.CRLs) == 0 && len(b.opts.OCSPResponses) == 0 && b.opts.CRLFetcher == nil {
		return nil
	}
	if b.rev == nil {
		b.rev = &revocationState{fetched: map[string]*x509.RevocationList{}}
		for _, raw := range b.opts.OCSPResponses {
			r, err := ocsp.ParseResponse(raw, nil)
			if err != nil {
				b.rev.ocspErr = append(b.rev.ocspErr, err)
				continue
			}
			b.rev.ocsp = append(b.rev.ocsp, r)
		}
	}
	for i := 0; i < len(chain)-1; i++ {
		ri := b.status(chain[i], chain[i+1])
		switch ri.st {
		case statusRevoked:
			return &PathError{Chain: chain, Depth: i, NameDepth: -1, Reason: ErrRevoked, At: b.now,
				Detail:           fmt.Sprintf("revoked on %s, reason %s", ri.at.UTC().Format(time.RFC3339), ReasonString(ri.reason)),
				RevocationReason: ri.reason, RevokedAt: ri.at}
		case statusUnknown:
			if b.opts.Revocation == RevocationRequired {
				d := "no valid CRL or OCSP response covers it"
				if ri.why != "" {
					d += " (" + ri.why + ")"
				}
				return &PathError{Chain: chain, Depth: i, NameDepth: -1, Reason: ErrRevocationUnknown, At: b.now, Detail: d}
			}
		}
	}
	return nil
}

// status finds the revocation status of cert, issued by issuer, in the OCSP responses and CRLs.
func (b *builder) status(cert, issuer *x509ext.Certificate) revInfo {
	var why string
	for _, r := range b.rev.ocsp {
		if r.SerialNumber == nil || r.SerialNumber.Cmp(cert.SerialNumber) != 0 {
			continue
		}
		if err := b.checkOCSP(r, issuer); err != nil {
			why = err.Error()
			continue
		}
		switch r.Status {
		case ocsp.Good:
			return revInfo{st: statusGood}
		case ocsp.Revoked:
			if r.RevocationReason == ReasonRemoveFromCRL {
				return revInfo{st: statusGood}
			}
			return revInfo{st: statusRevoked, reason: r.RevocationReason, at: r.RevokedAt}
		}
	}
	crls := b.opts.CRLs
	covered := false
	for _, crl := range crls {
		ri, ok, w := b.fromCRL(crl, cert, issuer)
		if w != "" {
			why = w
		}
		if ok {
			if ri.st == statusRevoked {
				return ri
			}
			covered = true
		}
	}
	if covered {
		return revInfo{st: statusGood}
	}
	if b.opts.CRLFetcher != nil {
		for k, url := range cert.CRLDistributionPoints {
			if k >= maxFetchedCRLsPerCheck {
				break
			}
			crl, ok := b.rev.fetched[url]
			if !ok {
				data, err := b.opts.CRLFetcher.FetchCRL(b.ctx, url)
				if err == nil {
					crl, err = ParseCRL(data)
				}
				if err != nil {
					why = "fetching " + url + ": " + err.Error()
				}
				b.rev.fetched[url] = crl
			}
			if crl == nil {
				continue
			}
			ri, ok, w := b.fromCRL(crl, cert, issuer)
			if w != "" {
				why = w
			}
			if ok {
				return ri
			}
		}
	}
	return revInfo{why: why}
}

// fromCRL looks cert up in crl. ok is false when crl does not validly cover cert (another issuer, bad signature,
// outside its window, a delta CRL or a scope that excludes cert); why then says what was wrong, if anything.
func (b *builder) fromCRL(crl *x509.RevocationList, cert, issuer *x509ext.Certificate) (ri revInfo, ok bool, why string) {
	if crl == nil || !bytes.Equal(crl.RawIssuer, issuer.RawSubject) {
		return ri, false, ""
	}
	if key, hit := b.s.sigCached(crl.Raw, issuer.RawSubjectPublicKeyInfo); !hit {
		if b.sigs >= b.maxSigs {
			return ri, false, "signature budget exhausted"
		}
		b.sigs++
		if err := CheckCRLSignature(crl, issuer); err != nil {
			why := "CRL of " + issuer.Subject.String() + ": " + err.Error()
			if len(crl.AuthorityKeyId) > 0 && len(issuer.SubjectKeyId) > 0 && !bytes.Equal(crl.AuthorityKeyId, issuer.SubjectKeyId) {
				// RFC 5280 §6.3.3 (f)–(g) binds a CRL to the path by the issuer's key, not by the AKI; the AKI
				// only explains the failure (a CRL signed by another key of the same CA, e.g. after a rollover).
				why += " (its authorityKeyIdentifier names another key of this CA)"
			}
			return ri, false, why
		}
		b.s.rememberSig(key, crl.Raw, issuer.RawSubjectPublicKeyInfo)
	}
	if b.now.Before(crl.ThisUpdate) {
		return ri, false, "CRL thisUpdate is after the verification time"
	}
	if crl.NextUpdate.IsZero() {
		// RFC 5280 §5.1.2.5: conforming CRLs MUST have nextUpdate; without it nothing bounds how stale it is.
		return ri, false, "CRL has no nextUpdate (RFC 5280 §5.1.2.5), so its freshness cannot be judged"
	}
	if !b.now.Before(crl.NextUpdate) {
		return ri, false, "CRL expired at its nextUpdate " + crl.NextUpdate.UTC().Format(time.RFC3339)
	}
	for _, e := range crl.Extensions {
		switch {
		case e.Id.Equal(oidDeltaCRLIndicator):
			return ri, false, "delta CRLs are not supported"
		case e.Id.Equal(oidIssuingDistPoint):
			if in, reason := idpCovers(e.Value, cert); !in {
				return ri, false, reason
			}
		case e.Id.Equal(oidCRLNumber), e.Id.Equal(oidAuthorityKeyID):
		default:
			if e.Critical {
				return ri, false, "CRL has unknown critical extension " + e.Id.String()
			}
		}
	}
	for _, rc := range crl.RevokedCertificateEntries {
		if rc.SerialNumber == nil || rc.SerialNumber.Cmp(cert.SerialNumber) != 0 {
			continue
		}
		for _, e := range rc.Extensions {
			if e.Critical && !e.Id.Equal(oidCRLReasonCode) && !e.Id.Equal(oidInvalidityDate) {
				// certificateIssuer (indirect CRLs) and others: the entry may be about another issuer's certificate.
				return ri, false, "CRL entry has unsupported critical extension " + e.Id.String()
			}
		}
		if rc.ReasonCode == ReasonRemoveFromCRL {
			return revInfo{st: statusGood}, true, ""
		}
		return revInfo{st: statusRevoked, reason: rc.ReasonCode, at: rc.RevocationTime}, true, ""
	}
	return revInfo{st: statusGood}, true, ""
}

// idpCovers decides from an issuingDistributionPoint extension (RFC 5280 §5.2.5) whether the CRL's scope includes
// cert. Partitioned-by-reason and indirect CRLs are reported as not covering (not supported).
func idpCovers(der []byte, cert *x509ext.Certificate) (bool, string) {
	s := cryptobyte.String(der)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return false, "malformed issuingDistributionPoint"
	}
	var dp cryptobyte.String
	var hasDP bool
	if !seq.ReadOptionalASN1(&dp, &hasDP, cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return false, "malformed issuingDistributionPoint"
	}
	readBool := func(tag int) (bool, bool) {
		var v cryptobyte.String
		var present bool
		if !seq.ReadOptionalASN1(&v, &present, cbasn1.Tag(tag).ContextSpecific()) {
			return false, false
		}
		return present && len(v) == 1 && v[0] != 0, true
	}
	onlyUser, ok1 := readBool(1)
	onlyCA, ok2 := readBool(2)
	var reasons cryptobyte.String
	var hasReasons bool
	ok3 := seq.ReadOptionalASN1(&reasons, &hasReasons, cbasn1.Tag(3).ContextSpecific())
	indirect, ok4 := readBool(4)
	onlyAttr, ok5 := readBool(5)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 {
		return false, "malformed issuingDistributionPoint"
	}
	isCA := cert.BasicConstraintsValid && cert.IsCA
	switch {
	case hasReasons:
		return false, "CRL partitioned by reason (onlySomeReasons) is not supported"
	case indirect:
		return false, "indirect CRLs are not supported"
	case onlyAttr:
		return false, "CRL covers only attribute certificates"
	case onlyUser && isCA:
		return false, "CRL covers only end-entity certificates"
	case onlyCA && !isCA:
		return false, "CRL covers only CA certificates"
	}
	if hasDP && len(cert.CRLDistributionPoints) > 0 {
		// The CRL's distribution point must be one the certificate names (full URI names only are compared).
		for _, u := range cert.CRLDistributionPoints {
			if bytes.Contains(dp, []byte(u)) {
				return true, ""
			}
		}
		return false, "CRL's distribution point is not the certificate's"
	}
	return true, ""
}

// checkOCSP verifies an OCSP response's signature: by the issuer itself, or by a responder certificate the
// issuer signed that has EKU id-kp-OCSPSigning (RFC 6960 §4.2.2.2); and its thisUpdate/nextUpdate window.
func (b *builder) checkOCSP(r *ocsp.Response, issuer *x509ext.Certificate) error {
	signer := issuer
	if r.Certificate != nil {
		resp, err := x509ext.ParseCertificate(r.Certificate.Raw)
		if err != nil {
			return newErr("check OCSP response", ErrMalformed, "responder certificate", err)
		}
		if !bytes.Equal(resp.Raw, issuer.Raw) {
			if err := b.checkSignature(resp, issuer); err != nil {
				return newErr("check OCSP response", ErrBadSignature, "responder certificate not signed by the issuer", err)
			}
			if !hasEKU(resp, x509.ExtKeyUsageOCSPSigning) {
				return newErr("check OCSP response", ErrEKU, "responder certificate lacks id-kp-OCSPSigning", nil)
			}
			if b.now.Before(resp.NotBefore) || b.now.After(resp.NotAfter) {
				return newErr("check OCSP response", ErrExpired, "responder certificate outside its validity", nil)
			}
			signer = resp
		}
	}
	a, err := alg.FromX509(r.SignatureAlgorithm)
	if err != nil {
		return newErr("check OCSP response", ErrBadSignature, "unsupported signature algorithm", err)
	}
	if b.sigs >= b.maxSigs {
		return newErr("check OCSP response", ErrBudgetExhausted, "", nil)
	}
	b.sigs++
	if err := alg.Verify(signer.PublicKey, a, r.TBSResponseData, r.Signature); err != nil {
		return newErr("check OCSP response", ErrBadSignature, "", err)
	}
	if b.now.Before(r.ThisUpdate) {
		return newErr("check OCSP response", ErrBadCRL, "thisUpdate is after the verification time", nil)
	}
	if !r.NextUpdate.IsZero() && !b.now.Before(r.NextUpdate) {
		return newErr("check OCSP response", ErrBadCRL, "response expired at its nextUpdate", nil)
	}
	return nil
}

func hasEKU(c *x509ext.Certificate, u x509.ExtKeyUsage) bool {
	for _, e := range c.ExtKeyUsage {
		if e == u {
			return true
		}
	}
	return false
}
