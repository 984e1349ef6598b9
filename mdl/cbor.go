package mdl

import (
	"bytes"
	"encoding/binary"
	"io"
	"reflect"
	"time"

	"github.com/fxamacker/cbor/v2"
)

// The package's one CBOR mode.
//
// Encoding is RFC 8949 preferred serialization (shortest heads, definite lengths, shortest floats). Maps keyed by
// data (namespaces, digest IDs, COSE labels) are sorted in core deterministic order (RFC 8949 §4.2.1); the records
// of ISO/IEC 18013-5 (IssuerSignedItem, MobileSecurityObject, DeviceResponse, ...) are written in the order of the
// standard's CDDL, as its Annex D example and the other implementations do. tdate is tag 0 over an RFC 3339 string
// in UTC without fractional seconds; full-date is tag 1004.
//
// Decoding is strict and bounded: duplicate map keys, indefinite lengths and invalid UTF-8 are errors, and nesting,
// array and map sizes are capped (MaxDepth, MaxArrayElements, MaxMapPairs). Everything that is hashed or signed is
// kept as the bytes received and never re-encoded, so parse → Marshal gives back the same bytes.
const (
	// MaxDepth is the deepest nesting of arrays, maps and tags the decoder accepts.
	MaxDepth = 24
	// MaxArrayElements is the largest CBOR array the decoder accepts.
	MaxArrayElements = 4096
	// MaxMapPairs is the largest CBOR map the decoder accepts.
	MaxMapPairs = 4096
	// DefaultMaxSize is the default bound on an input's size (ParseOptions.MaxSize, VerifyOptions.MaxSize).
	DefaultMaxSize = 8 << 20

	tagTDate     = 0
	tagEncoded   = 24
	tagFullDate  = 1004
	cborMajorMap = 5
)

var (
	encMode cbor.EncMode
	decMode cbor.DecMode
)

func init() {
	tags := cbor.NewTagSet()
	if err := tags.Add(cbor.TagOptions{EncTag: cbor.EncTagRequired, DecTag: cbor.DecTagRequired},
		reflect.TypeOf(FullDate("")), tagFullDate); err != nil {
		panic(err)
	}
	eo := cbor.CoreDetEncOptions()
	eo.Time = cbor.TimeRFC3339
	eo.TimeTag = cbor.EncTagRequired
	var err error
	if encMode, err = eo.EncModeWithTags(tags); err != nil {
		panic(err)
	}
	do := cbor.DecOptions{
		DupMapKey:         cbor.DupMapKeyEnforcedAPF,
		IndefLength:       cbor.IndefLengthForbidden,
		MaxNestedLevels:   MaxDepth,
		MaxArrayElements:  MaxArrayElements,
		MaxMapPairs:       MaxMapPairs,
		UTF8:              cbor.UTF8RejectInvalid,
		FieldNameMatching: cbor.FieldNameMatchingCaseSensitive,
		TimeTag:           cbor.DecTagRequired,
	}
	if decMode, err = do.DecModeWithTags(tags); err != nil {
		panic(err)
	}
}

// FullDate is an RFC 8943 full-date ("YYYY-MM-DD"), encoded as tag 1004 over a text string; ISO/IEC 18013-5 uses it
// for birth_date, issue_date, expiry_date and the dates inside driving_privileges. Element values of this type
// encode with the tag; tag 1004 decodes into it.
type FullDate string

// NewFullDate returns the full-date of t's calendar day (in t's location).
func NewFullDate(t time.Time) FullDate { return FullDate(t.Format(time.DateOnly)) }

// Time parses the date as midnight UTC.
func (d FullDate) Time() (time.Time, error) {
	t, err := time.Parse(time.DateOnly, string(d))
	if err != nil {
		return time.Time{}, newErr("parse full-date", ErrMalformed, string(d), err)
	}
	return t, nil
}

// isStrictTDate reports whether s is the strict tdate of ISO/IEC 18013-5 §7.2.1, RFC 3339 UTC without fraction:
// the form [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z.
func isStrictTDate(s string) bool {
	const form = "dddd-dd-ddTdd:dd:ddZ"
	if len(s) != len(form) {
		return false
	}
	for i := 0; i < len(form); i++ {
		if form[i] == 'd' {
			if s[i] < '0' || s[i] > '9' {
				return false
			}
		} else if s[i] != form[i] {
			return false
		}
	}
	return true
}

// normTime is how every time.Time is written: UTC, whole seconds.
func normTime(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }

// marshalTDate returns tag 0 over the strict RFC 3339 form.
func marshalTDate(t time.Time) []byte { return appendTDate(nil, normTime(t)) }

// parseTDate reads a tdate; strict demands tag 0, UTC "Z" and no fractional seconds.
func parseTDate(raw []byte, strict bool) (time.Time, error) {
	var rt cbor.RawTag
	if err := decMode.Unmarshal(raw, &rt); err != nil || rt.Number != tagTDate {
		return time.Time{}, newErr("parse tdate", ErrMalformed, "not a tag 0 date-time", err)
	}
	var s string
	if err := decMode.Unmarshal(rt.Content, &s); err != nil {
		return time.Time{}, newErr("parse tdate", ErrMalformed, "tag 0 content is not a text string", err)
	}
	if strict && !isStrictTDate(s) {
		return time.Time{}, newErr("parse tdate", ErrMalformed, "tdate must be RFC 3339 UTC without fractional seconds: "+s, nil)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, newErr("parse tdate", ErrMalformed, s, err)
	}
	return t, nil
}

// appendHead appends a CBOR head of the given major type and argument in preferred (shortest) form.
func appendHead(b []byte, major byte, n uint64) []byte {
	m := major << 5
	switch {
	case n < 24:
		return append(b, m|byte(n))
	case n <= 0xff:
		return append(b, m|24, byte(n))
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(b, m|25), uint16(n))
	case n <= 0xffffffff:
		return binary.BigEndian.AppendUint32(append(b, m|26), uint32(n))
	}
	return binary.BigEndian.AppendUint64(append(b, m|27), n)
}

func appendBytes(b, p []byte) []byte       { return append(appendHead(b, 2, uint64(len(p))), p...) }
func appendText(b []byte, s string) []byte { return append(appendHead(b, 3, uint64(len(s))), s...) }

// tag24 wraps encoded CBOR as #6.24(bstr .cbor X).
func tag24(content []byte) []byte {
	b := make([]byte, 0, len(content)+8)
	b = appendHead(b, 6, tagEncoded)
	return appendBytes(b, content)
}

// untag24 returns the embedded CBOR of a #6.24(bstr) item and checks that it is one well-formed data item.
func untag24(raw []byte) ([]byte, error) {
	inner, err := untag24Content(raw)
	if err != nil {
		return nil, err
	}
	if err := decMode.Wellformed(inner); err != nil {
		return nil, newErr("decode tag 24", ErrMalformed, "tag 24 content is not one CBOR data item", err)
	}
	return inner, nil
}

// untag24Content returns the content of a #6.24(bstr) item (raw must be exactly that item) without looking into
// it: for callers that decode it at once with decMode.Unmarshal, which checks that it is exactly one well-formed
// data item within the decoder's bounds.
func untag24Content(raw []byte) ([]byte, error) {
	const op = "decode tag 24"
	if len(raw) == 0 || raw[0]>>5 != 6 {
		return nil, newErr(op, ErrMalformed, "not a tag", nil)
	}
	n, hl, ok := readHeadArg(raw)
	if !ok || n != tagEncoded {
		return nil, newErr(op, ErrMalformed, "expected tag 24 (encoded CBOR data item)", nil)
	}
	rest := raw[hl:]
	if len(rest) == 0 || rest[0]>>5 != 2 {
		return nil, newErr(op, ErrMalformed, "tag 24 content is not a byte string", nil)
	}
	n, hl, ok = readHeadArg(rest)
	if !ok || n != uint64(len(rest)-hl) {
		return nil, newErr(op, ErrMalformed, "tag 24 byte string is truncated, indefinite or followed by data", nil)
	}
	return rest[hl:len(rest):len(rest)], nil
}

// rawCBOR is a data item as it appears in the input, kept without a copy (cbor.RawMessage copies): for the wire
// structs of the parsers, whose results refer to the input anyway. The decoder has checked it is well-formed.
type rawCBOR []byte

// UnmarshalCBOR keeps b.
func (r *rawCBOR) UnmarshalCBOR(b []byte) error {
	*r = b[:len(b):len(b)]
	return nil
}

// field is one key/value pair of a record written in a fixed order.
type field struct {
	k any
	v any
}

// record is a CBOR map written in the given order (the order of the standard's CDDL).
type record []field

// MarshalCBOR writes the map; values that are cbor.RawMessage are written as they are.
func (r record) MarshalCBOR() ([]byte, error) {
	b := appendHead(nil, cborMajorMap, uint64(len(r)))
	for _, f := range r {
		kb, err := encMode.Marshal(f.k)
		if err != nil {
			return nil, err
		}
		vb, err := encMode.Marshal(f.v)
		if err != nil {
			return nil, err
		}
		b = append(append(b, kb...), vb...)
	}
	return b, nil
}

// marshal encodes v in the package's mode.
func marshal(v any) ([]byte, error) {
	b, err := encMode.Marshal(v)
	if err != nil {
		return nil, newErr("encode", ErrMalformed, "", err)
	}
	return b, nil
}

// mapEntries splits an encoded map into its raw keys and values, in wire order.
func mapEntries(b []byte) (keys, vals []cbor.RawMessage, err error) {
	if len(b) == 0 || b[0]>>5 != cborMajorMap {
		return nil, nil, newErr("decode map", ErrMalformed, "not a map", nil)
	}
	n, hl, ok := readHeadArg(b)
	if !ok || n > MaxMapPairs {
		return nil, nil, newErr("decode map", ErrMalformed, "bad map head", nil)
	}
	dec := decMode.NewDecoder(bytes.NewReader(b[hl:]))
	for i := uint64(0); i < n; i++ {
		var k, v cbor.RawMessage
		if err := dec.Decode(&k); err != nil {
			return nil, nil, newErr("decode map", ErrMalformed, "", err)
		}
		if err := dec.Decode(&v); err != nil {
			return nil, nil, newErr("decode map", ErrMalformed, "", err)
		}
		keys, vals = append(keys, k), append(vals, v)
	}
	var extra cbor.RawMessage
	if err := dec.Decode(&extra); err != io.EOF {
		return nil, nil, newErr("decode map", ErrMalformed, "trailing data", nil)
	}
	return keys, vals, nil
}

// readHeadArg reads the argument of a definite-length head.
func readHeadArg(b []byte) (n uint64, headLen int, ok bool) {
	if len(b) == 0 {
		return 0, 0, false
	}
	ai := b[0] & 0x1f
	switch {
	case ai < 24:
		return uint64(ai), 1, true
	case ai == 24 && len(b) >= 2:
		return uint64(b[1]), 2, true
	case ai == 25 && len(b) >= 3:
		return uint64(binary.BigEndian.Uint16(b[1:])), 3, true
	case ai == 26 && len(b) >= 5:
		return uint64(binary.BigEndian.Uint32(b[1:])), 5, true
	case ai == 27 && len(b) >= 9:
		return binary.BigEndian.Uint64(b[1:]), 9, true
	}
	return 0, 0, false
}
