package cms

import (
	"bytes"
	"crypto/subtle"
	"crypto/x509"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/pkikit/pkikit/internal/alg"
	"github.com/pkikit/pkikit/truststore"
	"github.com/pkikit/pkikit/x509ext"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
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

// Verifier verifies SignedData against one set of VerifyOptions. It caches the certificates it parses (keyed by
// their exact bytes) and the chain it verified for each signer certificate (reused only at verification times
// within the validity of every certificate of the chain), so verifying many signatures by the same signer costs
// little more than parsing the SignedData, digesting the content and checking the signature. The cache assumes
// the Store's anchors are not removed while the Verifier is in use. Safe for concurrent use.
type Verifier struct {
	opts VerifyOptions
	eku  []x509.ExtKeyUsage

	mu     sync.Mutex
	recent [4]*x509ext.Certificate // signer certificates found last, checked before the parse cache
	next   int
	certs  map[string]*x509ext.Certificate
	chains map[*x509ext.Certificate]*chainEntry
}

// chainEntry is a verified chain and the window of verification times within which it stays valid. Entries are
// keyed by the leaf certificate object, which comes from the Verifier's parse cache (or the caller's options):
// the same bytes give the same pointer, and the key keeps the object, so its address is not reused.
type chainEntry struct {
	chain               []*x509ext.Certificate
	notBefore, notAfter time.Time
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
	v := &Verifier{opts: opts, eku: opts.ExtKeyUsage,
		certs: map[string]*x509ext.Certificate{}, chains: map[*x509ext.Certificate]*chainEntry{}}
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
	var ds digestSet
	for _, si := range sd.SignerInfos {
		if si.Err == nil {
			ds.add(si.Digest)
		}
	}
	if err := copyContent(ds.writer(), content); err != nil {
		return nil, newErr(op, -1, ErrContent, "reading content", err)
	}
	var sums [numDigests][64]byte
	ds.sumAll(&sums)

	res := newResult(sd)
	var cands *candidates // parsed only when a signer's certificate or chain is not in the caches
	for i, si := range sd.SignerInfos {
		r := &res.Signers[i]
		r.Index, r.Algorithm, r.Digest, r.SigningTime = i, si.SignatureAlgorithm, si.Digest, si.SigningTime
		r.Err = v.verifySigner(sd, si, i, sums[si.Digest][:si.Digest.Size()], &cands, now, r)
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

func (v *Verifier) verifySigner(sd *SignedData, si *SignerInfo, i int, sum []byte, cands **candidates, now time.Time, r *SignerResult) error {
	const op = "verify"
	fail := func(reason error, detail string, cause error) error { return newErr(op, i, reason, detail, cause) }
	if si.Err != nil {
		return si.Err
	}
	// The signer's certificate.
	cert := v.findSigner(sd, si, cands)
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
	chain, err := v.chain(sd, cert, cands, now)
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

// candidates are the certificates a SignedData offers for finding a signer and building its chain: the embedded
// ones that parse, then VerifyOptions.Certificates.
type candidates struct {
	all      []*x509ext.Certificate
	embedded int // all[:embedded] are the embedded ones
}

// candidates parses (through the cache) the SignedData's certificates, once per verification.
func (v *Verifier) candidates(sd *SignedData, cands **candidates) *candidates {
	if *cands != nil {
		return *cands
	}
	c := &candidates{all: make([]*x509ext.Certificate, 0, len(sd.RawCertificates)+len(v.opts.Certificates))}
	for _, raw := range sd.RawCertificates {
		cert, err := v.parseCert(raw)
		if err != nil {
			continue // an unparsable extra certificate only matters if it was the signer's
		}
		c.all = append(c.all, cert)
	}
	c.embedded = len(c.all)
	c.all = append(c.all, v.opts.Certificates...)
	*cands = c
	return c
}

// findSigner returns the certificate that si identifies. For an issuerAndSerialNumber it first looks, without
// parsing, for the one embedded certificate whose issuer and serial number octets are those of si, and parses
// only that one (through the cache); otherwise it parses every candidate.
func (v *Verifier) findSigner(sd *SignedData, si *SignerInfo, cands **candidates) *x509ext.Certificate {
	if si.SerialNumber != nil && si.rawSerial != nil {
		for _, raw := range sd.RawCertificates {
			serial, issuer, ok := certIssuerAndSerial(raw)
			if !ok || !bytes.Equal(serial, si.rawSerial) || !bytes.Equal(issuer, si.RawIssuer) {
				continue
			}
			if c := v.recentSigner(raw); c != nil && si.matches(c) {
				return c
			}
			if c, err := v.parseCert(raw); err == nil && si.matches(c) {
				v.mu.Lock()
				v.recent[v.next] = c
				v.next = (v.next + 1) % len(v.recent)
				v.mu.Unlock()
				return c
			}
			break
		}
	}
	for _, c := range v.candidates(sd, cands).all {
		if si.matches(c) {
			return c
		}
	}
	return nil
}

// recentSigner returns the recently found signer certificate whose encoding is raw, or nil. It spares the
// parse cache's hashing of the whole certificate.
func (v *Verifier) recentSigner(raw []byte) *x509ext.Certificate {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, c := range v.recent {
		if c != nil && len(c.Raw) == len(raw) && bytes.Equal(c.Raw, raw) {
			return c
		}
	}
	return nil
}

// certIssuerAndSerial returns the serial number's INTEGER content octets and the issuer Name element of a DER
// certificate, without parsing the rest.
func certIssuerAndSerial(raw []byte) (serial, issuer []byte, ok bool) {
	s := cryptobyte.String(raw)
	var cert, tbs, ser, iss cryptobyte.String
	if !s.ReadASN1(&cert, cbasn1.SEQUENCE) || !cert.ReadASN1(&tbs, cbasn1.SEQUENCE) ||
		!tbs.SkipOptionalASN1(cbasn1.Tag(0).Constructed().ContextSpecific()) ||
		!tbs.ReadASN1(&ser, cbasn1.INTEGER) || !tbs.SkipASN1(cbasn1.SEQUENCE) ||
		!tbs.ReadASN1Element(&iss, cbasn1.SEQUENCE) {
		return nil, nil, false
	}
	return ser, iss, true
}

// chain returns the verified chain of leaf. A chain verified before for the same certificate (the same parsed
// object, hence the same bytes) is reused while the verification time lies within the validity of all its
// certificates, whatever other certificates the SignedData embeds: the path it found stays valid. Otherwise the
// chain is built by the trust store from the SignedData's certificates and VerifyOptions.Intermediates.
func (v *Verifier) chain(sd *SignedData, leaf *x509ext.Certificate, cands **candidates, now time.Time) ([]*x509ext.Certificate, error) {
	v.mu.Lock()
	e, ok := v.chains[leaf]
	v.mu.Unlock()
	if ok && !now.Before(e.notBefore) && !now.After(e.notAfter) {
		return e.chain, nil
	}
	c := v.candidates(sd, cands)
	inter := make([]*x509ext.Certificate, 0, len(c.all)+len(v.opts.Intermediates))
	for _, x := range c.all {
		if x != leaf {
			inter = append(inter, x)
		}
	}
	inter = append(inter, v.opts.Intermediates...)
	chain, err := verifyChain(v.opts.Store, leaf, inter, now, v.eku)
	if err != nil {
		return nil, err
	}
	e = &chainEntry{chain: chain, notBefore: chain[0].NotBefore, notAfter: chain[0].NotAfter}
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
	v.chains[leaf] = e
	v.mu.Unlock()
	return chain, nil
}

// newResult returns a Result with one SignerResult per SignerInfo, in one allocation for a lone signer.
func newResult(sd *SignedData) *Result {
	if len(sd.SignerInfos) == 1 {
		a := &struct {
			r Result
			s [1]SignerResult
		}{}
		a.r = Result{SignedData: sd, Signers: a.s[:]}
		return &a.r
	}
	return &Result{SignedData: sd, Signers: make([]SignerResult, len(sd.SignerInfos))}
}
