package cms

import (
	"errors"
	"strconv"
	"strings"
)

// Sentinel errors: every error returned by this package matches at least one with errors.Is. Verification
// failures carry the reason of each signer that failed.
var (
	// ErrMalformed: input that is not a well-formed (BER or DER) CMS SignedData, or breaks its rules.
	ErrMalformed = errors.New("cms: malformed SignedData")
	// ErrTooLarge: input beyond a configured bound (size, nesting depth, element, signer or certificate count).
	ErrTooLarge = errors.New("cms: input exceeds a limit")
	// ErrUnsupported: a digest or signature algorithm, or a content type, that cms does not handle.
	ErrUnsupported = errors.New("cms: unsupported algorithm")
	// ErrInvalidSigner: a signer that cannot be used (key and certificate disagree, missing certificate, ...).
	ErrInvalidSigner = errors.New("cms: invalid signer")
	// ErrContent: content missing when needed (detached SignedData without content) or given twice.
	ErrContent = errors.New("cms: content missing or ambiguous")
	// ErrContentDigest: the messageDigest attribute does not match the content.
	ErrContentDigest = errors.New("cms: content digest mismatch")
	// ErrBadSignature: a SignerInfo's signature does not verify under the signer's public key.
	ErrBadSignature = errors.New("cms: bad signature")
	// ErrSignerNotFound: no certificate matches a SignerInfo's signer identifier.
	ErrSignerNotFound = errors.New("cms: signer certificate not found")
	// ErrUntrusted: the signer's certificate does not chain to a trust anchor of the store.
	ErrUntrusted = errors.New("cms: signer certificate not trusted")
	// ErrEKU: the signer's certificate lacks the extended key usage asked for (codeSigning by default) or the
	// digitalSignature key usage.
	ErrEKU = errors.New("cms: certificate not valid for this purpose")
	// ErrExpired: the signer's certificate is not valid at the verification time, or the signing time lies
	// outside its validity.
	ErrExpired = errors.New("cms: certificate expired or not yet valid")
	// ErrAlgorithmProtection: the CMSAlgorithmProtection attribute (RFC 6211) contradicts the SignerInfo's
	// algorithms, or is missing when required.
	ErrAlgorithmProtection = errors.New("cms: algorithm protection mismatch")
	// ErrDigestNotAllowed: a digest algorithm not allowed with the signature algorithm (RFC 9882 §3 for ML-DSA,
	// RFC 8419 for Ed25519).
	ErrDigestNotAllowed = errors.New("cms: digest algorithm not allowed for this key")
	// ErrAttributes: signed attributes missing, duplicated or malformed (contentType, messageDigest, signingTime).
	ErrAttributes = errors.New("cms: bad signed attributes")
	// ErrPolicy: the signers that verified do not satisfy the verification policy.
	ErrPolicy = errors.New("cms: verification policy not satisfied")
	// ErrSign: a signer failed to sign.
	ErrSign = errors.New("cms: signing failed")
)

// Error is the typed error of this package: the operation, the signer concerned (index into SignerInfos, -1 for
// the SignedData as a whole), the reason (a sentinel above, which errors.Is matches) and an underlying cause.
// It never carries key material.
type Error struct {
	Op     string // "parse", "sign", "verify", ...
	Signer int    // index of the SignerInfo (or of the Signer when signing), -1 if none
	Reason error  // one of the sentinels
	Detail string // human detail, never secret
	Cause  error  // underlying error (alg, x509ext, truststore), may be nil
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("cms: ")
	b.WriteString(e.Op)
	if e.Signer >= 0 {
		b.WriteString(" signer ")
		b.WriteString(strconv.Itoa(e.Signer))
	}
	b.WriteString(": ")
	b.WriteString(strings.TrimPrefix(e.Reason.Error(), "cms: "))
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	if e.Cause != nil {
		b.WriteString(": ")
		b.WriteString(e.Cause.Error())
	}
	return b.String()
}

// Unwrap returns the reason and the cause.
func (e *Error) Unwrap() []error {
	if e.Cause != nil {
		return []error{e.Reason, e.Cause}
	}
	return []error{e.Reason}
}

// VerifyError is returned when a SignedData does not satisfy the verification policy. Errors lists every
// signer's failure (an *Error each); errors.Is matches ErrPolicy and each of their reasons.
type VerifyError struct {
	Policy Policy
	Errors []error
}

func (e *VerifyError) Error() string {
	var b strings.Builder
	b.WriteString("cms: verification failed (policy ")
	b.WriteString(e.Policy.String())
	b.WriteString(")")
	for _, err := range e.Errors {
		b.WriteString("; ")
		b.WriteString(strings.TrimPrefix(err.Error(), "cms: "))
	}
	return b.String()
}

// Unwrap returns ErrPolicy and each signer's error.
func (e *VerifyError) Unwrap() []error {
	return append([]error{ErrPolicy}, e.Errors...)
}

func newErr(op string, signer int, reason error, detail string, cause error) *Error {
	return &Error{Op: op, Signer: signer, Reason: reason, Detail: detail, Cause: cause}
}

func malformed(detail string) error {
	return &Error{Op: "parse", Signer: -1, Reason: ErrMalformed, Detail: detail}
}
