package localkms

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/pkikit/pkikit/internal/alg"
	"github.com/pkikit/pkikit/kmssigner"
)

func countRecords(recs []AuditRecord) map[string]int {
	m := map[string]int{}
	for _, r := range recs {
		m[r.Operation+" "+r.KeyID+" "+r.Caller+" "+r.Outcome]++
	}
	return m
}

// 16 goroutines signing through one KMS produce exactly one record per signature, on disk (fsync per record)
// and in memory.
func TestAuditConcurrentSigns(t *testing.T) {
	const workers, each = 16, 20
	for _, persistent := range []bool{true, false} {
		t.Run(fmt.Sprintf("persistent=%v", persistent), func(t *testing.T) {
			var k *KMS
			var err error
			dir := t.TempDir()
			if persistent {
				k, err = Open(dir, &Options{MasterKey: testMasterKey})
				if err != nil {
					t.Fatal(err)
				}
				defer k.Close()
			} else {
				k = NewMemory(nil)
			}
			id := mustCreate(t, k, "ECC_NIST_P256")
			var wg sync.WaitGroup
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ctx := WithCaller(context.Background(), fmt.Sprintf("worker-%02d", w))
					d := make([]byte, 32)
					for range each {
						if _, err := k.Sign(ctx, &kmssigner.SignRequest{KeyID: id, Message: d, MessageType: "DIGEST", SigningAlgorithm: "ECDSA_SHA_256"}); err != nil {
							t.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			recs, err := k.AuditLog()
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != 1+workers*each {
				t.Fatalf("%d records, want %d", len(recs), 1+workers*each)
			}
			got := countRecords(recs)
			if got["CreateKey "+id+" in-process Success"] != 1 {
				t.Fatalf("no CreateKey record: %v", got)
			}
			for w := range workers {
				if n := got[fmt.Sprintf("Sign %s worker-%02d Success", id, w)]; n != each {
					t.Fatalf("worker %d: %d records", w, n)
				}
			}
			for _, r := range recs[1:] {
				if r.Detail != "ECDSA_SHA_256 DIGEST" || time.Since(r.Time) > time.Minute {
					t.Fatalf("record %+v", r)
				}
			}
			if persistent {
				st, err := os.Stat(filepath.Join(dir, AuditFile))
				if err != nil || st.Mode().Perm() != 0o600 {
					t.Fatalf("%v %v", err, st)
				}
			}
		})
	}
}

// Records carry the injected clock, the caller and the outcome of refusals.
func TestAuditRecordsOutcomesAndClock(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	k := NewMemory(&Options{Now: func() time.Time { return now }, WeakExportKDFUnsafe: true, Audit: AuditOptions{Caller: "unit-test"}})
	ctx := context.Background()
	id := mustCreate(t, k, "ECC_NIST_EDWARDS25519")
	k.Sign(ctx, &kmssigner.SignRequest{KeyID: "alias/missing", Message: []byte("m"), SigningAlgorithm: "ED25519_SHA_512"})
	k.Sign(ctx, &kmssigner.SignRequest{KeyID: id, Message: []byte("m"), SigningAlgorithm: "ECDSA_SHA_256"})
	k.ExportKey(ctx, &ExportKeyInput{KeyId: id, Passphrase: []byte(testExportPass), Iterations: weakExport})
	k.GetPublicKey(WithCaller(ctx, "someone"), id)
	recs, _ := k.AuditLog()
	want := []AuditRecord{
		{Time: now, Operation: "CreateKey", KeyID: id, Caller: "unit-test", Outcome: AuditSuccess, Detail: "ECC_NIST_EDWARDS25519"},
		{Time: now, Operation: "Sign", KeyID: "alias/missing", Caller: "unit-test", Outcome: CodeNotFound, Detail: "ED25519_SHA_512 "},
		{Time: now, Operation: "Sign", KeyID: id, Caller: "unit-test", Outcome: CodeInvalidKeyUsage, Detail: "ECDSA_SHA_256 "},
		{Time: now, Operation: "ExportKey", KeyID: id, Caller: "unit-test", Outcome: CodeKeyNotExportable, Detail: "PBES2 PBKDF2-HMAC-SHA256 iterations=1000 AES-256-CBC"},
		{Time: now, Operation: "GetPublicKey", KeyID: id, Caller: "someone", Outcome: AuditSuccess},
	}
	if len(recs) != len(want) {
		t.Fatalf("%d records: %+v", len(recs), recs)
	}
	for i := range want {
		if !recs[i].Time.Equal(want[i].Time) || recs[i].Operation != want[i].Operation || recs[i].KeyID != want[i].KeyID ||
			recs[i].Caller != want[i].Caller || recs[i].Outcome != want[i].Outcome || recs[i].Detail != want[i].Detail {
			t.Fatalf("record %d = %+v, want %+v", i, recs[i], want[i])
		}
	}
}

// The memory log keeps the last MaxMemoryRecords records, oldest first.
func TestAuditMemoryBound(t *testing.T) {
	k := NewMemory(&Options{Audit: AuditOptions{MaxMemoryRecords: 3}})
	var ids []string
	for range 5 {
		ids = append(ids, mustCreate(t, k, "ECC_NIST_P256"))
	}
	recs, _ := k.AuditLog()
	if len(recs) != 3 || recs[0].KeyID != ids[2] || recs[2].KeyID != ids[4] {
		t.Fatalf("%+v", recs)
	}
}

// A record torn by a crash (a last line without its newline) is skipped on read; the next writer starts a new
// line, so later records read back and the torn one stays skipped.
func TestAuditTornLastLine(t *testing.T) {
	dir := t.TempDir()
	k, err := Open(dir, &Options{MasterKey: testMasterKey, Audit: AuditOptions{Sync: AuditSyncNever}})
	if err != nil {
		t.Fatal(err)
	}
	id := mustCreate(t, k, "ECC_NIST_P256")
	k.Close()
	path := filepath.Join(dir, AuditFile)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"time":"2030-01-01T00:00:00Z","op":"Sign","keyId":"` + id[:10])
	f.Close()
	recs, torn, err := ReadAuditLog(dir)
	if err != nil || len(recs) != 1 || torn != 1 {
		t.Fatalf("%v %d records %d torn", err, len(recs), torn)
	}
	k, err = Open(dir, &Options{MasterKey: testMasterKey})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	if _, err := k.Sign(context.Background(), &kmssigner.SignRequest{KeyID: id, Message: []byte("m"), SigningAlgorithm: "ECDSA_SHA_256"}); err != nil {
		t.Fatal(err)
	}
	recs, torn, err = ReadAuditLog(dir)
	if err != nil || len(recs) != 2 || torn != 1 || recs[1].Operation != "Sign" || recs[1].Outcome != AuditSuccess {
		t.Fatalf("%v %+v %d torn", err, recs, torn)
	}
}

// An operation whose audit record cannot be written fails and returns nothing.
func TestAuditFailureFailsOperation(t *testing.T) {
	dir := t.TempDir()
	k, err := Open(dir, &Options{MasterKey: testMasterKey, WeakExportKDFUnsafe: true})
	if err != nil {
		t.Fatal(err)
	}
	id := createExportable(t, k, "ECC_NIST_P256", true)
	k.Close()
	path := filepath.Join(dir, AuditFile)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(path, 0o700); err != nil { // the log can no longer be opened
		t.Fatal(err)
	}
	sig, err := k.Sign(context.Background(), &kmssigner.SignRequest{KeyID: id, Message: []byte("m"), SigningAlgorithm: "ECDSA_SHA_256"})
	if sig != nil || !errors.Is(err, ErrAudit) {
		t.Fatalf("sig=%x err=%v", sig, err)
	}
	wantCode(t, err, CodeInternal)
	out, err := k.ExportKey(context.Background(), &ExportKeyInput{KeyId: id, Passphrase: []byte(testExportPass), Iterations: weakExport})
	if out != nil || !errors.Is(err, ErrAudit) {
		t.Fatalf("export: %v", err)
	}
}

// The log never holds the export passphrase, the private key (PKCS#8, seed), the message or the signature.
func TestAuditHoldsNoSecrets(t *testing.T) {
	dir := t.TempDir()
	k, err := Open(dir, &Options{MasterKey: testMasterKey, WeakExportKDFUnsafe: true})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	ctx := context.Background()
	pass := []byte("the-export-passphrase-4711")
	msg := []byte("a message whose bytes must not be logged")
	var secrets [][]byte
	for _, spec := range []string{"ECC_NIST_P256", "ML_DSA_65"} {
		id := createExportable(t, k, spec, true)
		sig, err := k.Sign(ctx, &kmssigner.SignRequest{KeyID: id, Message: msg, SigningAlgorithm: map[string]string{"ECC_NIST_P256": "ECDSA_SHA_256", "ML_DSA_65": "ML_DSA_SHAKE_256"}[spec]})
		if err != nil {
			t.Fatal(err)
		}
		out, err := k.ExportKey(ctx, &ExportKeyInput{KeyId: id, Passphrase: pass, Iterations: weakExport})
		if err != nil {
			t.Fatal(err)
		}
		key, err := DecryptPKCS8(out.PEM, pass)
		if err != nil {
			t.Fatal(err)
		}
		p8, _ := alg.MarshalPKCS8PrivateKey(key)
		secrets = append(secrets, p8, sig, out.EncryptedPrivateKey[len(out.EncryptedPrivateKey)-32:])
		if seed := alg.MLDSASeed(key); seed != nil {
			secrets = append(secrets, seed)
		}
		if ek, ok := key.(*ecdsa.PrivateKey); ok {
			d, _ := ek.Bytes()
			secrets = append(secrets, d)
		}
	}
	secrets = append(secrets, pass, msg)
	log, err := os.ReadFile(filepath.Join(dir, AuditFile))
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(log, []byte("\n")); n != 6 {
		t.Fatalf("%d records", n)
	}
	for i, s := range secrets {
		for _, enc := range [][]byte{s, []byte(hex.EncodeToString(s)), []byte(base64.StdEncoding.EncodeToString(s)), []byte(base64.RawURLEncoding.EncodeToString(s))} {
			if bytes.Contains(log, enc) {
				t.Fatalf("secret %d found in the audit log", i)
			}
		}
	}
}
