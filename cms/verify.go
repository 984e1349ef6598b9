package cms

import (
	"bytes"
	"crypto/subtle"
	"crypto/x509"
	"encoding/binary"
	"hash/maphash"
	"io"
	"slices"
	"sync"
	"time"
	"unsafe"

	"github.com/pkikit/pkikit/internal/alg"
	"github.com/pkikit/pkikit/truststore"
	"github.com/pkikit/pkikit/x509ext"
)

// Policy says which signers of a SignedData must verify.
type Policy uint8

const (
	// PolicyAll (the default): every SignerInfo must verify.
	PolicyAll Policy = iota
	// PolicyAny: at least one SignerInfo must verify.
	PolicyAny
	// PolicyPostQuantum: at least one ML-DSA SignerInfo must verify (classical signers may fail).
	PolicyPostQuantum
)

func (p Policy) String() string {
	switch p {
	case PolicyAll:
		return "all"
	case PolicyAny:
		return "any"
	case PolicyPostQuantum:
		return "post-quantum"
	}
	return "unknown"
}

// VerifyOptions configures verification. The zero value (with a Store) is the strict code-signing policy: every
// signer must verify, chain to an anchor of Store at the current time, have the codeSigning extended key usage
// and the digitalSignature key usage, and use a digest RFC 9882 / RFC 8419 allow for its key.
type VerifyOptions struct {
	// Store holds the trust anchors; cms never builds chains itself. Required.
	Store *truststore.Store
	// Time is the verification time (chain validity); zero means time.Now() at each verification.
	Time time.Time
	// Policy says which signers must verify; zero is PolicyAll.
	Policy Policy
	// ExtKeyUsage lists the extended key usages the signer's certificate must have (any of them); nil means
	// codeSigning. []x509.ExtKeyUsage{x509.ExtKeyUsageAny} skips the extended key usage check.
	ExtKeyUsage []x509.ExtKeyUsage
	// Intermediates are extra certificates for path building, besides those embedded in the SignedData.
	Intermediates []*x509ext.Certificate
	// Certificates are extra candidate signer certificates, for SignedData that embed none (RFC 9882 examples).
	Certificates []*x509ext.Certificate
	// RequireAlgorithmProtection fails signers without the CMSAlgorithmProtection attribute (RFC 6211). When the
	// attribute is present it is always checked.
	RequireAlgorithmProtection bool
	// AnyDigestUnsafe accepts any supported digest algorithm with any key, ignoring the RFC 9882 §3 table and
	// RFC 8419 (OpenSSL 3.5 accepts SHA-256 with ML-DSA-65, for instance). Unsafe: the digest then may be
	// weaker than the signature.
	AnyDigestUnsafe bool
	// SkipSigningTimeCheck does not require the signingTime attribute, when present, to lie within the signer
	// certificate's validity.
	SkipSigningTimeCheck bool
	// Parse bounds the work on the SignedData.
	Parse ParseOptions
}

// Result is what Verify found: one SignerResult per SignerInfo, in encoded order.
type Result struct {
	SignedData *SignedData
	Signers    []SignerResult
}

// Verified returns the signers that verified.
func (r *Result) Verified() []SignerResult {
	var out []SignerResult
	for _, s := range r.Signers {
		if s.Err == nil {
			out = append(out, s)
		}
	}
	return out
}

// SignerResult is the outcome for one SignerInfo.
type SignerResult struct {
	// Index of the SignerInfo in the SignedData.
	Index int
	// Certificate is the signer's certificate (nil when not found).
	Certificate *x509ext.Certificate
	// Chain is the certificate chain that verified, leaf first, trust anchor last (nil on failure).
	Chain []*x509ext.Certificate
	// Algorithm and Digest of the SignerInfo.
	Algorithm x509ext.SignatureAlgorithm
	Digest    Digest
	// SigningTime is the signingTime attribute (zero when absent).
	SigningTime time.Time
	// Err is nil when this signer verified, else an *Error whose Reason is the first check that failed.
	Err error
}

// Verifier verifies SignedData against one set of VerifyOptions. It caches the certificates it parses and the
// chains it verified (keyed by the exact certificates, and reused only at verification times within the chain's
// validity), so verifying many signatures by the same signer costs little more than the signature check. The
// cache assumes the Store's anchors are not removed while the Verifier is in use. Safe for concurrent use.
type Verifier struct {
	opts VerifyOptions
	eku  []x509.ExtKeyUsage

	seed   maphash.Seed
	mu     sync.Mutex
	certs  map[string]*x509ext.Certificate
	chains map[uint64]*chainEntry
}

// chainEntry is a verified chain and the exact certificate objects it was built from. The certificates come
// from the Verifier's parse cache (or the caller's options), so the same bytes give the same pointers; holding
// them keeps their addresses from being reused.
type chainEntry struct {
	leaf                *x509ext.Certificate
	inter               []*x509ext.Certificate
	chain               []*x509ext.Certificate
	notBefore, notAfter time.Time
}

func (e *chainEntry) sameInput(leaf *x509ext.Certificate, inter []*x509ext.Certificate) bool {
	if e.leaf != leaf || len(e.inter) != len(inter) {
		return false
	}
	for i, c := range inter {
		if e.inter[i] != c {
			return false
		}
	}
	return true
}

const maxCacheEntries = 256

// NewVerifier checks opts and returns a Verifier.
func NewVerifier(opts VerifyOptions) (*Verifier, error) {
	if opts.Store == nil {
		return nil, newErr("new verifier", -1, ErrUntrusted, "VerifyOptions.Store is required", nil)
	}
	if opts.Policy > PolicyPostQuantum {
		return nil, newErr("new verifier", -1, ErrPolicy, "unknown policy", nil)
	}
	v := &Verifier{opts: opts, eku: opts.ExtKeyUsage, seed: maphash.MakeSeed(),
		certs: map[string]*x509ext.Certificate{}, chains: map[uint64]*chainEntry{}}
	if v.eku == nil {
		v.eku = []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}
	}
	return v, nil
}

// Verify parses sig (DER, BER or PEM) and verifies it; content is the detached content (nil when the
// SignedData is attached). It is NewVerifier followed by (*Verifier).Verify.
func Verify(sig []byte, content io.Reader, opts VerifyOptions) (*Result, error) {
	v, err := NewVerifier(opts)
	if err != nil {
		return nil, err
	}
	return v.Verify(sig, content)
}

// Verify parses sig (DER, BER or PEM) and verifies it with content (nil when attached).
func (v *Verifier) Verify(sig []byte, content io.Reader) (*Result, error) {
	sd, err := Parse(sig, &v.opts.Parse)
	if err != nil {
		return nil, err
	}
	return v.VerifySignedData(sd, content)
}

// VerifySignedData verifies a parsed SignedData. The content is read once, to its end, whatever the number of
// signers. The Result lists every signer's outcome; the error is nil when the policy is satisfied, else a
// *VerifyError listing each failing signer's *Error.
func (v *Verifier) VerifySignedData(sd *SignedData, content io.Reader) (*Result, error) {
	const op = "verify"
	if sd == nil {
		return nil, newErr(op, -1, ErrMalformed, "nil SignedData", nil)
	}
	switch {
	case sd.HasContent && content != nil:
		return nil, newErr(op, -1, ErrContent, "SignedData has attached content and detached content was given", nil)
	case !sd.HasContent && content == nil:
		return nil, newErr(op, -1, ErrContent, "detached SignedData needs the content", nil)
	case sd.HasContent:
		content = bytes.NewReader(sd.Content)
	}
	if len(sd.SignerInfos) == 0 {
		return nil, newErr(op, -1, ErrPolicy, "no SignerInfos", nil)
	}
	now := v.opts.Time
	if now.IsZero() {
		now = time.Now()
	}

	// Digest the content once per digest algorithm in use.
	var digesters [numDigests]*digester
	var writers []io.Writer
	for _, si := range sd.SignerInfos {
		if si.Err == nil && si.Digest.valid() && digesters[si.Digest] == nil {
			digesters[si.Digest] = newDigester(si.Digest)
			writers = append(writers, digesters[si.Digest])
		}
	}
	w := io.Discard
	switch len(writers) {
	case 0:
	case 1:
		w = writers[0]
	default:
		w = io.MultiWriter(writers...)
	}
	bp := copyBufPool.Get().(*[]byte)
	_, err := io.CopyBuffer(w, content, *bp)
	copyBufPool.Put(bp)
	if err != nil {
		return nil, newErr(op, -1, ErrContent, "reading content", err)
	}
	var sums [numDigests][]byte
	for d, g := range digesters {
		if g != nil {
			sums[d] = g.sum()
		}
	}

	// Candidate certificates: embedded ones, then the caller's.
	embedded := make([]*x509ext.Certificate, 0, len(sd.RawCertificates)+len(v.opts.Certificates))
	for _, raw := range sd.RawCertificates {
		c, err := v.parseCert(raw)
		if err != nil {
			continue // an unparsable extra certificate only matters if it was the signer's
		}
		embedded = append(embedded, c)
	}
	candidates := append(embedded, v.opts.Certificates...)

	res := &Result{SignedData: sd, Signers: make([]SignerResult, len(sd.SignerInfos))}
	for i, si := range sd.SignerInfos {
		r := &res.Signers[i]
		r.Index, r.Algorithm, r.Digest, r.SigningTime = i, si.SignatureAlgorithm, si.Digest, si.SigningTime
		r.Err = v.verifySigner(sd, si, i, sums[si.Digest], candidates, now, r)
	}

	ok := false
	var errs []error
	for _, r := range res.Signers {
		if r.Err != nil {
			errs = append(errs, r.Err)
			continue
		}
		switch v.opts.Policy {
		case PolicyAny:
			ok = true
		case PolicyPostQuantum:
			ok = ok || r.Algorithm.IsPostQuantum()
		}
	}
	if v.opts.Policy == PolicyAll {
		ok = len(errs) == 0
	}
	if !ok {
		if len(errs) == 0 {
			errs = append(errs, newErr(op, -1, ErrPolicy, "no post-quantum (ML-DSA) signer", nil))
		}
		return res, &VerifyError{Policy: v.opts.Policy, Errors: errs}
	}
	return res, nil
}

func (v *Verifier) verifySigner(sd *SignedData, si *SignerInfo, i int, sum []byte, candidates []*x509ext.Certificate, now time.Time, r *SignerResult) error {
	const op = "verify"
	fail := func(reason error, detail string, cause error) error { return newErr(op, i, reason, detail, cause) }
	if si.Err != nil {
		return si.Err
	}
	// The signer's certificate.
	var cert *x509ext.Certificate
	for _, c := range candidates {
		if si.matches(c) {
			cert = c
			break
		}
	}
	if cert == nil {
		return fail(ErrSignerNotFound, "no certificate matches the signer identifier", nil)
	}
	r.Certificate = cert
	a := si.SignatureAlgorithm
	// RFC 6211: the protected algorithms must be those of the SignerInfo (checked before the signature, so a
	// swapped algorithm is reported as such).
	if si.AlgorithmProtection {
		if si.ProtectedDigest != si.Digest {
			return fail(ErrAlgorithmProtection, "digestAlgorithm differs from CMSAlgorithmProtection", nil)
		}
		if si.ProtectedSignatureAlg != a {
			return fail(ErrAlgorithmProtection, "signatureAlgorithm differs from CMSAlgorithmProtection", nil)
		}
	} else if v.opts.RequireAlgorithmProtection {
		return fail(ErrAlgorithmProtection, "CMSAlgorithmProtection attribute missing", nil)
	}
	if err := a.CheckKeyType(cert.KeyAlgorithm); err != nil {
		return fail(ErrBadSignature, "signature algorithm does not fit the certificate's key", err)
	}
	if !v.opts.AnyDigestUnsafe && !digestAllowed(a, si.Digest) {
		return fail(ErrDigestNotAllowed, si.Digest.String()+" with "+a.String(), nil)
	}
	if !si.ContentType.Equal(sd.ContentType) {
		return fail(ErrAttributes, "contentType attribute differs from eContentType", nil)
	}
	if err := alg.Verify(cert.PublicKey, a, si.RawSignedAttributes, si.Signature); err != nil {
		return fail(ErrBadSignature, a.String(), err)
	}
	if len(sum) != len(si.MessageDigest) || subtle.ConstantTimeCompare(sum, si.MessageDigest) != 1 {
		return fail(ErrContentDigest, si.Digest.String(), nil)
	}
	// The signer's certificate: purpose, validity, chain.
	if cert.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
		return fail(ErrEKU, "certificate lacks the digitalSignature key usage", nil)
	}
	if !hasEKU(cert, v.eku) {
		return fail(ErrEKU, "certificate lacks the required extended key usage", nil)
	}
	if now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
		return fail(ErrExpired, "signer certificate not valid at the verification time", nil)
	}
	if !si.SigningTime.IsZero() && !v.opts.SkipSigningTimeCheck &&
		(si.SigningTime.Before(cert.NotBefore) || si.SigningTime.After(cert.NotAfter)) {
		return fail(ErrExpired, "signing time outside the signer certificate's validity", nil)
	}
	chain, err := v.chain(cert, candidates, now)
	if err != nil {
		return err.(*Error).withSigner(i)
	}
	r.Chain = chain
	return nil
}

func (e *Error) withSigner(i int) *Error {
	c := *e
	c.Signer = i
	return &c
}

func hasEKU(c *x509ext.Certificate, want []x509.ExtKeyUsage) bool {
	for _, w := range want {
		if w == x509.ExtKeyUsageAny {
			return true
		}
		if slices.Contains(c.ExtKeyUsage, w) {
			return true
		}
	}
	return false
}

func (si *SignerInfo) matches(c *x509ext.Certificate) bool {
	if si.SubjectKeyID != nil {
		return bytes.Equal(si.SubjectKeyID, c.SubjectKeyId)
	}
	return si.SerialNumber != nil && c.SerialNumber != nil && si.SerialNumber.Cmp(c.SerialNumber) == 0 &&
		bytes.Equal(si.RawIssuer, c.RawIssuer)
}

// parseCert parses a certificate through the Verifier's cache.
func (v *Verifier) parseCert(raw []byte) (*x509ext.Certificate, error) {
	v.mu.Lock()
	c, ok := v.certs[string(raw)]
	v.mu.Unlock()
	if ok {
		return c, nil
	}
	c, err := v.opts.Store.ParseCertificate(raw) // the store's cache outlives this Verifier
	if err != nil {
		return nil, err
	}
	v.mu.Lock()
	if len(v.certs) >= maxCacheEntries {
		clear(v.certs)
	}
	v.certs[string(raw)] = c
	v.mu.Unlock()
	return c, nil
}

// chain returns the verified chain of leaf, through the cache when the same leaf and candidate certificates
// (compared byte for byte) verified before and now lies within the chain's validity.
func (v *Verifier) chain(leaf *x509ext.Certificate, candidates []*x509ext.Certificate, now time.Time) ([]*x509ext.Certificate, error) {
	inter := make([]*x509ext.Certificate, 0, len(candidates)+len(v.opts.Intermediates))
	var h maphash.Hash
	h.SetSeed(v.seed)
	var l [8]byte
	binary.LittleEndian.PutUint64(l[:], uint64(uintptr(unsafe.Pointer(leaf))))
	h.Write(l[:])
	for _, c := range candidates {
		if c != leaf {
			inter = append(inter, c)
			binary.LittleEndian.PutUint64(l[:], uint64(uintptr(unsafe.Pointer(c))))
			h.Write(l[:])
		}
	}
	key := h.Sum64()
	v.mu.Lock()
	e, ok := v.chains[key]
	v.mu.Unlock()
	if ok && e.sameInput(leaf, inter) && !now.Before(e.notBefore) && !now.After(e.notAfter) {
		return e.chain, nil
	}
	candidateCount := len(inter)
	inter = append(inter, v.opts.Intermediates...)
	chain, err := verifyChain(v.opts.Store, leaf, inter, now, v.eku)
	if err != nil {
		return nil, err
	}
	e = &chainEntry{leaf: leaf, inter: inter[:candidateCount:candidateCount], chain: chain,
		notBefore: chain[0].NotBefore, notAfter: chain[0].NotAfter}
	for _, c := range chain[1:] {
		if c.NotBefore.After(e.notBefore) {
			e.notBefore = c.NotBefore
		}
		if c.NotAfter.Before(e.notAfter) {
			e.notAfter = c.NotAfter
		}
	}
	v.mu.Lock()
	if len(v.chains) >= maxCacheEntries {
		clear(v.chains)
	}
	v.chains[key] = e
	v.mu.Unlock()
	return chain, nil
}
