package cms

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pkikit/pkikit/internal/alg"
	"github.com/pkikit/pkikit/internal/interop"
	"github.com/pkikit/pkikit/truststore"
	"github.com/pkikit/pkikit/x509ext"
	"go.mozilla.org/pkcs7"
)

func writePEMCerts(t testing.TB, path string, certs ...*x509ext.Certificate) {
	t.Helper()
	var buf bytes.Buffer
	for _, c := range certs {
		pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

var interopPKIs = map[x509ext.KeyAlgorithm]*testPKI{}

// interopPKI is a PKI valid now (OpenSSL checks certificates at the current time).
func interopPKI(t testing.TB, kt x509ext.KeyAlgorithm) *testPKI {
	ca := x509ext.KeyECDSAP256
	if kt.Family() == alg.FamilyMLDSA {
		ca = x509ext.KeyMLDSA65
	}
	if p, ok := interopPKIs[ca]; ok {
		return p
	}
	p := newPKIAt(t, ca, time.Now())
	interopPKIs[ca] = p
	return p
}

// signForOpenSSL signs content in dir and writes root.pem, content.bin and sig.der (or sig.pem).
func signForOpenSSL(t *testing.T, dir string, tc algCase, o SignOptions, usePEM bool) (sigFile string) {
	t.Helper()
	p := interopPKI(t, tc.kt)
	s := p.signer(t, tc.kt, &SignerOptions{Algorithm: tc.alg, Digest: tc.digest})
	content := bytes.Repeat([]byte("pkikit → OpenSSL\x00"), 100)
	o.Time = time.Now()
	der, err := Sign(context.Background(), bytes.NewReader(content), []*Signer{s}, &o)
	if err != nil {
		t.Fatal(err)
	}
	writePEMCerts(t, filepath.Join(dir, "root.pem"), p.root)
	os.WriteFile(filepath.Join(dir, "content.bin"), content, 0o644)
	sigFile = "sig.der"
	if usePEM {
		sigFile = "sig.pem"
		der = MarshalPEM(der)
	}
	os.WriteFile(filepath.Join(dir, sigFile), der, 0o644)
	return sigFile
}

func opensslVerifyArgs(sigFile string, attached bool, purpose string) []string {
	args := []string{"cms", "-verify", "-binary", "-in", sigFile, "-CAfile", "root.pem", "-purpose", purpose, "-out", "/dev/null"}
	if strings.HasSuffix(sigFile, ".der") {
		args = append(args, "-inform", "DER")
	} else {
		args = append(args, "-inform", "PEM")
	}
	if !attached {
		args = append(args, "-content", "content.bin")
	}
	return args
}

// TestInteropOpenSSL35VerifiesOurs: `openssl cms -verify -purpose codesign` (OpenSSL 3.5) accepts our detached
// signatures for every algorithm and digest, and attached and PEM forms.
func TestInteropOpenSSL35VerifiesOurs(t *testing.T) {
	ossl := interop.OpenSSL35(t)
	for _, tc := range algCases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			f := signForOpenSSL(t, dir, tc, SignOptions{}, false)
			out := interop.MustRun(t, dir, append(ossl, opensslVerifyArgs(f, false, "codesign")...)...)
			if !strings.Contains(out, "Verification successful") {
				t.Fatal(out)
			}
			// The same signature over other content is rejected by OpenSSL too.
			os.WriteFile(filepath.Join(dir, "content.bin"), []byte("tampered"), 0o644)
			if out, err := interop.Run(t, dir, append(ossl, opensslVerifyArgs(f, false, "codesign")...)...); err == nil {
				t.Fatalf("OpenSSL accepted tampered content: %s", out)
			}
		})
	}
	for _, tc := range []struct {
		name     string
		attached bool
		pem      bool
	}{{"ML-DSA-65/attached", true, false}, {"ML-DSA-65/PEM", false, true}, {"ML-DSA-65/attached-PEM", true, true}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			f := signForOpenSSL(t, dir, algCase{kt: x509ext.KeyMLDSA65}, SignOptions{Attached: tc.attached}, tc.pem)
			out := interop.MustRun(t, dir, append(ossl, opensslVerifyArgs(f, tc.attached, "codesign")...)...)
			if !strings.Contains(out, "Verification successful") {
				t.Fatal(out)
			}
		})
	}
}

// TestInteropOpenSSL30VerifiesClassical: the system OpenSSL 3.0 accepts our ECDSA and RSA signatures (3.0 has no
// "codesign" purpose; -purpose any). Ed25519 is left out: OpenSSL 3.0.19's CMS cannot sign or verify Ed25519
// with signed attributes at all ("eddsa_digest_signverify_init:invalid digest", also for its own signatures);
// OpenSSL 3.5 verifies our Ed25519 signatures (TestInteropOpenSSL35VerifiesOurs).
func TestInteropOpenSSL30VerifiesClassical(t *testing.T) {
	ossl := interop.OpenSSL30(t)
	for _, tc := range algCases {
		if tc.kt.Family() == alg.FamilyMLDSA || tc.kt == x509ext.KeyEd25519 {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			f := signForOpenSSL(t, dir, tc, SignOptions{}, false)
			out := interop.MustRun(t, dir, append(ossl, opensslVerifyArgs(f, false, "any")...)...)
			if !strings.Contains(out, "Verification successful") {
				t.Fatal(out)
			}
		})
	}
}

// TestInteropWeVerifyOpenSSL35: OpenSSL 3.5 makes a chain and signs (ML-DSA-44/65/87 × SHA-512/SHAKE256,
// detached, attached and streamed BER); we verify. SHA-256 with ML-DSA-65, which OpenSSL accepts, fails our
// strict RFC 9882 check and passes with AnyDigestUnsafe.
func TestInteropWeVerifyOpenSSL35(t *testing.T) {
	ossl := interop.OpenSSL35(t)
	run := func(t *testing.T, dir string, args ...string) {
		t.Helper()
		interop.MustRun(t, dir, append(ossl, args...)...)
	}
	dir := t.TempDir()
	run(t, dir, "genpkey", "-algorithm", "ML-DSA-87", "-out", "root.key")
	run(t, dir, "req", "-x509", "-new", "-key", "root.key", "-subj", "/CN=OpenSSL root", "-days", "30",
		"-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", "root.pem")
	os.WriteFile(filepath.Join(dir, "leaf.ext"), []byte("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"+
		"extendedKeyUsage=codeSigning\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"), 0o644)
	content := []byte("signed by OpenSSL 3.5\n")
	os.WriteFile(filepath.Join(dir, "content.bin"), content, 0o644)
	rootPEM, _ := os.ReadFile(filepath.Join(dir, "root.pem"))
	store := truststore.NewStore()
	if _, err := store.AddAnchorsPEM(rootPEM); err != nil {
		t.Fatal(err)
	}
	for _, level := range []string{"44", "65", "87"} {
		key, leaf := "leaf"+level+".key", "leaf"+level+".pem"
		run(t, dir, "genpkey", "-algorithm", "ML-DSA-"+level, "-out", key)
		run(t, dir, "req", "-new", "-key", key, "-subj", "/CN=OpenSSL signer "+level, "-out", "leaf.csr")
		run(t, dir, "x509", "-req", "-in", "leaf.csr", "-CA", "root.pem", "-CAkey", "root.key", "-CAcreateserial",
			"-days", "10", "-extfile", "leaf.ext", "-out", leaf)
		for _, md := range []string{"sha512", "shake256"} {
			for _, mode := range []string{"detached", "attached", "stream-ber"} {
				t.Run(level+"/"+md+"/"+mode, func(t *testing.T) {
					args := []string{"cms", "-sign", "-binary", "-in", "content.bin", "-signer", leaf, "-inkey", key,
						"-md", md, "-outform", "DER", "-out", "sig.der"}
					switch mode {
					case "attached":
						args = append(args, "-nodetach")
					case "stream-ber":
						args = append(args, "-nodetach", "-stream")
					}
					run(t, dir, args...)
					sig, _ := os.ReadFile(filepath.Join(dir, "sig.der"))
					var c *bytes.Reader
					if mode == "detached" {
						c = bytes.NewReader(content)
					}
					var res *Result
					var err error
					if c != nil {
						res, err = Verify(sig, c, VerifyOptions{Store: store})
					} else {
						res, err = Verify(sig, nil, VerifyOptions{Store: store})
					}
					if err != nil {
						t.Fatal(err)
					}
					if got := res.Signers[0].Algorithm.String(); got != "ML-DSA-"+level {
						t.Fatalf("algorithm %s", got)
					}
					if mode == "stream-ber" && !bytes.Equal(res.SignedData.Content, content) {
						t.Fatal("BER content")
					}
				})
			}
		}
	}
	t.Run("65/sha256-not-allowed", func(t *testing.T) {
		run(t, dir, "cms", "-sign", "-binary", "-in", "content.bin", "-signer", "leaf65.pem", "-inkey", "leaf65.key",
			"-md", "sha256", "-outform", "DER", "-out", "sig.der")
		sig, _ := os.ReadFile(filepath.Join(dir, "sig.der"))
		if _, err := Verify(sig, bytes.NewReader(content), VerifyOptions{Store: store}); !errors.Is(err, ErrDigestNotAllowed) {
			t.Fatalf("got %v, want ErrDigestNotAllowed", err)
		}
		if _, err := Verify(sig, bytes.NewReader(content), VerifyOptions{Store: store, AnyDigestUnsafe: true}); err != nil {
			t.Fatal(err)
		}
	})
}

// TestInteropWeVerifyOpenSSLClassical: OpenSSL 3.0 signs with ECDSA and RSA (rsaEncryption as the
// signatureAlgorithm, RFC 3370), OpenSSL 3.5 with Ed25519 (3.0 cannot); we verify.
func TestInteropWeVerifyOpenSSLClassical(t *testing.T) {
	for _, kt := range []x509ext.KeyAlgorithm{x509ext.KeyECDSAP256, x509ext.KeyRSA2048, x509ext.KeyEd25519} {
		t.Run(kt.String(), func(t *testing.T) {
			var ossl []string
			if kt == x509ext.KeyEd25519 {
				ossl = interop.OpenSSL35(t)
			} else {
				ossl = interop.OpenSSL30(t)
			}
			p := interopPKI(t, kt)
			cert, key := p.leaf(t, kt, nil)
			dir := t.TempDir()
			keyDER, err := x509ext.MarshalPKCS8PrivateKey(key)
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(dir, "leaf.key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600)
			writePEMCerts(t, filepath.Join(dir, "leaf.pem"), cert)
			writePEMCerts(t, filepath.Join(dir, "chain.pem"), p.sub)
			os.WriteFile(filepath.Join(dir, "content.bin"), testContent, 0o644)
			interop.MustRun(t, dir, append(ossl, "cms", "-sign", "-binary", "-in", "content.bin", "-signer", "leaf.pem",
				"-inkey", "leaf.key", "-certfile", "chain.pem", "-md", "sha512", "-outform", "DER", "-out", "sig.der")...)
			sig, _ := os.ReadFile(filepath.Join(dir, "sig.der"))
			if _, err := Verify(sig, bytes.NewReader(testContent), VerifyOptions{Store: p.store}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestInteropPkcs7: go.mozilla.org/pkcs7 verifies our classical signatures, and we verify its.
func TestInteropPkcs7(t *testing.T) {
	for _, kt := range []x509ext.KeyAlgorithm{x509ext.KeyECDSAP256, x509ext.KeyECDSAP384, x509ext.KeyRSA2048} {
		t.Run("pkcs7-verifies-ours/"+kt.String(), func(t *testing.T) {
			p := interopPKI(t, kt)
			s := p.signer(t, kt, nil)
			for _, attached := range []bool{false, true} {
				der, err := Sign(context.Background(), bytes.NewReader(testContent), []*Signer{s}, &SignOptions{Attached: attached})
				if err != nil {
					t.Fatal(err)
				}
				p7, err := pkcs7.Parse(der)
				if err != nil {
					t.Fatal(err)
				}
				if !attached {
					p7.Content = testContent
				}
				pool := x509.NewCertPool()
				pool.AddCert(p.root.Certificate)
				if err := p7.VerifyWithChain(pool); err != nil {
					t.Fatalf("attached=%v: %v", attached, err)
				}
			}
		})
		t.Run("we-verify-pkcs7/"+kt.String(), func(t *testing.T) {
			p := interopPKI(t, kt)
			cert, key := p.leaf(t, kt, nil)
			for _, detached := range []bool{false, true} {
				sd, err := pkcs7.NewSignedData(testContent)
				if err != nil {
					t.Fatal(err)
				}
				sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
				if err := sd.AddSignerChain(cert.Certificate, key, []*x509.Certificate{p.sub.Certificate}, pkcs7.SignerInfoConfig{}); err != nil {
					t.Fatal(err)
				}
				if detached {
					sd.Detach()
				}
				der, err := sd.Finish()
				if err != nil {
					t.Fatal(err)
				}
				var res *Result
				if detached {
					res, err = Verify(der, bytes.NewReader(testContent), VerifyOptions{Store: p.store})
				} else {
					res, err = Verify(der, nil, VerifyOptions{Store: p.store})
				}
				if err != nil {
					t.Fatalf("detached=%v: %v", detached, err)
				}
				if len(res.Signers[0].Chain) != 3 {
					t.Fatal("chain")
				}
			}
		})
	}
}
