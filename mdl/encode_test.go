package mdl

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/fxamacker/cbor/v2"
	"github.com/pkikit/pkikit/x509ext"
)

// The hand-written encoders of encode.go must write exactly what the package's fxamacker mode writes. These tests
// compare them, byte for byte, with fxamacker encodings of the same content over many random inputs.

// Reference encoders: fxamacker only (record writes its fields in the given order, each through encMode).

func refItemBytes(t *testing.T, digestID uint64, salt []byte, id string, v any) []byte {
	t.Helper()
	inner, err := encMode.Marshal(record{{"digestID", digestID}, {"random", salt}, {"elementIdentifier", id}, {"elementValue", v}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := encMode.Marshal(cbor.Tag{Number: tagEncoded, Content: inner})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func refMSO(t *testing.T, m *MobileSecurityObject) []byte {
	t.Helper()
	dki := record{{"deviceKey", cbor.RawMessage(m.DeviceKeyCOSE)}}
	if m.KeyAuthorizations != nil {
		dki = append(dki, field{"keyAuthorizations", m.KeyAuthorizations})
	}
	vi := record{{"signed", normTime(m.ValidityInfo.Signed)}, {"validFrom", normTime(m.ValidityInfo.ValidFrom)},
		{"validUntil", normTime(m.ValidityInfo.ValidUntil)}}
	if !m.ValidityInfo.ExpectedUpdate.IsZero() {
		vi = append(vi, field{"expectedUpdate", normTime(m.ValidityInfo.ExpectedUpdate)})
	}
	b, err := encMode.Marshal(record{{"version", m.Version}, {"digestAlgorithm", string(m.DigestAlgorithm)},
		{"valueDigests", m.ValueDigests}, {"deviceKeyInfo", dki}, {"docType", m.DocType}, {"validityInfo", vi}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func refSign1(t *testing.T, protected []byte, x5chain [][]byte, payload []byte, detached bool, sig []byte) []byte {
	t.Helper()
	unprot := map[int64]any{}
	switch len(x5chain) {
	case 0:
	case 1:
		unprot[labelX5Chain] = x5chain[0]
	default:
		unprot[labelX5Chain] = x5chain
	}
	var p any = payload
	if detached {
		p = nil
	}
	b, err := encMode.Marshal([]any{protected, unprot, p, sig})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := encMode.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Random inputs, biased towards CBOR head-size boundaries.

func randLen(r *rand.Rand) int {
	lens := []int{0, 1, 23, 24, 25, 255, 256, 257, 1000, 65535, 65536}
	if r.IntN(3) == 0 {
		return lens[r.IntN(len(lens))]
	}
	return r.IntN(40)
}

func randBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func randString(r *rand.Rand) string {
	n := randLen(r)
	if n > 300 && r.IntN(4) != 0 {
		n = 300
	}
	switch r.IntN(4) {
	case 0:
		return string(randBytes(r, n)) // not necessarily UTF-8
	case 1:
		return strings.Repeat("é", n/2)
	}
	const abc = "abcdefghijklmnopqrstuvwxyz_0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = abc[r.IntN(len(abc))]
	}
	return string(b)
}

func randUint(r *rand.Rand) uint64 {
	edges := []uint64{0, 1, 23, 24, 255, 256, 65535, 65536, math.MaxUint32, math.MaxUint32 + 1, math.MaxUint64}
	if r.IntN(2) == 0 {
		return edges[r.IntN(len(edges))]
	}
	return r.Uint64() >> r.IntN(64)
}

func randTime(r *rand.Rand) time.Time {
	t := time.Unix(r.Int64N(253402300799+62135596800)-62135596800, 0).UTC() // years 0001..9999
	switch r.IntN(8) {
	case 0:
		return t.Add(time.Duration(r.IntN(1e9))) // fractional seconds: fxamacker's path
	case 1:
		return t.In(time.FixedZone("X", 3600*(r.IntN(20)-10))) // not UTC: fxamacker's path
	case 2:
		return time.Time{}
	}
	return t
}

func randValue(r *rand.Rand, depth int) any {
	k := r.IntN(20)
	if depth > 3 && k >= 15 {
		k = r.IntN(15)
	}
	switch k {
	case 0:
		return randString(r)
	case 1:
		return FullDate(randString(r))
	case 2:
		return r.IntN(2) == 0
	case 3:
		if r.IntN(10) == 0 {
			return []byte(nil)
		}
		return randBytes(r, randLen(r))
	case 4:
		return int(int64(randUint(r)))
	case 5:
		return int64(randUint(r))
	case 6:
		return int32(randUint(r))
	case 7:
		return int8(randUint(r))
	case 8:
		return uint64(randUint(r))
	case 9:
		return uint16(randUint(r))
	case 10:
		return randTime(r)
	case 11:
		return nil
	case 12:
		return r.NormFloat64() // fxamacker's path
	case 13:
		return uint(randUint(r))
	case 14:
		return int16(randUint(r))
	case 15, 16:
		if r.IntN(10) == 0 {
			return []any(nil)
		}
		a := make([]any, r.IntN(5))
		for i := range a {
			a[i] = randValue(r, depth+1)
		}
		return a
	case 17, 18:
		if r.IntN(10) == 0 {
			return map[string]any(nil)
		}
		m := map[string]any{}
		for range r.IntN(6) {
			m[randString(r)] = randValue(r, depth+1)
		}
		return m
	default:
		m := map[any]any{} // fxamacker's path
		for range r.IntN(3) {
			m[int64(r.IntN(100))] = randValue(r, depth+1)
		}
		return m
	}
}

func TestEncodeElementValueMatchesFxamacker(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 20000 {
		v := randValue(r, 0)
		want, wantErr := encMode.Marshal(v)
		got, gotErr := appendElementValue([]byte{0xAA}, v)
		if (wantErr != nil) != (gotErr != nil) {
			t.Fatalf("case %d %#v: fxamacker error %v, ours %v", i, v, wantErr, gotErr)
		}
		if wantErr == nil && !bytes.Equal(got[1:], want) {
			t.Fatalf("case %d %#v:\n ours %x\n fxamacker %x", i, v, got[1:], want)
		}
	}
}

// The fast path, not the fallback, must handle the types mDL elements use.
func TestEncodeElementValueFastPathCoversMDL(t *testing.T) {
	vals := sampleElements(0)[NamespaceMDL]
	vals["portrait_capture_date"] = testBase
	vals["height"] = 180
	for id, v := range vals {
		if _, ok := appendValueFast(nil, normValue(v), 0); !ok {
			t.Errorf("%s (%T) falls back to reflection", id, v)
		}
	}
}

func TestEncodeItemMatchesFxamacker(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 5000 {
		id, salt, digestID, v := randString(r), randBytes(r, 16+r.IntN(300)), randUint(r), randValue(r, 0)
		rv, err := appendElementValue(nil, v)
		if err != nil {
			continue
		}
		got := appendItem([]byte{0xAA}, digestID, salt, id, rv)
		if want := refItemBytes(t, digestID, salt, id, v); !bytes.Equal(got[1:], want) {
			t.Fatalf("case %d:\n ours %x\n fxamacker %x", i, got[1:], want)
		}
		if len(got)-1 != taggedItemLen(digestID, len(salt), id, len(rv)) {
			t.Fatalf("case %d: taggedItemLen %d, wrote %d", i, taggedItemLen(digestID, len(salt), id, len(rv)), len(got)-1)
		}
	}
}

func randKeyAuthorizations(r *rand.Rand) *KeyAuthorizations {
	switch r.IntN(4) {
	case 0:
		return nil
	case 1:
		return &KeyAuthorizations{}
	}
	ka := &KeyAuthorizations{}
	switch r.IntN(3) {
	case 0:
		ka.NameSpaces = []string{}
	case 1:
		for range 1 + r.IntN(3) {
			ka.NameSpaces = append(ka.NameSpaces, randString(r))
		}
	}
	if r.IntN(3) != 0 {
		ka.DataElements = map[string][]string{}
		for range r.IntN(4) {
			var ids []string
			switch r.IntN(3) {
			case 0: // nil: null
			case 1:
				ids = []string{}
			default:
				for range 1 + r.IntN(3) {
					ids = append(ids, randString(r))
				}
			}
			ka.DataElements[randString(r)] = ids
		}
	}
	return ka
}

func randMSO(r *rand.Rand) *MobileSecurityObject {
	das := []DigestAlgorithm{SHA256, SHA384, SHA512}
	m := &MobileSecurityObject{Version: "1.0", DigestAlgorithm: das[r.IntN(3)], ValueDigests: map[string]map[uint64][]byte{},
		DeviceKeyCOSE: mustCOSEKeyBytes(r), KeyAuthorizations: randKeyAuthorizations(r), DocType: randString(r)}
	for range 1 + r.IntN(4) {
		ids := map[uint64][]byte{}
		for range 1 + r.IntN(30) {
			ids[randUint(r)] = randBytes(r, 32+16*r.IntN(3))
		}
		ns := randString(r)
		if r.IntN(2) == 0 {
			ns = NamespaceMDL[:r.IntN(len(NamespaceMDL))+1] // equal lengths and common prefixes
		}
		m.ValueDigests[ns] = ids
	}
	ut := func() time.Time { // UTC, whole seconds, years 0001..9999
		return time.Unix(r.Int64N(253402300799+62135596800)-62135596800, 0)
	}
	m.ValidityInfo = ValidityInfo{Signed: ut(), ValidFrom: ut(), ValidUntil: ut()}
	if r.IntN(2) == 0 {
		m.ValidityInfo.ExpectedUpdate = ut()
	}
	return m
}

func mustCOSEKeyBytes(r *rand.Rand) []byte {
	b, err := MarshalCOSEKey(ed25519.PublicKey(randBytes(r, 32)))
	if err != nil {
		panic(err)
	}
	return b
}

func TestEncodeMSOMatchesFxamacker(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for i := range 3000 {
		m := randMSO(r)
		if got, want := marshalMSO(m), refMSO(t, m); !bytes.Equal(got, want) {
			t.Fatalf("case %d:\n ours %x\n fxamacker %x", i, got, want)
		}
	}
}

func TestEncodeCOSEMatchesFxamacker(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	algs := []COSEAlgorithm{ES256, ES384, ES512, EdDSA, HMAC256}
	for i := range 3000 {
		a := algs[r.IntN(len(algs))]
		if r.IntN(3) == 0 {
			a = COSEAlgorithm(int64(randUint(r)))
		}
		protected := protectedHeader(a)
		if want := mustMarshal(t, map[int64]int64{labelAlg: int64(a)}); !bytes.Equal(protected, want) {
			t.Fatalf("protected header of %d: ours %x, fxamacker %x", a, protected, want)
		}
		payload := randBytes(r, randLen(r))
		want := mustMarshal(t, []any{"Signature1", protected, []byte{}, payload})
		if got := sigStructure(protected, payload); !bytes.Equal(got, want) {
			t.Fatalf("case %d Sig_structure:\n ours %x\n fxamacker %x", i, got, want)
		}
		// In place, as Issue writes it: the prefix put in front of the payload.
		buf := append(make([]byte, sigStructurePrefixMax), payload...)
		if got := buf[putSigStructurePrefix(buf, sigStructurePrefixMax, protected, len(payload)):]; !bytes.Equal(got, want) {
			t.Fatalf("case %d in-place Sig_structure:\n ours %x\n fxamacker %x", i, got, want)
		}
	}
}

func TestEncodeSign1MatchesFxamacker(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	_, key, _ := ed25519.GenerateKey(nil)
	for i := range 300 {
		var chain [][]byte
		for range r.IntN(4) {
			chain = append(chain, randBytes(r, 1+randLen(r)))
		}
		payload, detached := randBytes(r, randLen(r)), r.IntN(2) == 0
		s, err := newSign1(context.Background(), key, EdDSA, payload, detached, chain)
		if err != nil {
			t.Fatal(err)
		}
		if want := refSign1(t, s.protected, chain, payload, detached, s.Signature); !bytes.Equal(s.Marshal(), want) {
			t.Fatalf("case %d:\n ours %x\n fxamacker %x", i, s.Marshal(), want)
		}
		if n := sign1Len(s.protected, len(payload), detached, chain, EdDSA.signatureLen()); n != len(s.Marshal()) {
			t.Fatalf("case %d: sign1Len %d, wrote %d", i, n, len(s.Marshal()))
		}
		if err := s.verify(key.Public(), payload); err != nil {
			t.Fatal(err)
		}
	}
}

// Everything Issue writes — items, MSO, issuerAuth, IssuerSigned — equals the fxamacker encoding of its content,
// for random requests (several namespaces, random values, key authorizations, all digest algorithms).
func TestIssueEncodingMatchesFxamacker(t *testing.T) {
	p := newTestPKI(t, x509ext.KeyECDSAP256, x509ext.KeyECDSAP256)
	dev := newDeviceKey(t)
	r := rand.New(rand.NewPCG(11, 12))
	das := []DigestAlgorithm{SHA256, SHA384, SHA512}
	for i := range 60 {
		nss := map[string]map[string]any{}
		for range 1 + r.IntN(3) {
			ns := randString(r)
			if ns == "" || ns == NamespaceMDL || len(ns) > 100 || !utf8.ValidString(ns) {
				ns = "org.example." + strings.Repeat("x", r.IntN(4))
			}
			elems := map[string]any{}
			for range 1 + r.IntN(25) {
				v := randValue(r, 1)
				var back any
				if enc, err := encMode.Marshal(normValue(v)); err != nil || decMode.Unmarshal(enc, &back) != nil {
					continue // not encodable, or not decodable by the strict mode (invalid UTF-8)
				}
				id := randString(r)
				if id == "" || len(id) > 100 || !utf8.ValidString(id) {
					id = "e"
				}
				elems[id] = v
			}
			if len(elems) > 0 {
				nss[ns] = elems
			}
		}
		if r.IntN(2) == 0 {
			nss[NamespaceMDL] = sampleElements(r.IntN(6))[NamespaceMDL]
		}
		req := &IssueRequest{NameSpaces: nss, DeviceKey: &dev.PublicKey, Signed: testBase, ValidUntil: testBase.Add(time.Hour),
			DigestAlgorithm: das[r.IntN(3)], KeyAuthorizations: randKeyAuthorizations(r), SaltSize: 16 + r.IntN(40)}
		for !kaUTF8(req.KeyAuthorizations) {
			req.KeyAuthorizations = randKeyAuthorizations(r)
		}
		if r.IntN(2) == 0 {
			req.ExpectedUpdate = testBase.Add(30 * time.Minute)
		}
		s, err := p.issuer.Issue(context.Background(), req)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		wireNS := map[string][]cbor.RawMessage{}
		for ns, items := range s.NameSpaces {
			if len(items) != len(nss[ns]) {
				t.Fatalf("case %d: %s has %d items, want %d", i, ns, len(items), len(nss[ns]))
			}
			for _, it := range items {
				want := refItemBytes(t, it.DigestID, it.Random, it.ElementIdentifier, normValue(nss[ns][it.ElementIdentifier]))
				if !bytes.Equal(it.Bytes(), want) {
					t.Fatalf("case %d item %s/%s:\n ours %x\n fxamacker %x", i, ns, it.ElementIdentifier, it.Bytes(), want)
				}
				if len(it.Random) != req.SaltSize {
					t.Fatalf("salt of %d bytes", len(it.Random))
				}
				wireNS[ns] = append(wireNS[ns], it.Bytes())
			}
		}
		mso, err := s.MobileSecurityObject()
		if err != nil {
			t.Fatal(err)
		}
		if want := refMSO(t, mso); !bytes.Equal(mso.Marshal(), want) {
			t.Fatalf("case %d MSO:\n ours %x\n fxamacker %x", i, mso.Marshal(), want)
		}
		if want := mustMarshal(t, cbor.Tag{Number: tagEncoded, Content: mso.Marshal()}); !bytes.Equal(s.IssuerAuth.Payload, want) {
			t.Fatalf("case %d: payload is not tag 24 over the MSO", i)
		}
		auth := s.IssuerAuth
		if want := refSign1(t, auth.protected, p.issuer.x5chain, auth.Payload, false, auth.Signature); !bytes.Equal(auth.Marshal(), want) {
			t.Fatalf("case %d issuerAuth:\n ours %x\n fxamacker %x", i, auth.Marshal(), want)
		}
		raw, _ := s.Marshal()
		want := mustMarshal(t, record{{"nameSpaces", wireNS}, {"issuerAuth", cbor.RawMessage(auth.Marshal())}})
		if !bytes.Equal(raw, want) {
			t.Fatalf("case %d IssuerSigned:\n ours %x\n fxamacker %x", i, raw, want)
		}
		if _, err := VerifyIssuerSigned(raw, VerifyOptions{TrustStore: p.store, Time: testBase}); err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
	}
}

func kaUTF8(ka *KeyAuthorizations) bool {
	if ka == nil {
		return true
	}
	all := slices.Clone(ka.NameSpaces)
	for ns, ids := range ka.DataElements {
		all = append(append(all, ns), ids...)
	}
	for _, s := range all {
		if !utf8.ValidString(s) {
			return false
		}
	}
	return true
}

// parseItemFast must take only items that fxamacker decodes to the same fields: random items, reordered keys and
// random byte mutations.
func TestParseItemFastMatchesFxamacker(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	fast := 0
	for i := range 20000 {
		v := randValue(r, 1)
		rv, err := appendElementValue(nil, v)
		if err != nil {
			continue
		}
		b := appendItem(nil, randUint(r), randBytes(r, 16+r.IntN(40)), randString(r), rv)
		switch r.IntN(4) {
		case 0: // keys in another order
			inner := mustMarshal(t, record{{"elementValue", cbor.RawMessage(rv)}, {"random", []byte{1, 2}}, {"elementIdentifier", "x"}, {"digestID", uint64(i)}})
			b = mustMarshal(t, cbor.Tag{Number: tagEncoded, Content: inner})
		case 1, 2: // mutations
			for range 1 + r.IntN(3) {
				b[r.IntN(len(b))] ^= byte(1 << r.IntN(8))
			}
		}
		inner, err := untag24Content(b)
		if err != nil {
			continue
		}
		var got, want IssuerSignedItem
		if !parseItemFast(b, inner, &got) {
			continue
		}
		fast++
		if err := parseItemSlow(b, inner, &want); err != nil {
			t.Fatalf("case %d: fast path took %x, fxamacker rejects it: %v", i, b, err)
		}
		if got.DigestID != want.DigestID || !bytes.Equal(got.Random, want.Random) || got.ElementIdentifier != want.ElementIdentifier ||
			!bytes.Equal(got.rawValue, want.rawValue) || !bytes.Equal(got.bytes, want.bytes) || !reflect.DeepEqual(got.ElementValue, want.ElementValue) {
			t.Fatalf("case %d %x:\n fast %#v\n fxamacker %#v", i, b, got, want)
		}
	}
	if fast < 5000 {
		t.Fatalf("fast path taken only %d times", fast)
	}
}

// parseValueDigestsFast must take only encodings that fxamacker decodes to the same maps.
func TestParseValueDigestsFastMatchesFxamacker(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	fast := 0
	for i := range 5000 {
		b := appendValueDigests(nil, randMSO(r).ValueDigests)
		if r.IntN(2) == 0 {
			for range 1 + r.IntN(3) {
				b[r.IntN(len(b))] ^= byte(1 << r.IntN(8))
			}
		}
		if decMode.Wellformed(b) != nil {
			continue // the MSO decoder has checked well-formedness before
		}
		got, ok := parseValueDigestsFast(b)
		if !ok {
			continue
		}
		fast++
		var want map[string]map[uint64][]byte
		if err := decMode.Unmarshal(b, &want); err != nil {
			t.Fatalf("case %d: fast path took %x, fxamacker rejects it: %v", i, b, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("case %d %x: fast %v, fxamacker %v", i, b, got, want)
		}
	}
	if fast < 2000 {
		t.Fatalf("fast path taken only %d times", fast)
	}
}
