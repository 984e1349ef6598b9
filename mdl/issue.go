package mdl

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"hash"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pkikit/pkikit/x509ext"
)

// Issuer signs mdocs with a Document Signer key: any crypto.Signer (in memory, a KMS, an HSM), with its DS
// certificate. Build it with NewIssuer, which checks the certificate against ISO/IEC 18013-5 Annex B.
type Issuer struct {
	signer    crypto.Signer
	algorithm COSEAlgorithm
	ds        *x509ext.Certificate
	x5chain   [][]byte
}

// IssuerOptions configures NewIssuer. The zero value is safe.
type IssuerOptions struct {
	// Intermediates are certificates between the DS and the IACA to send in x5chain (normally none). The IACA
	// root itself must not be sent.
	Intermediates []*x509ext.Certificate
	// IACA, when set, lets NewIssuer check that it issued the DS certificate (Annex B issuer/country rules).
	IACA *x509ext.Certificate
	// Lenient reports Annex B profile findings on the DS certificate instead of refusing it (for migrating
	// deployed certificates); Findings of the check are returned by (*Issuer).ProfileReport.
	Lenient bool
	// Time is when the check runs (zero: now).
	Time time.Time
}

// NewIssuer returns an Issuer signing with signer under the DS certificate ds. It fails if signer's public key is
// not the certificate's, the key is not ES256/ES384/ES512/EdDSA, or ds breaks the Annex B DS profile (unless
// Lenient).
func NewIssuer(signer crypto.Signer, ds *x509ext.Certificate, opts IssuerOptions) (*Issuer, error) {
	const op = "new issuer"
	if signer == nil || ds == nil {
		return nil, newErr(op, ErrInvalidRequest, "signer and DS certificate are required", nil)
	}
	a, err := COSEAlgorithmFor(signer.Public())
	if err != nil {
		return nil, err
	}
	if !publicKeysEqual(signer.Public(), ds.PublicKey) {
		return nil, newErr(op, ErrInvalidRequest, "signer's public key is not the DS certificate's", nil)
	}
	if ds.IsCA || bytes.Equal(ds.RawIssuer, ds.RawSubject) {
		return nil, newErr(op, ErrInvalidRequest, "the DS certificate must not be a (self-signed) CA", nil)
	}
	if _, err := CheckDocumentSignerCertificate(ds, opts.IACA, CertificateCheckOptions{Lenient: opts.Lenient, Time: opts.Time}); err != nil {
		return nil, err
	}
	chain := [][]byte{ds.Raw}
	for _, c := range opts.Intermediates {
		if bytes.Equal(c.RawIssuer, c.RawSubject) {
			return nil, newErr(op, ErrInvalidRequest, "x5chain must not contain the IACA root", nil)
		}
		chain = append(chain, c.Raw)
	}
	return &Issuer{signer: signer, algorithm: a, ds: ds, x5chain: chain}, nil
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	ea, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && ea.Equal(b)
}

// Algorithm returns the COSE algorithm the issuer signs with.
func (iss *Issuer) Algorithm() COSEAlgorithm { return iss.algorithm }

// IssueRequest describes one mdoc to issue.
type IssueRequest struct {
	// DocType (zero: DocTypeMDL).
	DocType string
	// NameSpaces maps namespace → element identifier → value. Values are CBOR-encoded: use FullDate for
	// full-date elements (birth_date, issue_date, expiry_date), time.Time for tdate (written UTC, whole seconds),
	// []byte for bstr (portrait), bool for age_over_NN, []any / map[string]any for driving_privileges. Elements
	// of org.iso.18013.5.1 are type-checked against ISO/IEC 18013-5 Table 5. Issue copies only the values it
	// rewrites (those holding a time.Time): the issued items' ElementValue may share slices and maps with these.
	NameSpaces map[string]map[string]any
	// DeviceKey is the holder's device public key (*ecdsa.PublicKey P-256/384/521, *ecdh.PublicKey or
	// ed25519.PublicKey), bound into the MSO as a COSE_Key.
	DeviceKey crypto.PublicKey
	// KeyAuthorizations optionally limits what the device key may sign in DeviceSigned.
	KeyAuthorizations *KeyAuthorizations
	// Signed is validityInfo.signed (zero: now). It must lie within the DS certificate's validity.
	Signed time.Time
	// ValidFrom (zero: Signed) and ValidUntil (required) bound the MSO's validity.
	ValidFrom, ValidUntil time.Time
	// ExpectedUpdate is optional.
	ExpectedUpdate time.Time
	// DigestAlgorithm (zero: SHA-256).
	DigestAlgorithm DigestAlgorithm
	// SaltSize is the size of each item's random (zero: 32; at least 16).
	SaltSize int
}

// Issue builds the IssuerSignedItems (a fresh random salt each, digest IDs a random permutation), the MSO over
// their tag-24 bytes, and signs it as issuerAuth. It refuses to sign an MSO whose signed time lies outside the DS
// certificate's validity.
func (iss *Issuer) Issue(ctx context.Context, req *IssueRequest) (*IssuerSigned, error) {
	const op = "issue"
	if req == nil || req.DeviceKey == nil || len(req.NameSpaces) == 0 || req.ValidUntil.IsZero() {
		return nil, newErr(op, ErrInvalidRequest, "device key, namespaces and validUntil are required", nil)
	}
	docType := req.DocType
	if docType == "" {
		docType = DocTypeMDL
	}
	da := req.DigestAlgorithm
	if da == "" {
		da = SHA256
	}
	if _, err := da.hash(); err != nil {
		return nil, err
	}
	salt := req.SaltSize
	if salt == 0 {
		salt = 32
	}
	if salt < 16 || salt > 1024 {
		return nil, newErr(op, ErrInvalidRequest, "salt must be 16..1024 bytes", nil)
	}
	signed := req.Signed
	if signed.IsZero() {
		signed = time.Now()
	}
	signed = normTime(signed)
	from := req.ValidFrom
	if from.IsZero() {
		from = signed
	}
	if normTime(req.ValidUntil).Before(normTime(from)) {
		return nil, newErr(op, ErrInvalidRequest, "validUntil before validFrom", nil)
	}
	if signed.Before(iss.ds.NotBefore) || signed.After(iss.ds.NotAfter) {
		return nil, newErr(op, ErrMSOSignedOutsideCertificate, fmt.Sprintf("signed %s outside DS validity %s..%s",
			signed.Format(time.RFC3339), iss.ds.NotBefore.Format(time.RFC3339), iss.ds.NotAfter.Format(time.RFC3339)), nil)
	}
	deviceKey, err := MarshalCOSEKey(req.DeviceKey)
	if err != nil {
		return nil, err
	}
	vi := ValidityInfo{Signed: signed, ValidFrom: normTime(from), ValidUntil: normTime(req.ValidUntil)}
	if !req.ExpectedUpdate.IsZero() {
		vi.ExpectedUpdate = normTime(req.ExpectedUpdate)
	}
	sc := issuePool.Get().(*issueScratch)
	defer sc.release()
	h := sc.hasher(da)
	hsize := h.Size()

	// Element values in namespace order, then identifier order, encoded back to back into scratch.
	nss := sc.sortedNames(req.NameSpaces)
	total := 0
	for _, ns := range nss {
		if len(req.NameSpaces[ns]) == 0 {
			return nil, newErr(op, ErrInvalidRequest, "namespace "+ns+" has no elements", nil)
		}
		total += len(req.NameSpaces[ns])
	}
	nsEnd := make([]int, len(nss)) // end of each namespace in elems
	for i, ns := range nss {
		values := req.NameSpaces[ns]
		ids := sc.ids[:0]
		for id := range values {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		sc.ids = ids
		for _, id := range ids {
			v := normValue(values[id])
			if ns == NamespaceMDL {
				if err := checkMDLElement(id, v); err != nil {
					return nil, err
				}
			}
			vstart := len(sc.enc)
			var err error
			if sc.enc, err = appendElementValue(sc.enc, v); err != nil {
				return nil, newErr(op, ErrInvalidRequest, "element "+id+" cannot be encoded", err)
			}
			sc.elems = append(sc.elems, element{id: id, v: v, val: [2]int{vstart, len(sc.enc)}})
		}
		nsEnd[i] = len(sc.elems)
	}
	elems, enc := sc.elems, sc.enc

	// One read of the random source for every salt and every digest-ID permutation.
	rnd := sc.random(total * (salt + 8))
	if _, err := rand.Read(rnd); err != nil {
		return nil, err
	}
	salts, perm := rnd[:total*salt], rnd[total*salt:]
	start := 0
	for i := range nss {
		randomPermutation(elems[start:nsEnd[i]], perm[8*start:8*nsEnd[i]])
		start = nsEnd[i]
	}
	order := make([]int, len(nss)) // namespaces in core deterministic order: nss is sorted, so by length, stably
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(x, y int) int { return len(nss[x]) - len(nss[y]) })
	nsStart := func(j int) int {
		if j == 0 {
			return 0
		}
		return nsEnd[j-1]
	}

	// The MSO, written after room for the tag-24 and Sig_structure heads, so that MobileSecurityObjectBytes and
	// the Sig_structure over it are one buffer. Its valueDigests are filled in once the items are hashed.
	const room = sigStructurePrefixMax + 2 + 9
	est := room + 256 + len(deviceKey) + len(docType)
	for _, ns := range nss {
		est += len(ns) + 9
	}
	est += total * (hsize + 12)
	buf := make([]byte, room, est)
	buf = appendMSOStart(buf, "1.0", da)
	buf = appendHead(buf, cborMajorMap, uint64(len(nss)))
	digestAt := sc.offsets(total) // offset in buf of the digest of namespace element (start+digest ID)
	for _, j := range order {
		first := nsStart(j)
		buf = appendHead(appendText(buf, nss[j]), cborMajorMap, uint64(nsEnd[j]-first))
		for d := first; d < nsEnd[j]; d++ { // digest IDs in numeric order (core deterministic)
			buf = appendHead(appendHead(buf, 0, uint64(d-first)), 2, uint64(hsize))
			digestAt[d] = len(buf)
			buf = append(buf, make([]byte, hsize)...)
		}
	}
	buf = appendMSOEnd(buf, deviceKey, req.KeyAuthorizations, docType, &vi)
	p := putHead(buf, room, 2, uint64(len(buf)-room))
	p = putHead(buf, p, 6, tagEncoded)
	payload := buf[p:]
	protected := protectedHeader(iss.algorithm)

	// The IssuerSigned encoding in one buffer: nameSpaces with every IssuerSignedItemBytes (each hashed into the
	// MSO as it is written), then issuerAuth. Items' fields refer into it.
	size := 1 + len(keyNameSpaces) + headLen(uint64(len(nss))) + len(keyIssuerAuth) +
		sign1Len(protected, len(payload), false, iss.x5chain, iss.algorithm.signatureLen())
	for i, ns := range nss {
		size += headLen(uint64(len(ns))) + len(ns) + headLen(uint64(nsEnd[i]-nsStart(i)))
	}
	for _, e := range elems {
		size += taggedItemLen(e.digestID, salt, e.id, e.val[1]-e.val[0])
	}
	raw := make([]byte, 0, size)
	raw = appendHead(raw, cborMajorMap, 2)
	raw = appendHead(append(raw, keyNameSpaces...), cborMajorMap, uint64(len(nss)))
	items := make([]IssuerSignedItem, total)
	ptrs := make([]*IssuerSignedItem, total)
	out := &IssuerSigned{NameSpaces: make(map[string][]*IssuerSignedItem, len(nss))}
	for _, j := range order {
		first := nsStart(j)
		raw = appendHead(appendText(raw, nss[j]), 4, uint64(nsEnd[j]-first))
		for k := first; k < nsEnd[j]; k++ {
			e := &elems[k]
			value := enc[e.val[0]:e.val[1]]
			itemStart := len(raw)
			raw = appendItem(raw, e.digestID, salts[k*salt:(k+1)*salt], e.id, value)
			end := len(raw)
			randomAt := end - len(value) - len(keyElementValue) - headLen(uint64(len(e.id))) - len(e.id) - len(keyElementIdentifier) - salt
			it := &items[k]
			*it = IssuerSignedItem{DigestID: e.digestID, Random: raw[randomAt : randomAt+salt : randomAt+salt],
				ElementIdentifier: e.id, ElementValue: e.v, rawValue: raw[end-len(value) : end : end], bytes: raw[itemStart:end:end]}
			ptrs[k] = it
			h.Reset()
			h.Write(it.bytes)
			at := digestAt[first+int(e.digestID)] // digest IDs of a namespace are a permutation of 0..n-1
			h.Sum(buf[at : at : at+hsize])
		}
		out.NameSpaces[nss[j]] = ptrs[first:nsEnd[j]:nsEnd[j]]
	}
	raw = append(raw, keyIssuerAuth...)
	tbs := buf[putSigStructurePrefix(buf, p, protected, len(payload)):]
	authStart := len(raw)
	auth, raw, err := finishSign1(ctx, iss.signer, iss.algorithm, protected, tbs, payload, false, iss.x5chain, raw)
	if err != nil {
		return nil, err
	}
	if len(raw) != size || authStart+len(auth.raw) != size {
		return nil, newErr(op, ErrInvalidRequest, "internal error: IssuerSigned size mismatch", nil)
	}
	out.IssuerAuth, out.raw = auth, raw
	return out, nil
}

// element is one data element while Issue builds its item.
type element struct {
	id       string
	v        any
	val      [2]int // the encoded value: enc[val[0]:val[1]]
	digestID uint64
}

// issueScratch holds Issue's temporary buffers, reused across calls through issuePool: nothing Issue returns
// refers to them.
type issueScratch struct {
	elems   []element
	enc     []byte
	rnd     []byte
	names   []string
	ids     []string
	offs    []int
	hashers map[DigestAlgorithm]hash.Hash
}

var issuePool = sync.Pool{New: func() any { return new(issueScratch) }}

// maxPooledScratch bounds the buffers kept for reuse (a huge request's are dropped).
const maxPooledScratch = 64 << 10

func (sc *issueScratch) release() {
	clear(sc.rnd) // salts and permutation bytes
	clear(sc.elems)
	clear(sc.names)
	clear(sc.ids)
	if cap(sc.enc) > maxPooledScratch || cap(sc.rnd) > maxPooledScratch || cap(sc.elems) > maxPooledScratch/32 {
		return
	}
	sc.elems, sc.enc, sc.rnd, sc.names, sc.ids = sc.elems[:0], sc.enc[:0], sc.rnd[:0], sc.names[:0], sc.ids[:0]
	issuePool.Put(sc)
}

func (sc *issueScratch) hasher(da DigestAlgorithm) hash.Hash {
	h := sc.hashers[da]
	if h == nil {
		hnew, _ := da.hash() // checked by the caller
		h = hnew()
		if sc.hashers == nil {
			sc.hashers = map[DigestAlgorithm]hash.Hash{}
		}
		sc.hashers[da] = h
	}
	return h
}

func (sc *issueScratch) sortedNames(m map[string]map[string]any) []string {
	for k := range m {
		sc.names = append(sc.names, k)
	}
	slices.Sort(sc.names)
	return sc.names
}

func (sc *issueScratch) random(n int) []byte {
	if cap(sc.rnd) < n {
		sc.rnd = make([]byte, n)
	}
	sc.rnd = sc.rnd[:n]
	return sc.rnd
}

func (sc *issueScratch) offsets(n int) []int {
	if cap(sc.offs) < n {
		sc.offs = make([]int, n)
	}
	sc.offs = sc.offs[:n]
	return sc.offs
}

// randomPermutation gives the elements the digest IDs 0..n-1 shuffled with the 8n random bytes rnd (digest IDs
// that do not reveal element order).
func randomPermutation(elems []element, rnd []byte) {
	for i := range elems {
		elems[i].digestID = uint64(i)
	}
	for i := len(elems) - 1; i > 0; i-- {
		j := binary.BigEndian.Uint64(rnd[8*i:]) % uint64(i+1)
		elems[i].digestID, elems[j].digestID = elems[j].digestID, elems[i].digestID
	}
}

// normValue rewrites time.Time values (at any depth of []any and maps) to UTC whole seconds, so that tdate is
// written as ISO/IEC 18013-5 requires.
func normValue(v any) any {
	if !hasTime(v, 0) {
		return v
	}
	switch x := v.(type) {
	case time.Time:
		return normTime(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normValue(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normValue(e)
		}
		return out
	case map[any]any:
		out := make(map[any]any, len(x))
		for k, e := range x {
			out[k] = normValue(e)
		}
		return out
	}
	return v
}

// hasTime reports whether v holds a time.Time (at any depth of []any and maps, to MaxDepth).
func hasTime(v any, depth int) bool {
	if depth > MaxDepth {
		return true
	}
	switch x := v.(type) {
	case time.Time:
		return true
	case []any:
		for _, e := range x {
			if hasTime(e, depth+1) {
				return true
			}
		}
	case map[string]any:
		for _, e := range x {
			if hasTime(e, depth+1) {
				return true
			}
		}
	case map[any]any:
		for _, e := range x {
			if hasTime(e, depth+1) {
				return true
			}
		}
	}
	return false
}

// checkMDLElement enforces the CBOR types of ISO/IEC 18013-5 Table 5 for the elements it knows.
func checkMDLElement(id string, v any) error {
	bad := func(want string) error {
		return newErr("issue", ErrInvalidRequest, fmt.Sprintf("%s must be %s, got %T", id, want, v), nil)
	}
	isText := func() bool { _, ok := v.(string); return ok }
	switch id {
	case "family_name", "given_name", "issuing_authority", "document_number", "un_distinguishing_sign",
		"administrative_number", "birth_place", "resident_address", "resident_city", "resident_state",
		"resident_postal_code", "family_name_national_character", "given_name_national_character",
		"issuing_jurisdiction", "nationality", "resident_country":
		if !isText() {
			return bad("a text string")
		}
	case "issuing_country":
		s, ok := v.(string)
		if !ok || len(s) != 2 || strings.ToUpper(s) != s {
			return bad("an ISO 3166-1 alpha-2 upper-case text string")
		}
	case "birth_date", "issue_date", "expiry_date":
		d, ok := v.(FullDate)
		if !ok {
			return bad("a FullDate (tag 1004)")
		}
		if _, err := d.Time(); err != nil {
			return err
		}
	case "portrait", "signature_usual_mark":
		if b, ok := v.([]byte); !ok || len(b) == 0 {
			return bad("a non-empty byte string")
		}
	case "portrait_capture_date":
		if _, ok := v.(time.Time); !ok {
			return bad("a time.Time (tdate)")
		}
	case "driving_privileges":
		if _, ok := v.([]any); !ok {
			return bad("an array ([]any) of DrivingPrivilege maps")
		}
	case "sex", "height", "weight", "age_in_years", "age_birth_year", "eye_colour", "hair_colour":
		if id == "eye_colour" || id == "hair_colour" {
			if !isText() {
				return bad("a text string")
			}
			break
		}
		if !isUint(v) {
			return bad("an unsigned integer")
		}
	default:
		if strings.HasPrefix(id, "age_over_") {
			if _, ok := v.(bool); !ok {
				return bad("a bool")
			}
		}
	}
	return nil
}

func isUint(v any) bool {
	switch x := v.(type) {
	case uint, uint8, uint16, uint32, uint64:
		return true
	case int:
		return x >= 0
	case int64:
		return x >= 0
	case int32:
		return x >= 0
	}
	return false
}
