package x509ext

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pkikit/pkikit/internal/interop"
)

func writePEM(t testing.TB, path, typ string, blocks ...[]byte) {
	t.Helper()
	var out []byte
	for _, b := range blocks {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b})...)
	}
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
}

// chain is root → sub (PathLen0) → leaf plus a CRL from sub revoking one serial, all written as PEM in dir.
type chain struct {
	root, sub *Issuer
	leaf      *Certificate
	crl       *CRL
}

func makeChain(t *testing.T, dir string, rootKT, subKT, leafKT KeyAlgorithm, rootAlg, subAlg SignatureAlgorithm, leafProfile Profile) chain {
	t.Helper()
	ctx := context.Background()
	root := newRoot(t, rootKT, rootAlg, "interop root "+rootKT.String())
	sub := subCA(t, root, SubordinateCACertificatePathLen0V1, subKT, "interop sub "+subKT.String())
	sub.Algorithm = subAlg
	leaf, err := sub.Issue(ctx, &IssueRequest{Profile: leafProfile, PublicKey: testKey(t, leafKT).Public(),
		Subject: pkix.Name{CommonName: "leaf.example.com"}, DNSNames: []string{"leaf.example.com"}, Validity: 30 * 24 * time.Hour,
		CRLDistributionPoints: []string{"http://crl.example.com/sub.crl"}})
	if err != nil {
		t.Fatal(err)
	}
	crl, err := sub.CreateCRL(ctx, &CRLRequest{Number: big.NewInt(7), Validity: 24 * time.Hour,
		Revoked: []RevokedCertificate{{SerialNumber: big.NewInt(99), RevocationTime: testTime, Reason: ReasonKeyCompromise}}})
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, filepath.Join(dir, "root.pem"), "CERTIFICATE", root.Certificate.Raw)
	writePEM(t, filepath.Join(dir, "sub.pem"), "CERTIFICATE", sub.Certificate.Raw)
	writePEM(t, filepath.Join(dir, "leaf.pem"), "CERTIFICATE", leaf.Raw)
	writePEM(t, filepath.Join(dir, "chain.pem"), "CERTIFICATE", sub.Certificate.Raw, root.Certificate.Raw)
	writePEM(t, filepath.Join(dir, "crl.pem"), "X509 CRL", crl.Raw)
	return chain{root, sub, leaf, crl}
}

var attime = strconv.FormatInt(testTime.Add(30*time.Minute).Unix(), 10)

// opensslChecks runs openssl verify, x509 -text and crl -verify on a chain written by makeChain.
func opensslChecks(t *testing.T, ossl []string, dir string, extra ...string) {
	t.Helper()
	run := func(args ...string) string {
		return interop.MustRun(t, dir, append(append([]string{}, ossl...), args...)...)
	}
	out := run(append([]string{"verify", "-attime", attime, "-x509_strict", "-CAfile", "root.pem", "-untrusted", "sub.pem"}, append(extra, "leaf.pem")...)...)
	if !strings.Contains(out, "leaf.pem: OK") {
		t.Fatalf("openssl verify: %s", out)
	}
	for _, f := range []string{"root.pem", "sub.pem", "leaf.pem"} {
		run("x509", "-in", f, "-noout", "-text")
	}
	out = run("crl", "-in", "crl.pem", "-CAfile", "chain.pem", "-verify", "-noout", "-text")
	if !strings.Contains(out, "verify OK") || !strings.Contains(out, "Key Compromise") {
		t.Fatalf("openssl crl -verify: %s", out)
	}
}

func mldsaLeafProfile() Profile {
	p := EndEntityServerAuthCertificateV1
	p.KeyUsage = x509.KeyUsageDigitalSignature // RFC 9881 §5: no keyEncipherment on ML-DSA
	return p
}

// TestOpenSSL35AcceptsOurMLDSAChains: OpenSSL 3.5 verifies our ML-DSA-44/65/87 chains and CRLs, and mixed
// chains (ML-DSA root over ECDSA leaf, ECDSA root over ML-DSA leaf).
func TestOpenSSL35AcceptsOurMLDSAChains(t *testing.T) {
	ossl := interop.OpenSSL35(t)
	cases := []struct {
		name                  string
		rootKT, subKT, leafKT KeyAlgorithm
		profile               Profile
	}{
		{"ML-DSA-44", KeyMLDSA44, KeyMLDSA44, KeyMLDSA44, mldsaLeafProfile()},
		{"ML-DSA-65", KeyMLDSA65, KeyMLDSA65, KeyMLDSA65, mldsaLeafProfile()},
		{"ML-DSA-87", KeyMLDSA87, KeyMLDSA87, KeyMLDSA87, mldsaLeafProfile()},
		{"ML-DSA-87 root, ML-DSA-65 sub, ECDSA leaf", KeyMLDSA87, KeyMLDSA65, KeyECDSAP256, EndEntityServerAuthCertificateV1},
		{"ECDSA root and sub, ML-DSA-44 leaf", KeyECDSAP384, KeyECDSAP256, KeyMLDSA44, mldsaLeafProfile()},
		{"RSA-PSS root, ML-DSA-65 sub, Ed25519 leaf", KeyRSA3072, KeyMLDSA65, KeyEd25519, CodeSigningCertificateV1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			rootAlg := SignatureAlgorithm(0)
			if c.rootKT == KeyRSA3072 {
				rootAlg = SHA384WithRSAPSS
			}
			makeChain(t, dir, c.rootKT, c.subKT, c.leafKT, rootAlg, 0, c.profile)
			extra := []string{"-purpose", "sslserver"}
			if c.profile.Name == CodeSigningCertificateV1.Name {
				extra = []string{"-purpose", "codesign"}
			}
			opensslChecks(t, ossl, dir, extra...)
		})
	}
}

// TestOpenSSL30AndGoAcceptOurClassicalChains: the system OpenSSL (3.0) and crypto/x509's Verify accept our
// ECDSA, RSA (PKCS#1 v1.5 and PSS) and Ed25519 chains; crypto/x509 also checks the CRL signatures.
func TestOpenSSL30AndGoAcceptOurClassicalChains(t *testing.T) {
	cases := []struct {
		name                  string
		rootKT, subKT, leafKT KeyAlgorithm
		rootAlg, subAlg       SignatureAlgorithm
	}{
		{"ECDSA", KeyECDSAP521, KeyECDSAP384, KeyECDSAP256, 0, 0},
		{"RSA PKCS1", KeyRSA4096, KeyRSA3072, KeyRSA2048, SHA512WithRSA, SHA384WithRSA},
		{"RSA PSS", KeyRSA3072, KeyRSA2048, KeyRSA2048, SHA384WithRSAPSS, SHA256WithRSAPSS},
		{"Ed25519 over ECDSA", KeyEd25519, KeyECDSAP256, KeyRSA2048, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			ch := makeChain(t, dir, c.rootKT, c.subKT, c.leafKT, c.rootAlg, c.subAlg, EndEntityServerAuthCertificateV1)
			roots, inter := x509.NewCertPool(), x509.NewCertPool()
			roots.AddCert(ch.root.Certificate.Certificate)
			inter.AddCert(ch.sub.Certificate.Certificate)
			chains, err := ch.leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, DNSName: "leaf.example.com",
				CurrentTime: testTime.Add(time.Hour), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
			if err != nil || len(chains) != 1 || len(chains[0]) != 3 {
				t.Fatalf("crypto/x509 Verify: %v", err)
			}
			if err := ch.crl.RevocationList.CheckSignatureFrom(ch.sub.Certificate.Certificate); err != nil {
				t.Fatalf("crypto/x509 CRL CheckSignatureFrom: %v", err)
			}
			opensslChecks(t, interop.OpenSSL30(t), dir, "-purpose", "sslserver")
		})
	}
}

// TestWeParseOpenSSL35MLDSA: certificates, a CSR and a CRL made by OpenSSL 3.5 (ML-DSA-44/65/87 root, ML-DSA
// leaf from an ML-DSA CSR, CRL by `openssl ca -gencrl`) parse and verify here, and we issue from its CSR.
func TestWeParseOpenSSL35MLDSA(t *testing.T) {
	ossl := interop.OpenSSL35(t)
	for _, lvl := range []string{"44", "65", "87"} {
		t.Run("ML-DSA-"+lvl, func(t *testing.T) {
			dir := t.TempDir()
			run := func(args ...string) string {
				return interop.MustRun(t, dir, append(append([]string{}, ossl...), args...)...)
			}
			run("genpkey", "-algorithm", "ML-DSA-"+lvl, "-out", "root.key")
			run("req", "-x509", "-new", "-key", "root.key", "-subj", "/CN=OpenSSL ML-DSA-"+lvl+" Root", "-days", "3650",
				"-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", "root.pem")
			run("genpkey", "-algorithm", "ML-DSA-"+lvl, "-out", "leaf.key")
			run("req", "-new", "-key", "leaf.key", "-subj", "/CN=OpenSSL leaf", "-addext", "subjectAltName=DNS:leaf.example", "-out", "leaf.csr")
			if err := os.WriteFile(filepath.Join(dir, "leaf.ext"), []byte("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			run("x509", "-req", "-in", "leaf.csr", "-CA", "root.pem", "-CAkey", "root.key", "-set_serial", "4660", "-days", "365", "-extfile", "leaf.ext", "-out", "leaf.pem")
			// A CRL from `openssl ca`, revoking the leaf.
			conf := "[ca]\ndefault_ca=CA\n[CA]\ndatabase=index.txt\ncrlnumber=crlnumber\ndefault_md=default\ndefault_crl_days=7\ncrl_extensions=crlext\n[crlext]\nauthorityKeyIdentifier=keyid\n"
			for name, content := range map[string]string{"ca.cnf": conf, "index.txt": "", "crlnumber": "1000\n"} {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			run("ca", "-config", "ca.cnf", "-revoke", "leaf.pem", "-keyfile", "root.key", "-cert", "root.pem", "-crl_reason", "superseded")
			run("ca", "-config", "ca.cnf", "-gencrl", "-keyfile", "root.key", "-cert", "root.pem", "-out", "crl.pem")

			root, err := ParseCertificate(readPEM(t, filepath.Join(dir, "root.pem")))
			if err != nil {
				t.Fatal(err)
			}
			if root.SignatureAlgorithm.String() != "ML-DSA-"+lvl {
				t.Fatal(root.SignatureAlgorithm)
			}
			if err := root.CheckSignatureFrom(root); err != nil {
				t.Fatal(err)
			}
			leaf, err := ParseCertificate(readPEM(t, filepath.Join(dir, "leaf.pem")))
			if err != nil {
				t.Fatal(err)
			}
			if err := leaf.CheckSignatureFrom(root); err != nil {
				t.Fatal(err)
			}
			crl, err := ParseCRL(readPEM(t, filepath.Join(dir, "crl.pem")))
			if err != nil {
				t.Fatal(err)
			}
			if err := crl.CheckSignatureFrom(root); err != nil {
				t.Fatal(err)
			}
			if len(crl.RevokedCertificateEntries) != 1 || crl.RevokedCertificateEntries[0].SerialNumber.Int64() != 4660 ||
				Reason(crl.RevokedCertificateEntries[0]) != ReasonSuperseded || crl.Number.Int64() != 0x1000 {
				t.Fatalf("CRL content: %+v %v", crl.RevokedCertificateEntries, crl.Number)
			}
			csr, err := x509.ParseCertificateRequest(readPEM(t, filepath.Join(dir, "leaf.csr")))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := CheckCSRSignature(csr); err != nil {
				t.Fatal(err)
			}
			// Our issuer (an ECDSA root) issues from the OpenSSL ML-DSA CSR; OpenSSL verifies the result.
			ours := newRoot(t, KeyECDSAP256, 0, "our root for openssl CSR")
			c, err := ours.Issue(context.Background(), &IssueRequest{Profile: CodeSigningCertificateV1, CSR: csr, Validity: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			if c.DNSNames[0] != "leaf.example" || c.Subject.CommonName != "OpenSSL leaf" {
				t.Fatal("CSR content")
			}
			writePEM(t, filepath.Join(dir, "ours-root.pem"), "CERTIFICATE", ours.Certificate.Raw)
			writePEM(t, filepath.Join(dir, "ours-leaf.pem"), "CERTIFICATE", c.Raw)
			out := run("verify", "-attime", attime, "-purpose", "codesign", "-CAfile", "ours-root.pem", "ours-leaf.pem")
			if !strings.Contains(out, "OK") {
				t.Fatal(out)
			}
		})
	}
}
