package pkcs11

import "errors"

// Sentinel errors. Every error this package returns matches one of them with errors.Is (a cancelled or expired
// context is returned as the context's own error).
var (
	// ErrInvalidURI: a pkcs11: URI that breaks RFC 7512 (or this package's stricter reading of it).
	ErrInvalidURI = errors.New("pkcs11: invalid URI")
	// ErrNoCgo: the package was built without cgo (CGO_ENABLED=0), so no PKCS#11 module can be loaded.
	ErrNoCgo = errors.New("pkcs11: built without cgo; PKCS#11 modules cannot be loaded")
	// ErrModule: the PKCS#11 module could not be loaded or initialised, or no token matched.
	ErrModule = errors.New("pkcs11: cannot use PKCS#11 module or token")
	// ErrPIN: the PIN was refused, missing or unreadable.
	ErrPIN = errors.New("pkcs11: PIN refused or unavailable")
	// ErrKeyNotFound: no private key with its public key matched the label/id (the cause is also a
	// *kmssigner.APIError with Code "NotFoundException", as AWS KMS reports an unknown key).
	ErrKeyNotFound = errors.New("pkcs11: key not found")
	// ErrAmbiguousKey: more than one key pair matched; name it by id as well.
	ErrAmbiguousKey = errors.New("pkcs11: more than one key matches")
	// ErrUnsupportedKey: a key this package does not sign with (only ECDSA P-256/384/521 and RSA ≥ 2048 bits).
	ErrUnsupportedKey = errors.New("pkcs11: unsupported key")
	// ErrInvalidRequest: a Sign request the key cannot honour (an algorithm for another key type or hash, a
	// digest of the wrong length, EXTERNAL_MU, a message over 4096 bytes).
	ErrInvalidRequest = errors.New("pkcs11: invalid sign request")
	// ErrToken: the token refused or failed an operation (the cause is the PKCS#11 return value).
	ErrToken = errors.New("pkcs11: token operation failed")
	// ErrClosed: the Client was closed.
	ErrClosed = errors.New("pkcs11: client closed")
)

// Error is the typed error of this package: the operation, a reason, the sentinel (Err) and an underlying cause.
// It never carries a PIN.
type Error struct {
	Op     string // "parse URI", "open", "find key", "sign", ...
	Detail string
	Err    error // one of the sentinels above
	Cause  error
}

func (e *Error) Error() string {
	s := "pkcs11: " + e.Op
	if e.Detail != "" {
		s += ": " + e.Detail
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

func errf(op string, sentinel error, detail string) error {
	return &Error{Op: op, Detail: detail, Err: sentinel}
}

func wrap(op string, sentinel error, detail string, cause error) error {
	return &Error{Op: op, Detail: detail, Err: sentinel, Cause: cause}
}
