package csr

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkikit/pkikit/x509ext"
)

var updateTestdata = flag.Bool("update-testdata", false, "rewrite the pkikit-made requests in testdata/ (see testdata/README.md)")

// testdataAlgorithms names every committed request and the signature algorithm it must carry.
var testdataAlgorithms = map[string]x509ext.SignatureAlgorithm{
	"pkikit-mldsa44.der":            x509ext.MLDSA44,
	"pkikit-mldsa65.der":            x509ext.MLDSA65,
	"pkikit-mldsa87.der":            x509ext.MLDSA87,
	"pkikit-ecdsa-p256.der":         x509ext.ECDSAWithSHA256,
	"pkikit-rsa2048-pss-sha256.der": x509ext.SHA256WithRSAPSS,
	"pkikit-ed25519.der":            x509ext.PureEd25519,
	"openssl35-mldsa65.der":         x509ext.MLDSA65,
	"openssl30-ecdsa-p256.der":      x509ext.ECDSAWithSHA256,
}

// TestGenerateTestdata rewrites the pkikit-*.der files when run with -update-testdata; otherwise it skips.
func TestGenerateTestdata(t *testing.T) {
	if !*updateTestdata {
		t.Skip("run with -update-testdata to rewrite testdata/pkikit-*.der")
	}
	for name, a := range testdataAlgorithms {
		if !strings.HasPrefix(name, "pkikit-") {
			continue
		}
		var kt x509ext.KeyAlgorithm
		for _, c := range allCases {
			if c.alg == a {
				kt = c.kt
				break
			}
		}
		tmpl := fullTemplate(t)
		tmpl.SignatureAlgorithm = a
		der, err := Create(context.Background(), freshKey(t, kt), tmpl)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("testdata", name), der, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestTestdata: every committed request parses, verifies, carries its algorithm and rebuilds byte for byte; a
// tampered copy is refused.
func TestTestdata(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.der"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(testdataAlgorithms) {
		t.Fatalf("testdata has %d requests, the table names %d", len(files), len(testdataAlgorithms))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			der, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			req, err := Parse(der)
			if err != nil {
				t.Fatal(err)
			}
			if err := req.CheckSignature(); err != nil {
				t.Fatal(err)
			}
			if want, ok := testdataAlgorithms[filepath.Base(f)]; !ok || req.SignatureAlgorithm != want {
				t.Fatalf("algorithm %v, want %v", req.SignatureAlgorithm, want)
			}
			if len(req.DNSNames) == 0 || req.ChallengePassword == "" {
				t.Fatalf("names %v, challenge password %q", req.DNSNames, req.ChallengePassword)
			}
			checkRebuild(t, req)
			der[len(der)-1] ^= 1
			expectBadSignature(t, der)
		})
	}
}
