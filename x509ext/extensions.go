package x509ext

import (
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"net"
	"net/url"
	"unicode/utf8"

	"github.com/pkikit/pkikit/internal/der"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Extension OIDs this package writes.
var (
	OIDExtensionSubjectKeyID          = asn1.ObjectIdentifier{2, 5, 29, 14}
	OIDExtensionKeyUsage              = asn1.ObjectIdentifier{2, 5, 29, 15}
	OIDExtensionSubjectAltName        = asn1.ObjectIdentifier{2, 5, 29, 17}
	OIDExtensionIssuerAltName         = asn1.ObjectIdentifier{2, 5, 29, 18}
	OIDExtensionBasicConstraints      = asn1.ObjectIdentifier{2, 5, 29, 19}
	OIDExtensionCRLNumber             = asn1.ObjectIdentifier{2, 5, 29, 20}
	OIDExtensionReasonCode            = asn1.ObjectIdentifier{2, 5, 29, 21}
	OIDExtensionNameConstraints       = asn1.ObjectIdentifier{2, 5, 29, 30}
	OIDExtensionCRLDistributionPoints = asn1.ObjectIdentifier{2, 5, 29, 31}
	OIDExtensionCertificatePolicies   = asn1.ObjectIdentifier{2, 5, 29, 32}
	OIDExtensionAuthorityKeyID        = asn1.ObjectIdentifier{2, 5, 29, 35}
	OIDExtensionExtKeyUsage           = asn1.ObjectIdentifier{2, 5, 29, 37}
	OIDExtensionAuthorityInfoAccess   = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 1}

	oidAccessOCSP      = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1}
	oidAccessCAIssuers = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 2}
	oidQualifierCPS    = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 2, 1}
	oidQualifierNotice = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 2, 2}
)

// The extendedKeyUsage OIDs crypto/x509 names (RFC 5280 §4.2.1.12 and the ones Go knows).
var extKeyUsageOIDs = map[x509.ExtKeyUsage]asn1.ObjectIdentifier{
	x509.ExtKeyUsageAny:                            {2, 5, 29, 37, 0},
	x509.ExtKeyUsageServerAuth:                     {1, 3, 6, 1, 5, 5, 7, 3, 1},
	x509.ExtKeyUsageClientAuth:                     {1, 3, 6, 1, 5, 5, 7, 3, 2},
	x509.ExtKeyUsageCodeSigning:                    {1, 3, 6, 1, 5, 5, 7, 3, 3},
	x509.ExtKeyUsageEmailProtection:                {1, 3, 6, 1, 5, 5, 7, 3, 4},
	x509.ExtKeyUsageIPSECEndSystem:                 {1, 3, 6, 1, 5, 5, 7, 3, 5},
	x509.ExtKeyUsageIPSECTunnel:                    {1, 3, 6, 1, 5, 5, 7, 3, 6},
	x509.ExtKeyUsageIPSECUser:                      {1, 3, 6, 1, 5, 5, 7, 3, 7},
	x509.ExtKeyUsageTimeStamping:                   {1, 3, 6, 1, 5, 5, 7, 3, 8},
	x509.ExtKeyUsageOCSPSigning:                    {1, 3, 6, 1, 5, 5, 7, 3, 9},
	x509.ExtKeyUsageMicrosoftServerGatedCrypto:     {1, 3, 6, 1, 4, 1, 311, 10, 3, 3},
	x509.ExtKeyUsageNetscapeServerGatedCrypto:      {2, 16, 840, 1, 113730, 4, 1},
	x509.ExtKeyUsageMicrosoftCommercialCodeSigning: {1, 3, 6, 1, 4, 1, 311, 2, 1, 22},
	x509.ExtKeyUsageMicrosoftKernelCodeSigning:     {1, 3, 6, 1, 4, 1, 311, 61, 1, 1},
}

// AltNames is a set of general names for subjectAltName or issuerAltName.
type AltNames struct {
	DNSNames       []string
	EmailAddresses []string
	IPAddresses    []net.IP
	URIs           []*url.URL
}

func (a AltNames) empty() bool {
	return len(a.DNSNames)+len(a.EmailAddresses)+len(a.IPAddresses)+len(a.URIs) == 0
}

func (a AltNames) marshal() ([]byte, error) {
	return der.MarshalGeneralNames(der.GeneralNames{DNSNames: a.DNSNames, EmailAddresses: a.EmailAddresses,
		IPAddresses: a.IPAddresses, URIs: a.URIs})
}

// CertificatePolicy is one PolicyInformation of a certificatePolicies extension, with optional CPS pointer and
// user notice qualifiers.
type CertificatePolicy struct {
	ID         asn1.ObjectIdentifier
	CPSURI     string // id-qt-cps, IA5String
	UserNotice string // id-qt-unotice explicitText, UTF8String (≤ 200 characters, RFC 5280)
}

// keyUsageBits returns the DER BIT STRING contents (unused-bits octet first) of a KeyUsage.
func marshalKeyUsage(ku x509.KeyUsage) []byte {
	var a [2]byte
	a[0] = reverseBits(byte(ku))
	a[1] = reverseBits(byte(ku >> 8))
	l := 1
	if a[1] != 0 {
		l = 2
	}
	bits := a[:l]
	unused := 0
	last := bits[l-1]
	for unused < 8 && last&(1<<uint(unused)) == 0 {
		unused++
	}
	if unused == 8 { // ku == 0: never written, but stay total
		unused = 0
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.BIT_STRING, func(b *cryptobyte.Builder) {
		b.AddUint8(uint8(unused))
		b.AddBytes(bits)
	})
	return b.BytesOrPanic()
}

func reverseBits(in byte) byte {
	var out byte
	for i := 0; i < 8; i++ {
		out = out<<1 | in&1
		in >>= 1
	}
	return out
}

// parseKeyUsage decodes a keyUsage extension value.
func parseKeyUsage(v []byte) (x509.KeyUsage, bool) {
	var bs asn1.BitString
	s := cryptobyte.String(v)
	if !s.ReadASN1BitString(&bs) || !s.Empty() {
		return 0, false
	}
	var ku x509.KeyUsage
	for i := 0; i < 9; i++ {
		if bs.At(i) != 0 {
			ku |= 1 << uint(i)
		}
	}
	return ku, true
}

func marshalExtKeyUsage(ekus []x509.ExtKeyUsage, unknown []asn1.ObjectIdentifier) ([]byte, error) {
	var b cryptobyte.Builder
	var bad bool
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, e := range ekus {
			oid, ok := extKeyUsageOIDs[e]
			if !ok {
				bad = true
				continue
			}
			b.AddASN1ObjectIdentifier(oid)
		}
		for _, oid := range unknown {
			b.AddASN1ObjectIdentifier(oid)
		}
	})
	if bad {
		return nil, newErr("marshal extendedKeyUsage", ErrInvalidRequest, "unknown x509.ExtKeyUsage value", nil)
	}
	return b.Bytes()
}

// parseExtKeyUsage decodes an extendedKeyUsage value into the known and unknown purposes.
func parseExtKeyUsage(v []byte) ([]x509.ExtKeyUsage, []asn1.ObjectIdentifier, bool) {
	s := cryptobyte.String(v)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() {
		return nil, nil, false
	}
	var known []x509.ExtKeyUsage
	var unknown []asn1.ObjectIdentifier
	for !seq.Empty() {
		var oid asn1.ObjectIdentifier
		if !seq.ReadASN1ObjectIdentifier(&oid) {
			return nil, nil, false
		}
		found := false
		for k, o := range extKeyUsageOIDs {
			if o.Equal(oid) {
				known = append(known, k)
				found = true
				break
			}
		}
		if !found {
			unknown = append(unknown, oid)
		}
	}
	return known, unknown, true
}

func marshalBasicConstraints(isCA bool, maxPathLen int) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		if isCA {
			b.AddASN1Boolean(true)
			if maxPathLen >= 0 {
				b.AddASN1Int64(int64(maxPathLen))
			}
		}
	})
	return b.BytesOrPanic()
}

func marshalOctetString(v []byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1OctetString(v)
	return b.BytesOrPanic()
}

func marshalAuthorityKeyID(id []byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.Tag(0).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(id) })
	})
	return b.BytesOrPanic()
}

func checkIA5(op, what, s string) error {
	if s == "" {
		return newErr(op, ErrInvalidRequest, "empty "+what, nil)
	}
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return newErr(op, ErrInvalidRequest, what+" is not ASCII (IA5String)", nil)
		}
	}
	return nil
}

// marshalCRLDistributionPoints writes one DistributionPoint with a fullName URI per URL, as crypto/x509 does.
func marshalCRLDistributionPoints(urls []string) ([]byte, error) {
	for _, u := range urls {
		if err := checkIA5("CRL distribution points", "URI", u); err != nil {
			return nil, err
		}
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, u := range urls {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
						b.AddASN1(cbasn1.Tag(6).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes([]byte(u)) })
					})
				})
			})
		}
	})
	return b.Bytes()
}

func marshalAIA(ocsp, caIssuers []string) ([]byte, error) {
	for _, u := range append(append([]string{}, ocsp...), caIssuers...) {
		if err := checkIA5("authority information access", "URI", u); err != nil {
			return nil, err
		}
	}
	var b cryptobyte.Builder
	add := func(b *cryptobyte.Builder, method asn1.ObjectIdentifier, u string) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(method)
			b.AddASN1(cbasn1.Tag(6).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes([]byte(u)) })
		})
	}
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, u := range ocsp {
			add(b, oidAccessOCSP, u)
		}
		for _, u := range caIssuers {
			add(b, oidAccessCAIssuers, u)
		}
	})
	return b.Bytes()
}

func marshalCertificatePolicies(ps []CertificatePolicy) ([]byte, error) {
	for i, p := range ps {
		if len(p.ID) < 2 {
			return nil, newErr("certificate policies", ErrInvalidRequest, "policy without an OID", nil)
		}
		for _, q := range ps[:i] {
			if q.ID.Equal(p.ID) {
				// RFC 5280 §4.2.1.4: a policy OID MUST NOT appear more than once.
				return nil, newErr("certificate policies", ErrInvalidRequest, "policy "+p.ID.String()+" listed twice", nil)
			}
		}
		if !utf8.ValidString(p.UserNotice) {
			return nil, newErr("certificate policies", ErrInvalidRequest, "user notice is not UTF-8", nil)
		}
		if p.CPSURI != "" {
			if err := checkIA5("certificate policies", "CPS URI", p.CPSURI); err != nil {
				return nil, err
			}
		}
		if len([]rune(p.UserNotice)) > 200 {
			return nil, newErr("certificate policies", ErrInvalidRequest, "user notice longer than 200 characters", nil)
		}
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, p := range ps {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(p.ID)
				if p.CPSURI == "" && p.UserNotice == "" {
					return
				}
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					if p.CPSURI != "" {
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
							b.AddASN1ObjectIdentifier(oidQualifierCPS)
							b.AddASN1(cbasn1.IA5String, func(b *cryptobyte.Builder) { b.AddBytes([]byte(p.CPSURI)) })
						})
					}
					if p.UserNotice != "" {
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
							b.AddASN1ObjectIdentifier(oidQualifierNotice)
							b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
								b.AddASN1(cbasn1.UTF8String, func(b *cryptobyte.Builder) { b.AddBytes([]byte(p.UserNotice)) })
							})
						})
					}
				})
			})
		}
	})
	return b.Bytes()
}

// subjectKeyID computes the key identifier of a DER SubjectPublicKeyInfo by RFC 7093 §2 method 1: the leftmost
// 160 bits of the SHA-256 hash of the subjectPublicKey BIT STRING's value (excluding tag, length and the
// unused-bits octet) — the method crypto/x509 uses since Go 1.25.
func subjectKeyID(spki []byte) []byte {
	s := cryptobyte.String(spki)
	var seq cryptobyte.String
	var bits asn1.BitString
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.SkipASN1(cbasn1.SEQUENCE) || !seq.ReadASN1BitString(&bits) {
		sum := sha256.Sum256(spki) // unreachable for SPKIs we made; keep it total
		return sum[:20]
	}
	sum := sha256.Sum256(bits.Bytes)
	return sum[:20]
}

func extension(oid asn1.ObjectIdentifier, critical bool, value []byte) pkix.Extension {
	return pkix.Extension{Id: oid, Critical: critical, Value: value}
}
