package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/pkikit/pkikit/internal/alg"
	"github.com/pkikit/pkikit/kmssigner/localkms"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var endpointRE = regexp.MustCompile(`serving the AWS KMS API at (http://127\.0\.0\.1:\d+)`)

// start runs the program on 127.0.0.1:0 and returns its endpoint, its output and a stop function.
func start(t *testing.T, dir string, env map[string]string) (string, *syncBuffer, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-dir", dir}, func(k string) string { return env[k] }, out)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if m := endpointRE.FindStringSubmatch(out.String()); m != nil {
			return m[1], out, func() {
				cancel()
				if err := <-done; err != nil {
					t.Errorf("run: %v", err)
				}
			}
		}
		select {
		case err := <-done:
			t.Fatalf("run ended: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no endpoint printed:\n%s", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func readCreds(t *testing.T, path string) (string, string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var id, secret string
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "AWS_ACCESS_KEY_ID="); ok {
			id = v
		}
		if v, ok := strings.CutPrefix(line, "AWS_SECRET_ACCESS_KEY="); ok {
			secret = v
		}
	}
	return id, secret
}

func client(endpoint, id, secret string) *kms.Client {
	return kms.New(kms.Options{BaseEndpoint: aws.String(endpoint), Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(id, secret, "")})
}

// With no credentials or passphrase given, the program generates both (0600, in the directory), serves on the
// port it printed, and a restart reuses them and keeps the keys.
func TestRunGeneratesSecretsAndServes(t *testing.T) {
	dir := t.TempDir()
	endpoint, out, stop := start(t, dir, nil)
	for _, f := range []string{credentialsFile, masterKeyFile} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v", f, err, st)
		}
		if !strings.Contains(out.String(), filepath.Join(dir, f)) {
			t.Fatalf("output does not say where %s is:\n%s", f, out.String())
		}
	}
	id, secret := readCreds(t, filepath.Join(dir, credentialsFile))
	if strings.Contains(out.String(), secret) {
		t.Fatal("the secret access key was printed")
	}
	for _, want := range []string{"aws kms create-key --endpoint-url " + endpoint, "BaseEndpoint", "awskms:key-id="} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("output lacks %q:\n%s", want, out.String())
		}
	}
	ctx := context.Background()
	c := client(endpoint, id, secret)
	ck, err := c.CreateKey(ctx, &kms.CreateKeyInput{KeySpec: types.KeySpecMlDsa44, KeyUsage: types.KeyUsageTypeSignVerify})
	if err != nil {
		t.Fatal(err)
	}
	keyID := aws.ToString(ck.KeyMetadata.KeyId)
	if _, err := client(endpoint, id, "wrong").ListKeys(ctx, &kms.ListKeysInput{}); err == nil {
		t.Fatal("wrong secret accepted")
	}
	stop()

	// Restart over the same directory: same credentials and master key, the key is still there and signs.
	endpoint, out, stop = start(t, dir, nil)
	defer stop()
	if !strings.Contains(out.String(), "generated earlier") {
		t.Fatalf("restart did not reuse the master key:\n%s", out.String())
	}
	c = client(endpoint, id, secret)
	gp, err := c.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: aws.String(keyID)})
	if err != nil {
		t.Fatal(err)
	}
	pub, _, err := alg.ParsePKIXPublicKey(gp.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("after restart")
	so, err := c.Sign(ctx, &kms.SignInput{KeyId: aws.String(keyID), Message: msg, SigningAlgorithm: types.SigningAlgorithmSpecMlDsaShake256})
	if err != nil {
		t.Fatal(err)
	}
	if err := alg.Verify(pub, alg.MLDSA44, msg, so.Signature); err != nil {
		t.Fatal(err)
	}
}

// Credentials and passphrase from the environment: nothing is generated.
func TestRunWithEnvironment(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "env-secret", "PKIKIT_KMS_PASSPHRASE": "env passphrase"}
	endpoint, out, stop := start(t, dir, env)
	defer stop()
	for _, f := range []string{credentialsFile, masterKeyFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Fatalf("%s generated although the environment gave secrets", f)
		}
	}
	if !strings.Contains(out.String(), "passphrase from PKIKIT_KMS_PASSPHRASE") {
		t.Fatalf("output:\n%s", out.String())
	}
	ctx := context.Background()
	c := client(endpoint, "AKIDENV", "env-secret")
	ck, err := c.CreateKey(ctx, &kms.CreateKeyInput{KeySpec: types.KeySpecEccNistP256, KeyUsage: types.KeyUsageTypeSignVerify})
	if err != nil {
		t.Fatal(err)
	}
	d := sha256.Sum256([]byte("m"))
	if _, err := c.Sign(ctx, &kms.SignInput{KeyId: ck.KeyMetadata.KeyId, Message: d[:], MessageType: types.MessageTypeDigest, SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256}); err != nil {
		t.Fatal(err)
	}
}

func TestRunRefusesNonLoopback(t *testing.T) {
	err := run(context.Background(), []string{"-addr", "0.0.0.0:0", "-dir", t.TempDir()}, func(string) string { return "" }, &bytes.Buffer{})
	if !errors.Is(err, localkms.ErrNotLoopback) {
		t.Fatalf("err = %v", err)
	}
}

// -create-exportable and -export: the key leaves the store as a 0600 PEM bundle that decrypts to the key the
// server signs with, and the export is in the audit log; without the passphrase variable nothing is written.
func TestRunExport(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"PKIKIT_KMS_PASSPHRASE": "store passphrase"}
	getenv := func(k string) string { return env[k] }
	ctx := context.Background()
	var out bytes.Buffer
	if err := run(ctx, []string{"-dir", dir, "-create-exportable", "ECC_NIST_P256"}, getenv, &out); err != nil {
		t.Fatal(err)
	}
	keyID := strings.TrimSpace(out.String())
	pemPath := filepath.Join(t.TempDir(), "key.pem")
	if err := run(ctx, []string{"-dir", dir, "-export", keyID, "-out", pemPath}, getenv, &out); err == nil {
		t.Fatal("exported without " + exportPassphraseEnv)
	}
	env[exportPassphraseEnv] = "export passphrase"
	out.Reset()
	if err := run(ctx, []string{"-dir", dir, "-export", keyID, "-out", pemPath}, getenv, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "openssl pkey -in "+pemPath+" -passin env:"+exportPassphraseEnv) {
		t.Fatalf("output:\n%s", out.String())
	}
	st, err := os.Stat(pemPath)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("%v %v", err, st)
	}
	data, _ := os.ReadFile(pemPath)
	key, err := localkms.DecryptPKCS8(data, []byte("export passphrase"))
	if err != nil {
		t.Fatal(err)
	}
	k, err := localkms.Open(dir, &localkms.Options{Passphrase: []byte("store passphrase")})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	pk, err := k.GetPublicKey(ctx, keyID)
	if err != nil {
		t.Fatal(err)
	}
	if spki, _ := alg.MarshalPKIXPublicKey(key.Public()); !bytes.Equal(spki, pk.PublicKey) {
		t.Fatal("exported key differs")
	}
	recs, _, err := localkms.ReadAuditLog(dir)
	if err != nil {
		t.Fatal(err)
	}
	var exports int
	for _, r := range recs {
		if r.Operation == "ExportKey" && r.KeyID == keyID && r.Outcome == localkms.AuditSuccess && strings.HasPrefix(r.Caller, "examples/localkms") {
			exports++
		}
	}
	if exports != 1 {
		t.Fatalf("%d export records: %+v", exports, recs)
	}
}
