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

// Diagnostics, not the comparison: the signer's own path with verify-after-sign off, called directly (alg.Sign
// would verify a signer that does not verify itself), to separate the KMS path's overhead from the cost of
// verification; and the local verification alone.

func benchSignerNoVerify(b *testing.B, spec string, a alg.Algorithm) {
	k := localkms.NewMemory(nil)
	id := createKey(b, k, spec)
	s, err := kmssigner.New(context.Background(), k, id, &kmssigner.Options{SkipVerifyUnsafe: true})
	if err != nil {
		b.Fatal(err)
	}
	msg := make([]byte, 1500)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	opts := a.SignerOpts()
	for i := 0; i < b.N; i++ {
		if _, err := s.SignMessageContext(ctx, nil, msg, opts); err != nil {
			b.Fatal(err)
		}
	}
}

func benchVerify(b *testing.B, kt alg.KeyType, a alg.Algorithm) {
	key, err := alg.GenerateKey(kt)
	if err != nil {
		b.Fatal(err)
	}
	msg := make([]byte, 1500)
	sig, err := alg.Sign(context.Background(), key, a, msg)
	if err != nil {
		b.Fatal(err)
	}
	pub := key.Public()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := alg.Verify(pub, a, msg, sig); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSignECDSAP256_LocalKMSNoVerifyUnsafe(b *testing.B) {
	benchSignerNoVerify(b, kmssigner.KeySpecECCNISTP256, alg.ECDSAWithSHA256)
}
func BenchmarkVerifyECDSAP256_Local(b *testing.B) {
	benchVerify(b, alg.KeyECDSAP256, alg.ECDSAWithSHA256)
}
func BenchmarkSignMLDSA65_LocalKMSNoVerifyUnsafe(b *testing.B) {
	benchSignerNoVerify(b, kmssigner.KeySpecMLDSA65, alg.MLDSA65)
}
func BenchmarkVerifyMLDSA65_Local(b *testing.B) { benchVerify(b, alg.KeyMLDSA65, alg.MLDSA65) }
