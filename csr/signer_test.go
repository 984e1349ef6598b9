package csr

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"io"
	"sync/atomic"
	"testing"

	"github.com/pkikit/pkikit/internal/alg"
	"github.com/pkikit/pkikit/x509ext"
)

type ctxKey struct{}

// countingSigner wraps a key as a plain crypto.Signer that counts its calls (and hides the key's concrete type,
// so the algorithm layer treats it as a remote signer and verifies what it returns).
type countingSigner struct {
	crypto.Signer
	calls atomic.Int32
}

func (s *countingSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	s.calls.Add(1)
	return s.Signer.Sign(r, digest, opts)
}

// remoteSigner stands for a remote key: it implements the context-aware methods, records the context value it
// was given and counts every call to any signing method.
type remoteSigner struct {
	key         crypto.Signer
	calls       atomic.Int32
	sawValue    atomic.Value
	messageCall atomic.Bool
}

func (s *remoteSigner) Public() crypto.PublicKey { return s.key.Public() }

func (s *remoteSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	s.calls.Add(1)
	return nil, errors.New("remoteSigner: Sign without a context must not be used")
}

func (s *remoteSigner) SignContext(ctx context.Context, r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	s.calls.Add(1)
	if v := ctx.Value(ctxKey{}); v != nil {
		s.sawValue.Store(v)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return s.key.Sign(r, digest, opts)
}

// messageRemoteSigner adds SignMessageContext: the message itself, hashed by the signer when opts ask.
type messageRemoteSigner struct{ remoteSigner }

func (s *messageRemoteSigner) SignMessageContext(ctx context.Context, r io.Reader, msg []byte, opts crypto.SignerOpts) ([]byte, error) {
	s.calls.Add(1)
	s.messageCall.Store(true)
	if v := ctx.Value(ctxKey{}); v != nil {
		s.sawValue.Store(v)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if h := opts.HashFunc(); h != 0 {
		hh := h.New()
		hh.Write(msg)
		return s.key.Sign(r, hh.Sum(nil), opts)
	}
	return s.key.Sign(r, msg, opts)
}

var (
	_ alg.ContextSigner        = (*remoteSigner)(nil)
	_ alg.ContextMessageSigner = (*messageRemoteSigner)(nil)
	_ crypto.Signer            = (*countingSigner)(nil)
)

// TestContextReachesSigner: the context given to Create reaches a context-aware signer, and exactly one signing
// call is made per request, for each family and both context-aware methods.
func TestContextReachesSigner(t *testing.T) {
	for _, c := range []keyCase{allCases[0], allCases[1], allCases[2], allCases[3], allCases[10], allCases[7], allCases[13]} {
		for _, message := range []bool{false, true} {
			name := c.name + "/SignContext"
			if message {
				name = c.name + "/SignMessageContext"
			}
			t.Run(name, func(t *testing.T) {
				var s crypto.Signer
				var rs *remoteSigner
				if message {
					m := &messageRemoteSigner{remoteSigner{key: testKey(t, c.kt)}}
					s, rs = m, &m.remoteSigner
				} else {
					rs = &remoteSigner{key: testKey(t, c.kt)}
					s = rs
				}
				ctx := context.WithValue(context.Background(), ctxKey{}, "request-42")
				tmpl := fullTemplate(t)
				tmpl.SignatureAlgorithm = c.alg
				der, err := Create(ctx, s, tmpl)
				if err != nil {
					t.Fatalf("Create: %v", err)
				}
				if n := rs.calls.Load(); n != 1 {
					t.Fatalf("signer called %d times, want 1", n)
				}
				if rs.messageCall.Load() != message {
					t.Fatalf("SignMessageContext used = %v, want %v", rs.messageCall.Load(), message)
				}
				if v, _ := rs.sawValue.Load().(string); v != "request-42" {
					t.Fatalf("signer saw context value %q", v)
				}
				req, err := Parse(der)
				if err != nil {
					t.Fatal(err)
				}
				if err := req.CheckSignature(); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

// TestCanceledContext: a canceled context stops Create before the signer is called, and the error says so.
func TestCanceledContext(t *testing.T) {
	rs := &remoteSigner{key: testKey(t, x509ext.KeyMLDSA65)}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Create(ctx, rs, fullTemplate(t))
	if !errors.Is(err, context.Canceled) || !errors.Is(err, ErrSignerFailed) {
		t.Fatalf("err = %v, want context.Canceled and ErrSignerFailed", err)
	}
	if rs.calls.Load() != 0 {
		t.Fatalf("signer called %d times", rs.calls.Load())
	}
}

// deadlineSigner fails as a remote signer whose RPC timed out.
type deadlineSigner struct{ remoteSigner }

func (s *deadlineSigner) SignContext(ctx context.Context, r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	s.calls.Add(1)
	return nil, context.DeadlineExceeded
}

func TestSignerDeadline(t *testing.T) {
	s := &deadlineSigner{remoteSigner{key: testKey(t, x509ext.KeyECDSAP256)}}
	_, err := Create(context.Background(), s, nil)
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrSignerFailed) {
		t.Fatalf("err = %v", err)
	}
	if s.calls.Load() != 1 {
		t.Fatalf("signer called %d times, want 1 (no retry)", s.calls.Load())
	}
}

// lyingSigner claims one public key and signs with another (or returns junk).
type lyingSigner struct {
	pub   crypto.PublicKey
	other crypto.Signer
	junk  bool
	calls atomic.Int32
}

func (s *lyingSigner) Public() crypto.PublicKey { return s.pub }
func (s *lyingSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	s.calls.Add(1)
	if s.junk {
		return []byte("not a signature"), nil
	}
	return s.other.Sign(r, digest, opts)
}

// TestWrongSignatureRejected: a signer whose signature does not verify under its public key makes Create fail,
// for every family; it is not asked again.
func TestWrongSignatureRejected(t *testing.T) {
	for _, c := range []keyCase{allCases[0], allCases[1], allCases[2], allCases[3], allCases[7], allCases[10], allCases[13]} {
		for _, junk := range []bool{false, true} {
			t.Run(c.name, func(t *testing.T) {
				s := &lyingSigner{pub: testKey(t, c.kt).Public(), other: freshKey(t, c.kt), junk: junk}
				der, err := Create(context.Background(), s, &Template{SignatureAlgorithm: c.alg})
				if !errors.Is(err, ErrSignerFailed) || der != nil {
					t.Fatalf("Create = %d bytes, %v; want ErrSignerFailed", len(der), err)
				}
				if s.calls.Load() != 1 {
					t.Fatalf("signer called %d times, want 1", s.calls.Load())
				}
			})
		}
	}
}

// failingSigner returns an error.
type failingSigner struct{ crypto.Signer }

var errHSM = errors.New("hsm unavailable")

func (failingSigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) { return nil, errHSM }

func TestSignerError(t *testing.T) {
	_, err := Create(context.Background(), failingSigner{testKey(t, x509ext.KeyEd25519)}, nil)
	if !errors.Is(err, ErrSignerFailed) || !errors.Is(err, errHSM) {
		t.Fatalf("err = %v, want ErrSignerFailed wrapping the signer's error", err)
	}
	var e *Error
	if !errors.As(err, &e) || e.Op != "create" {
		t.Fatalf("not a *csr.Error: %#v", err)
	}
}

// TestPlainSignerOneCall: a plain crypto.Signer (not an in-memory key type) is called once per request too.
func TestPlainSignerOneCall(t *testing.T) {
	for _, c := range allCases {
		cs := &countingSigner{Signer: testKey(t, c.kt)}
		if _, err := Create(context.Background(), cs, &Template{SignatureAlgorithm: c.alg, ChallengePassword: "pw", DNSNames: []string{"a.example"}}); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if n := cs.calls.Load(); n != 1 {
			t.Fatalf("%s: signer called %d times", c.name, n)
		}
	}
}

func p224Key(t *testing.T) crypto.Signer {
	k, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
