package awskms

import (
	"context"
	"net/url"
	"strings"
)

// Scheme is the URI scheme of AWS KMS keys: "awskms".
const Scheme = "awskms"

// URI is a parsed awskms: key reference. Two spellings are accepted:
//
//	awskms:key-id=alias/Signing;region=eu-west-1;endpoint=http://127.0.0.1:4599;profile=prod
//	awskms:///arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab?region=eu-west-1
//
// In the first (opaque) form attributes are separated by ";"; in the second the key follows "awskms:///"
// and attributes come in the query, separated by "&". Values may be percent-encoded (%3B for ";"). The key
// reference is kept exactly as written (case preserved): a key id, key ARN, alias/Name or alias ARN.
// Attributes other than key-id, region, endpoint and profile are refused, as are repeated ones. A URI never
// carries credentials: they come from the AWS SDK's credential chain.
type URI struct {
	KeyID    string // key id, key ARN, alias/Name or alias ARN
	Region   string // AWS region; empty: the SDK's default, or the region of an ARN key id
	Endpoint string // KMS endpoint URL (http or https), for example a localkms server; empty: AWS's
	Profile  string // shared config profile; empty: the SDK's default
}

// Bounds on what ParseURI accepts.
const (
	maxURILength   = 4096
	maxKeyIDLength = 2048
	maxRegionLen   = 64
)

// ParseURI parses an awskms: URI strictly. Errors match ErrInvalidURI.
func ParseURI(s string) (*URI, error) {
	if len(s) > maxURILength {
		return nil, uriErr("longer than 4096 bytes")
	}
	rest, ok := cutSchemeFold(s, Scheme+":")
	if !ok {
		return nil, uriErr("scheme is not awskms:")
	}
	u := new(URI)
	seen := map[string]bool{}
	set := func(name, raw string) error {
		if seen[name] {
			return uriErr("attribute " + name + " repeated")
		}
		seen[name] = true
		v, err := unescape(raw)
		if err != nil {
			return err
		}
		switch name {
		case "key-id":
			u.KeyID = v
		case "region":
			u.Region = v
		case "endpoint":
			u.Endpoint = v
		case "profile":
			u.Profile = v
		default:
			return uriErr("unknown attribute " + quote(name))
		}
		return nil
	}
	if hier, ok := strings.CutPrefix(rest, "//"); ok {
		authority, path, ok := strings.Cut(hier, "/")
		if !ok || authority != "" {
			return nil, uriErr("the hierarchical form is awskms:///KEY (no host; use endpoint= for a server)")
		}
		path, query, hasQuery := strings.Cut(path, "?")
		if err := set("key-id", path); err != nil {
			return nil, err
		}
		if hasQuery {
			if err := parseAttrs(query, "&", func(name, raw string) error {
				if name == "key-id" {
					return uriErr("key-id given both in the path and the query")
				}
				return set(name, raw)
			}); err != nil {
				return nil, err
			}
		}
	} else if err := parseAttrs(rest, ";", set); err != nil {
		return nil, err
	}
	if err := u.validate(); err != nil {
		return nil, err
	}
	return u, nil
}

func parseAttrs(list, sep string, set func(name, raw string) error) error {
	if list == "" {
		return uriErr("no attributes")
	}
	for _, attr := range strings.Split(list, sep) {
		name, raw, ok := strings.Cut(attr, "=")
		if !ok || name == "" {
			return uriErr("attribute " + quote(attr) + " is not name=value")
		}
		if err := set(name, raw); err != nil {
			return err
		}
	}
	return nil
}

func (u *URI) validate() error {
	switch {
	case u.KeyID == "":
		return uriErr("no key-id")
	case len(u.KeyID) > maxKeyIDLength:
		return uriErr("key-id longer than 2048 bytes")
	case hasControl(u.KeyID) || hasControl(u.Profile):
		return uriErr("control character in a value")
	}
	if len(u.Region) > maxRegionLen || strings.IndexFunc(u.Region, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-')
	}) >= 0 {
		return uriErr("region " + quote(u.Region) + " is not a region name")
	}
	if u.Endpoint != "" {
		e, err := url.Parse(u.Endpoint)
		switch {
		case err != nil:
			return uriErr("endpoint is not a URL") // not echoed: it may carry user:password
		case (e.Scheme != "http" && e.Scheme != "https") || e.Host == "" || e.Opaque != "":
			shown := *e
			shown.User = nil // never echo user information
			return uriErr("endpoint " + quote(shown.String()) + " is not an http(s) URL")
		case e.User != nil:
			return uriErr("endpoint must not carry user information")
		case e.RawQuery != "" || e.Fragment != "":
			return uriErr("endpoint must not have a query or fragment")
		}
	}
	return nil
}

// String returns the URI in the opaque form, percent-encoding what needs it; ParseURI(u.String()) gives u back.
func (u *URI) String() string {
	var b strings.Builder
	b.WriteString(Scheme + ":key-id=")
	b.WriteString(escape(u.KeyID))
	for _, a := range [...]struct{ name, v string }{{"region", u.Region}, {"endpoint", u.Endpoint}, {"profile", u.Profile}} {
		if a.v != "" {
			b.WriteString(";" + a.name + "=")
			b.WriteString(escape(a.v))
		}
	}
	return b.String()
}

// EffectiveRegion returns Region, or the region field of an ARN key id ("arn:aws:kms:REGION:ACCOUNT:...")
// when Region is empty, or "" (the SDK's default).
func (u *URI) EffectiveRegion() string {
	if u.Region != "" {
		return u.Region
	}
	f := strings.SplitN(u.KeyID, ":", 6)
	if len(f) == 6 && f[0] == "arn" && f[2] == "kms" {
		return f[3]
	}
	return ""
}

// Options returns base with the URI's region, endpoint and profile applied (the URI wins where it says
// something).
func (u *URI) Options(base Options) Options {
	if r := u.EffectiveRegion(); r != "" {
		base.Region = r
	}
	if u.Endpoint != "" {
		base.Endpoint = u.Endpoint
	}
	if u.Profile != "" {
		base.Profile = u.Profile
	}
	return base
}

// LoadURI parses an awskms: URI and builds the Client it names (Load with u.Options(base)). It returns the
// client and the key reference to pass to GetPublicKey and Sign (or to kmssigner.New).
func LoadURI(ctx context.Context, uri string, base Options) (*Client, string, error) {
	u, err := ParseURI(uri)
	if err != nil {
		return nil, "", err
	}
	c, err := Load(ctx, u.Options(base))
	if err != nil {
		return nil, "", err
	}
	return c, u.KeyID, nil
}

func uriErr(detail string) error { return errf("parse URI", ErrInvalidURI, detail) }

func cutSchemeFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return "", false
	}
	return s[len(prefix):], true
}

func hasControl(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0
}

// unescape percent-decodes a raw value. Raw bytes must be printable ASCII other than space, '#', '%' (unless
// it starts an escape) and the separators; anything else must be percent-encoded.
func unescape(raw string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '%':
			if i+2 >= len(raw) {
				return "", uriErr("truncated percent-escape")
			}
			hi, ok1 := unhex(raw[i+1])
			lo, ok2 := unhex(raw[i+2])
			if !ok1 || !ok2 {
				return "", uriErr("bad percent-escape")
			}
			b.WriteByte(hi<<4 | lo)
			i += 2
		case c <= ' ' || c >= 0x7f || c == '#' || c == ';' || c == '&' || c == '"' || c == '<' || c == '>' || c == '\\' || c == '^' || c == '`' || c == '{' || c == '|' || c == '}':
			return "", uriErr("character " + quote(string(c)) + " must be percent-encoded")
		default:
			b.WriteByte(c)
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

// escape percent-encodes everything but RFC 3986 unreserved characters and ":/@!$'()*+,=?".
func escape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~:/@!$'()*+,=?", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
