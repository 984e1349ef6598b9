package cms

import (
	"bytes"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"time"

	"github.com/pkikit/pkikit/internal/alg"
	"github.com/pkikit/pkikit/x509ext"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// ParseOptions bounds the work Parse does on hostile input. The zero value is safe.
type ParseOptions struct {
	// MaxSize bounds the input in bytes; zero means 64 MiB.
	MaxSize int
	// MaxDepth bounds BER nesting; zero means 64.
	MaxDepth int
	// MaxElements bounds the number of BER elements normalised; zero means 200000.
	MaxElements int
	// MaxSignerInfos bounds the number of SignerInfos; zero means 16.
	MaxSignerInfos int
	// MaxCertificates bounds the number of embedded certificates; zero means 32.
	MaxCertificates int
}

func (o *ParseOptions) withDefaults() ParseOptions {
	var r ParseOptions
	if o != nil {
		r = *o
	}
	if r.MaxSize <= 0 {
		r.MaxSize = 64 << 20
	}
	if r.MaxDepth <= 0 {
		r.MaxDepth = 64
	}
	if r.MaxElements <= 0 {
		r.MaxElements = 200000
	}
	if r.MaxSignerInfos <= 0 {
		r.MaxSignerInfos = 16
	}
	if r.MaxCertificates <= 0 {
		r.MaxCertificates = 32
	}
	return r
}

// SignedData is a parsed CMS SignedData (RFC 5652 §5). Parse fills it; its fields refer to the DER it was parsed
// from (Raw).
type SignedData struct {
	// Raw is the DER ContentInfo (the input itself if it was DER, its normalised form if it was BER or PEM).
	Raw []byte
	// Version is the SignedData version.
	Version int
	// ContentType is the eContentType (for id-data it is the OIDData slice itself: do not modify it).
	ContentType asn1.ObjectIdentifier
	// Content is the encapsulated content, or nil for a detached SignedData (HasContent false).
	Content    []byte
	HasContent bool
	// RawCertificates are the DER certificates of the certificates field (other CertificateChoices skipped).
	RawCertificates [][]byte
	// SignerInfos, in encoded order.
	SignerInfos []*SignerInfo
}

// SignerInfo is one parsed SignerInfo. Algorithms cms does not support, and signed attributes that break RFC
// 5652, do not fail Parse: they fail verification of that signer only (Err).
type SignerInfo struct {
	Version int
	// Signer identifier: IssuerAndSerialNumber (RawIssuer, SerialNumber) or SubjectKeyID.
	RawIssuer    []byte
	SerialNumber *big.Int
	SubjectKeyID []byte
	// Digest and SignatureAlgorithm (zero values when unsupported; Err then says why).
	Digest             Digest
	SignatureAlgorithm x509ext.SignatureAlgorithm
	// RawSignedAttributes is the DER SET OF signed attributes (tag 0x31) that the signature covers; nil when
	// the SignerInfo has no signed attributes.
	RawSignedAttributes []byte
	Signature           []byte
	// Decoded signed attributes.
	ContentType   asn1.ObjectIdentifier
	MessageDigest []byte
	SigningTime   time.Time // zero when absent
	// AlgorithmProtection is set when the CMSAlgorithmProtection attribute (RFC 6211) is present; its digest and
	// signature algorithms follow (Unknown/DigestDefault when it names one cms does not support).
	AlgorithmProtection   bool
	ProtectedDigest       Digest
	ProtectedSignatureAlg x509ext.SignatureAlgorithm
	// Err is why this SignerInfo cannot verify, found while parsing (unsupported algorithm, bad attributes).
	Err error

	rawSerial []byte // the serial number's INTEGER content octets (DER, minimal)
}

// Parse parses a CMS ContentInfo holding a SignedData, given as DER, BER (normalised to DER first, within the
// bounds of opts) or PEM ("CMS" or "PKCS7" blocks). opts may be nil.
func Parse(data []byte, opts *ParseOptions) (*SignedData, error) {
	o := opts.withDefaults()
	if len(data) > o.MaxSize {
		return nil, &Error{Op: "parse", Signer: -1, Reason: ErrTooLarge, Detail: "input larger than MaxSize"}
	}
	if bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte("-----BEGIN ")) {
		blk, _ := pem.Decode(data)
		if blk == nil || (blk.Type != "CMS" && blk.Type != "PKCS7") {
			return nil, malformed("PEM input without a CMS or PKCS7 block")
		}
		data = blk.Bytes
	}
	sd, err := parseDER(data, &o)
	if err == nil {
		return sd, nil
	}
	if e, ok := err.(*Error); ok && e.Reason == ErrTooLarge {
		return nil, err
	}
	der, nerr := normalizeBER(data, o.MaxDepth, o.MaxElements)
	if nerr != nil {
		return nil, nerr
	}
	if bytes.Equal(der, data) {
		return nil, err
	}
	return parseDER(der, &o)
}

var (
	tagExplicit0 = cbasn1.Tag(0).Constructed().ContextSpecific()
	tagImplicit1 = cbasn1.Tag(1).Constructed().ContextSpecific()
)

func parseDER(der []byte, o *ParseOptions) (*SignedData, error) {
	s := cryptobyte.String(der)
	var ci, oid, explicit, sdSeq cryptobyte.String
	if !s.ReadASN1(&ci, cbasn1.SEQUENCE) || !s.Empty() {
		return nil, malformed("not a DER ContentInfo")
	}
	if !ci.ReadASN1Element(&oid, cbasn1.OBJECT_IDENTIFIER) || !bytes.Equal(oid, derOIDSignedData) {
		return nil, malformed("content type is not signedData")
	}
	if !ci.ReadASN1(&explicit, tagExplicit0) || !ci.Empty() || !explicit.ReadASN1(&sdSeq, cbasn1.SEQUENCE) || !explicit.Empty() {
		return nil, malformed("bad ContentInfo content")
	}
	a := new(parseArena) // one allocation for the usual SignedData: one SignerInfo, a few certificates
	sd := &a.sd
	sd.Raw = der
	sd.RawCertificates = a.certs[:0]
	sd.SignerInfos = a.infos[:0]
	var version int64
	var digestAlgs, encap cryptobyte.String
	if !sdSeq.ReadASN1Int64WithTag(&version, cbasn1.INTEGER) || !sdSeq.ReadASN1(&digestAlgs, cbasn1.SET) ||
		!sdSeq.ReadASN1(&encap, cbasn1.SEQUENCE) {
		return nil, malformed("bad SignedData header")
	}
	if version < 0 || version > 5 {
		return nil, malformed("bad SignedData version")
	}
	sd.Version = int(version)
	// EncapsulatedContentInfo.
	if !readOID(&encap, &sd.ContentType) {
		return nil, malformed("bad eContentType")
	}
	var eContent cryptobyte.String
	if !encap.ReadOptionalASN1(&eContent, &sd.HasContent, tagExplicit0) || !encap.Empty() {
		return nil, malformed("bad encapsulated content")
	}
	if sd.HasContent {
		var content cryptobyte.String
		if !eContent.ReadASN1(&content, cbasn1.OCTET_STRING) || !eContent.Empty() {
			return nil, malformed("bad eContent")
		}
		sd.Content = content
	}
	// certificates [0] IMPLICIT CertificateSet OPTIONAL
	var certs cryptobyte.String
	var hasCerts bool
	if !sdSeq.ReadOptionalASN1(&certs, &hasCerts, tagExplicit0) {
		return nil, malformed("bad certificates")
	}
	for !certs.Empty() {
		var el cryptobyte.String
		var tag cbasn1.Tag
		if !certs.ReadAnyASN1Element(&el, &tag) {
			return nil, malformed("bad CertificateChoices")
		}
		if tag != cbasn1.SEQUENCE {
			continue // attribute or other certificates
		}
		if len(sd.RawCertificates) >= o.MaxCertificates {
			return nil, &Error{Op: "parse", Signer: -1, Reason: ErrTooLarge, Detail: "more certificates than MaxCertificates"}
		}
		sd.RawCertificates = append(sd.RawCertificates, el)
	}
	// crls [1] IMPLICIT RevocationInfoChoices OPTIONAL: skipped.
	if !sdSeq.SkipOptionalASN1(tagImplicit1) {
		return nil, malformed("bad crls")
	}
	var infos cryptobyte.String
	if !sdSeq.ReadASN1(&infos, cbasn1.SET) || !sdSeq.Empty() {
		return nil, malformed("bad signerInfos")
	}
	for !infos.Empty() {
		if len(sd.SignerInfos) >= o.MaxSignerInfos {
			return nil, &Error{Op: "parse", Signer: -1, Reason: ErrTooLarge, Detail: "more SignerInfos than MaxSignerInfos"}
		}
		var si cryptobyte.String
		if !infos.ReadASN1(&si, cbasn1.SEQUENCE) {
			return nil, malformed("bad SignerInfo")
		}
		var info *SignerInfo
		if len(sd.SignerInfos) == 0 {
			info = &a.info
			info.SerialNumber = a.serial.SetBits(a.serialWords[:0])
			info.RawSignedAttributes = a.attrs[:0]
		} else {
			info = &SignerInfo{SerialNumber: new(big.Int)}
		}
		if err := parseSignerInfo(info, si, len(sd.SignerInfos)); err != nil {
			return nil, err
		}
		sd.SignerInfos = append(sd.SignerInfos, info)
	}
	// digestAlgorithms: only checked to be AlgorithmIdentifiers; each SignerInfo names its own.
	for !digestAlgs.Empty() {
		var ai cryptobyte.String
		if !digestAlgs.ReadASN1(&ai, cbasn1.SEQUENCE) {
			return nil, malformed("bad digestAlgorithms")
		}
	}
	return sd, nil
}

// parseArena holds, in one allocation, a SignedData with its first SignerInfo (and that one's serial number
// and signed attributes) and the slices of its first certificates and SignerInfos.
type parseArena struct {
	sd          SignedData
	info        SignerInfo
	infos       [1]*SignerInfo
	certs       [4][]byte
	serial      big.Int
	serialWords [3]big.Word // 20-octet serial numbers (RFC 5280 §4.1.2.2) on 64-bit machines
	attrs       [320]byte
}

var tagSignedAttrs = cbasn1.Tag(0).Constructed().ContextSpecific()

// parseSignerInfo fills info (whose SerialNumber is set, and whose RawSignedAttributes may offer a buffer).
func parseSignerInfo(info *SignerInfo, si cryptobyte.String, idx int) error {
	bad := func(d string) error {
		return &Error{Op: "parse", Signer: idx, Reason: ErrMalformed, Detail: d}
	}
	serial := info.SerialNumber
	info.SerialNumber = nil
	var version int64
	if !si.ReadASN1Int64WithTag(&version, cbasn1.INTEGER) {
		return bad("bad version")
	}
	info.Version = int(version)
	switch {
	case si.PeekASN1Tag(cbasn1.SEQUENCE):
		var ias, issuer, serialEl cryptobyte.String
		if !si.ReadASN1(&ias, cbasn1.SEQUENCE) || !ias.ReadASN1Element(&issuer, cbasn1.SEQUENCE) ||
			!ias.ReadASN1Element(&serialEl, cbasn1.INTEGER) || !ias.Empty() {
			return bad("bad issuerAndSerialNumber")
		}
		info.rawSerial = serialEl[headerLen(serialEl):]
		if !serialEl.ReadASN1Integer(serial) {
			return bad("bad issuerAndSerialNumber")
		}
		info.SerialNumber = serial
		info.RawIssuer = issuer
		if version != 1 {
			return bad("issuerAndSerialNumber with version other than 1")
		}
	case si.PeekASN1Tag(cbasn1.Tag(0).ContextSpecific()):
		var ski cryptobyte.String
		if !si.ReadASN1(&ski, cbasn1.Tag(0).ContextSpecific()) || len(ski) == 0 {
			return bad("bad subjectKeyIdentifier")
		}
		info.SubjectKeyID = ski
		if version != 3 {
			return bad("subjectKeyIdentifier with version other than 3")
		}
	default:
		return bad("bad SignerIdentifier")
	}
	var digestAID, sigAID cryptobyte.String
	if !si.ReadASN1Element(&digestAID, cbasn1.SEQUENCE) {
		return bad("bad digestAlgorithm")
	}
	var attrsEl cryptobyte.String
	var hasAttrs bool
	if si.PeekASN1Tag(tagSignedAttrs) {
		if !si.ReadASN1Element(&attrsEl, tagSignedAttrs) {
			return bad("bad signedAttrs")
		}
		hasAttrs = true
	}
	var sig cryptobyte.String
	if !si.ReadASN1Element(&sigAID, cbasn1.SEQUENCE) || !si.ReadASN1(&sig, cbasn1.OCTET_STRING) {
		return bad("bad signatureAlgorithm or signature")
	}
	if !si.SkipOptionalASN1(tagImplicit1) || !si.Empty() { // unsignedAttrs
		return bad("bad unsignedAttrs")
	}
	info.Signature = sig
	if d, ok := parseDigestAlgorithm(digestAID); ok {
		info.Digest = d
	} else {
		info.Err = newErr("parse", idx, ErrUnsupported, "digest algorithm", nil)
	}
	a, err := parseSignatureAlgorithm(sigAID, info.Digest)
	if err != nil {
		info.Err = firstErr(info.Err, newErr("parse", idx, ErrUnsupported, "signature algorithm", err))
	}
	info.SignatureAlgorithm = a
	if !hasAttrs {
		info.Err = firstErr(info.Err, newErr("parse", idx, ErrAttributes, "no signed attributes (cms verifies only SignerInfos with signed attributes)", nil))
		info.RawSignedAttributes = nil
		return nil
	}
	// The signature covers the DER SET OF: the same bytes, tagged 0x31.
	info.RawSignedAttributes = append(append(info.RawSignedAttributes[:0], 0x31), attrsEl[1:]...)
	if err := info.parseAttributes(attrsEl, idx, digestAID, sigAID); err != nil {
		info.Err = firstErr(info.Err, err)
	}
	return nil
}

func firstErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

func (info *SignerInfo) parseAttributes(el cryptobyte.String, idx int, digestAID, sigAID []byte) error {
	bad := func(d string) error { return newErr("parse", idx, ErrAttributes, d, nil) }
	var attrs cryptobyte.String
	if !el.ReadASN1(&attrs, tagSignedAttrs) || attrs.Empty() {
		return bad("empty signed attributes")
	}
	var seenCT, seenMD, seenST, seenAP bool
	for !attrs.Empty() {
		var attr, oid, values, value cryptobyte.String
		if !attrs.ReadASN1(&attr, cbasn1.SEQUENCE) || !attr.ReadASN1Element(&oid, cbasn1.OBJECT_IDENTIFIER) ||
			!attr.ReadASN1(&values, cbasn1.SET) || !attr.Empty() {
			return bad("malformed attribute")
		}
		single := func(seen *bool, name string) error {
			if *seen {
				return bad("duplicate " + name + " attribute")
			}
			*seen = true
			var tag cbasn1.Tag
			if !values.ReadAnyASN1Element(&value, &tag) || !values.Empty() {
				return bad(name + " attribute must have exactly one value")
			}
			return nil
		}
		switch {
		case bytes.Equal(oid, derOIDContentType):
			if err := single(&seenCT, "contentType"); err != nil {
				return err
			}
			if !readOID(&value, &info.ContentType) {
				return bad("bad contentType value")
			}
		case bytes.Equal(oid, derOIDMessageDigest):
			if err := single(&seenMD, "messageDigest"); err != nil {
				return err
			}
			var md cryptobyte.String
			if !value.ReadASN1(&md, cbasn1.OCTET_STRING) {
				return bad("bad messageDigest value")
			}
			info.MessageDigest = md
		case bytes.Equal(oid, derOIDSigningTime):
			if err := single(&seenST, "signingTime"); err != nil {
				return err
			}
			t, ok := parseTime(value)
			if !ok {
				return bad("bad signingTime (DER UTCTime or GeneralizedTime, whole seconds, Z)")
			}
			info.SigningTime = t
		case bytes.Equal(oid, derOIDAlgorithmProtection):
			if err := single(&seenAP, "CMSAlgorithmProtection"); err != nil {
				return err
			}
			if err := info.parseAlgorithmProtection(value, digestAID, sigAID); err != nil {
				return newErr("parse", idx, ErrAlgorithmProtection, "malformed CMSAlgorithmProtection", err)
			}
		}
	}
	if !seenCT || !seenMD {
		return bad("contentType and messageDigest attributes are required (RFC 5652 §5.3)")
	}
	return nil
}

// parseAlgorithmProtection reads CMSAlgorithmProtection. Identifiers byte-identical to the SignerInfo's (the
// usual case) are taken as the SignerInfo's algorithms without parsing again.
func (info *SignerInfo) parseAlgorithmProtection(v cryptobyte.String, digestAID, sigAID []byte) error {
	var seq, protDigestAID, sigAIDContent cryptobyte.String
	var hasSig bool
	if !v.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadASN1Element(&protDigestAID, cbasn1.SEQUENCE) ||
		!seq.ReadOptionalASN1(&sigAIDContent, &hasSig, cbasn1.Tag(1).Constructed().ContextSpecific()) ||
		!seq.SkipOptionalASN1(cbasn1.Tag(2).Constructed().ContextSpecific()) || !seq.Empty() {
		return malformed("CMSAlgorithmProtection")
	}
	info.AlgorithmProtection = true
	if bytes.Equal(protDigestAID, digestAID) {
		info.ProtectedDigest = info.Digest
	} else if d, ok := parseDigestAlgorithm(protDigestAID); ok {
		info.ProtectedDigest = d
	}
	if hasSig && len(sigAID) > 2 && bytes.Equal(sigAIDContent, sigAID[headerLen(sigAID):]) {
		info.ProtectedSignatureAlg = info.SignatureAlgorithm
	} else if hasSig {
		var b cryptobyte.Builder
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddBytes(sigAIDContent) })
		if a, err := parseSignatureAlgorithm(b.BytesOrPanic(), info.ProtectedDigest); err == nil {
			info.ProtectedSignatureAlg = a
		}
	}
	return nil
}

var derRSAEncryption = mustOID(alg.OIDPublicKeyRSA)

// parseSignatureAlgorithm parses a SignerInfo's signatureAlgorithm. Besides the algorithm table's identifiers it
// accepts rsaEncryption (NULL or absent parameters), which RFC 3370 §3.2 lets CMS signers use for RSA PKCS#1 v1.5
// with the SignerInfo's digest algorithm — OpenSSL and go.mozilla.org/pkcs7 write it.
func parseSignatureAlgorithm(aid []byte, d Digest) (alg.Algorithm, error) {
	for _, a := range allAlgorithms {
		if bytes.Equal(aid, a.MarshalAlgorithmIdentifier()) {
			return a, nil // the canonical encoding: no need to parse
		}
	}
	if len(aid) >= 2+len(derRSAEncryption) && bytes.Equal(aid[2:2+len(derRSAEncryption)], derRSAEncryption) {
		if params := aid[2+len(derRSAEncryption):]; int(aid[1]) == len(aid)-2 && (len(params) == 0 || string(params) == "\x05\x00") {
			switch d {
			case SHA256:
				return alg.SHA256WithRSA, nil
			case SHA384:
				return alg.SHA384WithRSA, nil
			case SHA512:
				return alg.SHA512WithRSA, nil
			}
		}
	}
	return alg.ParseAlgorithmIdentifier(aid)
}

var allAlgorithms = alg.All()

// readOID reads an OBJECT IDENTIFIER, returning the shared OIDData for id-data (no allocation in the usual case).
func readOID(s *cryptobyte.String, out *asn1.ObjectIdentifier) bool {
	if bytes.HasPrefix(*s, derOIDData) {
		*s = (*s)[len(derOIDData):]
		*out = OIDData
		return true
	}
	return s.ReadASN1ObjectIdentifier(out)
}

// parseTime reads a DER Time (RFC 5652 §11.3): UTCTime YYMMDDHHMMSSZ (years 1950–2049) or GeneralizedTime
// YYYYMMDDHHMMSSZ, nothing else.
func parseTime(v cryptobyte.String) (time.Time, bool) {
	var body cryptobyte.String
	var tag cbasn1.Tag
	if !v.ReadAnyASN1(&body, &tag) || !v.Empty() {
		return time.Time{}, false
	}
	var year int
	switch {
	case tag == cbasn1.UTCTime && len(body) == 13:
		y, ok := digits(body[:2])
		if !ok {
			return time.Time{}, false
		}
		year = 1900 + y
		if y < 50 {
			year = 2000 + y
		}
		body = body[2:]
	case tag == cbasn1.GeneralizedTime && len(body) == 15:
		y, ok := digits(body[:4])
		if !ok {
			return time.Time{}, false
		}
		year = y
		body = body[4:]
	default:
		return time.Time{}, false
	}
	if body[10] != 'Z' {
		return time.Time{}, false
	}
	var f [5]int
	for i := range f {
		n, ok := digits(body[2*i : 2*i+2])
		if !ok {
			return time.Time{}, false
		}
		f[i] = n
	}
	t := time.Date(year, time.Month(f[0]), f[1], f[2], f[3], f[4], 0, time.UTC)
	// Reject out-of-range fields (time.Date normalises them).
	if t.Year() != year || int(t.Month()) != f[0] || t.Day() != f[1] || t.Hour() != f[2] || t.Minute() != f[3] || t.Second() != f[4] {
		return time.Time{}, false
	}
	return t, true
}

func digits(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}
