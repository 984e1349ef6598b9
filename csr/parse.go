package csr

import (
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"slices"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/pkikit/pkikit/internal/alg"
	"github.com/pkikit/pkikit/x509ext"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// DefaultMaxSize is the largest DER request Parse accepts unless ParseOptions says otherwise: 64 KiB, about
// eight times an ML-DSA-87 request with a few names.
const DefaultMaxSize = 64 << 10

// PEMType is the PEM block type of a certificate request (RFC 7468 §7).
const PEMType = "CERTIFICATE REQUEST"

// ParseOptions bounds the work of parsing. The zero value is safe.
type ParseOptions struct {
	// MaxSize is the largest DER input accepted, in bytes; 0 means DefaultMaxSize. PEM input may be up to four
	// times as large (base64 and surrounding text).
	MaxSize int
}

func (o ParseOptions) maxSize() int {
	if o.MaxSize > 0 {
		return o.MaxSize
	}
	return DefaultMaxSize
}

// CertificateRequest is a parsed request of any supported algorithm: crypto/x509's *x509.CertificateRequest, with
// every classical field usable (Subject, DNSNames, Extensions, ...), plus what Go 1.26's crypto/x509 cannot
// represent. Pass the embedded CertificateRequest where a *x509.CertificateRequest is wanted (x509ext's
// IssueRequest.CSR).
type CertificateRequest struct {
	// CertificateRequest is crypto/x509's parse of the same DER. For ML-DSA requests on Go 1.26 its PublicKey is
	// nil and its SignatureAlgorithm unknown: use the fields below, which are always set.
	*x509.CertificateRequest

	// PublicKey is the subject public key (ML-DSA keys as circl's *mldsa44/65/87.PublicKey).
	PublicKey crypto.PublicKey
	// KeyAlgorithm is the subject key's type.
	KeyAlgorithm x509ext.KeyAlgorithm
	// SignatureAlgorithm is the request's signature algorithm, from the strictly parsed AlgorithmIdentifier.
	SignatureAlgorithm x509ext.SignatureAlgorithm
	// ChallengePassword is the decoded PKCS#9 challengePassword attribute, or "" if there is none.
	ChallengePassword string
	// Attributes are all the request's attributes in the order of the encoding, each value as DER.
	Attributes []Attribute

	tbs, sig []byte
}

// Parse parses one DER certificate request of any supported algorithm with the default bounds.
func Parse(der []byte) (*CertificateRequest, error) { return ParseOptions{}.Parse(der) }

// ParsePEM parses the first CERTIFICATE REQUEST (or NEW CERTIFICATE REQUEST) PEM block in data, skipping blocks
// of other types, with the default bounds.
func ParsePEM(data []byte) (*CertificateRequest, error) { return ParseOptions{}.ParsePEM(data) }

// EncodePEM returns der as a PEM block of type CERTIFICATE REQUEST.
func EncodePEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: PEMType, Bytes: der})
}

// ParsePEM is the package-level ParsePEM with these options.
func (o ParseOptions) ParsePEM(data []byte) (*CertificateRequest, error) {
	const op = "parse PEM"
	if len(data) > 4*o.maxSize() {
		return nil, newErr(op, ErrTooLarge, "more than "+strconv.Itoa(4*o.maxSize())+" bytes", nil)
	}
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return nil, newErr(op, ErrNotFound, "no "+PEMType+" block", nil)
		}
		if block.Type == PEMType || block.Type == "NEW "+PEMType {
			return o.Parse(block.Bytes)
		}
	}
}

// Parse parses one DER certificate request strictly: a single CertificationRequest with nothing after it, version
// 0, the attributes field present, each attribute with at least one value and no attribute type twice,
// challengePassword and extensionRequest single-valued, the signature algorithm known and fitting the key,
// ML-DSA AlgorithmIdentifiers without parameters (RFC 9881), a BIT STRING signature without unused bits. It does
// not check the signature: call CheckSignature. Errors match ErrTooLarge, ErrMalformed, ErrUnsupportedAlgorithm or
// ErrKeyMismatch.
func (o ParseOptions) Parse(der []byte) (*CertificateRequest, error) {
	const op = "parse"
	if len(der) > o.maxSize() {
		return nil, newErr(op, ErrTooLarge, "more than "+strconv.Itoa(o.maxSize())+" bytes", nil)
	}
	s := cryptobyte.String(der)
	var req, tbs cryptobyte.String
	if !s.ReadASN1(&req, cbasn1.SEQUENCE) {
		return nil, newErr(op, ErrMalformed, "not a DER SEQUENCE", nil)
	}
	if !s.Empty() {
		return nil, newErr(op, ErrMalformed, "trailing data after the request", nil)
	}
	if !req.ReadASN1Element(&tbs, cbasn1.SEQUENCE) {
		return nil, newErr(op, ErrMalformed, "certificationRequestInfo", nil)
	}
	a, err := alg.ReadAlgorithmIdentifier(&req)
	if err != nil {
		return nil, algErr(op, "signature algorithm", err)
	}
	var sig asn1.BitString
	if !req.ReadASN1BitString(&sig) || sig.BitLength%8 != 0 {
		return nil, newErr(op, ErrMalformed, "signature BIT STRING", nil)
	}
	if !req.Empty() {
		return nil, newErr(op, ErrMalformed, "data after the signature", nil)
	}
	info, err := parseTBS(op, tbs)
	if err != nil {
		return nil, err
	}
	if err := a.CheckKeyType(info.keyType); err != nil {
		return nil, algErr(op, "signature algorithm", err)
	}
	std, err := x509.ParseCertificateRequest(der)
	if err != nil {
		return nil, newErr(op, ErrMalformed, "crypto/x509", err)
	}
	return &CertificateRequest{
		CertificateRequest: std,
		PublicKey:          info.pub,
		KeyAlgorithm:       info.keyType,
		SignatureAlgorithm: a,
		ChallengePassword:  info.challengePassword,
		Attributes:         info.attributes,
		tbs:                tbs,
		sig:                sig.Bytes,
	}, nil
}

// CheckSignature verifies the request's signature with its own public key (proof of possession), for every
// algorithm. It returns nil or an error matching ErrBadSignature.
func (r *CertificateRequest) CheckSignature() error {
	if r == nil {
		return newErr("check signature", ErrBadSignature, "nil request", nil)
	}
	if err := alg.Verify(r.PublicKey, r.SignatureAlgorithm, r.tbs, r.sig); err != nil {
		return newErr("check signature", ErrBadSignature, r.SignatureAlgorithm.String(), err)
	}
	return nil
}

type requestInfo struct {
	pub               crypto.PublicKey
	keyType           alg.KeyType
	challengePassword string
	attributes        []Attribute
}

// parseTBS parses a DER CertificationRequestInfo (the whole input) strictly.
func parseTBS(op string, der []byte) (*requestInfo, error) {
	s := cryptobyte.String(der)
	var info, subject, spki, attrs cryptobyte.String
	if !s.ReadASN1(&info, cbasn1.SEQUENCE) || !s.Empty() {
		return nil, newErr(op, ErrMalformed, "certificationRequestInfo is not one DER SEQUENCE", nil)
	}
	var version int64
	if !info.ReadASN1Int64WithTag(&version, cbasn1.INTEGER) {
		return nil, newErr(op, ErrMalformed, "version", nil)
	}
	if version != 0 {
		return nil, newErr(op, ErrMalformed, "version must be 0 (v1)", nil)
	}
	if !info.ReadASN1(&subject, cbasn1.SEQUENCE) {
		return nil, newErr(op, ErrMalformed, "subject", nil)
	}
	if !info.ReadASN1Element(&spki, cbasn1.SEQUENCE) {
		return nil, newErr(op, ErrMalformed, "subjectPKInfo", nil)
	}
	pub, kt, err := alg.ParsePKIXPublicKey(spki)
	if err != nil {
		return nil, algErr(op, "subject public key", err)
	}
	if !info.ReadASN1(&attrs, cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return nil, newErr(op, ErrMalformed, "attributes [0] missing or malformed", nil)
	}
	if !info.Empty() {
		return nil, newErr(op, ErrMalformed, "data after the attributes", nil)
	}
	out := &requestInfo{pub: pub, keyType: kt}
	for !attrs.Empty() {
		var attr, set cryptobyte.String
		var oid asn1.ObjectIdentifier
		if !attrs.ReadASN1(&attr, cbasn1.SEQUENCE) || !attr.ReadASN1ObjectIdentifier(&oid) ||
			!attr.ReadASN1(&set, cbasn1.SET) || !attr.Empty() {
			return nil, newErr(op, ErrMalformed, "attribute", nil)
		}
		if slices.ContainsFunc(out.attributes, func(a Attribute) bool { return a.Type.Equal(oid) }) {
			return nil, newErr(op, ErrMalformed, "attribute "+oid.String()+" appears twice", nil)
		}
		a := Attribute{Type: oid}
		for !set.Empty() {
			var v cryptobyte.String
			var tag cbasn1.Tag
			if !set.ReadAnyASN1Element(&v, &tag) {
				return nil, newErr(op, ErrMalformed, "attribute "+oid.String()+" value", nil)
			}
			a.Values = append(a.Values, v)
		}
		if len(a.Values) == 0 {
			return nil, newErr(op, ErrMalformed, "attribute "+oid.String()+" has no value", nil)
		}
		switch {
		case oid.Equal(OIDChallengePassword):
			if len(a.Values) != 1 {
				return nil, newErr(op, ErrMalformed, "challengePassword must have one value", nil)
			}
			pw, ok := decodeDirectoryString(a.Values[0])
			if !ok {
				return nil, newErr(op, ErrMalformed, "challengePassword is not a DirectoryString", nil)
			}
			out.challengePassword = pw
		case oid.Equal(OIDExtensionRequest):
			var exts cryptobyte.String
			v := cryptobyte.String(a.Values[0])
			if len(a.Values) != 1 || !v.ReadASN1(&exts, cbasn1.SEQUENCE) {
				return nil, newErr(op, ErrMalformed, "extensionRequest must have one Extensions value", nil)
			}
			// RFC 5280 §4.2: an extension appears at most once; a request asking for one twice is ambiguous.
			var seen []asn1.ObjectIdentifier
			for !exts.Empty() {
				var ext cryptobyte.String
				var id asn1.ObjectIdentifier
				if !exts.ReadASN1(&ext, cbasn1.SEQUENCE) || !ext.ReadASN1ObjectIdentifier(&id) {
					return nil, newErr(op, ErrMalformed, "extensionRequest: malformed Extension", nil)
				}
				if slices.ContainsFunc(seen, id.Equal) {
					return nil, newErr(op, ErrMalformed, "extensionRequest asks for extension "+id.String()+" twice", nil)
				}
				seen = append(seen, id)
			}
		}
		out.attributes = append(out.attributes, a)
	}
	return out, nil
}

// decodeDirectoryString decodes the DirectoryString choices seen in practice (RFC 2985 challengePassword):
// PrintableString, UTF8String, IA5String and BMPString. It refuses the others and invalid contents.
func decodeDirectoryString(der []byte) (string, bool) {
	s := cryptobyte.String(der)
	var body cryptobyte.String
	var tag cbasn1.Tag
	if !s.ReadAnyASN1(&body, &tag) || !s.Empty() || len(body) == 0 {
		return "", false
	}
	switch tag {
	case cbasn1.PrintableString:
		if !isPrintable(string(body)) {
			return "", false
		}
		return string(body), true
	case cbasn1.IA5String:
		for _, c := range body {
			if c >= 0x80 {
				return "", false
			}
		}
		return string(body), true
	case cbasn1.UTF8String:
		if !utf8.Valid(body) {
			return "", false
		}
		return string(body), true
	case cbasn1.Tag(30): // BMPString: UCS-2, big-endian
		if len(body)%2 != 0 {
			return "", false
		}
		u := make([]uint16, 0, len(body)/2)
		for i := 0; i < len(body); i += 2 {
			c := uint16(body[i])<<8 | uint16(body[i+1])
			if utf16.IsSurrogate(rune(c)) {
				return "", false
			}
			u = append(u, c)
		}
		return string(utf16.Decode(u)), true
	}
	return "", false
}
