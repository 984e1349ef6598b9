package kmssigner

import "errors"

// Sentinel errors. Every error this package returns (other than a backend's own *APIError, a context error or
// an error from an Opener) is an *Error that matches one of them with errors.Is.
var (
	// ErrKeyUsage: the key's KeyUsage is not SIGN_VERIFY.
	ErrKeyUsage = errors.New("kmssigner: key usage is not SIGN_VERIFY")
	// ErrUnsupportedKeySpec: a KeySpec this package cannot sign with, or a public key that does not match its KeySpec.
	ErrUnsupportedKeySpec = errors.New("kmssigner: unsupported key spec")
	// ErrMessageTooLarge: an Ed25519 message longer than MaxRawMessage (KMS signs Ed25519 only in RAW mode).
	ErrMessageTooLarge = errors.New("kmssigner: message too large for the KMS")
	// ErrPSSSaltLength: RSASSA-PSS options whose salt length is not the hash length (KMS always uses hLen).
	ErrPSSSaltLength = errors.New("kmssigner: RSASSA-PSS salt length must equal the hash length")
	// ErrHashMismatch: a hash the key cannot sign with (SHA-384 on a P-256 key, SHA-1 with RSA, any hash with
	// ML-DSA or Ed25519).
	ErrHashMismatch = errors.New("kmssigner: hash does not match key")
	// ErrHashRequired: crypto.Hash(0) with an ECDSA or RSA key; KMS would be asked to sign something that is not
	// a digest.
	ErrHashRequired = errors.New("kmssigner: ECDSA and RSA keys need a hash in SignerOpts")
	// ErrDigestLength: a digest (or ML-DSA μ) whose length is not the hash's (or 64).
	ErrDigestLength = errors.New("kmssigner: digest length does not match hash")
	// ErrInvalidOptions: SignerOpts the KMS cannot honour (Ed25519ctx/Ed25519ph, an ML-DSA context over 255
	// bytes, PSS options with a non-RSA key, ...).
	ErrInvalidOptions = errors.New("kmssigner: unsupported signer options")
	// ErrSignatureMismatch: the KMS returned a signature that does not verify under the cached public key (a wrong
	// key, a corrupted response or a key rotated underneath).
	ErrSignatureMismatch = errors.New("kmssigner: KMS signature does not verify under the cached public key")
	// ErrUnverifiableMu: a caller-supplied ML-DSA μ (opts.HashFunc() == MLDSAMu) cannot be verified locally (no
	// library available here verifies from μ), so it is refused unless Options.AcceptMuUnsafe (or SkipVerifyUnsafe,
	// which turns local verification off altogether) is set.
	ErrUnverifiableMu = errors.New("kmssigner: a signature over a caller-supplied μ cannot be verified locally")
	// ErrBackend: the Client returned an error (the *APIError or transport error is the cause).
	ErrBackend = errors.New("kmssigner: KMS call failed")
	// ErrMalformedResponse: the Client returned something unusable (an unparsable public key, no signature).
	ErrMalformedResponse = errors.New("kmssigner: malformed KMS response")
	// ErrInvalidURI: a key URI that does not parse.
	ErrInvalidURI = errors.New("kmssigner: invalid key URI")
	// ErrUnknownScheme: a key URI whose scheme has no registered Opener (import the backend package).
	ErrUnknownScheme = errors.New("kmssigner: no opener registered for URI scheme")
)

// Error is this package's typed error: the operation, the key as given, a reason, the sentinel (Err) and an
// underlying cause. It never carries key material or message contents.
type Error struct {
	Op     string // "new signer", "sign", "parse URI", ...
	KeyID  string // the key reference as given, if any
	Detail string
	Err    error // one of the sentinels above
	Cause  error // underlying error (an *APIError, a context error, an alg error), if any
}

func (e *Error) Error() string {
	s := "kmssigner: " + e.Op
	if e.KeyID != "" {
		s += " " + e.KeyID
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	} else if e.Err != nil {
		s += ": " + trimPrefix(e.Err.Error())
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

func trimPrefix(s string) string {
	const p = "kmssigner: "
	if len(s) > len(p) && s[:len(p)] == p {
		return s[len(p):]
	}
	return s
}

func newErr(op, keyID string, sentinel error, detail string, cause error) error {
	return &Error{Op: op, KeyID: keyID, Detail: detail, Err: sentinel, Cause: cause}
}
