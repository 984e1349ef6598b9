package nameconstraints

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error this package returns matches one of them with errors.Is.
var (
	// ErrMalformed: DER (or JSON) that does not parse as a NameConstraints extension, or is not DER.
	ErrMalformed = errors.New("nameconstraints: malformed input")
	// ErrEmpty: neither permittedSubtrees nor excludedSubtrees (RFC 5280 §4.2.1.10: one of them MUST be present).
	ErrEmpty = errors.New("nameconstraints: no permitted or excluded subtrees")
	// ErrMinMax: a GeneralSubtree with a minimum other than 0 or with a maximum (RFC 5280 §4.2.1.10: the minimum
	// MUST be zero and the maximum MUST be absent).
	ErrMinMax = errors.New("nameconstraints: subtree minimum/maximum other than the RFC 5280 defaults")
	// ErrBadCIDR: an iPAddress subtree of the wrong length (not 8 or 32 octets), with a non-contiguous mask, or
	// a CIDR string that does not parse or has host bits set.
	ErrBadCIDR = errors.New("nameconstraints: bad iPAddress subtree")
	// ErrUnsupportedForm: otherName, x400Address, ediPartyName or registeredID subtrees, which this package
	// cannot enforce (RFC 5280 then requires rejecting certificates that carry such names).
	ErrUnsupportedForm = errors.New("nameconstraints: unsupported name form")
	// ErrInvalidName: a subtree (or a name to check) that is not a valid value of its form.
	ErrInvalidName = errors.New("nameconstraints: invalid name")
	// ErrNotFound: an API-passthrough document without a 2.5.29.30 custom extension.
	ErrNotFound = errors.New("nameconstraints: no name constraints extension")
	// ErrTooManyComparisons: a check that would compare more names × subtrees than CheckOptions.MaxComparisons.
	ErrTooManyComparisons = errors.New("nameconstraints: too many name constraint comparisons")

	// ErrExcluded: a name lies inside an excluded subtree (see *ViolationError).
	ErrExcluded = errors.New("nameconstraints: name is excluded")
	// ErrNotPermitted: permitted subtrees of the name's form exist and none of them contains the name.
	ErrNotPermitted = errors.New("nameconstraints: name is not permitted")
	// ErrUncheckableName: constraints of the name's form exist but the name cannot be matched against them (an
	// email address without '@', a URI without a host name or whose host is an IP address, RFC 5280
	// §4.2.1.10), so the certificate must be rejected.
	ErrUncheckableName = errors.New("nameconstraints: name cannot be checked against the constraints")
)

// Error is the typed error for bad input and exceeded bounds: what was being done, why, and the sentinel.
type Error struct {
	Op     string
	Reason string
	Err    error // sentinel
	Cause  error // underlying error, may be nil
}

func (e *Error) Error() string {
	s := "nameconstraints: " + e.Op
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

func errf(op string, sentinel error, format string, args ...any) error {
	return &Error{Op: op, Reason: fmt.Sprintf(format, args...), Err: sentinel}
}

// ViolationError reports a name that the constraints do not allow.
type ViolationError struct {
	// Name is the name that failed.
	Name Name
	// Source says where CheckCertificate found the name: "subjectAltName", "subject", "subject emailAddress" or
	// "subject commonName". It is empty for the direct Check methods.
	Source string
	// Subtree is the excluded subtree that contains the name (Err == ErrExcluded); nil otherwise.
	Subtree *Subtree
	// Reason explains an ErrUncheckableName.
	Reason string
	// Err is ErrExcluded, ErrNotPermitted or ErrUncheckableName.
	Err error
}

func (e *ViolationError) Error() string {
	src := ""
	if e.Source != "" {
		src = " (" + e.Source + ")"
	}
	switch e.Err {
	case ErrExcluded:
		sub := "?"
		if e.Subtree != nil {
			sub = e.Subtree.String()
		}
		return fmt.Sprintf("nameconstraints: %s%s is excluded by subtree %s", e.Name, src, sub)
	case ErrNotPermitted:
		return fmt.Sprintf("nameconstraints: %s%s is not in any permitted %s subtree", e.Name, src, e.Name.Form)
	default:
		return fmt.Sprintf("nameconstraints: %s%s cannot be checked: %s", e.Name, src, e.Reason)
	}
}

// Unwrap returns the sentinel (ErrExcluded, ErrNotPermitted or ErrUncheckableName).
func (e *ViolationError) Unwrap() error { return e.Err }
