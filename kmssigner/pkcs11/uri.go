package pkcs11

import (
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Scheme is the URI scheme of RFC 7512: "pkcs11".
const Scheme = "pkcs11"

// URI is a parsed RFC 7512 PKCS#11 URI:
//
//	pkcs11:token=ca;object=issuing-key;id=%01%02?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/ca.pin
//
// Path attributes (before "?", separated by ";") select the token and the key; query attributes (after "?",
// separated by "&") say how to reach them: module-path, module-name, pin-value, pin-source. Values are
// percent-decoded. An empty value counts as absent.
type URI struct {
	// Path attributes (RFC 7512 §2.3).
	Token               string // token label (CK_TOKEN_INFO label)
	Manufacturer        string // token manufacturer
	Serial              string // token serial number
	Model               string // token model
	LibraryManufacturer string
	LibraryDescription  string
	LibraryVersion      string // "M" or "M.m"
	Object              string // CKA_LABEL of the key
	Type                string // "public", "private", "cert", "secret-key" or "data"
	ID                  []byte // CKA_ID of the key (binary, percent-encoded in the URI)
	SlotManufacturer    string
	SlotDescription     string
	SlotID              string // decimal slot id

	// Query attributes (RFC 7512 §2.3).
	PINSource  string // a file name or file: URI whose content is the PIN
	PINValue   string // the PIN itself (prefer PINSource: a PIN in a URI ends up in logs and shell history)
	ModuleName string // module name without path or suffix (not resolved by this package; use ModulePath)
	ModulePath string // absolute path of the PKCS#11 module

	// Vendor-specific attributes ("x-" names), percent-decoded; kept, not interpreted.
	VendorPath  map[string]string
	VendorQuery map[string]string
}

// Bounds on what ParseURI accepts.
const maxURILength = 4096

// ParseURI parses a PKCS#11 URI strictly by RFC 7512: attribute names are matched case-insensitively (RFC 5234
// literals), values must use the characters the RFC allows raw in their component ("/" must be %2F in the path,
// "&" must be %26 in the query) and valid percent-escapes, no path attribute may repeat, pin-value and
// pin-source must not both be given. Beyond the RFC, it refuses attribute names it does not know unless they
// start with "x-" (a misspelt attribute must not widen which key is matched) and repeated query attributes.
// Errors match ErrInvalidURI; they never quote a pin-value.
func ParseURI(s string) (*URI, error) {
	if len(s) > maxURILength {
		return nil, uriErr("longer than 4096 bytes")
	}
	if len(s) < len(Scheme)+1 || !strings.EqualFold(s[:len(Scheme)+1], Scheme+":") {
		return nil, uriErr("scheme is not pkcs11:")
	}
	rest := s[len(Scheme)+1:]
	path, query, hasQuery := strings.Cut(rest, "?")
	u := new(URI)
	seen := map[string]bool{}
	if path != "" {
		for _, attr := range strings.Split(path, ";") {
			name, raw, err := splitAttr(attr)
			if err != nil {
				return nil, err
			}
			if seen[name] {
				return nil, uriErr("path attribute " + name + " repeated (RFC 7512 §2.3)")
			}
			seen[name] = true
			v, err := unescape(raw, pathChars, name)
			if err != nil {
				return nil, err
			}
			if err := u.setPath(name, v); err != nil {
				return nil, err
			}
		}
	}
	if hasQuery {
		if query == "" {
			return nil, uriErr("empty query")
		}
		for _, attr := range strings.Split(query, "&") {
			name, raw, err := splitAttr(attr)
			if err != nil {
				return nil, err
			}
			if seen["?"+name] {
				return nil, uriErr("query attribute " + name + " repeated")
			}
			seen["?"+name] = true
			v, err := unescape(raw, queryChars, name)
			if err != nil {
				return nil, err
			}
			if err := u.setQuery(name, v); err != nil {
				return nil, err
			}
		}
	}
	if u.PINValue != "" && u.PINSource != "" {
		return nil, uriErr("both pin-value and pin-source given")
	}
	return u, nil
}

func splitAttr(attr string) (name, raw string, err error) {
	name, raw, ok := strings.Cut(attr, "=")
	if !ok || name == "" {
		return "", "", uriErr("attribute " + quoteAttr(attr) + " is not name=value")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return "", "", uriErr("attribute name " + quoteAttr(name) + " has characters RFC 7512 does not allow")
		}
	}
	return strings.ToLower(name), raw, nil
}

// quoteAttr quotes an attribute for an error message without ever showing a PIN.
func quoteAttr(attr string) string {
	if strings.Contains(strings.ToLower(attr), "pin") {
		return "(redacted)"
	}
	if len(attr) > 64 {
		attr = attr[:64]
	}
	return strconv.Quote(attr)
}

func (u *URI) setPath(name, v string) error {
	switch name {
	case "token":
		u.Token = v
	case "manufacturer":
		u.Manufacturer = v
	case "serial":
		u.Serial = v
	case "model":
		u.Model = v
	case "library-manufacturer":
		u.LibraryManufacturer = v
	case "library-description":
		u.LibraryDescription = v
	case "library-version":
		if v != "" && !isVersion(v) {
			return uriErr("library-version must be M or M.m")
		}
		u.LibraryVersion = v
	case "object":
		u.Object = v
	case "type":
		v = strings.ToLower(v)
		switch v {
		case "", "public", "private", "cert", "secret-key", "data":
		default:
			return uriErr("type must be public, private, cert, secret-key or data")
		}
		u.Type = v
	case "id":
		if v != "" {
			u.ID = []byte(v)
		}
	case "slot-manufacturer":
		u.SlotManufacturer = v
	case "slot-description":
		u.SlotDescription = v
	case "slot-id":
		if v != "" && !isDigits(v) {
			return uriErr("slot-id must be decimal digits")
		}
		if _, err := strconv.ParseUint(v, 10, 32); v != "" && err != nil {
			return uriErr("slot-id out of range")
		}
		u.SlotID = v
	case "pin-value", "pin-source", "module-name", "module-path":
		return uriErr(name + " is a query attribute: write it after \"?\" (RFC 7512 §2.3)")
	default:
		if !strings.HasPrefix(name, "x-") {
			return uriErr("unknown path attribute " + quoteAttr(name))
		}
		if v != "" {
			if u.VendorPath == nil {
				u.VendorPath = map[string]string{}
			}
			u.VendorPath[name] = v
		}
	}
	return nil
}

func (u *URI) setQuery(name, v string) error {
	switch name {
	case "pin-value":
		u.PINValue = v
	case "pin-source":
		u.PINSource = v
	case "module-name":
		u.ModuleName = v
	case "module-path":
		u.ModulePath = v
	default:
		if !strings.HasPrefix(name, "x-") {
			return uriErr("unknown query attribute " + quoteAttr(name))
		}
		if v != "" {
			if u.VendorQuery == nil {
				u.VendorQuery = map[string]string{}
			}
			u.VendorQuery[name] = v
		}
	}
	return nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func isVersion(s string) bool {
	maj, min, ok := strings.Cut(s, ".")
	return isDigits(maj) && (!ok || isDigits(min))
}

// Characters RFC 7512 allows unencoded besides RFC 3986 unreserved ones: pk11-path-res-avail and
// pk11-query-res-avail.
const (
	pathChars  = ":[]@!$'()*+,=&"
	queryChars = ":[]@!$'()*+,=/?|"
)

func unreserved(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

func unescape(raw, allowed, name string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '%':
			if i+2 >= len(raw) {
				return "", uriErr("truncated percent-escape in " + name)
			}
			hi, ok1 := unhex(raw[i+1])
			lo, ok2 := unhex(raw[i+2])
			if !ok1 || !ok2 {
				return "", uriErr("bad percent-escape in " + name)
			}
			b.WriteByte(hi<<4 | lo)
			i += 2
		case unreserved(c) || strings.IndexByte(allowed, c) >= 0:
			b.WriteByte(c)
		default:
			return "", uriErr("a character in " + name + " must be percent-encoded (RFC 7512 §2.3)")
		}
	}
	return b.String(), nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func escape(s, allowed string, all bool) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !all && (unreserved(c) || strings.IndexByte(allowed, c) >= 0) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// String formats the URI per RFC 7512 (id fully percent-encoded, attributes in the RFC's order, vendor
// attributes sorted). It includes pin-value when set: do not log it; KeyRef gives a PIN-free form.
func (u *URI) String() string {
	s := u.pathString()
	q := u.queryParts()
	if len(q) > 0 {
		s += "?" + strings.Join(q, "&")
	}
	return s
}

// KeyRef returns the URI's path component alone ("pkcs11:token=...;object=...;id=..."): what names the key,
// without the module, PIN or PIN source. It is the key reference Open hands to kmssigner.New, so a PIN never
// reaches an error message or Signer.KeyID.
func (u *URI) KeyRef() string { return u.pathString() }

func (u *URI) pathString() string {
	var parts []string
	add := func(name, v string) {
		if v != "" {
			parts = append(parts, name+"="+escape(v, pathChars, false))
		}
	}
	add("token", u.Token)
	add("manufacturer", u.Manufacturer)
	add("serial", u.Serial)
	add("model", u.Model)
	add("library-manufacturer", u.LibraryManufacturer)
	add("library-description", u.LibraryDescription)
	add("library-version", u.LibraryVersion)
	add("object", u.Object)
	add("type", u.Type)
	if len(u.ID) > 0 {
		parts = append(parts, "id="+escape(string(u.ID), "", true))
	}
	add("slot-manufacturer", u.SlotManufacturer)
	add("slot-description", u.SlotDescription)
	add("slot-id", u.SlotID)
	for _, k := range sortedKeys(u.VendorPath) {
		add(k, u.VendorPath[k])
	}
	return Scheme + ":" + strings.Join(parts, ";")
}

func (u *URI) queryParts() []string {
	var parts []string
	add := func(name, v string) {
		if v != "" {
			parts = append(parts, name+"="+escape(v, queryChars, false))
		}
	}
	add("pin-source", u.PINSource)
	add("pin-value", u.PINValue)
	add("module-name", u.ModuleName)
	add("module-path", u.ModulePath)
	for _, k := range sortedKeys(u.VendorQuery) {
		add(k, u.VendorQuery[k])
	}
	return parts
}

func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }

// maxPINFile bounds what ReadPIN reads from a pin-source.
const maxPINFile = 1024

// PIN returns the PIN the URI gives: pin-value, or the content of pin-source (a file name or a file: URI,
// read once, one trailing newline removed). "" when the URI gives none.
func (u *URI) PIN() (string, error) {
	if u.PINValue != "" {
		return u.PINValue, nil
	}
	if u.PINSource == "" {
		return "", nil
	}
	name := u.PINSource
	if rest, ok := strings.CutPrefix(name, "file:"); ok {
		name = rest
		if after, ok := strings.CutPrefix(name, "//"); ok {
			// file:///abs/path or file://localhost/abs/path
			host, p, _ := strings.Cut(after, "/")
			if host != "" && host != "localhost" {
				return "", errf("read PIN", ErrPIN, "pin-source file: URI with a remote host")
			}
			name = "/" + p
		}
	} else if strings.Contains(name, ":") && !filepath.IsAbs(name) {
		return "", errf("read PIN", ErrPIN, "pin-source must be a file name or a file: URI")
	}
	f, err := os.Open(name)
	if err != nil {
		return "", wrap("read PIN", ErrPIN, "cannot open pin-source", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxPINFile+1))
	if err != nil {
		return "", wrap("read PIN", ErrPIN, "cannot read pin-source", err)
	}
	if len(data) > maxPINFile {
		return "", errf("read PIN", ErrPIN, "pin-source larger than 1024 bytes")
	}
	pin := strings.TrimSuffix(strings.TrimSuffix(string(data), "\n"), "\r")
	if pin == "" {
		return "", errf("read PIN", ErrPIN, "pin-source is empty")
	}
	return pin, nil
}

func uriErr(detail string) error { return errf("parse URI", ErrInvalidURI, detail) }
