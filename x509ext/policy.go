package x509ext

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Policy is an issuance policy checked by Issue on every certificate an Issuer makes — the offline counterpart
// of AWS Private CA's IAM condition keys (acm-pca:TemplateArn and friends). The zero Policy allows everything.
type Policy struct {
	// AllowedKeyAlgorithms lists the subject key algorithms allowed; empty allows all.
	AllowedKeyAlgorithms []KeyAlgorithm
	// AllowedProfiles lists profile names or template ARNs allowed; empty allows all.
	AllowedProfiles []string
	// DenyWildcardNames refuses DNS names (subjectAltName dNSName or any subject commonName) containing "*".
	DenyWildcardNames bool
	// AllowedDNSSuffixes, when non-empty, requires every dNSName in subjectAltName, and every subject commonName
	// that has the shape of a host name, to equal one of these domains or to be below one of them ("example.com"
	// allows "example.com" and "a.b.example.com", not "badexample.com"). Names compare ASCII case-insensitively
	// with one trailing dot ignored; names with non-ASCII bytes never match. The names checked are read from the
	// subjectAltName extension and subject exactly as they will be signed.
	AllowedDNSSuffixes []string
	// MaxValidity bounds NotAfter − NotBefore; 0 means no bound.
	MaxValidity time.Duration
	// DenyCA refuses CA certificates.
	DenyCA bool
}

// Check applies the policy to a draft certificate; refusals match ErrPolicy.
func (p *Policy) Check(d *Draft) error {
	const op = "issuance policy"
	if p == nil {
		return nil
	}
	if len(p.AllowedKeyAlgorithms) > 0 && !containsKT(p.AllowedKeyAlgorithms, d.KeyAlgorithm) {
		return newErr(op, ErrPolicy, "key algorithm "+d.KeyAlgorithm.String()+" not allowed", nil)
	}
	if len(p.AllowedProfiles) > 0 {
		ok := false
		for _, name := range p.AllowedProfiles {
			if d.Profile != nil && (name == d.Profile.Name || (d.Profile.ARN != "" && name == d.Profile.ARN)) {
				ok = true
				break
			}
		}
		if !ok {
			return newErr(op, ErrPolicy, "profile not allowed", nil)
		}
	}
	if p.DenyCA && d.IsCA {
		return newErr(op, ErrPolicy, "CA certificates not allowed", nil)
	}
	if p.MaxValidity > 0 && d.NotAfter.Sub(d.NotBefore) > p.MaxValidity {
		return newErr(op, ErrPolicy, "validity longer than "+p.MaxValidity.String(), nil)
	}
	if !p.DenyWildcardNames && len(p.AllowedDNSSuffixes) == 0 {
		return nil
	}
	// The names are read from what will be signed (the subjectAltName extension and the raw subject), so no
	// name form or attribute the draft's parsed fields leave out escapes the checks.
	dnsNames, err := draftDNSNames(d)
	if err != nil {
		return newErr(op, ErrPolicy, "cannot read subjectAltName", err)
	}
	cns := draftCommonNames(d)
	if p.DenyWildcardNames {
		for _, n := range append(append([]string{}, cns...), dnsNames...) {
			if strings.Contains(n, "*") {
				return newErr(op, ErrPolicy, "wildcard name "+strconv.Quote(n)+" not allowed", nil)
			}
		}
	}
	if len(p.AllowedDNSSuffixes) > 0 {
		for _, n := range dnsNames {
			if !dnsUnder(n, p.AllowedDNSSuffixes) {
				return newErr(op, ErrPolicy, "DNS name "+strconv.Quote(n)+" outside the allowed domains", nil)
			}
		}
		// A common name that is a host name is one too for clients that still read it (RFC 6125 §6.4.4).
		for _, n := range cns {
			if looksLikeHostname(n) && !dnsUnder(n, p.AllowedDNSSuffixes) {
				return newErr(op, ErrPolicy, "common name "+strconv.Quote(n)+" outside the allowed domains", nil)
			}
		}
	}
	return nil
}

// draftDNSNames returns the dNSName entries of the draft's subjectAltName extension (the one to be signed).
func draftDNSNames(d *Draft) ([]string, error) {
	for _, e := range d.Extensions {
		if !e.Id.Equal(OIDExtensionSubjectAltName) {
			continue
		}
		s := cryptobyte.String(e.Value)
		var seq cryptobyte.String
		if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() {
			return nil, errors.New("subjectAltName is not a SEQUENCE")
		}
		var out []string
		for !seq.Empty() {
			var v cryptobyte.String
			var tag cbasn1.Tag
			if !seq.ReadAnyASN1(&v, &tag) {
				return nil, errors.New("malformed GeneralName")
			}
			if tag == cbasn1.Tag(2).ContextSpecific() {
				out = append(out, string(v))
			}
		}
		return out, nil
	}
	return d.SubjectAltNames.DNSNames, nil
}

// draftCommonNames returns every commonName attribute of the subject to be signed (a Name may hold several;
// pkix.Name keeps only one).
func draftCommonNames(d *Draft) []string {
	var rdns pkix.RDNSequence
	if rest, err := asn1.Unmarshal(d.RawSubject, &rdns); err != nil || len(rest) != 0 {
		if d.Subject.CommonName == "" {
			return nil
		}
		return []string{d.Subject.CommonName}
	}
	var out []string
	for _, rdn := range rdns {
		for _, atv := range rdn {
			if atv.Type.Equal(oidCommonName) {
				if v, ok := atv.Value.(string); ok {
					out = append(out, v)
				} else {
					out = append(out, fmt.Sprint(atv.Value))
				}
			}
		}
	}
	return out
}

var oidCommonName = asn1.ObjectIdentifier{2, 5, 4, 3}

// looksLikeHostname reports whether s has the shape of a DNS name (letters, digits, '-', '_', '*', dots, at
// least one dot) and is not an IP address.
func looksLikeHostname(s string) bool {
	if !strings.Contains(strings.Trim(s, "."), ".") || net.ParseIP(s) != nil {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '*' || c == '.') {
			return false
		}
	}
	return true
}

// dnsUnder reports whether name equals one of suffixes or is below one, comparing ASCII case-insensitively and
// ignoring one trailing dot on either. Names with non-ASCII bytes never match (Unicode case folding would let
// "\u212a" match "k").
func dnsUnder(name string, suffixes []string) bool {
	n, ok := asciiLower(strings.TrimSuffix(name, "."))
	if !ok || n == "" {
		return false
	}
	for _, s := range suffixes {
		s, ok := asciiLower(strings.TrimPrefix(strings.TrimSuffix(s, "."), "."))
		if !ok || s == "" {
			continue
		}
		if n == s || strings.HasSuffix(n, "."+s) {
			return true
		}
	}
	return false
}

func asciiLower(s string) (string, bool) {
	b := []byte(s)
	for i, c := range b {
		if c >= 0x80 {
			return "", false
		}
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b), true
}
