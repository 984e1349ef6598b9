package nameconstraints

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
)

// Form is a GeneralName form (RFC 5280 §4.2.1.6) this package constrains.
type Form uint8

// The name forms this package encodes, decodes and enforces.
const (
	FormDNS   Form = iota + 1 // dNSName [2]
	FormEmail                 // rfc822Name [1]
	FormIP                    // iPAddress [7]
	FormURI                   // uniformResourceIdentifier [6]
	FormDN                    // directoryName [4]
)

var forms = [...]Form{FormDNS, FormEmail, FormIP, FormURI, FormDN}

// String returns the RFC 5280 name of the form (dNSName, rfc822Name, ...).
func (f Form) String() string {
	switch f {
	case FormDNS:
		return "dNSName"
	case FormEmail:
		return "rfc822Name"
	case FormIP:
		return "iPAddress"
	case FormURI:
		return "uniformResourceIdentifier"
	case FormDN:
		return "directoryName"
	}
	return fmt.Sprintf("Form(%d)", uint8(f))
}

// prefix is the ParseSubtree / String prefix of the form.
func (f Form) prefix() string {
	switch f {
	case FormDNS:
		return "dns:"
	case FormEmail:
		return "email:"
	case FormIP:
		return "ip:"
	case FormURI:
		return "uri:"
	case FormDN:
		return "dn:"
	}
	return "?:"
}

// Subtree is one GeneralSubtree: a base name of one form (minimum 0, maximum absent, as RFC 5280 requires).
type Subtree struct {
	Form Form
	// Name is the IA5String of a FormDNS, FormEmail or FormURI subtree, as encoded:
	//   dNSName     "example.com" (the domain and every subdomain), ".example.com" (subdomains only),
	//               "" (every DNS name; useful in Excluded);
	//   rfc822Name  "user@example.com" (one mailbox), "example.com" (every mailbox on that host),
	//               ".example.com" (every mailbox on a host under example.com);
	//   URI         "host.example.com" (URIs whose host is exactly that), ".example.com" (hosts under it).
	Name string
	// IP is the address range of a FormIP subtree. IPv4 and IPv6 ranges are distinct (an IPv4-mapped IPv6
	// range is IPv6). Ranges decoded from DER may carry host bits; they are ignored when matching.
	IP netip.Prefix
	// DN is the DER of the Name (RDNSequence) of a FormDN subtree.
	DN []byte
}

// String returns the subtree in ParseSubtree's syntax, always with its form prefix ("dns:.example.com",
// "ip:10.0.0.0/8", "email:@example.com"...). ParseSubtree(s.String()) gives s back (for DER-decoded names
// outside ParseSubtree's stricter syntax it may fail).
func (s Subtree) String() string {
	switch s.Form {
	case FormIP:
		return "ip:" + s.IP.String()
	case FormDN:
		return "dn:" + formatDN(s.DN)
	case FormEmail:
		if isHost(s.Name) && !strings.HasPrefix(s.Name, ".") {
			return "email:@" + s.Name
		}
	}
	return s.Form.prefix() + s.Name
}

// Equal reports whether two subtrees encode to the same GeneralName.
func (s Subtree) Equal(o Subtree) bool {
	return s.Form == o.Form && s.Name == o.Name && s.IP == o.IP && bytes.Equal(s.DN, o.DN)
}

// ParseSubtree parses one subtree written as text. The syntax is a form prefix followed by the name, where the
// prefix may be left out for the forms that are unambiguous:
//
//	dns:example.com     dNSName; example.com and all its subdomains (RFC 5280 §4.2.1.10)
//	dns:.example.com    dNSName; subdomains of example.com only (CA/Browser Forum practice, see the package doc)
//	dns:                dNSName ""; every DNS name (for excludedSubtrees)
//	example.com         the same as dns:example.com: a name with no prefix, '@' or '/' is a DNS name
//	ip:10.0.0.0/8       iPAddress; also 2001:db8::/32 or any bare CIDR; host bits must be zero, and
//	                    IPv4-mapped IPv6 ranges (::ffff:0:0/96 and inside) are refused: write the IPv4 range
//	email:a@example.com rfc822Name mailbox; also bare a@example.com
//	email:@example.com  rfc822Name host: every mailbox at example.com; also bare @example.com and
//	                    email:example.com
//	email:.example.com  rfc822Name domain: every mailbox at a host under example.com
//	uri:host.example.com  uniformResourceIdentifier host; uri:.example.com for hosts under example.com
//	dn:CN=Sub CA,O=Example,C=US  directoryName in RFC 4514 syntax (most significant RDN last, '+' for
//	                    multi-valued RDNs, backslash escapes, #hex for a DER value); C and SERIALNUMBER are
//	                    PrintableString, DC and emailAddress IA5String, the rest PrintableString when possible
//	                    and UTF8String otherwise.
//
// Prefixes are case-insensitive. DNS labels are LDH (letters, digits, hyphen, plus underscore), at most 63
// octets, with no trailing dot; names must be ASCII (use the A-label xn-- form of an IDN). A bare IP address
// without a prefix length is refused (ErrBadCIDR) rather than read as a DNS name. otherName, x400Address,
// ediPartyName and registeredID are ErrUnsupportedForm.
func ParseSubtree(s string) (Subtree, error) {
	const op = "parse subtree"
	if i := strings.IndexByte(s, ':'); i > 0 {
		switch strings.ToLower(s[:i]) {
		case "dns":
			return parseDNSSubtree(s[i+1:])
		case "ip":
			return parseIPSubtree(s[i+1:])
		case "email", "rfc822", "rfc822name":
			return parseEmailSubtree(s[i+1:])
		case "uri":
			return parseURISubtree(s[i+1:])
		case "dn", "dirname":
			der, err := parseDN(s[i+1:])
			if err != nil {
				return Subtree{}, err
			}
			return Subtree{Form: FormDN, DN: der}, nil
		case "othername", "x400", "x400address", "edipartyname", "rid", "registeredid":
			return Subtree{}, errf(op, ErrUnsupportedForm, "%s subtrees are not supported", s[:i])
		}
	}
	switch {
	case strings.Contains(s, "/"):
		return parseIPSubtree(s)
	case strings.Contains(s, "@"):
		return parseEmailSubtree(s)
	}
	if _, err := netip.ParseAddr(s); err == nil {
		return Subtree{}, errf(op, ErrBadCIDR, "%q is an address, not a range: add a prefix length (/32, /128)", s)
	}
	if s == "" {
		return Subtree{}, errf(op, ErrInvalidName, "empty subtree (write dns: for every DNS name)")
	}
	return parseDNSSubtree(s)
}

// ParseSubtreeList parses a comma-separated list of ParseSubtree items ("-p .example.com,10.0.0.0/8"). Because
// a DN contains commas, a dn: item extends over the following comma-separated segments that look like an
// attribute assignment (TYPE=value); write other items before the dn: items, or escape commas in DN values
// (\,). Empty segments are refused.
func ParseSubtreeList(list string) ([]Subtree, error) {
	if strings.TrimSpace(list) == "" {
		return nil, nil
	}
	var items []string
	segs := splitUnescaped(list, ',')
	for _, seg := range segs {
		if len(items) > 0 && strings.HasPrefix(strings.ToLower(items[len(items)-1]), "dn:") && looksLikeATV(seg) {
			items[len(items)-1] += "," + seg
			continue
		}
		items = append(items, seg)
	}
	out := make([]Subtree, 0, len(items))
	for _, it := range items {
		st, err := ParseSubtree(strings.TrimSpace(it))
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

func looksLikeATV(seg string) bool {
	seg = strings.TrimSpace(seg)
	eq := strings.IndexByte(seg, '=')
	if eq <= 0 {
		return false
	}
	for i := 0; i < eq; i++ {
		c := seg[i]
		if !(isAlnum(c) || c == '-' || c == '.' || c == ' ') {
			return false
		}
	}
	return true
}

// splitUnescaped splits s at sep bytes not preceded by a backslash escape.
func splitUnescaped(s string, sep byte) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case sep:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

func parseDNSSubtree(name string) (Subtree, error) {
	if name != "" {
		host := strings.TrimPrefix(name, ".")
		if err := strictHost(host); err != nil {
			return Subtree{}, newErr("parse dNSName subtree", ErrInvalidName, fmt.Sprintf("%q", name), err)
		}
	}
	return Subtree{Form: FormDNS, Name: name}, nil
}

func parseIPSubtree(s string) (Subtree, error) {
	const op = "parse iPAddress subtree"
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return Subtree{}, newErr(op, ErrBadCIDR, fmt.Sprintf("%q", s), err)
	}
	if p.Addr().Zone() != "" {
		return Subtree{}, errf(op, ErrBadCIDR, "%q has a zone", s)
	}
	if p.Masked() != p {
		return Subtree{}, errf(op, ErrBadCIDR, "%q has host bits set (did you mean %s?)", s, p.Masked())
	}
	if p.Addr().Is4In6() {
		// RFC 5280 allows it, but it constrains only 16-octet SANs (never 4-octet IPv4 ones) and crypto/x509
		// refuses to parse such constraints since Go 1.27: a CA certificate carrying one would be unusable there.
		return Subtree{}, errf(op, ErrBadCIDR, "%q is an IPv4-mapped IPv6 range: write the IPv4 range", s)
	}
	return Subtree{Form: FormIP, IP: p}, nil
}

func parseEmailSubtree(s string) (Subtree, error) {
	const op = "parse rfc822Name subtree"
	if strings.HasPrefix(s, "@") {
		s = s[1:]
		if strings.HasPrefix(s, ".") {
			return Subtree{}, errf(op, ErrInvalidName, "%q: write email:.domain for a domain", "@"+s)
		}
	}
	if err := checkEmailConstraint(s, true); err != nil {
		return Subtree{}, err
	}
	return Subtree{Form: FormEmail, Name: s}, nil
}

func parseURISubtree(s string) (Subtree, error) {
	if strings.Contains(s, "/") || strings.Contains(s, ":") {
		return Subtree{}, errf("parse URI subtree", ErrInvalidName,
			"%q: a URI subtree is a host or .domain, not a URI (RFC 5280 §4.2.1.10)", s)
	}
	if err := checkURIConstraint(s, true); err != nil {
		return Subtree{}, err
	}
	return Subtree{Form: FormURI, Name: s}, nil
}

// validate checks a subtree as Parse and Marshal require (the lenient DER rules).
func (s Subtree) validate() error {
	switch s.Form {
	case FormDNS:
		if !ia5(s.Name) {
			return errf("dNSName subtree", ErrInvalidName, "%q is not IA5String", s.Name)
		}
		if s.Name != "" && !lenientHost(strings.TrimPrefix(s.Name, ".")) {
			return errf("dNSName subtree", ErrInvalidName, "%q", s.Name)
		}
	case FormEmail:
		return checkEmailConstraint(s.Name, false)
	case FormURI:
		return checkURIConstraint(s.Name, false)
	case FormIP:
		if !s.IP.IsValid() || s.IP.Addr().Zone() != "" {
			return errf("iPAddress subtree", ErrBadCIDR, "invalid prefix %v", s.IP)
		}
	case FormDN:
		if _, err := parseRDNSequence(s.DN); err != nil {
			return newErr("directoryName subtree", ErrInvalidName, "", err)
		}
	default:
		return errf("subtree", ErrUnsupportedForm, "%v", s.Form)
	}
	return nil
}

func checkEmailConstraint(s string, strict bool) error {
	const op = "rfc822Name subtree"
	if !ia5(s) {
		return errf(op, ErrInvalidName, "%q is not ASCII (IA5String)", s)
	}
	if s == "" {
		return errf(op, ErrInvalidName, "empty rfc822Name subtree")
	}
	host := s
	if at := strings.LastIndexByte(s, '@'); at >= 0 {
		local := s[:at]
		host = s[at+1:]
		if local == "" || !printable(local) {
			return errf(op, ErrInvalidName, "%q: bad local part", s)
		}
	} else {
		host = strings.TrimPrefix(s, ".")
	}
	var err error
	if strict {
		err = strictHost(host)
	} else if !lenientHost(host) {
		err = fmt.Errorf("bad host %q", host)
	}
	if err != nil {
		return newErr(op, ErrInvalidName, fmt.Sprintf("%q", s), err)
	}
	return nil
}

func checkURIConstraint(s string, strict bool) error {
	const op = "URI subtree"
	if !ia5(s) {
		return errf(op, ErrInvalidName, "%q is not ASCII (IA5String)", s)
	}
	host := strings.TrimPrefix(s, ".")
	if host == "" {
		return errf(op, ErrInvalidName, "empty URI subtree")
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return errf(op, ErrInvalidName, "%q: URI subtrees name hosts, not IP addresses (RFC 5280 §4.2.1.10)", s)
	}
	var err error
	if strict {
		err = strictHost(host)
	} else if !lenientHost(host) {
		err = fmt.Errorf("bad host %q", host)
	}
	if err != nil {
		return newErr(op, ErrInvalidName, fmt.Sprintf("%q", s), err)
	}
	return nil
}

// strictHost checks an LDH host name (underscore allowed): the ParseSubtree rule.
func strictHost(h string) error {
	if h == "" {
		return fmt.Errorf("empty host name")
	}
	if len(h) > 253 {
		return fmt.Errorf("host name longer than 253 octets")
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" {
			return fmt.Errorf("empty label in %q (no leading, trailing or double dots)", h)
		}
		if len(label) > 63 {
			return fmt.Errorf("label longer than 63 octets")
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if c >= 0x80 {
				return fmt.Errorf("%q is not ASCII: use the A-label (xn--) form", h)
			}
			if !(isAlnum(c) || c == '-' || c == '_') {
				return fmt.Errorf("character %q not allowed in a host name", c)
			}
		}
	}
	return nil
}

// lenientHost is crypto/x509's rule for names in certificates: non-empty labels of printable ASCII (33..126),
// no trailing dot.
func lenientHost(h string) bool {
	if h == "" {
		return false
	}
	start := 0
	for i := 0; i <= len(h); i++ {
		if i < len(h) && (h[i] < 33 || h[i] > 126) {
			return false
		}
		if i == len(h) || h[i] == '.' {
			if i == start {
				return false
			}
			start = i + 1
		}
	}
	return true
}

// isHost reports whether s is a lenient host name without '@'.
func isHost(s string) bool { return !strings.Contains(s, "@") && lenientHost(s) }

func ia5(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 33 || s[i] > 126 {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}
