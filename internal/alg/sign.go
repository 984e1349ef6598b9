package alg

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"

	"crypto/sha3"
	"github.com/cloudflare/circl/sign/mldsa/mldsa44"
	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
	"github.com/cloudflare/circl/sign/mldsa/mldsa87"
)

// ContextSigner is the context-aware form of crypto.Signer.Sign that remote signers implement. It is structural:
// a user's own signer qualifies without importing pkikit.
type ContextSigner interface {
	SignContext(ctx context.Context, rand io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error)
}

// ContextMessageSigner is the context-aware form of crypto.MessageSigner.SignMessage.
type ContextMessageSigner interface {
	SignMessageContext(ctx context.Context, rand io.Reader, msg []byte, opts crypto.SignerOpts) ([]byte, error)
}

// SelfVerifier is implemented by signers that verify every signature against their public key before returning
// it (pkikit's kmssigner does). Sign then does not verify again.
type SelfVerifier interface {
	VerifiesSignatures() bool
}

var signerOpts [numAlgorithms]crypto.SignerOpts

func init() {
	for a := Algorithm(1); a < numAlgorithms; a++ {
		in := &table[a]
		if in.pss {
			signerOpts[a] = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: in.hash}
		} else {
			signerOpts[a] = in.hash
		}
	}
}

// Sign signs message with signer under algorithm a: the one signing call of pkikit.
//
//   - ECDSA and RSA hash the message with the algorithm's hash; ML-DSA and Ed25519 get the message itself with
//     crypto.Hash(0) (ML-DSA: pure mode, empty context).
//   - It calls, in this order of preference, SignMessageContext, SignContext (ContextSigner), SignMessage
//     (crypto.MessageSigner), Sign; ctx reaches the signer only through the context-aware methods.
//   - In-memory circl ML-DSA keys sign hedged (randomized), as RFC 9882 §Security recommends; circl's own
//     crypto.Signer method would sign deterministically.
//   - A signer that is not an in-memory key of this process (a remote or user-written signer) has its signature
//     verified against its public key before Sign returns, unless it says it verifies itself (SelfVerifier).
//
// The signer's public key must fit the algorithm (ErrKeyMismatch otherwise).
func Sign(ctx context.Context, signer crypto.Signer, a Algorithm, message []byte) ([]byte, error) {
	if signer == nil {
		return nil, errf("sign", ErrSignerFailed, "nil signer")
	}
	if !a.valid() {
		return nil, errf("sign", ErrUnsupportedAlgorithm, a.String())
	}
	if ctx != nil {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	} else {
		ctx = context.Background()
	}
	if sig, ok, err := signKnown(signer, a, message); ok {
		return sig, err
	}
	pub := signer.Public()
	if err := a.CheckKey(pub); err != nil {
		return nil, err
	}
	sig, err := signVia(ctx, signer, a, message)
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return nil, err
		}
		return nil, wrap("sign", ErrSignerFailed, a.String(), err)
	}
	if sv, ok := signer.(SelfVerifier); ok && sv.VerifiesSignatures() {
		return sig, nil
	}
	if err := Verify(pub, a, message, sig); err != nil {
		return nil, wrap("sign", ErrSignerFailed, "signature returned by the signer does not verify under its public key", err)
	}
	return sig, nil
}

func signVia(ctx context.Context, signer crypto.Signer, a Algorithm, message []byte) ([]byte, error) {
	opts := signerOpts[a]
	h := table[a].hash
	if s, ok := signer.(ContextMessageSigner); ok {
		return s.SignMessageContext(ctx, rand.Reader, message, opts)
	}
	if s, ok := signer.(ContextSigner); ok {
		digest := message
		if h != 0 {
			digest = hashOf(h, message)
		}
		return s.SignContext(ctx, rand.Reader, digest, opts)
	}
	if s, ok := signer.(crypto.MessageSigner); ok {
		return s.SignMessage(rand.Reader, message, opts)
	}
	if h != 0 {
		return signer.Sign(rand.Reader, hashOf(h, message), opts)
	}
	return signer.Sign(rand.Reader, message, opts)
}

func hashOf(h crypto.Hash, msg []byte) []byte {
	hh := h.New()
	hh.Write(msg)
	return hh.Sum(nil)
}

// signKnown signs with in-memory keys of known types directly. ok is false when signer is not one of them.
func signKnown(signer crypto.Signer, a Algorithm, message []byte) (sig []byte, ok bool, err error) {
	// The key type comes from the private key itself: circl's Public() recomputes t1, which costs as much as a
	// verification.
	var kt KeyType
	switch k := signer.(type) {
	case *mldsa44.PrivateKey:
		kt = KeyMLDSA44
	case *mldsa65.PrivateKey:
		kt = KeyMLDSA65
	case *mldsa87.PrivateKey:
		kt = KeyMLDSA87
	case *ecdsa.PrivateKey:
		kt, err = KeyTypeOf(&k.PublicKey)
	case *rsa.PrivateKey:
		kt, err = KeyTypeOf(&k.PublicKey)
	case ed25519.PrivateKey:
		kt = KeyEd25519
	default:
		return nil, false, nil
	}
	if err == nil {
		err = a.CheckKeyType(kt)
	}
	if err != nil {
		return nil, true, err
	}
	sig, err = signInMemory(signer, a, message)
	if err != nil {
		err = wrap("sign", ErrSignerFailed, a.String(), err)
	}
	return sig, true, err
}

func signInMemory(signer crypto.Signer, a Algorithm, message []byte) ([]byte, error) {
	switch k := signer.(type) {
	case *mldsa44.PrivateKey:
		sig := make([]byte, mldsa44.SignatureSize)
		return sig, mldsa44.SignTo(k, message, nil, true, sig)
	case *mldsa65.PrivateKey:
		sig := make([]byte, mldsa65.SignatureSize)
		return sig, mldsa65.SignTo(k, message, nil, true, sig)
	case *mldsa87.PrivateKey:
		sig := make([]byte, mldsa87.SignatureSize)
		return sig, mldsa87.SignTo(k, message, nil, true, sig)
	case *ecdsa.PrivateKey:
		return ecdsa.SignASN1(rand.Reader, k, hashOf(table[a].hash, message))
	case *rsa.PrivateKey:
		h := table[a].hash
		if table[a].pss {
			return rsa.SignPSS(rand.Reader, k, h, hashOf(h, message), &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		}
		return rsa.SignPKCS1v15(rand.Reader, k, h, hashOf(h, message))
	case ed25519.PrivateKey:
		return ed25519.Sign(k, message), nil
	}
	return nil, errf("sign", ErrUnsupportedKey, fmt.Sprintf("%T", signer))
}

// Verify checks sig over message under public key pub and algorithm a. RSASSA-PSS requires salt = hash length.
// It returns nil or an *Error matching ErrInvalidSignature, ErrKeyMismatch or ErrUnsupportedAlgorithm.
func Verify(pub crypto.PublicKey, a Algorithm, message, sig []byte) error {
	const op = "verify"
	if !a.valid() {
		return errf(op, ErrUnsupportedAlgorithm, a.String())
	}
	in := &table[a]
	var ok bool
	switch k := pub.(type) {
	case *mldsa44.PublicKey:
		ok = a == MLDSA44 && mldsa44.Verify(k, message, nil, sig)
	case *mldsa65.PublicKey:
		ok = a == MLDSA65 && mldsa65.Verify(k, message, nil, sig)
	case *mldsa87.PublicKey:
		ok = a == MLDSA87 && mldsa87.Verify(k, message, nil, sig)
	case *ecdsa.PublicKey:
		ok = in.family == FamilyECDSA && ecdsa.VerifyASN1(k, hashOf(in.hash, message), sig)
	case *rsa.PublicKey:
		if in.family != FamilyRSA {
			break
		}
		if in.pss {
			ok = rsa.VerifyPSS(k, in.hash, hashOf(in.hash, message), sig, &rsa.PSSOptions{SaltLength: in.hash.Size()}) == nil
		} else {
			ok = rsa.VerifyPKCS1v15(k, in.hash, hashOf(in.hash, message), sig) == nil
		}
	case ed25519.PublicKey:
		ok = a == PureEd25519 && len(k) == ed25519.PublicKeySize && ed25519.Verify(k, message, sig)
	default:
		if c, conv := stdlibMLDSAPublic(pub); conv {
			return Verify(c, a, message, sig)
		}
		return errf(op, ErrUnsupportedKey, fmt.Sprintf("%T", pub))
	}
	if ok {
		return nil
	}
	if err := a.CheckKey(pub); err != nil {
		return err
	}
	return errf(op, ErrInvalidSignature, a.String())
}

// VerifyWithAlgorithmIdentifier parses a DER AlgorithmIdentifier strictly and verifies with it.
func VerifyWithAlgorithmIdentifier(pub crypto.PublicKey, algorithmIdentifier, message, sig []byte) error {
	a, err := ParseAlgorithmIdentifier(algorithmIdentifier)
	if err != nil {
		return err
	}
	return Verify(pub, a, message, sig)
}

// ExternalMu computes the ML-DSA message representative μ of FIPS 204 Algorithm 7 line 6 for pure ML-DSA
// (RFC 9881 Appendix D): μ = SHAKE256(SHAKE256(pk, 64) ‖ 0x00 ‖ len(ctx) ‖ ctx ‖ M, 64). pkRaw is the raw
// FIPS 204 public key (the SPKI BIT STRING contents). Signing μ with ExternalMu-ML-DSA gives a signature that
// verifies as an ordinary ML-DSA signature of M with context ctx.
func ExternalMu(pkRaw, ctx, message []byte) ([64]byte, error) {
	var mu [64]byte
	if len(ctx) > 255 {
		return mu, errf("external mu", ErrInvalidParameters, "ML-DSA context longer than 255 bytes")
	}
	h := sha3.NewSHAKE256()
	h.Write(sha3.SumSHAKE256(pkRaw, 64))
	h.Write([]byte{0, byte(len(ctx))})
	h.Write(ctx)
	h.Write(message)
	h.Read(mu[:])
	return mu, nil
}
