package x509ext

import (
	"context"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"strings"
	"time"

	"github.com/pkikit/pkikit/internal/der"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// CAConfig is a CA set-up read from AWS Private CA's CA-configuration JSON by ParseCAConfig.
type CAConfig struct {
	// KeyAlgorithm is the CA key's algorithm (from KeyAlgorithm).
	KeyAlgorithm KeyAlgorithm
	// SigningAlgorithm is the algorithm the CA signs with (from SigningAlgorithm).
	SigningAlgorithm SignatureAlgorithm
	// Subject is the CA's distinguished name; ASN1Subject is the JSON it came from.
	Subject     pkix.Name
	ASN1Subject ASN1Subject
	// Type is "ROOT", "SUBORDINATE", or "" when the JSON was a bare CertificateAuthorityConfiguration.
	Type string
	// CSRKeyUsage is CsrExtensions.KeyUsage (0 if absent).
	CSRKeyUsage x509.KeyUsage
	// SubjectInformationAccess is CsrExtensions.SubjectInformationAccess as an extension for the CA
	// certificate (nil if absent).
	SubjectInformationAccess *pkix.Extension
	// CRL and OCSP are RevocationConfiguration's (zero when absent).
	CRL  CRLConfig
	OCSP OCSPConfig
}

// CRLConfig is RevocationConfiguration.CrlConfiguration.
type CRLConfig struct {
	Enabled          bool
	ExpirationInDays int
	CustomCname      string
	S3BucketName     string
	CustomPath       string
	// OmitExtension is CrlDistributionPointExtensionConfiguration.OmitExtension: no CRL DP in certificates.
	OmitExtension bool
}

// DistributionPoint returns the CRL URL Private CA would put in certificates, for a CRL file named name
// ("<CA id>.crl" at AWS): http://<CustomCname or S3BucketName.s3.amazonaws.com>/<CustomPath or "crl">/<name>.
// It returns "" when CRLs are disabled, the extension is omitted, or no host is configured.
func (c CRLConfig) DistributionPoint(name string) string {
	if !c.Enabled || c.OmitExtension {
		return ""
	}
	host := c.CustomCname
	if host == "" && c.S3BucketName != "" {
		host = c.S3BucketName + ".s3.amazonaws.com"
	}
	if host == "" {
		return ""
	}
	path := strings.Trim(c.CustomPath, "/")
	if path == "" {
		path = "crl"
	}
	return "http://" + host + "/" + path + "/" + name
}

// OCSPConfig is RevocationConfiguration.OcspConfiguration.
type OCSPConfig struct {
	Enabled         bool
	OcspCustomCname string
}

type jsonCAConfiguration struct {
	KeyAlgorithm     string             `json:"KeyAlgorithm"`
	SigningAlgorithm string             `json:"SigningAlgorithm"`
	Subject          *ASN1Subject       `json:"Subject"`
	CsrExtensions    *jsonCSRExtensions `json:"CsrExtensions"`
}

type jsonCSRExtensions struct {
	KeyUsage                 *jsonKeyUsage           `json:"KeyUsage"`
	SubjectInformationAccess []jsonAccessDescription `json:"SubjectInformationAccess"`
}

type jsonAccessDescription struct {
	AccessMethod struct {
		AccessMethodType       string `json:"AccessMethodType"`
		CustomObjectIdentifier string `json:"CustomObjectIdentifier"`
	} `json:"AccessMethod"`
	AccessLocation jsonGeneralName `json:"AccessLocation"`
}

type jsonCreateCA struct {
	CertificateAuthorityConfiguration *jsonCAConfiguration `json:"CertificateAuthorityConfiguration"`
	CertificateAuthorityType          string               `json:"CertificateAuthorityType"`
	RevocationConfiguration           *struct {
		CrlConfiguration *struct {
			Enabled                                    bool   `json:"Enabled"`
			ExpirationInDays                           int    `json:"ExpirationInDays"`
			CustomCname                                string `json:"CustomCname"`
			S3BucketName                               string `json:"S3BucketName"`
			S3ObjectACL                                string `json:"S3ObjectAcl"`
			CustomPath                                 string `json:"CustomPath"`
			CrlType                                    string `json:"CrlType"`
			CrlDistributionPointExtensionConfiguration *struct {
				OmitExtension bool `json:"OmitExtension"`
			} `json:"CrlDistributionPointExtensionConfiguration"`
		} `json:"CrlConfiguration"`
		OcspConfiguration *struct {
			Enabled         bool   `json:"Enabled"`
			OcspCustomCname string `json:"OcspCustomCname"`
		} `json:"OcspConfiguration"`
	} `json:"RevocationConfiguration"`
	IdempotencyToken           string            `json:"IdempotencyToken"`
	KeyStorageSecurityStandard string            `json:"KeyStorageSecurityStandard"`
	UsageMode                  string            `json:"UsageMode"`
	Tags                       []json.RawMessage `json:"Tags"`
}

var caKeyAlgorithms = map[string]KeyAlgorithm{
	"RSA_2048": KeyRSA2048, "RSA_3072": KeyRSA3072, "RSA_4096": KeyRSA4096,
	"EC_prime256v1": KeyECDSAP256, "EC_secp384r1": KeyECDSAP384, "EC_secp521r1": KeyECDSAP521,
	"EC_256": KeyECDSAP256, "EC_384": KeyECDSAP384, // short aliases used by guides
	"ML_DSA_44": KeyMLDSA44, "ML_DSA_65": KeyMLDSA65, "ML_DSA_87": KeyMLDSA87,
}

var caSigningAlgorithms = map[string]SignatureAlgorithm{
	"SHA256WITHRSA": SHA256WithRSA, "SHA384WITHRSA": SHA384WithRSA, "SHA512WITHRSA": SHA512WithRSA,
	"SHA256WITHECDSA": ECDSAWithSHA256, "SHA384WITHECDSA": ECDSAWithSHA384, "SHA512WITHECDSA": ECDSAWithSHA512,
	"ML_DSA_44": MLDSA44, "ML_DSA_65": MLDSA65, "ML_DSA_87": MLDSA87,
}

// The access method types of the Private CA API for SubjectInformationAccess.
var siaMethods = map[string]asn1.ObjectIdentifier{
	"CA_REPOSITORY":         {1, 3, 6, 1, 5, 5, 7, 48, 5},
	"RESOURCE_PKI_MANIFEST": {1, 3, 6, 1, 5, 5, 7, 48, 10},
	"RESOURCE_PKI_NOTIFY":   {1, 3, 6, 1, 5, 5, 7, 48, 13},
}

var oidSubjectInfoAccess = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 11}

// ParseCAConfig reads AWS Private CA's CA configuration JSON — either a bare CertificateAuthorityConfiguration
// (what `aws acm-pca create-certificate-authority --certificate-authority-configuration file://ca_config.txt`
// takes: KeyAlgorithm, SigningAlgorithm, Subject, CsrExtensions) or a whole CreateCertificateAuthority input
// (CertificateAuthorityConfiguration, CertificateAuthorityType, RevocationConfiguration, ...). KeyAlgorithm is
// one of RSA_2048, RSA_3072, RSA_4096, EC_prime256v1 (alias EC_256), EC_secp384r1 (alias EC_384), EC_secp521r1,
// ML_DSA_44, ML_DSA_65, ML_DSA_87; SigningAlgorithm one of SHA256/384/512WITHRSA, SHA256/384/512WITHECDSA,
// ML_DSA_44/65/87, and it must fit the key (ML-DSA: the same parameter set). SM2 and unknown names, unknown
// fields, and mismatches give an *Error matching ErrCAConfig (or ErrMalformed for broken JSON).
func ParseCAConfig(data []byte) (*CAConfig, error) {
	const op = "parse CA configuration"
	var probe map[string]json.RawMessage
	if err := decodeStrictLoose(op, data, &probe); err != nil {
		return nil, err
	}
	var cfg *jsonCAConfiguration
	out := &CAConfig{}
	if _, full := probe["CertificateAuthorityConfiguration"]; full {
		var j jsonCreateCA
		if err := decodeStrict(op, data, &j); err != nil {
			return nil, newErr(op, ErrCAConfig, "", err)
		}
		cfg = j.CertificateAuthorityConfiguration
		switch j.CertificateAuthorityType {
		case "ROOT", "SUBORDINATE":
			out.Type = j.CertificateAuthorityType
		case "":
		default:
			return nil, newErr(op, ErrCAConfig, "unknown CertificateAuthorityType "+quote(j.CertificateAuthorityType), nil)
		}
		if rc := j.RevocationConfiguration; rc != nil {
			if c := rc.CrlConfiguration; c != nil {
				out.CRL = CRLConfig{Enabled: c.Enabled, ExpirationInDays: c.ExpirationInDays, CustomCname: c.CustomCname,
					S3BucketName: c.S3BucketName, CustomPath: c.CustomPath}
				if c.CrlDistributionPointExtensionConfiguration != nil {
					out.CRL.OmitExtension = c.CrlDistributionPointExtensionConfiguration.OmitExtension
				}
				if c.Enabled && (c.ExpirationInDays < 1 || c.ExpirationInDays > 5000) {
					return nil, newErr(op, ErrCAConfig, "CrlConfiguration.ExpirationInDays must be 1..5000", nil)
				}
				if c.CrlType != "" && c.CrlType != "COMPLETE" && c.CrlType != "PARTITIONED" {
					return nil, newErr(op, ErrCAConfig, "unknown CrlType "+quote(c.CrlType), nil)
				}
			}
			if o := rc.OcspConfiguration; o != nil {
				out.OCSP = OCSPConfig{Enabled: o.Enabled, OcspCustomCname: o.OcspCustomCname}
			}
		}
		if j.UsageMode != "" && j.UsageMode != "GENERAL_PURPOSE" && j.UsageMode != "SHORT_LIVED_CERTIFICATE" {
			return nil, newErr(op, ErrCAConfig, "unknown UsageMode "+quote(j.UsageMode), nil)
		}
	} else {
		cfg = new(jsonCAConfiguration)
		if err := decodeStrict(op, data, cfg); err != nil {
			return nil, newErr(op, ErrCAConfig, "", err)
		}
	}
	if cfg == nil {
		return nil, newErr(op, ErrCAConfig, "CertificateAuthorityConfiguration is null", nil)
	}
	kt, ok := caKeyAlgorithms[cfg.KeyAlgorithm]
	if !ok {
		return nil, newErr(op, ErrCAConfig, "unknown or unsupported KeyAlgorithm "+quote(cfg.KeyAlgorithm), nil)
	}
	sa, ok := caSigningAlgorithms[cfg.SigningAlgorithm]
	if !ok {
		return nil, newErr(op, ErrCAConfig, "unknown or unsupported SigningAlgorithm "+quote(cfg.SigningAlgorithm), nil)
	}
	if err := sa.CheckKeyType(kt); err != nil {
		return nil, newErr(op, ErrCAConfig, "SigningAlgorithm "+cfg.SigningAlgorithm+" does not fit KeyAlgorithm "+cfg.KeyAlgorithm, err)
	}
	out.KeyAlgorithm, out.SigningAlgorithm = kt, sa
	if cfg.Subject == nil {
		return nil, newErr(op, ErrCAConfig, "Subject is required", nil)
	}
	name, err := cfg.Subject.Name()
	if err != nil {
		return nil, newErr(op, ErrCAConfig, "Subject", err)
	}
	if len(name.ToRDNSequence()) == 0 {
		return nil, newErr(op, ErrCAConfig, "Subject is empty", nil)
	}
	out.Subject, out.ASN1Subject = name, *cfg.Subject
	if ce := cfg.CsrExtensions; ce != nil {
		if ce.KeyUsage != nil {
			out.CSRKeyUsage = ce.KeyUsage.keyUsage()
		}
		if len(ce.SubjectInformationAccess) > 0 {
			v, err := marshalSIA(ce.SubjectInformationAccess)
			if err != nil {
				return nil, err
			}
			e := extension(oidSubjectInfoAccess, false, v)
			out.SubjectInformationAccess = &e
		}
	}
	return out, nil
}

func quote(s string) string { return "\"" + s + "\"" }

// decodeStrictLoose decodes into a map only to look at the top-level keys (the size bound still applies).
func decodeStrictLoose(op string, data []byte, v any) error {
	if len(data) > MaxJSONSize {
		return newErr(op, ErrLimit, "JSON larger than MaxJSONSize", nil)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return newErr(op, ErrMalformed, "", err)
	}
	return nil
}

func marshalSIA(ads []jsonAccessDescription) ([]byte, error) {
	const op = "parse CA configuration"
	var b cryptobyte.Builder
	var bad error
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, ad := range ads {
			var method asn1.ObjectIdentifier
			switch m := ad.AccessMethod; {
			case m.AccessMethodType != "" && m.CustomObjectIdentifier == "":
				var ok bool
				if method, ok = siaMethods[m.AccessMethodType]; !ok {
					bad = newErr(op, ErrCAConfig, "unknown AccessMethodType "+quote(m.AccessMethodType), nil)
					return
				}
			case m.CustomObjectIdentifier != "" && m.AccessMethodType == "":
				var err error
				if method, err = ParseOID(m.CustomObjectIdentifier); err != nil {
					bad = newErr(op, ErrCAConfig, "CustomObjectIdentifier", err)
					return
				}
			default:
				bad = newErr(op, ErrCAConfig, "AccessMethod needs exactly one of AccessMethodType, CustomObjectIdentifier", nil)
				return
			}
			u := ad.AccessLocation.UniformResourceIdentifier
			if u == nil || *u == "" {
				bad = newErr(op, ErrCAConfig, "only UniformResourceIdentifier access locations are supported", nil)
				return
			}
			if _, err := der.ParseURIs([]string{*u}); err != nil {
				bad = newErr(op, ErrCAConfig, "AccessLocation", err)
				return
			}
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(method)
				b.AddASN1(cbasn1.Tag(6).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes([]byte(*u)) })
			})
		}
	})
	if bad != nil {
		return nil, bad
	}
	return b.Bytes()
}

// GenerateKey makes an in-memory key of the configured KeyAlgorithm.
func (c *CAConfig) GenerateKey() (crypto.Signer, error) {
	if c == nil {
		return nil, newErr("CA configuration", ErrCAConfig, "nil configuration", nil)
	}
	return GenerateKey(c.KeyAlgorithm)
}

// CARequest returns the IssueRequest for this CA's own certificate: the configured subject, the given key and
// profile (RootCACertificateV1 for a root, a SubordinateCACertificate_PathLenN profile for a subordinate), the
// validity, and the SubjectInformationAccess extension when configured.
func (c *CAConfig) CARequest(pub crypto.PublicKey, profile Profile, notBefore time.Time, validity time.Duration) *IssueRequest {
	r := &IssueRequest{Profile: profile, PublicKey: pub, Subject: c.Subject, NotBefore: notBefore, Validity: validity}
	if c.SubjectInformationAccess != nil {
		r.ExtraExtensions = []pkix.Extension{*c.SubjectInformationAccess}
	}
	return r
}

// NewRoot makes a self-signed root CA from the configuration with signer (whose key must be of the configured
// KeyAlgorithm) and returns it as an Issuer that signs with the configured SigningAlgorithm.
func (c *CAConfig) NewRoot(ctx context.Context, signer crypto.Signer, notBefore time.Time, validity time.Duration) (*Issuer, error) {
	if err := c.checkSigner(signer); err != nil {
		return nil, err
	}
	if c.Type == "SUBORDINATE" {
		return nil, newErr("CA configuration", ErrCAConfig, "CertificateAuthorityType SUBORDINATE cannot make a root", nil)
	}
	r := c.CARequest(signer.Public(), RootCACertificateV1, notBefore, validity)
	r.SignatureAlgorithm = c.SigningAlgorithm
	cert, err := SelfSign(ctx, signer, r)
	if err != nil {
		return nil, err
	}
	return &Issuer{Certificate: cert, Signer: signer, Algorithm: c.SigningAlgorithm}, nil
}

// NewSubordinate has parent issue this configuration's CA certificate under profile (a
// SubordinateCACertificate_PathLenN profile) for signer's key, and returns the new CA as an Issuer that signs
// with the configured SigningAlgorithm. The parent's clock gives the default start.
func (c *CAConfig) NewSubordinate(ctx context.Context, parent *Issuer, signer crypto.Signer, profile Profile, validity time.Duration, crlDistributionPoints ...string) (*Issuer, error) {
	if err := c.checkSigner(signer); err != nil {
		return nil, err
	}
	if c.Type == "ROOT" {
		return nil, newErr("CA configuration", ErrCAConfig, "CertificateAuthorityType ROOT cannot make a subordinate", nil)
	}
	if parent == nil {
		return nil, newErr("CA configuration", ErrNotIssuer, "nil parent", nil)
	}
	r := c.CARequest(signer.Public(), profile, time.Time{}, validity)
	r.CRLDistributionPoints = crlDistributionPoints
	cert, err := parent.Issue(ctx, r)
	if err != nil {
		return nil, err
	}
	return &Issuer{Certificate: cert, Signer: signer, Algorithm: c.SigningAlgorithm, Now: parent.Now, Policy: nil}, nil
}

func (c *CAConfig) checkSigner(signer crypto.Signer) error {
	if c == nil {
		return newErr("CA configuration", ErrCAConfig, "nil configuration", nil)
	}
	if signer == nil {
		return newErr("CA configuration", ErrSignerMismatch, "nil signer", nil)
	}
	kt, err := KeyAlgorithmOf(signer.Public())
	if err != nil || kt != c.KeyAlgorithm {
		return newErr("CA configuration", ErrCAConfig, "signer key is not the configured KeyAlgorithm "+c.KeyAlgorithm.String(), err)
	}
	return nil
}
