package main

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pkikit/pkikit/kmssigner/localkms"
	"github.com/pkikit/pkikit/x509ext"
)

// TestExternalKMSEndpoint runs the flow with the CA key in a KMS server of its own (-kms-endpoint, -kms-key
// alias/..., credentials from the AWS SDK's environment chain), twice with the same -ca-dir: the second run
// reuses the CA certificate because it holds the same KMS key. (4 s lifetimes: with one-second certificate times
// a 2 s certificate can have 1 s left when it arrives, too little on a loaded machine under -race.)
func TestExternalKMSEndpoint(t *testing.T) {
	ctx := context.Background()
	store := localkms.NewMemory(&localkms.Options{Region: "eu-west-1"})
	key, err := store.CreateKey(ctx, &localkms.CreateKeyInput{KeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.CreateAlias(ctx, &localkms.CreateAliasInput{AliasName: "alias/containercert-ca", TargetKeyId: key.KeyMetadata.KeyId}); err != nil {
		t.Fatal(err)
	}
	creds := localkms.Credentials{AccessKeyID: "AKIATESTCONTAINERCERT", SecretAccessKey: "test-secret-not-a-real-one"}
	srv, err := localkms.NewServer(store, &localkms.ServerOptions{Credentials: []localkms.Credentials{creds}})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := srv.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(sctx, ln) }()
	t.Cleanup(func() { stop(); <-done })
	t.Setenv("AWS_ACCESS_KEY_ID", creds.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", creds.SecretAccessKey)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))

	caDir := t.TempDir()
	var caCerts [][]byte
	for i := range 2 {
		var out syncBuffer
		res, err := run(ctx, []string{"-kms-endpoint", "http://" + ln.Addr().String(), "-kms-region", "eu-west-1",
			"-kms-key", "alias/containercert-ca", "-ca-dir", caDir, "-dir", filepath.Join(t.TempDir(), "w"),
			"-lifetime", "4s"}, &out)
		if err != nil {
			t.Fatalf("run %d: %v\n%s", i, err, out.String())
		}
		if !strings.Contains(out.String(), "ca: key alias/containercert-ca in http://") {
			t.Errorf("run %d does not say it uses the KMS key:\n%s", i, out.String())
		}
		if _, err := readPair(res.Dir); err != nil {
			t.Fatal(err)
		}
		pem, err := os.ReadFile(filepath.Join(caDir, caFile))
		if err != nil {
			t.Fatal(err)
		}
		caCerts = append(caCerts, pem)
		if got := res.Installs[0].Chain[1].PublicKey; !publicKeysEqual(got, mustPublicKey(t, store, key.KeyMetadata.KeyId)) {
			t.Errorf("run %d: the CA certificate does not hold the KMS key", i)
		}
	}
	if !bytes.Equal(caCerts[0], caCerts[1]) {
		t.Error("the second run made a new CA certificate for the same key")
	}
}

func mustPublicKey(t *testing.T, store *localkms.KMS, keyID string) any {
	t.Helper()
	info, err := store.GetPublicKey(context.Background(), keyID)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509ext.ParsePKIXPublicKey(info.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

// TestWorkloadOnlyMode runs only the workload (-ca-url, -ca-cert) against a CA service started elsewhere, and
// refuses -ca-url without -ca-cert.
func TestWorkloadOnlyMode(t *testing.T) {
	t.Parallel()
	ca, url := newTestCA(t, nil, nil)
	caPEM := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caPEM, encodePEM("CERTIFICATE", ca.Certificate().Raw), 0o644); err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	res, err := run(context.Background(), []string{"-ca-url", url, "-ca-cert", caPEM, "-dir", filepath.Join(t.TempDir(), "w"),
		"-name", "api.workloads.internal,api-2.workloads.internal", "-lifetime", "4s"}, &out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if strings.Contains(out.String(), "ca: serving") {
		t.Error("workload-only mode started a CA")
	}
	p, err := readPair(res.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Chain[0].DNSNames; len(got) != 2 || got[1] != "api-2.workloads.internal" {
		t.Errorf("DNS names %v", got)
	}
	if ca.issued.Load() != 2 {
		t.Errorf("CA issued %d, want 2 (start-up, renewal)", ca.issued.Load())
	}
	if _, err := run(context.Background(), []string{"-ca-url", url}, &out); err == nil {
		t.Error("-ca-url without -ca-cert accepted")
	}
	if _, err := run(context.Background(), []string{"-serve-ca", "0.0.0.0:0"}, &out); err == nil {
		t.Error("-serve-ca on a non-loopback address accepted")
	}
}

// TestKillWorkloadMidRenewal runs the whole example with -watch and a 2 s lifetime (a renewal about every
// 1.3 s) as a separate process, SIGKILLs it, and checks the workload directory: ..data points at a complete,
// matching pair, and every key file in it parses and matches its certificate.
func TestKillWorkloadMidRenewal(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "w")
	cmd := exec.Command(exe, "-watch", "-lifetime", "2s", "-dir", dir, "-ca-dir", t.TempDir())
	cmd.Env = append(os.Environ(), childEnv+"=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	renewed := make(chan struct{}, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "replaces") {
				renewed <- struct{}{}
			}
		}
	}()
	for range 2 {
		select {
		case <-renewed:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatal("no renewal")
		}
	}
	time.Sleep(700 * time.Millisecond) // somewhere in the next cycle
	cmd.Process.Kill()
	cmd.Wait()
	if _, err := readPair(dir); err != nil {
		t.Fatalf("after the kill: %v", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), "..") {
			vdir := filepath.Join(dir, e.Name())
			if _, err := os.Stat(filepath.Join(vdir, keyFile)); err == nil {
				if _, err := readPairIn(vdir); err != nil {
					t.Errorf("%s: %v", vdir, err)
				}
			}
		}
	}
}
