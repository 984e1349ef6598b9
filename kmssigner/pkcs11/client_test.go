//go:build cgo

package pkcs11

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pkikit/pkikit/internal/alg"
	"github.com/pkikit/pkikit/kmssigner"
)

func algorithmsFor(kt alg.KeyType) []alg.Algorithm {
	if kt.Family() == alg.FamilyRSA {
		return []alg.Algorithm{alg.SHA256WithRSA, alg.SHA384WithRSA, alg.SHA512WithRSA,
			alg.SHA256WithRSAPSS, alg.SHA384WithRSAPSS, alg.SHA512WithRSAPSS}
	}
	return []alg.Algorithm{kt.DefaultAlgorithm()}
}

func TestSignEachKeyTypeThroughKMSSigner(t *testing.T) {
	c := newTestClient(t)
	ctx := context.Background()
	msg := []byte("pkikit pkcs11 signing test message")
	wantSpec := map[string]string{"p256": "ECC_NIST_P256", "p384": "ECC_NIST_P384", "p521": "ECC_NIST_P521", "rsa2048": "RSA_2048", "rsa3072": "RSA_3072"}
	for _, label := range fixtureLabels {
		t.Run(label, func(t *testing.T) {
			s, err := kmssigner.New(ctx, c, label, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !publicKeysEqual(s.Public(), fixture.keys[label].pub) {
				t.Fatal("signer's public key is not the token key's")
			}
			if got := s.PublicKeyInfo().KeySpec; got != wantSpec[label] {
				t.Fatalf("KeySpec %q, want %q", got, wantSpec[label])
			}
			kt, err := alg.KeyTypeOf(s.Public())
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range algorithmsFor(kt) {
				sig, err := alg.Sign(ctx, s, a, msg)
				if err != nil {
					t.Fatalf("%v: %v", a, err)
				}
				if err := alg.Verify(s.Public(), a, msg, sig); err != nil {
					t.Fatalf("%v: %v", a, err)
				}
				if err := alg.Verify(s.Public(), a, append([]byte("x"), msg...), sig); !errors.Is(err, alg.ErrInvalidSignature) {
					t.Fatalf("%v: signature verifies over another message: %v", a, err)
				}
			}
		})
	}
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	switch k := a.(type) {
	case *ecdsa.PublicKey:
		return k.Equal(b)
	case *rsa.PublicKey:
		return k.Equal(b)
	}
	return false
}

func TestKeyReferences(t *testing.T) {
	c := newTestClient(t)
	ctx := context.Background()
	want := fixture.keys["p384"].pub
	for _, ref := range []string{
		"p384",
		"pkcs11:object=p384",
		"pkcs11:id=%70%02",
		"pkcs11:token=test;object=p384;id=%70%02;type=private",
		"PKCS11:OBJECT=p384",
	} {
		t.Run(ref, func(t *testing.T) {
			info, err := c.GetPublicKey(ctx, ref)
			if err != nil {
				t.Fatal(err)
			}
			pub, _, err := alg.ParsePKIXPublicKey(info.PublicKey)
			if err != nil || !publicKeysEqual(pub, want) {
				t.Fatalf("wrong key (%v)", err)
			}
			if info.KeyID != ref || info.KeyUsage != "SIGN_VERIFY" || strings.Join(info.SigningAlgorithms, ",") != "ECDSA_SHA_384" {
				t.Fatalf("info %+v", info)
			}
		})
	}
}

func TestKeyLookupErrors(t *testing.T) {
	c := newTestClient(t)
	ctx := context.Background()
	for _, tc := range []struct {
		ref  string
		want error
	}{
		{"no-such-key", ErrKeyNotFound},
		{"pkcs11:object=p384;id=%70%01", ErrKeyNotFound}, // label and id of different keys
		{"pkcs11:token=other;object=p384", ErrKeyNotFound},
		{"twin", ErrAmbiguousKey},
		{"pkcs11:token=test", ErrInvalidRequest},
		{"pkcs11:object=p384;type=cert", ErrInvalidRequest},
		{"pkcs11:object=p384;objet=x", ErrInvalidURI},
		{"", ErrInvalidRequest},
	} {
		t.Run(tc.ref, func(t *testing.T) {
			_, err := c.GetPublicKey(ctx, tc.ref)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	_, err := c.GetPublicKey(ctx, "no-such-key")
	var ae *kmssigner.APIError
	if !errors.As(err, &ae) || ae.Code != "NotFoundException" {
		t.Fatalf("a missing key should also be a NotFoundException APIError: %v", err)
	}
}

func TestSignRequestValidation(t *testing.T) {
	c := newTestClient(t)
	ctx := context.Background()
	d32 := sha256.Sum256([]byte("m"))
	for _, tc := range []struct {
		name string
		req  *kmssigner.SignRequest
	}{
		{"nil", nil},
		{"hash of another curve", &kmssigner.SignRequest{KeyID: "p256", Message: make([]byte, 48), MessageType: "DIGEST", SigningAlgorithm: "ECDSA_SHA_384"}},
		{"RSA algorithm on ECDSA key", &kmssigner.SignRequest{KeyID: "p256", Message: d32[:], MessageType: "DIGEST", SigningAlgorithm: "RSASSA_PSS_SHA_256"}},
		{"ECDSA algorithm on RSA key", &kmssigner.SignRequest{KeyID: "rsa2048", Message: d32[:], MessageType: "DIGEST", SigningAlgorithm: "ECDSA_SHA_256"}},
		{"digest too short", &kmssigner.SignRequest{KeyID: "p256", Message: d32[:31], MessageType: "DIGEST", SigningAlgorithm: "ECDSA_SHA_256"}},
		{"digest too long", &kmssigner.SignRequest{KeyID: "rsa2048", Message: make([]byte, 33), MessageType: "DIGEST", SigningAlgorithm: "RSASSA_PKCS1_V1_5_SHA_256"}},
		{"external mu", &kmssigner.SignRequest{KeyID: "p256", Message: make([]byte, 64), MessageType: "EXTERNAL_MU", SigningAlgorithm: "ECDSA_SHA_256"}},
		{"raw too long", &kmssigner.SignRequest{KeyID: "p256", Message: make([]byte, 4097), MessageType: "RAW", SigningAlgorithm: "ECDSA_SHA_256"}},
		{"ML-DSA", &kmssigner.SignRequest{KeyID: "p256", Message: []byte("m"), MessageType: "RAW", SigningAlgorithm: "ML_DSA_SHAKE_256"}},
		{"unknown algorithm", &kmssigner.SignRequest{KeyID: "p256", Message: d32[:], MessageType: "DIGEST", SigningAlgorithm: "ecdsa_sha_256"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := c.Sign(ctx, tc.req); !errors.Is(err, ErrInvalidRequest) {
				t.Fatalf("err = %v, want ErrInvalidRequest", err)
			}
		})
	}
}

func TestSignRawHashesLocally(t *testing.T) {
	c := newTestClient(t)
	msg := []byte("RAW messages are hashed by the client, as KMS does")
	sig, err := c.Sign(context.Background(), &kmssigner.SignRequest{KeyID: "rsa2048", Message: msg, MessageType: "RAW", SigningAlgorithm: "RSASSA_PSS_SHA_384"})
	if err != nil {
		t.Fatal(err)
	}
	if err := alg.Verify(fixture.keys["rsa2048"].pub, alg.SHA384WithRSAPSS, msg, sig); err != nil {
		t.Fatal(err)
	}
}

func TestPSSSaltIsHashLength(t *testing.T) {
	c := newTestClient(t)
	d := sha256.Sum256([]byte("salt"))
	sig, err := c.Sign(context.Background(), &kmssigner.SignRequest{KeyID: "rsa3072", Message: d[:], MessageType: "DIGEST", SigningAlgorithm: "RSASSA_PSS_SHA_256"})
	if err != nil {
		t.Fatal(err)
	}
	pub := fixture.keys["rsa3072"].pub.(*rsa.PublicKey)
	if err := rsa.VerifyPSS(pub, crypto.SHA256, d[:], sig, &rsa.PSSOptions{SaltLength: 32}); err != nil {
		t.Fatalf("salt is not 32 bytes: %v", err)
	}
	if err := rsa.VerifyPSS(pub, crypto.SHA256, d[:], sig, &rsa.PSSOptions{SaltLength: 20}); err == nil {
		t.Fatal("verified with salt length 20 too")
	}
}

func TestConcurrentSigning(t *testing.T) {
	c := newTestClient(t)
	ctx := context.Background()
	s, err := kmssigner.New(ctx, c, "pkcs11:object=p256", nil)
	if err != nil {
		t.Fatal(err)
	}
	const workers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				msg := fmt.Appendf(nil, "worker %d message %d", w, i)
				sig, err := alg.Sign(ctx, s, alg.ECDSAWithSHA256, msg)
				if err == nil {
					err = alg.Verify(s.Public(), alg.ECDSAWithSHA256, msg, sig)
				}
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestCancelledContext(t *testing.T) {
	c := newTestClient(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.GetPublicKey(ctx, "p256"); err != context.Canceled {
		t.Fatalf("GetPublicKey err = %v", err)
	}
	d := sha256.Sum256(nil)
	if _, err := c.Sign(ctx, &kmssigner.SignRequest{KeyID: "p256", Message: d[:], MessageType: "DIGEST", SigningAlgorithm: "ECDSA_SHA_256"}); err != context.Canceled {
		t.Fatalf("Sign err = %v", err)
	}
}

func TestClosedClient(t *testing.T) {
	c := newTestClient(t)
	if _, err := c.GetPublicKey(context.Background(), "p256"); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	d := sha256.Sum256(nil)
	if _, err := c.Sign(context.Background(), &kmssigner.SignRequest{KeyID: "p256", Message: d[:], MessageType: "DIGEST", SigningAlgorithm: "ECDSA_SHA_256"}); !errors.Is(err, ErrClosed) {
		t.Fatalf("err = %v, want ErrClosed", err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestNewErrors(t *testing.T) {
	module := softHSM(t)
	slot := uint(0)
	for _, tc := range []struct {
		name string
		cfg  Config
		want error
	}{
		{"wrong PIN", Config{ModulePath: module, TokenLabel: otherToken, PIN: "0000"}, ErrPIN},
		{"no PIN", Config{ModulePath: module, TokenLabel: testToken}, ErrPIN},
		{"no such token", Config{ModulePath: module, TokenLabel: "absent", PIN: "1"}, ErrModule},
		{"two token selectors", Config{ModulePath: module, TokenLabel: testToken, SlotID: &slot, PIN: testPIN}, ErrModule},
		{"no token selector", Config{ModulePath: module, PIN: testPIN}, ErrModule},
		{"relative module", Config{ModulePath: "libsofthsm2.so", TokenLabel: testToken, PIN: testPIN}, ErrModule},
		{"missing module", Config{ModulePath: "/nonexistent/libpkcs11.so", TokenLabel: testToken, PIN: testPIN}, ErrModule},
		{"not a module", Config{ModulePath: "/etc/hostname", TokenLabel: testToken, PIN: testPIN}, ErrModule},
		{"MaxSessions 1", Config{ModulePath: module, TokenLabel: testToken, PIN: testPIN, MaxSessions: 1}, ErrModule},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(tc.cfg)
			if err == nil {
				c.Close()
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if tc.cfg.PIN != "" && len(tc.cfg.PIN) > 3 && strings.Contains(err.Error(), tc.cfg.PIN) {
				t.Fatalf("error shows the PIN: %v", err)
			}
		})
	}
}

func TestOpenThroughRegistry(t *testing.T) {
	module := softHSM(t)
	ctx := context.Background()
	pinFile := filepath.Join(t.TempDir(), "pin")
	if err := os.WriteFile(pinFile, []byte(testPIN+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, uri := range []string{
		"pkcs11:token=test;object=p521?module-path=" + module + "&pin-value=" + testPIN,
		"pkcs11:token=test;id=%70%03?module-path=" + module + "&pin-source=" + pinFile,
		"pkcs11:token=test;object=rsa2048?module-path=" + module + "&pin-source=file://" + pinFile,
	} {
		t.Run(uri, func(t *testing.T) {
			s, err := kmssigner.Open(ctx, uri)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(s.KeyID(), "pin") || strings.Contains(s.KeyID(), "module") {
				t.Fatalf("key id %q carries the query", s.KeyID())
			}
			kt, _ := alg.KeyTypeOf(s.Public())
			a := kt.DefaultAlgorithm()
			sig, err := alg.Sign(ctx, s, a, []byte("opened by URI"))
			if err != nil {
				t.Fatal(err)
			}
			if err := alg.Verify(s.Public(), a, []byte("opened by URI"), sig); err != nil {
				t.Fatal(err)
			}
		})
	}
	for _, tc := range []struct {
		uri  string
		want error
	}{
		{"pkcs11:token=test;object=p256?pin-value=1234", ErrModule},
		{"pkcs11:token=test;object=p256?module-name=softhsm2&pin-value=1234", ErrModule},
		{"pkcs11:object=p256?module-path=" + module + "&pin-value=1234", ErrInvalidURI},
		{"pkcs11:token=test?module-path=" + module + "&pin-value=1234", ErrInvalidURI},
		{"pkcs11:token=test;object=p256?module-path=" + module, ErrPIN},
		{"pkcs11:token=test;object=p256?module-path=" + module + "&pin-source=/nonexistent/pin", ErrPIN},
		{"pkcs11:token=test;object=p256;pin-value=1234?module-path=" + module, ErrInvalidURI},
		{"pkcs11:token=test;object=absent?module-path=" + module + "&pin-value=1234", ErrKeyNotFound},
	} {
		t.Run(tc.uri, func(t *testing.T) {
			_, err := kmssigner.Open(ctx, tc.uri)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if strings.Contains(err.Error(), "1234") {
				t.Fatalf("error shows the PIN: %v", err)
			}
		})
	}
}
