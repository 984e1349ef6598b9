package nameconstraints

import (
	"bytes"
	"encoding/asn1"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// attribute names for the RFC 4514 syntax.
type attrType struct {
	name string
	oid  asn1.ObjectIdentifier
	tag  cbasn1.Tag // 0: PrintableString when possible, else UTF8String
}

var attrTypes = []attrType{
	{"CN", asn1.ObjectIdentifier{2, 5, 4, 3}, 0},
	{"SN", asn1.ObjectIdentifier{2, 5, 4, 4}, 0},
	{"SERIALNUMBER", asn1.ObjectIdentifier{2, 5, 4, 5}, cbasn1.PrintableString},
	{"C", asn1.ObjectIdentifier{2, 5, 4, 6}, cbasn1.PrintableString},
	{"L", asn1.ObjectIdentifier{2, 5, 4, 7}, 0},
	{"ST", asn1.ObjectIdentifier{2, 5, 4, 8}, 0},
	{"STREET", asn1.ObjectIdentifier{2, 5, 4, 9}, 0},
	{"O", asn1.ObjectIdentifier{2, 5, 4, 10}, 0},
	{"OU", asn1.ObjectIdentifier{2, 5, 4, 11}, 0},
	{"TITLE", asn1.ObjectIdentifier{2, 5, 4, 12}, 0},
	{"POSTALCODE", asn1.ObjectIdentifier{2, 5, 4, 17}, 0},
	{"GIVENNAME", asn1.ObjectIdentifier{2, 5, 4, 42}, 0},
	{"ORGANIZATIONIDENTIFIER", asn1.ObjectIdentifier{2, 5, 4, 97}, 0},
	{"DC", asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 25}, cbasn1.IA5String},
	{"UID", asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 1}, 0},
	{"emailAddress", asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}, cbasn1.IA5String},
}

var (
	oidCommonName   = asn1.ObjectIdentifier{2, 5, 4, 3}
	oidEmailAddress = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}
)

func attrByName(name string) (attrType, bool) {
	if strings.EqualFold(name, "E") || strings.EqualFold(name, "EMAIL") {
		name = "emailAddress"
	}
	for _, a := range attrTypes {
		if strings.EqualFold(a.name, name) {
			return a, true
		}
	}
	return attrType{}, false
}

func attrByOID(oid asn1.ObjectIdentifier) (attrType, bool) {
	for _, a := range attrTypes {
		if a.oid.Equal(oid) {
			return a, true
		}
	}
	return attrType{}, false
}

// textTag is the string type ParseSubtree picks for v under attribute a.
func textTag(a attrType, v string) cbasn1.Tag {
	if a.tag != 0 {
		return a.tag
	}
	if isPrintableString(v) {
		return cbasn1.PrintableString
	}
	return cbasn1.UTF8String
}

func isPrintableString(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(isAlnum(c) || strings.IndexByte(" '()+,-./:=?", c) >= 0) {
			return false
		}
	}
	return true
}

// parseDN parses an RFC 4514 string into the DER of an RDNSequence.
func parseDN(s string) ([]byte, error) {
	const op = "parse directoryName subtree"
	type atvText struct {
		oid asn1.ObjectIdentifier
		raw []byte // full DER of the value
	}
	var rdns [][]atvText
	var cur []atvText
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "#") {
		// the DER of the whole Name, as String writes names it cannot render
		der, err := hex.DecodeString(s[1:])
		if err != nil {
			return nil, newErr(op, ErrInvalidName, "bad #hex Name", err)
		}
		if _, err := parseRDNSequence(der); err != nil {
			return nil, newErr(op, ErrInvalidName, "", err)
		}
		return der, nil
	}
	i := 0
	for s != "" && i <= len(s) {
		// type
		eq := strings.IndexByte(s[i:], '=')
		if eq < 0 {
			return nil, errf(op, ErrInvalidName, "missing '=' in %q", s[i:])
		}
		typ := strings.TrimSpace(s[i : i+eq])
		i += eq + 1
		var at attrType
		if typ != "" && (typ[0] >= '0' && typ[0] <= '9') {
			oid, ok := parseDottedOID(typ)
			if !ok {
				return nil, errf(op, ErrInvalidName, "bad attribute type %q", typ)
			}
			at, ok = attrByOID(oid)
			if !ok {
				at = attrType{name: typ, oid: oid}
			}
		} else {
			var ok bool
			if at, ok = attrByName(typ); !ok {
				return nil, errf(op, ErrInvalidName, "unknown attribute type %q (use a dotted OID)", typ)
			}
		}
		// value
		var raw []byte
		var sep byte
		if i < len(s) && s[i] == '#' {
			j := i + 1
			for j < len(s) && s[j] != ',' && s[j] != '+' {
				j++
			}
			b, err := hex.DecodeString(strings.TrimSpace(s[i+1 : j]))
			if err != nil {
				return nil, newErr(op, ErrInvalidName, "bad #hex value", err)
			}
			in := cryptobyte.String(b)
			var elem cryptobyte.String
			var tag cbasn1.Tag
			if !in.ReadAnyASN1Element(&elem, &tag) || !in.Empty() {
				return nil, errf(op, ErrInvalidName, "#hex value is not one DER element")
			}
			raw = b
			if j < len(s) {
				sep = s[j]
			}
			i = j + 1
		} else {
			var val []byte
			j := i
			lastSignificant := 0 // length of val up to the last escaped or non-space byte
			for ; j < len(s); j++ {
				c := s[j]
				if c == ',' || c == '+' {
					sep = c
					break
				}
				if c == '\\' {
					if j+1 >= len(s) {
						return nil, errf(op, ErrInvalidName, "trailing backslash")
					}
					n := s[j+1]
					if isHex(n) && j+2 < len(s) && isHex(s[j+2]) {
						b, _ := hex.DecodeString(s[j+1 : j+3])
						val = append(val, b[0])
						j += 2
					} else if strings.IndexByte(" \"#+,;<=>\\", n) >= 0 {
						val = append(val, n)
						j++
					} else {
						return nil, errf(op, ErrInvalidName, "bad escape \\%c", n)
					}
					lastSignificant = len(val)
					continue
				}
				if c == ' ' && len(val) == 0 {
					continue // unescaped leading space
				}
				val = append(val, c)
				if c != ' ' {
					lastSignificant = len(val)
				}
			}
			val = val[:lastSignificant]
			i = j + 1
			v := string(val)
			if !utf8.ValidString(v) {
				return nil, errf(op, ErrInvalidName, "value is not UTF-8")
			}
			tag := textTag(at, v)
			switch {
			case tag == cbasn1.PrintableString && !isPrintableString(v):
				return nil, errf(op, ErrInvalidName, "%s value %q is not a PrintableString", at.name, v)
			case tag == cbasn1.IA5String && !ia5(v):
				return nil, errf(op, ErrInvalidName, "%s value %q is not an IA5String", at.name, v)
			case at.oid.Equal(asn1.ObjectIdentifier{2, 5, 4, 6}) && len(v) != 2:
				return nil, errf(op, ErrInvalidName, "C value %q is not a two-letter country code", v)
			}
			var b cryptobyte.Builder
			b.AddASN1(tag, func(b *cryptobyte.Builder) { b.AddBytes(val) })
			raw = b.BytesOrPanic()
		}
		cur = append(cur, atvText{oid: at.oid, raw: raw})
		if sep != '+' {
			rdns = append(rdns, cur)
			cur = nil
		}
		if sep == 0 {
			break
		}
		if i >= len(s) {
			return nil, errf(op, ErrInvalidName, "trailing %q", sep)
		}
	}
	slices.Reverse(rdns)
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, rdn := range rdns {
			// DER SET OF: elements in ascending order of their encodings.
			encs := make([][]byte, 0, len(rdn))
			for _, a := range rdn {
				var e cryptobyte.Builder
				e.AddASN1(cbasn1.SEQUENCE, func(e *cryptobyte.Builder) {
					e.AddASN1ObjectIdentifier(a.oid)
					e.AddBytes(a.raw)
				})
				encs = append(encs, e.BytesOrPanic())
			}
			slices.SortFunc(encs, bytes.Compare)
			b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
				for _, e := range encs {
					b.AddBytes(e)
				}
			})
		}
	})
	return b.Bytes()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func parseDottedOID(s string) (asn1.ObjectIdentifier, bool) {
	parts := strings.Split(s, ".")
	if len(parts) < 2 {
		return nil, false
	}
	oid := make(asn1.ObjectIdentifier, 0, len(parts))
	for _, p := range parts {
		if p == "" || len(p) > 9 || (len(p) > 1 && p[0] == '0') {
			return nil, false
		}
		n := 0
		for i := 0; i < len(p); i++ {
			if p[i] < '0' || p[i] > '9' {
				return nil, false
			}
			n = n*10 + int(p[i]-'0')
		}
		oid = append(oid, n)
	}
	if oid[0] > 2 || oid[0] < 2 && oid[1] > 39 {
		return nil, false
	}
	return oid, true
}

// atv is one AttributeTypeAndValue of a parsed DN.
type atv struct {
	oid []byte     // OID contents
	tag cbasn1.Tag // value tag
	val []byte     // value contents
	raw []byte     // full value element
}

type rdn []atv

// parseRDNSequence parses the DER of a Name strictly (every RDN a non-empty SET of SEQUENCE{OID, value}).
func parseRDNSequence(der []byte) ([]rdn, error) {
	in := cryptobyte.String(der)
	var seq cryptobyte.String
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() {
		return nil, fmt.Errorf("not a DER Name")
	}
	var out []rdn
	for !seq.Empty() {
		var set cryptobyte.String
		if !seq.ReadASN1(&set, cbasn1.SET) || set.Empty() {
			return nil, fmt.Errorf("bad RelativeDistinguishedName")
		}
		var r rdn
		for !set.Empty() {
			var a, oid, raw cryptobyte.String
			var tag cbasn1.Tag
			if !set.ReadASN1(&a, cbasn1.SEQUENCE) || !a.ReadASN1(&oid, cbasn1.OBJECT_IDENTIFIER) ||
				!a.ReadAnyASN1Element(&raw, &tag) || !a.Empty() || len(oid) == 0 {
				return nil, fmt.Errorf("bad AttributeTypeAndValue")
			}
			val := cryptobyte.String(raw)
			var contents cryptobyte.String
			if !val.ReadAnyASN1(&contents, &tag) {
				return nil, fmt.Errorf("bad attribute value")
			}
			r = append(r, atv{oid: oid, tag: tag, val: contents, raw: raw})
		}
		out = append(out, r)
	}
	return out, nil
}

// dnHasPrefix reports whether name's RDN sequence begins with constraint's (RFC 5280 §4.2.1.10: a directoryName
// subtree holds the names subordinate to it).
func dnHasPrefix(name, constraint []rdn) bool {
	if len(constraint) > len(name) {
		return false
	}
	for i := range constraint {
		if !rdnEqual(name[i], constraint[i]) {
			return false
		}
	}
	return true
}

func rdnEqual(a, b rdn) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range b {
		found := false
		for _, y := range a {
			if atvEqual(x, y) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// atvEqual compares two attributes as RFC 5280 §7.1 asks, approximately: string values of any string type are
// compared after case folding and insignificant-space removal (leading/trailing spaces dropped, internal runs
// collapsed) — RFC 4518 without its Unicode normalisation steps; other values must be identical.
func atvEqual(a, b atv) bool {
	if !bytes.Equal(a.oid, b.oid) {
		return false
	}
	sa, okA := decodeDirectoryString(a.tag, a.val)
	sb, okB := decodeDirectoryString(b.tag, b.val)
	if okA && okB {
		return strings.EqualFold(foldSpaces(sa), foldSpaces(sb))
	}
	return a.tag == b.tag && bytes.Equal(a.val, b.val)
}

func foldSpaces(s string) string { return strings.Join(strings.Fields(s), " ") }

// decodeDirectoryString returns the text of a string-typed value.
func decodeDirectoryString(tag cbasn1.Tag, v []byte) (string, bool) {
	switch tag {
	case cbasn1.PrintableString, cbasn1.IA5String, cbasn1.Tag(26): // VisibleString
		if !ia5(string(v)) {
			return "", false
		}
		return string(v), true
	case cbasn1.UTF8String:
		if !utf8.Valid(v) {
			return "", false
		}
		return string(v), true
	case cbasn1.T61String: // treated as Latin-1, as most implementations do
		r := make([]rune, len(v))
		for i, c := range v {
			r[i] = rune(c)
		}
		return string(r), true
	case cbasn1.Tag(30): // BMPString
		if len(v)%2 != 0 {
			return "", false
		}
		u := make([]uint16, len(v)/2)
		for i := range u {
			u[i] = binary.BigEndian.Uint16(v[2*i:])
		}
		return string(utf16.Decode(u)), true
	case cbasn1.Tag(28): // UniversalString
		if len(v)%4 != 0 {
			return "", false
		}
		r := make([]rune, len(v)/4)
		for i := range r {
			r[i] = rune(binary.BigEndian.Uint32(v[4*i:]))
		}
		return string(r), true
	}
	return "", false
}

// formatDN renders the DER of a Name in RFC 4514 syntax such that parseDN gives the same DER back: a value is
// written as text only when parseDN would choose the same string type for it, and as #hex otherwise.
func formatDN(der []byte) string {
	rdns, err := parseRDNSequence(der)
	if err != nil {
		return "#" + hex.EncodeToString(der)
	}
	var sb strings.Builder
	for i := len(rdns) - 1; i >= 0; i-- {
		if i != len(rdns)-1 {
			sb.WriteByte(',')
		}
		for j, a := range rdns[i] {
			if j > 0 {
				sb.WriteByte('+')
			}
			oid, ok := decodeOID(a.oid)
			if !ok {
				return "#" + hex.EncodeToString(der)
			}
			at, known := attrByOID(oid)
			if known {
				sb.WriteString(at.name)
			} else {
				at = attrType{oid: oid}
				sb.WriteString(oid.String())
			}
			sb.WriteByte('=')
			v := string(a.val)
			if (a.tag == cbasn1.PrintableString || a.tag == cbasn1.UTF8String || a.tag == cbasn1.IA5String) &&
				utf8.ValidString(v) && textTag(at, v) == a.tag && v != "" && !hasControl(v) &&
				!(at.oid.Equal(asn1.ObjectIdentifier{2, 5, 4, 6}) && len(v) != 2) {
				sb.WriteString(escapeDNValue(v))
			} else {
				sb.WriteString("#" + hex.EncodeToString(a.raw))
			}
		}
	}
	return sb.String()
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}

func escapeDNValue(v string) string {
	var sb strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case strings.IndexByte(",+\"\\<>;=", c) >= 0,
			i == 0 && (c == '#' || c == ' '),
			i == len(v)-1 && c == ' ':
			sb.WriteByte('\\')
			sb.WriteByte(c)
		default:
			sb.WriteByte(c)
		}
	}
	return sb.String()
}

func decodeOID(contents []byte) (asn1.ObjectIdentifier, bool) {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.OBJECT_IDENTIFIER, func(b *cryptobyte.Builder) { b.AddBytes(contents) })
	enc, err := b.Bytes()
	if err != nil {
		return nil, false
	}
	in := cryptobyte.String(enc)
	var oid asn1.ObjectIdentifier
	if !in.ReadASN1ObjectIdentifier(&oid) {
		return nil, false
	}
	return oid, true
}
