package truststore

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"slices"
	"time"

	"github.com/pkikit/pkikit/x509ext"
)

// Purpose is what the leaf certificate is being verified for: it selects the extended key usage every
// certificate of the path must allow and the key usage the leaf must have.
type Purpose int

const (
	// PurposeTLSServer (the zero value, as in crypto/x509): EKU id-kp-serverAuth; leaf keyUsage, when present,
	// digitalSignature, keyEncipherment or keyAgreement.
	PurposeTLSServer Purpose = iota
	// PurposeTLSClient: EKU id-kp-clientAuth; keyUsage digitalSignature or keyAgreement.
	PurposeTLSClient
	// PurposeCodeSigning: EKU id-kp-codeSigning; keyUsage digitalSignature.
	PurposeCodeSigning
	// PurposeOCSPSigning: EKU id-kp-OCSPSigning; keyUsage digitalSignature or nonRepudiation.
	PurposeOCSPSigning
	// PurposeMDLDocumentSigning: ISO/IEC 18013-5 document signer, EKU 1.0.18013.5.1.2 present in the leaf;
	// keyUsage digitalSignature.
	PurposeMDLDocumentSigning
	// PurposeAny: no extended or key usage requirement.
	PurposeAny
)

// OIDExtKeyUsageMDLDocumentSigning is id-mdl-kp-mdlDS, ISO/IEC 18013-5 Annex B.
var OIDExtKeyUsageMDLDocumentSigning = asn1.ObjectIdentifier{1, 0, 18013, 5, 1, 2}

func (p Purpose) String() string {
	switch p {
	case PurposeTLSServer:
		return "TLS server"
	case PurposeTLSClient:
		return "TLS client"
	case PurposeCodeSigning:
		return "code signing"
	case PurposeOCSPSigning:
		return "OCSP signing"
	case PurposeMDLDocumentSigning:
		return "mDL document signing"
	case PurposeAny:
		return "any"
	}
	return fmt.Sprintf("Purpose(%d)", int(p))
}

// RevocationPolicy says what Verify does about revocation.
type RevocationPolicy int

const (
	// RevocationBestEffort (the zero value): every CRL and OCSP response supplied (or fetched, when a fetcher is
	// set) is checked; a path is rejected when one of them validly says a certificate is revoked. Missing or
	// unusable revocation information is not an error.
	RevocationBestEffort RevocationPolicy = iota
	// RevocationOff: no revocation checking at all.
	RevocationOff
	// RevocationRequired: every certificate below the anchor must have a valid, current CRL or OCSP response that
	// says it is not revoked; otherwise the path fails with ErrRevocationUnknown.
	RevocationRequired
)

func (r RevocationPolicy) String() string {
	switch r {
	case RevocationBestEffort:
		return "best effort"
	case RevocationOff:
		return "off"
	case RevocationRequired:
		return "required"
	}
	return fmt.Sprintf("RevocationPolicy(%d)", int(r))
}

// CRLFetcher fetches a CRL by its distribution point URL. Verify has no fetcher by default (no network);
// callers that want fetching supply one (an HTTP client with a timeout, a cache, a test fake).
type CRLFetcher interface {
	FetchCRL(ctx context.Context, url string) ([]byte, error)
}

// Default bounds of VerifyOptions.
const (
	DefaultMaxDepth           = 10  // certificates in a path, leaf and anchor included
	DefaultMaxSignatureChecks = 100 // signature verifications per Verify call (cached results are free)
	DefaultMaxCandidates      = 64  // candidate paths examined per Verify call
)

// VerifyOptions configures Verify. The zero value is safe: now, TLS server purpose, no name check, revocation
// best effort with no fetching, bounded work.
type VerifyOptions struct {
	// Time is the verification time; zero means time.Now().
	Time time.Time
	// Purpose is what the leaf is for (zero: PurposeTLSServer, as crypto/x509).
	Purpose Purpose
	// Intermediates are untrusted certificates that may be used to build paths, in any order.
	Intermediates []*x509ext.Certificate
	// Name, when set, is the DNS name or IP address the leaf must be valid for (SAN only; the CN is never used).
	Name string
	// Revocation is the revocation policy (zero: best effort).
	Revocation RevocationPolicy
	// CRLs are CRLs to check revocation against (from x509.ParseRevocationList; ML-DSA CRLs parse there too).
	CRLs []*x509.RevocationList
	// OCSPResponses are DER OCSP responses (RFC 6960) to check revocation against.
	OCSPResponses [][]byte
	// CRLFetcher, when set and Revocation is not off, fetches CRLs from the distribution points of certificates
	// that no supplied CRL or OCSP response covers.
	CRLFetcher CRLFetcher
	// Pins, when non-empty, requires every returned path to contain a certificate whose public key is pinned.
	Pins *PinSet
	// MaxDepth bounds the number of certificates in a path (0: DefaultMaxDepth).
	MaxDepth int
	// MaxSignatureChecks bounds the signature verifications of one call (0: DefaultMaxSignatureChecks).
	MaxSignatureChecks int
	// MaxCandidates bounds the candidate paths examined (0: DefaultMaxCandidates).
	MaxCandidates int
	// InitialPolicies is the user-initial-policy-set of RFC 5280 §6.1.1 (c); empty means anyPolicy.
	InitialPolicies []x509.OID
	// RequireExplicitPolicy, InhibitPolicyMapping and InhibitAnyPolicy are the initial policy inputs of
	// RFC 5280 §6.1.1 (e)–(g).
	RequireExplicitPolicy, InhibitPolicyMapping, InhibitAnyPolicy bool
	// IgnoreAnchorValidity follows RFC 5280 §6.1.1 (d) strictly: a trust anchor's own notBefore/notAfter are not
	// checked. By default an expired anchor fails the path (ErrExpired), as crypto/x509 does.
	IgnoreAnchorValidity bool
}

// Verify builds and validates every path from leaf to an anchor of the store (RFC 5280 §6) and returns all valid
// paths, leaf first and anchor last. When there is none it returns a *VerifyError listing each candidate path and
// why it was rejected. It does no I/O unless opts.CRLFetcher is set (then use VerifyContext to bound it).
func (s *Store) Verify(leaf *x509ext.Certificate, opts VerifyOptions) ([][]*x509ext.Certificate, error) {
	return s.VerifyContext(context.Background(), leaf, opts)
}

// VerifyContext is Verify with a context for the CRL fetcher.
func (s *Store) VerifyContext(ctx context.Context, leaf *x509ext.Certificate, opts VerifyOptions) ([][]*x509ext.Certificate, error) {
	if leaf == nil || leaf.Certificate == nil {
		return nil, newErr("verify", ErrMalformed, "nil leaf", nil)
	}
	if s == nil {
		return nil, newErr("verify", ErrNoAnchors, "nil store", nil)
	}
	b := &builder{s: s, opts: opts, ctx: ctx, leaf: leaf}
	b.now = opts.Time
	if b.now.IsZero() {
		b.now = time.Now()
	}
	b.maxDepth = orDefault(opts.MaxDepth, DefaultMaxDepth)
	b.maxSigs = orDefault(opts.MaxSignatureChecks, DefaultMaxSignatureChecks)
	b.maxCand = orDefault(opts.MaxCandidates, DefaultMaxCandidates)
	s.mu.RLock()
	nAnchors := len(s.anchors)
	s.mu.RUnlock()
	if nAnchors == 0 {
		return nil, &VerifyError{Leaf: leaf, Paths: []*PathError{{Chain: []*x509ext.Certificate{leaf}, Reason: ErrUntrustedRoot,
			Detail: "the store has no trust anchors", Cause: ErrNoAnchors}}}
	}
	if len(opts.Intermediates) > smallIntermediates {
		b.inters = map[string][]*x509ext.Certificate{}
		for _, c := range opts.Intermediates {
			if c == nil || c.Certificate == nil {
				continue
			}
			k := string(c.RawSubject)
			if !containsCert(b.inters[k], c) {
				b.inters[k] = append(b.inters[k], c)
			}
		}
	}

	if s.isAnchor(leaf) {
		chain := []*x509ext.Certificate{leaf}
		if pe := b.validate(chain); pe != nil {
			b.failures = append(b.failures, pe)
		} else {
			b.chains = append(b.chains, chain)
		}
	} else {
		b.extend([]*x509ext.Certificate{leaf})
	}
	if len(b.chains) > 0 {
		return b.chains, nil
	}
	return nil, &VerifyError{Leaf: leaf, Paths: b.failures}
}

func orDefault(v, d int) int {
	if v <= 0 {
		return d
	}
	return v
}

type builder struct {
	s        *Store
	opts     VerifyOptions
	ctx      context.Context
	leaf     *x509ext.Certificate
	now      time.Time
	maxDepth int
	maxSigs  int
	maxCand  int
	sigs     int
	cands    int
	// inters indexes opts.Intermediates by raw subject when there are more than smallIntermediates of them
	// (fewer are scanned: cheaper than building a map).
	inters map[string][]*x509ext.Certificate
	// intersCanon indexes the intermediates by canonicalName, built on first need.
	intersCanon map[string][]*x509ext.Certificate
	chains      [][]*x509ext.Certificate
	failures    []*PathError
	budget      bool // a budget error was recorded
	rev         *revocationState
}

func (b *builder) fail(chain []*x509ext.Certificate, depth int, reason error, detail string, cause error) {
	b.failures = append(b.failures, &PathError{Chain: slices.Clone(chain), Depth: depth, NameDepth: -1, Reason: reason,
		Detail: detail, At: b.now, Cause: cause})
}

func (b *builder) budgetFail(chain []*x509ext.Certificate, what string) {
	if b.budget {
		return
	}
	b.budget = true
	b.fail(chain, len(chain)-1, ErrBudgetExhausted, what, nil)
}

// smallIntermediates: up to this many intermediates are searched linearly instead of through a map.
const smallIntermediates = 8

// intermediatesNamed returns the intermediates whose subject is byte for byte rawName.
func (b *builder) intermediatesNamed(rawName []byte) []*x509ext.Certificate {
	if b.inters != nil {
		return b.inters[string(rawName)]
	}
	var out []*x509ext.Certificate
	for _, c := range b.opts.Intermediates {
		if c != nil && c.Certificate != nil && bytes.Equal(c.RawSubject, rawName) && !containsCert(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// containsCert reports whether list holds c byte for byte: an intermediate given twice is one candidate, so
// the same path is not built (and returned) twice.
func containsCert(list []*x509ext.Certificate, c *x509ext.Certificate) bool {
	for _, p := range list {
		if p == c || bytes.Equal(p.Raw, c.Raw) {
			return true
		}
	}
	return false
}

// candidates returns the possible issuers of c: anchors first, then intermediates, each group with a matching
// authority key identifier first.
func (b *builder) candidates(c *x509ext.Certificate) (anchors, inters []*x509ext.Certificate) {
	rank := func(list []*x509ext.Certificate) []*x509ext.Certificate {
		if len(c.AuthorityKeyId) == 0 || len(list) < 2 {
			return list
		}
		out := make([]*x509ext.Certificate, 0, len(list))
		for _, p := range list {
			if bytes.Equal(p.SubjectKeyId, c.AuthorityKeyId) {
				out = append(out, p)
			}
		}
		for _, p := range list {
			if !bytes.Equal(p.SubjectKeyId, c.AuthorityKeyId) {
				out = append(out, p)
			}
		}
		return out
	}
	an := b.s.anchorsByRawSubject(c.RawIssuer)
	in := b.intermediatesNamed(c.RawIssuer)
	if len(an) == 0 && len(in) == 0 {
		// No byte-identical issuer name: compare names as RFC 5280 §7.1 does (case, spaces, string types).
		an = b.s.anchorsByCanonicalSubject(c.RawIssuer)
		if len(b.opts.Intermediates) > 0 {
			if b.intersCanon == nil {
				b.intersCanon = map[string][]*x509ext.Certificate{}
				for _, p := range b.opts.Intermediates {
					if p == nil || p.Certificate == nil {
						continue
					}
					k := canonicalName(p.RawSubject)
					if !containsCert(b.intersCanon[k], p) {
						b.intersCanon[k] = append(b.intersCanon[k], p)
					}
				}
			}
			in = b.intersCanon[canonicalName(c.RawIssuer)]
		}
	}
	return rank(an), rank(in)
}

// inChain reports whether p (same certificate, or same subject and key) is already in chain: a loop.
func inChain(chain []*x509ext.Certificate, p *x509ext.Certificate) bool {
	for _, c := range chain {
		if c == p || bytes.Equal(c.Raw, p.Raw) ||
			bytes.Equal(c.RawSubject, p.RawSubject) && bytes.Equal(c.RawSubjectPublicKeyInfo, p.RawSubjectPublicKeyInfo) {
			return true
		}
	}
	return false
}

func (b *builder) extend(chain []*x509ext.Certificate) {
	c := chain[len(chain)-1]
	anchors, inters := b.candidates(c)
	tried, loops := 0, 0
	for gi, group := range [][]*x509ext.Certificate{anchors, inters} {
		isAnchor := gi == 0
		for _, p := range group {
			if inChain(chain, p) {
				loops++
				continue
			}
			if !isAnchor && b.s.isAnchor(p) {
				continue // the same certificate is tried as an anchor
			}
			tried++
			next := make([]*x509ext.Certificate, len(chain)+1)
			copy(next, chain)
			next[len(chain)] = p
			if b.cands >= b.maxCand {
				b.budgetFail(next, fmt.Sprintf("MaxCandidates (%d) reached", b.maxCand))
				return
			}
			b.cands++
			if !isAnchor && len(next) >= b.maxDepth {
				b.budgetFail(next, fmt.Sprintf("MaxDepth (%d) reached without an anchor", b.maxDepth))
				continue
			}
			if err := b.checkSignature(c, p); err != nil {
				if err == errBudget {
					b.budgetFail(next, fmt.Sprintf("MaxSignatureChecks (%d) reached", b.maxSigs))
					return
				}
				b.fail(next, len(chain)-1, ErrBadSignature, "signature does not verify with the key of "+subjectString(p), err)
				continue
			}
			if isAnchor {
				if pe := b.validate(next); pe != nil {
					b.failures = append(b.failures, pe)
				} else {
					b.chains = append(b.chains, next)
				}
				continue
			}
			b.extend(next)
		}
	}
	if tried == 0 {
		detail := "no anchor or intermediate is named " + issuerString(c)
		switch {
		case bytes.Equal(c.RawIssuer, c.RawSubject):
			detail = "self-issued certificate that is not a trust anchor"
		case loops > 0:
			detail = "every issuer named " + issuerString(c) + " is already in the path (a loop)"
		}
		b.fail(chain, len(chain)-1, ErrUntrustedRoot, detail, nil)
	}
}

func issuerString(c *x509ext.Certificate) string {
	if c.Issuer.CommonName != "" {
		return "CN=" + c.Issuer.CommonName
	}
	return c.Issuer.String()
}

var errBudget = fmt.Errorf("budget")

// checkSignature verifies that parent's key signed child, through the store's cache of verified pairs.
func (b *builder) checkSignature(child, parent *x509ext.Certificate) error {
	isCA := child.BasicConstraintsValid && child.IsCA
	var key uint64
	if isCA {
		var hit bool
		if key, hit = b.s.sigCached(child.Raw, parent.RawSubjectPublicKeyInfo); hit {
			return nil
		}
	}
	if b.sigs >= b.maxSigs {
		return errBudget
	}
	b.sigs++
	if err := child.CheckSignatureFromKey(parent.PublicKey); err != nil {
		return err
	}
	if isCA {
		// CA certificates recur from one Verify to the next; leaves rarely do, and are not cached.
		b.s.rememberSig(key, child.Raw, parent.RawSubjectPublicKeyInfo)
	}
	return nil
}

// isSelfIssued: subject and issuer names are the same (RFC 5280 §6.1).
func isSelfIssued(c *x509ext.Certificate) bool { return bytes.Equal(c.RawIssuer, c.RawSubject) }

// validate checks a complete path (leaf first, anchor last) per RFC 5280 §6.1 and the purpose.
func (b *builder) validate(chain []*x509ext.Certificate) *PathError {
	n := len(chain) - 1 // index of the anchor
	pe := func(depth int, reason error, detail string, cause error) *PathError {
		return &PathError{Chain: slices.Clone(chain), Depth: depth, NameDepth: -1, Reason: reason, Detail: detail, At: b.now, Cause: cause}
	}
	// Top-down, as RFC 5280 §6.1.3 processes the path: the first failure reported is the highest in the chain.
	for i := n; i >= 0; i-- {
		c := chain[i]
		isAnchor := i == n
		if !isAnchor || !b.opts.IgnoreAnchorValidity {
			if b.now.Before(c.NotBefore) {
				return pe(i, ErrNotYetValid, "valid from "+c.NotBefore.UTC().Format(time.RFC3339)+", checked at "+b.now.UTC().Format(time.RFC3339), nil)
			}
			if b.now.After(c.NotAfter) {
				return pe(i, ErrExpired, "expired at "+c.NotAfter.UTC().Format(time.RFC3339)+", checked at "+b.now.UTC().Format(time.RFC3339), nil)
			}
		}
		if !isAnchor {
			if ext := unknownCritical(c); ext != nil {
				return pe(i, ErrUnknownCriticalExtension, "extension "+ext.String(), nil)
			}
		}
		if i > 0 { // an issuer (intermediate or anchor)
			if isAnchor {
				// A trust anchor is a name and a key (RFC 5280 §6.1.1 (d)); v1 roots without basicConstraints are
				// accepted, but an anchor that says it is not a CA is not used as one.
				if c.BasicConstraintsValid && !c.IsCA {
					return pe(i, ErrNotCA, "the anchor's basicConstraints says it is not a CA", nil)
				}
				if c.KeyUsage != 0 && c.KeyUsage&x509.KeyUsageCertSign == 0 {
					return pe(i, ErrKeyUsage, "anchor keyUsage lacks keyCertSign", nil)
				}
			} else {
				if !c.BasicConstraintsValid || !c.IsCA {
					d := "basicConstraints cA is not set"
					if !c.BasicConstraintsValid {
						d = "no basicConstraints extension"
					}
					return pe(i, ErrNotCA, d, nil)
				}
				if c.KeyUsage != 0 && c.KeyUsage&x509.KeyUsageCertSign == 0 {
					return pe(i, ErrKeyUsage, "CA keyUsage lacks keyCertSign", nil)
				}
			}
			if c.MaxPathLen >= 0 && (c.MaxPathLen > 0 || c.MaxPathLenZero) {
				below := 0 // non-self-issued intermediates between c and the leaf
				for j := 1; j < i; j++ {
					if !isSelfIssued(chain[j]) {
						below++
					}
				}
				if below > c.MaxPathLen {
					return pe(i, ErrPathLen, fmt.Sprintf("pathLenConstraint %d, %d intermediate(s) below", c.MaxPathLen, below), nil)
				}
			}
		}
		// Name constraints of every CA above c apply to c, unless c is a self-issued intermediate (§6.1.3 (b)).
		if !isAnchor && (i == 0 || !isSelfIssued(c)) {
			for j := n; j > i; j-- {
				if err := checkNameConstraints(chain[j], c, i == 0); err != nil {
					p := pe(j, ErrNameConstraint, fmt.Sprintf("name of certificate at depth %d (%s) violates the constraints of depth %d", i, subjectString(c), j), err)
					p.NameDepth = i
					return p
				}
			}
		}
	}
	if err := checkPolicies(chain, b.opts); err != nil {
		return pe(0, ErrPolicy, err.Error(), nil)
	}
	if d, detail, reason := checkPurpose(chain, b.opts.Purpose); reason != nil {
		return pe(d, reason, detail, nil)
	}
	if b.opts.Name != "" {
		if err := chain[0].VerifyHostname(b.opts.Name); err != nil {
			return pe(0, ErrHostname, "not valid for "+b.opts.Name, err)
		}
	}
	if p := b.checkRevocation(chain); p != nil {
		return p
	}
	if b.opts.Pins.Len() > 0 {
		pinned := false
		for _, c := range chain {
			if _, ok := b.opts.Pins.Match(c); ok {
				pinned = true
				break
			}
		}
		if !pinned {
			return pe(n, ErrPinMismatch, "no certificate of the path has a pinned public key", nil)
		}
	}
	return nil
}

// unknownCritical returns the first critical extension neither crypto/x509's parser nor this package handles.
func unknownCritical(c *x509ext.Certificate) asn1.ObjectIdentifier {
	for _, oid := range c.UnhandledCriticalExtensions {
		if handledByNameConstraints(oid, c) {
			continue
		}
		return oid
	}
	return nil
}

func purposeEKU(p Purpose) (x509.ExtKeyUsage, asn1.ObjectIdentifier) {
	switch p {
	case PurposeTLSServer:
		return x509.ExtKeyUsageServerAuth, nil
	case PurposeTLSClient:
		return x509.ExtKeyUsageClientAuth, nil
	case PurposeCodeSigning:
		return x509.ExtKeyUsageCodeSigning, nil
	case PurposeOCSPSigning:
		return x509.ExtKeyUsageOCSPSigning, nil
	case PurposeMDLDocumentSigning:
		return x509.ExtKeyUsageAny, OIDExtKeyUsageMDLDocumentSigning
	}
	return x509.ExtKeyUsageAny, nil
}

// allowsEKU reports whether c's extendedKeyUsage (absent = unrestricted) allows the purpose.
func allowsEKU(c *x509ext.Certificate, p Purpose) bool {
	if len(c.ExtKeyUsage) == 0 && len(c.UnknownExtKeyUsage) == 0 {
		return true
	}
	want, wantOID := purposeEKU(p)
	for _, u := range c.ExtKeyUsage {
		if u == x509.ExtKeyUsageAny || (wantOID == nil && u == want) {
			return true
		}
	}
	if wantOID != nil {
		for _, u := range c.UnknownExtKeyUsage {
			if u.Equal(wantOID) {
				return true
			}
		}
	}
	return false
}

// checkPurpose checks extended key usage along the path (a CA's EKU restricts what it may issue for, as
// crypto/x509 and the CA/B Forum treat it) and the leaf's key usage.
func checkPurpose(chain []*x509ext.Certificate, p Purpose) (depth int, detail string, reason error) {
	if p == PurposeAny {
		return 0, "", nil
	}
	leaf := chain[0]
	if p == PurposeMDLDocumentSigning && !hasOID(leaf.UnknownExtKeyUsage, OIDExtKeyUsageMDLDocumentSigning) {
		return 0, "the leaf lacks EKU 1.0.18013.5.1.2 (mDL document signing)", ErrEKU
	}
	for i := len(chain) - 1; i >= 0; i-- {
		if !allowsEKU(chain[i], p) {
			return i, "extendedKeyUsage does not allow " + p.String(), ErrEKU
		}
	}
	if leaf.KeyUsage != 0 {
		var need x509.KeyUsage
		switch p {
		case PurposeTLSServer:
			need = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageKeyAgreement
		case PurposeTLSClient:
			need = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyAgreement
		case PurposeCodeSigning, PurposeMDLDocumentSigning:
			need = x509.KeyUsageDigitalSignature
		case PurposeOCSPSigning:
			need = x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment
		}
		if need != 0 && leaf.KeyUsage&need == 0 {
			return 0, "keyUsage does not allow " + p.String(), ErrKeyUsage
		}
	}
	return 0, "", nil
}

func hasOID(list []asn1.ObjectIdentifier, oid asn1.ObjectIdentifier) bool {
	for _, o := range list {
		if o.Equal(oid) {
			return true
		}
	}
	return false
}
