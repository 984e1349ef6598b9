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
	"sync"
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
	algProtAttr []byte   // CMSAlgorithmProtection Attribute, complete
	certs       [][]byte // leaf then intermediates, DER
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
	sigContent := s.sigAID[headerLen(s.sigAID):]
	inner := len(s.digestAID) + tlvSize(len(sigContent))
	var v []byte
	v = appendHeader(v, 0x30, inner)
	v = append(v, s.digestAID...)
	v = appendHeader(v, 0xa1, len(sigContent))
	v = append(v, sigContent...)
	s.algProtAttr = appendAttribute(nil, derOIDAlgorithmProtection, v)

	s.certs = append(s.certs, cert.Raw)
	for _, c := range opts.Intermediates {
		if c == nil || c.Certificate == nil {
			return nil, newErr(op, -1, ErrInvalidSigner, "nil intermediate certificate", nil)
		}
		if isSelfSigned(c) {
			continue
		}
		s.certs = append(s.certs, c.Raw)
	}
	return s, nil
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

var copyBufPool = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

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
	var digesters [numDigests]*digester
	var writers []io.Writer
	for _, s := range signers {
		if digesters[s.digest] == nil {
			digesters[s.digest] = newDigester(s.digest)
			writers = append(writers, digesters[s.digest])
		}
	}
	var w io.Writer = writers[0]
	if len(writers) > 1 {
		w = io.MultiWriter(writers...)
	}
	var attached []byte
	if opts.Attached {
		max := opts.MaxAttachedSize
		if max <= 0 {
			max = defaultMaxAttached
		}
		var buf bytes.Buffer
		n, err := io.Copy(io.MultiWriter(w, &buf), io.LimitReader(content, max+1))
		if err != nil {
			return nil, newErr(op, -1, ErrContent, "reading content", err)
		}
		if n > max {
			return nil, newErr(op, -1, ErrTooLarge, "attached content exceeds MaxAttachedSize", nil)
		}
		attached = buf.Bytes()
	} else {
		bp := copyBufPool.Get().(*[]byte)
		_, err := io.CopyBuffer(w, content, *bp)
		copyBufPool.Put(bp)
		if err != nil {
			return nil, newErr(op, -1, ErrContent, "reading content", err)
		}
	}
	var sums [numDigests][]byte
	for d, g := range digesters {
		if g != nil {
			sums[d] = g.sum()
		}
	}

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
	var timeAttr []byte
	if !opts.OmitSigningTime {
		var tb [20]byte
		timeAttr = appendAttribute(nil, derOIDSigningTime, appendTime(tb[:0], signingTime))
	}

	// Each signer: signed attributes, one signature.
	infos := make([]signerInfoParts, len(signers))
	version := 1
	if !isData {
		version = 3
	}
	for i, s := range signers {
		if s.version == 3 {
			version = 3
		}
		sum := sums[s.digest]
		var mdv [2 + 64]byte
		mdAttr := appendAttribute(make([]byte, 0, 96), derOIDMessageDigest, append(append(mdv[:0], 0x04, byte(len(sum))), sum...))
		attrs := signedAttrsSet(ctAttr, timeAttr, mdAttr, s.algProtAttr)
		sig, err := alg.Sign(ctx, s.key, s.algorithm, attrs)
		if err != nil {
			if ctx != nil && ctx.Err() != nil {
				return nil, err
			}
			return nil, newErr(op, i, ErrSign, s.algorithm.String(), err)
		}
		infos[i] = signerInfoParts{s: s, attrs: attrs, sig: sig}
	}

	// Certificates to embed.
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
	default:
		for _, s := range signers {
			for _, c := range s.certs {
				certs = appendUnique(certs, c)
			}
		}
	}

	// Digest algorithms: a DER SET, sorted and without duplicates.
	var dalgs [][]byte
	for _, s := range signers {
		dalgs = appendUnique(dalgs, s.digestAID)
	}
	slices.SortFunc(dalgs, bytes.Compare)

	// Encode: lengths are computed bottom-up, then everything is appended once into one buffer.
	dalgsLen := 0
	for _, d := range dalgs {
		dalgsLen += len(d)
	}
	encapLen := len(ctOID)
	if opts.Attached {
		encapLen += tlvSize(tlvSize(len(attached)))
	}
	certsLen := 0
	for _, c := range certs {
		certsLen += len(c)
	}
	infos = sortedInfos(infos)
	infosLen := 0
	for i := range infos {
		infosLen += tlvSize(infos[i].contentLen())
	}
	sdLen := 3 + tlvSize(dalgsLen) + tlvSize(encapLen) + tlvSize(infosLen)
	if len(certs) > 0 {
		sdLen += tlvSize(certsLen)
	}
	ciLen := len(derOIDSignedData) + tlvSize(tlvSize(sdLen))
	out := make([]byte, 0, tlvSize(ciLen))
	out = appendHeader(out, 0x30, ciLen) // ContentInfo
	out = append(out, derOIDSignedData...)
	out = appendHeader(out, 0xa0, tlvSize(sdLen))
	out = appendHeader(out, 0x30, sdLen) // SignedData
	out = append(out, 0x02, 0x01, byte(version))
	out = appendHeader(out, 0x31, dalgsLen)
	for _, d := range dalgs {
		out = append(out, d...)
	}
	out = appendHeader(out, 0x30, encapLen) // EncapsulatedContentInfo
	out = append(out, ctOID...)
	if opts.Attached {
		out = appendHeader(out, 0xa0, tlvSize(len(attached)))
		out = appendHeader(out, 0x04, len(attached))
		out = append(out, attached...)
	}
	if len(certs) > 0 {
		out = appendHeader(out, 0xa0, certsLen)
		for _, c := range certs {
			out = append(out, c...)
		}
	}
	out = appendHeader(out, 0x31, infosLen)
	for i := range infos {
		out = infos[i].appendTo(out)
	}
	return out, nil
}

type signerInfoParts struct {
	s     *Signer
	attrs []byte // DER SET OF Attribute (tag 0x31), as signed
	sig   []byte
}

// contentLen is the length of the SignerInfo's content octets.
func (p *signerInfoParts) contentLen() int {
	attrsContent := len(p.attrs) - headerLen(p.attrs)
	return 3 + len(p.s.sid) + len(p.s.digestAID) + tlvSize(attrsContent) + len(p.s.sigAID) + tlvSize(len(p.sig))
}

// appendTo appends the DER SignerInfo.
func (p *signerInfoParts) appendTo(b []byte) []byte {
	b = appendHeader(b, 0x30, p.contentLen())
	b = append(b, 0x02, 0x01, byte(p.s.version))
	b = append(b, p.s.sid...)
	b = append(b, p.s.digestAID...)
	// signedAttrs [0] IMPLICIT: the same content as the signed SET OF.
	b = append(b, 0xa0)
	b = append(b, p.attrs[1:]...)
	b = append(b, p.s.sigAID...)
	b = appendHeader(b, 0x04, len(p.sig))
	return append(b, p.sig...)
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

// signedAttrsSet returns the DER SET OF the given attributes (nil ones skipped), sorted as DER requires.
func signedAttrsSet(attrs ...[]byte) []byte {
	var list [4][]byte
	n, total := 0, 0
	for _, a := range attrs {
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

// PEM label of CMS structures, as `openssl cms -outform PEM` writes it.
const pemType = "CMS"

// MarshalPEM wraps a DER SignedData in a "-----BEGIN CMS-----" PEM block, as OpenSSL writes it.
func MarshalPEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: pemType, Bytes: der})
}
