package localkms

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"filippo.io/mldsa"
	"filippo.io/mldsa/mldsacrypto"
	"github.com/cloudflare/circl/sign/mldsa/mldsa44"
	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
	"github.com/cloudflare/circl/sign/mldsa/mldsa87"

	"github.com/pkikit/pkikit/internal/alg"
	"github.com/pkikit/pkikit/kmssigner"
)

// Options configure a KMS. The zero value (plus a passphrase or master key for a persistent store) is safe.
type Options struct {
	// Passphrase protects a persistent store: the master key is derived from it with argon2id (KDF).
	Passphrase []byte
	// MasterKey (32 bytes) protects a persistent store instead of a passphrase (see ParseMasterKey).
	MasterKey []byte
	// KDF sets the argon2id parameters of a store created with a passphrase; zero means DefaultKDF.
	KDF KDFParams
	// Region and AccountID appear in ARNs and the SigV4 credential scope; defaults "us-east-1" and
	// "111122223333". A persistent store keeps the ones it was created with.
	Region    string
	AccountID string
	// Now is the clock (for CreationDate, DeletionDate and request-time checks); default time.Now.
	Now func() time.Time
	// Faults injects failures for tests; it can be changed later with SetFaults.
	Faults Faults
	// Audit configures the audit log (fsync policy, in-process caller name, memory bound).
	Audit AuditOptions
	// WeakExportKDFUnsafe lets ExportKey use PBKDF2 iteration counts and scrypt costs below the defaults (tests
	// only: a weak KDF makes an exported key's passphrase cheap to guess).
	WeakExportKDFUnsafe bool
}

// KMS is an embedded key-management service with AWS KMS's operations for asymmetric signing keys. It
// implements kmssigner.Client. Private keys never leave it: no operation returns them and no error or log
// carries them. A KMS is safe for concurrent use.
type KMS struct {
	region, account string
	now             func() time.Time
	st              *store // nil: in memory

	mu      sync.RWMutex
	keys    map[string]*key
	aliases map[string]aliasRecord

	faults     faultState
	nextExpiry atomic.Int64 // earliest DeletionDate (Unix ms) of a key pending deletion; MaxInt64 if none

	audit       *auditLog
	auditCaller string
	weakExport  bool
}

var _ kmssigner.Client = (*KMS)(nil)

type key struct {
	meta   keyMeta // guarded by KMS.mu (KeyState and deletion fields change)
	kt     alg.KeyType
	signer crypto.Signer
	pub    crypto.PublicKey
	mu     *mldsa.PrivateKey // ML-DSA: filippo.io key from the seed, for EXTERNAL_MU
}

// Open opens (or creates) the persistent key store in dir. A passphrase or a master key is required; a wrong
// one is ErrWrongPassphrase or ErrWrongMasterKey, a modified key or alias file ErrTampered. Every key in the
// store is authenticated and loaded.
func Open(dir string, opts *Options) (*KMS, error) {
	if opts == nil {
		opts = &Options{}
	}
	k := newKMS(opts)
	kdf := opts.KDF
	if kdf == (KDFParams{}) {
		kdf = DefaultKDF
	}
	st, err := openStore(dir, opts.Passphrase, opts.MasterKey, kdf, k.region, k.account)
	if err != nil {
		return nil, err
	}
	k.st, k.region, k.account = st, st.header.Region, st.header.AccountID
	k.setupAudit(dir, opts.Audit)
	ids, err := st.listKeyIDs()
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		meta, pkcs8, err := st.loadKey(id)
		if err != nil {
			return nil, err
		}
		kk, err := keyFromPKCS8(meta, pkcs8)
		clear(pkcs8)
		if err != nil {
			return nil, storeErr("load key", id, ErrMalformedFile, "", err)
		}
		k.keys[id] = kk
		if meta.KeyState == KeyStatePendingDeletion {
			k.noteExpiry(meta.DeletionDate)
		}
	}
	recs, err := st.loadAliases()
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		k.aliases[r.Name] = r
	}
	return k, nil
}

// NewMemory returns a KMS that keeps its keys in memory only (for tests and ephemeral use).
func NewMemory(opts *Options) *KMS {
	if opts == nil {
		opts = &Options{}
	}
	k := newKMS(opts)
	k.setupAudit("", opts.Audit)
	return k
}

func newKMS(opts *Options) *KMS {
	k := &KMS{region: opts.Region, account: opts.AccountID, now: opts.Now,
		keys: map[string]*key{}, aliases: map[string]aliasRecord{}, weakExport: opts.WeakExportKDFUnsafe}
	if k.region == "" {
		k.region = "us-east-1"
	}
	if k.account == "" {
		k.account = "111122223333"
	}
	if k.now == nil {
		k.now = time.Now
	}
	k.SetFaults(opts.Faults)
	k.nextExpiry.Store(math.MaxInt64)
	return k
}

// Region returns the region in the KMS's ARNs (and the one SigV4 requests must be scoped to).
func (k *KMS) Region() string { return k.region }

// AccountID returns the account in the KMS's ARNs.
func (k *KMS) AccountID() string { return k.account }

func keyFromPKCS8(meta keyMeta, pkcs8 []byte) (*key, error) {
	signer, err := alg.ParsePKCS8PrivateKey(pkcs8)
	if err != nil {
		return nil, err
	}
	return newKey(meta, signer)
}

func newKey(meta keyMeta, signer crypto.Signer) (*key, error) {
	kt, err := alg.KeyTypeOf(signer.Public())
	if err != nil {
		return nil, err
	}
	if specKeyType[meta.KeySpec] != kt {
		return nil, fmt.Errorf("key spec %s does not match a %s key", meta.KeySpec, kt)
	}
	spki, err := alg.MarshalPKIXPublicKey(signer.Public())
	if err != nil {
		return nil, err
	}
	if meta.PublicKey != nil && string(meta.PublicKey) != string(spki) {
		return nil, fmt.Errorf("public key does not match the private key")
	}
	meta.PublicKey = spki
	kk := &key{meta: meta, kt: kt, signer: signer, pub: signer.Public()}
	if kt.Family() == alg.FamilyMLDSA {
		params := map[alg.KeyType]mldsa.Parameters{alg.KeyMLDSA44: mldsa.MLDSA44(), alg.KeyMLDSA65: mldsa.MLDSA65(), alg.KeyMLDSA87: mldsa.MLDSA87()}[kt]
		seed := alg.MLDSASeed(signer)
		if seed == nil {
			return nil, fmt.Errorf("ML-DSA key without its seed")
		}
		if kk.mu, err = mldsa.NewPrivateKey(params, seed); err != nil {
			return nil, err
		}
	}
	return kk, nil
}

var specKeyType = map[string]alg.KeyType{
	kmssigner.KeySpecRSA2048: alg.KeyRSA2048, kmssigner.KeySpecRSA3072: alg.KeyRSA3072, kmssigner.KeySpecRSA4096: alg.KeyRSA4096,
	kmssigner.KeySpecECCNISTP256: alg.KeyECDSAP256, kmssigner.KeySpecECCNISTP384: alg.KeyECDSAP384, kmssigner.KeySpecECCNISTP521: alg.KeyECDSAP521,
	kmssigner.KeySpecECCNISTEdwards25519: alg.KeyEd25519,
	kmssigner.KeySpecMLDSA44:             alg.KeyMLDSA44, kmssigner.KeySpecMLDSA65: alg.KeyMLDSA65, kmssigner.KeySpecMLDSA87: alg.KeyMLDSA87,
}

type algInfo struct {
	family alg.Family
	hash   crypto.Hash
	pss    bool
}

var algs = map[string]algInfo{
	kmssigner.SigningAlgorithmRSASSAPSSSHA256:      {alg.FamilyRSA, crypto.SHA256, true},
	kmssigner.SigningAlgorithmRSASSAPSSSHA384:      {alg.FamilyRSA, crypto.SHA384, true},
	kmssigner.SigningAlgorithmRSASSAPSSSHA512:      {alg.FamilyRSA, crypto.SHA512, true},
	kmssigner.SigningAlgorithmRSASSAPKCS1V15SHA256: {alg.FamilyRSA, crypto.SHA256, false},
	kmssigner.SigningAlgorithmRSASSAPKCS1V15SHA384: {alg.FamilyRSA, crypto.SHA384, false},
	kmssigner.SigningAlgorithmRSASSAPKCS1V15SHA512: {alg.FamilyRSA, crypto.SHA512, false},
	kmssigner.SigningAlgorithmECDSASHA256:          {alg.FamilyECDSA, crypto.SHA256, false},
	kmssigner.SigningAlgorithmECDSASHA384:          {alg.FamilyECDSA, crypto.SHA384, false},
	kmssigner.SigningAlgorithmECDSASHA512:          {alg.FamilyECDSA, crypto.SHA512, false},
	kmssigner.SigningAlgorithmEd25519SHA512:        {alg.FamilyEd25519, 0, false},
	kmssigner.SigningAlgorithmMLDSASHAKE256:        {alg.FamilyMLDSA, 0, false},
}

// signingAlgorithms lists what a key spec signs with, as AWS KMS lists them (Ed25519: only ED25519_SHA_512, as
// ED25519_PH_SHA_512 is not implemented here).
func signingAlgorithms(kt alg.KeyType) []string {
	switch kt.Family() {
	case alg.FamilyRSA:
		return []string{kmssigner.SigningAlgorithmRSASSAPSSSHA256, kmssigner.SigningAlgorithmRSASSAPSSSHA384, kmssigner.SigningAlgorithmRSASSAPSSSHA512,
			kmssigner.SigningAlgorithmRSASSAPKCS1V15SHA256, kmssigner.SigningAlgorithmRSASSAPKCS1V15SHA384, kmssigner.SigningAlgorithmRSASSAPKCS1V15SHA512}
	case alg.FamilyECDSA:
		return []string{map[alg.KeyType]string{alg.KeyECDSAP256: kmssigner.SigningAlgorithmECDSASHA256,
			alg.KeyECDSAP384: kmssigner.SigningAlgorithmECDSASHA384, alg.KeyECDSAP521: kmssigner.SigningAlgorithmECDSASHA512}[kt]}
	case alg.FamilyEd25519:
		return []string{kmssigner.SigningAlgorithmEd25519SHA512}
	case alg.FamilyMLDSA:
		return []string{kmssigner.SigningAlgorithmMLDSASHAKE256}
	}
	return nil
}

func (k *KMS) keyARN(id string) string {
	return "arn:aws:kms:" + k.region + ":" + k.account + ":key/" + id
}

func (k *KMS) aliasARN(name string) string {
	return "arn:aws:kms:" + k.region + ":" + k.account + ":" + name
}

func newKeyID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// resolve finds the key a reference names: key id, key ARN, alias name or alias ARN (matched exactly, case
// included). The caller holds k.mu (read or write).
func (k *KMS) resolveLocked(ref string) (*key, *kmssigner.APIError) {
	notFound := apiErr(CodeNotFound, "Invalid keyId "+quoteRef(ref))
	if ref == "" {
		return nil, apiErr(CodeValidation, "KeyId is required")
	}
	id := ref
	prefix := "arn:aws:kms:" + k.region + ":" + k.account + ":"
	if strings.HasPrefix(ref, "arn:") {
		rest, ok := strings.CutPrefix(ref, prefix)
		if !ok {
			return nil, notFound
		}
		if rest, ok = strings.CutPrefix(rest, "key/"); ok {
			id = rest
		} else if strings.HasPrefix(rest, "alias/") {
			ref = rest
		} else {
			return nil, notFound
		}
	}
	if strings.HasPrefix(ref, "alias/") {
		a, ok := k.aliases[ref]
		if !ok {
			return nil, apiErr(CodeNotFound, "Alias "+k.aliasARN(quoteRef(ref))+" is not found.")
		}
		id = a.Target
	}
	kk, ok := k.keys[id]
	if !ok {
		return nil, notFound
	}
	return kk, nil
}

func quoteRef(s string) string {
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}

func (k *KMS) noteExpiry(ms int64) {
	for {
		cur := k.nextExpiry.Load()
		if ms >= cur || k.nextExpiry.CompareAndSwap(cur, ms) {
			return
		}
	}
}

// purgeExpired removes keys whose deletion date has passed (and their aliases). It costs one atomic load unless
// a deletion date has passed.
func (k *KMS) purgeExpired() {
	now := k.now().UnixMilli()
	if now < k.nextExpiry.Load() {
		return
	}
	k.mu.RLock()
	var expired []string
	for id, kk := range k.keys {
		if kk.meta.KeyState == KeyStatePendingDeletion && kk.meta.DeletionDate <= now {
			expired = append(expired, id)
		}
	}
	k.mu.RUnlock()
	if len(expired) == 0 {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	next := int64(math.MaxInt64)
	for _, kk := range k.keys {
		if kk.meta.KeyState == KeyStatePendingDeletion && kk.meta.DeletionDate > now && kk.meta.DeletionDate < next {
			next = kk.meta.DeletionDate
		}
	}
	k.nextExpiry.Store(next)
	for _, id := range expired {
		k.record(context.Background(), "DeleteKey", id, "pending window ended", nil)
		delete(k.keys, id)
		if k.st != nil {
			k.st.removeKey(id)
		}
		for name, a := range k.aliases {
			if a.Target == id {
				delete(k.aliases, name)
			}
		}
	}
	if k.st != nil {
		k.st.saveAliases(k.aliasRecordsLocked())
	}
}

func (k *KMS) aliasRecordsLocked() []aliasRecord {
	recs := make([]aliasRecord, 0, len(k.aliases))
	for _, a := range k.aliases {
		recs = append(recs, a)
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].Name < recs[j].Name })
	return recs
}

func (k *KMS) metadataLocked(kk *key) *KeyMetadata {
	m := kk.meta
	md := &KeyMetadata{
		AWSAccountId: k.account, Arn: k.keyARN(m.KeyID), CreationDate: epoch(time.UnixMilli(m.CreationDate)),
		CustomerMasterKeySpec: m.KeySpec, Description: m.Description, Enabled: m.KeyState == KeyStateEnabled,
		KeyId: m.KeyID, KeyManager: "CUSTOMER", KeySpec: m.KeySpec, KeyState: m.KeyState, KeyUsage: m.KeyUsage,
		Origin: "AWS_KMS", SigningAlgorithms: signingAlgorithms(kk.kt), Exportable: m.Exportable,
	}
	if m.KeyState == KeyStatePendingDeletion {
		d := epoch(time.UnixMilli(m.DeletionDate))
		w := m.PendingWindowInDays
		md.DeletionDate, md.PendingDeletionWindowInDays = &d, &w
	}
	return md
}

// CreateKey makes a new signing key: KeyUsage SIGN_VERIFY and a KeySpec of RSA_2048/3072/4096,
// ECC_NIST_P256/P384/P521, ECC_NIST_EDWARDS25519 or ML_DSA_44/65/87. A persistent store writes it (encrypted)
// before CreateKey returns.
func (k *KMS) CreateKey(ctx context.Context, in *CreateKeyInput) (*CreateKeyOutput, error) {
	if err := k.fault(ctx, "CreateKey"); err != nil {
		return nil, err
	}
	out, err := k.createKey(in)
	id, detail := "", ""
	if in != nil {
		detail = quoteRef(in.KeySpec + in.CustomerMasterKeySpec)
		if in.Exportable {
			detail += " exportable"
		}
	}
	if out != nil {
		id = out.KeyMetadata.KeyId
	}
	if rerr := k.record(ctx, "CreateKey", id, detail, err); rerr != nil {
		return nil, rerr
	}
	return out, err
}

func (k *KMS) createKey(in *CreateKeyInput) (*CreateKeyOutput, error) {
	if in == nil {
		in = &CreateKeyInput{}
	}
	spec := in.KeySpec
	if spec == "" {
		spec = in.CustomerMasterKeySpec
	}
	if in.KeySpec != "" && in.CustomerMasterKeySpec != "" && in.KeySpec != in.CustomerMasterKeySpec {
		return nil, apiErr(CodeValidation, "KeySpec and CustomerMasterKeySpec disagree")
	}
	if spec == "" || spec == "SYMMETRIC_DEFAULT" {
		return nil, apiErr(CodeUnsupportedOperation, "this KMS makes asymmetric signing keys only; give a KeySpec")
	}
	kt, ok := specKeyType[spec]
	if !ok {
		return nil, apiErr(CodeUnsupportedOperation, "KeySpec "+quoteRef(spec)+" is not supported")
	}
	if in.KeyUsage != kmssigner.KeyUsageSignVerify {
		return nil, apiErr(CodeValidation, "KeyUsage must be SIGN_VERIFY for "+spec)
	}
	if in.Origin != "" && in.Origin != "AWS_KMS" {
		return nil, apiErr(CodeUnsupportedOperation, "Origin "+quoteRef(in.Origin)+" is not supported")
	}
	if in.CustomKeyStoreId != "" || in.XksKeyId != "" {
		return nil, apiErr(CodeUnsupportedOperation, "custom key stores are not supported")
	}
	if len(in.Description) > 8192 {
		return nil, apiErr(CodeValidation, "Description is longer than 8192 characters")
	}
	signer, err := alg.GenerateKey(kt)
	if err != nil {
		return nil, apiErr(CodeInternal, "key generation failed")
	}
	meta := keyMeta{KeyID: newKeyID(), KeySpec: spec, KeyUsage: in.KeyUsage, Description: in.Description,
		CreationDate: k.now().UnixMilli(), KeyState: KeyStateEnabled, Exportable: in.Exportable}
	kk, err := newKey(meta, signer)
	if err != nil {
		return nil, apiErr(CodeInternal, "key setup failed")
	}
	if k.st != nil {
		pkcs8, err := alg.MarshalPKCS8PrivateKey(signer)
		if err != nil {
			return nil, apiErr(CodeInternal, "key encoding failed")
		}
		err = k.st.saveKey(kk.meta, pkcs8)
		clear(pkcs8)
		if err != nil {
			return nil, apiErr(CodeInternal, "writing the key failed")
		}
	}
	k.mu.Lock()
	k.keys[meta.KeyID] = kk
	md := k.metadataLocked(kk)
	k.mu.Unlock()
	return &CreateKeyOutput{KeyMetadata: md}, nil
}

var aliasNameRE = regexp.MustCompile(`^alias/[a-zA-Z0-9/_-]+$`)

// CreateAlias points an alias ("alias/Name", case-sensitive) at a key id or key ARN.
func (k *KMS) CreateAlias(ctx context.Context, in *CreateAliasInput) (*CreateAliasOutput, error) {
	if err := k.fault(ctx, "CreateAlias"); err != nil {
		return nil, err
	}
	out, err := k.createAlias(in)
	ref, detail := "", ""
	if in != nil {
		ref, detail = in.TargetKeyId, quoteRef(in.AliasName)
	}
	if rerr := k.record(ctx, "CreateAlias", k.keyIDOf(ref), detail, err); rerr != nil {
		return nil, rerr
	}
	return out, err
}

func (k *KMS) createAlias(in *CreateAliasInput) (*CreateAliasOutput, error) {
	if in == nil || in.AliasName == "" || in.TargetKeyId == "" {
		return nil, apiErr(CodeValidation, "AliasName and TargetKeyId are required")
	}
	if len(in.AliasName) > 256 || !aliasNameRE.MatchString(in.AliasName) {
		return nil, apiErr(CodeValidation, "AliasName must match ^alias/[a-zA-Z0-9/_-]+$ and be at most 256 characters")
	}
	if strings.HasPrefix(in.AliasName, "alias/aws/") {
		return nil, apiErr(CodeInvalidAliasName, "alias/aws/ is reserved for AWS managed keys")
	}
	if strings.HasPrefix(in.TargetKeyId, "alias/") || strings.Contains(in.TargetKeyId, ":alias/") {
		return nil, apiErr(CodeValidation, "TargetKeyId must be a key id or key ARN")
	}
	k.purgeExpired()
	k.mu.Lock()
	defer k.mu.Unlock()
	kk, aerr := k.resolveLocked(in.TargetKeyId)
	if aerr != nil {
		return nil, aerr
	}
	if kk.meta.KeyState == KeyStatePendingDeletion {
		return nil, apiErr(CodeInvalidState, k.keyARN(kk.meta.KeyID)+" is pending deletion.")
	}
	if _, dup := k.aliases[in.AliasName]; dup {
		return nil, apiErr(CodeAlreadyExists, "An alias with the name "+k.aliasARN(in.AliasName)+" already exists")
	}
	k.aliases[in.AliasName] = aliasRecord{Name: in.AliasName, Target: kk.meta.KeyID, Created: k.now().UnixMilli()}
	if k.st != nil {
		if err := k.st.saveAliases(k.aliasRecordsLocked()); err != nil {
			delete(k.aliases, in.AliasName)
			return nil, apiErr(CodeInternal, "writing the alias failed")
		}
	}
	return &CreateAliasOutput{}, nil
}

func pageLimit(l int32) (int, *kmssigner.APIError) {
	switch {
	case l == 0:
		return 100, nil
	case l < 1 || l > 1000:
		return 0, apiErr(CodeValidation, "Limit must be between 1 and 1000")
	}
	return int(l), nil
}

func decodeMarker(m string) (string, *kmssigner.APIError) {
	if m == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(m)
	if err != nil {
		return "", apiErr(CodeInvalidMarker, "invalid Marker")
	}
	return string(b), nil
}

// ListKeys lists the keys (ordered by key id), Limit at a time.
func (k *KMS) ListKeys(ctx context.Context, in *ListKeysInput) (*ListKeysOutput, error) {
	if err := k.fault(ctx, "ListKeys"); err != nil {
		return nil, err
	}
	if in == nil {
		in = &ListKeysInput{}
	}
	limit, aerr := pageLimit(in.Limit)
	if aerr != nil {
		return nil, aerr
	}
	after, aerr := decodeMarker(in.Marker)
	if aerr != nil {
		return nil, aerr
	}
	k.purgeExpired()
	k.mu.RLock()
	ids := make([]string, 0, len(k.keys))
	for id := range k.keys {
		if id > after {
			ids = append(ids, id)
		}
	}
	k.mu.RUnlock()
	sort.Strings(ids)
	out := &ListKeysOutput{Keys: []KeyListEntry{}}
	for i, id := range ids {
		if i == limit {
			out.Truncated, out.NextMarker = true, base64.RawURLEncoding.EncodeToString([]byte(ids[i-1]))
			break
		}
		out.Keys = append(out.Keys, KeyListEntry{KeyArn: k.keyARN(id), KeyId: id})
	}
	return out, nil
}

// ListAliases lists the aliases (ordered by name), optionally only those of one key (KeyId: key id or ARN).
func (k *KMS) ListAliases(ctx context.Context, in *ListAliasesInput) (*ListAliasesOutput, error) {
	if err := k.fault(ctx, "ListAliases"); err != nil {
		return nil, err
	}
	if in == nil {
		in = &ListAliasesInput{}
	}
	limit, aerr := pageLimit(in.Limit)
	if aerr != nil {
		return nil, aerr
	}
	after, aerr := decodeMarker(in.Marker)
	if aerr != nil {
		return nil, aerr
	}
	k.purgeExpired()
	k.mu.RLock()
	target := ""
	if in.KeyId != "" {
		if strings.HasPrefix(in.KeyId, "alias/") || strings.Contains(in.KeyId, ":alias/") {
			k.mu.RUnlock()
			return nil, apiErr(CodeValidation, "KeyId must be a key id or key ARN")
		}
		kk, aerr := k.resolveLocked(in.KeyId)
		if aerr != nil {
			k.mu.RUnlock()
			return nil, aerr
		}
		target = kk.meta.KeyID
	}
	recs := k.aliasRecordsLocked()
	k.mu.RUnlock()
	out := &ListAliasesOutput{Aliases: []AliasListEntry{}}
	var last string
	for _, r := range recs {
		if r.Name <= after || (target != "" && r.Target != target) {
			continue
		}
		if len(out.Aliases) == limit {
			out.Truncated, out.NextMarker = true, base64.RawURLEncoding.EncodeToString([]byte(last))
			break
		}
		c := epoch(time.UnixMilli(r.Created))
		out.Aliases = append(out.Aliases, AliasListEntry{AliasArn: k.aliasARN(r.Name), AliasName: r.Name,
			TargetKeyId: r.Target, CreationDate: &c, LastUpdatedDate: &c})
		last = r.Name
	}
	return out, nil
}

// DescribeKey returns a key's metadata (also for keys pending deletion).
func (k *KMS) DescribeKey(ctx context.Context, in *DescribeKeyInput) (*DescribeKeyOutput, error) {
	if err := k.fault(ctx, "DescribeKey"); err != nil {
		return nil, err
	}
	if in == nil {
		in = &DescribeKeyInput{}
	}
	k.purgeExpired()
	k.mu.RLock()
	defer k.mu.RUnlock()
	kk, aerr := k.resolveLocked(in.KeyId)
	if aerr != nil {
		return nil, aerr
	}
	return &DescribeKeyOutput{KeyMetadata: k.metadataLocked(kk)}, nil
}

// usableLocked resolves a key for GetPublicKey, Sign and Verify: it must exist, be enabled and be a signing key.
func (k *KMS) usableLocked(ref string) (*key, *kmssigner.APIError) {
	kk, aerr := k.resolveLocked(ref)
	if aerr != nil {
		return nil, aerr
	}
	if kk.meta.KeyState != KeyStateEnabled {
		return nil, apiErr(CodeInvalidState, k.keyARN(kk.meta.KeyID)+" is "+kk.meta.KeyState+".")
	}
	return kk, nil
}

// GetPublicKey returns the DER SubjectPublicKeyInfo of a key with its spec, usage and signing algorithms
// (kmssigner.Client). KeyID in the result is the key ARN.
func (k *KMS) GetPublicKey(ctx context.Context, keyID string) (*kmssigner.PublicKeyInfo, error) {
	out, err := k.getPublicKey(ctx, &GetPublicKeyInput{KeyId: keyID})
	if err != nil {
		return nil, err
	}
	return &kmssigner.PublicKeyInfo{KeyID: out.KeyId, PublicKey: out.PublicKey, KeySpec: out.KeySpec,
		KeyUsage: out.KeyUsage, SigningAlgorithms: out.SigningAlgorithms}, nil
}

func (k *KMS) getPublicKey(ctx context.Context, in *GetPublicKeyInput) (*GetPublicKeyOutput, error) {
	if err := k.fault(ctx, "GetPublicKey"); err != nil {
		return nil, err
	}
	out, err := k.getPublicKeyLocked(in)
	if rerr := k.record(ctx, "GetPublicKey", k.keyIDOf(in.KeyId), "", err); rerr != nil {
		return nil, rerr
	}
	return out, err
}

func (k *KMS) getPublicKeyLocked(in *GetPublicKeyInput) (*GetPublicKeyOutput, error) {
	k.purgeExpired()
	k.mu.RLock()
	defer k.mu.RUnlock()
	kk, aerr := k.usableLocked(in.KeyId)
	if aerr != nil {
		return nil, aerr
	}
	return &GetPublicKeyOutput{KeyId: k.keyARN(kk.meta.KeyID), PublicKey: append([]byte(nil), kk.meta.PublicKey...),
		KeySpec: kk.meta.KeySpec, CustomerMasterKeySpec: kk.meta.KeySpec, KeyUsage: kk.meta.KeyUsage,
		SigningAlgorithms: signingAlgorithms(kk.kt)}, nil
}

// Sign signs req.Message with the key (kmssigner.Client), as AWS KMS Sign does:
//
//   - RAW: the message (1–4096 bytes); ECDSA and RSA hash it with the algorithm's hash, Ed25519 and ML-DSA sign it
//     (ML-DSA hedged, empty context).
//   - DIGEST: ECDSA and RSA only; the length must be the hash's.
//   - EXTERNAL_MU: ML-DSA only; the 64-byte μ of FIPS 204 (signed with filippo.io/mldsa from the key's seed).
//
// The algorithm must be one the key spec offers (InvalidKeyUsageException otherwise).
func (k *KMS) Sign(ctx context.Context, req *kmssigner.SignRequest) ([]byte, error) {
	sig, _, err := k.sign(ctx, req)
	return sig, err
}

func (k *KMS) sign(ctx context.Context, req *kmssigner.SignRequest) ([]byte, string, error) {
	if err := k.fault(ctx, "Sign"); err != nil {
		return nil, "", err
	}
	sig, arn, err := k.signKey(req)
	var id, detail string
	if arn != "" {
		_, id, _ = strings.Cut(arn, ":key/")
	} else if req != nil {
		id = k.keyIDOf(req.KeyID)
	}
	if req != nil {
		detail = quoteRef(req.SigningAlgorithm) + " " + quoteRef(req.MessageType)
	}
	if rerr := k.record(ctx, "Sign", id, detail, err); rerr != nil {
		return nil, "", rerr
	}
	return sig, arn, err
}

func (k *KMS) signKey(req *kmssigner.SignRequest) (sig []byte, arn string, err error) {
	if req == nil {
		return nil, "", apiErr(CodeValidation, "empty request")
	}
	kk, data, ai, arn, aerr := k.prepare(req.KeyID, req.Message, req.MessageType, req.SigningAlgorithm)
	if aerr != nil {
		return nil, "", aerr
	}
	switch s := kk.signer.(type) {
	case *ecdsa.PrivateKey:
		sig, err = ecdsa.SignASN1(rand.Reader, s, data)
	case *rsa.PrivateKey:
		if ai.pss {
			sig, err = rsa.SignPSS(rand.Reader, s, ai.hash, data, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		} else {
			sig, err = rsa.SignPKCS1v15(rand.Reader, s, ai.hash, data)
		}
	case ed25519.PrivateKey:
		sig = ed25519.Sign(s, data)
	case *mldsa44.PrivateKey, *mldsa65.PrivateKey, *mldsa87.PrivateKey:
		if req.MessageType == kmssigner.MessageTypeExternalMu {
			sig, err = kk.mu.Sign(rand.Reader, data, mldsacrypto.MLDSAMu)
			break
		}
		switch s := s.(type) {
		case *mldsa44.PrivateKey:
			sig = make([]byte, mldsa44.SignatureSize)
			err = mldsa44.SignTo(s, data, nil, true, sig)
		case *mldsa65.PrivateKey:
			sig = make([]byte, mldsa65.SignatureSize)
			err = mldsa65.SignTo(s, data, nil, true, sig)
		case *mldsa87.PrivateKey:
			sig = make([]byte, mldsa87.SignatureSize)
			err = mldsa87.SignTo(s, data, nil, true, sig)
		}
	default:
		err = fmt.Errorf("unexpected key type")
	}
	if err != nil {
		return nil, "", apiErr(CodeInternal, "signing failed")
	}
	return sig, arn, nil
}

// prepare validates a Sign or Verify request and returns the key, the data to sign (a digest, a message or μ),
// the algorithm and the key ARN.
func (k *KMS) prepare(keyID string, msg []byte, messageType, algName string) (*key, []byte, algInfo, string, *kmssigner.APIError) {
	if messageType == "" {
		messageType = kmssigner.MessageTypeRaw
	}
	if len(msg) < 1 || len(msg) > kmssigner.MaxRawMessage {
		return nil, nil, algInfo{}, "", apiErr(CodeValidation, "Message must be between 1 and 4096 bytes")
	}
	ai, ok := algs[algName]
	if !ok {
		return nil, nil, algInfo{}, "", apiErr(CodeValidation, "unknown SigningAlgorithm "+quoteRef(algName))
	}
	switch messageType {
	case kmssigner.MessageTypeRaw, kmssigner.MessageTypeDigest, kmssigner.MessageTypeExternalMu:
	default:
		return nil, nil, algInfo{}, "", apiErr(CodeValidation, "unknown MessageType "+quoteRef(messageType))
	}
	k.purgeExpired()
	k.mu.RLock()
	kk, aerr := k.usableLocked(keyID)
	var arn string
	if aerr == nil {
		arn = k.keyARN(kk.meta.KeyID)
	}
	k.mu.RUnlock()
	if aerr != nil {
		return nil, nil, algInfo{}, "", aerr
	}
	if ai.family != kk.kt.Family() || (ai.family == alg.FamilyECDSA && signingAlgorithms(kk.kt)[0] != algName) {
		return nil, nil, algInfo{}, "", apiErr(CodeInvalidKeyUsage, algName+" is not supported for a "+kk.meta.KeySpec+" key")
	}
	data := msg
	switch messageType {
	case kmssigner.MessageTypeDigest:
		if ai.hash == 0 {
			return nil, nil, algInfo{}, "", apiErr(CodeValidation, algName+" does not take MessageType DIGEST")
		}
		if len(msg) != ai.hash.Size() {
			return nil, nil, algInfo{}, "", apiErr(CodeValidation, fmt.Sprintf("Digest is invalid length for algorithm %s: %d bytes, want %d", algName, len(msg), ai.hash.Size()))
		}
	case kmssigner.MessageTypeExternalMu:
		if ai.family != alg.FamilyMLDSA {
			return nil, nil, algInfo{}, "", apiErr(CodeValidation, algName+" does not take MessageType EXTERNAL_MU")
		}
		if len(msg) != 64 {
			return nil, nil, algInfo{}, "", apiErr(CodeValidation, "EXTERNAL_MU message must be 64 bytes")
		}
	default:
		if ai.hash != 0 {
			h := ai.hash.New()
			h.Write(msg)
			data = h.Sum(nil)
		}
	}
	return kk, data, ai, arn, nil
}

// Verify checks a signature as AWS KMS Verify does; an invalid signature is KMSInvalidSignatureException.
// EXTERNAL_MU verification is not implemented (UnsupportedOperationException): no ML-DSA library available here
// verifies from μ.
func (k *KMS) Verify(ctx context.Context, in *VerifyInput) (*VerifyOutput, error) {
	if err := k.fault(ctx, "Verify"); err != nil {
		return nil, err
	}
	if in == nil {
		in = &VerifyInput{}
	}
	out, err := k.verify(in)
	if rerr := k.record(ctx, "Verify", k.keyIDOf(in.KeyId), quoteRef(in.SigningAlgorithm)+" "+quoteRef(in.MessageType), err); rerr != nil {
		return nil, rerr
	}
	return out, err
}

func (k *KMS) verify(in *VerifyInput) (*VerifyOutput, error) {
	if in.DryRun {
		return nil, apiErr(CodeDryRun, "The request would have succeeded, but the DryRun option is set.")
	}
	if len(in.Signature) == 0 || len(in.Signature) > 6144 {
		return nil, apiErr(CodeValidation, "Signature must be between 1 and 6144 bytes")
	}
	kk, data, ai, arn, aerr := k.prepare(in.KeyId, in.Message, in.MessageType, in.SigningAlgorithm)
	if aerr != nil {
		return nil, aerr
	}
	var ok bool
	switch pub := kk.pub.(type) {
	case *ecdsa.PublicKey:
		ok = ecdsa.VerifyASN1(pub, data, in.Signature)
	case *rsa.PublicKey:
		if ai.pss {
			ok = rsa.VerifyPSS(pub, ai.hash, data, in.Signature, &rsa.PSSOptions{SaltLength: ai.hash.Size()}) == nil
		} else {
			ok = rsa.VerifyPKCS1v15(pub, ai.hash, data, in.Signature) == nil
		}
	case ed25519.PublicKey:
		ok = ed25519.Verify(pub, data, in.Signature)
	default:
		if in.MessageType == kmssigner.MessageTypeExternalMu {
			return nil, apiErr(CodeUnsupportedOperation, "Verify with EXTERNAL_MU is not supported by this KMS")
		}
		a := kk.kt.DefaultAlgorithm()
		ok = alg.Verify(pub, a, data, in.Signature) == nil
	}
	if !ok {
		return nil, apiErr(CodeInvalidSignature, "")
	}
	return &VerifyOutput{KeyId: arn, SignatureValid: true, SigningAlgorithm: in.SigningAlgorithm}, nil
}

// ScheduleKeyDeletion puts a key in PendingDeletion (7–30 days, default 30): it can no longer sign or give its
// public key, and is removed when the date passes.
func (k *KMS) ScheduleKeyDeletion(ctx context.Context, in *ScheduleKeyDeletionInput) (*ScheduleKeyDeletionOutput, error) {
	if err := k.fault(ctx, "ScheduleKeyDeletion"); err != nil {
		return nil, err
	}
	if in == nil {
		in = &ScheduleKeyDeletionInput{}
	}
	out, err := k.scheduleKeyDeletion(in)
	if rerr := k.record(ctx, "ScheduleKeyDeletion", k.keyIDOf(in.KeyId), fmt.Sprintf("PendingWindowInDays=%d", in.PendingWindowInDays), err); rerr != nil {
		return nil, rerr
	}
	return out, err
}

func (k *KMS) scheduleKeyDeletion(in *ScheduleKeyDeletionInput) (*ScheduleKeyDeletionOutput, error) {
	days := in.PendingWindowInDays
	if days == 0 {
		days = 30
	}
	if days < 7 || days > 30 {
		return nil, apiErr(CodeValidation, "PendingWindowInDays must be between 7 and 30")
	}
	k.purgeExpired()
	k.mu.Lock()
	defer k.mu.Unlock()
	kk, aerr := k.resolveLocked(in.KeyId)
	if aerr != nil {
		return nil, aerr
	}
	if strings.HasPrefix(in.KeyId, "alias/") || strings.Contains(in.KeyId, ":alias/") {
		return nil, apiErr(CodeNotFound, "ScheduleKeyDeletion takes a key id or key ARN")
	}
	if kk.meta.KeyState == KeyStatePendingDeletion {
		return nil, apiErr(CodeInvalidState, k.keyARN(kk.meta.KeyID)+" is pending deletion.")
	}
	meta := kk.meta
	meta.KeyState = KeyStatePendingDeletion
	meta.PendingWindowInDays = days
	meta.DeletionDate = k.now().Add(time.Duration(days) * 24 * time.Hour).UnixMilli()
	if k.st != nil {
		pkcs8, err := alg.MarshalPKCS8PrivateKey(kk.signer)
		if err != nil {
			return nil, apiErr(CodeInternal, "key encoding failed")
		}
		err = k.st.saveKey(meta, pkcs8)
		clear(pkcs8)
		if err != nil {
			return nil, apiErr(CodeInternal, "writing the key failed")
		}
	}
	kk.meta = meta
	k.noteExpiry(meta.DeletionDate)
	d := epoch(time.UnixMilli(meta.DeletionDate))
	return &ScheduleKeyDeletionOutput{KeyId: k.keyARN(meta.KeyID), DeletionDate: &d, KeyState: meta.KeyState, PendingWindowInDays: days}, nil
}

// keyIDOf returns the key id a reference names, or the reference itself when it names no key (for the audit log).
func (k *KMS) keyIDOf(ref string) string {
	k.mu.RLock()
	defer k.mu.RUnlock()
	if kk, aerr := k.resolveLocked(ref); aerr == nil {
		return kk.meta.KeyID
	}
	return ref
}
