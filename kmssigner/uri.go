package kmssigner

import (
	"context"
	"net/url"
	"sort"
	"strings"
	"sync"
)

// Opener opens the Client a key URI names and returns the key reference to pass to New (kept exactly as the URI
// spells it). Backends register one per URI scheme with Register, usually from an init function.
type Opener func(ctx context.Context, uri string) (client Client, keyID string, err error)

var (
	registryMu sync.RWMutex
	registry   = map[string]Opener{}
)

// Register makes an Opener available to Open under a URI scheme ("localkms", "awskms", "pkcs11"); the scheme is
// matched case-insensitively. Like database/sql.Register it panics when called twice for one scheme or with a
// nil Opener: both are programming errors at init time, not bad input.
func Register(scheme string, open Opener) {
	scheme = strings.ToLower(scheme)
	if scheme == "" || open == nil {
		panic("kmssigner: Register with an empty scheme or nil Opener")
	}
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[scheme]; dup {
		panic("kmssigner: Register called twice for scheme " + scheme)
	}
	registry[scheme] = open
}

// Schemes returns the registered URI schemes, sorted.
func Schemes() []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	out := make([]string, 0, len(registry))
	for s := range registry {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// OpenClient opens the Client of a key URI through the Opener registered for its scheme and returns it with
// the key reference.
func OpenClient(ctx context.Context, uri string) (Client, string, error) {
	u, err := ParseURI(uri)
	if err != nil {
		return nil, "", err
	}
	registryMu.RLock()
	open := registry[u.Scheme]
	registryMu.RUnlock()
	if open == nil {
		return nil, "", newErr("open", "", ErrUnknownScheme, u.Scheme+" (import the backend package, e.g. kmssigner/localkms)", nil)
	}
	if ctx == nil {
		ctx = context.Background()
	}
	return open(ctx, uri)
}

// Open is the one call that turns a key URI into a Signer:
//
//	awskms:key-id=arn:aws:kms:us-east-1:111122223333:key/1234abcd-...;region=us-east-1;endpoint=http://127.0.0.1:4599
//	awskms:///alias/CodeSigning
//	localkms:dir=/var/lib/pkikit-kms;key=alias/CodeSigning
//	pkcs11:token=ca;object=issuing-key?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/pin
//
// The scheme's backend must be imported (kmssigner/localkms, kmssigner/awskms, kmssigner/pkcs11) so that its
// Opener is registered. Open uses the default Options; call OpenClient and New for others.
func Open(ctx context.Context, uri string) (*Signer, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	c, keyID, err := OpenClient(ctx, uri)
	if err != nil {
		return nil, err
	}
	return New(ctx, c, keyID, nil)
}

// URI is a parsed key URI. Two forms are understood:
//
//   - attributes (RFC 7512 style): scheme:name=value;name=value?name=value&name=value — Attrs holds the path
//     attributes, Query the query attributes, both percent-decoded;
//   - hierarchical: scheme://authority/rest?name=value — Authority holds the authority (may be empty, as in
//     awskms:///alias/X), Path the rest after its slash (percent-decoded, case preserved), Query the query.
type URI struct {
	Scheme    string // lower case
	Authority string
	Path      string
	Attrs     map[string]string
	Query     map[string]string
}

// MaxURILength bounds the key URIs ParseURI accepts.
const MaxURILength = 4096

// ParseURI parses a key URI strictly: a scheme, no duplicate or empty attribute names, valid percent-encoding.
func ParseURI(s string) (*URI, error) {
	const op = "parse URI"
	bad := func(detail string) error { return newErr(op, "", ErrInvalidURI, detail, nil) }
	if len(s) > MaxURILength {
		return nil, bad("longer than MaxURILength")
	}
	i := strings.IndexByte(s, ':')
	if i <= 0 {
		return nil, bad("no scheme")
	}
	u := &URI{Scheme: strings.ToLower(s[:i]), Attrs: map[string]string{}, Query: map[string]string{}}
	for j, c := range u.Scheme {
		if !(c >= 'a' && c <= 'z' || j > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return nil, bad("invalid scheme")
		}
	}
	rest := s[i+1:]
	var query string
	if q := strings.IndexByte(rest, '?'); q >= 0 {
		rest, query = rest[:q], rest[q+1:]
		if err := parseAttrs(query, "&", u.Query); err != nil {
			return nil, bad("query: " + err.Error())
		}
	}
	if strings.HasPrefix(rest, "//") {
		rest = rest[2:]
		slash := strings.IndexByte(rest, '/')
		if slash < 0 {
			u.Authority = rest
			return u, nil
		}
		u.Authority = rest[:slash]
		p, err := url.PathUnescape(rest[slash+1:])
		if err != nil {
			return nil, bad("bad percent-encoding in path")
		}
		u.Path = p
		return u, nil
	}
	if err := parseAttrs(rest, ";", u.Attrs); err != nil {
		return nil, bad(err.Error())
	}
	return u, nil
}

type uriError string

func (e uriError) Error() string { return string(e) }

func parseAttrs(s, sep string, into map[string]string) error {
	if s == "" {
		return nil
	}
	for _, kv := range strings.Split(s, sep) {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			// kv is not echoed: it may be a mistyped pin-value.
			return uriError("attribute without name=value")
		}
		if _, dup := into[k]; dup {
			return uriError("duplicate attribute " + k)
		}
		dv, err := url.PathUnescape(v)
		if err != nil {
			return uriError("bad percent-encoding in attribute " + k)
		}
		into[k] = dv
	}
	return nil
}
