package kmssigner_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"

	"filippo.io/mldsa"

	"github.com/pkikit/pkikit/kmssigner"
)

// Review edge cases: nil and zero values are bad input, never a panic.
func TestNilAndZeroSigner(t *testing.T) {
	digest := sha256.Sum256([]byte("x"))
	for _, tc := range []struct {
		name string
		s    *kmssigner.Signer
	}{
		{"NilSigner", nil},
		{"ZeroSigner", &kmssigner.Signer{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("panic: %v", r)
				}
			}()
			_ = tc.s.Public()
			_ = tc.s.KeyID()
			_ = tc.s.PublicKeyInfo()
			if tc.s.VerifiesSignatures() {
				t.Error("VerifiesSignatures on an unusable Signer")
			}
			for name, f := range map[string]func() ([]byte, error){
				"Sign":               func() ([]byte, error) { return tc.s.Sign(nil, digest[:], crypto.SHA256) },
				"SignMessage":        func() ([]byte, error) { return tc.s.SignMessage(nil, []byte("m"), crypto.SHA256) },
				"SignContext":        func() ([]byte, error) { return tc.s.SignContext(context.Background(), nil, []byte("m"), nil) },
				"SignMessageContext": func() ([]byte, error) { return tc.s.SignMessageContext(context.Background(), nil, []byte("m"), nil) },
			} {
				sig, err := f()
				var ke *kmssigner.Error
				if sig != nil || !errors.Is(err, kmssigner.ErrInvalidOptions) || !errors.As(err, &ke) {
					t.Errorf("%s: sig=%x err=%v, want a typed ErrInvalidOptions", name, sig, err)
				}
			}
		})
	}
}

// A backend that reports an empty (non-nil) list of signing algorithms has "not reported" them (client.go);
// such a key must still sign.
func TestEmptySigningAlgorithmsListMeansNotReported(t *testing.T) {
	a, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	info := p256Info(t, a)
	info.SigningAlgorithms = []string{}
	s, err := kmssigner.New(context.Background(), &fakeClient{info: info, signer: func() crypto.Signer { return a }}, "k", nil)
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte("x"))
	if _, err := s.Sign(nil, digest[:], crypto.SHA256); err != nil {
		t.Fatalf("Sign: %v", err)
	}
	// A non-empty list that lacks the algorithm is still refused before the call.
	info.SigningAlgorithms = []string{kmssigner.SigningAlgorithmECDSASHA384}
	s, err = kmssigner.New(context.Background(), &fakeClient{info: info, signer: func() crypto.Signer { return a }}, "k", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Sign(nil, digest[:], crypto.SHA256); !errors.Is(err, kmssigner.ErrInvalidOptions) {
		t.Fatalf("algorithm not offered: err = %v", err)
	}
}

// An ML-DSA context string given to an Ed25519 key must not be dropped silently (pure Ed25519 has no context).
func TestEd25519RefusesMLDSAContext(t *testing.T) {
	s, rec, _ := newSigner(t, kmssigner.KeySpecECCNISTEdwards25519)
	for name, opts := range map[string]crypto.SignerOpts{
		"MLDSAOptionsValue":   kmssigner.MLDSAOptions{Context: []byte("c")},
		"MLDSAOptionsPointer": &kmssigner.MLDSAOptions{Context: []byte("c")},
		"FilippoMLDSAOptions": &mldsa.Options{Context: "c"},
	} {
		if _, err := s.Sign(nil, []byte("m"), opts); !errors.Is(err, kmssigner.ErrInvalidOptions) {
			t.Errorf("%s: err = %v, want ErrInvalidOptions", name, err)
		}
	}
	if rec.calls() != 0 {
		t.Fatalf("%d KMS calls, want 0", rec.calls())
	}
	// An empty ML-DSA context is no context: still pure Ed25519.
	if _, err := s.Sign(nil, []byte("m"), &kmssigner.MLDSAOptions{}); err != nil {
		t.Fatalf("empty context: %v", err)
	}
}

// Truncated signatures from the Client are typed errors for every key family, never a panic.
func TestTruncatedSignatures(t *testing.T) {
	for _, spec := range []string{kmssigner.KeySpecECCNISTP256, kmssigner.KeySpecRSA2048, kmssigner.KeySpecECCNISTEdwards25519,
		kmssigner.KeySpecMLDSA44, kmssigner.KeySpecMLDSA87} {
		t.Run(spec, func(t *testing.T) {
			s, _, k := newSigner(t, spec)
			s, err := kmssigner.New(context.Background(), truncatingClient{k}, s.KeyID(), nil)
			if err != nil {
				t.Fatal(err)
			}
			msg := []byte("message")
			var opts crypto.SignerOpts = crypto.Hash(0)
			if spec == kmssigner.KeySpecECCNISTP256 || spec == kmssigner.KeySpecRSA2048 {
				opts = crypto.SHA256
			}
			if _, err := s.SignMessage(nil, msg, opts); !errors.Is(err, kmssigner.ErrSignatureMismatch) {
				t.Fatalf("err = %v, want ErrSignatureMismatch", err)
			}
		})
	}
}

type truncatingClient struct{ kmssigner.Client }

func (c truncatingClient) Sign(ctx context.Context, req *kmssigner.SignRequest) ([]byte, error) {
	sig, err := c.Client.Sign(ctx, req)
	if err == nil {
		sig = sig[:len(sig)/2]
	}
	return sig, err
}

// Errors from the generic URI parser never echo an attribute that may hold a PIN.
func TestParseURIErrorHidesPIN(t *testing.T) {
	for _, in := range []string{
		"pkcs11:token=a?module-path=/m.so&pin-value%3D987654secret",
		"pkcs11:token=a;pin-value%3D987654secret",
	} {
		_, err := kmssigner.ParseURI(in)
		if !errors.Is(err, kmssigner.ErrInvalidURI) {
			t.Fatalf("%s: err = %v", in, err)
		}
		if strings.Contains(err.Error(), "987654secret") {
			t.Errorf("error shows the PIN: %v", err)
		}
	}
}
