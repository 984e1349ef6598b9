package kmssigner

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/cloudflare/circl/sign/mldsa/mldsa44"
	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
	"github.com/cloudflare/circl/sign/mldsa/mldsa87"

	"github.com/pkikit/pkikit/internal/alg"
)

// Options tune a Signer. The zero value (and nil) is the safe default.
type Options struct {
	// SkipVerifyUnsafe turns off the local verification of every signature against the cached public key.
	// Without it a wrong key, a corrupted response or a key rotated underneath is returned to the caller as if it
	// were a good signature. Only for callers that verify every signature themselves.
	SkipVerifyUnsafe bool

	// AcceptMuUnsafe lets callers pass an ML-DSA μ they computed themselves (opts.HashFunc() == MLDSAMu); it is
	// forwarded as EXTERNAL_MU. Such a signature cannot be verified locally (no message to verify it against and
	// no verifier here that starts from μ), so by default it is refused with ErrUnverifiableMu. Messages signed
	// with Hash(0) or MLDSAOptions always go through the verified path, μ included.
	AcceptMuUnsafe bool
}

// MLDSAOptions are the crypto.SignerOpts for an ML-DSA signature with a context string (FIPS 204 ctx, at most
// 255 bytes). A non-empty context is always signed through EXTERNAL_MU: KMS RAW has no context parameter.
// On Go 1.27 and later *crypto/mldsa.Options is accepted too (and *filippo.io/mldsa.Options on every version).
type MLDSAOptions struct {
	Context []byte
}

// HashFunc returns 0: ML-DSA signs the message itself.
func (MLDSAOptions) HashFunc() crypto.Hash { return 0 }

// Signer is one key held by a KMS as a crypto.Signer, crypto.MessageSigner and context-aware signer. Its public
// key is fetched once by New and cached; every signature is verified against it before it is returned (see
// Options.SkipVerifyUnsafe). A Signer is safe for concurrent use if its Client is.
type Signer struct {
	client   Client
	keyID    string
	info     PublicKeyInfo
	pub      crypto.PublicKey
	kt       alg.KeyType
	family   alg.Family
	pkRaw    []byte // ML-DSA: raw FIPS 204 public key, for μ
	allowed  []string
	verify   bool
	acceptMu bool
}

var (
	_ crypto.Signer            = (*Signer)(nil)
	_ crypto.MessageSigner     = (*Signer)(nil)
	_ alg.ContextSigner        = (*Signer)(nil)
	_ alg.ContextMessageSigner = (*Signer)(nil)
	_ alg.SelfVerifier         = (*Signer)(nil)
)

var keySpecOf = map[alg.KeyType]string{
	alg.KeyRSA2048: KeySpecRSA2048, alg.KeyRSA3072: KeySpecRSA3072, alg.KeyRSA4096: KeySpecRSA4096,
	alg.KeyECDSAP256: KeySpecECCNISTP256, alg.KeyECDSAP384: KeySpecECCNISTP384, alg.KeyECDSAP521: KeySpecECCNISTP521,
	alg.KeyEd25519: KeySpecECCNISTEdwards25519,
	alg.KeyMLDSA44: KeySpecMLDSA44, alg.KeyMLDSA65: KeySpecMLDSA65, alg.KeyMLDSA87: KeySpecMLDSA87,
}

var supportedSpec = func() map[string]bool {
	m := map[string]bool{}
	for _, s := range keySpecOf {
		m[s] = true
	}
	return m
}()

// New fetches the public key of keyID from client (one GetPublicKey call, honouring ctx) and returns a Signer
// for it. keyID is kept exactly as given (key id, key ARN, alias/Name or alias ARN; case preserved) and sent
// with every Sign. New refuses keys whose KeyUsage is not SIGN_VERIFY (ErrKeyUsage) and key specs it cannot
// sign with, or whose public key disagrees with the KeySpec (ErrUnsupportedKeySpec). An empty KeySpec (a
// backend that cannot tell) is taken from the public key.
func New(ctx context.Context, client Client, keyID string, opts *Options) (*Signer, error) {
	const op = "new signer"
	if client == nil {
		return nil, newErr(op, keyID, ErrInvalidOptions, "nil Client", nil)
	}
	if keyID == "" {
		return nil, newErr(op, keyID, ErrInvalidOptions, "empty key id", nil)
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if opts == nil {
		opts = &Options{}
	}
	info, err := client.GetPublicKey(ctx, keyID)
	if err != nil {
		return nil, backendErr(ctx, op, keyID, err)
	}
	if info == nil {
		return nil, newErr(op, keyID, ErrMalformedResponse, "GetPublicKey returned nothing", nil)
	}
	if info.KeyUsage != KeyUsageSignVerify {
		return nil, newErr(op, keyID, ErrKeyUsage, fmt.Sprintf("key usage %q", info.KeyUsage), nil)
	}
	if info.KeySpec != "" && !supportedSpec[info.KeySpec] {
		return nil, newErr(op, keyID, ErrUnsupportedKeySpec, fmt.Sprintf("key spec %q", info.KeySpec), nil)
	}
	pub, kt, err := alg.ParsePKIXPublicKey(info.PublicKey)
	if err != nil {
		if errors.Is(err, alg.ErrUnsupportedKey) {
			return nil, newErr(op, keyID, ErrUnsupportedKeySpec, "key spec "+info.KeySpec, err)
		}
		return nil, newErr(op, keyID, ErrMalformedResponse, "public key does not parse", err)
	}
	spec, known := keySpecOf[kt]
	switch {
	case info.KeySpec == "" && (known || kt == alg.KeyRSAOther):
	case !known:
		return nil, newErr(op, keyID, ErrUnsupportedKeySpec, fmt.Sprintf("key spec %q with a %s public key", info.KeySpec, kt), nil)
	case info.KeySpec != spec:
		return nil, newErr(op, keyID, ErrUnsupportedKeySpec, fmt.Sprintf("key spec %q does not match its %s public key", info.KeySpec, kt), nil)
	}
	s := &Signer{
		client:   client,
		keyID:    keyID,
		pub:      pub,
		kt:       kt,
		family:   kt.Family(),
		verify:   !opts.SkipVerifyUnsafe,
		acceptMu: opts.AcceptMuUnsafe,
		info: PublicKeyInfo{
			KeyID:             info.KeyID,
			PublicKey:         slices.Clone(info.PublicKey),
			KeySpec:           info.KeySpec,
			KeyUsage:          info.KeyUsage,
			SigningAlgorithms: slices.Clone(info.SigningAlgorithms),
		},
		allowed: slices.Clone(info.SigningAlgorithms),
	}
	if s.family == alg.FamilyMLDSA {
		if s.pkRaw, err = alg.MLDSAPublicKeyBytes(pub); err != nil {
			return nil, newErr(op, keyID, ErrMalformedResponse, "ML-DSA public key", err)
		}
	}
	return s, nil
}

// Public returns the cached public key: *ecdsa.PublicKey, *rsa.PublicKey, ed25519.PublicKey, or circl's
// *mldsa44/65/87.PublicKey.
func (s *Signer) Public() crypto.PublicKey {
	if s == nil {
		return nil
	}
	return s.pub
}

// KeyID returns the key reference exactly as given to New.
func (s *Signer) KeyID() string {
	if s == nil {
		return ""
	}
	return s.keyID
}

// PublicKeyInfo returns a copy of what GetPublicKey reported (its KeyID is the KMS's canonical form, usually the
// key ARN).
func (s *Signer) PublicKeyInfo() PublicKeyInfo {
	if s == nil {
		return PublicKeyInfo{}
	}
	i := s.info
	i.PublicKey = slices.Clone(i.PublicKey)
	i.SigningAlgorithms = slices.Clone(i.SigningAlgorithms)
	return i
}

// VerifiesSignatures reports whether every signature is verified locally before it is returned (alg.SelfVerifier).
func (s *Signer) VerifiesSignatures() bool { return s.usable() == nil && s.verify }

// usable refuses a nil Signer and one not made by New (a zero Signer has no Client and no public key).
func (s *Signer) usable() error {
	if s == nil || s.client == nil || s.pub == nil {
		return newErr("sign", "", ErrInvalidOptions, "nil or zero Signer (use kmssigner.New)", nil)
	}
	return nil
}

// Sign is SignContext with context.Background(): digest is a digest for ECDSA and RSA keys (opts names the hash,
// *rsa.PSSOptions selects PSS) and the message itself for Ed25519 and ML-DSA keys (opts.HashFunc() == 0).
func (s *Signer) Sign(rand io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	return s.SignContext(context.Background(), rand, digest, opts)
}

// SignMessage is SignMessageContext with context.Background().
func (s *Signer) SignMessage(rand io.Reader, msg []byte, opts crypto.SignerOpts) ([]byte, error) {
	return s.SignMessageContext(context.Background(), rand, msg, opts)
}

// SignContext signs as crypto.Signer.Sign does, with one KMS call that honours ctx. rand is ignored (the KMS
// supplies randomness).
//
//   - ECDSA: opts.HashFunc() must be the curve's hash (P-256/SHA-256, P-384/SHA-384, P-521/SHA-512) and digest
//     its length; signed as ECDSA_SHA_* with MessageType DIGEST.
//   - RSA: SHA-256/384/512; *rsa.PSSOptions selects RSASSA_PSS_SHA_* (salt length must be the hash length or
//     rsa.PSSSaltLengthEqualsHash), anything else RSASSA_PKCS1_V1_5_SHA_*; DIGEST.
//   - Ed25519: digest is the message (≤ MaxRawMessage bytes), opts.HashFunc() == 0; ED25519_SHA_512 RAW.
//   - ML-DSA: digest is the message; ML_DSA_SHAKE_256 RAW when it has at most MaxRawMessage bytes and no
//     context, otherwise EXTERNAL_MU with μ computed from the cached public key. opts.HashFunc() == MLDSAMu means
//     digest already is μ (see Options.AcceptMuUnsafe).
func (s *Signer) SignContext(ctx context.Context, _ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	if ctx == nil {
		ctx = context.Background()
	}
	switch s.family {
	case alg.FamilyECDSA, alg.FamilyRSA:
		return s.signDigest(ctx, digest, opts)
	case alg.FamilyEd25519:
		return s.signEd25519(ctx, digest, opts)
	default:
		return s.signMLDSA(ctx, digest, opts)
	}
}

// SignMessageContext signs msg itself: ECDSA and RSA hash it with opts.HashFunc() (which must not be 0) and sign
// the digest as SignContext does; Ed25519 and ML-DSA are the same as SignContext.
func (s *Signer) SignMessageContext(ctx context.Context, rand io.Reader, msg []byte, opts crypto.SignerOpts) ([]byte, error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	if s.family != alg.FamilyECDSA && s.family != alg.FamilyRSA {
		return s.SignContext(ctx, rand, msg, opts)
	}
	h := hashOf(opts)
	if h == 0 {
		return nil, newErr("sign", s.keyID, ErrHashRequired, "", nil)
	}
	if !s.hashOK(h) {
		return nil, newErr("sign", s.keyID, ErrHashMismatch, fmt.Sprintf("%v with a %s key", h, s.kt), nil)
	}
	hh := h.New()
	hh.Write(msg)
	var buf [64]byte
	return s.SignContext(ctx, rand, hh.Sum(buf[:0]), opts)
}

// invalidHash stands for options whose HashFunc panics (a typed nil such as (*rsa.PSSOptions)(nil)).
const invalidHash = crypto.Hash(255)

func hashOf(opts crypto.SignerOpts) (h crypto.Hash) {
	if opts == nil {
		return 0
	}
	defer func() {
		if recover() != nil {
			h = invalidHash
		}
	}()
	return opts.HashFunc()
}

func curveHash(kt alg.KeyType) crypto.Hash {
	switch kt {
	case alg.KeyECDSAP256:
		return crypto.SHA256
	case alg.KeyECDSAP384:
		return crypto.SHA384
	default:
		return crypto.SHA512
	}
}

func (s *Signer) hashOK(h crypto.Hash) bool {
	if s.family == alg.FamilyECDSA {
		return h == curveHash(s.kt)
	}
	return h == crypto.SHA256 || h == crypto.SHA384 || h == crypto.SHA512
}

var (
	ecdsaAlgs = map[crypto.Hash]string{crypto.SHA256: SigningAlgorithmECDSASHA256, crypto.SHA384: SigningAlgorithmECDSASHA384, crypto.SHA512: SigningAlgorithmECDSASHA512}
	pkcs1Algs = map[crypto.Hash]string{crypto.SHA256: SigningAlgorithmRSASSAPKCS1V15SHA256, crypto.SHA384: SigningAlgorithmRSASSAPKCS1V15SHA384, crypto.SHA512: SigningAlgorithmRSASSAPKCS1V15SHA512}
	pssAlgs   = map[crypto.Hash]string{crypto.SHA256: SigningAlgorithmRSASSAPSSSHA256, crypto.SHA384: SigningAlgorithmRSASSAPSSSHA384, crypto.SHA512: SigningAlgorithmRSASSAPSSSHA512}
)

func (s *Signer) signDigest(ctx context.Context, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	const op = "sign"
	h := hashOf(opts)
	if h == 0 {
		return nil, newErr(op, s.keyID, ErrHashRequired, "", nil)
	}
	if !s.hashOK(h) {
		return nil, newErr(op, s.keyID, ErrHashMismatch, fmt.Sprintf("%v with a %s key", h, s.kt), nil)
	}
	pss, isPSS := opts.(*rsa.PSSOptions)
	var algName string
	switch {
	case s.family == alg.FamilyECDSA:
		if isPSS {
			return nil, newErr(op, s.keyID, ErrInvalidOptions, "RSASSA-PSS options with an ECDSA key", nil)
		}
		algName = ecdsaAlgs[h]
	case isPSS:
		if pss.SaltLength != rsa.PSSSaltLengthEqualsHash && pss.SaltLength != h.Size() {
			return nil, newErr(op, s.keyID, ErrPSSSaltLength, fmt.Sprintf("salt length %d with %v (KMS uses %d)", pss.SaltLength, h, h.Size()), nil)
		}
		algName = pssAlgs[h]
	default:
		algName = pkcs1Algs[h]
	}
	if len(digest) != h.Size() {
		return nil, newErr(op, s.keyID, ErrDigestLength, fmt.Sprintf("%d-byte digest for %v", len(digest), h), nil)
	}
	sig, err := s.call(ctx, digest, MessageTypeDigest, algName)
	if err != nil || !s.verify {
		return sig, err
	}
	var ok bool
	switch pub := s.pub.(type) {
	case *ecdsa.PublicKey:
		ok = ecdsa.VerifyASN1(pub, digest, sig)
	case *rsa.PublicKey:
		if isPSS {
			ok = rsa.VerifyPSS(pub, h, digest, sig, &rsa.PSSOptions{SaltLength: h.Size(), Hash: h}) == nil
		} else {
			ok = rsa.VerifyPKCS1v15(pub, h, digest, sig) == nil
		}
	}
	if !ok {
		return nil, s.mismatch(algName)
	}
	return sig, nil
}

func (s *Signer) signEd25519(ctx context.Context, msg []byte, opts crypto.SignerOpts) ([]byte, error) {
	const op = "sign"
	if h := hashOf(opts); h != 0 {
		return nil, newErr(op, s.keyID, ErrHashMismatch, fmt.Sprintf("%v with Ed25519 (Ed25519ph is not supported)", h), nil)
	}
	if eo, ok := opts.(*ed25519.Options); ok && eo.Context != "" {
		return nil, newErr(op, s.keyID, ErrInvalidOptions, "Ed25519ctx is not supported by KMS", nil)
	}
	// A context meant for ML-DSA must not be dropped silently: pure Ed25519 has none.
	if mctx, ok := mldsaContext(opts); ok && len(mctx) > 0 {
		return nil, newErr(op, s.keyID, ErrInvalidOptions, "a context string with an Ed25519 key (KMS signs pure Ed25519 only)", nil)
	}
	if len(msg) > MaxRawMessage {
		return nil, newErr(op, s.keyID, ErrMessageTooLarge, fmt.Sprintf("Ed25519 message of %d bytes (KMS signs at most %d, RAW only)", len(msg), MaxRawMessage), nil)
	}
	sig, err := s.call(ctx, msg, MessageTypeRaw, SigningAlgorithmEd25519SHA512)
	if err != nil || !s.verify {
		return sig, err
	}
	if !ed25519.Verify(s.pub.(ed25519.PublicKey), msg, sig) {
		return nil, s.mismatch(SigningAlgorithmEd25519SHA512)
	}
	return sig, nil
}

func (s *Signer) signMLDSA(ctx context.Context, msg []byte, opts crypto.SignerOpts) ([]byte, error) {
	const op = "sign"
	switch h := hashOf(opts); h {
	case 0:
	case MLDSAMu:
		if len(msg) != 64 {
			return nil, newErr(op, s.keyID, ErrDigestLength, fmt.Sprintf("%d-byte ML-DSA μ (want 64)", len(msg)), nil)
		}
		if s.verify && !s.acceptMu {
			return nil, newErr(op, s.keyID, ErrUnverifiableMu, "", nil)
		}
		sig, err := s.call(ctx, msg, MessageTypeExternalMu, SigningAlgorithmMLDSASHAKE256)
		if err == nil && len(sig) != mldsaSigSize(s.kt) {
			return nil, newErr(op, s.keyID, ErrMalformedResponse, fmt.Sprintf("%d-byte %s signature", len(sig), s.kt), nil)
		}
		return sig, err
	default:
		return nil, newErr(op, s.keyID, ErrHashMismatch, fmt.Sprintf("%v with ML-DSA (HashML-DSA is not supported)", h), nil)
	}
	mctx, ok := mldsaContext(opts)
	if !ok {
		return nil, newErr(op, s.keyID, ErrInvalidOptions, fmt.Sprintf("%T with an ML-DSA key", opts), nil)
	}
	if len(mctx) > 255 {
		return nil, newErr(op, s.keyID, ErrInvalidOptions, "ML-DSA context longer than 255 bytes", nil)
	}
	var sig []byte
	var err error
	if len(mctx) == 0 && len(msg) > 0 && len(msg) <= MaxRawMessage {
		sig, err = s.call(ctx, msg, MessageTypeRaw, SigningAlgorithmMLDSASHAKE256)
	} else {
		mu, merr := alg.ExternalMu(s.pkRaw, mctx, msg)
		if merr != nil {
			return nil, newErr(op, s.keyID, ErrInvalidOptions, "", merr)
		}
		sig, err = s.call(ctx, mu[:], MessageTypeExternalMu, SigningAlgorithmMLDSASHAKE256)
	}
	if err != nil || !s.verify {
		return sig, err
	}
	switch pub := s.pub.(type) {
	case *mldsa44.PublicKey:
		ok = mldsa44.Verify(pub, msg, mctx, sig)
	case *mldsa65.PublicKey:
		ok = mldsa65.Verify(pub, msg, mctx, sig)
	case *mldsa87.PublicKey:
		ok = mldsa87.Verify(pub, msg, mctx, sig)
	default:
		ok = false
	}
	if !ok {
		return nil, s.mismatch(SigningAlgorithmMLDSASHAKE256)
	}
	return sig, nil
}

func mldsaSigSize(kt alg.KeyType) int {
	switch kt {
	case alg.KeyMLDSA44:
		return mldsa44.SignatureSize
	case alg.KeyMLDSA65:
		return mldsa65.SignatureSize
	default:
		return mldsa87.SignatureSize
	}
}

// mldsaContext returns the FIPS 204 context string opts carries (nil for nil opts or crypto.Hash(0)); ok is false
// for option types that mean something else (for example *rsa.PSSOptions).
func mldsaContext(opts crypto.SignerOpts) (ctx []byte, ok bool) {
	switch o := opts.(type) {
	case nil, crypto.Hash:
		return nil, true
	case MLDSAOptions:
		return o.Context, true
	case *MLDSAOptions:
		if o == nil {
			return nil, true
		}
		return o.Context, true
	}
	return stdlibMLDSAContext(opts)
}

func (s *Signer) call(ctx context.Context, msg []byte, messageType, algName string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(s.allowed) > 0 && !slices.Contains(s.allowed, algName) { // empty: not reported
		return nil, newErr("sign", s.keyID, ErrInvalidOptions, "the KMS key does not offer "+algName, nil)
	}
	sig, err := s.client.Sign(ctx, &SignRequest{KeyID: s.keyID, Message: msg, MessageType: messageType, SigningAlgorithm: algName})
	if err != nil {
		return nil, backendErr(ctx, "sign", s.keyID, err)
	}
	if len(sig) == 0 {
		return nil, newErr("sign", s.keyID, ErrMalformedResponse, "empty signature", nil)
	}
	return sig, nil
}

func (s *Signer) mismatch(algName string) error {
	return newErr("verify after sign", s.keyID, ErrSignatureMismatch, algName+" signature does not verify under the cached public key (wrong key, corrupted response or rotated key)", nil)
}

// backendErr wraps a Client error. A context error stays visible to errors.Is, also when the backend reports the
// cancellation in its own words.
func backendErr(ctx context.Context, op, keyID string, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		err = errors.Join(cerr, err)
	}
	return newErr(op, keyID, ErrBackend, "", err)
}
