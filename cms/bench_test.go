package cms

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"io"
	"os"
	"runtime"
	"strconv"
	"testing"

	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
	"github.com/pkikit/pkikit/internal/alg"
	"github.com/pkikit/pkikit/x509ext"
	"go.mozilla.org/pkcs7"
)

// Benchmarks side by side with the raw primitive (the limit) and with go.mozilla.org/pkcs7 (the peer), in one
// `go test -bench . ./cms` run. The streaming benchmarks digest 16 MiB by default; set PKIKIT_BENCH_STREAM_SIZE
// (bytes, or with a MiB/GiB suffix, e.g. 1GiB) for the long run.

var bench1KiB = bytes.Repeat([]byte("0123456789abcdef"), 64)

type benchEnv struct {
	p      *testPKI
	signer *Signer
	sig    []byte
}

var benchEnvs = map[x509ext.KeyAlgorithm]*benchEnv{}

func benchSetup(b *testing.B, kt x509ext.KeyAlgorithm) *benchEnv {
	if e, ok := benchEnvs[kt]; ok {
		return e
	}
	p := newPKI(b, map[bool]x509ext.KeyAlgorithm{true: x509ext.KeyMLDSA65, false: x509ext.KeyECDSAP256}[kt.Family() == alg.FamilyMLDSA])
	s := p.signer(b, kt, nil)
	sig, err := Sign(context.Background(), bytes.NewReader(bench1KiB), []*Signer{s}, &SignOptions{Time: testNow})
	if err != nil {
		b.Fatal(err)
	}
	e := &benchEnv{p: p, signer: s, sig: sig}
	benchEnvs[kt] = e
	return e
}

// --- ML-DSA-65 ---

func BenchmarkSignMLDSA65_1KiB(b *testing.B) {
	e := benchSetup(b, x509ext.KeyMLDSA65)
	o := &SignOptions{Time: testNow}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Sign(context.Background(), bytes.NewReader(bench1KiB), []*Signer{e.signer}, o); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSignMLDSA65_1KiB_RawCircl: SHA-512 of the content, then one hedged circl ML-DSA-65 signature over a
// message as long as the signed attributes (the limit of Sign).
func BenchmarkSignMLDSA65_1KiB_RawCircl(b *testing.B) {
	e := benchSetup(b, x509ext.KeyMLDSA65)
	key := e.signer.key.(*mldsa65.PrivateKey)
	msg := make([]byte, len(e.p.mustSignedAttrs(b, e.sig)))
	sig := make([]byte, mldsa65.SignatureSize)
	b.ReportAllocs()
	for b.Loop() {
		d := sha512.Sum512(bench1KiB)
		copy(msg, d[:])
		if err := mldsa65.SignTo(key, msg, nil, true, sig); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyMLDSA65_1KiB_Cold: a new Verifier per signature (parses the SignedData and both embedded
// certificates, checks the chain through the trust store — whose own signature cache is warm, as a long-lived
// store's is — digests the content and verifies the signature).
func BenchmarkVerifyMLDSA65_1KiB_Cold(b *testing.B) {
	e := benchSetup(b, x509ext.KeyMLDSA65)
	o := e.p.opts()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Verify(e.sig, bytes.NewReader(bench1KiB), o); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyMLDSA65_1KiB_RawParseVerify: parse the leaf's public key from its SPKI, SHA-512 of the content,
// verify one signature (the limit of a cold verification).
func BenchmarkVerifyMLDSA65_1KiB_RawParseVerify(b *testing.B) {
	e := benchSetup(b, x509ext.KeyMLDSA65)
	attrs, sig := e.p.mustSignedAttrs(b, e.sig), e.p.mustSignature(b, e.sig)
	spki := e.signer.cert.RawSubjectPublicKeyInfo
	b.ReportAllocs()
	for b.Loop() {
		pub, _, err := alg.ParsePKIXPublicKey(spki)
		if err != nil {
			b.Fatal(err)
		}
		sha512.Sum512(bench1KiB)
		if !mldsa65.Verify(pub.(*mldsa65.PublicKey), attrs, nil, sig) {
			b.Fatal("bad")
		}
	}
}

// BenchmarkVerifyMLDSA65_1KiB_Warm: one Verifier reused for the same signer (parsed certificates and verified
// chain cached).
func BenchmarkVerifyMLDSA65_1KiB_Warm(b *testing.B) {
	e := benchSetup(b, x509ext.KeyMLDSA65)
	v, err := NewVerifier(e.p.opts())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(e.sig, bytes.NewReader(bench1KiB)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyMLDSA65_1KiB_RawVerify: SHA-512 of the content and one verification with a parsed key.
func BenchmarkVerifyMLDSA65_1KiB_RawVerify(b *testing.B) {
	e := benchSetup(b, x509ext.KeyMLDSA65)
	attrs, sig := e.p.mustSignedAttrs(b, e.sig), e.p.mustSignature(b, e.sig)
	pub := e.signer.cert.PublicKey.(*mldsa65.PublicKey)
	b.ReportAllocs()
	for b.Loop() {
		sha512.Sum512(bench1KiB)
		if !mldsa65.Verify(pub, attrs, nil, sig) {
			b.Fatal("bad")
		}
	}
}

// --- ECDSA P-256 ---

func BenchmarkSignECDSAP256_1KiB(b *testing.B) {
	e := benchSetup(b, x509ext.KeyECDSAP256)
	o := &SignOptions{Time: testNow}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Sign(context.Background(), bytes.NewReader(bench1KiB), []*Signer{e.signer}, o); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSignECDSAP256_1KiB_Raw: SHA-256 of the content and one ECDSA signature (the limit).
func BenchmarkSignECDSAP256_1KiB_Raw(b *testing.B) {
	e := benchSetup(b, x509ext.KeyECDSAP256)
	key := e.signer.key.(*ecdsa.PrivateKey)
	b.ReportAllocs()
	for b.Loop() {
		d := sha256.Sum256(bench1KiB)
		if _, err := ecdsa.SignASN1(rand.Reader, key, d[:]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSignECDSAP256_1KiB_Pkcs7: go.mozilla.org/pkcs7, detached, SHA-256, same certificates embedded.
func BenchmarkSignECDSAP256_1KiB_Pkcs7(b *testing.B) {
	e := benchSetup(b, x509ext.KeyECDSAP256)
	b.ReportAllocs()
	for b.Loop() {
		sd, err := pkcs7.NewSignedData(bench1KiB)
		if err != nil {
			b.Fatal(err)
		}
		sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
		if err := sd.AddSigner(e.signer.cert.Certificate, e.signer.key, pkcs7.SignerInfoConfig{}); err != nil {
			b.Fatal(err)
		}
		sd.AddCertificate(e.p.sub.Certificate)
		sd.Detach()
		if _, err := sd.Finish(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyECDSAP256_1KiB_Warm(b *testing.B) {
	e := benchSetup(b, x509ext.KeyECDSAP256)
	v, err := NewVerifier(e.p.opts())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(e.sig, bytes.NewReader(bench1KiB)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyECDSAP256_1KiB_Cold(b *testing.B) {
	e := benchSetup(b, x509ext.KeyECDSAP256)
	o := e.p.opts()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Verify(e.sig, bytes.NewReader(bench1KiB), o); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyECDSAP256_1KiB_Raw: SHA-256 of the content, SHA-256 of the signed attributes, one ECDSA
// verification with a parsed key (the limit).
func BenchmarkVerifyECDSAP256_1KiB_Raw(b *testing.B) {
	e := benchSetup(b, x509ext.KeyECDSAP256)
	attrs, sig := e.p.mustSignedAttrs(b, e.sig), e.p.mustSignature(b, e.sig)
	pub := e.signer.cert.PublicKey.(*ecdsa.PublicKey)
	b.ReportAllocs()
	for b.Loop() {
		sha256.Sum256(bench1KiB)
		d := sha256.Sum256(attrs)
		if !ecdsa.VerifyASN1(pub, d[:], sig) {
			b.Fatal("bad")
		}
	}
}

// BenchmarkVerifyECDSAP256_1KiB_Pkcs7: go.mozilla.org/pkcs7 Parse + Verify of our signature (signature and
// digest only: pkcs7's Verify checks no chain).
func BenchmarkVerifyECDSAP256_1KiB_Pkcs7(b *testing.B) {
	e := benchSetup(b, x509ext.KeyECDSAP256)
	b.ReportAllocs()
	for b.Loop() {
		p7, err := pkcs7.Parse(e.sig)
		if err != nil {
			b.Fatal(err)
		}
		p7.Content = bench1KiB
		if err := p7.Verify(); err != nil {
			b.Fatal(err)
		}
	}
}

// --- Streaming ---

func streamSize(b *testing.B) int64 {
	s := os.Getenv("PKIKIT_BENCH_STREAM_SIZE")
	if s == "" {
		return 16 << 20
	}
	mult := int64(1)
	switch {
	case len(s) > 3 && s[len(s)-3:] == "GiB":
		mult, s = 1<<30, s[:len(s)-3]
	case len(s) > 3 && s[len(s)-3:] == "MiB":
		mult, s = 1<<20, s[:len(s)-3]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		b.Fatalf("bad PKIKIT_BENCH_STREAM_SIZE %q", os.Getenv("PKIKIT_BENCH_STREAM_SIZE"))
	}
	return n * mult
}

// patternReader yields n bytes of a fixed pattern without holding them (like reading a large file).
type patternReader struct{ left int64 }

var pattern = bytes.Repeat([]byte("pkikit streaming benchmark data\n"), 8192) // 256 KiB

func (r *patternReader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		return 0, io.EOF
	}
	n := copy(p, pattern)
	if int64(n) > r.left {
		n = int(r.left)
	}
	r.left -= int64(n)
	return n, nil
}

func reportHeap(b *testing.B, before *runtime.MemStats) {
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapSys)/(1<<20), "heap-sys-MiB")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/(1<<20), "alloc-MiB/op")
}

// BenchmarkSignStreamMLDSA65: a detached ML-DSA-65 signature (SHA-512) over PKIKIT_BENCH_STREAM_SIZE bytes.
func BenchmarkSignStreamMLDSA65(b *testing.B) {
	e := benchSetup(b, x509ext.KeyMLDSA65)
	n := streamSize(b)
	o := &SignOptions{Time: testNow}
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	b.SetBytes(n)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Sign(context.Background(), &patternReader{n}, []*Signer{e.signer}, o); err != nil {
			b.Fatal(err)
		}
	}
	reportHeap(b, &before)
}

// BenchmarkSignStream_RawSHA512: SHA-512 over the same stream with the same buffer size (the limit).
func BenchmarkSignStream_RawSHA512(b *testing.B) {
	n := streamSize(b)
	buf := make([]byte, 256<<10)
	b.SetBytes(n)
	b.ReportAllocs()
	for b.Loop() {
		h := sha512.New()
		if _, err := io.CopyBuffer(h, &patternReader{n}, buf); err != nil {
			b.Fatal(err)
		}
		h.Sum(nil)
	}
}

// mustSignedAttrs and mustSignature return the first SignerInfo's signed attributes and signature.
func (p *testPKI) mustSignedAttrs(b testing.TB, der []byte) []byte {
	sd, err := Parse(der, nil)
	if err != nil {
		b.Fatal(err)
	}
	return sd.SignerInfos[0].RawSignedAttributes
}

func (p *testPKI) mustSignature(b testing.TB, der []byte) []byte {
	sd, err := Parse(der, nil)
	if err != nil {
		b.Fatal(err)
	}
	return sd.SignerInfos[0].Signature
}
