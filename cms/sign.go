package cms

import (
	"bytes"
	"context"
	"crypto"
	"encoding/asn1"
	"encoding/pem"
	"io"
	"math/big"
	"slices"
	"time"

	"github.com/pkikit/pkikit/internal/alg"
	"github.com/pkikit/pkikit/x509ext"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// SignerOptions configures one signer. The zero value signs with the key's default algorithm and digest and
// identifies the signer by issuer and serial number.
type SignerOptions struct {
	// Algorithm is the signature algorithm. Zero: the key type's default (ML-DSA-xx for ML-DSA keys, ECDSA with
	// the curve's hash, SHA-256 with RSA PKCS#1 v1.5, Ed25519). RSASSA-PSS must be asked for.
	Algorithm x509ext.SignatureAlgorithm
	// Digest is the digest algorithm of the content and signedAttrs (the SignerInfo's digestAlgorithm). Zero:
	// SHA-512 for ML-DSA (RFC 9882) and Ed25519 (RFC 8419), the signature's hash for ECDSA and RSA. ML-DSA and
	// Ed25519 accept only the digests RFC 9882 §3 and RFC 8419 allow (ErrDigestNotAllowed otherwise).
	Digest Digest
	// SubjectKeyIdentifier identifies the signer by the certificate's subjectKeyIdentifier (SignerInfo version
	// 3) instead of issuerAndSerialNumber (version 1).
	SubjectKeyIdentifier bool
	// Intermediates are the CA certificates between the signer's certificate and the trust anchor, embedded
	// after it (self-signed certificates among them, i.e. roots, are left out).
	Intermediates []*x509ext.Certificate
}

// Signer is one signer of a SignedData: a key (any crypto.Signer, remote signers included), its certificate and
// the choices of SignerOptions, checked and pre-encoded once by NewSigner. A Signer is immutable and may be used
// by concurrent Sign calls.
type Signer struct {
	key         crypto.Signer
	cert        *x509ext.Certificate
	algorithm   alg.Algorithm
	digest      Digest
	version     int
	sid         []byte   // SignerIdentifier element
	digestAID   []byte   // DigestAlgorithmIdentifier
	sigAID      []byte   // SignatureAlgorithmIdentifier
	certs       [][]byte // leaf then intermediates, DER
	algProtAttr []byte   // CMSAlgorithmProtection Attribute, complete (nil: left out)

	// Derived by prepare, once: the DER that does not depend on the content or the signing time.
	siHead     []byte // SignerInfo content up to signedAttrs: version, sid, digestAlgorithm
	mdAttrHead []byte // messageDigest Attribute up to the digest's octets
	certsField []byte // certificates [0] IMPLICIT CertificateSet, complete (the signer's certificates)
}

// NewSigner checks that key and cert belong together and that the algorithm and digest suit the key, and
// prepares everything that does not depend on the content. opts may be nil.
func NewSigner(key crypto.Signer, cert *x509ext.Certificate, opts *SignerOptions) (*Signer, error) {
	const op = "new signer"
	if opts == nil {
		opts = &SignerOptions{}
	}
	if key == nil || cert == nil || cert.Certificate == nil {
		return nil, newErr(op, -1, ErrInvalidSigner, "nil key or certificate", nil)
	}
	pub := key.Public()
	spki, err := alg.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, newErr(op, -1, ErrInvalidSigner, "signer public key", err)
	}
	if !bytes.Equal(spki, cert.RawSubjectPublicKeyInfo) {
		return nil, newErr(op, -1, ErrInvalidSigner, "key does not match the certificate's public key", nil)
	}
	a := opts.Algorithm
	if a == alg.Unknown {
		a = cert.KeyAlgorithm.DefaultAlgorithm()
	}
	if err := a.CheckKeyType(cert.KeyAlgorithm); err != nil {
		return nil, newErr(op, -1, ErrInvalidSigner, "algorithm does not fit the key", err)
	}
	d := opts.Digest
	if d == DigestDefault {
		d = defaultDigest(a)
	}
	if !d.valid() {
		return nil, newErr(op, -1, ErrUnsupported, "digest algorithm", nil)
	}
	if !digestAllowed(a, d) {
		return nil, newErr(op, -1, ErrDigestNotAllowed, d.String()+" with "+a.String(), nil)
	}
	s := &Signer{key: key, cert: cert, algorithm: a, digest: d,
		digestAID: digestInfo[d].aid, sigAID: a.MarshalAlgorithmIdentifier()}
	if opts.SubjectKeyIdentifier {
		if len(cert.SubjectKeyId) == 0 {
			return nil, newErr(op, -1, ErrInvalidSigner, "certificate has no subjectKeyIdentifier", nil)
		}
		s.version = 3
		s.sid = appendHeader(nil, 0x80, len(cert.SubjectKeyId))
		s.sid = append(s.sid, cert.SubjectKeyId...)
	} else {
		s.version = 1
		s.sid = marshalIssuerAndSerial(cert.RawIssuer, cert.SerialNumber)
	}
	// CMSAlgorithmProtection ::= SEQUENCE { digestAlgorithm, signatureAlgorithm [1] IMPLICIT ... }
	s.algProtAttr = marshalAlgorithmProtection(s.digestAID, s.sigAID)

	s.certs = append(s.certs, cert.Raw)
	for _, c := range opts.Intermediates {
		if c == nil || c.Certificate == nil {
			return nil, newErr(op, -1, ErrInvalidSigner, "nil intermediate certificate", nil)
		}
		if isSelfSigned(c) {
			continue
		}
		s.certs = appendUnique(s.certs, c.Raw)
	}
	s.prepare()
	return s, nil
}

// marshalAlgorithmProtection returns the CMSAlgorithmProtection Attribute (RFC 6211) naming the digest and
// signature AlgorithmIdentifiers (both complete DER).
func marshalAlgorithmProtection(digestAID, sigAID []byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(derOIDAlgorithmProtection)
		b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddBytes(digestAID)
				// signatureAlgorithm [1] IMPLICIT SignatureAlgorithmIdentifier
				b.AddASN1(cbasn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
					b.AddBytes(sigAID[headerLen(sigAID):])
				})
			})
		})
	})
	return b.BytesOrPanic()
}

// prepare encodes, once per Signer, the parts of its SignerInfo and SignedData that are the same in every
// signature: everything but the signed attributes' time and digest, and the signature.
func (s *Signer) prepare() {
	var b cryptobyte.Builder
	b.AddASN1Int64(int64(s.version))
	b.AddBytes(s.sid)
	b.AddBytes(s.digestAID)
	s.siHead = b.BytesOrPanic()

	// messageDigest Attribute: SEQUENCE { OID, SET { OCTET STRING digest } }, cut before the digest octets.
	size := s.digest.Size()
	b = cryptobyte.Builder{}
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(derOIDMessageDigest)
		b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
			b.AddASN1OctetString(make([]byte, size))
		})
	})
	md := b.BytesOrPanic()
	s.mdAttrHead = md[:len(md)-size]

	certsLen := 0
	for _, c := range s.certs {
		certsLen += len(c)
	}
	s.certsField = make([]byte, 0, tlvSize(certsLen))
	s.certsField = appendHeader(s.certsField, 0xa0, certsLen)
	for _, c := range s.certs {
		s.certsField = append(s.certsField, c...)
	}
}

// Certificate returns the signer's certificate.
func (s *Signer) Certificate() *x509ext.Certificate { return s.cert }

// Algorithm returns the signature algorithm the signer uses.
func (s *Signer) Algorithm() x509ext.SignatureAlgorithm { return s.algorithm }

// Digest returns the digest algorithm the signer uses.
func (s *Signer) Digest() Digest { return s.digest }

func isSelfSigned(c *x509ext.Certificate) bool {
	return bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignatureFromKey(c.PublicKey) == nil
}

func marshalIssuerAndSerial(rawIssuer []byte, serial *big.Int) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(rawIssuer)
		b.AddASN1BigInt(serial)
	})
	return b.BytesOrPanic()
}

// SignOptions configures Sign. The zero value makes a detached SignedData of id-data content, with signingTime
// set to the current time and each signer's certificate and intermediates embedded.
type SignOptions struct {
	// Attached puts the content inside the SignedData (encapContentInfo eContent). The content is then held in
	// memory, up to MaxAttachedSize. Detached (the default) streams the content in constant memory.
	Attached bool
	// MaxAttachedSize bounds attached content; zero means 64 MiB.
	MaxAttachedSize int64
	// ContentType is the eContentType; nil means id-data.
	ContentType asn1.ObjectIdentifier
	// Time is the signingTime attribute's value; zero means time.Now().
	Time time.Time
	// OmitSigningTime leaves the signingTime attribute out.
	OmitSigningTime bool
	// Certificates, when non-nil, are exactly the certificates embedded (replacing each signer's certificate
	// and intermediates). OmitCertificates embeds none; the verifier must then be given them.
	Certificates     []*x509ext.Certificate
	OmitCertificates bool
}

const defaultMaxAttached = 64 << 20

// Sign reads content to its end, digesting it once per distinct digest algorithm, and returns the DER
// ContentInfo of a SignedData with one SignerInfo per signer (in order). Each signer signs the DER SET OF its
// signed attributes — contentType, signingTime, messageDigest and CMSAlgorithmProtection (RFC 6211) — with
// exactly one call to its key; ctx reaches context-aware (remote) signers. opts may be nil.
func Sign(ctx context.Context, content io.Reader, signers []*Signer, opts *SignOptions) ([]byte, error) {
	const op = "sign"
	if opts == nil {
		opts = &SignOptions{}
	}
	if len(signers) == 0 {
		return nil, newErr(op, -1, ErrInvalidSigner, "no signers", nil)
	}
	for i, s := range signers {
		if s == nil || s.key == nil {
			return nil, newErr(op, i, ErrInvalidSigner, "nil signer (use NewSigner)", nil)
		}
	}
	if content == nil {
		return nil, newErr(op, -1, ErrContent, "nil content reader", nil)
	}
	ctOID := derOIDData
	isData := true
	if opts.ContentType != nil && !opts.ContentType.Equal(OIDData) {
		var err error
		if ctOID, err = asn1.Marshal(opts.ContentType); err != nil {
			return nil, newErr(op, -1, ErrUnsupported, "content type", err)
		}
		isData = false
	}

	// Digest the content, once per distinct digest algorithm.
	var ds digestSet
	for _, s := range signers {
		ds.add(s.digest)
	}
	var attached []byte
	if opts.Attached {
		max := opts.MaxAttachedSize
		if max <= 0 {
			max = defaultMaxAttached
		}
		var buf bytes.Buffer
		n, err := io.Copy(io.MultiWriter(ds.writer(), &buf), io.LimitReader(content, max+1))
		if err != nil {
			return nil, newErr(op, -1, ErrContent, "reading content", err)
		}
		if n > max {
			return nil, newErr(op, -1, ErrTooLarge, "attached content exceeds MaxAttachedSize", nil)
		}
		attached = buf.Bytes()
	} else if err := copyContent(ds.writer(), content); err != nil {
		return nil, newErr(op, -1, ErrContent, "reading content", err)
	}
	var sums [numDigests][64]byte
	ds.sumAll(&sums)

	signingTime := opts.Time
	if signingTime.IsZero() && !opts.OmitSigningTime {
		signingTime = time.Now()
	}
	var ctAttr []byte
	if isData {
		ctAttr = dataContentTypeAttr
	} else {
		ctAttr = appendAttribute(nil, derOIDContentType, ctOID)
	}
	var timeBuf [40]byte
	var timeAttr []byte
	if !opts.OmitSigningTime {
		var tb [20]byte
		timeAttr = appendAttribute(timeBuf[:0], derOIDSigningTime, appendTime(tb[:0], signingTime))
	}

	// Each signer: signed attributes, one signature.
	var infoBuf [2]signerInfoParts
	infos := infoBuf[:0]
	if len(signers) > len(infoBuf) {
		infos = make([]signerInfoParts, 0, len(signers))
	}
	version := 1
	if !isData {
		version = 3
	}
	for i, s := range signers {
		if s.version == 3 {
			version = 3
		}
		attrs := s.signedAttrs(ctAttr, timeAttr, sums[s.digest][:s.digest.Size()])
		sig, err := alg.Sign(ctx, s.key, s.algorithm, attrs)
		if err != nil {
			if ctx != nil && ctx.Err() != nil {
				return nil, err
			}
			return nil, newErr(op, i, ErrSign, s.algorithm.String(), err)
		}
		infos = append(infos, signerInfoParts{s: s, attrs: attrs, sig: sig})
	}

	// Certificates to embed: the precomputed field of a lone signer, else the distinct certificates.
	var certsField []byte // complete [0] field, when precomputed
	var certs [][]byte
	switch {
	case opts.OmitCertificates:
	case opts.Certificates != nil:
		for _, c := range opts.Certificates {
			if c == nil || c.Certificate == nil {
				return nil, newErr(op, -1, ErrInvalidSigner, "nil certificate in SignOptions.Certificates", nil)
			}
			certs = appendUnique(certs, c.Raw)
		}
	case len(signers) == 1:
		certsField = signers[0].certsField
	default:
		for _, s := range signers {
			for _, c := range s.certs {
				certs = appendUnique(certs, c)
			}
		}
	}
	certsLen := 0
	for _, c := range certs {
		certsLen += len(c)
	}
	if certsField == nil && len(certs) > 0 {
		certsField = make([]byte, 0, tlvSize(certsLen))
		certsField = appendHeader(certsField, 0xa0, certsLen)
		for _, c := range certs {
			certsField = append(certsField, c...)
		}
	}

	// Digest algorithms: a DER SET, sorted and without duplicates.
	var dalgBuf [2][]byte
	dalgs := dalgBuf[:0]
	for _, s := range signers {
		dalgs = appendUnique(dalgs, s.digestAID)
	}
	if len(dalgs) > 1 {
		slices.SortFunc(dalgs, bytes.Compare)
	}

	// Encode: lengths are computed bottom-up, then everything is appended once into one buffer of the exact
	// size (an append-style writer: cryptobyte's AddASN1 reserves one length octet and moves the content of
	// every element longer than 127 bytes, the certificates and signature included, once per nesting level).
	dalgsLen := 0
	for _, d := range dalgs {
		dalgsLen += len(d)
	}
	encapLen := len(ctOID)
	if opts.Attached {
		encapLen += tlvSize(tlvSize(len(attached)))
	}
	if len(infos) > 1 {
		infos = sortedInfos(infos)
	}
	infosLen := 0
	for i := range infos {
		infosLen += tlvSize(infos[i].contentLen())
	}
	sdLen := 3 + tlvSize(dalgsLen) + tlvSize(encapLen) + len(certsField) + tlvSize(infosLen)
	ciLen := len(derOIDSignedData) + tlvSize(tlvSize(sdLen))
	if len(infos) > 2 {
		out := make([]byte, 0, tlvSize(ciLen))
		out = appendHead(out, ciLen, sdLen, version, dalgs, dalgsLen, encapLen, ctOID, opts.Attached, len(attached))
		out = append(out, attached...)
		out = append(out, certsField...)
		out = appendHeader(out, 0x31, infosLen)
		for i := range infos {
			out = infos[i].appendTo(out)
		}
		return out, nil
	}
	// One or two signers: the headers are written into stack buffers and the output is assembled by one
	// bytes.Join — one allocation of the exact size that, unlike make, is not zeroed before the certificates
	// and the signatures are copied in.
	var headBuf [192]byte
	var midBuf [2][512]byte
	var parts [7][]byte
	parts[0] = appendHead(headBuf[:0], ciLen, sdLen, version, dalgs, dalgsLen, encapLen, ctOID, opts.Attached, len(attached))
	parts[1], parts[2] = attached, certsField
	mid := appendHeader(midBuf[0][:0], 0x31, infosLen)
	for i := range infos {
		if i > 0 {
			mid = midBuf[i][:0]
		}
		parts[3+2*i], parts[4+2*i] = infos[i].appendPrefix(mid), infos[i].sig
	}
	return bytes.Join(parts[:3+2*len(infos)], nil), nil
}

// appendHead appends the SignedData's ContentInfo up to the content octets of an attached content.
func appendHead(b []byte, ciLen, sdLen, version int, dalgs [][]byte, dalgsLen, encapLen int, ctOID []byte, attached bool, contentLen int) []byte {
	b = appendHeader(b, 0x30, ciLen) // ContentInfo
	b = append(b, derOIDSignedData...)
	b = appendHeader(b, 0xa0, tlvSize(sdLen))
	b = appendHeader(b, 0x30, sdLen) // SignedData
	b = append(b, 0x02, 0x01, byte(version))
	b = appendHeader(b, 0x31, dalgsLen)
	for _, d := range dalgs {
		b = append(b, d...)
	}
	b = appendHeader(b, 0x30, encapLen) // EncapsulatedContentInfo
	b = append(b, ctOID...)
	if attached {
		b = appendHeader(b, 0xa0, tlvSize(contentLen))
		b = appendHeader(b, 0x04, contentLen)
	}
	return b
}

// signedAttrs returns the DER SET OF the signer's signed attributes (the message it signs): contentType,
// signingTime (when timeAttr is not nil), messageDigest and CMSAlgorithmProtection (when the signer has it),
// sorted as DER requires, in one allocation of the exact size.
func (s *Signer) signedAttrs(ctAttr, timeAttr, sum []byte) []byte {
	var mdBuf [96]byte
	mdAttr := append(append(mdBuf[:0], s.mdAttrHead...), sum...)
	var list [4][]byte
	n, total := 0, 0
	for _, a := range [4][]byte{ctAttr, timeAttr, mdAttr, s.algProtAttr} {
		if a != nil {
			list[n] = a
			n++
			total += len(a)
		}
	}
	l := list[:n]
	// Insertion sort: at most four elements, no allocation.
	for i := 1; i < len(l); i++ {
		for j := i; j > 0 && bytes.Compare(l[j-1], l[j]) > 0; j-- {
			l[j-1], l[j] = l[j], l[j-1]
		}
	}
	out := make([]byte, 0, tlvSize(total))
	out = appendHeader(out, 0x31, total)
	for _, a := range l {
		out = append(out, a...)
	}
	return out
}

type signerInfoParts struct {
	s     *Signer
	attrs []byte // DER SET OF Attribute (tag 0x31), as signed
	sig   []byte
}

// contentLen is the length of the SignerInfo's content octets.
func (p *signerInfoParts) contentLen() int {
	attrsContent := len(p.attrs) - headerLen(p.attrs)
	return len(p.s.siHead) + tlvSize(attrsContent) + len(p.s.sigAID) + tlvSize(len(p.sig))
}

// appendTo appends the DER SignerInfo.
func (p *signerInfoParts) appendTo(b []byte) []byte {
	return append(p.appendPrefix(b), p.sig...)
}

// appendPrefix appends the DER SignerInfo up to the signature's octets.
func (p *signerInfoParts) appendPrefix(b []byte) []byte {
	b = appendHeader(b, 0x30, p.contentLen())
	b = append(b, p.s.siHead...)
	// signedAttrs [0] IMPLICIT: the same content as the signed SET OF.
	b = append(b, 0xa0)
	b = append(b, p.attrs[1:]...)
	b = append(b, p.s.sigAID...)
	return appendHeader(b, 0x04, len(p.sig))
}

// sortedInfos returns the SignerInfos in the order of a DER SET OF (by their encodings).
func sortedInfos(infos []signerInfoParts) []signerInfoParts {
	if len(infos) < 2 {
		return infos
	}
	type enc struct {
		der []byte
		p   signerInfoParts
	}
	encs := make([]enc, len(infos))
	for i := range infos {
		encs[i] = enc{infos[i].appendTo(nil), infos[i]}
	}
	slices.SortStableFunc(encs, func(x, y enc) int { return bytes.Compare(x.der, y.der) })
	out := make([]signerInfoParts, len(infos))
	for i := range encs {
		out[i] = encs[i].p
	}
	return out
}

func appendUnique(list [][]byte, item []byte) [][]byte {
	for _, x := range list {
		if bytes.Equal(x, item) {
			return list
		}
	}
	return append(list, item)
}

var dataContentTypeAttr = appendAttribute(nil, derOIDContentType, derOIDData)

// PEM label of CMS structures, as `openssl cms -outform PEM` writes it.
const pemType = "CMS"

// MarshalPEM wraps a DER SignedData in a "-----BEGIN CMS-----" PEM block, as OpenSSL writes it.
func MarshalPEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: pemType, Bytes: der})
}
