package cms

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
	"github.com/pkikit/pkikit/internal/alg"
	"github.com/pkikit/pkikit/truststore"
	"github.com/pkikit/pkikit/x509ext"
	"go.mozilla.org/pkcs7"
	"golang.org/x/sys/unix"
)

// The machine these benchmarks run on is shared: wall-clock ns/op of two benchmarks run one after the other can
// differ several-fold with the load. BenchmarkPaired therefore runs each operation and its reference
// alternately in the same loop, on one locked OS thread, and measures both in thread CPU time
// (CLOCK_THREAD_CPUTIME_ID), which waiting for a CPU does not inflate. It reports ours-ns/op, ref-ns/op and
// their ratio (ours/ref, lower is better).

func threadCPU() time.Duration {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts)
	return time.Duration(ts.Nano())
}

func paired(b *testing.B, ours, ref func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	ours()
	ref()
	var tOurs, tRef time.Duration
	n := 0
	for b.Loop() {
		t0 := threadCPU()
		ours()
		t1 := threadCPU()
		ref()
		t2 := threadCPU()
		tOurs += t1 - t0
		tRef += t2 - t1
		n++
	}
	b.ReportMetric(float64(tOurs.Nanoseconds())/float64(n), "ours-cpu-ns/op")
	b.ReportMetric(float64(tRef.Nanoseconds())/float64(n), "ref-cpu-ns/op")
	b.ReportMetric(float64(tOurs)/float64(tRef), "ratio")
}

func must(b *testing.B, err error) {
	if err != nil {
		b.Fatal(err)
	}
}

func BenchmarkPaired(b *testing.B) {
	ctx := context.Background()
	ml := benchSetup(b, x509ext.KeyMLDSA65)
	ec := benchSetup(b, x509ext.KeyECDSAP256)
	o := &SignOptions{Time: testNow}

	mlKey := ml.signer.key.(*mldsa65.PrivateKey)
	mlAttrs, mlSig := ml.p.mustSignedAttrs(b, ml.sig), ml.p.mustSignature(b, ml.sig)
	mlMsg := make([]byte, len(mlAttrs))
	mlOut := make([]byte, mlds65SigSize)
	mlPub := ml.signer.cert.PublicKey.(*mldsa65.PublicKey)
	mlSPKI := ml.signer.cert.RawSubjectPublicKeyInfo
	mlWarm, err := NewVerifier(ml.p.opts())
	must(b, err)

	ecKey := ec.signer.key.(*ecdsa.PrivateKey)
	ecAttrs, ecSig := ec.p.mustSignedAttrs(b, ec.sig), ec.p.mustSignature(b, ec.sig)
	ecPub := ec.signer.cert.PublicKey.(*ecdsa.PublicKey)
	ecWarm, err := NewVerifier(ec.p.opts())
	must(b, err)

	cmsSignML := func() {
		_, err := Sign(ctx, bytes.NewReader(bench1KiB), []*Signer{ml.signer}, o)
		must(b, err)
	}
	cmsSignEC := func() {
		_, err := Sign(ctx, bytes.NewReader(bench1KiB), []*Signer{ec.signer}, o)
		must(b, err)
	}
	pkcs7SignEC := func() {
		sd, err := pkcs7.NewSignedData(bench1KiB)
		must(b, err)
		sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
		must(b, sd.AddSigner(ec.signer.cert.Certificate, ec.signer.key, pkcs7.SignerInfoConfig{}))
		sd.AddCertificate(ec.p.sub.Certificate)
		sd.Detach()
		_, err = sd.Finish()
		must(b, err)
	}
	pkcs7VerifyEC := func() {
		p7, err := pkcs7.Parse(ec.sig)
		must(b, err)
		p7.Content = bench1KiB
		must(b, p7.Verify())
	}
	cases := []struct {
		name      string
		ours, ref func()
	}{
		{"SignMLDSA65_1KiB/vs-raw-circl", cmsSignML, func() {
			d := sha512.Sum512(bench1KiB)
			copy(mlMsg, d[:])
			must(b, mldsa65.SignTo(mlKey, mlMsg, nil, true, mlOut))
		}},
		{"VerifyMLDSA65_1KiB_Cold/vs-raw-parse-verify", func() {
			_, err := Verify(ml.sig, bytes.NewReader(bench1KiB), ml.p.opts())
			must(b, err)
		}, func() {
			pub, _, err := alg.ParsePKIXPublicKey(mlSPKI)
			must(b, err)
			sha512.Sum512(bench1KiB)
			if !mldsa65.Verify(pub.(*mldsa65.PublicKey), mlAttrs, nil, mlSig) {
				b.Fatal("bad")
			}
		}},
		{"VerifyMLDSA65_1KiB_ColdStore/vs-raw-parse-verify", func() {
			// Nothing cached anywhere: a new Store too (parses both certificates, verifies the chain's
			// two ML-DSA certificate signatures).
			o := ml.p.opts()
			o.Store = truststore.NewStore(ml.p.root)
			_, err := Verify(ml.sig, bytes.NewReader(bench1KiB), o)
			must(b, err)
		}, func() {
			pub, _, err := alg.ParsePKIXPublicKey(mlSPKI)
			must(b, err)
			sha512.Sum512(bench1KiB)
			if !mldsa65.Verify(pub.(*mldsa65.PublicKey), mlAttrs, nil, mlSig) {
				b.Fatal("bad")
			}
		}},
		{"VerifyMLDSA65_1KiB_Warm/vs-raw-verify", func() {
			_, err := mlWarm.Verify(ml.sig, bytes.NewReader(bench1KiB))
			must(b, err)
		}, func() {
			sha512.Sum512(bench1KiB)
			if !mldsa65.Verify(mlPub, mlAttrs, nil, mlSig) {
				b.Fatal("bad")
			}
		}},
		{"SignECDSAP256_1KiB/vs-raw", cmsSignEC, func() {
			d := sha256.Sum256(bench1KiB)
			_, err := ecdsa.SignASN1(rand.Reader, ecKey, d[:])
			must(b, err)
		}},
		{"SignECDSAP256_1KiB/vs-pkcs7", cmsSignEC, pkcs7SignEC},
		{"VerifyECDSAP256_1KiB_Warm/vs-raw", func() {
			_, err := ecWarm.Verify(ec.sig, bytes.NewReader(bench1KiB))
			must(b, err)
		}, func() {
			sha256.Sum256(bench1KiB)
			d := sha256.Sum256(ecAttrs)
			if !ecdsa.VerifyASN1(ecPub, d[:], ecSig) {
				b.Fatal("bad")
			}
		}},
		{"VerifyECDSAP256_1KiB_Warm/vs-pkcs7", func() {
			_, err := ecWarm.Verify(ec.sig, bytes.NewReader(bench1KiB))
			must(b, err)
		}, pkcs7VerifyEC},
		{"VerifyECDSAP256_1KiB_Cold/vs-pkcs7", func() {
			_, err := Verify(ec.sig, bytes.NewReader(bench1KiB), ec.p.opts())
			must(b, err)
		}, pkcs7VerifyEC},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) { paired(b, tc.ours, tc.ref) })
	}
	n := streamSize(b)
	buf := make([]byte, 256<<10)
	b.Run("SignStreamMLDSA65/vs-raw-sha512", func(b *testing.B) {
		b.SetBytes(n)
		paired(b, func() {
			_, err := Sign(ctx, &patternReader{n}, []*Signer{ml.signer}, o)
			must(b, err)
		}, func() {
			h := sha512.New()
			_, err := io.CopyBuffer(h, &patternReader{n}, buf)
			must(b, err)
			h.Sum(nil)
		})
	})
}

const mlds65SigSize = mldsa65.SignatureSize
