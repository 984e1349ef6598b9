// Package der holds the DER encoders pkikit's packages share: names, GeneralNames (subjectAltName,
// issuerAltName) and extensions. Parsing stays with crypto/x509 and the packages that own each structure.
package der

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// ErrInvalidName is returned for a name that cannot be encoded (non-ASCII DNS name or email, bad IP, ...).
var ErrInvalidName = errors.New("der: invalid name")

// OIDSubjectAltName and friends: the extension OIDs the shared encoders produce.
var (
	OIDSubjectAltName   = asn1.ObjectIdentifier{2, 5, 29, 17}
	OIDIssuerAltName    = asn1.ObjectIdentifier{2, 5, 29, 18}
	OIDExtensionRequest = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 14}
)

// MarshalName returns the DER of a distinguished name as crypto/x509 writes it (pkix.Name.ToRDNSequence, with
// ExtraNames honoured).
func MarshalName(n pkix.Name) ([]byte, error) {
	return asn1.Marshal(n.ToRDNSequence())
}

// GeneralNames is the set of names a subjectAltName or issuerAltName extension carries.
type GeneralNames struct {
	DNSNames       []string
	EmailAddresses []string
	IPAddresses    []net.IP
	URIs           []*url.URL
}

// Empty reports whether there is no name at all.
func (g GeneralNames) Empty() bool {
	return len(g.DNSNames)+len(g.EmailAddresses)+len(g.IPAddresses)+len(g.URIs) == 0
}

// MarshalGeneralNames returns the DER GeneralNames SEQUENCE (the extension value of subjectAltName or
// issuerAltName): dNSName [2], rfc822Name [1], iPAddress [7] (4 or 16 bytes), uniformResourceIdentifier [6],
// in that order. Names must be IA5 (ASCII); a non-ASCII or empty name is ErrInvalidName.
func MarshalGeneralNames(g GeneralNames) ([]byte, error) {
	var b cryptobyte.Builder
	var bad error
	ia5 := func(kind, s string) bool {
		if s == "" {
			bad = fmt.Errorf("%w: empty %s", ErrInvalidName, kind)
			return false
		}
		for i := 0; i < len(s); i++ {
			if s[i] >= 0x80 {
				bad = fmt.Errorf("%w: %s %q is not ASCII (IA5String)", ErrInvalidName, kind, s)
				return false
			}
		}
		return true
	}
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, n := range g.DNSNames {
			if ia5("DNS name", n) {
				b.AddASN1(cbasn1.Tag(2).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes([]byte(n)) })
			}
		}
		for _, n := range g.EmailAddresses {
			if ia5("email address", n) {
				b.AddASN1(cbasn1.Tag(1).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes([]byte(n)) })
			}
		}
		for _, ip := range g.IPAddresses {
			raw := ip.To4()
			if raw == nil {
				raw = ip.To16()
			}
			if raw == nil {
				bad = fmt.Errorf("%w: IP address %v", ErrInvalidName, ip)
				continue
			}
			b.AddASN1(cbasn1.Tag(7).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(raw) })
		}
		for _, u := range g.URIs {
			if u == nil {
				bad = fmt.Errorf("%w: nil URI", ErrInvalidName)
				continue
			}
			s := u.String()
			if ia5("URI", s) {
				b.AddASN1(cbasn1.Tag(6).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes([]byte(s)) })
			}
		}
	})
	if bad != nil {
		return nil, bad
	}
	return b.Bytes()
}

// ParseURIs parses URI strings for GeneralNames, refusing relative ones.
func ParseURIs(ss []string) ([]*url.URL, error) {
	out := make([]*url.URL, 0, len(ss))
	for _, s := range ss {
		u, err := url.Parse(s)
		if err != nil || u.Scheme == "" || strings.ContainsAny(s, " \t") {
			return nil, fmt.Errorf("%w: URI %q", ErrInvalidName, s)
		}
		out = append(out, u)
	}
	return out, nil
}

// MarshalExtension returns the DER of one Extension: SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE (omitted
// when false, as DER requires), extnValue OCTET STRING }.
func MarshalExtension(e pkix.Extension) []byte {
	var b cryptobyte.Builder
	AddExtension(&b, e)
	return b.BytesOrPanic()
}

// AddExtension appends one DER Extension to b.
func AddExtension(b *cryptobyte.Builder, e pkix.Extension) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(e.Id)
		if e.Critical {
			b.AddASN1Boolean(true)
		}
		b.AddASN1OctetString(e.Value)
	})
}
