package truststore

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pkikit/pkikit/x509ext"
)

// Sentinel errors. Every reason a candidate path is rejected matches one of them with errors.Is, on the
// *PathError and on the *VerifyError that lists it.
var (
	// ErrExpired: a certificate of the path had expired at the verification time.
	ErrExpired = errors.New("truststore: certificate expired")
	// ErrNotYetValid: a certificate of the path was not yet valid at the verification time.
	ErrNotYetValid = errors.New("truststore: certificate not yet valid")
	// ErrRevoked: a CRL or OCSP response says a certificate of the path is revoked (PathError has reason and date).
	ErrRevoked = errors.New("truststore: certificate revoked")
	// ErrRevocationUnknown: RevocationRequired and no valid CRL or OCSP response covers a certificate.
	ErrRevocationUnknown = errors.New("truststore: revocation status unknown")
	// ErrUntrustedRoot: the path ends at a certificate that is not an anchor and has no known issuer.
	ErrUntrustedRoot = errors.New("truststore: no path to a trust anchor")
	// ErrNameConstraint: a name of a certificate violates a CA's name constraints (PathError.Depth says which CA).
	ErrNameConstraint = errors.New("truststore: name constraint violated")
	// ErrEKU: an extended key usage does not allow the purpose asked for.
	ErrEKU = errors.New("truststore: extended key usage does not allow the purpose")
	// ErrKeyUsage: a key usage does not allow the purpose (or a CA lacks keyCertSign / cRLSign).
	ErrKeyUsage = errors.New("truststore: key usage does not allow the purpose")
	// ErrBadSignature: a signature of the path (certificate, CRL or OCSP response) does not verify.
	ErrBadSignature = errors.New("truststore: bad signature")
	// ErrPathLen: a CA's basicConstraints pathLenConstraint is exceeded.
	ErrPathLen = errors.New("truststore: path length constraint exceeded")
	// ErrNotCA: an issuing certificate is not a CA (no basicConstraints cA=TRUE).
	ErrNotCA = errors.New("truststore: issuer is not a CA")
	// ErrUnknownCriticalExtension: a certificate has a critical extension this verifier does not process.
	ErrUnknownCriticalExtension = errors.New("truststore: unknown critical extension")
	// ErrBudgetExhausted: path building hit MaxDepth, MaxSignatureChecks or MaxCandidates before finishing.
	ErrBudgetExhausted = errors.New("truststore: path building budget exhausted")
	// ErrPinMismatch: the path is valid but no certificate of it has a public key in the pin set.
	ErrPinMismatch = errors.New("truststore: no pinned public key in the path")
	// ErrHostname: the leaf is not valid for the name asked for (DNS SAN or IP SAN; the CN is never used).
	ErrHostname = errors.New("truststore: certificate not valid for the name")
	// ErrPolicy: certificate policy processing (RFC 5280 §6.1.3 (d)–(f), §6.1.5 (g)) rejects the path.
	ErrPolicy = errors.New("truststore: certificate policy check failed")
	// ErrMalformed: input that does not parse (a certificate, PEM block, CRL or OCSP response).
	ErrMalformed = errors.New("truststore: malformed input")
	// ErrBadCRL: a CRL or OCSP response that cannot be used (wrong issuer, bad window, unknown critical extension).
	ErrBadCRL = errors.New("truststore: unusable revocation information")
	// ErrNoAnchors: Verify was called on a store with no trust anchors.
	ErrNoAnchors = errors.New("truststore: store has no trust anchors")
)

// PathError says why one candidate path was rejected.
type PathError struct {
	// Chain is the candidate path, leaf first; its last element is the anchor when the path reached one.
	Chain []*x509ext.Certificate
	// Depth is the index in Chain of the certificate at fault (0 = leaf). For ErrNameConstraint it is the CA whose
	// constraints were violated and NameDepth the certificate whose name violated them.
	Depth int
	// NameDepth is, for ErrNameConstraint, the index of the certificate whose name is outside the constraints.
	NameDepth int
	// Reason is one of the Err sentinels of this package.
	Reason error
	// Detail is a human explanation (never secret).
	Detail string
	// At is the verification time the reason relates to (expiry and revocation).
	At time.Time
	// RevocationReason is the CRL reason code (RFC 5280 §5.3.1) and RevokedAt the revocation date, for ErrRevoked.
	RevocationReason int
	RevokedAt        time.Time
	// Cause is an underlying error (an x509ext, alg or nameconstraints error), if any.
	Cause error
}

func (e *PathError) Error() string {
	var b strings.Builder
	b.WriteString(e.Reason.Error())
	if len(e.Chain) > 0 && e.Depth >= 0 && e.Depth < len(e.Chain) {
		fmt.Fprintf(&b, " at depth %d (%s)", e.Depth, subjectString(e.Chain[e.Depth]))
	}
	if e.Detail != "" {
		b.WriteString(": " + e.Detail)
	}
	if e.Cause != nil {
		b.WriteString(": " + e.Cause.Error())
	}
	return b.String()
}

// Unwrap returns the reason sentinel and the cause.
func (e *PathError) Unwrap() []error {
	if e.Cause != nil {
		return []error{e.Reason, e.Cause}
	}
	return []error{e.Reason}
}

// ChainString renders the path as "leaf CN <- intermediate CN <- anchor CN".
func (e *PathError) ChainString() string { return chainString(e.Chain) }

// VerifyError is returned by (*Store).Verify when no valid path exists: every candidate path tried and why it
// was rejected. errors.Is(err, ErrX) is true when any path failed for reason X.
type VerifyError struct {
	// Leaf is the certificate that was being verified.
	Leaf *x509ext.Certificate
	// Paths lists each candidate path rejected, in the order they were tried.
	Paths []*PathError
}

func (e *VerifyError) Error() string {
	var b strings.Builder
	b.WriteString("truststore: no valid path for ")
	b.WriteString(subjectString(e.Leaf))
	switch len(e.Paths) {
	case 0:
		b.WriteString(": no candidate path")
	case 1:
		b.WriteString(": " + e.Paths[0].ChainString() + ": " + e.Paths[0].Error())
	default:
		fmt.Fprintf(&b, ": %d candidate paths rejected", len(e.Paths))
		for i, p := range e.Paths {
			fmt.Fprintf(&b, "\n  path %d: %s: %s", i+1, p.ChainString(), p.Error())
		}
	}
	return b.String()
}

// Unwrap returns every path error, so errors.Is and errors.As look through all of them.
func (e *VerifyError) Unwrap() []error {
	out := make([]error, len(e.Paths))
	for i, p := range e.Paths {
		out[i] = p
	}
	return out
}

// Error is the typed error of the store's other operations (loading anchors, reports, CRL parsing).
type Error struct {
	Op     string
	Detail string
	Err    error // sentinel
	Cause  error
}

func (e *Error) Error() string {
	s := "truststore: " + e.Op
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.Cause != nil {
		s += ": " + e.Cause.Error()
	}
	return s
}

// Unwrap returns the sentinel and the cause.
func (e *Error) Unwrap() []error {
	if e.Cause != nil {
		return []error{e.Err, e.Cause}
	}
	return []error{e.Err}
}

func newErr(op string, sentinel error, detail string, cause error) error {
	return &Error{Op: op, Detail: detail, Err: sentinel, Cause: cause}
}

func subjectString(c *x509ext.Certificate) string {
	if c == nil || c.Certificate == nil {
		return "<nil>"
	}
	if c.Subject.CommonName != "" {
		return "CN=" + c.Subject.CommonName
	}
	if s := c.Subject.String(); s != "" {
		return s
	}
	return "<empty subject>"
}

func chainString(chain []*x509ext.Certificate) string {
	parts := make([]string, len(chain))
	for i, c := range chain {
		parts[i] = subjectString(c)
	}
	return strings.Join(parts, " <- ")
}
