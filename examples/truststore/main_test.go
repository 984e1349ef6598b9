package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAmazonBundle(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"-bundle", "testdata/amazon-roots.pem"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out.String(), errb.String())
	}
	if n := strings.Count(out.String(), "  ok  "); n != 5 {
		t.Fatalf("%d roots found\n%s", n, out.String())
	}

	// A bundle without Amazon Root CA 4 (the test chain's root only): every Amazon root is reported missing.
	out.Reset()
	if code := run([]string{"-bundle", "testdata/ec_root.pem"}, &out, &errb); code != 1 {
		t.Fatalf("exit %d", code)
	}
	if n := strings.Count(out.String(), "MISSING"); n != 5 {
		t.Fatalf("%d missing\n%s", n, out.String())
	}
}

func TestVerifyChainOffline(t *testing.T) {
	dir := t.TempDir()
	bundle := filepath.Join(dir, "bundle.pem")
	var all []byte
	for _, f := range []string{"testdata/amazon-roots.pem", "testdata/ec_root.pem"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	if err := os.WriteFile(bundle, all, 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := run([]string{"-bundle", bundle, "-chain", "testdata/ec_chain.pem", "-name", "leaf.example.com", "-at", "2027-01-01T00:00:00Z"}, &out, &errb)
	if code != 0 || !strings.Contains(out.String(), "valid chain 1") {
		t.Fatalf("exit %d\n%s%s", code, out.String(), errb.String())
	}

	cases := []struct {
		args []string
		want string
	}{
		{[]string{"-at", "2037-01-01T00:00:00Z"}, "renew the certificate"},
		{[]string{"-at", "2027-01-01T00:00:00Z", "-require-amazon"}, "does not end at a pinned Amazon root"},
		{[]string{"-at", "2027-01-01T00:00:00Z", "-name", "other.example.com"}, "only SANs count"},
		{[]string{"-at", "2027-01-01T00:00:00Z", "-purpose", "code-signing"}, "extended key usage"},
	}
	for _, c := range cases {
		out.Reset()
		args := append([]string{"-bundle", bundle, "-chain", "testdata/ec_chain.pem"}, c.args...)
		if code := run(args, &out, &errb); code != 1 || !strings.Contains(out.String(), c.want) {
			t.Errorf("%v: exit %d, want explanation %q\n%s", c.args, code, c.want, out.String())
		}
	}
	// Against the Amazon roots alone the chain has no anchor.
	out.Reset()
	if code := run([]string{"-bundle", "testdata/amazon-roots.pem", "-chain", "testdata/ec_chain.pem", "-at", "2027-01-01T00:00:00Z"}, &out, &errb); code != 1 ||
		!strings.Contains(out.String(), "does not reach a root in the bundle") {
		t.Fatalf("exit %d\n%s", code, out.String())
	}
}
