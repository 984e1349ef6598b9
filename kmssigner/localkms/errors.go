package localkms

import (
	"errors"
	"net/http"
	"strings"

	"github.com/pkikit/pkikit/kmssigner"
)

// Sentinel errors of the key store. Operations (CreateKey, Sign, ...) report refusals as *kmssigner.APIError
// carrying the AWS KMS error name (Code* constants), exactly what a client sees over HTTP; store problems are an
// *Error matching one of these with errors.Is.
var (
	// ErrWrongPassphrase: the passphrase does not open the key store.
	ErrWrongPassphrase = errors.New("localkms: wrong passphrase (or tampered store header)")
	// ErrWrongMasterKey: the master key does not open the key store, or the store uses the other kind of secret.
	ErrWrongMasterKey = errors.New("localkms: wrong master key (or tampered store header)")
	// ErrNoSecret: a persistent store needs a passphrase or a master key.
	ErrNoSecret = errors.New("localkms: no passphrase or master key given")
	// ErrTampered: a key or alias file failed authentication (modified, swapped or truncated).
	ErrTampered = errors.New("localkms: key store file failed authentication")
	// ErrMalformedFile: a key-store file that does not parse.
	ErrMalformedFile = errors.New("localkms: malformed key store file")
	// ErrStore: reading or writing the key-store directory failed.
	ErrStore = errors.New("localkms: key store I/O failed")
	// ErrInvalidOptions: options that cannot be used (bad master-key length, KDF parameters out of bounds, ...).
	ErrInvalidOptions = errors.New("localkms: invalid options")
	// ErrNotLoopback: the server was asked to listen on a non-loopback address without AllowNonLoopbackUnsafe.
	ErrNotLoopback = errors.New("localkms: refusing to listen on a non-loopback address")
	// ErrNotExportable: ExportKey on a key not created with Exportable (the error also carries the
	// *kmssigner.APIError with CodeKeyNotExportable, the name a client sees over HTTP).
	ErrNotExportable = errors.New("localkms: key is not exportable")
	// ErrWrongPKCS8Passphrase: an encrypted PKCS#8 key does not decrypt under the passphrase (or was corrupted).
	ErrWrongPKCS8Passphrase = errors.New("localkms: wrong passphrase for the encrypted private key (or corrupted data)")
	// ErrMalformedPKCS8: an encrypted PKCS#8 key (or the key inside) that does not parse.
	ErrMalformedPKCS8 = errors.New("localkms: malformed encrypted PKCS#8 private key")
	// ErrUnsupportedPKCS8: an encrypted PKCS#8 key with algorithms or work factors this package does not accept.
	ErrUnsupportedPKCS8 = errors.New("localkms: unsupported encrypted PKCS#8 algorithm or parameters")
	// ErrAudit: writing or reading the audit log failed. An operation whose audit record cannot be written
	// fails (KMSInternalException) and returns nothing.
	ErrAudit = errors.New("localkms: audit log failed")
)

// Error is the typed error of the key store: operation, file (never key material), sentinel and cause.
type Error struct {
	Op     string
	Path   string
	Detail string
	Err    error
	Cause  error
}

func (e *Error) Error() string {
	s := "localkms: " + e.Op
	if e.Path != "" {
		s += " " + e.Path
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	} else {
		s += ": " + strings.TrimPrefix(e.Err.Error(), "localkms: ")
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

func storeErr(op, path string, sentinel error, detail string, cause error) error {
	return &Error{Op: op, Path: path, Detail: detail, Err: sentinel, Cause: cause}
}

// AWS KMS error names this KMS returns.
const (
	CodeNotFound                = "NotFoundException"
	CodeValidation              = "ValidationException"
	CodeInvalidState            = "KMSInvalidStateException"
	CodeInvalidKeyUsage         = "InvalidKeyUsageException"
	CodeInvalidSignature        = "KMSInvalidSignatureException"
	CodeAlreadyExists           = "AlreadyExistsException"
	CodeInvalidAliasName        = "InvalidAliasNameException"
	CodeInvalidMarker           = "InvalidMarkerException"
	CodeUnsupportedOperation    = "UnsupportedOperationException"
	CodeDryRun                  = "DryRunOperationException"
	CodeThrottling              = "ThrottlingException"
	CodeInternal                = "KMSInternalException"
	CodeDependencyTimeout       = "DependencyTimeoutException"
	CodeUnknownOperation        = "UnknownOperationException"
	CodeSerialization           = "SerializationException"
	CodeMissingAuthToken        = "MissingAuthenticationTokenException"
	CodeIncompleteSignature     = "IncompleteSignatureException"
	CodeInvalidSignatureRequest = "InvalidSignatureException"
	CodeUnrecognizedClient      = "UnrecognizedClientException"
	CodeAccessDenied            = "AccessDeniedException"
	// CodeKeyNotExportable is pkikit's own error name (not AWS KMS's): ExportKey on a key created without
	// Exportable.
	CodeKeyNotExportable = "PkikitKeyNotExportableException"
)

// httpStatus is the status AWS answers with for an error name (400 unless listed).
func httpStatus(code string) int {
	switch code {
	case CodeInternal:
		return http.StatusInternalServerError
	case CodeDependencyTimeout:
		return http.StatusServiceUnavailable
	case CodeMissingAuthToken, CodeAccessDenied:
		return http.StatusForbidden
	case CodeDryRun:
		return http.StatusPreconditionFailed
	}
	return http.StatusBadRequest
}

func apiErr(code, msg string) *kmssigner.APIError {
	return &kmssigner.APIError{Code: code, Message: msg}
}
