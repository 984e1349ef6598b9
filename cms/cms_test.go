package cms

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pkikit/pkikit/internal/alg"
	"github.com/pkikit/pkikit/truststore"
	"github.com/pkikit/pkikit/x509ext"
)

var testContent = []byte("pkikit cms test content\x00\x01\x02 binary")

type algCase struct {
	name   string
	kt     x509ext.KeyAlgorithm
	alg    x509ext.SignatureAlgorithm
	digest Digest
}

var algCases = []algCase{
	{"ML-DSA-44/SHA-512", x509ext.KeyMLDSA44, 0, 0},
	{"ML-DSA-44/SHAKE256", x509ext.KeyMLDSA44, 0, SHAKE256},
	{"ML-DSA-65/SHA-512", x509ext.KeyMLDSA65, 0, 0},
	{"ML-DSA-65/SHAKE256", x509ext.KeyMLDSA65, 0, SHAKE256},
	{"ML-DSA-87/SHA-512", x509ext.KeyMLDSA87, 0, 0},
	{"ML-DSA-87/SHAKE256", x509ext.KeyMLDSA87, 0, SHAKE256},
	{"ECDSA-P256", x509ext.KeyECDSAP256, 0, 0},
	{"ECDSA-P384", x509ext.KeyECDSAP384, 0, 0},
	{"RSA-2048-PKCS1", x509ext.KeyRSA2048, 0, 0},
	{"RSA-2048-PSS", x509ext.KeyRSA2048, x509ext.SHA256WithRSAPSS, 0},
	{"Ed25519", x509ext.KeyEd25519, 0, 0},
}

var pkis = map[x509ext.KeyAlgorithm]*testPKI{}

// pkiFor returns a (cached) PKI whose CAs use kt's family; ML-DSA leaves get an ML-DSA-65 PKI.
func pkiFor(t testing.TB, kt x509ext.KeyAlgorithm) *testPKI {
	ca := x509ext.KeyECDSAP256
	if kt.Family() == alg.FamilyMLDSA {
		ca = x509ext.KeyMLDSA65
	}
	if p, ok := pkis[ca]; ok {
		return p
	}
	p := newPKI(t, ca)
	pkis[ca] = p
	return p
}

func TestSignVerifyAlgorithms(t *testing.T) {
	for _, tc := range algCases {
		for _, attached := range []bool{false, true} {
			name := tc.name + map[bool]string{false: "/detached", true: "/attached"}[attached]
			t.Run(name, func(t *testing.T) {
				p := pkiFor(t, tc.kt)
				s := p.signer(t, tc.kt, &SignerOptions{Algorithm: tc.alg, Digest: tc.digest})
				der, err := Sign(context.Background(), bytes.NewReader(testContent), []*Signer{s},
					&SignOptions{Attached: attached, Time: testNow})
				if err != nil {
					t.Fatal(err)
				}
				var content *bytes.Reader
				if !attached {
					content = bytes.NewReader(testContent)
				}
				var res *Result
				if content != nil {
					res, err = Verify(der, content, p.opts())
				} else {
					res, err = Verify(der, nil, p.opts())
				}
				if err != nil {
					t.Fatal(err)
				}
				r := res.Signers[0]
				if r.Algorithm != s.Algorithm() || r.Digest != s.Digest() || len(r.Chain) != 3 ||
					r.Chain[2] != p.root || !r.SigningTime.Equal(testNow) {
					t.Fatalf("result %+v", r)
				}
				sd := res.SignedData
				if len(sd.RawCertificates) != 2 || sd.HasContent != attached {
					t.Fatalf("%d certificates embedded (want leaf + intermediate), attached=%v", len(sd.RawCertificates), sd.HasContent)
				}
				si := sd.SignerInfos[0]
				if !si.AlgorithmProtection || si.ProtectedDigest != s.Digest() || si.ProtectedSignatureAlg != s.Algorithm() {
					t.Fatal("CMSAlgorithmProtection not as signed")
				}
				if tc.digest == SHAKE256 && len(si.MessageDigest) != 64 {
					t.Fatalf("SHAKE256 messageDigest has %d bytes, want 64", len(si.MessageDigest))
				}
			})
		}
	}
}

func TestDefaultDigests(t *testing.T) {
	for _, tc := range []struct {
		kt   x509ext.KeyAlgorithm
		want Digest
	}{
		{x509ext.KeyMLDSA44, SHA512}, {x509ext.KeyMLDSA65, SHA512}, {x509ext.KeyMLDSA87, SHA512},
		{x509ext.KeyECDSAP256, SHA256}, {x509ext.KeyECDSAP384, SHA384}, {x509ext.KeyRSA2048, SHA256},
		{x509ext.KeyEd25519, SHA512},
	} {
		s := pkiFor(t, tc.kt).signer(t, tc.kt, nil)
		if s.Digest() != tc.want {
			t.Errorf("%v: default digest %v, want %v", tc.kt, s.Digest(), tc.want)
		}
	}
}

func TestNewSignerRejects(t *testing.T) {
	p := pkiFor(t, x509ext.KeyMLDSA65)
	cert, key := p.leaf(t, x509ext.KeyMLDSA65, nil)
	other := mustKey(t, x509ext.KeyMLDSA65)
	cases := []struct {
		name string
		key  crypto.Signer
		opts *SignerOptions
		want error
	}{
		{"key-not-certificate's", other, nil, ErrInvalidSigner},
		{"SHA-256-with-ML-DSA-65", key, &SignerOptions{Digest: SHA256}, ErrDigestNotAllowed},
		{"SHA-384-with-ML-DSA-87-algorithm-mismatch", key, &SignerOptions{Algorithm: x509ext.MLDSA87}, ErrInvalidSigner},
		{"ECDSA-algorithm-with-ML-DSA-key", key, &SignerOptions{Algorithm: x509ext.ECDSAWithSHA256}, ErrInvalidSigner},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewSigner(tc.key, cert, tc.opts)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	ed := pkiFor(t, x509ext.KeyEd25519)
	edCert, edKey := ed.leaf(t, x509ext.KeyEd25519, nil)
	if _, err := NewSigner(edKey, edCert, &SignerOptions{Digest: SHA256}); !errors.Is(err, ErrDigestNotAllowed) {
		t.Fatalf("Ed25519 with SHA-256: %v, want ErrDigestNotAllowed (RFC 8419)", err)
	}
}

// verifyFailure signs content under p with the given tweaks and returns the verification error.
func TestVerifyFailureReasons(t *testing.T) {
	p := pkiFor(t, x509ext.KeyMLDSA65)
	ctx := context.Background()
	good := p.signer(t, x509ext.KeyMLDSA65, nil)
	sign := func(t *testing.T, s *Signer, o *SignOptions) []byte {
		t.Helper()
		if o == nil {
			o = &SignOptions{Time: testNow}
		}
		der, err := Sign(ctx, bytes.NewReader(testContent), []*Signer{s}, o)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	otherPKI := newPKI(t, x509ext.KeyMLDSA65)

	cases := []struct {
		name  string
		make  func(t *testing.T) ([]byte, []byte, VerifyOptions) // signature, content, options
		want  error
		avoid []error
	}{
		{"tampered-content", func(t *testing.T) ([]byte, []byte, VerifyOptions) {
			return sign(t, good, nil), append([]byte("X"), testContent[1:]...), p.opts()
		}, ErrContentDigest, []error{ErrBadSignature}},
		{"wrong-root", func(t *testing.T) ([]byte, []byte, VerifyOptions) {
			return sign(t, good, nil), testContent, otherPKI.opts()
		}, ErrUntrusted, nil},
		{"leaf-without-codeSigning", func(t *testing.T) ([]byte, []byte, VerifyOptions) {
			cert, key := p.leaf(t, x509ext.KeyMLDSA65, &leafOpts{profile: clientAuthProfile()})
			s, err := NewSigner(key, cert, &SignerOptions{Intermediates: []*x509ext.Certificate{p.sub}})
			if err != nil {
				t.Fatal(err)
			}
			return sign(t, s, nil), testContent, p.opts()
		}, ErrEKU, nil},
		{"expired-leaf", func(t *testing.T) ([]byte, []byte, VerifyOptions) {
			cert, key := p.leaf(t, x509ext.KeyMLDSA65, &leafOpts{notBefore: testNow.AddDate(-2, 0, 0), notAfter: testNow.AddDate(-1, 0, 0)})
			s, err := NewSigner(key, cert, &SignerOptions{Intermediates: []*x509ext.Certificate{p.sub}})
			if err != nil {
				t.Fatal(err)
			}
			return sign(t, s, &SignOptions{Time: testNow.AddDate(-1, -6, 0)}), testContent, p.opts()
		}, ErrExpired, nil},
		{"signing-time-after-leaf-expiry", func(t *testing.T) ([]byte, []byte, VerifyOptions) {
			return sign(t, good, &SignOptions{Time: testNow.AddDate(3, 0, 0)}), testContent, p.opts()
		}, ErrExpired, nil},
		{"swapped-signature-algorithm", func(t *testing.T) ([]byte, []byte, VerifyOptions) {
			der := sign(t, good, nil)
			// ML-DSA-65's AlgorithmIdentifier OID ends in 0x12; rewrite the SignerInfo's (the last occurrence,
			// after the certificates) to ML-DSA-87 (0x13), leaving the signed CMSAlgorithmProtection intact.
			aid := alg.MLDSA65.MarshalAlgorithmIdentifier()
			i := bytes.LastIndex(der, aid)
			out := bytes.Clone(der)
			out[i+len(aid)-1] = 0x13
			return out, testContent, p.opts()
		}, ErrAlgorithmProtection, nil},
		{"disallowed-digest-SHA-256-with-ML-DSA-65", func(t *testing.T) ([]byte, []byte, VerifyOptions) {
			return sign(t, withDigestUnsafe(t, good, SHA256), nil), testContent, p.opts()
		}, ErrDigestNotAllowed, nil},
		{"bad-signature", func(t *testing.T) ([]byte, []byte, VerifyOptions) {
			der := sign(t, good, nil)
			out := bytes.Clone(der)
			out[len(out)-10] ^= 1
			return out, testContent, p.opts()
		}, ErrBadSignature, nil},
		{"signer-certificate-not-embedded", func(t *testing.T) ([]byte, []byte, VerifyOptions) {
			return sign(t, good, &SignOptions{Time: testNow, OmitCertificates: true}), testContent, p.opts()
		}, ErrSignerNotFound, nil},
		{"verification-time-after-expiry", func(t *testing.T) ([]byte, []byte, VerifyOptions) {
			o := p.opts()
			o.Time = testNow.AddDate(2, 0, 0)
			return sign(t, good, nil), testContent, o
		}, ErrExpired, nil},
		{"algorithm-protection-required-but-absent", func(t *testing.T) ([]byte, []byte, VerifyOptions) {
			s := *good
			s.algProtAttr = nil
			o := p.opts()
			o.RequireAlgorithmProtection = true
			return sign(t, &s, nil), testContent, o
		}, ErrAlgorithmProtection, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sig, content, o := tc.make(t)
			res, err := Verify(sig, bytes.NewReader(content), o)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			var ve *VerifyError
			if !errors.As(err, &ve) || !errors.Is(err, ErrPolicy) || len(res.Verified()) != 0 {
				t.Fatalf("want a *VerifyError matching ErrPolicy with no verified signer: %v", err)
			}
			var ce *Error
			if !errors.As(err, &ce) || ce.Signer != 0 {
				t.Fatalf("want an *Error for signer 0: %#v", err)
			}
			for _, a := range tc.avoid {
				if errors.Is(err, a) {
					t.Fatalf("error %v also matches %v", err, a)
				}
			}
		})
	}
	// The same signature verifies with the right inputs (the failures above are not spurious).
	if _, err := Verify(sign(t, good, nil), bytes.NewReader(testContent), p.opts()); err != nil {
		t.Fatal(err)
	}
}

// withDigestUnsafe returns a copy of s that uses digest d regardless of RFC 9882 (to test verifiers).
func withDigestUnsafe(t testing.TB, s *Signer, d Digest) *Signer {
	c := *s
	c.digest = d
	c.digestAID = digestInfo[d].aid
	sigContent := c.sigAID[headerLen(c.sigAID):]
	var v []byte
	v = appendHeader(v, 0x30, len(c.digestAID)+tlvSize(len(sigContent)))
	v = append(v, c.digestAID...)
	v = appendHeader(v, 0xa1, len(sigContent))
	v = append(v, sigContent...)
	c.algProtAttr = appendAttribute(nil, derOIDAlgorithmProtection, v)
	c.prepare()
	return &c
}

func TestAnyDigestUnsafe(t *testing.T) {
	p := pkiFor(t, x509ext.KeyMLDSA65)
	s := withDigestUnsafe(t, p.signer(t, x509ext.KeyMLDSA65, nil), SHA256)
	der, err := Sign(context.Background(), bytes.NewReader(testContent), []*Signer{s}, &SignOptions{Time: testNow})
	if err != nil {
		t.Fatal(err)
	}
	o := p.opts()
	o.AnyDigestUnsafe = true
	if _, err := Verify(der, bytes.NewReader(testContent), o); err != nil {
		t.Fatal(err)
	}
}

func TestMultipleSignersPolicy(t *testing.T) {
	pq := pkiFor(t, x509ext.KeyMLDSA65)
	cl := pkiFor(t, x509ext.KeyECDSAP256)
	sPQ := pq.signer(t, x509ext.KeyMLDSA65, nil)
	sEC := cl.signer(t, x509ext.KeyECDSAP256, nil)
	der, err := Sign(context.Background(), bytes.NewReader(testContent), []*Signer{sEC, sPQ}, &SignOptions{Time: testNow})
	if err != nil {
		t.Fatal(err)
	}
	sd, err := Parse(der, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(sd.SignerInfos) != 2 || len(sd.RawCertificates) != 4 {
		t.Fatalf("%d signers, %d certificates", len(sd.SignerInfos), len(sd.RawCertificates))
	}
	both := truststore.NewStore(pq.root, cl.root)
	onlyPQ := truststore.NewStore(pq.root)
	onlyEC := truststore.NewStore(cl.root)
	cases := []struct {
		name     string
		store    *truststore.Store
		policy   Policy
		verified int
		wantErr  error
	}{
		{"all/both-trusted", both, PolicyAll, 2, nil},
		{"all/classical-root-missing", onlyPQ, PolicyAll, 1, ErrUntrusted},
		{"any/classical-root-missing", onlyPQ, PolicyAny, 1, nil},
		{"any/pq-root-missing", onlyEC, PolicyAny, 1, nil},
		{"post-quantum/pq-root-missing", onlyEC, PolicyPostQuantum, 1, ErrUntrusted},
		{"post-quantum/classical-root-missing", onlyPQ, PolicyPostQuantum, 1, nil},
		{"any/no-root", truststore.NewStore(newPKI(t, x509ext.KeyECDSAP256).root), PolicyAny, 0, ErrUntrusted},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Verify(der, bytes.NewReader(testContent), VerifyOptions{Store: tc.store, Time: testNow, Policy: tc.policy})
			if tc.wantErr == nil && err != nil || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("got %v, want %v", err, tc.wantErr)
			}
			if len(res.Verified()) != tc.verified {
				t.Fatalf("%d verified, want %d", len(res.Verified()), tc.verified)
			}
		})
	}
	// A PQ-only policy with classical signers only fails even when they verify.
	der2, _ := Sign(context.Background(), bytes.NewReader(testContent), []*Signer{sEC}, &SignOptions{Time: testNow})
	if _, err := Verify(der2, bytes.NewReader(testContent), VerifyOptions{Store: both, Time: testNow, Policy: PolicyPostQuantum}); !errors.Is(err, ErrPolicy) {
		t.Fatalf("classical-only under PolicyPostQuantum: %v", err)
	}
}

func TestSubjectKeyIdentifier(t *testing.T) {
	p := pkiFor(t, x509ext.KeyMLDSA65)
	s := p.signer(t, x509ext.KeyMLDSA65, &SignerOptions{SubjectKeyIdentifier: true})
	der, err := Sign(context.Background(), bytes.NewReader(testContent), []*Signer{s}, &SignOptions{Time: testNow})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Verify(der, bytes.NewReader(testContent), p.opts())
	if err != nil {
		t.Fatal(err)
	}
	si := res.SignedData.SignerInfos[0]
	if si.Version != 3 || res.SignedData.Version != 3 || !bytes.Equal(si.SubjectKeyID, s.Certificate().SubjectKeyId) {
		t.Fatalf("SignerInfo version %d, SignedData version %d", si.Version, res.SignedData.Version)
	}
}

func TestCertificatesChoice(t *testing.T) {
	p := pkiFor(t, x509ext.KeyECDSAP256)
	s := p.signer(t, x509ext.KeyECDSAP256, nil)
	for _, tc := range []struct {
		name string
		o    SignOptions
		want int
	}{
		{"default-leaf-and-intermediate-not-root", SignOptions{}, 2},
		{"omit", SignOptions{OmitCertificates: true}, 0},
		{"explicit", SignOptions{Certificates: []*x509ext.Certificate{s.Certificate()}}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.Time = testNow
			der, err := Sign(context.Background(), bytes.NewReader(testContent), []*Signer{s}, &tc.o)
			if err != nil {
				t.Fatal(err)
			}
			sd, err := Parse(der, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(sd.RawCertificates) != tc.want {
				t.Fatalf("%d certificates, want %d", len(sd.RawCertificates), tc.want)
			}
			for _, c := range sd.RawCertificates {
				if bytes.Equal(c, p.root.Raw) {
					t.Fatal("root embedded")
				}
			}
			// Whatever is embedded, giving the missing certificates to the verifier makes it verify.
			o := p.opts()
			o.Certificates = []*x509ext.Certificate{s.Certificate()}
			o.Intermediates = []*x509ext.Certificate{p.sub}
			if _, err := Verify(der, bytes.NewReader(testContent), o); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestPurposeAndEKUOptions(t *testing.T) {
	p := pkiFor(t, x509ext.KeyECDSAP256)
	cert, key := p.leaf(t, x509ext.KeyECDSAP256, &leafOpts{profile: clientAuthProfile()})
	s, err := NewSigner(key, cert, &SignerOptions{Intermediates: []*x509ext.Certificate{p.sub}})
	if err != nil {
		t.Fatal(err)
	}
	der, err := Sign(context.Background(), bytes.NewReader(testContent), []*Signer{s}, &SignOptions{Time: testNow})
	if err != nil {
		t.Fatal(err)
	}
	o := p.opts()
	if _, err := Verify(der, bytes.NewReader(testContent), o); !errors.Is(err, ErrEKU) {
		t.Fatalf("default: %v, want ErrEKU", err)
	}
	o.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	if _, err := Verify(der, bytes.NewReader(testContent), o); err != nil {
		t.Fatalf("clientAuth asked: %v", err)
	}
	o.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageAny}
	if _, err := Verify(der, bytes.NewReader(testContent), o); err != nil {
		t.Fatalf("any: %v", err)
	}
}

func TestContentArguments(t *testing.T) {
	p := pkiFor(t, x509ext.KeyECDSAP256)
	s := p.signer(t, x509ext.KeyECDSAP256, nil)
	det, _ := Sign(context.Background(), bytes.NewReader(testContent), []*Signer{s}, &SignOptions{Time: testNow})
	att, _ := Sign(context.Background(), bytes.NewReader(testContent), []*Signer{s}, &SignOptions{Time: testNow, Attached: true})
	if _, err := Verify(det, nil, p.opts()); !errors.Is(err, ErrContent) {
		t.Fatalf("detached without content: %v", err)
	}
	if _, err := Verify(att, bytes.NewReader(testContent), p.opts()); !errors.Is(err, ErrContent) {
		t.Fatalf("attached with content: %v", err)
	}
	if _, err := Sign(context.Background(), strings.NewReader(strings.Repeat("x", 100)), []*Signer{s},
		&SignOptions{Attached: true, MaxAttachedSize: 10}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("attached over the limit: %v", err)
	}
	if _, err := Sign(context.Background(), bytes.NewReader(testContent), nil, nil); !errors.Is(err, ErrInvalidSigner) {
		t.Fatalf("no signers: %v", err)
	}
	if _, err := NewVerifier(VerifyOptions{}); err == nil {
		t.Fatal("NewVerifier without a Store succeeded")
	}
}

func TestPEMRoundTrip(t *testing.T) {
	p := pkiFor(t, x509ext.KeyEd25519)
	s := p.signer(t, x509ext.KeyEd25519, nil)
	der, err := Sign(context.Background(), bytes.NewReader(testContent), []*Signer{s}, &SignOptions{Time: testNow})
	if err != nil {
		t.Fatal(err)
	}
	pemBytes := MarshalPEM(der)
	if !bytes.HasPrefix(pemBytes, []byte("-----BEGIN CMS-----\n")) {
		t.Fatalf("PEM starts %q", pemBytes[:20])
	}
	sd, err := Parse(pemBytes, nil)
	if err != nil || !bytes.Equal(sd.Raw, der) {
		t.Fatalf("PEM parse: %v", err)
	}
	if _, err := Verify(pemBytes, bytes.NewReader(testContent), p.opts()); err != nil {
		t.Fatal(err)
	}
}

func TestSigningTimeEncoding(t *testing.T) {
	p := pkiFor(t, x509ext.KeyECDSAP256)
	s := p.signer(t, x509ext.KeyECDSAP256, nil)
	for _, tm := range []time.Time{
		time.Date(2049, 12, 31, 23, 59, 59, 0, time.UTC), // UTCTime
		time.Date(2050, 1, 1, 0, 0, 0, 0, time.UTC),      // GeneralizedTime (RFC 5652 §11.3)
		time.Date(1949, 12, 31, 0, 0, 0, 0, time.UTC),
	} {
		der, err := Sign(context.Background(), bytes.NewReader(testContent), []*Signer{s}, &SignOptions{Time: tm})
		if err != nil {
			t.Fatal(err)
		}
		sd, err := Parse(der, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := sd.SignerInfos[0].SigningTime; !got.Equal(tm) {
			t.Fatalf("signingTime %v, want %v", got, tm)
		}
	}
	der, _ := Sign(context.Background(), bytes.NewReader(testContent), []*Signer{s}, &SignOptions{OmitSigningTime: true})
	sd, _ := Parse(der, nil)
	if !sd.SignerInfos[0].SigningTime.IsZero() {
		t.Fatal("signingTime present")
	}
}

func TestParseTimeStrict(t *testing.T) {
	for _, tc := range []struct {
		name string
		der  string
		ok   bool
		want time.Time
	}{
		{"utc", "\x17\x0d491231235959Z", true, time.Date(2049, 12, 31, 23, 59, 59, 0, time.UTC)},
		{"utc-1950", "\x17\x0d500101000000Z", true, time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"generalized", "\x18\x0f20500101000000Z", true, time.Date(2050, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"utc-offset", "\x17\x11491231235959+0100", false, time.Time{}},
		{"utc-no-seconds", "\x17\x0b4912312359Z", false, time.Time{}},
		{"generalized-fraction", "\x18\x1120500101000000.5Z", false, time.Time{}},
		{"month-13", "\x17\x0d491331235959Z", false, time.Time{}},
		{"feb-30", "\x17\x0d490230000000Z", false, time.Time{}},
		{"hour-24", "\x17\x0d491231240000Z", false, time.Time{}},
		{"not-digits", "\x17\x0d4912312359a9Z", false, time.Time{}},
		{"wrong-tag", "\x04\x0d491231235959Z", false, time.Time{}},
		{"trailing", "\x17\x0d491231235959Z\x00", false, time.Time{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseTime([]byte(tc.der))
			if ok != tc.ok || !got.Equal(tc.want) {
				t.Fatalf("got %v %v, want %v %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

// TestVerifierCaches covers what a reused Verifier remembers: the signer certificate (found again by its
// issuer and serial number and confirmed byte for byte) and the chain verified for it, which stays valid when a
// later SignedData embeds fewer certificates — while a tampered copy of the signer's certificate is not taken
// for the cached one, and a fresh Verifier still needs the intermediate.
func TestVerifierCaches(t *testing.T) {
	p := pkiFor(t, x509ext.KeyECDSAP256)
	s := p.signer(t, x509ext.KeyECDSAP256, nil)
	sign := func(o *SignOptions) []byte {
		t.Helper()
		o.Time = testNow
		der, err := Sign(context.Background(), bytes.NewReader(testContent), []*Signer{s}, o)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	full := sign(&SignOptions{})
	leafOnly := sign(&SignOptions{Certificates: []*x509ext.Certificate{s.Certificate()}})

	if _, err := Verify(leafOnly, bytes.NewReader(testContent), p.opts()); !errors.Is(err, ErrUntrusted) {
		t.Fatalf("fresh verifier, no intermediate: got %v, want ErrUntrusted", err)
	}
	v, err := NewVerifier(p.opts())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		res, err := v.Verify(full, bytes.NewReader(testContent))
		if err != nil {
			t.Fatalf("verification %d: %v", i, err)
		}
		if got := res.Signers[0]; !bytes.Equal(got.Certificate.Raw, s.Certificate().Raw) || len(got.Chain) != 3 {
			t.Fatalf("verification %d: wrong certificate or chain of %d", i, len(got.Chain))
		}
	}
	res, err := v.Verify(leafOnly, bytes.NewReader(testContent))
	if err != nil || len(res.Signers[0].Chain) != 3 {
		t.Fatalf("reused verifier, chain cached for the leaf: %v", err)
	}
	// The leaf's extensions tampered with (its serial number and issuer unchanged): not the cached certificate,
	// and its signature by the CA no longer verifies.
	leaf := s.Certificate().Raw
	i := bytes.Index(full, leaf)
	tampered := bytes.Clone(full)
	tampered[i+len(leaf)-200] ^= 1
	if _, err := v.Verify(tampered, bytes.NewReader(testContent)); err == nil {
		t.Fatal("tampered signer certificate verified")
	}
	if _, err := v.Verify(full, bytes.NewReader([]byte("other content"))); !errors.Is(err, ErrContentDigest) {
		t.Fatalf("other content: got %v, want ErrContentDigest", err)
	}
}

// TestNewSignerDeduplicatesCertificates: a signer certificate also passed among the intermediates is embedded
// once.
func TestNewSignerDeduplicatesCertificates(t *testing.T) {
	p := pkiFor(t, x509ext.KeyECDSAP256)
	cert, key := p.leaf(t, x509ext.KeyECDSAP256, nil)
	s, err := NewSigner(key, cert, &SignerOptions{Intermediates: []*x509ext.Certificate{p.sub, cert, p.sub}})
	if err != nil {
		t.Fatal(err)
	}
	der, err := Sign(context.Background(), bytes.NewReader(testContent), []*Signer{s}, &SignOptions{Time: testNow})
	if err != nil {
		t.Fatal(err)
	}
	sd, err := Parse(der, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(sd.RawCertificates) != 2 {
		t.Fatalf("%d certificates embedded, want 2", len(sd.RawCertificates))
	}
}
