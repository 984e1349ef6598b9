package x509ext

import (
	"strings"
	"time"
)

// Policy is an issuance policy checked by Issue on every certificate an Issuer makes — the offline counterpart
// of AWS Private CA's IAM condition keys (acm-pca:TemplateArn and friends). The zero Policy allows everything.
type Policy struct {
	// AllowedKeyAlgorithms lists the subject key algorithms allowed; empty allows all.
	AllowedKeyAlgorithms []KeyAlgorithm
	// AllowedProfiles lists profile names or template ARNs allowed; empty allows all.
	AllowedProfiles []string
	// DenyWildcardNames refuses DNS names (subjectAltName dNSName or a subject CN) containing "*".
	DenyWildcardNames bool
	// AllowedDNSSuffixes, when non-empty, requires every dNSName in subjectAltName to equal one of these domains
	// or to be below one of them ("example.com" allows "example.com" and "a.b.example.com", not "badexample.com").
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
	if p.DenyWildcardNames {
		for _, n := range append([]string{d.Subject.CommonName}, d.SubjectAltNames.DNSNames...) {
			if strings.Contains(n, "*") {
				return newErr(op, ErrPolicy, "wildcard name "+n+" not allowed", nil)
			}
		}
	}
	if len(p.AllowedDNSSuffixes) > 0 {
		for _, n := range d.SubjectAltNames.DNSNames {
			if !dnsUnder(n, p.AllowedDNSSuffixes) {
				return newErr(op, ErrPolicy, "DNS name "+n+" outside the allowed domains", nil)
			}
		}
	}
	return nil
}

func dnsUnder(name string, suffixes []string) bool {
	n := strings.ToLower(strings.TrimSuffix(name, "."))
	for _, s := range suffixes {
		s = strings.ToLower(strings.TrimPrefix(strings.TrimSuffix(s, "."), "."))
		if s == "" {
			continue
		}
		if n == s || strings.HasSuffix(n, "."+s) {
			return true
		}
	}
	return false
}
