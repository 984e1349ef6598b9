//go:build linux

package truststore

import (
	"crypto/x509"
	"runtime"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/pkikit/pkikit/internal/alg"
	"github.com/pkikit/pkikit/x509ext"
)

// threadCPU returns the calling thread's CPU time (CLOCK_THREAD_CPUTIME_ID).
func threadCPU() time.Duration {
	const clockThreadCPUTimeID = 3
	var ts syscall.Timespec
	if _, _, e := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0); e != 0 {
		return 0
	}
	return time.Duration(ts.Nano())
}

// paired runs ours and peer alternately (the order swapped every iteration) on one locked OS thread and reports
// each side's thread CPU time per operation and their ratio. Separate benchmarks run seconds apart, and on a
// loaded machine the neighbours change in between; interleaving puts both sides under the same load.
func paired(b *testing.B, ours, peer func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	ours()
	peer()
	var tOurs, tPeer time.Duration
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		if n%2 == 0 {
			t0 := threadCPU()
			ours()
			t1 := threadCPU()
			peer()
			t2 := threadCPU()
			tOurs, tPeer = tOurs+t1-t0, tPeer+t2-t1
		} else {
			t0 := threadCPU()
			peer()
			t1 := threadCPU()
			ours()
			t2 := threadCPU()
			tPeer, tOurs = tPeer+t1-t0, tOurs+t2-t1
		}
		n++
	}
	if n > 0 && tPeer > 0 {
		b.ReportMetric(float64(tOurs)/float64(n), "ours-cpu-ns/op")
		b.ReportMetric(float64(tPeer)/float64(n), "peer-cpu-ns/op")
		b.ReportMetric(float64(tOurs)/float64(tPeer), "ratio")
	}
}

// BenchmarkPaired measures the goals with both sides interleaved:
//   - ECDSAP256Cold_vs_Stdlib: Verify with cleared caches vs x509.Verify, both given parsed certificates (goal ≤ 1.0);
//   - MLDSA65Cold_vs_RawWork: parse intermediate and leaf DER + Verify vs the raw work, 2 SPKI parses +
//     2 verifies (goal ≤ 1.1);
//   - MLDSA65Cold_vs_ParsePeer: the same vs the same certificate parsing + 2 verifies (no validation);
//   - MLDSA65ColdParsed_vs_TwoVerifies: Verify of parsed certificates with cleared caches vs 2 verifies;
//   - MLDSA65Warm_vs_TwoVerifies: a store that has seen the intermediate vs 2 verifies (goal ≤ 1.1).
func BenchmarkPaired(b *testing.B) {
	b.Run("ECDSAP256Cold_vs_Stdlib", func(b *testing.B) {
		ch := mkChain(b, alg.KeyECDSAP256, alg.KeyECDSAP256, alg.KeyECDSAP256)
		s := NewStore(ch.root)
		opts := VerifyOptions{Time: testNow, Intermediates: []*x509ext.Certificate{ch.inter}}
		roots, inters := x509.NewCertPool(), x509.NewCertPool()
		roots.AddCert(ch.root.Certificate)
		inters.AddCert(ch.inter.Certificate)
		xopts := x509.VerifyOptions{Roots: roots, Intermediates: inters, CurrentTime: testNow}
		paired(b, func() {
			s.resetCaches()
			if _, err := s.Verify(ch.leaf, opts); err != nil {
				b.Fatal(err)
			}
		}, func() {
			if _, err := ch.leaf.Certificate.Verify(xopts); err != nil {
				b.Fatal(err)
			}
		})
	})
	ml := mkChain(b, alg.KeyMLDSA65, alg.KeyMLDSA65, alg.KeyMLDSA65)
	mlStore := NewStore(ml.root)
	mlCold := func() {
		mlStore.resetCaches()
		inter, err := mlStore.ParseCertificate(ml.inter.Raw)
		if err != nil {
			b.Fatal(err)
		}
		leaf, err := mlStore.ParseCertificate(ml.leaf.Raw)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := mlStore.Verify(leaf, VerifyOptions{Time: testNow, Intermediates: []*x509ext.Certificate{inter}}); err != nil {
			b.Fatal(err)
		}
	}
	twoVerifies := func() {
		if err := alg.Verify(ml.root.PublicKey, alg.MLDSA65, ml.inter.RawTBSCertificate, ml.inter.Signature); err != nil {
			b.Fatal(err)
		}
		if err := alg.Verify(ml.inter.PublicKey, alg.MLDSA65, ml.leaf.RawTBSCertificate, ml.leaf.Signature); err != nil {
			b.Fatal(err)
		}
	}
	mlOpts := VerifyOptions{Time: testNow, Intermediates: []*x509ext.Certificate{ml.inter}}
	b.Run("MLDSA65Cold_vs_RawWork", func(b *testing.B) {
		paired(b, mlCold, func() {
			rootPub, _, err := alg.ParsePKIXPublicKey(ml.root.RawSubjectPublicKeyInfo)
			if err != nil {
				b.Fatal(err)
			}
			interPub, _, err := alg.ParsePKIXPublicKey(ml.inter.RawSubjectPublicKeyInfo)
			if err != nil {
				b.Fatal(err)
			}
			if err := alg.Verify(rootPub, alg.MLDSA65, ml.inter.RawTBSCertificate, ml.inter.Signature); err != nil {
				b.Fatal(err)
			}
			if err := alg.Verify(interPub, alg.MLDSA65, ml.leaf.RawTBSCertificate, ml.leaf.Signature); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("MLDSA65Cold_vs_ParsePeer", func(b *testing.B) {
		paired(b, mlCold, func() { mldsaParsePeer(b, ml) })
	})
	b.Run("MLDSA65ColdParsed_vs_TwoVerifies", func(b *testing.B) {
		paired(b, func() {
			mlStore.resetCaches()
			if _, err := mlStore.Verify(ml.leaf, mlOpts); err != nil {
				b.Fatal(err)
			}
		}, twoVerifies)
	})
	b.Run("MLDSA65Warm_vs_TwoVerifies", func(b *testing.B) {
		if _, err := mlStore.Verify(ml.leaf, mlOpts); err != nil {
			b.Fatal(err)
		}
		paired(b, func() {
			if _, err := mlStore.Verify(ml.leaf, mlOpts); err != nil {
				b.Fatal(err)
			}
		}, twoVerifies)
	})
}
