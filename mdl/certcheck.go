package mdl

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"strings"
	"time"

	"github.com/pkikit/pkikit/x509ext"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// OIDs of ISO/IEC 18013-5 Annex B.
var (
	// OIDExtKeyUsageMDLDocumentSigner is id-mdl-kp-mdlDS (1.0.18013.5.1.2), the DS certificate's only EKU.
	OIDExtKeyUsageMDLDocumentSigner = x509ext.OIDExtKeyUsageMDLDocumentSigner
	// OIDExtKeyUsageMDLReaderAuth is id-mdl-kp-mdlReaderAuth (1.0.18013.5.1.6).
	OIDExtKeyUsageMDLReaderAuth = asn1.ObjectIdentifier{1, 0, 18013, 5, 1, 6}

	oidSKI               = x509ext.OIDExtensionSubjectKeyID
	oidKU                = x509ext.OIDExtensionKeyUsage
	oidIAN               = x509ext.OIDExtensionIssuerAltName
	oidBC                = x509ext.OIDExtensionBasicConstraints
	oidCRLDP             = x509ext.OIDExtensionCRLDistributionPoints
	oidAKI               = x509ext.OIDExtensionAuthorityKeyID
	oidEKU               = x509ext.OIDExtensionExtKeyUsage
	oidNameConstraints   = x509ext.OIDExtensionNameConstraints
	oidPolicyMappings    = asn1.ObjectIdentifier{2, 5, 29, 33}
	oidPolicyConstraints = asn1.ObjectIdentifier{2, 5, 29, 36}
	oidFreshestCRL       = asn1.ObjectIdentifier{2, 5, 29, 46}
	oidInhibitAnyPolicy  = asn1.ObjectIdentifier{2, 5, 29, 54}
)

// Validity limits of Annex B.
const (
	// MaxIACAValidity is the longest IACA validity (B.1.2: 20 years).
	MaxIACAValidity = 20 * 365 * 24 * time.Hour
	// RecommendedIACAValidity: an IACA issuing only mDLs needs no more than 9 years (a warning above it).
	RecommendedIACAValidity = 9 * 365 * 24 * time.Hour
	// MaxDocumentSignerValidity is the longest DS validity (B.1.4: 457 days).
	MaxDocumentSignerValidity = 457 * 24 * time.Hour
)

// Severity grades a Finding.
type Severity int

// Finding severities: an Error breaks the profile (rejected in strict mode), a Warning is advice.
const (
	SeverityError Severity = iota
	SeverityWarning
)

func (s Severity) String() string {
	if s == SeverityWarning {
		return "warning"
	}
	return "error"
}

// Finding is one Annex B rule a certificate breaks.
type Finding struct {
	Rule     string // "iaca-key-usage", "ds-eku", ...
	Severity Severity
	Message  string
}

func (f Finding) String() string { return fmt.Sprintf("%s %s: %s", f.Severity, f.Rule, f.Message) }

// ProfileReport lists the findings of a certificate check.
type ProfileReport struct {
	Findings []Finding
}

// OK reports whether no finding is an error.
func (r *ProfileReport) OK() bool {
	for _, f := range r.Findings {
		if f.Severity == SeverityError {
			return false
		}
	}
	return true
}

func (r *ProfileReport) add(rule string, sev Severity, format string, args ...any) {
	r.Findings = append(r.Findings, Finding{Rule: rule, Severity: sev, Message: fmt.Sprintf(format, args...)})
}

func (r *ProfileReport) has(rule string) bool {
	for _, f := range r.Findings {
		if f.Rule == rule && f.Severity == SeverityError {
			return true
		}
	}
	return false
}

// CertificateCheckOptions configures the Annex B checkers. The zero value is the strict ISO profile.
type CertificateCheckOptions struct {
	// Lenient returns the report without an error when rules are broken (report instead of reject).
	Lenient bool
	// RequireState demands stateOrProvinceName in the IACA and DS subjects (AAMVA jurisdictions).
	RequireState bool
	// AllowNonURICRLDistributionPoint accepts a cRLDistributionPoints fullName that is not a URI (Annex D's own
	// example uses a dNSName).
	AllowNonURICRLDistributionPoint bool
	// Time is unused by the profile rules (certificate validity at a time is the trust store's check); kept so
	// callers can pass one options value around.
	Time time.Time
}

func (o CertificateCheckOptions) result(kind string, r *ProfileReport) (*ProfileReport, error) {
	if r.OK() || o.Lenient {
		return r, nil
	}
	var msgs []string
	for _, f := range r.Findings {
		if f.Severity == SeverityError {
			msgs = append(msgs, f.Rule+": "+f.Message)
		}
	}
	e := &Error{Op: "check " + kind + " certificate", Reason: strings.Join(msgs, "; "), Err: ErrCertificateProfile}
	if r.has("ds-eku") {
		e.Err, e.Also = ErrMissingDocumentSignerEKU, ErrCertificateProfile
	}
	return r, e
}

// CheckIACACertificate checks an IACA root certificate against ISO/IEC 18013-5 Annex B (B.1.2, tables B.1/B.2).
// It returns the report, and in strict mode an *Error matching ErrCertificateProfile if any rule is broken.
func CheckIACACertificate(c *x509ext.Certificate, opts CertificateCheckOptions) (*ProfileReport, error) {
	r := &ProfileReport{}
	if c == nil {
		r.add("iaca-present", SeverityError, "no certificate")
		return opts.result("IACA", r)
	}
	commonChecks(r, "iaca", c, opts)
	if !bytes.Equal(c.RawIssuer, c.RawSubject) {
		r.add("iaca-self-issued", SeverityError, "issuer must equal subject (binary)")
	} else if err := c.CheckSignatureFromKey(c.PublicKey); err != nil {
		r.add("iaca-self-signed", SeverityError, "self-signature does not verify")
	}
	if d := c.NotAfter.Sub(c.NotBefore); d > MaxIACAValidity+5*24*time.Hour {
		r.add("iaca-validity", SeverityError, "validity %v exceeds 20 years", d.Round(time.Hour))
	} else if d > RecommendedIACAValidity+3*24*time.Hour {
		r.add("iaca-validity", SeverityWarning, "validity over 9 years (enough for an IACA issuing only mDLs)")
	}
	if ext := findExt(c, oidSKI); ext == nil {
		r.add("iaca-ski", SeverityError, "subjectKeyIdentifier missing")
	} else if ext.Critical {
		r.add("iaca-ski", SeverityError, "subjectKeyIdentifier must not be critical")
	}
	if ext := findExt(c, oidKU); ext == nil || !ext.Critical {
		r.add("iaca-key-usage", SeverityError, "keyUsage must be present and critical")
	} else if c.KeyUsage != x509.KeyUsageCertSign|x509.KeyUsageCRLSign {
		r.add("iaca-key-usage", SeverityError, "keyUsage must be exactly keyCertSign and cRLSign")
	}
	if ext := findExt(c, oidBC); ext == nil || !ext.Critical || !c.IsCA {
		r.add("iaca-basic-constraints", SeverityError, "basicConstraints must be critical with cA TRUE")
	} else if !(c.MaxPathLen == 0 && c.MaxPathLenZero) {
		r.add("iaca-basic-constraints", SeverityError, "pathLenConstraint must be 0")
	}
	if findExt(c, oidEKU) != nil {
		r.add("iaca-eku", SeverityError, "an IACA certificate has no extKeyUsage")
	}
	return opts.result("IACA", r)
}

// CheckDocumentSignerCertificate checks a Document Signer certificate against ISO/IEC 18013-5 Annex B (B.1.4,
// tables B.3/B.4). With iaca set it also checks the issuer, country and state against the IACA, the AKI against
// its SKI and that the DS validity lies within the IACA's. Strict mode returns an *Error matching
// ErrCertificateProfile (and ErrMissingDocumentSignerEKU when the mDL DS EKU is missing).
func CheckDocumentSignerCertificate(ds, iaca *x509ext.Certificate, opts CertificateCheckOptions) (*ProfileReport, error) {
	r := &ProfileReport{}
	if ds == nil {
		r.add("ds-present", SeverityError, "no certificate")
		return opts.result("document signer", r)
	}
	commonChecks(r, "ds", ds, opts)
	if d := ds.NotAfter.Sub(ds.NotBefore); d > MaxDocumentSignerValidity+24*time.Hour {
		r.add("ds-validity", SeverityError, "validity %v exceeds 457 days", d.Round(time.Hour))
	}
	if findExt(ds, oidAKI) == nil {
		r.add("ds-aki", SeverityError, "authorityKeyIdentifier missing")
	}
	if ext := findExt(ds, oidSKI); ext == nil {
		r.add("ds-ski", SeverityError, "subjectKeyIdentifier missing")
	}
	if ext := findExt(ds, oidKU); ext == nil || !ext.Critical {
		r.add("ds-key-usage", SeverityError, "keyUsage must be present and critical")
	} else if ds.KeyUsage != x509.KeyUsageDigitalSignature {
		r.add("ds-key-usage", SeverityError, "keyUsage must be exactly digitalSignature")
	}
	ext := findExt(ds, oidEKU)
	switch {
	case ext == nil:
		r.add("ds-eku", SeverityError, "extKeyUsage id-mdl-kp-mdlDS (1.0.18013.5.1.2) missing")
	case len(ds.ExtKeyUsage) != 0 || len(ds.UnknownExtKeyUsage) != 1 || !ds.UnknownExtKeyUsage[0].Equal(OIDExtKeyUsageMDLDocumentSigner):
		r.add("ds-eku", SeverityError, "extKeyUsage must be exactly id-mdl-kp-mdlDS (1.0.18013.5.1.2)")
	case !ext.Critical:
		r.add("ds-eku-critical", SeverityError, "extKeyUsage must be critical")
	}
	if ds.BasicConstraintsValid && ds.IsCA {
		r.add("ds-basic-constraints", SeverityError, "a DS certificate must not be a CA")
	}
	if iaca != nil {
		if !bytes.Equal(ds.RawIssuer, iaca.RawSubject) {
			r.add("ds-issuer", SeverityError, "issuer must equal the IACA subject (binary)")
		}
		if len(iaca.SubjectKeyId) > 0 && !bytes.Equal(ds.AuthorityKeyId, iaca.SubjectKeyId) {
			r.add("ds-aki", SeverityError, "authorityKeyIdentifier must equal the IACA's subjectKeyIdentifier")
		}
		if !equalStrings(ds.Subject.Country, iaca.Subject.Country) {
			r.add("ds-country", SeverityError, "subject countryName must equal the IACA's")
		}
		if len(ds.Subject.Province) > 0 && !equalStrings(ds.Subject.Province, iaca.Subject.Province) {
			r.add("ds-state", SeverityError, "subject stateOrProvinceName must equal the IACA's")
		}
		if ds.NotBefore.Before(iaca.NotBefore) || ds.NotAfter.After(iaca.NotAfter) {
			r.add("ds-validity-within-iaca", SeverityError, "DS validity must lie within the IACA's")
		}
	}
	return opts.result("document signer", r)
}

// commonChecks are the rules both profiles share.
func commonChecks(r *ProfileReport, p string, c *x509ext.Certificate, opts CertificateCheckOptions) {
	if c.Version != 3 {
		r.add(p+"-version", SeverityError, "must be X.509 v3")
	}
	sn := c.SerialNumber
	switch {
	case sn == nil || sn.Sign() <= 0:
		r.add(p+"-serial", SeverityError, "serialNumber must be positive")
	case len(sn.Bytes()) > 20:
		r.add(p+"-serial", SeverityError, "serialNumber longer than 20 octets")
	case sn.BitLen() < 56:
		r.add(p+"-serial", SeverityError, "serialNumber must carry at least 63 bits of CSPRNG output (got %d bits)", sn.BitLen())
	case sn.BitLen() < 63:
		r.add(p+"-serial", SeverityWarning, "serialNumber of %d bits; at least 63 (better 71) random bits expected", sn.BitLen())
	}
	if len(c.Subject.Country) != 1 || !isAlpha2(c.Subject.Country[0]) {
		r.add(p+"-country", SeverityError, "subject needs exactly one countryName, ISO 3166-1 alpha-2 upper case")
	}
	if opts.RequireState && len(c.Subject.Province) == 0 {
		r.add(p+"-state", SeverityError, "subject stateOrProvinceName required (AAMVA)")
	}
	if c.Subject.CommonName == "" {
		r.add(p+"-common-name", SeverityWarning, "subject commonName expected")
	}
	switch k := c.PublicKey.(type) {
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() && k.Curve != elliptic.P384() && k.Curve != elliptic.P521() {
			r.add(p+"-key", SeverityError, "EC key must be on P-256, P-384 or P-521")
		}
	case ed25519.PublicKey:
	default:
		r.add(p+"-key", SeverityError, "key must be ECDSA (P-256/384/521) or Ed25519, got %T", c.PublicKey)
	}
	switch c.SignatureAlgorithm {
	case x509ext.ECDSAWithSHA256, x509ext.ECDSAWithSHA384, x509ext.ECDSAWithSHA512, x509ext.PureEd25519:
	default:
		r.add(p+"-signature-algorithm", SeverityError, "signature algorithm %v not allowed", c.SignatureAlgorithm)
	}
	if ext := findExt(c, oidIAN); ext == nil {
		r.add(p+"-issuer-alt-name", SeverityError, "issuerAltName missing")
	} else {
		if ext.Critical {
			r.add(p+"-issuer-alt-name", SeverityError, "issuerAltName must not be critical")
		}
		if !generalNamesHave(ext.Value, 1, 6) {
			r.add(p+"-issuer-alt-name", SeverityError, "issuerAltName must hold an rfc822Name or a URI")
		}
	}
	if ext := findExt(c, oidCRLDP); ext == nil {
		r.add(p+"-crl-distribution-point", SeverityError, "cRLDistributionPoints missing")
	} else {
		if ext.Critical {
			r.add(p+"-crl-distribution-point", SeverityError, "cRLDistributionPoints must not be critical")
		}
		if msg := checkCRLDP(ext.Value, opts.AllowNonURICRLDistributionPoint); msg != "" {
			r.add(p+"-crl-distribution-point", SeverityError, "%s", msg)
		}
	}
	for _, bad := range []struct {
		oid  asn1.ObjectIdentifier
		name string
	}{{oidPolicyMappings, "policyMappings"}, {oidNameConstraints, "nameConstraints"}, {oidPolicyConstraints, "policyConstraints"},
		{oidInhibitAnyPolicy, "inhibitAnyPolicy"}, {oidFreshestCRL, "freshestCRL"}} {
		if findExt(c, bad.oid) != nil {
			r.add(p+"-disallowed-extension", SeverityError, "%s must not be used", bad.name)
		}
	}
}

func findExt(c *x509ext.Certificate, oid asn1.ObjectIdentifier) *struct {
	Critical bool
	Value    []byte
} {
	for _, e := range c.Extensions {
		if e.Id.Equal(oid) {
			return &struct {
				Critical bool
				Value    []byte
			}{e.Critical, e.Value}
		}
	}
	return nil
}

func isAlpha2(s string) bool {
	return len(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z'
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// generalNamesHave reports whether a GeneralNames SEQUENCE holds a name with one of the context tags.
func generalNamesHave(der []byte, tags ...uint8) bool {
	s := cryptobyte.String(der)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() {
		return false
	}
	for !seq.Empty() {
		var tag cbasn1.Tag
		var v cryptobyte.String
		if !seq.ReadAnyASN1(&v, &tag) {
			return false
		}
		for _, t := range tags {
			if tag == cbasn1.Tag(t).ContextSpecific() {
				return true
			}
		}
	}
	return false
}

// checkCRLDP enforces B.2: a distributionPoint fullName (a URI unless allowOther), no reasons, no cRLIssuer.
func checkCRLDP(der []byte, allowOther bool) string {
	s := cryptobyte.String(der)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() || seq.Empty() {
		return "malformed cRLDistributionPoints"
	}
	for !seq.Empty() {
		var dp cryptobyte.String
		if !seq.ReadASN1(&dp, cbasn1.SEQUENCE) {
			return "malformed DistributionPoint"
		}
		var name, full cryptobyte.String
		var hasName, hasFull bool
		if !dp.ReadOptionalASN1(&name, &hasName, cbasn1.Tag(0).Constructed().ContextSpecific()) {
			return "malformed distributionPoint"
		}
		if !dp.Empty() {
			return "reasons and cRLIssuer shall not be used"
		}
		if !hasName || !name.ReadOptionalASN1(&full, &hasFull, cbasn1.Tag(0).Constructed().ContextSpecific()) || !hasFull {
			return "distributionPoint needs a fullName"
		}
		hasURI, any := false, false
		for !full.Empty() {
			var tag cbasn1.Tag
			var v cryptobyte.String
			if !full.ReadAnyASN1(&v, &tag) {
				return "malformed fullName"
			}
			any = true
			if tag == cbasn1.Tag(6).ContextSpecific() {
				hasURI = true
			}
		}
		if !hasURI && !(allowOther && any) {
			return "distributionPoint fullName must be a URI"
		}
	}
	return ""
}
