package csr

import "errors"

// Sentinel errors. Every error this package returns matches one of them with errors.Is; errors from the signer
// (including context.Canceled and context.DeadlineExceeded) stay reachable through Unwrap.
var (
	// ErrMalformed: input that is not a strictly encoded PKCS#10 request (or request info), or trailing data.
	ErrMalformed = errors.New("csr: malformed request")
	// ErrTooLarge: input larger than the ParseOptions.MaxSize bound.
	ErrTooLarge = errors.New("csr: input too large")
	// ErrUnsupportedAlgorithm: a signature algorithm or key outside pkikit's algorithm table.
	ErrUnsupportedAlgorithm = errors.New("csr: unsupported algorithm")
	// ErrKeyMismatch: a signature algorithm that does not fit the request's public key (ML-DSA-44 named for an
	// ML-DSA-65 key, ECDSA for an RSA key, ...).
	ErrKeyMismatch = errors.New("csr: signature algorithm does not fit the key")
	// ErrBadSignature: a request signature that does not verify under the request's own public key.
	ErrBadSignature = errors.New("csr: bad signature")
	// ErrInvalidTemplate: a template or argument that cannot make a valid request (non-ASCII DNS name,
	// duplicate extension or attribute, an extension value that is not one DER element, ...).
	ErrInvalidTemplate = errors.New("csr: invalid template")
	// ErrSignerFailed: the signer returned an error, or a signature that does not verify under its public key.
	ErrSignerFailed = errors.New("csr: signer failed")
	// ErrNotFound: no CERTIFICATE REQUEST block in PEM input.
	ErrNotFound = errors.New("csr: no certificate request found")
)

// Error is the typed error of this package: what was being done, why it failed, the sentinel that errors.Is
// matches, and the underlying error if any. It never carries key material or the challenge password.
type Error struct {
	Op     string // "create", "assemble", "parse", "check signature", ...
	Reason string // a human reason, never secret
	Err    error  // one of the sentinels above
	Cause  error  // the underlying error, may be nil
}

func (e *Error) Error() string {
	s := "csr: " + e.Op
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	if e.Cause != nil {
		s += ": " + e.Cause.Error()
	}
	return s
}

// Unwrap returns the sentinel and the cause, so errors.Is and errors.As see both.
func (e *Error) Unwrap() []error {
	if e.Cause != nil {
		return []error{e.Err, e.Cause}
	}
	return []error{e.Err}
}

func newErr(op string, sentinel error, reason string, cause error) error {
	return &Error{Op: op, Reason: reason, Err: sentinel, Cause: cause}
}
