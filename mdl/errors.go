package mdl

import (
	"errors"
	"strings"
)

// Sentinel errors. Every error of this package matches at least one with errors.Is; a failed verification matches
// the sentinel of every check that failed.
var (
	// ErrMalformed: CBOR or COSE that does not parse as the ISO/IEC 18013-5 structure asked for, or breaks a bound.
	ErrMalformed = errors.New("mdl: malformed input")
	// ErrTooLarge: input larger than the configured MaxSize.
	ErrTooLarge = errors.New("mdl: input too large")
	// ErrUnsupportedAlgorithm: a COSE algorithm, curve or digest algorithm outside ES256/ES384/ES512/EdDSA,
	// HMAC 256/256 and SHA-256/384/512.
	ErrUnsupportedAlgorithm = errors.New("mdl: unsupported algorithm")
	// ErrInvalidRequest: an Issue or Present request that cannot be honoured (missing key, bad element type, ...).
	ErrInvalidRequest = errors.New("mdl: invalid request")

	// ErrIssuerSignature: the issuerAuth COSE_Sign1 does not verify with the Document Signer certificate's key.
	ErrIssuerSignature = errors.New("mdl: issuer signature invalid")
	// ErrNoDocumentSigner: issuerAuth carries no x5chain (label 33) with the Document Signer certificate.
	ErrNoDocumentSigner = errors.New("mdl: no document signer certificate")
	// ErrUntrustedDocumentSigner: the Document Signer certificate does not chain to an IACA of the trust store
	// for the mDL document-signing purpose.
	ErrUntrustedDocumentSigner = errors.New("mdl: document signer not trusted")
	// ErrCertificateProfile: an IACA or Document Signer certificate breaks ISO/IEC 18013-5 Annex B.
	ErrCertificateProfile = errors.New("mdl: certificate breaks the ISO 18013-5 Annex B profile")
	// ErrMissingDocumentSignerEKU: a Document Signer certificate without extKeyUsage id-mdl-kp-mdlDS
	// (1.0.18013.5.1.2). Also matches ErrCertificateProfile.
	ErrMissingDocumentSignerEKU = errors.New("mdl: document signer certificate lacks the mDL DS extended key usage")
	// ErrMSONotYetValid: the MSO's validFrom is after the verification time.
	ErrMSONotYetValid = errors.New("mdl: MSO not yet valid")
	// ErrMSOExpired: the MSO's validUntil is before the verification time.
	ErrMSOExpired = errors.New("mdl: MSO expired")
	// ErrMSOSignedOutsideCertificate: the MSO's validityInfo.signed lies outside the DS certificate's validity.
	ErrMSOSignedOutsideCertificate = errors.New("mdl: MSO signed outside the document signer certificate's validity")
	// ErrDocTypeMismatch: the document's docType, the MSO's docType and the expected docType disagree.
	ErrDocTypeMismatch = errors.New("mdl: docType mismatch")
	// ErrDigestMismatch: a disclosed element's digest differs from the MSO's valueDigests entry (value changed).
	ErrDigestMismatch = errors.New("mdl: element digest mismatch")
	// ErrDigestIDMismatch: a disclosed element is signed under another digest ID than the one it carries (digest
	// ID swapped).
	ErrDigestIDMismatch = errors.New("mdl: element presented under another digest ID")
	// ErrUnknownDigestID: a disclosed element's digest ID (or namespace) has no entry in valueDigests.
	ErrUnknownDigestID = errors.New("mdl: element digest ID not in the MSO")
	// ErrDuplicateElement: the same digest ID or element identifier appears twice in one namespace.
	ErrDuplicateElement = errors.New("mdl: duplicate element")
	// ErrIssuingCountry: issuing_country (or issuing_jurisdiction) differs from the DS certificate's subject.
	ErrIssuingCountry = errors.New("mdl: issuing_country differs from the document signer certificate")
	// ErrDeviceAuth: deviceSignature or deviceMac does not verify over DeviceAuthentication for the session
	// transcript given (a presentation made for another session, or by another device key).
	ErrDeviceAuth = errors.New("mdl: device authentication failed")
	// ErrMissingSessionTranscript: device authentication was asked for without a SessionTranscript (or a MAC
	// without the reader's ephemeral key).
	ErrMissingSessionTranscript = errors.New("mdl: session transcript or reader key required")
	// ErrResponseStatus: a DeviceResponse whose status is not 0 (OK), or that carries no document.
	ErrResponseStatus = errors.New("mdl: device response reports an error")
	// ErrNoTrustStore: verification was asked for without a trust store (use SkipChainUnsafe to opt out).
	ErrNoTrustStore = errors.New("mdl: no trust store")
)

// Error is the typed error of this package: what was being done, why it failed, and the sentinel(s).
type Error struct {
	Op     string // "parse IssuerSigned", "verify issuerAuth", ...
	Reason string // a human reason, never secret
	Err    error  // sentinel
	Also   error  // a second sentinel (ErrMissingDocumentSignerEKU also matches ErrCertificateProfile), may be nil
	Cause  error  // underlying error, may be nil
}

func (e *Error) Error() string {
	s := "mdl: " + e.Op
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	if e.Cause != nil {
		s += ": " + strings.TrimPrefix(e.Cause.Error(), "mdl: ")
	}
	return s
}

// Unwrap returns the sentinel(s) and the cause.
func (e *Error) Unwrap() []error {
	out := []error{e.Err}
	if e.Also != nil {
		out = append(out, e.Also)
	}
	if e.Cause != nil {
		out = append(out, e.Cause)
	}
	return out
}

func newErr(op string, sentinel error, reason string, cause error) error {
	return &Error{Op: op, Reason: reason, Err: sentinel, Cause: cause}
}

// VerifyError is returned when a verification fails: the full report and every failed check's error. errors.Is
// matches the sentinel of each failed check.
type VerifyError struct {
	Result *Result
	Errs   []error
}

func (e *VerifyError) Error() string {
	if len(e.Errs) == 0 {
		return "mdl: verification failed"
	}
	var b strings.Builder
	b.WriteString("mdl: verification failed: ")
	for i, err := range e.Errs {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(strings.TrimPrefix(err.Error(), "mdl: "))
	}
	return b.String()
}

// Unwrap returns the failed checks' errors.
func (e *VerifyError) Unwrap() []error { return e.Errs }
