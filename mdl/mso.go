package mdl

import (
	"crypto"
	"crypto/sha256"
	"crypto/sha512"
	"hash"
	"time"
	"unicode/utf8"
)

// Document types and namespaces of ISO/IEC 18013-5.
const (
	// DocTypeMDL is the mDL document type.
	DocTypeMDL = "org.iso.18013.5.1.mDL"
	// NamespaceMDL is the mDL data element namespace.
	NamespaceMDL = "org.iso.18013.5.1"
)

// DigestAlgorithm is the MSO's digestAlgorithm.
type DigestAlgorithm string

// The digest algorithms of ISO/IEC 18013-5 §9.1.2.5.
const (
	SHA256 DigestAlgorithm = "SHA-256"
	SHA384 DigestAlgorithm = "SHA-384"
	SHA512 DigestAlgorithm = "SHA-512"
)

func (d DigestAlgorithm) hash() (func() hash.Hash, error) {
	switch d {
	case SHA256:
		return sha256.New, nil
	case SHA384:
		return sha512.New384, nil
	case SHA512:
		return sha512.New, nil
	}
	return nil, newErr("digest algorithm", ErrUnsupportedAlgorithm, string(d), nil)
}

func (d DigestAlgorithm) sum(b []byte) []byte {
	h, err := d.hash()
	if err != nil {
		return nil
	}
	hh := h()
	hh.Write(b)
	return hh.Sum(nil)
}

// ValidityInfo is the MSO's validityInfo.
type ValidityInfo struct {
	Signed         time.Time
	ValidFrom      time.Time
	ValidUntil     time.Time
	ExpectedUpdate time.Time // zero when absent
}

// KeyAuthorizations is deviceKeyInfo.keyAuthorizations: what the device key may sign in DeviceSigned.
type KeyAuthorizations struct {
	NameSpaces   []string            `cbor:"nameSpaces,omitempty"`
	DataElements map[string][]string `cbor:"dataElements,omitempty"`
}

// MobileSecurityObject is the MSO (ISO/IEC 18013-5 §9.1.2.4), the payload of issuerAuth.
type MobileSecurityObject struct {
	Version         string
	DigestAlgorithm DigestAlgorithm
	// ValueDigests maps namespace → digest ID → digest of the IssuerSignedItemBytes.
	ValueDigests map[string]map[uint64][]byte
	// DeviceKey is the holder's device public key (*ecdsa.PublicKey or ed25519.PublicKey).
	DeviceKey crypto.PublicKey
	// DeviceKeyCOSE is the deviceKey COSE_Key as encoded.
	DeviceKeyCOSE     []byte
	KeyAuthorizations *KeyAuthorizations
	DocType           string
	ValidityInfo      ValidityInfo

	raw []byte // the MSO's CBOR (the content of MobileSecurityObjectBytes)
}

type msoWire struct {
	Version         string           `cbor:"version"`
	DigestAlgorithm string           `cbor:"digestAlgorithm"`
	ValueDigests    valueDigestsWire `cbor:"valueDigests"`
	DeviceKeyInfo   *struct {
		DeviceKey         rawCBOR            `cbor:"deviceKey"`
		KeyAuthorizations *KeyAuthorizations `cbor:"keyAuthorizations"`
		KeyInfo           rawCBOR            `cbor:"keyInfo"`
	} `cbor:"deviceKeyInfo"`
	DocType      string `cbor:"docType"`
	ValidityInfo *struct {
		Signed         rawCBOR `cbor:"signed"`
		ValidFrom      rawCBOR `cbor:"validFrom"`
		ValidUntil     rawCBOR `cbor:"validUntil"`
		ExpectedUpdate rawCBOR `cbor:"expectedUpdate"`
	} `cbor:"validityInfo"`
}

// valueDigestsWire decodes valueDigests: the common form without reflection (parseValueDigestsFast), anything
// else through fxamacker.
type valueDigestsWire struct{ m map[string]map[uint64][]byte }

func (v *valueDigestsWire) UnmarshalCBOR(b []byte) error {
	if m, ok := parseValueDigestsFast(b); ok {
		v.m = m
		return nil
	}
	return decMode.Unmarshal(b, &v.m)
}

// parseValueDigestsFast decodes a well-formed valueDigests (the decoder has checked b, within its bounds) that is
// a map of distinct valid UTF-8 text keys to maps of distinct unsigned integers to byte strings; it reports false
// for anything else, which fxamacker then accepts or rejects as it always did. The digests refer into b.
func parseValueDigestsFast(b []byte) (map[string]map[uint64][]byte, bool) {
	readMap := func(b []byte) (uint64, []byte, bool) {
		if len(b) == 0 || b[0]>>5 != cborMajorMap {
			return 0, nil, false
		}
		n, hl, ok := readHeadArg(b)
		return n, b[hl:], ok && n <= MaxMapPairs
	}
	n, rest, ok := readMap(b)
	if !ok {
		return nil, false
	}
	out := make(map[string]map[uint64][]byte, n)
	for range n {
		if len(rest) == 0 || rest[0]>>5 != 3 {
			return nil, false
		}
		kl, hl, ok := readHeadArg(rest)
		if !ok || uint64(len(rest)-hl) < kl || !utf8.Valid(rest[hl:hl+int(kl)]) {
			return nil, false
		}
		ns := string(rest[hl : hl+int(kl)])
		if _, dup := out[ns]; dup {
			return nil, false
		}
		var m uint64
		if m, rest, ok = readMap(rest[hl+int(kl):]); !ok {
			return nil, false
		}
		ids := make(map[uint64][]byte, m)
		for range m {
			if len(rest) == 0 || rest[0]>>5 != 0 {
				return nil, false
			}
			id, hl, ok := readHeadArg(rest)
			if _, dup := ids[id]; !ok || dup {
				return nil, false
			}
			rest = rest[hl:]
			if len(rest) == 0 || rest[0]>>5 != 2 {
				return nil, false
			}
			dl, hl, ok := readHeadArg(rest)
			if !ok || uint64(len(rest)-hl) < dl {
				return nil, false
			}
			ids[id] = rest[hl : hl+int(dl) : hl+int(dl)]
			rest = rest[hl+int(dl):]
		}
		out[ns] = ids
	}
	return out, len(rest) == 0
}

// ParseMobileSecurityObject parses MobileSecurityObjectBytes (tag 24) or a bare MSO map. strict demands tdates
// without offsets or fractional seconds; lenient (false) accepts any RFC 3339 date-time. The result refers to b.
func ParseMobileSecurityObject(b []byte, strict bool) (*MobileSecurityObject, error) {
	const op = "parse MSO"
	if len(b) > 0 && b[0]>>5 == 6 {
		inner, err := untag24Content(b)
		if err != nil {
			return nil, err
		}
		b = inner
	}
	var w msoWire
	if err := decMode.Unmarshal(b, &w); err != nil {
		return nil, newErr(op, ErrMalformed, "", err)
	}
	switch {
	case w.Version == "":
		return nil, newErr(op, ErrMalformed, "version missing", nil)
	case w.DocType == "":
		return nil, newErr(op, ErrMalformed, "docType missing", nil)
	case len(w.ValueDigests.m) == 0:
		return nil, newErr(op, ErrMalformed, "valueDigests missing", nil)
	case w.DeviceKeyInfo == nil || w.DeviceKeyInfo.DeviceKey == nil:
		return nil, newErr(op, ErrMalformed, "deviceKeyInfo.deviceKey missing", nil)
	case w.ValidityInfo == nil || w.ValidityInfo.Signed == nil || w.ValidityInfo.ValidFrom == nil || w.ValidityInfo.ValidUntil == nil:
		return nil, newErr(op, ErrMalformed, "validityInfo incomplete", nil)
	}
	da := DigestAlgorithm(w.DigestAlgorithm)
	if _, err := da.hash(); err != nil {
		return nil, err
	}
	size := len(da.sum(nil))
	for ns, ids := range w.ValueDigests.m {
		if len(ids) == 0 {
			return nil, newErr(op, ErrMalformed, "valueDigests of "+ns+" empty", nil)
		}
		for _, d := range ids {
			if len(d) != size {
				return nil, newErr(op, ErrMalformed, "digest length does not match digestAlgorithm in "+ns, nil)
			}
		}
	}
	pub, err := ParseCOSEKey(w.DeviceKeyInfo.DeviceKey)
	if err != nil {
		return nil, newErr(op, ErrMalformed, "deviceKey", err)
	}
	m := &MobileSecurityObject{
		Version: w.Version, DigestAlgorithm: da, ValueDigests: w.ValueDigests.m, DeviceKey: pub,
		DeviceKeyCOSE: w.DeviceKeyInfo.DeviceKey, KeyAuthorizations: w.DeviceKeyInfo.KeyAuthorizations,
		DocType: w.DocType, raw: b,
	}
	vi := w.ValidityInfo
	if m.ValidityInfo.Signed, err = parseTDate(vi.Signed, strict); err != nil {
		return nil, err
	}
	if m.ValidityInfo.ValidFrom, err = parseTDate(vi.ValidFrom, strict); err != nil {
		return nil, err
	}
	if m.ValidityInfo.ValidUntil, err = parseTDate(vi.ValidUntil, strict); err != nil {
		return nil, err
	}
	if vi.ExpectedUpdate != nil {
		if m.ValidityInfo.ExpectedUpdate, err = parseTDate(vi.ExpectedUpdate, strict); err != nil {
			return nil, err
		}
	}
	if m.ValidityInfo.ValidUntil.Before(m.ValidityInfo.ValidFrom) {
		return nil, newErr(op, ErrMalformed, "validUntil before validFrom", nil)
	}
	return m, nil
}

// Marshal returns the MSO's CBOR (not tag-24 wrapped): the bytes parsed, or the bytes signed.
func (m *MobileSecurityObject) Marshal() []byte { return m.raw }

// marshalMSO writes an MSO in the order of the standard's CDDL (and of its Annex D example).
func marshalMSO(m *MobileSecurityObject) []byte {
	b := appendMSOStart(make([]byte, 0, 512), m.Version, m.DigestAlgorithm)
	b = appendValueDigests(b, m.ValueDigests)
	return appendMSOEnd(b, m.DeviceKeyCOSE, m.KeyAuthorizations, m.DocType, &m.ValidityInfo)
}
