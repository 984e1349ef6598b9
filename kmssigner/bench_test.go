package kmssigner_test

import (
	"context"
	"testing"

	"github.com/pkikit/pkikit/internal/alg"
	"github.com/pkikit/pkikit/kmssigner"
	"github.com/pkikit/pkikit/kmssigner/localkms"
)

// The signer over in-process localkms (verify-after-sign on, as always) next to the bare in-memory key, both
// through alg.Sign.

func benchSigner(b *testing.B, spec string, a alg.Algorithm) {
	k := localkms.NewMemory(nil)
	id := createKey(b, k, spec)
	s, err := kmssigner.New(context.Background(), k, id, nil)
	if err != nil {
		b.Fatal(err)
	}
	msg := make([]byte, 1500)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := alg.Sign(ctx, s, a, msg); err != nil {
			b.Fatal(err)
		}
	}
}

func benchBare(b *testing.B, kt alg.KeyType, a alg.Algorithm) {
	key, err := alg.GenerateKey(kt)
	if err != nil {
		b.Fatal(err)
	}
	msg := make([]byte, 1500)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := alg.Sign(ctx, key, a, msg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSignECDSAP256_LocalKMS(b *testing.B) {
	benchSigner(b, kmssigner.KeySpecECCNISTP256, alg.ECDSAWithSHA256)
}
func BenchmarkSignECDSAP256_BareKey(b *testing.B) {
	benchBare(b, alg.KeyECDSAP256, alg.ECDSAWithSHA256)
}
func BenchmarkSignMLDSA65_LocalKMS(b *testing.B) {
	benchSigner(b, kmssigner.KeySpecMLDSA65, alg.MLDSA65)
}
func BenchmarkSignMLDSA65_BareKey(b *testing.B) { benchBare(b, alg.KeyMLDSA65, alg.MLDSA65) }
