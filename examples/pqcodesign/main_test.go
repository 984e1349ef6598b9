package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkikit/pkikit/cms"
	"github.com/pkikit/pkikit/internal/interop"
	"github.com/pkikit/pkikit/kmssigner/localkms"
	"github.com/pkikit/pkikit/truststore"
	"github.com/pkikit/pkikit/x509ext"
)

// checkWithOpenSSL runs the command the program printed, with OpenSSL 3.5, in the output directory; then the
// same command on a modified file must fail.
func checkWithOpenSSL(t *testing.T, out *outcome, stdout string) {
	t.Helper()
	printed := "openssl " + strings.Join(out.opensslArgs, " ")
	if !strings.Contains(stdout, printed) {
		t.Fatalf("the command run is not the one printed:\n%s", stdout)
	}
	ossl := interop.OpenSSL35(t)
	res := interop.MustRun(t, out.dir, append(ossl, out.opensslArgs...)...)
	if !strings.Contains(res, "Verification successful") {
		t.Fatal(res)
	}
	data, _ := os.ReadFile(out.file)
	data[len(data)-1] ^= 1
	os.WriteFile(out.file, data, 0o644)
	if res, err := interop.Run(t, out.dir, append(ossl, out.opensslArgs...)...); err == nil {
		t.Fatalf("OpenSSL verified a modified file: %s", res)
	}
}

func TestPQCodeSignDefault(t *testing.T) {
	dir := t.TempDir()
	var stdout bytes.Buffer
	out, err := run(context.Background(), []string{"-out", dir}, &stdout)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"root.pem", "chain.pem", "leaf.pem", "sample.bin", "sample.bin.p7s"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	// The result: one ML-DSA-65 signer, chain leaf ← sub ← root; the SignedData embeds leaf and sub only.
	if len(out.result.Signers) != 1 || out.result.Signers[0].Algorithm != x509ext.MLDSA65 || len(out.result.Signers[0].Chain) != 3 {
		t.Fatalf("%+v", out.result.Signers)
	}
	if n := len(out.result.SignedData.RawCertificates); n != 2 {
		t.Fatalf("%d certificates embedded, want leaf and subordinate CA", n)
	}
	// The written files verify with pkikit too (root.pem only), and the leaf is a code-signing certificate.
	rootPEM, _ := os.ReadFile(filepath.Join(dir, "root.pem"))
	store := truststore.NewStore()
	if n, err := store.AddAnchorsPEM(rootPEM); err != nil || n != 1 {
		t.Fatal(n, err)
	}
	sig, _ := os.ReadFile(out.sig)
	f, _ := os.Open(out.file)
	_, err = cms.Verify(sig, f, cms.VerifyOptions{Store: store})
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	checkWithOpenSSL(t, out, stdout.String())
}

func TestPQCodeSignDualWithInput(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(t.TempDir(), "tool.exe")
	os.WriteFile(in, bytes.Repeat([]byte("my tool\x00"), 5000), 0o755)
	var stdout bytes.Buffer
	out, err := run(context.Background(), []string{"-in", in, "-out", dir, "-dual"}, &stdout)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(out.file) != "tool.exe" || filepath.Base(out.sig) != "tool.exe.p7s" {
		t.Fatal(out.file, out.sig)
	}
	var pq, classical int
	for _, s := range out.result.Signers {
		if s.Err != nil {
			t.Fatal(s.Err)
		}
		if s.Algorithm.IsPostQuantum() {
			pq++
		} else if s.Algorithm == x509ext.ECDSAWithSHA256 {
			classical++
		}
	}
	if pq != 1 || classical != 1 {
		t.Fatalf("%d ML-DSA and %d ECDSA signers", pq, classical)
	}
	checkWithOpenSSL(t, out, stdout.String())
}

// TestPQCodeSignKMSURI: -kms names the code-signing key in a persistent localkms store through kmssigner.Open
// (the path an awskms: URI takes too).
func TestPQCodeSignKMSURI(t *testing.T) {
	ctx := context.Background()
	store := t.TempDir()
	mkPath := filepath.Join(t.TempDir(), "master.key")
	mk, err := localkms.GenerateMasterKeyFile(mkPath)
	if err != nil {
		t.Fatal(err)
	}
	k, err := localkms.Open(store, &localkms.Options{MasterKey: mk})
	if err != nil {
		t.Fatal(err)
	}
	key, err := k.CreateKey(ctx, &localkms.CreateKeyInput{KeySpec: "ML_DSA_65", KeyUsage: "SIGN_VERIFY"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.CreateAlias(ctx, &localkms.CreateAliasInput{AliasName: "alias/CodeSigning", TargetKeyId: key.KeyMetadata.KeyId}); err != nil {
		t.Fatal(err)
	}
	uri := "localkms:dir=" + store + ";key=alias/CodeSigning;master-key=" + mkPath
	var stdout bytes.Buffer
	out, err := run(ctx, []string{"-out", t.TempDir(), "-kms", uri}, &stdout)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), uri) {
		t.Fatal(stdout.String())
	}
	checkWithOpenSSL(t, out, stdout.String())
}

func TestPQCodeSignBadArguments(t *testing.T) {
	for _, args := range [][]string{
		{"-nosuchflag"},
		{"extra-argument"},
		{"-out", t.TempDir(), "-in", filepath.Join(t.TempDir(), "missing")},
		{"-out", t.TempDir(), "-kms", "nosuchscheme:key=x"},
	} {
		if _, err := run(context.Background(), args, &bytes.Buffer{}); err == nil {
			t.Errorf("%q: no error", args)
		}
	}
}
