package cms

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha3"
	"crypto/sha512"
	"encoding/asn1"
	"hash"
	"io"
	"strings"
	"sync"

	"github.com/pkikit/pkikit/internal/alg"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Digest is the message-digest algorithm of a SignerInfo (its digestAlgorithm): the hash of the content that the
// messageDigest attribute carries. The zero value means "the default for the signature algorithm".
type Digest uint8

// The digest algorithms cms computes. SHAKE128 and SHAKE256 have the fixed output lengths CMS gives them
// (RFC 8702: 256 and 512 bits); their AlgorithmIdentifiers have no parameters.
const (
	DigestDefault Digest = iota
	SHA256
	SHA384
	SHA512
	SHA3_256
	SHA3_384
	SHA3_512
	SHAKE128
	SHAKE256
	numDigests
)

var digestInfo = [numDigests]struct {
	name string
	oid  asn1.ObjectIdentifier
	size int
	aid  []byte
}{
	SHA256:   {name: "SHA-256", oid: alg.OIDSHA256, size: 32},
	SHA384:   {name: "SHA-384", oid: alg.OIDSHA384, size: 48},
	SHA512:   {name: "SHA-512", oid: alg.OIDSHA512, size: 64},
	SHA3_256: {name: "SHA3-256", oid: alg.OIDSHA3_256, size: 32},
	SHA3_384: {name: "SHA3-384", oid: alg.OIDSHA3_384, size: 48},
	SHA3_512: {name: "SHA3-512", oid: alg.OIDSHA3_512, size: 64},
	SHAKE128: {name: "SHAKE128", oid: alg.OIDSHAKE128, size: 32},
	SHAKE256: {name: "SHAKE256", oid: alg.OIDSHAKE256, size: 64},
}

func init() {
	for d := Digest(1); d < numDigests; d++ {
		var b cryptobyte.Builder
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(digestInfo[d].oid) })
		digestInfo[d].aid = b.BytesOrPanic()
	}
}

func (d Digest) valid() bool { return d > DigestDefault && d < numDigests }

// String returns the digest's name ("SHA-512", "SHAKE256", ...).
func (d Digest) String() string {
	if d == DigestDefault {
		return "default"
	}
	if !d.valid() {
		return "unknown digest"
	}
	return digestInfo[d].name
}

// Size returns the length in bytes of the digest's output in CMS.
func (d Digest) Size() int {
	if !d.valid() {
		return 0
	}
	return digestInfo[d].size
}

// OID returns the digest algorithm's object identifier.
func (d Digest) OID() asn1.ObjectIdentifier {
	if !d.valid() {
		return nil
	}
	return digestInfo[d].oid
}

// defaultDigest is the digest a signer uses unless told otherwise: SHA-512 for ML-DSA (RFC 9882 §3, MUST be
// supported) and Ed25519 (RFC 8419 §3: SHA-512 MUST be used), the signature's own hash for ECDSA and RSA.
func defaultDigest(a alg.Algorithm) Digest {
	switch a.Family() {
	case alg.FamilyMLDSA, alg.FamilyEd25519:
		return SHA512
	}
	switch a.Hash().Size() {
	case 32:
		return SHA256
	case 48:
		return SHA384
	}
	return SHA512
}

// digestAllowed reports whether d may be used with signature algorithm a: the RFC 9882 §3 table for ML-DSA (the
// digest must offer at least the parameter set's collision strength), SHA-512 only for Ed25519 (RFC 8419 §3),
// and SHA-2 or SHA-3 of at least 256 bits for ECDSA and RSA.
func digestAllowed(a alg.Algorithm, d Digest) bool {
	switch a {
	case alg.MLDSA44:
		return d.valid()
	case alg.MLDSA65:
		switch d {
		case SHA384, SHA512, SHA3_384, SHA3_512, SHAKE256:
			return true
		}
		return false
	case alg.MLDSA87:
		return d == SHA512 || d == SHA3_512 || d == SHAKE256
	case alg.PureEd25519:
		return d == SHA512
	}
	switch d {
	case SHA256, SHA384, SHA512, SHA3_256, SHA3_384, SHA3_512:
		return true
	}
	return false
}

// parseDigestAlgorithm reads a DigestAlgorithmIdentifier: parameters absent, or NULL for the SHA-2 family
// (RFC 5754 §2 lets receivers accept both).
func parseDigestAlgorithm(aid cryptobyte.String) (Digest, bool) {
	for d := Digest(1); d < numDigests; d++ {
		if bytes.Equal(aid, digestInfo[d].aid) {
			return d, true
		}
	}
	var seq cryptobyte.String
	var oid asn1.ObjectIdentifier
	if !aid.ReadASN1(&seq, cbasn1.SEQUENCE) || !aid.Empty() || !seq.ReadASN1ObjectIdentifier(&oid) {
		return 0, false
	}
	for d := Digest(1); d < numDigests; d++ {
		if !digestInfo[d].oid.Equal(oid) {
			continue
		}
		if seq.Empty() || (d <= SHA512 && string(seq) == "\x05\x00") {
			return d, true
		}
		return 0, false
	}
	return 0, false
}

// digester computes one digest over streamed content. Digesters are pooled per algorithm: Sign and Verify
// allocate no hash state.
type digester struct {
	d     Digest
	h     hash.Hash
	shake *sha3.SHAKE
	out   [64]byte
}

var digesterPools [numDigests]sync.Pool

func newDigester(d Digest) *digester {
	switch d {
	case SHA256:
		return &digester{d: d, h: sha256.New()}
	case SHA384:
		return &digester{d: d, h: sha512.New384()}
	case SHA512:
		return &digester{d: d, h: sha512.New()}
	case SHA3_256:
		return &digester{d: d, h: sha3.New256()}
	case SHA3_384:
		return &digester{d: d, h: sha3.New384()}
	case SHA3_512:
		return &digester{d: d, h: sha3.New512()}
	case SHAKE128:
		return &digester{d: d, shake: sha3.NewSHAKE128()}
	case SHAKE256:
		return &digester{d: d, shake: sha3.NewSHAKE256()}
	}
	return nil
}

// getDigester returns a fresh digester for d (a valid digest) from the pool.
func getDigester(d Digest) *digester {
	if g, ok := digesterPools[d].Get().(*digester); ok {
		return g
	}
	return newDigester(d)
}

// release resets g and returns it to the pool.
func (g *digester) release() {
	if g.h != nil {
		g.h.Reset()
	} else {
		g.shake.Reset()
	}
	digesterPools[g.d].Put(g)
}

func (g *digester) Write(p []byte) (int, error) {
	if g.h != nil {
		return g.h.Write(p)
	}
	return g.shake.Write(p)
}

// sum finishes the digest into g.out and returns it (valid until g is released).
func (g *digester) sum() []byte {
	if g.h != nil {
		return g.h.Sum(g.out[:0])
	}
	out := g.out[:g.d.Size()]
	g.shake.Read(out)
	return out
}

// digestSet digests one content with each distinct digest algorithm added.
type digestSet struct {
	g [numDigests]*digester
	n int
	w [numDigests]io.Writer
}

// add adds d (ignored when invalid or already there).
func (s *digestSet) add(d Digest) {
	if d.valid() && s.g[d] == nil {
		s.g[d] = getDigester(d)
		s.w[s.n] = s.g[d]
		s.n++
	}
}

// writer returns the writer that feeds every digest of the set (io.Discard when the set is empty).
func (s *digestSet) writer() io.Writer {
	switch s.n {
	case 0:
		return io.Discard
	case 1:
		return s.w[0]
	}
	return io.MultiWriter(s.w[:s.n]...)
}

// sumAll stores each digest of the set in sums (indexed by Digest) and releases the digesters.
func (s *digestSet) sumAll(sums *[numDigests][64]byte) {
	for d, g := range s.g {
		if g != nil {
			copy(sums[d][:], g.sum())
			g.release()
			s.g[d] = nil
		}
	}
}

var copyBufPool = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// copyContent writes all of r to w. In-memory readers write themselves in one call; any other reader (files,
// pipes, network) is read in 256 KiB chunks from a pooled buffer — not through its WriteTo, which for an
// *os.File copies in 32 KiB chunks.
func copyContent(w io.Writer, r io.Reader) error {
	switch r := r.(type) {
	case *bytes.Reader:
		_, err := r.WriteTo(w)
		return err
	case *bytes.Buffer:
		_, err := r.WriteTo(w)
		return err
	case *strings.Reader:
		_, err := r.WriteTo(w)
		return err
	}
	bp := copyBufPool.Get().(*[]byte)
	defer copyBufPool.Put(bp)
	buf := *bp
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
