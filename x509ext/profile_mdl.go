package x509ext

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"time"
)

// OIDExtKeyUsageMDLDocumentSigner is id-mdl-kp-mdlDS (1.0.18013.5.1.2), ISO/IEC 18013-5 Annex B: the extended key
// usage of an mDL Document Signer certificate.
var OIDExtKeyUsageMDLDocumentSigner = asn1.ObjectIdentifier{1, 0, 18013, 5, 1, 2}

// mdlKeyAlgorithms are the keys of ISO/IEC 18013-5 cipher suite 1 that pkikit supports (brainpool is not).
var mdlKeyAlgorithms = []KeyAlgorithm{KeyECDSAP256, KeyECDSAP384, KeyECDSAP521, KeyEd25519}

// The ISO/IEC 18013-5 Annex B profiles. The request supplies the subject (countryName required, ISO 3166-1
// alpha-2 upper case; stateOrProvinceName optional), IssuerAltName (an email address or URI) and
// CRLDistributionPoints (a URI); the profile refuses requests without them. The mdl package checks existing
// certificates against the same rules (mdl.CheckIACACertificate, mdl.CheckDocumentSignerCertificate).
var (
	// MDLIACACertificateV1 is the IACA root (B.1.2, tables B.1/B.2): self-signed; basicConstraints critical
	// CA:TRUE, pathLen 0; keyUsage critical keyCertSign, cRLSign; no extendedKeyUsage; SKI; issuerAltName and
	// cRLDistributionPoints required; validity at most 20 years (9 are enough for an IACA that issues only mDLs);
	// ECDSA P-256/384/521 or Ed25519 keys; a random serial of at least 63 bits.
	MDLIACACertificateV1 = Profile{Name: "MDLIACACertificate/V1", IsCA: true, MaxPathLen: 0,
		BasicConstraintsCritical: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, KeyUsageCritical: true,
		MaxValidity: 20 * 365 * 24 * time.Hour, KeyAlgorithms: mdlKeyAlgorithms, OmitAuthorityKeyID: false,
		RequireCRLDistributionPoints: true, RequireIssuerAltName: true, Check: checkMDLIACA}
	// MDLDocumentSignerCertificateV1 is the Document Signer (B.1.4, tables B.3/B.4): issued by an IACA with the
	// same countryName (and stateOrProvinceName, if present); no basicConstraints; keyUsage critical
	// digitalSignature; extendedKeyUsage critical id-mdl-kp-mdlDS only; AKI and SKI; issuerAltName and
	// cRLDistributionPoints required; validity at most 457 days; ECDSA P-256/384/521 or Ed25519 keys.
	MDLDocumentSignerCertificateV1 = Profile{Name: "MDLDocumentSignerCertificate/V1", OmitBasicConstraints: true,
		KeyUsage: x509.KeyUsageDigitalSignature, KeyUsageCritical: true,
		UnknownExtKeyUsage: []asn1.ObjectIdentifier{OIDExtKeyUsageMDLDocumentSigner}, ExtKeyUsageCritical: true,
		MaxValidity: 457 * 24 * time.Hour, KeyAlgorithms: mdlKeyAlgorithms,
		RequireCRLDistributionPoints: true, RequireIssuerAltName: true, Check: checkMDLDocumentSigner}
)

func init() {
	registerProfile(&MDLIACACertificateV1)
	registerProfile(&MDLDocumentSignerCertificateV1)
}

// Errors of the mDL profile checks (wrapped by Issue in ErrProfileRequirement).
var (
	errMDLNotSelfSigned = errors.New("an IACA certificate is a self-signed root")
	errMDLCountry       = errors.New("subject needs exactly one countryName, ISO 3166-1 alpha-2 upper case")
	errMDLSerial        = errors.New("serial number needs at least 63 bits of CSPRNG output")
	errMDLSigAlg        = errors.New("signature algorithm must be ECDSA with SHA-256/384/512 or Ed25519")
	errMDLNoIssuer      = errors.New("a Document Signer certificate is issued by an IACA")
	errMDLIssuerCountry = errors.New("countryName must equal the IACA's")
	errMDLIssuerState   = errors.New("stateOrProvinceName must equal the IACA's")
	errMDLIssuerNotIACA = errors.New("the issuer is not an IACA certificate (basicConstraints pathLen 0, keyCertSign and cRLSign)")
)

func checkMDLCommon(d *Draft) error {
	c := d.Subject.Country
	if len(c) != 1 || len(c[0]) != 2 || c[0][0] < 'A' || c[0][0] > 'Z' || c[0][1] < 'A' || c[0][1] > 'Z' {
		return errMDLCountry
	}
	if d.SerialNumber == nil || d.SerialNumber.BitLen() < 63 {
		return errMDLSerial
	}
	switch d.SignatureAlgorithm {
	case ECDSAWithSHA256, ECDSAWithSHA384, ECDSAWithSHA512, PureEd25519:
	default:
		return errMDLSigAlg
	}
	return nil
}

func checkMDLIACA(d *Draft) error {
	if d.Issuer != nil && !bytes.Equal(d.Issuer.RawSubject, d.RawSubject) {
		return errMDLNotSelfSigned
	}
	return checkMDLCommon(d)
}

func checkMDLDocumentSigner(d *Draft) error {
	ic := d.Issuer
	if ic == nil {
		return errMDLNoIssuer
	}
	if !ic.IsCA || ic.KeyUsage&(x509.KeyUsageCertSign|x509.KeyUsageCRLSign) != x509.KeyUsageCertSign|x509.KeyUsageCRLSign ||
		!bytes.Equal(ic.RawIssuer, ic.RawSubject) {
		return errMDLIssuerNotIACA
	}
	if err := checkMDLCommon(d); err != nil {
		return err
	}
	if !equalStringSlices(d.Subject.Country, ic.Subject.Country) {
		return errMDLIssuerCountry
	}
	if len(d.Subject.Province) > 0 && !equalStringSlices(d.Subject.Province, ic.Subject.Province) {
		return errMDLIssuerState
	}
	return nil
}

func equalStringSlices(a, b []string) bool {
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
