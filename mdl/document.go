package mdl

import (
	"sort"
	"unicode/utf8"

	"github.com/fxamacker/cbor/v2"
)

// IssuerSignedItem is one data element as the issuer signed it (ISO/IEC 18013-5 §8.3.2.1.2.2).
type IssuerSignedItem struct {
	DigestID          uint64
	Random            []byte
	ElementIdentifier string
	// ElementValue is the decoded value: string, int64/uint64, bool, []byte, FullDate (tag 1004), time.Time
	// (tag 0), []any, map[any]any, ...
	ElementValue any

	rawValue cbor.RawMessage
	bytes    []byte // IssuerSignedItemBytes: the tag-24 wire bytes the digest covers
}

type itemWire struct {
	DigestID          *uint64 `cbor:"digestID"`
	Random            []byte  `cbor:"random"`
	ElementIdentifier string  `cbor:"elementIdentifier"`
	ElementValue      rawCBOR `cbor:"elementValue"`
}

// ParseIssuerSignedItem parses IssuerSignedItemBytes (#6.24(bstr .cbor IssuerSignedItem)) and keeps the bytes (b
// itself: no copy).
func ParseIssuerSignedItem(b []byte) (*IssuerSignedItem, error) {
	it := new(IssuerSignedItem)
	if err := parseItem(b, it); err != nil {
		return nil, err
	}
	return it, nil
}

// parseItem parses IssuerSignedItemBytes into it.
func parseItem(b []byte, it *IssuerSignedItem) error {
	inner, err := untag24Content(b)
	if err != nil {
		return err
	}
	if parseItemFast(b, inner, it) {
		return nil
	}
	return parseItemSlow(b, inner, it)
}

// parseItemSlow decodes an IssuerSignedItem through fxamacker.
func parseItemSlow(b, inner []byte, it *IssuerSignedItem) error {
	const op = "parse IssuerSignedItem"
	var w itemWire
	if err := decMode.Unmarshal(inner, &w); err != nil {
		return newErr(op, ErrMalformed, "", err)
	}
	if w.DigestID == nil || w.Random == nil || w.ElementIdentifier == "" || w.ElementValue == nil {
		return newErr(op, ErrMalformed, "digestID, random, elementIdentifier and elementValue are required", nil)
	}
	*it = IssuerSignedItem{DigestID: *w.DigestID, Random: w.Random, ElementIdentifier: w.ElementIdentifier,
		rawValue: cbor.RawMessage(w.ElementValue), bytes: b}
	if err := decMode.Unmarshal(w.ElementValue, &it.ElementValue); err != nil {
		return newErr(op, ErrMalformed, "elementValue of "+w.ElementIdentifier, err)
	}
	return nil
}

// parseItemFast decodes the common form of an IssuerSignedItem without reflection: a well-formed map of exactly the
// four keys, once each, digestID an unsigned integer, random a byte string, elementIdentifier a non-empty valid
// UTF-8 text string, elementValue any item the decoder accepts. It reports false for anything else, and
// parseItem then decodes through fxamacker, which accepts or rejects it as it always did: the fast path only
// takes inputs that decode, field by field, to the same result.
func parseItemFast(b, inner []byte, it *IssuerSignedItem) bool {
	if len(inner) == 0 || inner[0]>>5 != cborMajorMap || decMode.Wellformed(inner) != nil {
		return false
	}
	n, hl, ok := readHeadArg(inner)
	if !ok || n != 4 {
		return false
	}
	rest := inner[hl:]
	var seen [4]bool
	var out IssuerSignedItem
	for range 4 {
		if len(rest) == 0 || rest[0]>>5 != 3 {
			return false
		}
		kl, khl, ok := readHeadArg(rest)
		if !ok || uint64(len(rest)-khl) < kl {
			return false
		}
		key := rest[khl : khl+int(kl)]
		rest = rest[khl+int(kl):]
		if len(rest) == 0 {
			return false
		}
		major := rest[0] >> 5
		switch string(key) {
		case "digestID":
			v, vl, ok := readHeadArg(rest)
			if seen[0] || !ok || major != 0 {
				return false
			}
			seen[0], out.DigestID, rest = true, v, rest[vl:]
		case "random":
			v, vl, ok := readHeadArg(rest)
			if seen[1] || !ok || major != 2 || uint64(len(rest)-vl) < v {
				return false
			}
			seen[1], out.Random, rest = true, rest[vl:vl+int(v):vl+int(v)], rest[vl+int(v):]
		case "elementIdentifier":
			v, vl, ok := readHeadArg(rest)
			if seen[2] || !ok || major != 3 || v == 0 || uint64(len(rest)-vl) < v || !utf8.Valid(rest[vl:vl+int(v)]) {
				return false
			}
			seen[2], out.ElementIdentifier, rest = true, string(rest[vl:vl+int(v)]), rest[vl+int(v):]
		case "elementValue":
			if seen[3] {
				return false
			}
			after, err := decMode.UnmarshalFirst(rest, &out.ElementValue)
			if err != nil {
				return false
			}
			seen[3], out.rawValue, rest = true, cbor.RawMessage(rest[:len(rest)-len(after):len(rest)-len(after)]), after
		default:
			return false
		}
	}
	if len(rest) != 0 {
		return false
	}
	out.bytes = b
	*it = out
	return true
}

// Bytes returns IssuerSignedItemBytes: the exact tag-24 encoding that valueDigests covers.
func (it *IssuerSignedItem) Bytes() []byte { return it.bytes }

// RawElementValue returns the element value's CBOR encoding.
func (it *IssuerSignedItem) RawElementValue() []byte { return it.rawValue }

// IssuerSigned is the issuer-signed part of an mdoc (ISO/IEC 18013-5 §8.3.2.1.2.2): the disclosed items per
// namespace and issuerAuth. It is what an issuer hands to the holder, and what a reader receives inside a
// Document.
type IssuerSigned struct {
	// NameSpaces maps namespace → items, in wire order.
	NameSpaces map[string][]*IssuerSignedItem
	// IssuerAuth is the COSE_Sign1 over MobileSecurityObjectBytes.
	IssuerAuth *Sign1

	raw []byte
}

type issuerSignedWire struct {
	NameSpaces map[string][]rawCBOR `cbor:"nameSpaces"`
	IssuerAuth rawCBOR              `cbor:"issuerAuth"`
}

// ParseOptions bounds parsing. The zero value is safe.
type ParseOptions struct {
	// MaxSize is the largest input accepted, in bytes (0: DefaultMaxSize).
	MaxSize int
}

func (o ParseOptions) check(op string, b []byte) error {
	max := o.MaxSize
	if max <= 0 {
		max = DefaultMaxSize
	}
	if len(b) > max {
		return newErr(op, ErrTooLarge, "", nil)
	}
	return nil
}

// ParseIssuerSigned parses an IssuerSigned structure, keeping every item's and issuerAuth's bytes. The result refers
// to b (no copy): b must not change while it is in use.
func ParseIssuerSigned(b []byte, opts ParseOptions) (*IssuerSigned, error) {
	const op = "parse IssuerSigned"
	if err := opts.check(op, b); err != nil {
		return nil, err
	}
	var w issuerSignedWire
	if err := decMode.Unmarshal(b, &w); err != nil {
		return nil, newErr(op, ErrMalformed, "", err)
	}
	return issuerSignedFromWire(op, &w, b)
}

func issuerSignedFromWire(op string, w *issuerSignedWire, raw []byte) (*IssuerSigned, error) {
	if w.IssuerAuth == nil {
		return nil, newErr(op, ErrMalformed, "issuerAuth missing", nil)
	}
	auth, err := ParseSign1(w.IssuerAuth)
	if err != nil {
		return nil, err
	}
	if auth.Payload == nil {
		return nil, newErr(op, ErrMalformed, "issuerAuth has no payload", nil)
	}
	s := &IssuerSigned{IssuerAuth: auth, raw: raw, NameSpaces: make(map[string][]*IssuerSignedItem, len(w.NameSpaces))}
	n := 0
	for _, items := range w.NameSpaces {
		n += len(items)
	}
	slab := make([]IssuerSignedItem, n) // every item in one allocation
	ptrs := make([]*IssuerSignedItem, n)
	k := 0
	for ns, items := range w.NameSpaces {
		if len(items) == 0 {
			return nil, newErr(op, ErrMalformed, "namespace "+ns+" has no items", nil)
		}
		first := k
		for _, r := range items {
			if err := parseItem(r, &slab[k]); err != nil {
				return nil, err
			}
			ptrs[k] = &slab[k]
			k++
		}
		s.NameSpaces[ns] = ptrs[first:k:k]
	}
	return s, nil
}

// Marshal returns the IssuerSigned encoding: the bytes parsed, or nameSpaces (keys in core deterministic order,
// items as they were signed) and issuerAuth.
func (s *IssuerSigned) Marshal() ([]byte, error) {
	if s.raw != nil {
		return s.raw, nil
	}
	b, err := marshalIssuerSigned(s.NameSpaces, s.IssuerAuth)
	if err != nil {
		return nil, err
	}
	s.raw = b
	return b, nil
}

func marshalIssuerSigned(nss map[string][]*IssuerSignedItem, auth *Sign1) ([]byte, error) {
	n := len(auth.Marshal()) + 32
	for _, items := range nss {
		for _, it := range items {
			n += len(it.bytes)
		}
	}
	b := make([]byte, 0, n)
	if len(nss) == 0 {
		b = appendHead(b, cborMajorMap, 1)
	} else {
		b = appendHead(b, cborMajorMap, 2)
		b = appendText(b, "nameSpaces")
		b = appendHead(b, cborMajorMap, uint64(len(nss)))
		for _, ns := range coreDetStrings(nss) {
			b = appendText(b, ns)
			b = appendHead(b, 4, uint64(len(nss[ns])))
			for _, it := range nss[ns] {
				b = append(b, it.bytes...)
			}
		}
	}
	b = appendText(b, "issuerAuth")
	return append(b, auth.Marshal()...), nil
}

// coreDetStrings returns the keys of a string-keyed map in RFC 8949 §4.2.1 order (bytewise on the encoded key:
// shorter strings first, then lexicographic).
func coreDetStrings[V any](m map[string]V) []string {
	out := sortedKeys(m)
	sort.SliceStable(out, func(i, j int) bool { return len(out[i]) < len(out[j]) })
	return out
}

// MobileSecurityObject parses issuerAuth's payload (strict tdates).
func (s *IssuerSigned) MobileSecurityObject() (*MobileSecurityObject, error) {
	return ParseMobileSecurityObject(s.IssuerAuth.Payload, true)
}

// Elements returns the disclosed values as namespace → identifier → value (unverified: use Verify first).
func (s *IssuerSigned) Elements() map[string]map[string]any {
	out := map[string]map[string]any{}
	for ns, items := range s.NameSpaces {
		out[ns] = map[string]any{}
		for _, it := range items {
			out[ns][it.ElementIdentifier] = it.ElementValue
		}
	}
	return out
}

// namespaces returns the namespace names sorted.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Document is one mdoc of a DeviceResponse (ISO/IEC 18013-5 §8.3.2.1.2.2).
type Document struct {
	DocType      string
	IssuerSigned *IssuerSigned
	DeviceSigned *DeviceSigned
	// Errors lists elements the holder could not return: namespace → identifier → error code.
	Errors map[string]map[string]int64
}

// DeviceSigned is the holder-signed part of a Document.
type DeviceSigned struct {
	// NameSpacesBytes is DeviceNameSpacesBytes as received (#6.24(bstr .cbor DeviceNameSpaces)).
	NameSpacesBytes []byte
	// NameSpaces is its decoded content.
	NameSpaces map[string]map[string]any
	// Signature is deviceAuth.deviceSignature, or nil.
	Signature *Sign1
	// MAC is deviceAuth.deviceMac, or nil.
	MAC *Mac0
}

// DeviceResponse is the reader's view of ISO/IEC 18013-5 §8.3.2.1.2.2 DeviceResponse.
type DeviceResponse struct {
	Version        string
	Documents      []*Document
	DocumentErrors []map[string]int64
	Status         uint64

	raw []byte
}

type deviceResponseWire struct {
	Version        string             `cbor:"version"`
	Documents      []rawCBOR          `cbor:"documents"`
	DocumentErrors []map[string]int64 `cbor:"documentErrors"`
	Status         *uint64            `cbor:"status"`
}

type documentWire struct {
	DocType      string                      `cbor:"docType"`
	IssuerSigned rawCBOR                     `cbor:"issuerSigned"`
	DeviceSigned *deviceSignedWire           `cbor:"deviceSigned"`
	Errors       map[string]map[string]int64 `cbor:"errors"`
}

type deviceSignedWire struct {
	NameSpaces rawCBOR `cbor:"nameSpaces"`
	DeviceAuth *struct {
		DeviceSignature rawCBOR `cbor:"deviceSignature"`
		DeviceMac       rawCBOR `cbor:"deviceMac"`
	} `cbor:"deviceAuth"`
}

// ParseDeviceResponse parses a DeviceResponse, keeping the bytes of everything hashed or signed. The result refers
// to b (no copy): b must not change while it is in use.
func ParseDeviceResponse(b []byte, opts ParseOptions) (*DeviceResponse, error) {
	const op = "parse DeviceResponse"
	if err := opts.check(op, b); err != nil {
		return nil, err
	}
	var w deviceResponseWire
	if err := decMode.Unmarshal(b, &w); err != nil {
		return nil, newErr(op, ErrMalformed, "", err)
	}
	if w.Version == "" || w.Status == nil {
		return nil, newErr(op, ErrMalformed, "version and status are required", nil)
	}
	r := &DeviceResponse{Version: w.Version, Status: *w.Status, DocumentErrors: w.DocumentErrors, raw: b}
	for _, rd := range w.Documents {
		var dw documentWire
		if err := decMode.Unmarshal(rd, &dw); err != nil {
			return nil, newErr(op, ErrMalformed, "document", err)
		}
		if dw.DocType == "" || dw.IssuerSigned == nil || dw.DeviceSigned == nil {
			return nil, newErr(op, ErrMalformed, "document needs docType, issuerSigned and deviceSigned", nil)
		}
		var iw issuerSignedWire
		if err := decMode.Unmarshal(dw.IssuerSigned, &iw); err != nil {
			return nil, newErr(op, ErrMalformed, "issuerSigned", err)
		}
		is, err := issuerSignedFromWire(op, &iw, dw.IssuerSigned)
		if err != nil {
			return nil, err
		}
		ds, err := parseDeviceSigned(op, dw.DeviceSigned)
		if err != nil {
			return nil, err
		}
		r.Documents = append(r.Documents, &Document{DocType: dw.DocType, IssuerSigned: is, DeviceSigned: ds, Errors: dw.Errors})
	}
	return r, nil
}

func parseDeviceSigned(op string, w *deviceSignedWire) (*DeviceSigned, error) {
	if w.NameSpaces == nil || w.DeviceAuth == nil {
		return nil, newErr(op, ErrMalformed, "deviceSigned needs nameSpaces and deviceAuth", nil)
	}
	inner, err := untag24Content(w.NameSpaces)
	if err != nil {
		return nil, err
	}
	ds := &DeviceSigned{NameSpacesBytes: w.NameSpaces}
	if err := decMode.Unmarshal(inner, &ds.NameSpaces); err != nil {
		return nil, newErr(op, ErrMalformed, "DeviceNameSpaces", err)
	}
	sig, mac := w.DeviceAuth.DeviceSignature, w.DeviceAuth.DeviceMac
	switch {
	case sig != nil && mac != nil, sig == nil && mac == nil:
		return nil, newErr(op, ErrMalformed, "deviceAuth needs exactly one of deviceSignature and deviceMac", nil)
	case sig != nil:
		if ds.Signature, err = ParseSign1(sig); err != nil {
			return nil, err
		}
	default:
		if ds.MAC, err = ParseMac0(mac); err != nil {
			return nil, err
		}
	}
	return ds, nil
}

// Marshal returns the DeviceResponse encoding (the bytes parsed, or the bytes built by Present).
func (r *DeviceResponse) Marshal() []byte { return r.raw }

func marshalDeviceResponse(docs []*Document) ([]byte, error) {
	var ds []cbor.RawMessage
	for _, d := range docs {
		is, err := marshalIssuerSigned(d.IssuerSigned.NameSpaces, d.IssuerSigned.IssuerAuth)
		if err != nil {
			return nil, err
		}
		d.IssuerSigned.raw = is
		auth := record{}
		if d.DeviceSigned.Signature != nil {
			auth = append(auth, field{"deviceSignature", cbor.RawMessage(d.DeviceSigned.Signature.Marshal())})
		} else {
			auth = append(auth, field{"deviceMac", cbor.RawMessage(d.DeviceSigned.MAC.Marshal())})
		}
		doc := record{
			{"docType", d.DocType},
			{"issuerSigned", cbor.RawMessage(is)},
			{"deviceSigned", record{
				{"nameSpaces", cbor.RawMessage(d.DeviceSigned.NameSpacesBytes)},
				{"deviceAuth", auth},
			}},
		}
		if len(d.Errors) > 0 {
			doc = append(doc, field{"errors", d.Errors})
		}
		b, err := marshal(doc)
		if err != nil {
			return nil, err
		}
		ds = append(ds, b)
	}
	return marshal(record{{"version", "1.0"}, {"documents", ds}, {"status", 0}})
}
