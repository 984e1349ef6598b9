package nameconstraints

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"net/netip"
	"strings"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// OID is the nameConstraints extension's identifier, id-ce-nameConstraints (2.5.29.30).
var OID = asn1.ObjectIdentifier{2, 5, 29, 30}

// Constraints is a NameConstraints extension (RFC 5280 §4.2.1.10): a name of a given form is acceptable when it
// lies in no excluded subtree and — if there is any permitted subtree of that form — in at least one permitted
// subtree. A nil *Constraints permits every name.
type Constraints struct {
	Permitted []Subtree
	Excluded  []Subtree
	// NonCritical marks the extension non-critical. The zero value is critical, as RFC 5280 requires of
	// conforming CAs (the CA/Browser Forum allows non-critical for legacy clients).
	NonCritical bool
}

// New builds Constraints from ParseSubtree strings (permitted, excluded). Either list may be empty, not both.
func New(permitted, excluded []string) (*Constraints, error) {
	c := &Constraints{}
	for _, s := range permitted {
		st, err := ParseSubtree(s)
		if err != nil {
			return nil, err
		}
		c.Permitted = append(c.Permitted, st)
	}
	for _, s := range excluded {
		st, err := ParseSubtree(s)
		if err != nil {
			return nil, err
		}
		c.Excluded = append(c.Excluded, st)
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// Validate checks what Marshal checks: at least one subtree, and every subtree a valid name of its form.
func (c *Constraints) Validate() error {
	if c == nil || len(c.Permitted) == 0 && len(c.Excluded) == 0 {
		return errf("validate", ErrEmpty, "RFC 5280 §4.2.1.10: permittedSubtrees or excludedSubtrees MUST be present")
	}
	for _, list := range [][]Subtree{c.Permitted, c.Excluded} {
		for _, s := range list {
			if err := s.validate(); err != nil {
				return err
			}
		}
	}
	return nil
}

// Marshal returns the DER of the NameConstraints (the extension value): permittedSubtrees [0] and
// excludedSubtrees [1], each GeneralSubtree with only its base (minimum 0 omitted as DER requires, no maximum).
func (c *Constraints) Marshal() ([]byte, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		if len(c.Permitted) > 0 {
			b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
				addSubtrees(b, c.Permitted)
			})
		}
		if len(c.Excluded) > 0 {
			b.AddASN1(cbasn1.Tag(1).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
				addSubtrees(b, c.Excluded)
			})
		}
	})
	der, err := b.Bytes()
	if err != nil {
		return nil, newErr("marshal", ErrInvalidName, "", err)
	}
	return der, nil
}

// Extension returns the nameConstraints extension (OID 2.5.29.30), critical unless NonCritical is set, ready for
// x509.Certificate.ExtraExtensions or x509ext.
func (c *Constraints) Extension() (pkix.Extension, error) {
	der, err := c.Marshal()
	if err != nil {
		return pkix.Extension{}, err
	}
	return pkix.Extension{Id: OID, Critical: !c.NonCritical, Value: der}, nil
}

func addSubtrees(b *cryptobyte.Builder, list []Subtree) {
	for _, s := range list {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			switch s.Form {
			case FormDNS:
				b.AddASN1(tagDNS, func(b *cryptobyte.Builder) { b.AddBytes([]byte(s.Name)) })
			case FormEmail:
				b.AddASN1(tagEmail, func(b *cryptobyte.Builder) { b.AddBytes([]byte(s.Name)) })
			case FormURI:
				b.AddASN1(tagURI, func(b *cryptobyte.Builder) { b.AddBytes([]byte(s.Name)) })
			case FormIP:
				b.AddASN1(tagIP, func(b *cryptobyte.Builder) {
					a := s.IP.Addr()
					if a.Is4() {
						a4 := a.As4()
						b.AddBytes(a4[:])
						b.AddBytes(mask(s.IP.Bits(), 4))
					} else {
						a16 := a.As16()
						b.AddBytes(a16[:])
						b.AddBytes(mask(s.IP.Bits(), 16))
					}
				})
			case FormDN:
				b.AddASN1(tagDN, func(b *cryptobyte.Builder) { b.AddBytes(s.DN) })
			}
		})
	}
}

func mask(bits, n int) []byte {
	m := make([]byte, n)
	for i := range m {
		switch {
		case bits >= 8:
			m[i] = 0xff
			bits -= 8
		case bits > 0:
			m[i] = byte(0xff << (8 - bits))
			bits = 0
		}
	}
	return m
}

// maskBits returns the prefix length of a contiguous mask, or -1.
func maskBits(m []byte) int {
	n := 0
	i := 0
	for ; i < len(m) && m[i] == 0xff; i++ {
		n += 8
	}
	if i < len(m) {
		c := m[i]
		for c&0x80 != 0 {
			n++
			c <<= 1
		}
		if c != 0 {
			return -1
		}
		for i++; i < len(m); i++ {
			if m[i] != 0 {
				return -1
			}
		}
	}
	return n
}

// GeneralName tags (RFC 5280 §4.2.1.6, IMPLICIT tagging; directoryName is EXPLICIT because Name is a CHOICE).
var (
	tagOtherName = cbasn1.Tag(0).ContextSpecific().Constructed()
	tagEmail     = cbasn1.Tag(1).ContextSpecific()
	tagDNS       = cbasn1.Tag(2).ContextSpecific()
	tagX400      = cbasn1.Tag(3).ContextSpecific().Constructed()
	tagDN        = cbasn1.Tag(4).ContextSpecific().Constructed()
	tagEDIParty  = cbasn1.Tag(5).ContextSpecific().Constructed()
	tagURI       = cbasn1.Tag(6).ContextSpecific()
	tagIP        = cbasn1.Tag(7).ContextSpecific()
	tagRID       = cbasn1.Tag(8).ContextSpecific()
)

// Parse parses the DER of a NameConstraints extension value strictly: DER only (so Marshal gives the same
// bytes back), at least one of permittedSubtrees / excludedSubtrees, none of them empty, minimum absent and
// maximum absent (ErrMinMax), iPAddress bases of 8 or 16+16 octets with contiguous masks (ErrBadCIDR), names
// valid for their form (ErrInvalidName, with crypto/x509's leniency for DNS labels), and only the five forms
// this package enforces (ErrUnsupportedForm).
func Parse(der []byte) (*Constraints, error) {
	const op = "parse"
	in := cryptobyte.String(der)
	var seq, perm, excl cryptobyte.String
	var hasPerm, hasExcl bool
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() ||
		!seq.ReadOptionalASN1(&perm, &hasPerm, cbasn1.Tag(0).ContextSpecific().Constructed()) ||
		!seq.ReadOptionalASN1(&excl, &hasExcl, cbasn1.Tag(1).ContextSpecific().Constructed()) ||
		!seq.Empty() {
		return nil, errf(op, ErrMalformed, "not a DER NameConstraints SEQUENCE")
	}
	if !hasPerm && !hasExcl {
		return nil, errf(op, ErrEmpty, "RFC 5280 §4.2.1.10: permittedSubtrees or excludedSubtrees MUST be present")
	}
	c := &Constraints{}
	var err error
	if hasPerm {
		if c.Permitted, err = parseSubtrees(perm, "permittedSubtrees"); err != nil {
			return nil, err
		}
	}
	if hasExcl {
		if c.Excluded, err = parseSubtrees(excl, "excludedSubtrees"); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func parseSubtrees(in cryptobyte.String, field string) ([]Subtree, error) {
	op := "parse " + field
	if in.Empty() {
		return nil, errf(op, ErrMalformed, "empty GeneralSubtrees (SIZE (1..MAX))")
	}
	var out []Subtree
	for !in.Empty() {
		var st, base cryptobyte.String
		var tag cbasn1.Tag
		if !in.ReadASN1(&st, cbasn1.SEQUENCE) || !st.ReadAnyASN1(&base, &tag) {
			return nil, errf(op, ErrMalformed, "bad GeneralSubtree")
		}
		var minimum cryptobyte.String
		var hasMin bool
		if !st.ReadOptionalASN1(&minimum, &hasMin, cbasn1.Tag(0).ContextSpecific()) {
			return nil, errf(op, ErrMalformed, "bad minimum")
		}
		if hasMin {
			if len(minimum) == 1 && minimum[0] == 0 {
				return nil, errf(op, ErrMalformed, "minimum 0 encoded although it is the DEFAULT (not DER)")
			}
			return nil, errf(op, ErrMinMax, "minimum present; RFC 5280 §4.2.1.10: the minimum MUST be zero")
		}
		if st.PeekASN1Tag(cbasn1.Tag(1).ContextSpecific()) {
			return nil, errf(op, ErrMinMax, "maximum present; RFC 5280 §4.2.1.10: the maximum MUST be absent")
		}
		if !st.Empty() {
			return nil, errf(op, ErrMalformed, "trailing data in GeneralSubtree")
		}
		s, err := parseBase(tag, base)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func parseBase(tag cbasn1.Tag, v cryptobyte.String) (Subtree, error) {
	const op = "parse GeneralSubtree base"
	var s Subtree
	switch tag {
	case tagDNS:
		s = Subtree{Form: FormDNS, Name: string(v)}
	case tagEmail:
		s = Subtree{Form: FormEmail, Name: string(v)}
	case tagURI:
		s = Subtree{Form: FormURI, Name: string(v)}
	case tagIP:
		var n int
		switch len(v) {
		case 8:
			n = 4
		case 32:
			n = 16
		default:
			return Subtree{}, errf(op, ErrBadCIDR, "iPAddress of %d octets (want 8 or 32)", len(v))
		}
		bits := maskBits(v[n:])
		if bits < 0 {
			return Subtree{}, errf(op, ErrBadCIDR, "non-contiguous mask %x", []byte(v[n:]))
		}
		addr, _ := netip.AddrFromSlice(v[:n])
		s = Subtree{Form: FormIP, IP: netip.PrefixFrom(addr, bits)}
	case tagDN:
		var name cryptobyte.String
		if !v.ReadASN1Element(&name, cbasn1.SEQUENCE) || !v.Empty() {
			return Subtree{}, errf(op, ErrMalformed, "bad directoryName")
		}
		s = Subtree{Form: FormDN, DN: append([]byte(nil), name...)}
	case tagOtherName, tagX400, tagEDIParty, tagRID:
		return Subtree{}, errf(op, ErrUnsupportedForm, "GeneralName [%d] subtrees are not supported",
			uint8(tag)&0x1f)
	default:
		return Subtree{}, errf(op, ErrMalformed, "not a GeneralName (tag %#x)", uint8(tag))
	}
	if err := s.validate(); err != nil {
		return Subtree{}, err
	}
	return s, nil
}

// FromCertificate returns the name constraints of a (CA) certificate, with NonCritical set from the extension.
// It returns nil, nil when the certificate has none (a nil *Constraints permits every name), and an error for
// a bad extension or more than one (RFC 5280 §4.2).
func FromCertificate(cert *x509.Certificate) (*Constraints, error) {
	if cert == nil {
		return nil, errf("from certificate", ErrMalformed, "nil certificate")
	}
	return FromExtensions(cert.Extensions)
}

// FromExtensions is FromCertificate for a raw extension list (a TBS, a CSR's extensionRequest, x509ext's).
func FromExtensions(exts []pkix.Extension) (*Constraints, error) {
	var found *pkix.Extension
	for i := range exts {
		if exts[i].Id.Equal(OID) {
			if found != nil {
				return nil, errf("from extensions", ErrMalformed, "more than one nameConstraints extension")
			}
			found = &exts[i]
		}
	}
	if found == nil {
		return nil, nil
	}
	c, err := Parse(found.Value)
	if err != nil {
		return nil, err
	}
	c.NonCritical = !found.Critical
	return c, nil
}

// String lists the subtrees in ParseSubtree syntax: "permitted: dns:.example.com, ip:10.0.0.0/8; excluded: ...".
func (c *Constraints) String() string {
	if c == nil {
		return "<no name constraints>"
	}
	var parts []string
	for _, l := range []struct {
		name string
		list []Subtree
	}{{"permitted", c.Permitted}, {"excluded", c.Excluded}} {
		if len(l.list) == 0 {
			continue
		}
		items := make([]string, len(l.list))
		for i, s := range l.list {
			items[i] = s.String()
		}
		parts = append(parts, l.name+": "+strings.Join(items, ", "))
	}
	return strings.Join(parts, "; ")
}
