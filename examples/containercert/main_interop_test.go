package main

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/pkikit/pkikit/internal/interop"
)

// TestPrintedOpenSSLCommand runs the default flow and then, with the system's OpenSSL 3.0, the command it
// printed: `openssl verify -CAfile DIR/ca.pem DIR/cert.pem`.
func TestPrintedOpenSSLCommand(t *testing.T) {
	t.Parallel()
	openssl := interop.OpenSSL30(t)
	dir := filepath.Join(t.TempDir(), "w")
	var out syncBuffer
	res, err := run(context.Background(), []string{"-dir", dir, "-ca-dir", t.TempDir()}, &out)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	if len(res.Command) == 0 || res.Command[0] != "openssl" {
		t.Fatalf("no OpenSSL command printed:\n%s", out.String())
	}
	argv := append(append([]string{}, openssl...), res.Command[1:]...)
	got := interop.MustRun(t, dir, argv...)
	t.Logf("%s\n%s", shellJoin(res.Command), got)
}
