package truststore

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/pkikit/pkikit/internal/interop"
	"github.com/pkikit/pkikit/x509ext"
)

const opensslExt = `
[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[v3_leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:leaf.example.com
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[ca]
default_ca = CA_default

[CA_default]
dir = .
database = index.txt
crlnumber = crlnumber
default_md = default
default_crl_days = 7
certificate = inter.pem
private_key = inter.key
crl_extensions = crl_ext

[crl_ext]
authorityKeyIdentifier = keyid:always
`

// opensslKeyArgs returns the genpkey arguments for a key type name.
func opensslKeyArgs(kt string) []string {
	switch kt {
	case "ec256":
		return []string{"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"}
	case "ec384":
		return []string{"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"}
	case "rsa":
		return []string{"-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"}
	case "ed25519":
		return []string{"-algorithm", "ED25519"}
	}
	return []string{"-algorithm", kt} // ML-DSA-44/65/87
}

type opensslChain struct {
	dir               string
	root, inter, leaf *x509ext.Certificate
}

// makeOpenSSLChain makes root → intermediate → leaf with OpenSSL 3.5 in a temporary directory.
func makeOpenSSLChain(t *testing.T, ossl []string, rootKT, interKT, leafKT string, interDays int) *opensslChain {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ext.cnf"), []byte(opensslExt), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) { interop.MustRun(t, dir, append(append([]string(nil), ossl...), args...)...) }
	for name, kt := range map[string]string{"root": rootKT, "inter": interKT, "leaf": leafKT} {
		run(append([]string{"genpkey", "-out", name + ".key"}, opensslKeyArgs(kt)...)...)
	}
	run("req", "-x509", "-new", "-key", "root.key", "-subj", "/CN=OpenSSL Root "+rootKT, "-days", "3650",
		"-config", "ext.cnf", "-extensions", "v3_ca", "-out", "root.pem")
	run("req", "-new", "-key", "inter.key", "-subj", "/CN=OpenSSL Intermediate "+interKT, "-out", "inter.csr")
	run("x509", "-req", "-in", "inter.csr", "-CA", "root.pem", "-CAkey", "root.key", "-days", strconv.Itoa(interDays),
		"-extfile", "ext.cnf", "-extensions", "v3_ca", "-out", "inter.pem")
	run("req", "-new", "-key", "leaf.key", "-subj", "/CN=leaf.example.com", "-out", "leaf.csr")
	run("x509", "-req", "-in", "leaf.csr", "-CA", "inter.pem", "-CAkey", "inter.key", "-days", "30",
		"-extfile", "ext.cnf", "-extensions", "v3_leaf", "-out", "leaf.pem")
	c := &opensslChain{dir: dir}
	c.root, c.inter, c.leaf = readPEMCert(t, dir, "root.pem"), readPEMCert(t, dir, "inter.pem"), readPEMCert(t, dir, "leaf.pem")
	return c
}

func readPEMCert(t *testing.T, dir, name string) *x509ext.Certificate {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	certs, err := ParseCertificatesPEM(data)
	if err != nil {
		t.Fatal(err)
	}
	return certs[0]
}

// TestOpenSSLChains: ML-DSA-44/65/87 and mixed chains made by OpenSSL 3.5 verify; the same chains with one bit
// of the leaf's signature flipped, an expired intermediate, or a leaf revoked by a CRL from `openssl ca -gencrl`
// fail with ErrBadSignature, ErrExpired and ErrRevoked.
func TestOpenSSLChains(t *testing.T) {
	ossl := interop.OpenSSL35(t)
	for _, tc := range []struct{ root, inter, leaf string }{
		{"ML-DSA-44", "ML-DSA-44", "ML-DSA-44"},
		{"ML-DSA-65", "ML-DSA-65", "ML-DSA-65"},
		{"ML-DSA-87", "ML-DSA-87", "ML-DSA-87"},
		{"ML-DSA-87", "ec384", "ec256"},
		{"rsa", "ML-DSA-65", "ed25519"},
		{"ec256", "ML-DSA-44", "ML-DSA-65"},
	} {
		t.Run(tc.root+"_"+tc.inter+"_"+tc.leaf, func(t *testing.T) {
			c := makeOpenSSLChain(t, ossl, tc.root, tc.inter, tc.leaf, 1)
			s := NewStore(c.root)
			now := time.Now()
			opts := VerifyOptions{Time: now, Intermediates: []*x509ext.Certificate{c.inter}, Name: "leaf.example.com"}
			chains := mustVerify(t, s, c.leaf, opts)
			if len(chains) != 1 || len(chains[0]) != 3 {
				t.Fatalf("%d chains", len(chains))
			}

			// One bit flipped in the leaf's signature.
			der := append([]byte(nil), c.leaf.Raw...)
			der[len(der)-10] ^= 0x40
			flipped, err := x509ext.ParseCertificate(der)
			if err != nil {
				t.Fatal(err)
			}
			ve := mustFail(t, s, flipped, opts, ErrBadSignature)
			if ve.Paths[0].Depth != 0 {
				t.Fatalf("depth %d", ve.Paths[0].Depth)
			}

			// The intermediate was issued for one day: two days later it has expired (the leaf, 30 days, has not).
			late := opts
			late.Time = now.Add(48 * time.Hour)
			ve = mustFail(t, s, c.leaf, late, ErrExpired)
			if ve.Paths[0].Depth != 1 {
				t.Fatalf("expired at depth %d, want 1", ve.Paths[0].Depth)
			}

			// Revoke the leaf with `openssl ca` and generate the intermediate's CRL.
			run := func(args ...string) { interop.MustRun(t, c.dir, append(append([]string(nil), ossl...), args...)...) }
			os.WriteFile(filepath.Join(c.dir, "index.txt"), nil, 0o600)
			os.WriteFile(filepath.Join(c.dir, "crlnumber"), []byte("01\n"), 0o600)
			run("ca", "-config", "ext.cnf", "-revoke", "leaf.pem", "-crl_reason", "keyCompromise")
			run("ca", "-config", "ext.cnf", "-gencrl", "-out", "crl.pem")
			data, err := os.ReadFile(filepath.Join(c.dir, "crl.pem"))
			if err != nil {
				t.Fatal(err)
			}
			crl, err := ParseCRL(data)
			if err != nil {
				t.Fatal(err)
			}
			if err := CheckCRLSignature(crl, c.inter); err != nil {
				t.Fatalf("OpenSSL CRL signature: %v", err)
			}
			rev := opts
			rev.Time = time.Now()
			rev.CRLs = []*x509.RevocationList{crl}
			ve = mustFail(t, s, c.leaf, rev, ErrRevoked)
			if ve.Paths[0].RevocationReason != ReasonKeyCompromise {
				t.Fatalf("reason %d", ve.Paths[0].RevocationReason)
			}
			// The same CRL with one bit flipped in its signature is not used: required → unknown.
			bad := append([]byte(nil), crl.Raw...)
			bad[len(bad)-10] ^= 0x01
			badCRL, err := ParseCRL(bad)
			if err != nil {
				t.Fatal(err)
			}
			rev.CRLs = []*x509.RevocationList{badCRL}
			rev.Revocation = RevocationRequired
			mustFail(t, s, c.leaf, rev, ErrRevocationUnknown)
		})
	}
}
