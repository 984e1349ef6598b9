package nameconstraints

import (
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"net/netip"
	"net/url"
	"strings"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// DefaultMaxComparisons bounds the names × subtrees one check may compare, like crypto/x509's
// maxConstraintComparisons.
const DefaultMaxComparisons = 250000

// Name is one name to check: Value for FormDNS, FormEmail and FormURI, IP for FormIP, DN (DER) for FormDN.
type Name struct {
	Form  Form
	Value string
	IP    netip.Addr
	DN    []byte
}

// String renders the name with its form prefix (dns:, email:, ip:, uri:, dn:).
func (n Name) String() string {
	switch n.Form {
	case FormIP:
		return "ip:" + n.IP.String()
	case FormDN:
		return "dn:" + formatDN(n.DN)
	}
	return n.Form.prefix() + n.Value
}

// CommonNamePolicy says when CheckCertificate also treats the subject's commonName as a dNSName. RFC 5280 does
// not (the CN is not a name form); legacy TLS clients did, and OpenSSL still does for end-entity certificates
// without a DNS SAN.
type CommonNamePolicy uint8

const (
	// CommonNameIgnore (the zero value): the CN is only part of the subject DN.
	CommonNameIgnore CommonNamePolicy = iota
	// CommonNameIfNoDNSSAN: check CNs that are host names when the certificate has no dNSName SAN (OpenSSL's
	// behaviour for leaves).
	CommonNameIfNoDNSSAN
	// CommonNameAlways: check every CN that is a host name.
	CommonNameAlways
)

// CheckOptions tune CheckCertificate. The zero value is safe: the CN is not treated as a DNS name and at most
// DefaultMaxComparisons comparisons are made.
type CheckOptions struct {
	// CommonName is the profile's rule for the subject commonName (see CommonNamePolicy).
	CommonName CommonNamePolicy
	// MaxComparisons bounds names × subtrees; 0 or less means DefaultMaxComparisons. Exceeding it returns an
	// *Error matching ErrTooManyComparisons before any comparison is made.
	MaxComparisons int
}

func (o *CheckOptions) max() int {
	if o == nil || o.MaxComparisons <= 0 {
		return DefaultMaxComparisons
	}
	return o.MaxComparisons
}

// count returns the number of subtrees of form f.
func (c *Constraints) count(f Form) (perm, excl int) {
	for i := range c.Permitted {
		if c.Permitted[i].Form == f {
			perm++
		}
	}
	for i := range c.Excluded {
		if c.Excluded[i].Form == f {
			excl++
		}
	}
	return perm, excl
}

// Check checks one name: nil, or a *ViolationError matching ErrExcluded, ErrNotPermitted or ErrUncheckableName
// (or an *Error matching ErrTooManyComparisons when the constraints have more than DefaultMaxComparisons
// subtrees of the name's form). A form without subtrees is unconstrained.
func (c *Constraints) Check(n Name) error {
	if c == nil {
		return nil
	}
	p, e := c.count(n.Form)
	if p+e == 0 {
		return nil
	}
	if p+e > DefaultMaxComparisons {
		return errf("check", ErrTooManyComparisons, "%d subtrees of form %v (max %d)", p+e, n.Form,
			DefaultMaxComparisons)
	}
	return c.check(n, p > 0, nil)
}

// CheckDNS checks a dNSName ("www.example.com", or a wildcard "*.example.com": a wildcard is excluded when any
// name it stands for is, and permitted only when every name it stands for is).
func (c *Constraints) CheckDNS(name string) error { return c.Check(Name{Form: FormDNS, Value: name}) }

// CheckIP checks an iPAddress. IPv4 and IPv4-mapped IPv6 addresses are distinct, as in certificates.
func (c *Constraints) CheckIP(ip netip.Addr) error { return c.Check(Name{Form: FormIP, IP: ip}) }

// CheckEmail checks an rfc822Name mailbox ("user@example.com"): the local part case-sensitively, the host
// case-insensitively (RFC 5280 §7.5).
func (c *Constraints) CheckEmail(addr string) error {
	return c.Check(Name{Form: FormEmail, Value: addr})
}

// CheckURI checks a uniformResourceIdentifier by its host. A URI without an authority, or whose host is an IP
// address, cannot satisfy URI constraints (RFC 5280 §4.2.1.10: "the application MUST reject the certificate").
func (c *Constraints) CheckURI(uri string) error { return c.Check(Name{Form: FormURI, Value: uri}) }

// CheckDN checks a directoryName given as the DER of a Name (x509.Certificate.RawSubject, for example): it is
// within a subtree when its RDN sequence begins with the subtree's RDNs.
func (c *Constraints) CheckDN(der []byte) error { return c.Check(Name{Form: FormDN, DN: der}) }

// prepared name
type prepared struct {
	host  string // DNS name, email host, URI host
	local string // email local part
	ip    netip.Addr
	rdns  []rdn
}

func uncheckable(n Name, reason string) error {
	return &ViolationError{Name: n, Reason: reason, Err: ErrUncheckableName}
}

func prepare(n Name) (prepared, error) {
	switch n.Form {
	case FormDNS:
		if !lenientHost(n.Value) {
			return prepared{}, uncheckable(n, "not a valid DNS name")
		}
		return prepared{host: n.Value}, nil
	case FormEmail:
		at := strings.LastIndexByte(n.Value, '@')
		if at <= 0 {
			return prepared{}, uncheckable(n, "not a mailbox (local@host)")
		}
		host := n.Value[at+1:]
		if !lenientHost(host) {
			return prepared{}, uncheckable(n, "mailbox host is not a valid domain name")
		}
		local, ok := unquoteLocalPart(n.Value[:at])
		if !ok {
			return prepared{}, uncheckable(n, "mailbox local part is a malformed quoted-string")
		}
		return prepared{local: local, host: host}, nil
	case FormURI:
		u, err := url.Parse(n.Value)
		if err != nil || u.Opaque != "" || u.Host == "" {
			return prepared{}, uncheckable(n, "URI has no authority with a host name (RFC 5280 §4.2.1.10)")
		}
		host := u.Hostname()
		if strings.HasPrefix(u.Host, "[") {
			return prepared{}, uncheckable(n, "URI host is an IP literal (RFC 5280 §4.2.1.10)")
		}
		if _, err := netip.ParseAddr(host); err == nil {
			return prepared{}, uncheckable(n, "URI host is an IP address (RFC 5280 §4.2.1.10)")
		}
		if !lenientHost(host) {
			return prepared{}, uncheckable(n, "URI host is not a fully qualified domain name")
		}
		return prepared{host: host}, nil
	case FormIP:
		if !n.IP.IsValid() || n.IP.Zone() != "" {
			return prepared{}, uncheckable(n, "not an IP address")
		}
		return prepared{ip: n.IP}, nil
	case FormDN:
		rdns, err := parseRDNSequence(n.DN)
		if err != nil {
			return prepared{}, uncheckable(n, "not a DER Name")
		}
		return prepared{rdns: rdns}, nil
	}
	return prepared{}, uncheckable(n, "unsupported name form")
}

// dnSubtrees holds the directoryName subtrees of a Constraints parsed once, so that checking many DNs (a
// certificate's subject and directoryName SANs) costs one parse per subtree rather than one per comparison.
// An entry is nil when the subtree's DER does not parse (it then matches nothing).
type dnSubtrees struct {
	perm, excl [][]rdn
}

func (c *Constraints) parseDNSubtrees() *dnSubtrees {
	d := &dnSubtrees{perm: make([][]rdn, len(c.Permitted)), excl: make([][]rdn, len(c.Excluded))}
	for _, l := range []struct {
		list []Subtree
		out  [][]rdn
	}{{c.Permitted, d.perm}, {c.Excluded, d.excl}} {
		for i := range l.list {
			if l.list[i].Form != FormDN {
				continue
			}
			if rdns, err := parseRDNSequence(l.list[i].DN); err == nil {
				if rdns == nil {
					rdns = []rdn{} // the empty Name: every DN is subordinate to it
				}
				l.out[i] = rdns
			}
		}
	}
	return d
}

// check checks one name; dns may be nil (it is parsed here when n is a directoryName).
func (c *Constraints) check(n Name, hasPermitted bool, dns *dnSubtrees) error {
	p, err := prepare(n)
	if err != nil {
		return err
	}
	if n.Form == FormDN && dns == nil {
		dns = c.parseDNSubtrees()
	}
	for i := range c.Excluded {
		s := &c.Excluded[i]
		if s.Form == n.Form && match(&p, s, true, dnAt(dns, false, i)) {
			return &ViolationError{Name: n, Subtree: s, Err: ErrExcluded}
		}
	}
	if hasPermitted {
		for i := range c.Permitted {
			s := &c.Permitted[i]
			if s.Form == n.Form && match(&p, s, false, dnAt(dns, true, i)) {
				return nil
			}
		}
		return &ViolationError{Name: n, Err: ErrNotPermitted}
	}
	return nil
}

// dnAt returns the parsed i-th permitted (or excluded) directoryName subtree, or nil.
func dnAt(d *dnSubtrees, permitted bool, i int) []rdn {
	if d == nil {
		return nil
	}
	if permitted {
		return d.perm[i]
	}
	return d.excl[i]
}

// match reports whether the prepared name lies in subtree s (of the name's form). dn is s parsed, for a
// directoryName subtree (nil when it does not parse).
func match(p *prepared, s *Subtree, excluded bool, dn []rdn) bool {
	switch s.Form {
	case FormDNS:
		if matchDNS(p.host, s.Name) {
			return true
		}
		// A wildcard stands for every single label: "*.example.com" is excluded by "prod.example.com".
		if excluded && strings.HasPrefix(p.host, "*.") && s.Name != "" && s.Name[0] != '.' {
			if dot := strings.IndexByte(s.Name, '.'); dot > 0 && strings.EqualFold(s.Name[dot:], p.host[1:]) {
				return true
			}
		}
		return false
	case FormEmail:
		c := s.Name
		if c == "" {
			return false
		}
		if at := strings.LastIndexByte(c, '@'); at >= 0 {
			// RFC 5322 §3.2.4: a quoted-string is semantically identical to the atom it quotes, so
			// "ceo"@example.com is the mailbox ceo@example.com (as crypto/x509 compares them).
			local, ok := unquoteLocalPart(c[:at])
			if !ok {
				local = c[:at]
			}
			return p.local == local && strings.EqualFold(p.host, c[at+1:])
		}
		if c[0] == '.' {
			return hasSuffixFold(p.host, c)
		}
		return strings.EqualFold(p.host, c)
	case FormURI:
		if s.Name == "" {
			return false
		}
		if s.Name[0] == '.' {
			return hasSuffixFold(p.host, s.Name)
		}
		return strings.EqualFold(p.host, s.Name)
	case FormIP:
		return s.IP.Contains(p.ip)
	case FormDN:
		return dn != nil && dnHasPrefix(p.rdns, dn)
	}
	return false
}

// unquoteLocalPart returns the mailbox local part with a quoted-string form ("a\"b") reduced to its content (RFC
// 5321 §4.1.2 Quoted-string: DQUOTE, then characters or backslash quoted-pairs, then DQUOTE). A local part that
// does not begin with DQUOTE is returned unchanged; ok is false for an unterminated or otherwise malformed
// quoted-string.
func unquoteLocalPart(s string) (string, bool) {
	if s == "" || s[0] != '"' {
		return s, true
	}
	if len(s) < 2 || s[len(s)-1] != '"' {
		return "", false
	}
	inner := s[1 : len(s)-1]
	var b strings.Builder
	b.Grow(len(inner))
	for i := 0; i < len(inner); i++ {
		switch c := inner[i]; c {
		case '\\':
			if i+1 >= len(inner) {
				return "", false // the backslash escapes the closing DQUOTE
			}
			i++
			b.WriteByte(inner[i])
		case '"':
			return "", false
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), true
}

// matchDNS: "" matches everything; ".example.com" matches proper subdomains; "example.com" matches itself and
// its subdomains (RFC 5280 §4.2.1.10), label-aligned and case-insensitively.
func matchDNS(name, c string) bool {
	if c == "" {
		return true
	}
	if c[0] == '.' {
		return hasSuffixFold(name, c)
	}
	if len(name) == len(c) {
		return strings.EqualFold(name, c)
	}
	return len(name) > len(c) && name[len(name)-len(c)-1] == '.' && strings.EqualFold(name[len(name)-len(c):], c)
}

// hasSuffixFold reports whether s is longer than suffix and ends with it, ignoring ASCII case.
func hasSuffixFold(s, suffix string) bool {
	return len(s) > len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix)
}

// source-tagged name gathered from a certificate
type certName struct {
	n      Name
	source string
}

// CheckCertificate checks every name of cert against c: each subjectAltName of the five forms (directoryName
// SANs included), the subject DN when it is not empty, the subject's emailAddress attributes as rfc822Names
// (always, as OpenSSL does; RFC 5280 requires it when there is no subjectAltName), and the subject commonName as
// a dNSName when opts.CommonName says so. It returns the first violation as a *ViolationError, or an *Error
// (ErrTooManyComparisons, or ErrMalformed for an undecodable subjectAltName). opts may be nil.
//
// In path validation (RFC 5280 §6.1.3 (b)–(c)) call it, for each CA in the path with constraints, on every
// certificate below that CA — except self-issued intermediates, which the RFC skips.
func (c *Constraints) CheckCertificate(cert *x509.Certificate, opts *CheckOptions) error {
	if c == nil {
		return nil
	}
	if cert == nil {
		return errf("check certificate", ErrMalformed, "nil certificate")
	}
	var perm, excl [FormDN + 1]int
	for _, f := range forms {
		perm[f], excl[f] = c.count(f)
	}
	names, err := certificateNames(cert, opts)
	if err != nil {
		return err
	}
	total := 0
	for _, cn := range names {
		total += perm[cn.n.Form] + excl[cn.n.Form]
	}
	if max := opts.max(); total > max {
		return errf("check certificate", ErrTooManyComparisons, "%d names × subtrees comparisons (max %d)",
			total, max)
	}
	var dns *dnSubtrees
	if perm[FormDN]+excl[FormDN] > 0 {
		dns = c.parseDNSubtrees()
	}
	for _, cn := range names {
		f := cn.n.Form
		if perm[f]+excl[f] == 0 {
			continue
		}
		if err := c.check(cn.n, perm[f] > 0, dns); err != nil {
			if v, ok := err.(*ViolationError); ok {
				v.Source = cn.source
			}
			return err
		}
	}
	return nil
}

var oidSubjectAltName = asn1.ObjectIdentifier{2, 5, 29, 17}

// certificateNames gathers the names CheckCertificate checks.
func certificateNames(cert *x509.Certificate, opts *CheckOptions) ([]certName, error) {
	var names []certName
	hasDNSSAN := false
	for _, e := range cert.Extensions {
		if !e.Id.Equal(oidSubjectAltName) {
			continue
		}
		sans, err := parseGeneralNames(e.Value)
		if err != nil {
			return nil, err
		}
		for _, n := range sans {
			if n.Form == FormDNS {
				hasDNSSAN = true
			}
			names = append(names, certName{n, "subjectAltName"})
		}
	}
	subject, err := parseRDNSequence(cert.RawSubject)
	if err != nil {
		return nil, errf("check certificate", ErrMalformed, "subject is not a DER Name")
	}
	if len(subject) > 0 {
		names = append(names, certName{Name{Form: FormDN, DN: cert.RawSubject}, "subject"})
	}
	cnPolicy := CommonNameIgnore
	if opts != nil {
		cnPolicy = opts.CommonName
	}
	for _, r := range subject {
		for _, a := range r {
			oid, _ := decodeOID(a.oid)
			s, isString := decodeDirectoryString(a.tag, a.val)
			switch {
			case oid.Equal(oidEmailAddress):
				if !isString {
					s = "#" + hex.EncodeToString(a.raw)
				}
				names = append(names, certName{Name{Form: FormEmail, Value: s}, "subject emailAddress"})
			case oid.Equal(oidCommonName) && isString:
				if cnPolicy == CommonNameAlways || cnPolicy == CommonNameIfNoDNSSAN && !hasDNSSAN {
					if looksLikeHostname(s) {
						names = append(names, certName{Name{Form: FormDNS, Value: s}, "subject commonName"})
					}
				}
			}
		}
	}
	return names, nil
}

// looksLikeHostname: LDH labels (a leading "*." allowed), at least two labels — OpenSSL's cn2dnsid test.
func looksLikeHostname(s string) bool {
	h := strings.TrimPrefix(s, "*.")
	return strings.Contains(h, ".") && strictHost(h) == nil
}

// parseGeneralNames decodes a subjectAltName value into Names of the five forms (others are skipped: no
// constraint of theirs can exist, since Parse refuses them).
func parseGeneralNames(der []byte) ([]Name, error) {
	const op = "parse subjectAltName"
	in := cryptobyte.String(der)
	var seq cryptobyte.String
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() {
		return nil, errf(op, ErrMalformed, "not a GeneralNames SEQUENCE")
	}
	var out []Name
	for !seq.Empty() {
		var v cryptobyte.String
		var tag cbasn1.Tag
		if !seq.ReadAnyASN1(&v, &tag) {
			return nil, errf(op, ErrMalformed, "bad GeneralName")
		}
		switch tag {
		case tagDNS:
			out = append(out, Name{Form: FormDNS, Value: string(v)})
		case tagEmail:
			out = append(out, Name{Form: FormEmail, Value: string(v)})
		case tagURI:
			out = append(out, Name{Form: FormURI, Value: string(v)})
		case tagIP:
			ip, ok := netip.AddrFromSlice(v)
			if !ok {
				return nil, errf(op, ErrMalformed, "iPAddress of %d octets", len(v))
			}
			out = append(out, Name{Form: FormIP, IP: ip})
		case tagDN:
			var name cryptobyte.String
			if !v.ReadASN1Element(&name, cbasn1.SEQUENCE) || !v.Empty() {
				return nil, errf(op, ErrMalformed, "bad directoryName")
			}
			out = append(out, Name{Form: FormDN, DN: name})
		}
	}
	return out, nil
}
