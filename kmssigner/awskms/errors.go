package awskms

import (
	"errors"
)

// Sentinel errors. Errors of this package match one of them with errors.Is; a refusal by the KMS itself is a
// *kmssigner.APIError instead (errors.As), and a cancelled or expired context is returned as the context's
// own error (errors.Is(err, context.Canceled) holds).
var (
	// ErrInvalidURI: an awskms: URI that does not parse, names an unknown attribute, repeats one, or lacks the key.
	ErrInvalidURI = errors.New("awskms: invalid URI")
	// ErrInvalidRequest: a request refused before it is sent (an empty key id, an algorithm or message type
	// the AWS SDK does not know, a nil request).
	ErrInvalidRequest = errors.New("awskms: invalid request")
	// ErrRequestFailed: the call failed without a KMS error (connection refused, TLS, credentials, the SDK's
	// retry quota exhausted): Unwrap gives the SDK's error.
	ErrRequestFailed = errors.New("awskms: request failed")
	// ErrInvalidResponse: the KMS answered without the fields a signer needs (no public key, no signature).
	ErrInvalidResponse = errors.New("awskms: invalid response")
	// ErrConfig: the AWS configuration could not be loaded (Load).
	ErrConfig = errors.New("awskms: cannot load AWS configuration")
)

// Error is the typed error of this package: the operation, a reason, the sentinel that errors.Is matches and
// the underlying error, if any. It never carries credentials.
type Error struct {
	Op     string // "sign", "get public key", "parse URI", "load config"
	Detail string // a human reason
	Err    error  // one of the sentinels above
	Cause  error  // the SDK's error, if any
}

func (e *Error) Error() string {
	s := "awskms: " + e.Op
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
