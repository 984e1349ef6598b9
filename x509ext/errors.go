package x509ext

import "errors"

// Sentinel errors; every error from this package matches one with errors.Is (and *alg errors keep matching their
// own causes through Unwrap).
var (
	// ErrMalformed: DER that does not parse as the structure asked for.
	ErrMalformed = errors.New("x509ext: malformed input")
	// ErrUnsupportedAlgorithm: a signature or key algorithm outside the algorithm table.
	ErrUnsupportedAlgorithm = errors.New("x509ext: unsupported algorithm")
	// ErrBadSignature: a signature that does not verify.
	ErrBadSignature = errors.New("x509ext: bad signature")
	// ErrAlgorithmMismatch: the outer signatureAlgorithm differs from the TBS signature field (RFC 5280 §4.1.1.2).
	ErrAlgorithmMismatch = errors.New("x509ext: signature algorithm fields differ")
	// ErrNotIssuer: the parent's subject is not the child's issuer, or the parent may not sign certificates.
	ErrNotIssuer = errors.New("x509ext: not the issuer")
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
