package x509ext

import (
	"crypto/x509"
	"encoding/asn1"
	"slices"
	"strings"
	"time"
)

// TemplateARNPrefix is the prefix of AWS Private CA's service-owned template ARNs.
const TemplateARNPrefix = "arn:aws:acm-pca:::template/"

// Profile is a certificate profile: everything about a certificate that the CA, not the requester, decides.
// The AWS Private CA templates are values of this type (EndEntityCertificateV1, ...); other profiles (the
// ISO 18013-5 IACA and Document Signer ones, a site's own) are more values, made by copying one and changing
// fields. The zero Profile is not usable (Issue refuses a profile without a Name).
//
// Precedence, as in AWS Private CA's "template order of operations": a key usage, extended key usage or basic
// constraints value set here wins over the request's API passthrough, which wins over the CSR's extension
// request (read only when CSRPassthrough is set).
type Profile struct {
	// Name is the profile's name: for AWS templates "EndEntityCertificate/V1" and so on.
	Name string
	// ARN is the AWS Private CA template ARN (TemplateARNPrefix + Name) or "" for profiles that are not AWS's.
	ARN string

	// IsCA makes a CA certificate (basicConstraints cA TRUE).
	IsCA bool
	// MaxPathLen is the pathLenConstraint of a CA certificate; -1 leaves it out (unconstrained). Ignored when
	// IsCA is false.
	MaxPathLen int
	// BasicConstraintsCritical marks basicConstraints critical (RFC 5280 requires it for CAs).
	BasicConstraintsCritical bool
	// OmitBasicConstraints leaves basicConstraints out of end-entity certificates (AWS always writes CA:FALSE;
	// some profiles, such as ISO 18013-5's Document Signer, have none). Ignored when IsCA is true.
	OmitBasicConstraints bool

	// KeyUsage is the keyUsage the profile sets; 0 lets the request (API passthrough) or CSR decide.
	KeyUsage x509.KeyUsage
	// KeyUsageCritical marks keyUsage critical.
	KeyUsageCritical bool
	// ExtKeyUsage and UnknownExtKeyUsage are the extendedKeyUsage purposes the profile sets; both empty lets the
	// request or CSR decide.
	ExtKeyUsage        []x509.ExtKeyUsage
	UnknownExtKeyUsage []asn1.ObjectIdentifier
	// ExtKeyUsageCritical marks extendedKeyUsage critical.
	ExtKeyUsageCritical bool

	// MaxValidity bounds NotAfter − NotBefore; 0 means no bound beyond the issuer's own validity.
	MaxValidity time.Duration
	// KeyAlgorithms lists the subject key algorithms the profile allows; empty allows every one.
	KeyAlgorithms []KeyAlgorithm

	// OmitSubjectKeyID and OmitAuthorityKeyID leave SKI / AKI out. Every AWS template has both.
	OmitSubjectKeyID   bool
	OmitAuthorityKeyID bool

	// APIPassthrough accepts IssueRequest.APIPassthrough (the AWS "_APIPassthrough" templates).
	APIPassthrough bool
	// CSRPassthrough copies the CSR's requested keyUsage, extendedKeyUsage and other extensions where neither
	// the profile nor the request sets them (the AWS "_CSRPassthrough" templates).
	CSRPassthrough bool

	// NoCRLDistributionPoints refuses requests that carry CRL distribution points (AWS root template: "N/A").
	NoCRLDistributionPoints bool
	// RequireCRLDistributionPoints and RequireIssuerAltName refuse requests without them (ISO 18013-5 Annex B).
	RequireCRLDistributionPoints bool
	RequireIssuerAltName         bool

	// Check, when set, is called with the finished certificate content just before signing; an error refuses
	// the request (wrapped in ErrProfileRequirement). Use it for rules the fields above cannot say.
	Check func(*Draft) error
}

func awsProfile(name string, p Profile) Profile {
	p.Name = name
	p.ARN = TemplateARNPrefix + name
	return p
}

func passthrough(p Profile) Profile {
	name := strings.Replace(p.Name, "/V1", "_APIPassthrough/V1", 1)
	p = awsProfile(name, p)
	p.APIPassthrough = true
	return p
}

const (
	kuCA = x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	kuEE = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
)

// The AWS Private CA templates (AWS Private CA User Guide, "Understanding certificate templates" / "template
// definitions"). Every one has SKI and AKI; CRL distribution points come from the request (AWS takes them from
// the CA's revocation configuration). The end-entity templates set keyUsage digitalSignature+keyEncipherment as
// AWS does: Issue refuses them for ML-DSA and Ed25519 subject keys (RFC 9881 §5, RFC 8410 §5) — copy the
// profile and set KeyUsage to x509.KeyUsageDigitalSignature for those keys.
var (
	// RootCACertificateV1: basicConstraints critical CA:TRUE (no pathLen); keyUsage critical digitalSignature,
	// keyCertSign, cRLSign; no extendedKeyUsage; no CRL distribution points.
	RootCACertificateV1 = awsProfile("RootCACertificate/V1", Profile{IsCA: true, MaxPathLen: -1,
		BasicConstraintsCritical: true, KeyUsage: kuCA, KeyUsageCritical: true, NoCRLDistributionPoints: true})
	// SubordinateCACertificatePathLen0V1 .. 3: basicConstraints critical CA:TRUE, pathlen N; keyUsage critical
	// digitalSignature, keyCertSign, cRLSign; no extendedKeyUsage.
	SubordinateCACertificatePathLen0V1 = subCAProfile(0)
	SubordinateCACertificatePathLen1V1 = subCAProfile(1)
	SubordinateCACertificatePathLen2V1 = subCAProfile(2)
	SubordinateCACertificatePathLen3V1 = subCAProfile(3)
	// EndEntityCertificateV1: CA:FALSE; keyUsage critical digitalSignature, keyEncipherment; extendedKeyUsage
	// (not critical) serverAuth, clientAuth. AWS's default template.
	EndEntityCertificateV1 = awsProfile("EndEntityCertificate/V1", Profile{KeyUsage: kuEE, KeyUsageCritical: true,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}})
	// EndEntityClientAuthCertificateV1: as EndEntityCertificateV1 with extendedKeyUsage clientAuth only.
	EndEntityClientAuthCertificateV1 = awsProfile("EndEntityClientAuthCertificate/V1", Profile{KeyUsage: kuEE,
		KeyUsageCritical: true, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	// EndEntityServerAuthCertificateV1: as EndEntityCertificateV1 with extendedKeyUsage serverAuth only.
	EndEntityServerAuthCertificateV1 = awsProfile("EndEntityServerAuthCertificate/V1", Profile{KeyUsage: kuEE,
		KeyUsageCritical: true, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	// CodeSigningCertificateV1: CA:FALSE; keyUsage critical digitalSignature; extendedKeyUsage critical
	// codeSigning.
	CodeSigningCertificateV1 = awsProfile("CodeSigningCertificate/V1", Profile{KeyUsage: x509.KeyUsageDigitalSignature,
		KeyUsageCritical: true, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}, ExtKeyUsageCritical: true})
	// OCSPSigningCertificateV1: CA:FALSE; keyUsage critical digitalSignature; extendedKeyUsage critical
	// OCSPSigning.
	OCSPSigningCertificateV1 = awsProfile("OCSPSigningCertificate/V1", Profile{KeyUsage: x509.KeyUsageDigitalSignature,
		KeyUsageCritical: true, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}, ExtKeyUsageCritical: true})

	// The _APIPassthrough variants: the same content, and IssueRequest.APIPassthrough is accepted (the
	// template still wins for keyUsage, extendedKeyUsage and basic constraints).
	RootCACertificateAPIPassthroughV1                = passthrough(RootCACertificateV1)
	SubordinateCACertificatePathLen0APIPassthroughV1 = passthrough(SubordinateCACertificatePathLen0V1)
	SubordinateCACertificatePathLen1APIPassthroughV1 = passthrough(SubordinateCACertificatePathLen1V1)
	SubordinateCACertificatePathLen2APIPassthroughV1 = passthrough(SubordinateCACertificatePathLen2V1)
	SubordinateCACertificatePathLen3APIPassthroughV1 = passthrough(SubordinateCACertificatePathLen3V1)
	EndEntityCertificateAPIPassthroughV1             = passthrough(EndEntityCertificateV1)
	EndEntityClientAuthCertificateAPIPassthroughV1   = passthrough(EndEntityClientAuthCertificateV1)
	EndEntityServerAuthCertificateAPIPassthroughV1   = passthrough(EndEntityServerAuthCertificateV1)
	CodeSigningCertificateAPIPassthroughV1           = passthrough(CodeSigningCertificateV1)
	OCSPSigningCertificateAPIPassthroughV1           = passthrough(OCSPSigningCertificateV1)
	// BlankEndEntityCertificateAPIPassthroughV1: only basicConstraints CA:FALSE (plus SKI/AKI); keyUsage and
	// extendedKeyUsage come from the API passthrough.
	BlankEndEntityCertificateAPIPassthroughV1 = awsProfile("BlankEndEntityCertificate_APIPassthrough/V1",
		Profile{APIPassthrough: true})
)

func subCAProfile(n int) Profile {
	return awsProfile("SubordinateCACertificate_PathLen"+string(rune('0'+n))+"/V1", Profile{IsCA: true, MaxPathLen: n,
		BasicConstraintsCritical: true, KeyUsage: kuCA, KeyUsageCritical: true})
}

var registry = []*Profile{
	&RootCACertificateV1, &SubordinateCACertificatePathLen0V1, &SubordinateCACertificatePathLen1V1,
	&SubordinateCACertificatePathLen2V1, &SubordinateCACertificatePathLen3V1, &EndEntityCertificateV1,
	&EndEntityClientAuthCertificateV1, &EndEntityServerAuthCertificateV1, &CodeSigningCertificateV1,
	&OCSPSigningCertificateV1,
	&RootCACertificateAPIPassthroughV1, &SubordinateCACertificatePathLen0APIPassthroughV1,
	&SubordinateCACertificatePathLen1APIPassthroughV1, &SubordinateCACertificatePathLen2APIPassthroughV1,
	&SubordinateCACertificatePathLen3APIPassthroughV1, &EndEntityCertificateAPIPassthroughV1,
	&EndEntityClientAuthCertificateAPIPassthroughV1, &EndEntityServerAuthCertificateAPIPassthroughV1,
	&CodeSigningCertificateAPIPassthroughV1, &OCSPSigningCertificateAPIPassthroughV1,
	&BlankEndEntityCertificateAPIPassthroughV1,
}

// extraProfiles holds profiles other files of this package register (the mDL ones).
var extraProfiles []*Profile

// registerProfile adds a profile to those LookupProfile and Profiles know. Other profile files of this package
// (profile_mdl*.go) call it from an init function: func init() { registerProfile(&MDLIACAProfile) }.
func registerProfile(p *Profile) { extraProfiles = append(extraProfiles, p) }

// Profiles returns a copy of every built-in profile, AWS templates first.
func Profiles() []Profile {
	out := make([]Profile, 0, len(registry)+len(extraProfiles))
	for _, p := range registry {
		out = append(out, p.clone())
	}
	for _, p := range extraProfiles {
		out = append(out, p.clone())
	}
	return out
}

// clone copies p with its own slices, so that changing a returned profile never changes the built-in one.
func (p *Profile) clone() Profile {
	c := *p
	c.ExtKeyUsage = slices.Clone(p.ExtKeyUsage)
	c.UnknownExtKeyUsage = slices.Clone(p.UnknownExtKeyUsage)
	c.KeyAlgorithms = slices.Clone(p.KeyAlgorithms)
	return c
}

// LookupProfile finds a built-in profile by name ("CodeSigningCertificate/V1"), by AWS template ARN
// ("arn:aws:acm-pca:::template/CodeSigningCertificate/V1", also with a partition such as "aws-us-gov"), or by
// its Go-style name without slash ("CodeSigningCertificateV1"). It returns a copy; ErrUnknownProfile if none.
func LookupProfile(nameOrARN string) (Profile, error) {
	key := nameOrARN
	if strings.HasPrefix(key, "arn:") {
		// arn:<partition>:acm-pca:::template/<Name>
		parts := strings.SplitN(key, ":", 6)
		if len(parts) != 6 || parts[2] != "acm-pca" || !strings.HasPrefix(parts[5], "template/") {
			return Profile{}, newErr("lookup profile", ErrUnknownProfile, "not a Private CA template ARN", nil)
		}
		key = strings.TrimPrefix(parts[5], "template/")
	}
	for _, list := range [][]*Profile{registry, extraProfiles} {
		for _, p := range list {
			if p.Name == key || strings.ReplaceAll(strings.ReplaceAll(p.Name, "/", ""), "_", "") == strings.ReplaceAll(key, "_", "") {
				return p.clone(), nil
			}
		}
	}
	return Profile{}, newErr("lookup profile", ErrUnknownProfile, nameOrARN, nil)
}
