//go:build cgo

package pkcs11

import (
	"context"
	"crypto"
	"testing"
	"time"

	"github.com/pkikit/pkikit/internal/alg"
	"github.com/pkikit/pkikit/kmssigner"
)

func benchSign(b *testing.B, s crypto.Signer, a alg.Algorithm) {
	ctx := context.Background()
	msg := []byte("benchmark message")
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		if _, err := alg.Sign(ctx, s, a, msg); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "signs/s")
}

// BenchmarkSignECDSAP256SoftHSM: kmssigner over a P-256 key in SoftHSM2 (sign on the token, verify locally).
func BenchmarkSignECDSAP256SoftHSM(b *testing.B) {
	c := newTestClient(b)
	s, err := kmssigner.New(context.Background(), c, "p256", nil)
	if err != nil {
		b.Fatal(err)
	}
	benchSign(b, s, alg.ECDSAWithSHA256)
}

// BenchmarkSignECDSAP256_StdlibPeer: the same signature with an in-memory key.
func BenchmarkSignECDSAP256_StdlibPeer(b *testing.B) {
	k, err := alg.GenerateKey(alg.KeyECDSAP256)
	if err != nil {
		b.Fatal(err)
	}
	benchSign(b, k, alg.ECDSAWithSHA256)
}

// BenchmarkSignRSA2048PSSSoftHSM: kmssigner over an RSA-2048 key in SoftHSM2, RSASSA-PSS SHA-256.
func BenchmarkSignRSA2048PSSSoftHSM(b *testing.B) {
	c := newTestClient(b)
	s, err := kmssigner.New(context.Background(), c, "rsa2048", nil)
	if err != nil {
		b.Fatal(err)
	}
	benchSign(b, s, alg.SHA256WithRSAPSS)
}

// BenchmarkSignRSA2048PSS_StdlibPeer: the same signature with an in-memory key.
func BenchmarkSignRSA2048PSS_StdlibPeer(b *testing.B) {
	k, err := alg.GenerateKey(alg.KeyRSA2048)
	if err != nil {
		b.Fatal(err)
	}
	benchSign(b, k, alg.SHA256WithRSAPSS)
}
