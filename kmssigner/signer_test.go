package kmssigner_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"sync"
	"testing"
	"time"

	"filippo.io/mldsa"
	"filippo.io/mldsa/mldsacrypto"
	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
	"github.com/cloudflare/circl/sign/mldsa/mldsa87"

	"github.com/pkikit/pkikit/internal/alg"
	"github.com/pkikit/pkikit/kmssigner"
	"github.com/pkikit/pkikit/kmssigner/localkms"
)

// recorder wraps a Client and records every Sign request.
type recorder struct {
	kmssigner.Client
	mu   sync.Mutex
	reqs []kmssigner.SignRequest
	gets []string
}

func (r *recorder) GetPublicKey(ctx context.Context, keyID string) (*kmssigner.PublicKeyInfo, error) {
	r.mu.Lock()
	r.gets = append(r.gets, keyID)
	r.mu.Unlock()
	return r.Client.GetPublicKey(ctx, keyID)
}

func (r *recorder) Sign(ctx context.Context, req *kmssigner.SignRequest) ([]byte, error) {
	r.mu.Lock()
	c := *req
	c.Message = bytes.Clone(req.Message)
	r.reqs = append(r.reqs, c)
	r.mu.Unlock()
	return r.Client.Sign(ctx, req)
}

func (r *recorder) calls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.reqs)
}

func (r *recorder) last(t *testing.T) kmssigner.SignRequest {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.reqs) == 0 {
		t.Fatal("no Sign call recorded")
	}
	return r.reqs[len(r.reqs)-1]
}

func createKey(t testing.TB, k *localkms.KMS, spec string) string {
	t.Helper()
	out, err := k.CreateKey(context.Background(), &localkms.CreateKeyInput{KeySpec: spec, KeyUsage: kmssigner.KeyUsageSignVerify})
	if err != nil {
		t.Fatalf("CreateKey %s: %v", spec, err)
	}
	return out.KeyMetadata.KeyId
}

func newSigner(t testing.TB, spec string) (*kmssigner.Signer, *recorder, *localkms.KMS) {
	t.Helper()
	k := localkms.NewMemory(nil)
	id := createKey(t, k, spec)
	rec := &recorder{Client: k}
	s, err := kmssigner.New(context.Background(), rec, id, nil)
	if err != nil {
		t.Fatalf("New %s: %v", spec, err)
	}
	return s, rec, k
}

// Over localkms in-process, every key spec signs through the Signer (via alg.Sign, the library's one signing
// call) and verifies with alg.Verify; RSA keys also with every PSS and PKCS#1 hash.
func TestSignerEachKeySpec(t *testing.T) {
	specs := []string{kmssigner.KeySpecECCNISTP256, kmssigner.KeySpecECCNISTP384, kmssigner.KeySpecECCNISTP521,
		kmssigner.KeySpecECCNISTEdwards25519, kmssigner.KeySpecMLDSA44, kmssigner.KeySpecMLDSA65, kmssigner.KeySpecMLDSA87,
		kmssigner.KeySpecRSA2048, kmssigner.KeySpecRSA3072, kmssigner.KeySpecRSA4096}
	msg := []byte("pkikit kmssigner test message")
	for _, spec := range specs {
		t.Run(spec, func(t *testing.T) {
			if spec == kmssigner.KeySpecRSA4096 && testing.Short() {
				t.Skip("RSA-4096 key generation is slow")
			}
			s, rec, _ := newSigner(t, spec)
			kt, err := alg.KeyTypeOf(s.Public())
			if err != nil {
				t.Fatal(err)
			}
			algs := []alg.Algorithm{kt.DefaultAlgorithm()}
			if kt.Family() == alg.FamilyRSA {
				algs = []alg.Algorithm{alg.SHA256WithRSA, alg.SHA384WithRSA, alg.SHA512WithRSA, alg.SHA256WithRSAPSS, alg.SHA384WithRSAPSS, alg.SHA512WithRSAPSS}
			}
			for _, a := range algs {
				sig, err := alg.Sign(context.Background(), s, a, msg)
				if err != nil {
					t.Fatalf("%v: alg.Sign: %v", a, err)
				}
				if err := alg.Verify(s.Public(), a, msg, sig); err != nil {
					t.Fatalf("%v: alg.Verify: %v", a, err)
				}
				if err := alg.Verify(s.Public(), a, append(bytes.Clone(msg), '!'), sig); !errors.Is(err, alg.ErrInvalidSignature) {
					t.Fatalf("%v: signature verifies for another message: %v", a, err)
				}
				want := map[alg.Family]string{alg.FamilyECDSA: kmssigner.MessageTypeDigest, alg.FamilyRSA: kmssigner.MessageTypeDigest,
					alg.FamilyEd25519: kmssigner.MessageTypeRaw, alg.FamilyMLDSA: kmssigner.MessageTypeRaw}[kt.Family()]
				if got := rec.last(t).MessageType; got != want {
					t.Fatalf("%v: MessageType %s, want %s", a, got, want)
				}
			}
			if !s.VerifiesSignatures() {
				t.Fatal("VerifiesSignatures() = false by default")
			}
		})
	}
}

// Pitfall 1: the algorithm follows opts, not key metadata; PSS salt must be the hash length.
func TestPitfallPSSSaltLength(t *testing.T) {
	s, rec, _ := newSigner(t, kmssigner.KeySpecRSA2048)
	digest := sha256.Sum256([]byte("tbs"))
	for _, tc := range []struct {
		name string
		salt int
		ok   bool
	}{
		{"EqualsHash", rsa.PSSSaltLengthEqualsHash, true},
		{"HashLength32", 32, true},
		{"Auto", rsa.PSSSaltLengthAuto, false},
		{"Zero", 0, false}, // 0 is PSSSaltLengthAuto's value in crypto/rsa
		{"SHA1Length20", 20, false},
		{"64", 64, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := rec.calls()
			sig, err := s.Sign(rand.Reader, digest[:], &rsa.PSSOptions{SaltLength: tc.salt, Hash: crypto.SHA256})
			if !tc.ok {
				if !errors.Is(err, kmssigner.ErrPSSSaltLength) {
					t.Fatalf("err = %v, want ErrPSSSaltLength", err)
				}
				if rec.calls() != before {
					t.Fatal("a KMS call was made for a refused salt length")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := rec.last(t).SigningAlgorithm; got != kmssigner.SigningAlgorithmRSASSAPSSSHA256 {
				t.Fatalf("SigningAlgorithm %s, want RSASSA_PSS_SHA_256", got)
			}
			pub := s.Public().(*rsa.PublicKey)
			if err := rsa.VerifyPSS(pub, crypto.SHA256, digest[:], sig, &rsa.PSSOptions{SaltLength: 32}); err != nil {
				t.Fatalf("not a PSS signature with salt 32: %v", err)
			}
			if rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig) == nil {
				t.Fatal("PSS options produced a PKCS#1 v1.5 signature")
			}
		})
	}
	// PKCS#1 v1.5 when opts is a bare hash.
	sig, err := s.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if got := rec.last(t).SigningAlgorithm; got != kmssigner.SigningAlgorithmRSASSAPKCS1V15SHA256 {
		t.Fatalf("SigningAlgorithm %s", got)
	}
	if err := rsa.VerifyPKCS1v15(s.Public().(*rsa.PublicKey), crypto.SHA256, digest[:], sig); err != nil {
		t.Fatal(err)
	}
}

// Pitfall 2: a hash that does not match the curve fails before the KMS call.
func TestPitfallHashCurveMismatch(t *testing.T) {
	for _, tc := range []struct {
		spec string
		bad  []crypto.Hash
	}{
		{kmssigner.KeySpecECCNISTP256, []crypto.Hash{crypto.SHA384, crypto.SHA512, crypto.SHA1}},
		{kmssigner.KeySpecECCNISTP384, []crypto.Hash{crypto.SHA256, crypto.SHA512}},
		{kmssigner.KeySpecECCNISTP521, []crypto.Hash{crypto.SHA256, crypto.SHA384}},
	} {
		s, rec, _ := newSigner(t, tc.spec)
		for _, h := range tc.bad {
			d := make([]byte, h.Size())
			if _, err := s.Sign(rand.Reader, d, h); !errors.Is(err, kmssigner.ErrHashMismatch) {
				t.Errorf("%s with %v: err = %v, want ErrHashMismatch", tc.spec, h, err)
			}
			if _, err := s.SignMessage(rand.Reader, []byte("m"), h); !errors.Is(err, kmssigner.ErrHashMismatch) {
				t.Errorf("%s SignMessage with %v: err = %v, want ErrHashMismatch", tc.spec, h, err)
			}
		}
		if rec.calls() != 0 {
			t.Errorf("%s: %d KMS calls for mismatched hashes", tc.spec, rec.calls())
		}
	}
	// RSA with SHA-1 is refused too.
	s, _, _ := newSigner(t, kmssigner.KeySpecRSA2048)
	if _, err := s.Sign(rand.Reader, make([]byte, 20), crypto.SHA1); !errors.Is(err, kmssigner.ErrHashMismatch) {
		t.Errorf("RSA SHA-1: err = %v", err)
	}
}

// Pitfall 3: crypto.Hash(0) with ECDSA or RSA is an error, never DIGEST of a raw message.
func TestPitfallHashZeroWithECDSAAndRSA(t *testing.T) {
	for _, spec := range []string{kmssigner.KeySpecECCNISTP256, kmssigner.KeySpecRSA2048} {
		s, rec, _ := newSigner(t, spec)
		msg := make([]byte, 32)
		for name, opts := range map[string]crypto.SignerOpts{"Hash0": crypto.Hash(0), "nil": nil, "PSSHash0": &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}} {
			if _, err := s.Sign(rand.Reader, msg, opts); !errors.Is(err, kmssigner.ErrHashRequired) {
				t.Errorf("%s Sign %s: err = %v, want ErrHashRequired", spec, name, err)
			}
			if _, err := s.SignMessage(rand.Reader, msg, opts); !errors.Is(err, kmssigner.ErrHashRequired) {
				t.Errorf("%s SignMessage %s: err = %v, want ErrHashRequired", spec, name, err)
			}
		}
		if rec.calls() != 0 {
			t.Errorf("%s: KMS was called", spec)
		}
	}
}

// Pitfall 4: a DIGEST must have the hash's length; checked before the call.
func TestPitfallDigestLength(t *testing.T) {
	for _, tc := range []struct {
		spec string
		h    crypto.Hash
	}{{kmssigner.KeySpecECCNISTP256, crypto.SHA256}, {kmssigner.KeySpecECCNISTP521, crypto.SHA512}, {kmssigner.KeySpecRSA2048, crypto.SHA384}} {
		s, rec, _ := newSigner(t, tc.spec)
		for _, n := range []int{0, tc.h.Size() - 1, tc.h.Size() + 1, 66} {
			if _, err := s.Sign(rand.Reader, make([]byte, n), tc.h); !errors.Is(err, kmssigner.ErrDigestLength) {
				t.Errorf("%s %v %d bytes: err = %v, want ErrDigestLength", tc.spec, tc.h, n, err)
			}
		}
		if rec.calls() != 0 {
			t.Errorf("%s: KMS was called", tc.spec)
		}
	}
}

// Pitfall 5: an ML-DSA context goes through μ (EXTERNAL_MU), never RAW, and verifies with that context only.
func TestPitfallMLDSAContextViaMu(t *testing.T) {
	s, rec, _ := newSigner(t, kmssigner.KeySpecMLDSA65)
	pub := s.Public().(*mldsa65.PublicKey)
	msg := []byte("short message")
	ctxStr := []byte("pkikit-test-context")
	for name, opts := range map[string]crypto.SignerOpts{
		"MLDSAOptions":         kmssigner.MLDSAOptions{Context: ctxStr},
		"*MLDSAOptions":        &kmssigner.MLDSAOptions{Context: ctxStr},
		"filippo.io/mldsa.Opt": &mldsa.Options{Context: string(ctxStr)},
	} {
		sig, err := s.Sign(rand.Reader, msg, opts)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if r := rec.last(t); r.MessageType != kmssigner.MessageTypeExternalMu || len(r.Message) != 64 {
			t.Fatalf("%s: sent %s with %d bytes, want EXTERNAL_MU μ", name, r.MessageType, len(r.Message))
		}
		if !mldsa65.Verify(pub, msg, ctxStr, sig) {
			t.Fatalf("%s: does not verify with the context", name)
		}
		if mldsa65.Verify(pub, msg, nil, sig) {
			t.Fatalf("%s: verifies without the context", name)
		}
	}
	if _, err := s.Sign(rand.Reader, msg, kmssigner.MLDSAOptions{Context: make([]byte, 256)}); !errors.Is(err, kmssigner.ErrInvalidOptions) {
		t.Fatalf("256-byte context: err = %v", err)
	}
	if _, err := s.Sign(rand.Reader, msg, crypto.SHA256); !errors.Is(err, kmssigner.ErrHashMismatch) {
		t.Fatalf("HashML-DSA: err = %v", err)
	}
}

// detClient is a KMS stand-in over a filippo.io/mldsa key that signs deterministically, so RAW and EXTERNAL_MU
// outputs can be compared byte for byte.
type detClient struct {
	sk   *mldsa.PrivateKey
	spki []byte
}

func (d *detClient) GetPublicKey(context.Context, string) (*kmssigner.PublicKeyInfo, error) {
	return &kmssigner.PublicKeyInfo{KeyID: "det", PublicKey: d.spki, KeySpec: kmssigner.KeySpecMLDSA65, KeyUsage: kmssigner.KeyUsageSignVerify}, nil
}

func (d *detClient) Sign(_ context.Context, req *kmssigner.SignRequest) ([]byte, error) {
	switch req.MessageType {
	case kmssigner.MessageTypeRaw:
		return d.sk.SignDeterministic(req.Message, nil)
	case kmssigner.MessageTypeExternalMu:
		return d.sk.SignDeterministic(req.Message, mldsacrypto.MLDSAMu)
	}
	return nil, &kmssigner.APIError{Code: "ValidationException", Message: req.MessageType}
}

// Pitfall 6: μ = SHAKE256(SHAKE256(pk,64) ‖ 0 ‖ len(ctx) ‖ ctx ‖ M, 64): signing μ through EXTERNAL_MU gives the
// byte-identical deterministic signature that signing M RAW gives (filippo.io/mldsa SignDeterministic).
func TestPitfallMuFormula(t *testing.T) {
	seed := bytes.Repeat([]byte{7}, 32)
	sk, err := mldsa.NewPrivateKey(mldsa.MLDSA65(), seed)
	if err != nil {
		t.Fatal(err)
	}
	cpub, err := alg.NewMLDSAPublicKey(alg.KeyMLDSA65, sk.PublicKey().Bytes())
	if err != nil {
		t.Fatal(err)
	}
	spki, err := alg.MarshalPKIXPublicKey(cpub)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{Client: &detClient{sk: sk, spki: spki}}
	s, err := kmssigner.New(context.Background(), rec, "det", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 100, 4096, 4097, 10000} {
		msg := bytes.Repeat([]byte{byte(n)}, n)
		want, err := sk.SignDeterministic(msg, nil) // pure ML-DSA of the whole message
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Sign(nil, msg, crypto.Hash(0))
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		wantType := kmssigner.MessageTypeRaw
		if n > kmssigner.MaxRawMessage {
			wantType = kmssigner.MessageTypeExternalMu
		}
		if mt := rec.last(t).MessageType; mt != wantType {
			t.Fatalf("%d bytes went %s, want %s", n, mt, wantType)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%d bytes: signature through %s differs from the deterministic RAW signature", n, wantType)
		}
		// The μ sent equals alg.ExternalMu, and signing it directly gives the same bytes.
		mu, _ := alg.ExternalMu(sk.PublicKey().Bytes(), nil, msg)
		viaMu, err := sk.SignDeterministic(mu[:], mldsacrypto.MLDSAMu)
		if err != nil || !bytes.Equal(viaMu, want) {
			t.Fatalf("%d bytes: EXTERNAL_MU of alg.ExternalMu differs from RAW (err %v)", n, err)
		}
	}
	// With a context: identical to filippo's pure ML-DSA with that context.
	msg := []byte("with context")
	want, _ := sk.SignDeterministic(msg, &mldsa.Options{Context: "ctx"})
	got, err := s.Sign(nil, msg, kmssigner.MLDSAOptions{Context: []byte("ctx")})
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("context signature differs (err %v)", err)
	}
}

// A caller-supplied μ (MLDSAMu) cannot be verified locally: refused by default, forwarded with AcceptMuUnsafe.
func TestCallerSuppliedMu(t *testing.T) {
	k := localkms.NewMemory(nil)
	id := createKey(t, k, kmssigner.KeySpecMLDSA65)
	s, err := kmssigner.New(context.Background(), k, id, nil)
	if err != nil {
		t.Fatal(err)
	}
	pub := s.Public().(*mldsa65.PublicKey)
	msg := []byte("m")
	mu, _ := alg.ExternalMu(pub.Bytes(), nil, msg)
	if _, err := s.Sign(nil, mu[:], kmssigner.MLDSAMu); !errors.Is(err, kmssigner.ErrUnverifiableMu) {
		t.Fatalf("err = %v, want ErrUnverifiableMu", err)
	}
	s2, err := kmssigner.New(context.Background(), k, id, &kmssigner.Options{AcceptMuUnsafe: true})
	if err != nil {
		t.Fatal(err)
	}
	sig, err := s2.Sign(nil, mu[:], kmssigner.MLDSAMu)
	if err != nil {
		t.Fatal(err)
	}
	if !mldsa65.Verify(pub, msg, nil, sig) {
		t.Fatal("μ signature does not verify as a signature of the message")
	}
	if _, err := s2.Sign(nil, mu[:32], kmssigner.MLDSAMu); !errors.Is(err, kmssigner.ErrDigestLength) {
		t.Fatalf("32-byte μ: err = %v", err)
	}
}

// Pitfall 7: the Signer is a crypto.MessageSigner; crypto/x509 signs certificates and CSRs through it.
func TestPitfallMessageSignerWithX509(t *testing.T) {
	for _, spec := range []string{kmssigner.KeySpecECCNISTP384, kmssigner.KeySpecECCNISTEdwards25519, kmssigner.KeySpecRSA2048} {
		s, rec, _ := newSigner(t, spec)
		var _ crypto.MessageSigner = s
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kms " + spec},
			NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), BasicConstraintsValid: true, IsCA: true}
		if spec == kmssigner.KeySpecRSA2048 {
			tmpl.SignatureAlgorithm = x509.SHA256WithRSAPSS
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, s.Public(), s)
		if err != nil {
			t.Fatalf("%s: %v", spec, err)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		if err := cert.CheckSignatureFrom(cert); err != nil {
			t.Fatalf("%s: %v", spec, err)
		}
		if spec == kmssigner.KeySpecRSA2048 && rec.last(t).SigningAlgorithm != kmssigner.SigningAlgorithmRSASSAPSSSHA256 {
			t.Fatalf("x509 asked for PSS, KMS got %s", rec.last(t).SigningAlgorithm)
		}
		csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "csr"}}, s)
		if err != nil {
			t.Fatal(err)
		}
		req, err := x509.ParseCertificateRequest(csr)
		if err != nil || req.CheckSignature() != nil {
			t.Fatalf("%s CSR: %v", spec, err)
		}
	}
}

// fakeClient serves a fixed SPKI and signs with whatever signer sign returns.
type fakeClient struct {
	info    kmssigner.PublicKeyInfo
	signer  func() crypto.Signer
	corrupt bool
}

func (f *fakeClient) GetPublicKey(context.Context, string) (*kmssigner.PublicKeyInfo, error) {
	i := f.info
	return &i, nil
}

func (f *fakeClient) Sign(_ context.Context, req *kmssigner.SignRequest) ([]byte, error) {
	sig, err := f.signer().Sign(rand.Reader, req.Message, crypto.SHA256)
	if err == nil && f.corrupt {
		sig[len(sig)/2] ^= 1
	}
	return sig, err
}

func p256Info(t *testing.T, k *ecdsa.PrivateKey) kmssigner.PublicKeyInfo {
	spki, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return kmssigner.PublicKeyInfo{KeyID: "k", PublicKey: spki, KeySpec: kmssigner.KeySpecECCNISTP256, KeyUsage: kmssigner.KeyUsageSignVerify}
}

// Pitfall 9: verify-after-sign catches a wrong key, a corrupted response and a key rotated underneath.
func TestPitfallVerifyAfterSign(t *testing.T) {
	a, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	b, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	digest := sha256.Sum256([]byte("x"))
	run := func(t *testing.T, c kmssigner.Client) {
		s, err := kmssigner.New(context.Background(), c, "k", nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Sign(rand.Reader, digest[:], crypto.SHA256); !errors.Is(err, kmssigner.ErrSignatureMismatch) {
			t.Fatalf("err = %v, want ErrSignatureMismatch", err)
		}
		if _, err := alg.Sign(context.Background(), s, alg.ECDSAWithSHA256, []byte("x")); !errors.Is(err, kmssigner.ErrSignatureMismatch) {
			t.Fatalf("alg.Sign: err = %v, want ErrSignatureMismatch", err)
		}
		// With verification off the bad signature comes back (that is what ...Unsafe means).
		s2, _ := kmssigner.New(context.Background(), c, "k", &kmssigner.Options{SkipVerifyUnsafe: true})
		if s2.VerifiesSignatures() {
			t.Fatal("VerifiesSignatures with SkipVerifyUnsafe")
		}
		if _, err := s2.Sign(rand.Reader, digest[:], crypto.SHA256); err != nil {
			t.Fatalf("SkipVerifyUnsafe: %v", err)
		}
	}
	t.Run("WrongKey", func(t *testing.T) {
		run(t, &fakeClient{info: p256Info(t, a), signer: func() crypto.Signer { return b }})
	})
	t.Run("CorruptedResponse", func(t *testing.T) {
		run(t, &fakeClient{info: p256Info(t, a), signer: func() crypto.Signer { return a }, corrupt: true})
	})
	t.Run("RotatedKey", func(t *testing.T) {
		// The KMS signs with a until the Signer has cached a's public key, then the key is rotated to b.
		var mu sync.Mutex
		cur := crypto.Signer(a)
		c := &fakeClient{info: p256Info(t, a), signer: func() crypto.Signer { mu.Lock(); defer mu.Unlock(); return cur }}
		s, err := kmssigner.New(context.Background(), c, "k", nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Sign(rand.Reader, digest[:], crypto.SHA256); err != nil {
			t.Fatalf("before rotation: %v", err)
		}
		mu.Lock()
		cur = b
		mu.Unlock()
		if _, err := s.Sign(rand.Reader, digest[:], crypto.SHA256); !errors.Is(err, kmssigner.ErrSignatureMismatch) {
			t.Fatalf("after rotation: err = %v, want ErrSignatureMismatch", err)
		}
	})
	t.Run("CorruptedMLDSAOverLocalKMS", func(t *testing.T) {
		k := localkms.NewMemory(nil)
		id := createKey(t, k, kmssigner.KeySpecMLDSA44)
		s, err := kmssigner.New(context.Background(), corruptingClient{k}, id, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Sign(nil, bytes.Repeat([]byte{1}, 5000), nil); !errors.Is(err, kmssigner.ErrSignatureMismatch) {
			t.Fatalf("err = %v", err)
		}
	})
}

type corruptingClient struct{ kmssigner.Client }

func (c corruptingClient) Sign(ctx context.Context, req *kmssigner.SignRequest) ([]byte, error) {
	sig, err := c.Client.Sign(ctx, req)
	if err == nil {
		sig[len(sig)-1] ^= 0x80
	}
	return sig, err
}

// Pitfall 8: Public() cannot fail: New refuses keys it could not sign with.
func TestPitfallNewRefusesUnusableKeys(t *testing.T) {
	a, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	good := p256Info(t, a)
	for _, tc := range []struct {
		name string
		edit func(*kmssigner.PublicKeyInfo)
		want error
	}{
		{"EncryptDecryptUsage", func(i *kmssigner.PublicKeyInfo) { i.KeyUsage = "ENCRYPT_DECRYPT" }, kmssigner.ErrKeyUsage},
		{"EmptyUsage", func(i *kmssigner.PublicKeyInfo) { i.KeyUsage = "" }, kmssigner.ErrKeyUsage},
		{"SECP256K1Spec", func(i *kmssigner.PublicKeyInfo) { i.KeySpec = "ECC_SECG_P256K1" }, kmssigner.ErrUnsupportedKeySpec},
		{"SpecDisagreesWithKey", func(i *kmssigner.PublicKeyInfo) { i.KeySpec = kmssigner.KeySpecECCNISTP384 }, kmssigner.ErrUnsupportedKeySpec},
		{"GarbageSPKI", func(i *kmssigner.PublicKeyInfo) { i.PublicKey = []byte{0x30, 0x03, 1, 2, 3} }, kmssigner.ErrMalformedResponse},
	} {
		t.Run(tc.name, func(t *testing.T) {
			info := good
			tc.edit(&info)
			_, err := kmssigner.New(context.Background(), &fakeClient{info: info}, "k", nil)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			var ke *kmssigner.Error
			if !errors.As(err, &ke) {
				t.Fatalf("not a *kmssigner.Error: %T", err)
			}
		})
	}
	// An empty KeySpec is taken from the public key.
	info := good
	info.KeySpec = ""
	if _, err := kmssigner.New(context.Background(), &fakeClient{info: info, signer: func() crypto.Signer { return a }}, "k", nil); err != nil {
		t.Fatalf("empty KeySpec: %v", err)
	}
	// A backend error keeps its *APIError.
	k := localkms.NewMemory(nil)
	_, err := kmssigner.New(context.Background(), k, "alias/missing", nil)
	var ae *kmssigner.APIError
	if !errors.Is(err, kmssigner.ErrBackend) || !errors.As(err, &ae) || ae.Code != localkms.CodeNotFound {
		t.Fatalf("missing key: err = %v", err)
	}
}

func TestEd25519MessageTooLarge(t *testing.T) {
	s, rec, _ := newSigner(t, kmssigner.KeySpecECCNISTEdwards25519)
	if _, err := s.Sign(nil, make([]byte, kmssigner.MaxRawMessage+1), crypto.Hash(0)); !errors.Is(err, kmssigner.ErrMessageTooLarge) {
		t.Fatalf("err = %v, want ErrMessageTooLarge", err)
	}
	sig, err := s.Sign(nil, make([]byte, kmssigner.MaxRawMessage), crypto.Hash(0))
	if err != nil || !ed25519.Verify(s.Public().(ed25519.PublicKey), make([]byte, kmssigner.MaxRawMessage), sig) {
		t.Fatalf("4096 bytes: %v", err)
	}
	if _, err := s.Sign(nil, []byte("m"), crypto.SHA512); !errors.Is(err, kmssigner.ErrHashMismatch) {
		t.Fatalf("Ed25519ph: err = %v", err)
	}
	if _, err := s.Sign(nil, []byte("m"), &ed25519.Options{Context: "c"}); !errors.Is(err, kmssigner.ErrInvalidOptions) {
		t.Fatalf("Ed25519ctx: err = %v", err)
	}
	if rec.calls() != 1 {
		t.Fatalf("%d calls, want 1", rec.calls())
	}
}

// An ML-DSA-87 message over 4096 bytes (a large TBSCertificate) signs through EXTERNAL_MU and verifies.
func TestMLDSA87LargeMessageViaExternalMu(t *testing.T) {
	s, rec, _ := newSigner(t, kmssigner.KeySpecMLDSA87)
	msg := bytes.Repeat([]byte("tbs-certificate-with-many-SANs "), 400) // 12,400 bytes
	sig, err := alg.Sign(context.Background(), s, alg.MLDSA87, msg)
	if err != nil {
		t.Fatal(err)
	}
	if r := rec.last(t); r.MessageType != kmssigner.MessageTypeExternalMu || len(r.Message) != 64 {
		t.Fatalf("sent %s/%d bytes", r.MessageType, len(r.Message))
	}
	if err := alg.Verify(s.Public(), alg.MLDSA87, msg, sig); err != nil {
		t.Fatal(err)
	}
	if !mldsa87.Verify(s.Public().(*mldsa87.PublicKey), msg, nil, sig) {
		t.Fatal("circl does not verify")
	}
	// The empty message cannot go RAW (KMS wants 1–4096 bytes) and goes through μ.
	if _, err := s.Sign(nil, nil, nil); err != nil || rec.last(t).MessageType != kmssigner.MessageTypeExternalMu {
		t.Fatalf("empty message: %v", err)
	}
}

// Pitfall 11: a cancelled context returns promptly with context.Canceled; a deadline with DeadlineExceeded.
func TestPitfallContextCancelledReturnsPromptly(t *testing.T) {
	k := localkms.NewMemory(nil)
	id := createKey(t, k, kmssigner.KeySpecECCNISTP256)
	s, err := kmssigner.New(context.Background(), k, id, nil)
	if err != nil {
		t.Fatal(err)
	}
	k.SetFaults(localkms.Faults{Latency: 10 * time.Second, Ops: []string{"Sign"}})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err = alg.Sign(ctx, s, alg.ECDSAWithSHA256, []byte("m"))
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("took %v", el)
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	dctx, dcancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer dcancel()
	d := sha256.Sum256([]byte("m"))
	if _, err := s.SignContext(dctx, nil, d[:], crypto.SHA256); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
	// Already cancelled: no call at all.
	if _, err := s.SignContext(ctx, nil, d[:], crypto.SHA256); !errors.Is(err, context.Canceled) {
		t.Fatalf("pre-cancelled: %v", err)
	}
}

// Key references are sent exactly as given (case preserved): key id, key ARN, alias/Name, alias ARN.
func TestKeyReferencesKeptAsGiven(t *testing.T) {
	k := localkms.NewMemory(nil)
	id := createKey(t, k, kmssigner.KeySpecECCNISTP256)
	if _, err := k.CreateAlias(context.Background(), &localkms.CreateAliasInput{AliasName: "alias/MixedCase-Key", TargetKeyId: id}); err != nil {
		t.Fatal(err)
	}
	arn := "arn:aws:kms:" + k.Region() + ":" + k.AccountID() + ":key/" + id
	for _, ref := range []string{id, arn, "alias/MixedCase-Key", "arn:aws:kms:" + k.Region() + ":" + k.AccountID() + ":alias/MixedCase-Key"} {
		rec := &recorder{Client: k}
		s, err := kmssigner.New(context.Background(), rec, ref, nil)
		if err != nil {
			t.Fatalf("%s: %v", ref, err)
		}
		if _, err := s.SignMessage(nil, []byte("m"), crypto.SHA256); err != nil {
			t.Fatal(err)
		}
		if rec.gets[0] != ref || rec.last(t).KeyID != ref || s.KeyID() != ref {
			t.Fatalf("reference %q became %q / %q", ref, rec.gets[0], rec.last(t).KeyID)
		}
		if s.PublicKeyInfo().KeyID != arn {
			t.Fatalf("PublicKeyInfo().KeyID = %q, want the ARN", s.PublicKeyInfo().KeyID)
		}
	}
	// A differently cased alias is another alias.
	if _, err := kmssigner.New(context.Background(), k, "alias/mixedcase-key", nil); err == nil {
		t.Fatal("alias lookup is case-insensitive")
	}
}

func TestSignMessageHashesForDigestKeys(t *testing.T) {
	s, rec, _ := newSigner(t, kmssigner.KeySpecECCNISTP521)
	msg := []byte("message")
	sig, err := s.SignMessage(nil, msg, crypto.SHA512)
	if err != nil {
		t.Fatal(err)
	}
	want := sha512.Sum512(msg)
	if r := rec.last(t); !bytes.Equal(r.Message, want[:]) || r.MessageType != kmssigner.MessageTypeDigest || r.SigningAlgorithm != kmssigner.SigningAlgorithmECDSASHA512 {
		t.Fatalf("sent %+v", r)
	}
	if !ecdsa.VerifyASN1(s.Public().(*ecdsa.PublicKey), want[:], sig) {
		t.Fatal("does not verify")
	}
}

// Pitfall 10: one remote call per artifact: a certificate and a CSR each cost exactly one KMS Sign.
func TestPitfallOneRemoteCallPerArtifact(t *testing.T) {
	for _, spec := range []string{kmssigner.KeySpecMLDSA65, kmssigner.KeySpecRSA2048} {
		s, rec, _ := newSigner(t, spec)
		tmpl := &x509.CertificateRequest{Subject: pkix.Name{CommonName: "one call"}, DNSNames: []string{"a.example"}}
		if spec == kmssigner.KeySpecRSA2048 {
			tmpl.SignatureAlgorithm = x509.SHA384WithRSAPSS
			if _, err := x509.CreateCertificateRequest(rand.Reader, tmpl, s); err != nil {
				t.Fatal(err)
			}
		} else {
			// Go 1.26's x509 has no ML-DSA: sign a TBS-sized message the way csr/x509ext do, with alg.Sign.
			if _, err := alg.Sign(context.Background(), s, alg.MLDSA65, bytes.Repeat([]byte{1}, 2068)); err != nil {
				t.Fatal(err)
			}
		}
		if n := rec.calls(); n != 1 {
			t.Fatalf("%s: %d KMS Sign calls for one artifact", spec, n)
		}
		if len(rec.gets) != 1 {
			t.Fatalf("%s: %d GetPublicKey calls (the key must be fetched once)", spec, len(rec.gets))
		}
	}
}

// Many goroutines share one Signer (run under -race).
func TestConcurrentSigning(t *testing.T) {
	s, rec, _ := newSigner(t, kmssigner.KeySpecECCNISTP256)
	var wg sync.WaitGroup
	errs := make(chan error, 16*25)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				msg := []byte{byte(g), byte(i)}
				sig, err := alg.Sign(context.Background(), s, alg.ECDSAWithSHA256, msg)
				if err == nil {
					err = alg.Verify(s.Public(), alg.ECDSAWithSHA256, msg, sig)
				}
				if err != nil {
					errs <- err
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if rec.calls() != 400 {
		t.Fatalf("%d calls", rec.calls())
	}
}

// Typed-nil options are bad input, not a panic.
func TestTypedNilOptions(t *testing.T) {
	for spec, opts := range map[string]crypto.SignerOpts{
		kmssigner.KeySpecRSA2048:             (*rsa.PSSOptions)(nil),
		kmssigner.KeySpecECCNISTEdwards25519: (*ed25519.Options)(nil),
		kmssigner.KeySpecMLDSA44:             (*kmssigner.MLDSAOptions)(nil),
	} {
		s, _, _ := newSigner(t, spec)
		if _, err := s.Sign(nil, make([]byte, 32), opts); err == nil {
			t.Errorf("%s with %T(nil): no error", spec, opts)
		}
	}
}
