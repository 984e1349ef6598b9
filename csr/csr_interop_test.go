package csr

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pkikit/pkikit/internal/interop"
	"github.com/pkikit/pkikit/x509ext"
)

// writeRequest writes a request as PEM into dir and returns its file name.
func writeRequest(t *testing.T, dir, name string, der []byte) string {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), EncodePEM(der), 0o600); err != nil {
		t.Fatal(err)
	}
	return name
}

// opensslVerifies runs `openssl req -verify -noout` on our requests of the given cases, checks `req -text`
// shows the names and that a tampered request is refused.
func opensslVerifies(t *testing.T, openssl []string, cases []keyCase) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			tmpl := fullTemplate(t)
			tmpl.SignatureAlgorithm = c.alg
			der, err := Create(context.Background(), testKey(t, c.kt), tmpl)
			if err != nil {
				t.Fatal(err)
			}
			f := writeRequest(t, dir, "req.pem", der)
			out := interop.MustRun(t, dir, append(slices.Clone(openssl), "req", "-verify", "-noout", "-in", f)...)
			if !strings.Contains(out, "verify OK") {
				t.Fatalf("openssl req -verify: %s", out)
			}
			text := interop.MustRun(t, dir, append(slices.Clone(openssl), "req", "-text", "-noout", "-in", f)...)
			for _, want := range []string{
				"DNS:www.example.com", "DNS:example.com", "email:admin@example.com", "IP Address:192.0.2.1",
				"IP Address:2001:DB8:0:0:0:0:0:1", "URI:spiffe://example.com/workload", "challengePassword",
				"Digital Signature", "TLS Web Server Authentication", "pkikit test",
			} {
				if !strings.Contains(text, want) {
					t.Errorf("openssl req -text lacks %q:\n%s", want, text)
				}
			}
			bad := slices.Clone(der)
			bad[len(bad)-1] ^= 1
			f = writeRequest(t, dir, "bad.pem", bad)
			// OpenSSL 3.0 exits 0 after "verify failure"; 3.5 exits 1. Neither may say OK.
			if out, err := interop.Run(t, dir, append(slices.Clone(openssl), "req", "-verify", "-noout", "-in", f)...); err == nil && strings.Contains(out, "verify OK") || !strings.Contains(out, "verify failure") {
				t.Fatalf("openssl did not refuse a tampered request (err %v): %s", err, out)
			}
		})
	}
}

// TestOpenSSL35VerifiesOurRequests: OpenSSL 3.5 accepts our ML-DSA-44/65/87, ECDSA, RSA (PKCS#1 v1.5 and PSS) and
// Ed25519 requests and shows their names.
func TestOpenSSL35VerifiesOurRequests(t *testing.T) {
	opensslVerifies(t, interop.OpenSSL35(t), allCases)
}

// TestOpenSSL30VerifiesClassical: the system OpenSSL 3.0 accepts our classical requests.
func TestOpenSSL30VerifiesClassical(t *testing.T) {
	var classical []keyCase
	for _, c := range allCases {
		if !c.alg.IsPostQuantum() {
			classical = append(classical, c)
		}
	}
	opensslVerifies(t, interop.OpenSSL30(t), classical)
}

const opensslReqConfig = `[req]
distinguished_name = dn
attributes = attrs
req_extensions = ext
prompt = no
[dn]
CN = openssl made
O = pkikit interop
[attrs]
challengePassword = from-openssl
unstructuredName = unstructured
[ext]
subjectAltName = DNS:ossl.example, IP:192.0.2.7, email:ossl@example.com
keyUsage = critical, digitalSignature
`

// opensslMade has OpenSSL generate a key and a request, then parses and verifies it here, checks the fields
// and rebuilds its request info byte for byte from the parsed parts.
func opensslMade(t *testing.T, openssl []string, genpkey []string, reqArgs []string, want x509ext.SignatureAlgorithm) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "req.cnf"), []byte(opensslReqConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	interop.MustRun(t, dir, append(append(slices.Clone(openssl), "genpkey"), append(genpkey, "-out", "key.pem")...)...)
	interop.MustRun(t, dir, append(append(slices.Clone(openssl), "req", "-new", "-key", "key.pem", "-config", "req.cnf", "-out", "req.pem"), reqArgs...)...)
	p, err := os.ReadFile(filepath.Join(dir, "req.pem"))
	if err != nil {
		t.Fatal(err)
	}
	req, err := ParsePEM(p)
	if err != nil {
		t.Fatalf("ParsePEM(OpenSSL request): %v", err)
	}
	if err := req.CheckSignature(); err != nil {
		t.Fatalf("CheckSignature(OpenSSL request): %v", err)
	}
	if req.SignatureAlgorithm != want {
		t.Fatalf("algorithm %v, want %v", req.SignatureAlgorithm, want)
	}
	if req.Subject.CommonName != "openssl made" || !slices.Equal(req.DNSNames, []string{"ossl.example"}) ||
		len(req.IPAddresses) != 1 || !slices.Equal(req.EmailAddresses, []string{"ossl@example.com"}) ||
		req.ChallengePassword != "from-openssl" || len(req.Attributes) != 3 {
		t.Fatalf("fields: %v %v %v %v %q %d", req.Subject, req.DNSNames, req.IPAddresses, req.EmailAddresses, req.ChallengePassword, len(req.Attributes))
	}
	checkRebuild(t, req)
	// A tampered OpenSSL request is refused.
	bad := slices.Clone(req.Raw)
	bad[len(bad)-1] ^= 1
	breq, err := Parse(bad)
	if err != nil {
		t.Fatal(err)
	}
	if breq.CheckSignature() == nil {
		t.Fatal("tampered OpenSSL request verified")
	}
}

// TestParseOpenSSL35MLDSA: we parse and verify requests OpenSSL 3.5 makes with ML-DSA-44/65/87 keys.
func TestParseOpenSSL35MLDSA(t *testing.T) {
	openssl := interop.OpenSSL35(t)
	for _, c := range allCases[:3] {
		t.Run(c.name, func(t *testing.T) {
			opensslMade(t, openssl, []string{"-algorithm", c.name}, nil, c.alg)
		})
	}
}

// TestParseOpenSSL30Classical: we parse and verify requests the system OpenSSL 3.0 makes with classical keys.
func TestParseOpenSSL30Classical(t *testing.T) {
	openssl := interop.OpenSSL30(t)
	for _, tc := range []struct {
		name    string
		genpkey []string
		req     []string
		want    x509ext.SignatureAlgorithm
	}{
		{"ECDSA-P256", []string{"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"}, nil, x509ext.ECDSAWithSHA256},
		{"ECDSA-P384-SHA384", []string{"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"}, []string{"-sha384"}, x509ext.ECDSAWithSHA384},
		{"RSA-2048-SHA256", []string{"-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"}, nil, x509ext.SHA256WithRSA},
		{"RSA-2048-PSS-SHA256", []string{"-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"},
			[]string{"-sha256", "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:digest"}, x509ext.SHA256WithRSAPSS},
		{"Ed25519", []string{"-algorithm", "ED25519"}, nil, x509ext.PureEd25519},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opensslMade(t, openssl, tc.genpkey, tc.req, tc.want)
		})
	}
}
