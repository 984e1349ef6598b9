package localkms

import (
	"context"
	"testing"

	"github.com/pkikit/pkikit/kmssigner"
)

// The audit log's cost on the signing path: Sign on an in-process KMS with the log in memory, and on disk with
// each fsync policy (serial, and 16-way parallel for the group-committed fsync), next to the bare record append.

func benchSign(b *testing.B, k *KMS, parallel bool) {
	id := mustCreate(b, k, "ECC_NIST_P256")
	req := &kmssigner.SignRequest{KeyID: id, Message: make([]byte, 32), MessageType: "DIGEST", SigningAlgorithm: "ECDSA_SHA_256"}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	if parallel {
		b.SetParallelism(8) // 16 goroutines on 2 CPUs
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := k.Sign(ctx, req); err != nil {
					b.Error(err)
					return
				}
			}
		})
		return
	}
	for b.Loop() {
		if _, err := k.Sign(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

func openBench(b *testing.B, a AuditOptions) *KMS {
	k, err := Open(b.TempDir(), &Options{MasterKey: testMasterKey, Audit: a})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { k.Close() })
	return k
}

func BenchmarkSignECDSAP256_AuditMemory(b *testing.B) { benchSign(b, NewMemory(nil), false) }
func BenchmarkSignECDSAP256_AuditDiskFsyncEvery(b *testing.B) {
	benchSign(b, openBench(b, AuditOptions{}), false)
}
func BenchmarkSignECDSAP256_AuditDiskFsyncEveryParallel16(b *testing.B) {
	benchSign(b, openBench(b, AuditOptions{}), true)
}
func BenchmarkSignECDSAP256_AuditDiskSyncPeriodic(b *testing.B) {
	benchSign(b, openBench(b, AuditOptions{Sync: AuditSyncPeriodic}), false)
}
func BenchmarkSignECDSAP256_AuditDiskSyncNever(b *testing.B) {
	benchSign(b, openBench(b, AuditOptions{Sync: AuditSyncNever}), false)
}

// The record alone (what the audit log adds to every Sign), in memory and written without fsync.
func BenchmarkAuditRecord_Memory(b *testing.B) {
	k := NewMemory(nil)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		k.record(ctx, "Sign", "1234abcd-12ab-34cd-56ef-1234567890ab", "ECDSA_SHA_256 DIGEST", nil)
	}
}

func BenchmarkAuditRecord_DiskSyncNever(b *testing.B) {
	k := openBench(b, AuditOptions{Sync: AuditSyncNever})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		k.record(ctx, "Sign", "1234abcd-12ab-34cd-56ef-1234567890ab", "ECDSA_SHA_256 DIGEST", nil)
	}
}
