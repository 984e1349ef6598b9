package truststore

import (
	"crypto/x509"
	"syscall"
	"testing"
	"time"

	"github.com/pkikit/pkikit/internal/alg"
	"github.com/pkikit/pkikit/x509ext"
)

// cpuTime returns the process's user+system CPU time. The benchmarks report it per operation ("cpu-ns/op")
// next to wall time: on a shared machine wall time measures the neighbours, CPU time measures the work.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loop runs body b.N times (b.Loop) and reports CPU time per operation.
func loop(b *testing.B, body func()) {
	b.ReportAllocs()
	start := cpuTime()
	n := 0
	for b.Loop() {
		body()
		n++
	}
	if n > 0 {
		b.ReportMetric(float64(cpuTime()-start)/float64(n), "cpu-ns/op")
	}
}

// resetCaches empties the store's caches, as for a running store that meets a chain it has never seen: the
// maps keep their storage (clear, not nil), as they would in a store that has been in use.
func (s *Store) resetCaches() {
	s.cacheMu.Lock()
	clear(s.parsed)
	clear(s.sigOK)
	s.cacheMu.Unlock()
}

// ECDSA P-256 root → intermediate → leaf: Verify (cold: caches cleared every iteration; warm: the store has
// seen the intermediate) next to crypto/x509's Verify on the same chain.
func BenchmarkVerifyECDSAP256Cold(b *testing.B) {
	ch := mkChain(b, alg.KeyECDSAP256, alg.KeyECDSAP256, alg.KeyECDSAP256)
	s := NewStore(ch.root)
	opts := VerifyOptions{Time: testNow, Intermediates: []*x509ext.Certificate{ch.inter}}
	loop(b, func() {
		s.resetCaches()
		if _, err := s.Verify(ch.leaf, opts); err != nil {
			b.Fatal(err)
		}
	})
}

func BenchmarkVerifyECDSAP256Warm(b *testing.B) {
	ch := mkChain(b, alg.KeyECDSAP256, alg.KeyECDSAP256, alg.KeyECDSAP256)
	s := NewStore(ch.root)
	opts := VerifyOptions{Time: testNow, Intermediates: []*x509ext.Certificate{ch.inter}}
	if _, err := s.Verify(ch.leaf, opts); err != nil {
		b.Fatal(err)
	}
	loop(b, func() {
		if _, err := s.Verify(ch.leaf, opts); err != nil {
			b.Fatal(err)
		}
	})
}

func BenchmarkVerifyECDSAP256_StdlibPeer(b *testing.B) {
	ch := mkChain(b, alg.KeyECDSAP256, alg.KeyECDSAP256, alg.KeyECDSAP256)
	roots, inters := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(ch.root.Certificate)
	inters.AddCert(ch.inter.Certificate)
	opts := x509.VerifyOptions{Roots: roots, Intermediates: inters, CurrentTime: testNow}
	loop(b, func() {
		if _, err := ch.leaf.Certificate.Verify(opts); err != nil {
			b.Fatal(err)
		}
	})
}

// ML-DSA-65 root → intermediate → leaf. Cold: the store holds the anchor only (caches cleared); each iteration
// parses the intermediate and the leaf from DER and verifies both signatures. Its peer, RawWork, is the least any
// verifier must do: parse the two issuer public keys and verify the two signatures.
func BenchmarkVerifyMLDSA65Cold(b *testing.B) {
	ch := mkChain(b, alg.KeyMLDSA65, alg.KeyMLDSA65, alg.KeyMLDSA65)
	s := NewStore(ch.root)
	loop(b, func() {
		s.resetCaches()
		inter, err := s.ParseCertificate(ch.inter.Raw)
		if err != nil {
			b.Fatal(err)
		}
		leaf, err := s.ParseCertificate(ch.leaf.Raw)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Verify(leaf, VerifyOptions{Time: testNow, Intermediates: []*x509ext.Certificate{inter}}); err != nil {
			b.Fatal(err)
		}
	})
}

func BenchmarkVerifyMLDSA65Cold_RawWork(b *testing.B) {
	ch := mkChain(b, alg.KeyMLDSA65, alg.KeyMLDSA65, alg.KeyMLDSA65)
	loop(b, func() {
		rootPub, _, err := alg.ParsePKIXPublicKey(ch.root.RawSubjectPublicKeyInfo)
		if err != nil {
			b.Fatal(err)
		}
		interPub, _, err := alg.ParsePKIXPublicKey(ch.inter.RawSubjectPublicKeyInfo)
		if err != nil {
			b.Fatal(err)
		}
		if err := alg.Verify(rootPub, alg.MLDSA65, ch.inter.RawTBSCertificate, ch.inter.Signature); err != nil {
			b.Fatal(err)
		}
		if err := alg.Verify(interPub, alg.MLDSA65, ch.leaf.RawTBSCertificate, ch.leaf.Signature); err != nil {
			b.Fatal(err)
		}
	})
}

// Warm: the store has verified the intermediate before, so only the leaf's signature is checked. Its peer is the
// two raw verifies of a cold chain (the goal: warm ≤ 1.1× two verifies).
func BenchmarkVerifyMLDSA65Warm(b *testing.B) {
	ch := mkChain(b, alg.KeyMLDSA65, alg.KeyMLDSA65, alg.KeyMLDSA65)
	s := NewStore(ch.root)
	opts := VerifyOptions{Time: testNow, Intermediates: []*x509ext.Certificate{ch.inter}}
	if _, err := s.Verify(ch.leaf, opts); err != nil {
		b.Fatal(err)
	}
	loop(b, func() {
		if _, err := s.Verify(ch.leaf, opts); err != nil {
			b.Fatal(err)
		}
	})
}

func BenchmarkVerifyMLDSA65Warm_TwoRawVerifies(b *testing.B) {
	ch := mkChain(b, alg.KeyMLDSA65, alg.KeyMLDSA65, alg.KeyMLDSA65)
	loop(b, func() {
		if err := alg.Verify(ch.root.PublicKey, alg.MLDSA65, ch.inter.RawTBSCertificate, ch.inter.Signature); err != nil {
			b.Fatal(err)
		}
		if err := alg.Verify(ch.inter.PublicKey, alg.MLDSA65, ch.leaf.RawTBSCertificate, ch.leaf.Signature); err != nil {
			b.Fatal(err)
		}
	})
}

// Same parsing on both sides: the store's Cold benchmark parses the intermediate and the leaf from DER
// (x509ext.ParseCertificate, public keys included) and has the anchor parsed when it was added; this peer does
// exactly that parsing and the two verifications, and nothing else. The difference is Verify's own work.
func BenchmarkVerifyMLDSA65Cold_ParsePeer(b *testing.B) {
	ch := mkChain(b, alg.KeyMLDSA65, alg.KeyMLDSA65, alg.KeyMLDSA65)
	loop(b, func() { mldsaParsePeer(b, ch) })
}

func mldsaParsePeer(b *testing.B, ch *testChain) {
	inter, err := x509ext.ParseCertificate(ch.inter.Raw)
	if err != nil {
		b.Fatal(err)
	}
	leaf, err := x509ext.ParseCertificate(ch.leaf.Raw)
	if err != nil {
		b.Fatal(err)
	}
	if err := alg.Verify(ch.root.PublicKey, inter.SignatureAlgorithm, inter.RawTBSCertificate, inter.Signature); err != nil {
		b.Fatal(err)
	}
	if err := alg.Verify(inter.PublicKey, leaf.SignatureAlgorithm, leaf.RawTBSCertificate, leaf.Signature); err != nil {
		b.Fatal(err)
	}
}

// ColdParsed: Verify given already-parsed certificates (as x509.Verify is given *x509.Certificate values), with
// the store's caches cleared every iteration, so both signatures are verified. Its peer is TwoRawVerifies.
func BenchmarkVerifyMLDSA65ColdParsed(b *testing.B) {
	ch := mkChain(b, alg.KeyMLDSA65, alg.KeyMLDSA65, alg.KeyMLDSA65)
	s := NewStore(ch.root)
	opts := VerifyOptions{Time: testNow, Intermediates: []*x509ext.Certificate{ch.inter}}
	loop(b, func() {
		s.resetCaches()
		if _, err := s.Verify(ch.leaf, opts); err != nil {
			b.Fatal(err)
		}
	})
}
