package alg

import "errors"

// Sentinel errors. Every error returned by this package matches one of them with errors.Is.
var (
	// ErrUnsupportedAlgorithm: an OID, AlgorithmIdentifier or Algorithm value this table does not know.
	ErrUnsupportedAlgorithm = errors.New("alg: unsupported algorithm")
	// ErrInvalidParameters: an AlgorithmIdentifier whose parameters break its specification
	// (for example NULL parameters on ML-DSA, RFC 9881 §2, or RSASSA-PSS parameters other than salt = hash length).
	ErrInvalidParameters = errors.New("alg: invalid algorithm parameters")
	// ErrUnsupportedKey: a key type or size this table does not handle.
	ErrUnsupportedKey = errors.New("alg: unsupported key")
	// ErrKeyMismatch: a key that cannot be used with the algorithm asked for (an RSA key with ECDSA, ML-DSA-44 with ML-DSA-65, ...).
	ErrKeyMismatch = errors.New("alg: key does not match algorithm")
	// ErrMalformedKey: a public or private key encoding that does not parse.
	ErrMalformedKey = errors.New("alg: malformed key")
	// ErrInconsistentKey: an ML-DSA private key whose parts disagree (RFC 9881 §6: seed and expanded key of a
	// "both" key, or an expanded key whose tr or t0 does not match its s1/s2).
	ErrInconsistentKey = errors.New("alg: inconsistent private key")
	// ErrNoSeed: an ML-DSA key without its seed was asked to be written in a form that needs it.
	ErrNoSeed = errors.New("alg: ML-DSA key has no seed")
	// ErrInvalidSignature: a signature that does not verify.
	ErrInvalidSignature = errors.New("alg: invalid signature")
	// ErrSignerFailed: a signer returned an error or a signature that does not verify under its own public key.
	ErrSignerFailed = errors.New("alg: signer failed")
)

// Error is the typed error of this package: the operation, the algorithm or key concerned, and the sentinel
// (Err) that errors.Is matches. It never carries key material.
type Error struct {
	Op     string // "parse SPKI", "sign", "verify", ...
	Detail string // a human reason, never secret
	Err    error  // one of the sentinels above
	Cause  error  // an underlying error, if any
}

func (e *Error) Error() string {
	s := "alg: " + e.Op
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.Cause != nil {
		s += ": " + e.Cause.Error()
	}
	return s
}

// Unwrap returns the sentinel and the cause, so errors.Is matches either.
func (e *Error) Unwrap() []error {
	if e.Cause != nil {
		return []error{e.Err, e.Cause}
	}
	return []error{e.Err}
}

func errf(op string, sentinel error, detail string) error {
	return &Error{Op: op, Detail: detail, Err: sentinel}
}

func wrap(op string, sentinel error, detail string, cause error) error {
	return &Error{Op: op, Detail: detail, Err: sentinel, Cause: cause}
}
