package mdl

import (
	"slices"
	"time"
)

// Hand-written encoders for the fixed structures of the issue path (IssuerSignedItem, MSO, COSE protected header
// and Sig_structure) and for the element values mDLs carry. They write exactly the bytes the package's fxamacker
// mode writes (preferred serialization, core deterministic map order, the standard's CDDL order for records);
// encode_test.go compares them with the fxamacker encoding over many random inputs. Values of types they do not
// cover are left to fxamacker.

// cborText writes the encoded text string s (for the constant keys of the records).
func cborText(s string) string { return string(appendText(nil, s)) }

var (
	keyDigestID          = cborText("digestID")
	keyRandom            = cborText("random")
	keyElementIdentifier = cborText("elementIdentifier")
	keyElementValue      = cborText("elementValue")
	keyVersion           = cborText("version")
	keyDigestAlgorithm   = cborText("digestAlgorithm")
	keyValueDigests      = cborText("valueDigests")
	keyDeviceKeyInfo     = cborText("deviceKeyInfo")
	keyDeviceKey         = cborText("deviceKey")
	keyKeyAuthorizations = cborText("keyAuthorizations")
	keyDocType           = cborText("docType")
	keyValidityInfo      = cborText("validityInfo")
	keySigned            = cborText("signed")
	keyValidFrom         = cborText("validFrom")
	keyValidUntil        = cborText("validUntil")
	keyExpectedUpdate    = cborText("expectedUpdate")
	keyNameSpaces        = cborText("nameSpaces")
	keyDataElements      = cborText("dataElements")
	keyIssuerAuth        = cborText("issuerAuth")
	sigStructureContext  = cborText("Signature1")
)

// headLen is the length of a CBOR head with argument n.
func headLen(n uint64) int {
	switch {
	case n < 24:
		return 1
	case n <= 0xff:
		return 2
	case n <= 0xffff:
		return 3
	case n <= 0xffffffff:
		return 5
	}
	return 9
}

// putHead writes the head of major type major and argument n so that it ends at b[end], and returns its start.
func putHead(b []byte, end int, major byte, n uint64) int {
	start := end - headLen(n)
	appendHead(b[start:start:end], major, n)
	return start
}

// appendElementValue encodes an element value, by hand for the types mDL elements use and through fxamacker for
// the others; the result is the same either way.
func appendElementValue(b []byte, v any) ([]byte, error) {
	if out, ok := appendValueFast(b, v, 0); ok {
		return out, nil
	}
	rv, err := encMode.Marshal(v)
	if err != nil {
		return b, err
	}
	return append(b, rv...), nil
}

// appendValueFast encodes v if it is made only of the types it covers (string, FullDate, bool, integers, non-nil
// []byte, time.Time in UTC with whole seconds, non-nil []any and map[string]any); ok is false otherwise, and b's
// extension must then be discarded.
func appendValueFast(b []byte, v any, depth int) (_ []byte, ok bool) {
	if depth > MaxDepth {
		return b, false
	}
	switch x := v.(type) {
	case nil:
		return append(b, 0xf6), true
	case string:
		return appendText(b, x), true
	case FullDate:
		return appendText(appendHead(b, 6, tagFullDate), string(x)), true
	case bool:
		if x {
			return append(b, 0xf5), true
		}
		return append(b, 0xf4), true
	case []byte:
		if x == nil {
			return b, false
		}
		return appendBytes(b, x), true
	case int:
		return appendInt(b, int64(x)), true
	case int8:
		return appendInt(b, int64(x)), true
	case int16:
		return appendInt(b, int64(x)), true
	case int32:
		return appendInt(b, int64(x)), true
	case int64:
		return appendInt(b, x), true
	case uint:
		return appendHead(b, 0, uint64(x)), true
	case uint8:
		return appendHead(b, 0, uint64(x)), true
	case uint16:
		return appendHead(b, 0, uint64(x)), true
	case uint32:
		return appendHead(b, 0, uint64(x)), true
	case uint64:
		return appendHead(b, 0, x), true
	case time.Time:
		if x.IsZero() || x.Location() != time.UTC || x.Nanosecond() != 0 || x.Year() < 0 || x.Year() > 9999 {
			return b, false
		}
		return appendTDate(b, x), true
	case []any:
		if x == nil {
			return b, false
		}
		b = appendHead(b, 4, uint64(len(x)))
		for _, e := range x {
			if b, ok = appendValueFast(b, e, depth+1); !ok {
				return b, false
			}
		}
		return b, true
	case map[string]any:
		if x == nil {
			return b, false
		}
		b = appendHead(b, cborMajorMap, uint64(len(x)))
		for _, k := range coreDetStrings(x) {
			b = appendText(b, k)
			if b, ok = appendValueFast(b, x[k], depth+1); !ok {
				return b, false
			}
		}
		return b, true
	}
	return b, false
}

// appendTDate appends tag 0 over the RFC 3339 form of t (which must be UTC, whole seconds, years 0..9999).
func appendTDate(b []byte, t time.Time) []byte {
	var buf [32]byte
	s := t.AppendFormat(buf[:0], time.RFC3339)
	return append(appendHead(appendHead(b, 6, tagTDate), 3, uint64(len(s))), s...)
}

// itemLen is the length of the IssuerSignedItem map (not tag-24 wrapped) appendItem writes.
func itemLen(digestID uint64, saltLen int, id string, valueLen int) int {
	return 1 + len(keyDigestID) + headLen(digestID) +
		len(keyRandom) + headLen(uint64(saltLen)) + saltLen +
		len(keyElementIdentifier) + headLen(uint64(len(id))) + len(id) +
		len(keyElementValue) + valueLen
}

// appendItem writes IssuerSignedItemBytes, #6.24(bstr .cbor IssuerSignedItem), with the item's keys in CDDL order
// (digestID, random, elementIdentifier, elementValue); value is the encoded element value.
func appendItem(b []byte, digestID uint64, salt []byte, id string, value []byte) []byte {
	n := itemLen(digestID, len(salt), id, len(value))
	b = appendHead(b, 6, tagEncoded)
	b = appendHead(b, 2, uint64(n))
	b = appendHead(b, cborMajorMap, 4)
	b = appendHead(append(b, keyDigestID...), 0, digestID)
	b = appendBytes(append(b, keyRandom...), salt)
	b = appendText(append(b, keyElementIdentifier...), id)
	return append(append(b, keyElementValue...), value...)
}

// taggedItemLen is the length appendItem adds.
func taggedItemLen(digestID uint64, saltLen int, id string, valueLen int) int {
	n := itemLen(digestID, saltLen, id, valueLen)
	return 2 + headLen(uint64(n)) + n
}

// appendMSOStart writes the MSO's map head, version, digestAlgorithm and the valueDigests key; the caller writes
// the valueDigests map and then calls appendMSOEnd.
func appendMSOStart(b []byte, version string, da DigestAlgorithm) []byte {
	b = appendHead(b, cborMajorMap, 6)
	b = appendText(append(b, keyVersion...), version)
	b = appendText(append(b, keyDigestAlgorithm...), string(da))
	return append(b, keyValueDigests...)
}

// appendMSOEnd writes deviceKeyInfo, docType and validityInfo.
func appendMSOEnd(b []byte, deviceKey []byte, ka *KeyAuthorizations, docType string, vi *ValidityInfo) []byte {
	b = append(b, keyDeviceKeyInfo...)
	if ka != nil {
		b = appendHead(b, cborMajorMap, 2)
	} else {
		b = appendHead(b, cborMajorMap, 1)
	}
	b = append(append(b, keyDeviceKey...), deviceKey...)
	if ka != nil {
		b = appendKeyAuthorizations(append(b, keyKeyAuthorizations...), ka)
	}
	b = appendText(append(b, keyDocType...), docType)
	b = append(b, keyValidityInfo...)
	if vi.ExpectedUpdate.IsZero() {
		b = appendHead(b, cborMajorMap, 3)
	} else {
		b = appendHead(b, cborMajorMap, 4)
	}
	b = appendTDate(append(b, keySigned...), normTime(vi.Signed))
	b = appendTDate(append(b, keyValidFrom...), normTime(vi.ValidFrom))
	b = appendTDate(append(b, keyValidUntil...), normTime(vi.ValidUntil))
	if !vi.ExpectedUpdate.IsZero() {
		b = appendTDate(append(b, keyExpectedUpdate...), normTime(vi.ExpectedUpdate))
	}
	return b
}

// appendKeyAuthorizations writes KeyAuthorizations as fxamacker does with its struct tags: empty fields omitted,
// nameSpaces before dataElements (shorter key first), dataElements' keys in core deterministic order and a nil
// element list as null.
func appendKeyAuthorizations(b []byte, ka *KeyAuthorizations) []byte {
	n := 0
	if len(ka.NameSpaces) > 0 {
		n++
	}
	if len(ka.DataElements) > 0 {
		n++
	}
	b = appendHead(b, cborMajorMap, uint64(n))
	if len(ka.NameSpaces) > 0 {
		b = appendTextArray(append(b, keyNameSpaces...), ka.NameSpaces)
	}
	if len(ka.DataElements) > 0 {
		b = append(b, keyDataElements...)
		b = appendHead(b, cborMajorMap, uint64(len(ka.DataElements)))
		for _, ns := range coreDetStrings(ka.DataElements) {
			b = appendTextArray(appendText(b, ns), ka.DataElements[ns])
		}
	}
	return b
}

func appendTextArray(b []byte, ss []string) []byte {
	if ss == nil {
		return append(b, 0xf6)
	}
	b = appendHead(b, 4, uint64(len(ss)))
	for _, s := range ss {
		b = appendText(b, s)
	}
	return b
}

// appendValueDigests writes valueDigests from the maps: namespaces in core deterministic order, digest IDs in
// numeric order (which is core deterministic order for unsigned integers).
func appendValueDigests(b []byte, vd map[string]map[uint64][]byte) []byte {
	b = appendHead(b, cborMajorMap, uint64(len(vd)))
	var keys []uint64
	for _, ns := range coreDetStrings(vd) {
		ids := vd[ns]
		keys = keys[:0]
		for id := range ids {
			keys = append(keys, id)
		}
		slices.Sort(keys)
		b = appendHead(appendText(b, ns), cborMajorMap, uint64(len(keys)))
		for _, id := range keys {
			b = appendBytes(appendHead(b, 0, id), ids[id])
		}
	}
	return b
}

// protectedHeader is the serialized protected header {1: alg}.
func protectedHeader(a COSEAlgorithm) []byte {
	return appendInt(appendHead(appendHead(make([]byte, 0, 4), cborMajorMap, 1), 0, labelAlg), int64(a))
}

// sigStructurePrefixMax bounds the bytes Sig_structure puts before the payload's content.
const sigStructurePrefixMax = 1 + 11 + 1 + 16 + 1 + 9

// putSigStructurePrefix writes ["Signature1", protected, h”, bstr head of a payload of n bytes] so that it ends
// at b[end], and returns its start.
func putSigStructurePrefix(b []byte, end int, protected []byte, n int) int {
	p := putHead(b, end, 2, uint64(n))
	p--
	b[p] = 0x40 // external_aad = h''
	p -= len(protected)
	copy(b[p:], protected)
	p = putHead(b, p, 2, uint64(len(protected)))
	p -= len(sigStructureContext)
	copy(b[p:], sigStructureContext)
	p--
	b[p] = 0x84
	return p
}
