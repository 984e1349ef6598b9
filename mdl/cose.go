package mdl

import (
	"context"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"

	"github.com/fxamacker/cbor/v2"
	"github.com/pkikit/pkikit/internal/alg"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// COSEAlgorithm is a COSE algorithm identifier (RFC 9053) of ISO/IEC 18013-5 cipher suite 1.
type COSEAlgorithm int64

// The COSE algorithms this package signs, verifies and MACs with.
const (
	ES256   COSEAlgorithm = -7  // ECDSA P-256 with SHA-256
	ES384   COSEAlgorithm = -35 // ECDSA P-384 with SHA-384
	ES512   COSEAlgorithm = -36 // ECDSA P-521 with SHA-512
	EdDSA   COSEAlgorithm = -8  // Ed25519
	HMAC256 COSEAlgorithm = 5   // HMAC 256/256 (deviceMac)
)

// COSE header labels used here.
const (
	labelAlg     = 1
	labelKid     = 4
	labelX5Chain = 33
)

func (a COSEAlgorithm) String() string {
	switch a {
	case ES256:
		return "ES256"
	case ES384:
		return "ES384"
	case ES512:
		return "ES512"
	case EdDSA:
		return "EdDSA"
	case HMAC256:
		return "HMAC 256/256"
	}
	return fmt.Sprintf("COSEAlgorithm(%d)", int64(a))
}

// signature returns the pkikit algorithm, the curve and the fixed size of r and s (0 for EdDSA).
func (a COSEAlgorithm) signature() (alg.Algorithm, elliptic.Curve, int, error) {
	switch a {
	case ES256:
		return alg.ECDSAWithSHA256, elliptic.P256(), 32, nil
	case ES384:
		return alg.ECDSAWithSHA384, elliptic.P384(), 48, nil
	case ES512:
		return alg.ECDSAWithSHA512, elliptic.P521(), 66, nil
	case EdDSA:
		return alg.PureEd25519, nil, 0, nil
	}
	return alg.Unknown, nil, 0, newErr("COSE algorithm", ErrUnsupportedAlgorithm, a.String(), nil)
}

// COSEAlgorithmFor returns the cipher-suite-1 signature algorithm of a public key: ES256 for P-256, ES384 for
// P-384, ES512 for P-521, EdDSA for Ed25519.
func COSEAlgorithmFor(pub crypto.PublicKey) (COSEAlgorithm, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return ES256, nil
		case elliptic.P384():
			return ES384, nil
		case elliptic.P521():
			return ES512, nil
		}
	case ed25519.PublicKey:
		return EdDSA, nil
	}
	return 0, newErr("COSE algorithm for key", ErrUnsupportedAlgorithm, fmt.Sprintf("%T", pub), nil)
}

// checkKey refuses a key whose curve does not match the algorithm (ES256 only with P-256, ...).
func (a COSEAlgorithm) checkKey(pub crypto.PublicKey) error {
	want, err := COSEAlgorithmFor(pub)
	if err != nil {
		return err
	}
	if want != a {
		return newErr("COSE algorithm", ErrUnsupportedAlgorithm, fmt.Sprintf("%v with a key for %v", a, want), nil)
	}
	return nil
}

// coseSign signs toBeSigned through alg.Sign and returns the COSE signature (ECDSA: fixed-size r‖s, whatever form
// the signer returned — a KMS's DER included).
func coseSign(ctx context.Context, signer crypto.Signer, a COSEAlgorithm, toBeSigned []byte) ([]byte, error) {
	pa, _, size, err := a.signature()
	if err != nil {
		return nil, err
	}
	if err := a.checkKey(signer.Public()); err != nil {
		return nil, err
	}
	sig, err := alg.Sign(ctx, signer, pa, toBeSigned)
	if err != nil {
		return nil, newErr("sign", ErrInvalidRequest, a.String(), err)
	}
	if size == 0 {
		return sig, nil
	}
	return derToRaw(sig, size)
}

// coseVerify checks a COSE signature through alg.Verify.
func coseVerify(pub crypto.PublicKey, a COSEAlgorithm, toBeSigned, sig []byte) error {
	pa, _, size, err := a.signature()
	if err != nil {
		return err
	}
	if err := a.checkKey(pub); err != nil {
		return err
	}
	if size != 0 {
		if len(sig) != 2*size {
			return newErr("verify", ErrIssuerSignature, fmt.Sprintf("%v signature must be %d bytes, got %d", a, 2*size, len(sig)), nil)
		}
		sig = rawToDER(sig)
	}
	return alg.Verify(pub, pa, toBeSigned, sig)
}

// derToRaw converts an ASN.1 ECDSA-Sig-Value to r‖s with each half left-padded to size bytes. r and s must be
// positive DER INTEGERs (minimal encoding) of at most size bytes.
func derToRaw(der []byte, size int) ([]byte, error) {
	s := cryptobyte.String(der)
	var seq, r, ss cryptobyte.String
	out := make([]byte, 2*size)
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() || !seq.ReadASN1(&r, cbasn1.INTEGER) || !seq.ReadASN1(&ss, cbasn1.INTEGER) ||
		!seq.Empty() || !putUnsigned(out[:size], r) || !putUnsigned(out[size:], ss) {
		return nil, newErr("convert ECDSA signature", ErrMalformed, "signer returned a malformed DER ECDSA signature", nil)
	}
	return out, nil
}

// putUnsigned right-aligns the positive, minimally encoded DER INTEGER content v in dst; it fails if v is zero,
// negative, not minimal, or longer than dst.
func putUnsigned(dst []byte, v []byte) bool {
	switch {
	case len(v) == 0, v[0]&0x80 != 0:
		return false
	case len(v) > 1 && v[0] == 0 && v[1]&0x80 == 0:
		return false
	}
	if v[0] == 0 {
		v = v[1:]
	}
	if len(v) == 0 || len(v) > len(dst) || v[0] == 0 {
		return false
	}
	copy(dst[len(dst)-len(v):], v)
	return true
}

// rawToDER converts r‖s to an ASN.1 ECDSA-Sig-Value.
func rawToDER(raw []byte) []byte {
	half := len(raw) / 2
	b := cryptobyte.NewFixedBuilder(make([]byte, 0, len(raw)+9))
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		addUnsigned(b, raw[:half])
		addUnsigned(b, raw[half:])
	})
	return b.BytesOrPanic()
}

// addUnsigned adds the big-endian unsigned v as a DER INTEGER (as AddASN1BigInt does for a non-negative value).
func addUnsigned(b *cryptobyte.Builder, v []byte) {
	for len(v) > 0 && v[0] == 0 {
		v = v[1:]
	}
	b.AddASN1(cbasn1.INTEGER, func(b *cryptobyte.Builder) {
		if len(v) == 0 || v[0]&0x80 != 0 {
			b.AddUint8(0)
		}
		b.AddBytes(v)
	})
}

// Sign1 is an untagged COSE_Sign1 (RFC 9052 §4.2) as ISO/IEC 18013-5 uses it for issuerAuth and deviceSignature.
// It is parsed by this package (not go-cose) so that a non-bstr kid and other header oddities of deployed issuers
// can be reported instead of rejected, and its bytes are kept for re-encoding.
type Sign1 struct {
	// Algorithm is the alg of the protected header.
	Algorithm COSEAlgorithm
	// X5Chain is the x5chain header (label 33, unprotected): DER certificates, the signer's first.
	X5Chain [][]byte
	// Payload is the attached payload; nil when the payload is detached (deviceSignature).
	Payload []byte
	// Signature is the COSE signature (ECDSA: fixed-size r‖s).
	Signature []byte
	// ExtraProtected lists protected header labels other than alg (ISO 18013-5 §9.1.2.4: should be absent).
	ExtraProtected []any
	// X5ChainProtected reports that x5chain was found in the protected header instead of the unprotected one.
	X5ChainProtected bool

	protected []byte // serialized protected header (bstr content)
	raw       []byte
}

type sign1Wire struct {
	_           struct{} `cbor:",toarray"`
	Protected   []byte
	Unprotected rawCBOR
	Payload     rawCBOR
	Signature   []byte
}

// ParseSign1 parses an untagged COSE_Sign1 (tag 18 is accepted and kept).
func ParseSign1(b []byte) (*Sign1, error) {
	const op = "parse COSE_Sign1"
	body := b
	var rt cbor.RawTag
	if len(b) > 0 && b[0]>>5 == 6 {
		if err := decMode.Unmarshal(b, &rt); err != nil || rt.Number != 18 {
			return nil, newErr(op, ErrMalformed, "unexpected tag", err)
		}
		body = rt.Content
	}
	var w sign1Wire
	if err := decMode.Unmarshal(body, &w); err != nil {
		return nil, newErr(op, ErrMalformed, "not a 4-element array", err)
	}
	s := &Sign1{Signature: w.Signature, protected: w.Protected, raw: b}
	if w.Protected == nil || w.Signature == nil {
		return nil, newErr(op, ErrMalformed, "protected header and signature must be byte strings", nil)
	}
	if !isNull(w.Payload) {
		if err := decMode.Unmarshal(w.Payload, &s.Payload); err != nil || s.Payload == nil {
			return nil, newErr(op, ErrMalformed, "payload must be a byte string or null", err)
		}
	}
	prot := map[any]cbor.RawMessage{}
	if len(w.Protected) > 0 {
		var err error
		if prot, err = parseHeader(w.Protected); err != nil {
			return nil, newErr(op, ErrMalformed, "protected header", err)
		}
	}
	unprot, err := parseHeader(w.Unprotected)
	if err != nil {
		return nil, newErr(op, ErrMalformed, "unprotected header", err)
	}
	algRaw, ok := prot[int64(labelAlg)]
	if !ok {
		return nil, newErr(op, ErrMalformed, "alg missing from the protected header", nil)
	}
	var a int64
	if isNull(algRaw) || (len(algRaw) == 1 && algRaw[0] == 0xf7) {
		return nil, newErr(op, ErrUnsupportedAlgorithm, "alg is null or undefined", nil)
	}
	if err := decMode.Unmarshal(algRaw, &a); err != nil {
		return nil, newErr(op, ErrUnsupportedAlgorithm, "alg is not an integer", err)
	}
	s.Algorithm = COSEAlgorithm(a)
	for k := range prot {
		if k != int64(labelAlg) {
			s.ExtraProtected = append(s.ExtraProtected, k)
		}
	}
	x5, ok := unprot[int64(labelX5Chain)]
	if !ok {
		if x5, ok = prot[int64(labelX5Chain)]; ok {
			s.X5ChainProtected = true
		}
	}
	if ok {
		if s.X5Chain, err = parseX5Chain(x5); err != nil {
			return nil, newErr(op, ErrMalformed, "x5chain", err)
		}
	}
	return s, nil
}

// parseHeader decodes a COSE header map; labels are int64 or string.
func parseHeader(b []byte) (map[any]cbor.RawMessage, error) {
	var m map[any]rawCBOR
	if err := decMode.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, fmt.Errorf("header is not a map")
	}
	out := make(map[any]cbor.RawMessage, len(m))
	for k, v := range m {
		switch kk := k.(type) {
		case uint64:
			if kk > 1<<62 {
				return nil, fmt.Errorf("header label out of range")
			}
			out[int64(kk)] = cbor.RawMessage(v)
		case int64:
			out[kk] = cbor.RawMessage(v)
		case string:
			out[kk] = cbor.RawMessage(v)
		default:
			return nil, fmt.Errorf("header label of type %T", k)
		}
	}
	return out, nil
}

func parseX5Chain(raw cbor.RawMessage) ([][]byte, error) {
	var one []byte
	if err := decMode.Unmarshal(raw, &one); err == nil && one != nil {
		return [][]byte{one}, nil
	}
	var many [][]byte
	if err := decMode.Unmarshal(raw, &many); err != nil || len(many) == 0 {
		return nil, fmt.Errorf("must be a byte string or a non-empty array of byte strings")
	}
	for _, c := range many {
		if len(c) == 0 {
			return nil, fmt.Errorf("empty certificate")
		}
	}
	return many, nil
}

func isNull(raw []byte) bool { return len(raw) == 1 && raw[0] == 0xf6 }

// Marshal returns the COSE_Sign1 encoding (the bytes parsed, for a parsed message).
func (s *Sign1) Marshal() []byte { return s.raw }

// sigStructure builds Sig_structure = ["Signature1", protected, external_aad = h”, payload].
func sigStructure(protected, payload []byte) []byte {
	b := make([]byte, 0, len(protected)+len(payload)+32)
	b = appendHead(b, 4, 4)
	b = appendText(b, "Signature1")
	b = appendBytes(b, protected)
	b = appendBytes(b, nil)
	return appendBytes(b, payload)
}

// verify checks the signature with pub; detached is the payload when the message carries none.
func (s *Sign1) verify(pub crypto.PublicKey, detached []byte) error {
	payload := s.Payload
	if payload == nil {
		payload = detached
	}
	return coseVerify(pub, s.Algorithm, sigStructure(s.protected, payload), s.Signature)
}

// newSign1 signs payload as an untagged COSE_Sign1 with {1: alg} as the only protected header and x5chain (if
// any) as unprotected label 33. With detached, the encoded payload is null.
func newSign1(ctx context.Context, signer crypto.Signer, a COSEAlgorithm, payload []byte, detached bool, x5chain [][]byte) (*Sign1, error) {
	protected := protectedHeader(a)
	s, _, err := finishSign1(ctx, signer, a, protected, sigStructure(protected, payload), payload, detached, x5chain, nil)
	return s, err
}

// signatureLen is the length of a COSE signature of the algorithm (0 if unknown).
func (a COSEAlgorithm) signatureLen() int {
	_, _, size, err := a.signature()
	switch {
	case err != nil:
		return 0
	case size == 0:
		return ed25519.SignatureSize
	}
	return 2 * size
}

// sign1Len is the length of the COSE_Sign1 finishSign1 writes.
func sign1Len(protected []byte, payloadLen int, detached bool, x5chain [][]byte, sigLen int) int {
	n := 1 + headLen(uint64(len(protected))) + len(protected) + headLen(uint64(sigLen)) + sigLen
	switch len(x5chain) {
	case 0:
		n++
	case 1:
		n += 1 + headLen(labelX5Chain) + headLen(uint64(len(x5chain[0]))) + len(x5chain[0])
	default:
		n += 1 + headLen(labelX5Chain) + headLen(uint64(len(x5chain)))
		for _, c := range x5chain {
			n += headLen(uint64(len(c))) + len(c)
		}
	}
	if detached {
		return n + 1
	}
	return n + headLen(uint64(payloadLen)) + payloadLen
}

// finishSign1 signs toBeSigned (the Sig_structure over protected and payload) and appends the COSE_Sign1 to dst
// (a new buffer of the exact size when dst is nil); the Sign1's bytes are the appended part.
func finishSign1(ctx context.Context, signer crypto.Signer, a COSEAlgorithm, protected, toBeSigned, payload []byte, detached bool, x5chain [][]byte, dst []byte) (*Sign1, []byte, error) {
	sig, err := coseSign(ctx, signer, a, toBeSigned)
	if err != nil {
		return nil, dst, err
	}
	if dst == nil {
		dst = make([]byte, 0, sign1Len(protected, len(payload), detached, x5chain, len(sig)))
	}
	start := len(dst)
	b := appendHead(dst, 4, 4)
	b = appendBytes(b, protected)
	switch len(x5chain) {
	case 0:
		b = appendHead(b, cborMajorMap, 0)
	case 1:
		b = appendHead(appendHead(b, cborMajorMap, 1), 0, labelX5Chain)
		b = appendBytes(b, x5chain[0])
	default:
		b = appendHead(appendHead(b, cborMajorMap, 1), 0, labelX5Chain)
		b = appendHead(b, 4, uint64(len(x5chain)))
		for _, c := range x5chain {
			b = appendBytes(b, c)
		}
	}
	payloadEnd := 0
	if detached {
		b = append(b, 0xf6)
	} else {
		b = appendBytes(b, payload)
		payloadEnd = len(b)
	}
	b = appendBytes(b, sig)
	s := &Sign1{Algorithm: a, X5Chain: x5chain, Signature: b[len(b)-len(sig) : len(b) : len(b)], protected: protected, raw: b[start:len(b):len(b)]}
	if !detached {
		s.Payload = b[payloadEnd-len(payload) : payloadEnd : payloadEnd]
	}
	return s, b, nil
}

func appendInt(b []byte, v int64) []byte {
	if v >= 0 {
		return appendHead(b, 0, uint64(v))
	}
	return appendHead(b, 1, uint64(-1-v))
}

// Mac0 is an untagged COSE_Mac0 (RFC 9052 §6.2) with a detached payload, as deviceMac uses it. go-cose v1.3.0 has
// no COSE_Mac0, so this package implements it.
type Mac0 struct {
	Algorithm COSEAlgorithm
	Tag       []byte

	protected []byte
	raw       []byte
}

// ParseMac0 parses an untagged COSE_Mac0 (tag 17 accepted).
func ParseMac0(b []byte) (*Mac0, error) {
	const op = "parse COSE_Mac0"
	body := b
	if len(b) > 0 && b[0]>>5 == 6 {
		var rt cbor.RawTag
		if err := decMode.Unmarshal(b, &rt); err != nil || rt.Number != 17 {
			return nil, newErr(op, ErrMalformed, "unexpected tag", err)
		}
		body = rt.Content
	}
	var w sign1Wire
	if err := decMode.Unmarshal(body, &w); err != nil || w.Protected == nil || w.Signature == nil {
		return nil, newErr(op, ErrMalformed, "not [protected, unprotected, payload, tag]", err)
	}
	prot, err := parseHeader(w.Protected)
	if err != nil {
		return nil, newErr(op, ErrMalformed, "protected header", err)
	}
	if _, err := parseHeader(w.Unprotected); err != nil {
		return nil, newErr(op, ErrMalformed, "unprotected header", err)
	}
	var a int64
	if err := decMode.Unmarshal(prot[int64(labelAlg)], &a); err != nil {
		return nil, newErr(op, ErrMalformed, "alg missing from the protected header", err)
	}
	return &Mac0{Algorithm: COSEAlgorithm(a), Tag: w.Signature, protected: w.Protected, raw: b}, nil
}

// Marshal returns the COSE_Mac0 encoding.
func (m *Mac0) Marshal() []byte { return m.raw }

// macStructure builds MAC_structure = ["MAC0", protected, external_aad = h”, payload].
func macStructure(protected, payload []byte) []byte {
	b := appendHead(nil, 4, 4)
	b = appendText(b, "MAC0")
	b = appendBytes(b, protected)
	b = appendBytes(b, nil)
	return appendBytes(b, payload)
}

func hmac256(key, msg []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write(msg)
	return h.Sum(nil)
}

// newMac0 computes a COSE_Mac0 with HMAC 256/256 over a detached payload.
func newMac0(key, payload []byte) *Mac0 {
	protected := []byte{0xa1, 0x01, 0x05}
	tag := hmac256(key, macStructure(protected, payload))
	b := appendHead(nil, 4, 4)
	b = appendBytes(b, protected)
	b = appendHead(b, cborMajorMap, 0)
	b = append(b, 0xf6)
	b = appendBytes(b, tag)
	return &Mac0{Algorithm: HMAC256, Tag: tag, protected: protected, raw: b}
}

func (m *Mac0) verify(key, payload []byte) error {
	if m.Algorithm != HMAC256 {
		return newErr("verify deviceMac", ErrUnsupportedAlgorithm, m.Algorithm.String(), nil)
	}
	want := hmac256(key, macStructure(m.protected, payload))
	if subtle.ConstantTimeCompare(want, m.Tag) != 1 {
		return newErr("verify deviceMac", ErrDeviceAuth, "MAC does not verify", nil)
	}
	return nil
}

// COSE_Key parameters (RFC 9053 §7).
const (
	keyKty     = 1
	keyCrv     = -1
	keyX       = -2
	keyY       = -3
	ktyOKP     = 1
	ktyEC2     = 2
	crvP256    = 1
	crvP384    = 2
	crvP521    = 3
	crvEd25519 = 6
)

// MarshalCOSEKey encodes a P-256/384/521 ECDSA or ECDH public key as an EC2 COSE_Key {1:2, -1:crv, -2:x, -3:y}, or
// an Ed25519 key as OKP {1:1, -1:6, -2:x}.
func MarshalCOSEKey(pub crypto.PublicKey) ([]byte, error) {
	var point []byte
	var crv int64
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			crv = crvP256
		case elliptic.P384():
			crv = crvP384
		case elliptic.P521():
			crv = crvP521
		default:
			return nil, newErr("marshal COSE_Key", ErrUnsupportedAlgorithm, "curve not P-256/384/521", nil)
		}
		var err error
		if point, err = k.Bytes(); err != nil { // checks that the point is on the curve
			return nil, newErr("marshal COSE_Key", ErrUnsupportedAlgorithm, "", err)
		}
	case *ecdh.PublicKey:
		switch k.Curve() {
		case ecdh.P256():
			crv = crvP256
		case ecdh.P384():
			crv = crvP384
		case ecdh.P521():
			crv = crvP521
		default:
			return nil, newErr("marshal COSE_Key", ErrUnsupportedAlgorithm, "X25519 device keys are not supported", nil)
		}
		point = k.Bytes()
	case ed25519.PublicKey:
		b := appendHead(nil, cborMajorMap, 3)
		b = appendInt(appendInt(b, keyKty), ktyOKP)
		b = appendInt(appendInt(b, keyCrv), crvEd25519)
		b = appendBytes(appendInt(b, keyX), k)
		return b, nil
	default:
		return nil, newErr("marshal COSE_Key", ErrUnsupportedAlgorithm, fmt.Sprintf("%T", pub), nil)
	}
	size := (len(point) - 1) / 2
	b := appendHead(nil, cborMajorMap, 4)
	b = appendInt(appendInt(b, keyKty), ktyEC2)
	b = appendInt(appendInt(b, keyCrv), crv)
	b = appendBytes(appendInt(b, keyX), point[1:1+size])
	b = appendBytes(appendInt(b, keyY), point[1+size:])
	return b, nil
}

// ParseCOSEKey decodes an EC2 (P-256/384/521, uncompressed) or OKP (Ed25519) COSE_Key into *ecdsa.PublicKey or
// ed25519.PublicKey. Private parameters (d) are refused.
func ParseCOSEKey(b []byte) (crypto.PublicKey, error) {
	const op = "parse COSE_Key"
	var m map[int64]rawCBOR
	if err := decMode.Unmarshal(b, &m); err != nil {
		return nil, newErr(op, ErrMalformed, "", err)
	}
	if _, ok := m[-4]; ok {
		return nil, newErr(op, ErrMalformed, "COSE_Key carries a private key", nil)
	}
	var kty, crv int64
	if decMode.Unmarshal(m[keyKty], &kty) != nil || decMode.Unmarshal(m[keyCrv], &crv) != nil {
		return nil, newErr(op, ErrMalformed, "kty and crv must be integers", nil)
	}
	var x []byte
	if decMode.Unmarshal(m[keyX], &x) != nil || x == nil {
		return nil, newErr(op, ErrMalformed, "x must be a byte string", nil)
	}
	switch {
	case kty == ktyOKP && crv == crvEd25519:
		if len(x) != ed25519.PublicKeySize {
			return nil, newErr(op, ErrMalformed, "Ed25519 key must be 32 bytes", nil)
		}
		return ed25519.PublicKey(x), nil
	case kty == ktyEC2:
		var y []byte
		if decMode.Unmarshal(m[keyY], &y) != nil || y == nil {
			return nil, newErr(op, ErrUnsupportedAlgorithm, "y must be a byte string (compressed points are not supported)", nil)
		}
		var c elliptic.Curve
		var size int
		switch crv {
		case crvP256:
			c, size = elliptic.P256(), 32
		case crvP384:
			c, size = elliptic.P384(), 48
		case crvP521:
			c, size = elliptic.P521(), 66
		default:
			return nil, newErr(op, ErrUnsupportedAlgorithm, fmt.Sprintf("EC2 curve %d", crv), nil)
		}
		if len(x) != size || len(y) != size {
			return nil, newErr(op, ErrMalformed, "coordinate length does not match the curve", nil)
		}
		pt := append(append([]byte{4}, x...), y...)
		pub, err := ecdsa.ParseUncompressedPublicKey(c, pt)
		if err != nil {
			return nil, newErr(op, ErrMalformed, "point not on curve", err)
		}
		return pub, nil
	}
	return nil, newErr(op, ErrUnsupportedAlgorithm, fmt.Sprintf("kty %d crv %d", kty, crv), nil)
}
