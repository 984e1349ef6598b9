package main

import (
	"bytes"
	"context"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pkikit/pkikit/internal/interop"
	"github.com/pkikit/pkikit/x509ext"
)

// TestRunAndPrintedCommands runs the example's main logic into a temporary directory and then runs every
// printed OpenSSL command for real with OpenSSL 3.5.
func TestRunAndPrintedCommands(t *testing.T) {
	for _, serverKey := range []string{"EC_prime256v1", "ML_DSA_65"} {
		t.Run(serverKey, func(t *testing.T) {
			dir := t.TempDir()
			var out bytes.Buffer
			o := options{OutDir: dir, DNSNames: []string{"www.example.com", "api.example.com"}, ServerKey: serverKey, OpenSSL: "openssl"}
			if err := run(context.Background(), o, &out); err != nil {
				t.Fatal(err)
			}
			res, err := build(context.Background(), o) // same again, to inspect the result
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), "openssl verify -CAfile "+filepath.Join(dir, "root.pem")+" -untrusted "+filepath.Join(dir, "sub.pem")) {
				t.Fatalf("printed commands:\n%s", out.String())
			}
			if err := res.Server.CheckSignatureFrom(res.Sub.Certificate); err != nil {
				t.Fatal(err)
			}
			if err := res.Sub.Certificate.CheckSignatureFrom(res.Root.Certificate); err != nil {
				t.Fatal(err)
			}
			if err := res.CRL.CheckSignatureFrom(res.Sub.Certificate); err != nil {
				t.Fatal(err)
			}
			if res.Root.Certificate.SignatureAlgorithm != x509ext.MLDSA87 || res.Server.SignatureAlgorithm != x509ext.ECDSAWithSHA384 {
				t.Fatal("sample configs not used")
			}
			if res.Server.CRLDistributionPoints[0] != "http://crl.example.com/crl/issuing-ca-1.crl" {
				t.Fatal(res.Server.CRLDistributionPoints)
			}
			for _, k := range []string{"root.key", "sub.key", "server.key"} {
				st, err := os.Stat(filepath.Join(dir, k))
				if err != nil {
					t.Fatal(err)
				}
				if st.Mode().Perm() != 0o600 {
					t.Fatalf("%s mode %v", k, st.Mode())
				}
				data, _ := os.ReadFile(filepath.Join(dir, k))
				b, _ := pem.Decode(data)
				if b == nil || b.Type != "PRIVATE KEY" {
					t.Fatalf("%s: not a PKCS#8 PEM", k)
				}
				if _, err := x509ext.ParsePKCS8PrivateKey(b.Bytes); err != nil {
					t.Fatalf("%s: %v", k, err)
				}
			}
			ossl := interop.OpenSSL35(t)
			for _, c := range res.Commands {
				argv := append(append([]string{}, ossl...), c[1:]...)
				got := interop.MustRun(t, dir, argv...)
				if c[1] == "verify" && !strings.Contains(got, "server.pem: OK") {
					t.Fatalf("%s\n%s", c, got)
				}
				if c[1] == "crl" && !strings.Contains(got, "verify OK") {
					t.Fatalf("%s\n%s", c, got)
				}
			}
		})
	}
}

func TestRunRejectsBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"KeyAlgorithm":"EC_prime256v1","SigningAlgorithm":"ML_DSA_65","Subject":{"CommonName":"x"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, o := range map[string]options{
		"mismatched config": {OutDir: dir, RootConfig: bad, DNSNames: []string{"a.example"}, ServerKey: "EC_prime256v1"},
		"missing config":    {OutDir: dir, RootConfig: filepath.Join(dir, "nope.json"), DNSNames: []string{"a.example"}, ServerKey: "EC_prime256v1"},
		"no DNS names":      {OutDir: dir, ServerKey: "EC_prime256v1"},
		"bad key algorithm": {OutDir: dir, DNSNames: []string{"a.example"}, ServerKey: "DSA_1024"},
	} {
		if err := run(context.Background(), o, &bytes.Buffer{}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestDefaultOutDirIsTemp(t *testing.T) {
	res, err := build(context.Background(), options{DNSNames: []string{"a.example"}, ServerKey: "EC_prime256v1",
		Now: func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(res.Dir)
	if !strings.HasPrefix(res.Dir, os.TempDir()) {
		t.Fatalf("dir %s", res.Dir)
	}
}
