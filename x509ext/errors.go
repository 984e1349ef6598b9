package x509ext

import "errors"

// Sentinel errors; every error from this package matches one with errors.Is (and *alg errors keep matching their
// own causes through Unwrap).
var (
	// ErrMalformed: DER (or JSON) that does not parse as the structure asked for.
	ErrMalformed = errors.New("x509ext: malformed input")
	// ErrUnsupportedAlgorithm: a signature or key algorithm outside the algorithm table.
	ErrUnsupportedAlgorithm = errors.New("x509ext: unsupported algorithm")
	// ErrBadSignature: a signature that does not verify.
	ErrBadSignature = errors.New("x509ext: bad signature")
	// ErrAlgorithmMismatch: the outer signatureAlgorithm differs from the TBS signature field (RFC 5280 §4.1.1.2).
	ErrAlgorithmMismatch = errors.New("x509ext: signature algorithm fields differ")
	// ErrNotIssuer: the parent's subject is not the child's issuer, or the parent may not sign certificates
	// (or CRLs).
	ErrNotIssuer = errors.New("x509ext: not the issuer")

	// ErrInvalidRequest: an IssueRequest or CRLRequest that is incomplete or self-contradictory (no key, both a
	// key and a CSR that disagree, NotAfter before NotBefore, a bad serial number, a duplicate extension ...).
	ErrInvalidRequest = errors.New("x509ext: invalid request")
	// ErrOutlivesIssuer: the certificate (or CRL) would be valid after its issuer expires, or before it begins.
	ErrOutlivesIssuer = errors.New("x509ext: validity outside the issuer's")
	// ErrPathLen: issuing this CA certificate would break the issuer's basicConstraints pathLenConstraint.
	ErrPathLen = errors.New("x509ext: path length constraint violated")
	// ErrProfileKeyMismatch: the profile asks for a key usage the subject key cannot have (keyEncipherment on an
	// ML-DSA or Ed25519 key, RFC 9881 §5 and RFC 8410 §5; keyAgreement on RSA, RFC 3279 §2.3.1), or the profile
	// does not allow the subject key's algorithm.
	ErrProfileKeyMismatch = errors.New("x509ext: profile does not fit the subject key")
	// ErrSignerMismatch: the issuer's signer does not hold the key of the issuer's certificate, or cannot sign
	// with the algorithm asked for.
	ErrSignerMismatch = errors.New("x509ext: signer does not match issuer")
	// ErrSignerFailed: the signer returned an error or a signature that does not verify under its key (a
	// cancelled context also matches context.Canceled).
	ErrSignerFailed = errors.New("x509ext: signer failed")
	// ErrBadCSR: a certificate request whose signature does not verify or that cannot be read.
	ErrBadCSR = errors.New("x509ext: bad certificate request")
	// ErrPassthroughNotAllowed: API-passthrough values given with a profile that does not take them.
	ErrPassthroughNotAllowed = errors.New("x509ext: API passthrough not allowed by profile")
	// ErrUnknownProfile: no profile has the name or template ARN asked for.
	ErrUnknownProfile = errors.New("x509ext: unknown profile")
	// ErrProfileRequirement: a profile requirement (issuerAltName, CRL distribution point, maximum validity,
	// its Check hook ...) is not met.
	ErrProfileRequirement = errors.New("x509ext: profile requirement not met")
	// ErrPolicy: the issuer's issuance Policy refuses the request.
	ErrPolicy = errors.New("x509ext: refused by issuance policy")
	// ErrCAConfig: a CA configuration (AWS Private CA JSON) with an unknown or inconsistent value.
	ErrCAConfig = errors.New("x509ext: invalid CA configuration")
	// ErrLimit: input over a size or count bound.
	ErrLimit = errors.New("x509ext: input over limit")
)

// Error is the typed error of this package: what was being done, why it failed, and the sentinel.
type Error struct {
	Op     string
	Reason string
	Err    error // sentinel
	Cause  error // underlying error, may be nil
}

func (e *Error) Error() string {
	s := "x509ext: " + e.Op
	if e.Reason != "" {
		s += ": " + e.Reason
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

func newErr(op string, sentinel error, reason string, cause error) error {
	return &Error{Op: op, Reason: reason, Err: sentinel, Cause: cause}
}
