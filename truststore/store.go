package truststore

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"encoding/pem"
	"hash/maphash"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/pkikit/pkikit/x509ext"
)

// Store holds trust anchors and caches what it has parsed and verified. The zero value is an empty store ready to
// use; a Store is safe for concurrent use.
type Store struct {
	mu        sync.RWMutex
	anchors   []*x509ext.Certificate
	bySubject map[string][]*x509ext.Certificate // raw subject DER
	byCanon   map[string][]*x509ext.Certificate // canonicalName(subject)
	byHash    map[[32]byte]*x509ext.Certificate
	warnings  []Warning

	// The caches are keyed by a seeded maphash of a sample of the bytes (see cacheKey) and confirmed by comparing
	// the full bytes, so a hash collision can never make an unverified signature pass; buckets hold at most
	// maxBucket entries, so crafted collisions cannot make a lookup slow.
	cacheMu sync.Mutex
	seed    maphash.Seed
	seeded  bool
	parsed  map[uint64][]*x509ext.Certificate // DER -> parsed certificate
	sigOK   map[uint64][]sigEntry             // (signed DER, issuer SPKI) -> signature verified
	maxMemo int
}

type sigEntry struct{ signed, issuerSPKI []byte }

// defaultCacheEntries bounds each of the store's caches; when full they are cleared.
const defaultCacheEntries = 4096

// NewStore returns a store holding the given anchors (warnings about them are in Warnings).
func NewStore(anchors ...*x509ext.Certificate) *Store {
	s := &Store{}
	for _, a := range anchors {
		s.AddAnchor(a)
	}
	return s
}

// WarningKind classifies a Warning about an anchor.
type WarningKind int

const (
	// WarnNotSelfSigned: the anchor is not a self-signed root — usually an intermediate given as an anchor.
	WarnNotSelfSigned WarningKind = iota + 1
	// WarnNotCA: the anchor is not a CA certificate at all (a leaf given as an anchor).
	WarnNotCA
	// WarnDuplicate: the same certificate was added twice (the second is ignored).
	WarnDuplicate
	// WarnSkipped: a file or PEM block was not a certificate pkikit can parse, and was skipped.
	WarnSkipped
)

// Warning is something about an anchor that is allowed but probably a mistake.
type Warning struct {
	Kind    WarningKind
	Subject string // the anchor's subject, or the file
	Detail  string
	Advice  string
}

func (w Warning) String() string {
	s := w.Subject + ": " + w.Detail
	if w.Advice != "" {
		s += " (" + w.Advice + ")"
	}
	return s
}

const (
	adviceIntermediate = "trust the root CA that issued it and pass this certificate as an intermediate; an " +
		"intermediate anchor stops working when the CA re-issues or cross-signs it and skips the root's checks; " +
		"to restrict trust to one CA, pin its root's public key (PinSet) instead of trusting the intermediate"
	adviceLeaf = "a leaf certificate is not a trust anchor: trust the root CA that issued it, or pin a key"
)

// AddAnchor adds a trusted certificate. A certificate that is not self-signed (an intermediate) or not a CA is
// still added, with a Warning. It returns false when the certificate was already present or is nil.
func (s *Store) AddAnchor(c *x509ext.Certificate) bool {
	if c == nil || c.Certificate == nil {
		return false
	}
	h := sha256.Sum256(c.Raw)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byHash == nil {
		s.byHash = map[[32]byte]*x509ext.Certificate{}
		s.bySubject = map[string][]*x509ext.Certificate{}
		s.byCanon = map[string][]*x509ext.Certificate{}
	}
	if _, ok := s.byHash[h]; ok {
		s.warnings = append(s.warnings, Warning{Kind: WarnDuplicate, Subject: c.Subject.String(), Detail: "anchor added twice"})
		return false
	}
	s.byHash[h] = c
	s.anchors = append(s.anchors, c)
	s.bySubject[string(c.RawSubject)] = append(s.bySubject[string(c.RawSubject)], c)
	ck := canonicalName(c.RawSubject)
	s.byCanon[ck] = append(s.byCanon[ck], c)
	switch {
	case c.BasicConstraintsValid && !c.IsCA:
		s.warnings = append(s.warnings, Warning{Kind: WarnNotCA, Subject: c.Subject.String(),
			Detail: "anchor is not a CA certificate", Advice: adviceLeaf})
	case !IsSelfSigned(c):
		s.warnings = append(s.warnings, Warning{Kind: WarnNotSelfSigned, Subject: c.Subject.String(),
			Detail: "anchor is an intermediate (issued by " + c.Issuer.String() + "), not a self-signed root",
			Advice: adviceIntermediate})
	}
	return true
}

// IsSelfSigned reports whether c's issuer is its subject and its own key verifies its signature (a root).
func IsSelfSigned(c *x509ext.Certificate) bool {
	return c != nil && c.Certificate != nil && bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignatureFromKey(c.PublicKey) == nil
}

// AddAnchorX509 adds a crypto/x509 certificate as an anchor (it is re-parsed by x509ext).
func (s *Store) AddAnchorX509(c *x509.Certificate) error {
	if c == nil {
		return newErr("add anchor", ErrMalformed, "nil certificate", nil)
	}
	pc, err := x509ext.ParseCertificate(c.Raw)
	if err != nil {
		return newErr("add anchor", ErrMalformed, "", err)
	}
	s.AddAnchor(pc)
	return nil
}

// AddAnchorsPEM adds every CERTIFICATE block of a PEM bundle and returns how many were added. Blocks of other
// types are skipped; a CERTIFICATE block that does not parse is skipped with a WarnSkipped warning. It fails
// only when data holds no certificate at all.
func (s *Store) AddAnchorsPEM(data []byte) (int, error) {
	certs, skipped := parsePEMCertificates(data)
	for _, w := range skipped {
		s.addWarning(Warning{Kind: WarnSkipped, Subject: "PEM block", Detail: w})
	}
	if len(certs) == 0 {
		return 0, newErr("add anchors from PEM", ErrMalformed, "no certificate found", nil)
	}
	n := 0
	for _, c := range certs {
		if s.AddAnchor(c) {
			n++
		}
	}
	return n, nil
}

// AddAnchorsFile adds the certificates of one file: a PEM bundle or a single DER certificate.
func (s *Store) AddAnchorsFile(path string) (int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, newErr("read anchors", ErrMalformed, path, err)
	}
	certs, skipped := ParseCertificates(data)
	for _, w := range skipped {
		s.addWarning(Warning{Kind: WarnSkipped, Subject: path, Detail: w})
	}
	if len(certs) == 0 {
		return 0, newErr("read anchors", ErrMalformed, path+": no certificate found", nil)
	}
	n := 0
	for _, c := range certs {
		if s.AddAnchor(c) {
			n++
		}
	}
	return n, nil
}

// AddAnchorsDir adds the certificates of every regular file in dir (not recursive) that holds PEM or DER
// certificates; other files are skipped with a warning. Files are read in name order.
func (s *Store) AddAnchorsDir(dir string) (int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, newErr("read anchor directory", ErrMalformed, dir, err)
	}
	n := 0
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if fi, err := os.Stat(p); err != nil || !fi.Mode().IsRegular() {
			continue
		}
		k, err := s.AddAnchorsFile(p) // a file without certificates is recorded as a WarnSkipped warning
		if err != nil {
			continue
		}
		n += k
	}
	return n, nil
}

// systemBundles are where Linux and BSD distributions keep the system's root bundle (the list crypto/x509 reads).
var systemBundles = []string{
	"/etc/ssl/certs/ca-certificates.crt",
	"/etc/pki/tls/certs/ca-bundle.crt",
	"/etc/ssl/ca-bundle.pem",
	"/etc/pki/tls/cacert.pem",
	"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
	"/etc/ssl/cert.pem",
	"/usr/local/etc/ssl/cert.pem",
}

// SystemStore returns a store with the operating system's roots: $SSL_CERT_FILE and $SSL_CERT_DIR when set,
// otherwise the first system bundle found. (On systems whose roots are not files, use crypto/x509's
// SystemCertPool with x509.Verify; it cannot list its certificates.)
func SystemStore() (*Store, error) {
	s := &Store{}
	files := systemBundles
	if f := os.Getenv("SSL_CERT_FILE"); f != "" {
		files = []string{f}
	}
	for _, f := range files {
		if _, err := s.AddAnchorsFile(f); err == nil {
			break
		}
	}
	if d := os.Getenv("SSL_CERT_DIR"); d != "" {
		for _, dir := range strings.Split(d, ":") {
			s.AddAnchorsDir(dir)
		}
	}
	if len(s.Anchors()) == 0 {
		return nil, newErr("load system roots", ErrNoAnchors, "no system root bundle found", nil)
	}
	return s, nil
}

// Anchors returns the anchors, in the order added.
func (s *Store) Anchors() []*x509ext.Certificate {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]*x509ext.Certificate(nil), s.anchors...)
}

// Warnings returns the warnings collected while adding anchors.
func (s *Store) Warnings() []Warning {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]Warning(nil), s.warnings...)
}

// Contains reports whether c (byte for byte) is an anchor.
func (s *Store) Contains(c *x509ext.Certificate) bool {
	if c == nil {
		return false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.byHash[sha256.Sum256(c.Raw)]
	return ok
}

func (s *Store) addWarning(w Warning) {
	s.mu.Lock()
	s.warnings = append(s.warnings, w)
	s.mu.Unlock()
}

func (s *Store) anchorsByRawSubject(rawSubject []byte) []*x509ext.Certificate {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.bySubject[string(rawSubject)]
}

func (s *Store) anchorsByCanonicalSubject(rawSubject []byte) []*x509ext.Certificate {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if len(s.byCanon) == 0 {
		return nil
	}
	return s.byCanon[canonicalName(rawSubject)]
}

// ParseCertificates parses every certificate in data: PEM (CERTIFICATE blocks) or one DER certificate. It
// returns the certificates and, for each block that did not parse, a reason.
func ParseCertificates(data []byte) ([]*x509ext.Certificate, []string) {
	if bytes.Contains(data, []byte("-----BEGIN")) {
		return parsePEMCertificates(data)
	}
	c, err := x509ext.ParseCertificate(data)
	if err != nil {
		return nil, []string{"not a PEM or DER certificate: " + err.Error()}
	}
	return []*x509ext.Certificate{c}, nil
}

func parsePEMCertificates(data []byte) (out []*x509ext.Certificate, skipped []string) {
	for len(data) > 0 {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" && b.Type != "TRUSTED CERTIFICATE" {
			continue
		}
		c, err := x509ext.ParseCertificate(b.Bytes)
		if err != nil {
			skipped = append(skipped, err.Error())
			continue
		}
		out = append(out, c)
	}
	return out, skipped
}

// ParseCertificatesPEM parses the CERTIFICATE blocks of a PEM bundle, failing on the first that does not parse.
func ParseCertificatesPEM(data []byte) ([]*x509ext.Certificate, error) {
	var out []*x509ext.Certificate
	for len(data) > 0 {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509ext.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, newErr("parse PEM certificates", ErrMalformed, "", err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, newErr("parse PEM certificates", ErrMalformed, "no CERTIFICATE block", nil)
	}
	return out, nil
}

// ParseCertificate parses one DER certificate through the store's cache: a certificate the store has parsed
// before is returned without parsing again.
func (s *Store) ParseCertificate(der []byte) (*x509ext.Certificate, error) {
	s.cacheMu.Lock()
	h := s.hashLocked(der, nil)
	for _, c := range s.parsed[h] {
		if bytes.Equal(c.Raw, der) {
			s.cacheMu.Unlock()
			return c, nil
		}
	}
	s.cacheMu.Unlock()
	// The cached certificate must not alias the caller's buffer (crypto/x509's Raw fields do): a buffer reused
	// after this call would otherwise change a certificate other callers get from the cache.
	c, err := x509ext.ParseCertificate(bytes.Clone(der))
	if err != nil {
		return nil, newErr("parse certificate", ErrMalformed, "", err)
	}
	s.cacheMu.Lock()
	if s.parsed == nil || len(s.parsed) >= s.cacheLimit() {
		s.parsed = map[uint64][]*x509ext.Certificate{}
	}
	s.parsed[h] = appendBounded(s.parsed[h], c)
	s.cacheMu.Unlock()
	return c, nil
}

// cacheSample is how many trailing bytes of each input cacheKey hashes.
const cacheSample = 64

// maxBucket bounds the entries under one cache key.
const maxBucket = 4

// maxCachedSigned: signatures over more bytes than this (big CRLs) are not cached.
const maxCachedSigned = 256 << 10

// hashLocked is the cache key of (a, b): a seeded hash of their lengths and last cacheSample bytes. Certificates,
// CRLs and SPKIs end with a signature or a public key, so the tails tell real inputs apart without hashing
// kilobytes of ML-DSA material on every lookup; entries are always confirmed by comparing all the bytes.
func (s *Store) hashLocked(a, b []byte) uint64 {
	if !s.seeded {
		s.seed, s.seeded = maphash.MakeSeed(), true
	}
	var h maphash.Hash
	h.SetSeed(s.seed)
	var n [16]byte
	binary.LittleEndian.PutUint64(n[:8], uint64(len(a)))
	binary.LittleEndian.PutUint64(n[8:], uint64(len(b)))
	h.Write(n[:])
	h.Write(a[max(0, len(a)-cacheSample):])
	h.Write(b[max(0, len(b)-cacheSample):])
	return h.Sum64()
}

// ownsLocked reports whether b is the Raw of a certificate in the parse cache: the store made that copy itself
// (ParseCertificate clones its input), so it cannot change under the cache and need not be copied again.
func (s *Store) ownsLocked(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range s.parsed[s.hashLocked(b, nil)] {
		if len(c.Raw) == len(b) && &c.Raw[0] == &b[0] {
			return true
		}
	}
	return false
}

// appendBounded appends v to a cache bucket, dropping the oldest entry when the bucket is full.
func appendBounded[T any](bucket []T, v T) []T {
	if len(bucket) >= maxBucket {
		bucket = append(bucket[:0:0], bucket[1:]...)
	}
	return append(bucket, v)
}

func (s *Store) cacheLimit() int {
	if s.maxMemo > 0 {
		return s.maxMemo
	}
	return defaultCacheEntries
}

// sigCached reports whether the signature of signed (a certificate or CRL) was verified before with issuerSPKI.
// It also returns the cache key, for rememberSig (the bytes are hashed once per check).
func (s *Store) sigCached(signed, issuerSPKI []byte) (key uint64, ok bool) {
	s.cacheMu.Lock()
	defer s.cacheMu.Unlock()
	key = s.hashLocked(signed, issuerSPKI)
	for _, e := range s.sigOK[key] {
		if bytes.Equal(e.signed, signed) && bytes.Equal(e.issuerSPKI, issuerSPKI) {
			return key, true
		}
	}
	return key, false
}

// rememberSig records that the signature of signed verified with issuerSPKI; key is sigCached's. It keeps its own
// copy of the bytes: they usually alias a caller's buffer (a parsed certificate's Raw), and a buffer rewritten
// later must not turn into a "verified" entry for bytes that were never verified.
func (s *Store) rememberSig(key uint64, signed, issuerSPKI []byte) {
	if len(signed) > maxCachedSigned {
		return // a large CRL: re-verifying it costs a hash and one verification, copying it costs memory
	}
	s.cacheMu.Lock()
	defer s.cacheMu.Unlock()
	if s.ownsLocked(signed) {
		issuerSPKI = bytes.Clone(issuerSPKI)
	} else { // one allocation for both copies
		buf := make([]byte, len(signed)+len(issuerSPKI))
		n := copy(buf, signed)
		copy(buf[n:], issuerSPKI)
		signed, issuerSPKI = buf[:n:n], buf[n:]
	}
	if s.sigOK == nil || len(s.sigOK) >= s.cacheLimit() {
		s.sigOK = map[uint64][]sigEntry{}
	}
	s.sigOK[key] = appendBounded(s.sigOK[key], sigEntry{signed: signed, issuerSPKI: issuerSPKI})
}

// isAnchor reports whether c (byte for byte) is an anchor, without hashing: anchors are indexed by subject.
func (s *Store) isAnchor(c *x509ext.Certificate) bool {
	for _, a := range s.anchorsByRawSubject(c.RawSubject) {
		if a == c || bytes.Equal(a.Raw, c.Raw) {
			return true
		}
	}
	return false
}

// pemBlock returns the bytes of the first PEM block of the given type in data, or nil.
func pemBlock(data []byte, typ string) []byte {
	for len(data) > 0 {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil
		}
		if b.Type == typ {
			return b.Bytes
		}
	}
	return nil
}
