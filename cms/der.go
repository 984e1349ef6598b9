package cms

import "time"

// Small append-style DER writers for the hot signing path (fixed shapes, lengths known up front).

func appendLength(b []byte, n int) []byte {
	switch {
	case n < 0x80:
		return append(b, byte(n))
	case n < 0x100:
		return append(b, 0x81, byte(n))
	case n < 0x10000:
		return append(b, 0x82, byte(n>>8), byte(n))
	case n < 0x1000000:
		return append(b, 0x83, byte(n>>16), byte(n>>8), byte(n))
	}
	return append(b, 0x84, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

func lengthSize(n int) int {
	switch {
	case n < 0x80:
		return 1
	case n < 0x100:
		return 2
	case n < 0x10000:
		return 3
	case n < 0x1000000:
		return 4
	}
	return 5
}

// tlvSize is the size of a TLV with a one-byte tag and n content bytes.
func tlvSize(n int) int { return 1 + lengthSize(n) + n }

func appendHeader(b []byte, tag byte, n int) []byte {
	return appendLength(append(b, tag), n)
}

// appendAttribute appends Attribute ::= SEQUENCE { attrType OID, attrValues SET OF value } with one value.
func appendAttribute(b []byte, oidTLV, valueTLV []byte) []byte {
	set := tlvSize(len(valueTLV))
	b = appendHeader(b, 0x30, len(oidTLV)+set)
	b = append(b, oidTLV...)
	b = appendHeader(b, 0x31, len(valueTLV))
	return append(b, valueTLV...)
}

// appendTime appends a CMS Time (RFC 5652 §11.3): UTCTime for 1950–2049, GeneralizedTime otherwise, in UTC
// with whole seconds.
func appendTime(b []byte, t time.Time) []byte {
	t = t.UTC().Truncate(time.Second)
	if y := t.Year(); y >= 1950 && y < 2050 {
		b = append(b, 0x17, 13)
		return t.AppendFormat(b, "060102150405Z")
	}
	b = append(b, 0x18, 15)
	return t.AppendFormat(b, "20060102150405Z")
}

// headerLen returns the length of the tag and length octets of the DER element at the start of b.
func headerLen(b []byte) int {
	if len(b) < 2 {
		return len(b)
	}
	if b[1] < 0x80 {
		return 2
	}
	return 2 + int(b[1]&0x7f)
}
