package truststore

// Name constraints (RFC 5280 §4.2.1.10, §6.1.3 (b)–(c)) through pkikit/nameconstraints: every name of a
// certificate below a CA with constraints — subject DN, subject emailAddress attributes, and subjectAltNames of
// every form (DNS, IP, email, URI, directoryName) — must be within the permitted subtrees and outside the
// excluded ones. The CN is not a name form and is never checked as a DNS name.

import (
	"encoding/asn1"

	"github.com/pkikit/pkikit/nameconstraints"
	"github.com/pkikit/pkikit/x509ext"
)

// hasNameConstraints reports whether c carries a nameConstraints extension (cheap: no parsing).
func hasNameConstraints(c *x509ext.Certificate) bool {
	for _, e := range c.Extensions {
		if e.Id.Equal(nameconstraints.OID) {
			return true
		}
	}
	return false
}

// handledByNameConstraints reports whether a critical extension crypto/x509 left unhandled (nameConstraints
// with directoryName subtrees, for example) is one this package enforces: a nameConstraints extension that
// nameconstraints parses completely. Constraints of forms it cannot enforce (otherName, x400Address,
// ediPartyName, registeredID) stay unknown, and the certificate is rejected.
func handledByNameConstraints(oid asn1.ObjectIdentifier, c *x509ext.Certificate) bool {
	if !oid.Equal(nameconstraints.OID) {
		return false
	}
	_, err := nameconstraints.FromCertificate(c.Certificate)
	return err == nil
}

// checkNameConstraints checks every name of cert against the name constraints of ca.
func checkNameConstraints(ca, cert *x509ext.Certificate, _ bool) error {
	if !hasNameConstraints(ca) {
		return nil
	}
	nc, err := nameconstraints.FromCertificate(ca.Certificate)
	if err != nil {
		return err
	}
	return nc.CheckCertificate(cert.Certificate, nil)
}
