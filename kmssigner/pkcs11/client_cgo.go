//go:build cgo

package pkcs11

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/ThalesGroup/crypto11"
	p11 "github.com/miekg/pkcs11"

	"github.com/pkikit/pkikit/internal/alg"
	"github.com/pkikit/pkikit/kmssigner"
)

// Client is a kmssigner.Client over one PKCS#11 token, through github.com/ThalesGroup/crypto11. Keys are named
// by label or id (see GetPublicKey); private keys never leave the token. It is safe for concurrent use: each
// call takes a session from crypto11's pool.
type Client struct {
	p11    *crypto11.Context
	cfg    Config
	mu     sync.Mutex
	keys   map[string]*tokenKey
	closed atomic.Bool
}

var _ kmssigner.Client = (*Client)(nil)

type tokenKey struct {
	signer crypto.Signer
	kt     alg.KeyType
	info   kmssigner.PublicKeyInfo
}

// New loads the PKCS#11 module, finds the token and logs in with cfg.PIN. Close releases the sessions (and
// unloads the module once no other Client uses it).
func New(cfg Config) (*Client, error) {
	const op = "open token"
	if err := checkModule(cfg.ModulePath); err != nil {
		return nil, err
	}
	n := 0
	if cfg.TokenLabel != "" {
		n++
	}
	if cfg.TokenSerial != "" {
		n++
	}
	if cfg.SlotID != nil {
		n++
	}
	if n != 1 {
		return nil, errf(op, ErrModule, "exactly one of TokenLabel, TokenSerial and SlotID must select the token")
	}
	if cfg.PIN == "" {
		return nil, errf(op, ErrPIN, "no PIN")
	}
	if cfg.MaxSessions == 1 || cfg.MaxSessions < 0 {
		return nil, errf(op, ErrModule, "MaxSessions must be 0 or at least 2")
	}
	c11 := &crypto11.Config{
		Path:        cfg.ModulePath,
		TokenLabel:  cfg.TokenLabel,
		TokenSerial: cfg.TokenSerial,
		Pin:         cfg.PIN,
		MaxSessions: cfg.MaxSessions,
	}
	if cfg.SlotID != nil {
		if uint64(*cfg.SlotID) > uint64(^uint32(0)) {
			return nil, errf(op, ErrModule, "SlotID out of range")
		}
		slot := int(*cfg.SlotID)
		c11.SlotNumber = &slot
	}
	ctx, err := crypto11.Configure(c11)
	if err != nil {
		if isPINError(err) {
			return nil, wrap(op, ErrPIN, "login refused", err)
		}
		return nil, wrap(op, ErrModule, "", err)
	}
	return &Client{p11: ctx, cfg: cfg, keys: map[string]*tokenKey{}}, nil
}

func checkModule(path string) error {
	const op = "open token"
	if path == "" {
		return errf(op, ErrModule, "no module path")
	}
	if !filepath.IsAbs(path) {
		return errf(op, ErrModule, "module path must be absolute (RFC 7512 module-path)")
	}
	if st, err := os.Stat(path); err != nil {
		return wrap(op, ErrModule, "", err)
	} else if st.IsDir() {
		return errf(op, ErrModule, "module path is a directory")
	}
	return nil
}

// Close logs out and releases the Client's sessions once the calls in flight finish. Calls after Close return
// ErrClosed.
func (c *Client) Close() error {
	if !c.opened() || c.closed.Swap(true) {
		return nil
	}
	return c.p11.Close()
}

// GetPublicKey finds the key pair keyID names and returns its public key as DER SubjectPublicKeyInfo, with the
// KMS key spec and signing algorithms of a key of its type (ECC_NIST_P256 → ECDSA_SHA_256, ...; RSA → the
// three PKCS#1 v1.5 and the three PSS algorithms). keyID is either a PKCS#11 URI whose object (CKA_LABEL) and/or
// id (CKA_ID) attributes name the key ("pkcs11:object=issuing-key;id=%01") or a bare label. The key is looked up
// once and cached.
func (c *Client) GetPublicKey(ctx context.Context, keyID string) (*kmssigner.PublicKeyInfo, error) {
	if !c.opened() {
		return nil, errf("get public key", ErrClosed, "Client not opened (use New or OpenURI)")
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	k, err := c.key(keyID)
	if err != nil {
		return nil, err
	}
	info := k.info
	info.PublicKey = append([]byte(nil), info.PublicKey...)
	info.SigningAlgorithms = append([]string(nil), info.SigningAlgorithms...)
	return &info, nil
}

type algSpec struct {
	family alg.Family
	hash   crypto.Hash
	pss    bool
}

var algSpecs = map[string]algSpec{
	kmssigner.SigningAlgorithmECDSASHA256:          {alg.FamilyECDSA, crypto.SHA256, false},
	kmssigner.SigningAlgorithmECDSASHA384:          {alg.FamilyECDSA, crypto.SHA384, false},
	kmssigner.SigningAlgorithmECDSASHA512:          {alg.FamilyECDSA, crypto.SHA512, false},
	kmssigner.SigningAlgorithmRSASSAPKCS1V15SHA256: {alg.FamilyRSA, crypto.SHA256, false},
	kmssigner.SigningAlgorithmRSASSAPKCS1V15SHA384: {alg.FamilyRSA, crypto.SHA384, false},
	kmssigner.SigningAlgorithmRSASSAPKCS1V15SHA512: {alg.FamilyRSA, crypto.SHA512, false},
	kmssigner.SigningAlgorithmRSASSAPSSSHA256:      {alg.FamilyRSA, crypto.SHA256, true},
	kmssigner.SigningAlgorithmRSASSAPSSSHA384:      {alg.FamilyRSA, crypto.SHA384, true},
	kmssigner.SigningAlgorithmRSASSAPSSSHA512:      {alg.FamilyRSA, crypto.SHA512, true},
}

// Sign signs on the token with the KMS semantics of req: MessageType DIGEST takes a digest of the algorithm's
// hash length, RAW a message of at most 4096 bytes that is hashed here first; EXTERNAL_MU (ML-DSA) is not
// available. ECDSA signatures come back DER-encoded (RFC 3279), RSA as PKCS#1; RSASSA-PSS uses MGF1 with the
// same hash and salt = hash length (as AWS KMS does). The algorithm must be one GetPublicKey lists for the key.
func (c *Client) Sign(ctx context.Context, req *kmssigner.SignRequest) ([]byte, error) {
	const op = "sign"
	if !c.opened() {
		return nil, errf(op, ErrClosed, "Client not opened (use New or OpenURI)")
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if req == nil {
		return nil, errf(op, ErrInvalidRequest, "nil request")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	k, err := c.key(req.KeyID)
	if err != nil {
		return nil, err
	}
	spec, ok := algSpecs[req.SigningAlgorithm]
	if !ok || spec.family != k.kt.Family() || !contains(k.info.SigningAlgorithms, req.SigningAlgorithm) {
		return nil, errf(op, ErrInvalidRequest, fmt.Sprintf("signing algorithm %s with a %s key", strconv.Quote(trunc(req.SigningAlgorithm)), k.kt))
	}
	var digest []byte
	switch req.MessageType {
	case kmssigner.MessageTypeDigest:
		if len(req.Message) != spec.hash.Size() {
			return nil, errf(op, ErrInvalidRequest, fmt.Sprintf("%d-byte digest for %v", len(req.Message), spec.hash))
		}
		digest = req.Message
	case kmssigner.MessageTypeRaw, "":
		if len(req.Message) > kmssigner.MaxRawMessage {
			return nil, errf(op, ErrInvalidRequest, "RAW message longer than 4096 bytes")
		}
		h := spec.hash.New()
		h.Write(req.Message)
		digest = h.Sum(nil)
	default:
		return nil, errf(op, ErrInvalidRequest, "message type "+strconv.Quote(trunc(req.MessageType))+" (PKCS#11 keys take DIGEST or RAW)")
	}
	var opts crypto.SignerOpts = spec.hash
	if spec.pss {
		opts = &rsa.PSSOptions{SaltLength: spec.hash.Size(), Hash: spec.hash}
	}
	if c.closed.Load() {
		return nil, errf(op, ErrClosed, "")
	}
	sig, err := k.signer.Sign(rand.Reader, digest, opts)
	if err != nil {
		return nil, tokenErr(op, err)
	}
	return sig, nil
}

// opened reports whether c was made by New (a nil or zero Client has no PKCS#11 context).
func (c *Client) opened() bool { return c != nil && c.p11 != nil }

func (c *Client) key(keyID string) (*tokenKey, error) {
	const op = "find key"
	if c.closed.Load() {
		return nil, errf(op, ErrClosed, "")
	}
	c.mu.Lock()
	k := c.keys[keyID]
	c.mu.Unlock()
	if k != nil {
		return k, nil
	}
	label, id, err := c.keyRef(keyID)
	if err != nil {
		return nil, err
	}
	found, err := c.p11.FindKeyPairs(id, label)
	if err != nil {
		return nil, tokenErr(op, err)
	}
	switch len(found) {
	case 0:
		return nil, notFound(keyID)
	case 1:
	default:
		return nil, errf(op, ErrAmbiguousKey, fmt.Sprintf("%d key pairs match %s", len(found), strconv.Quote(trunc(keyID))))
	}
	pub := found[0].Public()
	kt, err := alg.KeyTypeOf(pub)
	if err != nil {
		return nil, wrap(op, ErrUnsupportedKey, "", err)
	}
	algs, spec := signingAlgorithms(kt)
	if algs == nil {
		return nil, errf(op, ErrUnsupportedKey, kt.String()+" (only ECDSA and RSA keys are signed with here)")
	}
	der, err := alg.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, wrap(op, ErrUnsupportedKey, "", err)
	}
	k = &tokenKey{signer: found[0], kt: kt, info: kmssigner.PublicKeyInfo{
		KeyID: keyID, PublicKey: der, KeySpec: spec, KeyUsage: kmssigner.KeyUsageSignVerify, SigningAlgorithms: algs,
	}}
	c.mu.Lock()
	if prev := c.keys[keyID]; prev != nil {
		k = prev
	} else {
		c.keys[keyID] = k
	}
	c.mu.Unlock()
	return k, nil
}

// keyRef turns a key reference into the label and id to search for.
func (c *Client) keyRef(keyID string) (label, id []byte, err error) {
	const op = "find key"
	if keyID == "" {
		return nil, nil, errf(op, ErrInvalidRequest, "empty key id")
	}
	if len(keyID) < len(Scheme)+1 || !strings.EqualFold(keyID[:len(Scheme)+1], Scheme+":") {
		return []byte(keyID), nil, nil
	}
	u, err := ParseURI(keyID)
	if err != nil {
		return nil, nil, err
	}
	if u.Type != "" && u.Type != "private" {
		return nil, nil, errf(op, ErrInvalidRequest, "type="+u.Type+" does not name a private key")
	}
	if u.Object == "" && len(u.ID) == 0 {
		return nil, nil, errf(op, ErrInvalidRequest, "the key URI names neither object nor id")
	}
	if (u.Token != "" && c.cfg.TokenLabel != "" && u.Token != c.cfg.TokenLabel) ||
		(u.Serial != "" && c.cfg.TokenSerial != "" && u.Serial != c.cfg.TokenSerial) {
		return nil, nil, notFound(u.KeyRef())
	}
	if u.Object != "" {
		label = []byte(u.Object)
	}
	return label, u.ID, nil
}

func signingAlgorithms(kt alg.KeyType) (algs []string, spec string) {
	switch kt {
	case alg.KeyECDSAP256:
		return []string{kmssigner.SigningAlgorithmECDSASHA256}, kmssigner.KeySpecECCNISTP256
	case alg.KeyECDSAP384:
		return []string{kmssigner.SigningAlgorithmECDSASHA384}, kmssigner.KeySpecECCNISTP384
	case alg.KeyECDSAP521:
		return []string{kmssigner.SigningAlgorithmECDSASHA512}, kmssigner.KeySpecECCNISTP521
	}
	if kt.Family() != alg.FamilyRSA {
		return nil, ""
	}
	switch kt {
	case alg.KeyRSA2048:
		spec = kmssigner.KeySpecRSA2048
	case alg.KeyRSA3072:
		spec = kmssigner.KeySpecRSA3072
	case alg.KeyRSA4096:
		spec = kmssigner.KeySpecRSA4096
	}
	return []string{
		kmssigner.SigningAlgorithmRSASSAPSSSHA256, kmssigner.SigningAlgorithmRSASSAPSSSHA384, kmssigner.SigningAlgorithmRSASSAPSSSHA512,
		kmssigner.SigningAlgorithmRSASSAPKCS1V15SHA256, kmssigner.SigningAlgorithmRSASSAPKCS1V15SHA384, kmssigner.SigningAlgorithmRSASSAPKCS1V15SHA512,
	}, spec
}

func notFound(keyID string) error {
	return wrap("find key", ErrKeyNotFound, "", &kmssigner.APIError{Code: "NotFoundException", Message: "no key pair matches " + strconv.Quote(trunc(keyID))})
}

func isPINError(err error) bool {
	var pe p11.Error
	if !errors.As(err, &pe) {
		return false
	}
	switch pe {
	case p11.CKR_PIN_INCORRECT, p11.CKR_PIN_INVALID, p11.CKR_PIN_LEN_RANGE, p11.CKR_PIN_EXPIRED, p11.CKR_PIN_LOCKED, p11.CKR_USER_PIN_NOT_INITIALIZED:
		return true
	}
	return false
}

func tokenErr(op string, err error) error {
	if isPINError(err) {
		return wrap(op, ErrPIN, "", err)
	}
	return wrap(op, ErrToken, "", err)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func trunc(s string) string {
	if len(s) > 128 {
		return s[:128]
	}
	return s
}

// shared holds the Clients opened by OpenURI, one per module, token and PIN, for the life of the process.
var shared struct {
	sync.Mutex
	m map[[32]byte]*Client
}

// OpenURI opens (or reuses) the Client for a pkcs11: URI and returns it with the key reference to sign with
// (the URI's path component, without module, PIN or PIN source). The URI must give module-path (absolute),
// the token (serial=, token= or slot-id=, tried in that order), the key (object= and/or id=) and the PIN
// (pin-source= or pin-value=). Clients opened here are shared between calls with the same module, token and
// PIN and stay open for the life of the process; use New and Close to control their lifetime.
func OpenURI(ctx context.Context, uri string) (*Client, string, error) {
	const op = "open URI"
	if ctx == nil {
		ctx = context.Background()
	}
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	u, err := ParseURI(uri)
	if err != nil {
		return nil, "", err
	}
	cfg, err := u.config()
	if err != nil {
		return nil, "", err
	}
	if u.Object == "" && len(u.ID) == 0 {
		return nil, "", errf(op, ErrInvalidURI, "the URI names no key (object= or id=)")
	}
	h := sha256.New()
	slot := ""
	if cfg.SlotID != nil {
		slot = strconv.FormatUint(uint64(*cfg.SlotID), 10)
	}
	for _, f := range []string{cfg.ModulePath, cfg.TokenSerial, cfg.TokenLabel, slot, cfg.PIN} {
		h.Write([]byte(strconv.Itoa(len(f))))
		h.Write([]byte{0})
		h.Write([]byte(f))
	}
	var key [32]byte
	h.Sum(key[:0])
	shared.Lock()
	defer shared.Unlock()
	if c := shared.m[key]; c != nil && !c.closed.Load() {
		return c, u.KeyRef(), nil
	}
	c, err := New(cfg)
	if err != nil {
		return nil, "", err
	}
	if shared.m == nil {
		shared.m = map[[32]byte]*Client{}
	}
	shared.m[key] = c
	return c, u.KeyRef(), nil
}
