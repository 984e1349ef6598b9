package localkms

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"filippo.io/mldsa"
	"github.com/cloudflare/circl/sign/mldsa/mldsa44"

	"github.com/pkikit/pkikit/internal/alg"
	"github.com/pkikit/pkikit/kmssigner"
)

var cheapKDF = KDFParams{Time: 1, MemoryKiB: 1024, Threads: 1}

func mustCreate(t testing.TB, k *KMS, spec string) string {
	t.Helper()
	out, err := k.CreateKey(context.Background(), &CreateKeyInput{KeySpec: spec, KeyUsage: kmssigner.KeyUsageSignVerify, Description: "test " + spec})
	if err != nil {
		t.Fatalf("CreateKey %s: %v", spec, err)
	}
	return out.KeyMetadata.KeyId
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var ae *kmssigner.APIError
	if !errors.As(err, &ae) || ae.Code != code {
		t.Fatalf("err = %v, want %s", err, code)
	}
}

func TestCreateKeyValidation(t *testing.T) {
	k := NewMemory(nil)
	ctx := context.Background()
	for _, tc := range []struct {
		in   CreateKeyInput
		code string
	}{
		{CreateKeyInput{KeySpec: "ECC_NIST_P256", KeyUsage: "ENCRYPT_DECRYPT"}, CodeValidation},
		{CreateKeyInput{KeySpec: "ECC_NIST_P256"}, CodeValidation},
		{CreateKeyInput{KeySpec: "ECC_SECG_P256K1", KeyUsage: "SIGN_VERIFY"}, CodeUnsupportedOperation},
		{CreateKeyInput{KeySpec: "SYMMETRIC_DEFAULT", KeyUsage: "ENCRYPT_DECRYPT"}, CodeUnsupportedOperation},
		{CreateKeyInput{}, CodeUnsupportedOperation},
		{CreateKeyInput{KeySpec: "ML_DSA_44", KeyUsage: "SIGN_VERIFY", Origin: "EXTERNAL"}, CodeUnsupportedOperation},
		{CreateKeyInput{KeySpec: "ML_DSA_44", CustomerMasterKeySpec: "ML_DSA_65", KeyUsage: "SIGN_VERIFY"}, CodeValidation},
	} {
		_, err := k.CreateKey(ctx, &tc.in)
		wantCode(t, err, tc.code)
	}
	out, err := k.CreateKey(ctx, &CreateKeyInput{CustomerMasterKeySpec: "ML_DSA_44", KeyUsage: "SIGN_VERIFY"})
	if err != nil || out.KeyMetadata.KeySpec != "ML_DSA_44" || out.KeyMetadata.KeyState != KeyStateEnabled || !out.KeyMetadata.Enabled {
		t.Fatalf("deprecated CustomerMasterKeySpec: %v %+v", err, out)
	}
}

// Sign and Verify in every mode the spec allows, and the refusals AWS KMS makes.
func TestSignVerifyModes(t *testing.T) {
	k := NewMemory(nil)
	ctx := context.Background()
	msg := []byte("message")
	d256 := sha256.Sum256(msg)
	type call struct {
		mt, alg string
		msg     []byte
		code    string // "" = success
	}
	cases := map[string][]call{
		"ECC_NIST_P256": {
			{"RAW", "ECDSA_SHA_256", msg, ""},
			{"DIGEST", "ECDSA_SHA_256", d256[:], ""},
			{"DIGEST", "ECDSA_SHA_256", d256[:31], CodeValidation},
			{"RAW", "ECDSA_SHA_384", msg, CodeInvalidKeyUsage},
			{"EXTERNAL_MU", "ECDSA_SHA_256", make([]byte, 64), CodeValidation},
			{"RAW", "RSASSA_PSS_SHA_256", msg, CodeInvalidKeyUsage},
		},
		"RSA_2048": {
			{"RAW", "RSASSA_PSS_SHA_256", msg, ""},
			{"DIGEST", "RSASSA_PSS_SHA_256", d256[:], ""},
			{"DIGEST", "RSASSA_PKCS1_V1_5_SHA_256", d256[:], ""},
			{"RAW", "RSASSA_PKCS1_V1_5_SHA_512", msg, ""},
			{"DIGEST", "RSASSA_PKCS1_V1_5_SHA_384", d256[:], CodeValidation},
			{"RAW", "ECDSA_SHA_256", msg, CodeInvalidKeyUsage},
		},
		"ECC_NIST_EDWARDS25519": {
			{"RAW", "ED25519_SHA_512", msg, ""},
			{"RAW", "ED25519_SHA_512", make([]byte, 4096), ""},
			{"RAW", "ED25519_SHA_512", make([]byte, 4097), CodeValidation},
			{"DIGEST", "ED25519_SHA_512", make([]byte, 64), CodeValidation},
			{"RAW", "ED25519_PH_SHA_512", msg, CodeValidation},
		},
		"ML_DSA_44": {
			{"RAW", "ML_DSA_SHAKE_256", msg, ""},
			{"RAW", "ML_DSA_SHAKE_256", nil, CodeValidation},
			{"EXTERNAL_MU", "ML_DSA_SHAKE_256", make([]byte, 63), CodeValidation},
			{"DIGEST", "ML_DSA_SHAKE_256", d256[:], CodeValidation},
			{"RAW", "ECDSA_SHA_256", msg, CodeInvalidKeyUsage},
			{"BOGUS", "ML_DSA_SHAKE_256", msg, CodeValidation},
		},
	}
	for spec, calls := range cases {
		id := mustCreate(t, k, spec)
		for _, c := range calls {
			sig, err := k.Sign(ctx, &kmssigner.SignRequest{KeyID: id, Message: c.msg, MessageType: c.mt, SigningAlgorithm: c.alg})
			if c.code != "" {
				wantCode(t, err, c.code)
				continue
			}
			if err != nil {
				t.Fatalf("%s %s %s: %v", spec, c.mt, c.alg, err)
			}
			out, err := k.Verify(ctx, &VerifyInput{KeyId: id, Message: c.msg, MessageType: c.mt, Signature: sig, SigningAlgorithm: c.alg})
			if err != nil || !out.SignatureValid {
				t.Fatalf("%s %s %s: Verify: %v", spec, c.mt, c.alg, err)
			}
			bad := bytes.Clone(sig)
			bad[len(bad)-1] ^= 1
			_, err = k.Verify(ctx, &VerifyInput{KeyId: id, Message: c.msg, MessageType: c.mt, Signature: bad, SigningAlgorithm: c.alg})
			wantCode(t, err, CodeInvalidSignature)
		}
	}
	// DIGEST and RAW of the same message give signatures that verify under the same digest.
	id := mustCreate(t, k, "ECC_NIST_P384")
	sig, _ := k.Sign(ctx, &kmssigner.SignRequest{KeyID: id, Message: msg, MessageType: "RAW", SigningAlgorithm: "ECDSA_SHA_384"})
	info, _ := k.GetPublicKey(ctx, id)
	pub, _, _ := alg.ParsePKIXPublicKey(info.PublicKey)
	if err := alg.Verify(pub, alg.ECDSAWithSHA384, msg, sig); err != nil {
		t.Fatal(err)
	}
}

// EXTERNAL_MU signs μ with the stored seed: the signature verifies as pure ML-DSA of the message.
func TestSignExternalMu(t *testing.T) {
	k := NewMemory(nil)
	ctx := context.Background()
	id := mustCreate(t, k, "ML_DSA_44")
	info, err := k.GetPublicKey(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	pub, _, err := alg.ParsePKIXPublicKey(info.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	msg := bytes.Repeat([]byte("x"), 9000)
	mu, _ := alg.ExternalMu(pub.(*mldsa44.PublicKey).Bytes(), nil, msg)
	sig, err := k.Sign(ctx, &kmssigner.SignRequest{KeyID: id, Message: mu[:], MessageType: "EXTERNAL_MU", SigningAlgorithm: "ML_DSA_SHAKE_256"})
	if err != nil {
		t.Fatal(err)
	}
	if err := alg.Verify(pub, alg.MLDSA44, msg, sig); err != nil {
		t.Fatal(err)
	}
	fpub, _ := mldsa.NewPublicKey(mldsa.MLDSA44(), pub.(*mldsa44.PublicKey).Bytes())
	if err := mldsa.Verify(fpub, msg, sig, nil); err != nil {
		t.Fatal(err)
	}
	_, err = k.Verify(ctx, &VerifyInput{KeyId: id, Message: mu[:], MessageType: "EXTERNAL_MU", Signature: sig, SigningAlgorithm: "ML_DSA_SHAKE_256"})
	wantCode(t, err, CodeUnsupportedOperation)
}

func TestAliasesAndListing(t *testing.T) {
	k := NewMemory(nil)
	ctx := context.Background()
	ids := map[string]bool{}
	for i := 0; i < 5; i++ {
		ids[mustCreate(t, k, "ECC_NIST_P256")] = true
	}
	var first string
	for id := range ids {
		first = id
		break
	}
	if _, err := k.CreateAlias(ctx, &CreateAliasInput{AliasName: "alias/Team/CA_1", TargetKeyId: first}); err != nil {
		t.Fatal(err)
	}
	_, err := k.CreateAlias(ctx, &CreateAliasInput{AliasName: "alias/Team/CA_1", TargetKeyId: first})
	wantCode(t, err, CodeAlreadyExists)
	_, err = k.CreateAlias(ctx, &CreateAliasInput{AliasName: "alias/aws/x", TargetKeyId: first})
	wantCode(t, err, CodeInvalidAliasName)
	_, err = k.CreateAlias(ctx, &CreateAliasInput{AliasName: "nope", TargetKeyId: first})
	wantCode(t, err, CodeValidation)
	_, err = k.CreateAlias(ctx, &CreateAliasInput{AliasName: "alias/x", TargetKeyId: "alias/Team/CA_1"})
	wantCode(t, err, CodeValidation)
	_, err = k.CreateAlias(ctx, &CreateAliasInput{AliasName: "alias/x", TargetKeyId: "no-such-key"})
	wantCode(t, err, CodeNotFound)
	// Alias ARN resolves.
	d, err := k.DescribeKey(ctx, &DescribeKeyInput{KeyId: "arn:aws:kms:us-east-1:111122223333:alias/Team/CA_1"})
	if err != nil || d.KeyMetadata.KeyId != first {
		t.Fatalf("alias ARN: %v", err)
	}
	_, err = k.DescribeKey(ctx, &DescribeKeyInput{KeyId: "arn:aws:kms:eu-west-1:111122223333:key/" + first})
	wantCode(t, err, CodeNotFound)
	// Paging through ListKeys with Limit 2.
	seen := map[string]bool{}
	marker := ""
	for pages := 0; ; pages++ {
		out, err := k.ListKeys(ctx, &ListKeysInput{Limit: 2, Marker: marker})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range out.Keys {
			if seen[e.KeyId] || e.KeyArn != k.keyARN(e.KeyId) {
				t.Fatalf("bad entry %+v", e)
			}
			seen[e.KeyId] = true
		}
		if !out.Truncated {
			break
		}
		marker = out.NextMarker
		if pages > 5 {
			t.Fatal("paging does not end")
		}
	}
	if len(seen) != len(ids) {
		t.Fatalf("listed %d of %d keys", len(seen), len(ids))
	}
	_, err = k.ListKeys(ctx, &ListKeysInput{Limit: 1001})
	wantCode(t, err, CodeValidation)
	_, err = k.ListKeys(ctx, &ListKeysInput{Marker: "!!"})
	wantCode(t, err, CodeInvalidMarker)
	la, err := k.ListAliases(ctx, &ListAliasesInput{KeyId: first})
	if err != nil || len(la.Aliases) != 1 || la.Aliases[0].AliasName != "alias/Team/CA_1" || la.Aliases[0].TargetKeyId != first {
		t.Fatalf("ListAliases: %v %+v", err, la)
	}
}

func TestScheduleKeyDeletion(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	k := NewMemory(&Options{Now: func() time.Time { return now }})
	ctx := context.Background()
	id := mustCreate(t, k, "ECC_NIST_P256")
	k.CreateAlias(ctx, &CreateAliasInput{AliasName: "alias/doomed", TargetKeyId: id})
	_, err := k.ScheduleKeyDeletion(ctx, &ScheduleKeyDeletionInput{KeyId: id, PendingWindowInDays: 6})
	wantCode(t, err, CodeValidation)
	out, err := k.ScheduleKeyDeletion(ctx, &ScheduleKeyDeletionInput{KeyId: id, PendingWindowInDays: 7})
	if err != nil || out.KeyState != KeyStatePendingDeletion || out.DeletionDate.Time() != now.Add(7*24*time.Hour) {
		t.Fatalf("%v %+v", err, out)
	}
	_, err = k.ScheduleKeyDeletion(ctx, &ScheduleKeyDeletionInput{KeyId: id})
	wantCode(t, err, CodeInvalidState)
	_, err = k.Sign(ctx, &kmssigner.SignRequest{KeyID: "alias/doomed", Message: []byte("m"), SigningAlgorithm: "ECDSA_SHA_256"})
	wantCode(t, err, CodeInvalidState)
	_, err = k.GetPublicKey(ctx, id)
	wantCode(t, err, CodeInvalidState)
	d, err := k.DescribeKey(ctx, &DescribeKeyInput{KeyId: id})
	if err != nil || d.KeyMetadata.KeyState != KeyStatePendingDeletion || d.KeyMetadata.Enabled || *d.KeyMetadata.PendingDeletionWindowInDays != 7 {
		t.Fatalf("DescribeKey: %v %+v", err, d)
	}
	now = now.Add(7*24*time.Hour + time.Second)
	_, err = k.DescribeKey(ctx, &DescribeKeyInput{KeyId: id})
	wantCode(t, err, CodeNotFound)
	la, _ := k.ListAliases(ctx, nil)
	if len(la.Aliases) != 0 {
		t.Fatal("alias of a deleted key survives")
	}
}

func TestFaults(t *testing.T) {
	k := NewMemory(nil)
	ctx := context.Background()
	id := mustCreate(t, k, "ECC_NIST_P256")
	sign := func(ctx context.Context) error {
		_, err := k.Sign(ctx, &kmssigner.SignRequest{KeyID: id, Message: []byte("m"), SigningAlgorithm: "ECDSA_SHA_256"})
		return err
	}
	t.Run("ThrottleFirst", func(t *testing.T) {
		k.SetFaults(Faults{ThrottleFirst: 2})
		wantCode(t, sign(ctx), CodeThrottling)
		wantCode(t, sign(ctx), CodeThrottling)
		if err := sign(ctx); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ThrottleRate", func(t *testing.T) {
		k.SetFaults(Faults{ThrottleRate: 0.05, Ops: []string{"Sign"}})
		n := 0
		for i := 0; i < 200; i++ {
			if err := sign(ctx); err != nil {
				wantCode(t, err, CodeThrottling)
				n++
			}
		}
		if n != 10 || k.Throttled() != 10 {
			t.Fatalf("throttled %d of 200, want 10", n)
		}
		if _, err := k.GetPublicKey(ctx, id); err != nil {
			t.Fatalf("Ops restriction ignored: %v", err)
		}
	})
	t.Run("FirstAttemptOnly", func(t *testing.T) {
		k.SetFaults(Faults{ThrottleFirst: 100, ThrottleFirstAttemptOnly: true})
		wantCode(t, sign(withAttempt(ctx, 1)), CodeThrottling)
		if err := sign(withAttempt(ctx, 2)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("Latency", func(t *testing.T) {
		k.SetFaults(Faults{Latency: 30 * time.Millisecond})
		start := time.Now()
		if err := sign(ctx); err != nil || time.Since(start) < 30*time.Millisecond {
			t.Fatalf("%v after %v", err, time.Since(start))
		}
		c, cancel := context.WithCancel(ctx)
		cancel()
		if err := sign(c); !errors.Is(err, context.Canceled) {
			t.Fatal(err)
		}
	})
	t.Run("Fail", func(t *testing.T) {
		k.SetFaults(Faults{Fail: func(op string, n int) error {
			if op == "Sign" && n == 2 {
				return &kmssigner.APIError{Code: CodeInternal, Message: "injected"}
			}
			return nil
		}})
		if err := sign(ctx); err != nil {
			t.Fatal(err)
		}
		wantCode(t, sign(ctx), CodeInternal)
		if err := sign(ctx); err != nil {
			t.Fatal(err)
		}
	})
	k.SetFaults(Faults{})
}

func openTestStore(t *testing.T, dir string, pass string) (*KMS, error) {
	return Open(dir, &Options{Passphrase: []byte(pass), KDF: cheapKDF})
}

// A restart (a new KMS over the same directory) keeps every key, alias and key state.
func TestRestartKeepsKeys(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	k, err := openTestStore(t, dir, "pass")
	if err != nil {
		t.Fatal(err)
	}
	specs := []string{"ECC_NIST_P256", "ECC_NIST_EDWARDS25519", "ML_DSA_44", "RSA_2048"}
	pubs := map[string][]byte{}
	for _, s := range specs {
		id := mustCreate(t, k, s)
		info, _ := k.GetPublicKey(ctx, id)
		pubs[id] = info.PublicKey
	}
	var anyID string
	for id := range pubs {
		anyID = id
	}
	k.CreateAlias(ctx, &CreateAliasInput{AliasName: "alias/kept", TargetKeyId: anyID})
	doomed := mustCreate(t, k, "ECC_NIST_P384")
	k.ScheduleKeyDeletion(ctx, &ScheduleKeyDeletionInput{KeyId: doomed})

	k2, err := openTestStore(t, dir, "pass")
	if err != nil {
		t.Fatal(err)
	}
	for id, pub := range pubs {
		info, err := k2.GetPublicKey(ctx, id)
		if err != nil || !bytes.Equal(info.PublicKey, pub) {
			t.Fatalf("%s after restart: %v", id, err)
		}
		s, err := kmssigner.New(ctx, k2, id, nil)
		if err != nil {
			t.Fatal(err)
		}
		kt, _ := alg.KeyTypeOf(s.Public())
		if _, err := alg.Sign(ctx, s, kt.DefaultAlgorithm(), []byte("after restart")); err != nil {
			t.Fatalf("%s: %v", kt, err)
		}
	}
	if d, err := k2.DescribeKey(ctx, &DescribeKeyInput{KeyId: "alias/kept"}); err != nil || d.KeyMetadata.KeyId != anyID {
		t.Fatalf("alias after restart: %v", err)
	}
	if d, err := k2.DescribeKey(ctx, &DescribeKeyInput{KeyId: doomed}); err != nil || d.KeyMetadata.KeyState != KeyStatePendingDeletion {
		t.Fatalf("state after restart: %v", err)
	}
	if d, _ := k2.DescribeKey(ctx, &DescribeKeyInput{KeyId: anyID}); d.KeyMetadata.Description == "" {
		t.Fatal("description lost")
	}
}

// Files are 0600 (directories 0700), no temporary files are left, and the private key is not in any file.
func TestStoreFilesPrivateAndEncrypted(t *testing.T) {
	dir := t.TempDir()
	k, err := openTestStore(t, dir, "pass")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	id := mustCreate(t, k, "ML_DSA_65")
	id2 := mustCreate(t, k, "ECC_NIST_P256")
	k.CreateAlias(ctx, &CreateAliasInput{AliasName: "alias/a", TargetKeyId: id})
	seed := alg.MLDSASeed(k.keys[id].signer)
	pkcs8, _ := alg.MarshalPKCS8PrivateKey(k.keys[id2].signer)
	d, _ := k.keys[id2].signer.(*ecdsa.PrivateKey).Bytes()
	filepath.WalkDir(dir, func(path string, e os.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		info, _ := e.Info()
		if e.IsDir() {
			if info.Mode().Perm() != 0o700 && path != dir {
				t.Errorf("%s: mode %v", path, info.Mode().Perm())
			}
			return nil
		}
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", path, info.Mode().Perm())
		}
		if filepath.Base(path)[0] == '.' {
			t.Errorf("temporary file left: %s", path)
		}
		b, _ := os.ReadFile(path)
		if bytes.Contains(b, seed) || bytes.Contains(b, pkcs8) || bytes.Contains(b, d) {
			t.Errorf("%s holds private key material in clear", path)
		}
		return nil
	})
}

func TestTamperedKeyFileDetected(t *testing.T) {
	ctx := context.Background()
	setup := func(t *testing.T) (string, string, string) {
		dir := t.TempDir()
		k, err := openTestStore(t, dir, "pass")
		if err != nil {
			t.Fatal(err)
		}
		a, b := mustCreate(t, k, "ECC_NIST_P256"), mustCreate(t, k, "ECC_NIST_P256")
		k.CreateAlias(ctx, &CreateAliasInput{AliasName: "alias/a", TargetKeyId: a})
		return dir, a, b
	}
	editJSON := func(t *testing.T, path string, edit func(*keyFile)) {
		var kf keyFile
		b, _ := os.ReadFile(path)
		if err := json.Unmarshal(b, &kf); err != nil {
			t.Fatal(err)
		}
		edit(&kf)
		b, _ = json.Marshal(kf)
		os.WriteFile(path, b, 0o600)
	}
	for _, tc := range []struct {
		name string
		do   func(t *testing.T, dir, a, b string)
		want error
	}{
		{"CiphertextBitFlip", func(t *testing.T, dir, a, _ string) {
			editJSON(t, filepath.Join(dir, keysDir, a+keyFileExt), func(kf *keyFile) { kf.Ciphertext[10] ^= 1 })
		}, ErrTampered},
		{"MetadataEdited", func(t *testing.T, dir, a, _ string) {
			editJSON(t, filepath.Join(dir, keysDir, a+keyFileExt), func(kf *keyFile) { kf.Meta.KeyState = KeyStateEnabled; kf.Meta.Description = "evil" })
		}, ErrTampered},
		{"PublicKeySwapped", func(t *testing.T, dir, a, b string) {
			var other keyFile
			ob, _ := os.ReadFile(filepath.Join(dir, keysDir, b+keyFileExt))
			json.Unmarshal(ob, &other)
			editJSON(t, filepath.Join(dir, keysDir, a+keyFileExt), func(kf *keyFile) { kf.Meta.PublicKey = other.Meta.PublicKey })
		}, ErrTampered},
		{"FileCopiedOverAnother", func(t *testing.T, dir, a, b string) {
			data, _ := os.ReadFile(filepath.Join(dir, keysDir, b+keyFileExt))
			os.WriteFile(filepath.Join(dir, keysDir, a+keyFileExt), data, 0o600)
		}, ErrTampered},
		{"Truncated", func(t *testing.T, dir, a, _ string) {
			data, _ := os.ReadFile(filepath.Join(dir, keysDir, a+keyFileExt))
			os.WriteFile(filepath.Join(dir, keysDir, a+keyFileExt), data[:len(data)/2], 0o600)
		}, ErrMalformedFile},
		{"AliasRetargeted", func(t *testing.T, dir, a, b string) {
			p := filepath.Join(dir, aliasesFile)
			data, _ := os.ReadFile(p)
			os.WriteFile(p, bytes.ReplaceAll(data, []byte(a), []byte(b)), 0o600)
		}, ErrTampered},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, a, b := setup(t)
			tc.do(t, dir, a, b)
			_, err := openTestStore(t, dir, "pass")
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			var se *Error
			if !errors.As(err, &se) {
				t.Fatalf("%T is not *Error", err)
			}
		})
	}
}

func TestWrongPassphrase(t *testing.T) {
	dir := t.TempDir()
	k, err := openTestStore(t, dir, "right")
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, k, "ECC_NIST_P256")
	if _, err := openTestStore(t, dir, "wrong"); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("err = %v, want ErrWrongPassphrase", err)
	}
	if _, err := Open(dir, &Options{MasterKey: make([]byte, 32)}); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("master key on a passphrase store: %v", err)
	}
	if _, err := Open(dir, nil); !errors.Is(err, ErrNoSecret) {
		t.Fatalf("no secret: %v", err)
	}
	// Master-key stores.
	mdir := t.TempDir()
	mk := bytes.Repeat([]byte{1}, 32)
	if _, err := Open(mdir, &Options{MasterKey: mk}); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(mdir, &Options{MasterKey: bytes.Repeat([]byte{2}, 32)}); !errors.Is(err, ErrWrongMasterKey) {
		t.Fatalf("wrong master key: %v", err)
	}
	if _, err := Open(mdir, &Options{MasterKey: mk[:16]}); !errors.Is(err, ErrInvalidOptions) {
		t.Fatalf("short master key: %v", err)
	}
	if _, err := Open(mdir, &Options{Passphrase: []byte("x"), KDF: cheapKDF}); !errors.Is(err, ErrWrongMasterKey) {
		t.Fatalf("passphrase on a key-file store: %v", err)
	}
	// A tampered header (KDF made absurdly expensive) is refused before any work.
	h := filepath.Join(dir, headerFile)
	b, _ := os.ReadFile(h)
	var hdr storeHeader
	json.Unmarshal(b, &hdr)
	hdr.KDF.MemoryKiB = 1 << 30
	b, _ = json.Marshal(hdr)
	os.WriteFile(h, b, 0o600)
	if _, err := openTestStore(t, dir, "right"); !errors.Is(err, ErrMalformedFile) {
		t.Fatalf("absurd KDF: %v", err)
	}
}

func TestParseMasterKey(t *testing.T) {
	raw := bytes.Repeat([]byte{0xab}, 32)
	for _, in := range [][]byte{raw, []byte("abababababababababababababababababababababababababababababababab\n")} {
		k, err := ParseMasterKey(in)
		if err != nil || !bytes.Equal(k, raw) {
			t.Fatalf("%q: %v", in, err)
		}
	}
	if _, err := ParseMasterKey([]byte("short")); !errors.Is(err, ErrInvalidOptions) {
		t.Fatal(err)
	}
}

func TestRSAPSSSaltIsHashLength(t *testing.T) {
	k := NewMemory(nil)
	id := mustCreate(t, k, "RSA_2048")
	d := sha256.Sum256([]byte("m"))
	sig, err := k.Sign(context.Background(), &kmssigner.SignRequest{KeyID: id, Message: d[:], MessageType: "DIGEST", SigningAlgorithm: "RSASSA_PSS_SHA_256"})
	if err != nil {
		t.Fatal(err)
	}
	pub := k.keys[id].pub.(*rsa.PublicKey)
	if err := rsa.VerifyPSS(pub, crypto.SHA256, d[:], sig, &rsa.PSSOptions{SaltLength: 32}); err != nil {
		t.Fatal(err)
	}
}
