package cms

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pkikit/pkikit/truststore"
	"github.com/pkikit/pkikit/x509ext"
)

func readCertFile(t testing.TB, name string) *x509ext.Certificate {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(data)
	if b == nil {
		t.Fatalf("%s: no PEM", name)
	}
	c, err := x509ext.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestRFC9882Examples verifies the three RFC 9882 Appendix B SignedData with the RFC 9881 certificates (the
// signer's certificate is not embedded, and it is its own trust anchor).
func TestRFC9882Examples(t *testing.T) {
	for _, n := range []string{"44", "65", "87"} {
		t.Run("ML-DSA-"+n, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "mldsa"+n+"-signed-attrs.pem"))
			if err != nil {
				t.Fatal(err)
			}
			cert := readCertFile(t, "ML-DSA-"+n+".crt")
			o := VerifyOptions{Store: truststore.NewStore(cert), Time: testNow, Certificates: []*x509ext.Certificate{cert},
				ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}
			res, err := Verify(data, nil, o)
			if err != nil {
				t.Fatal(err)
			}
			sd := res.SignedData
			want := "ML-DSA-" + n + " signed-data example with signed attributes"
			if string(sd.Content) != want || res.Signers[0].Digest != SHA512 || res.Signers[0].Algorithm.String() != "ML-DSA-"+n {
				t.Fatalf("content %q, digest %v, algorithm %v", sd.Content, res.Signers[0].Digest, res.Signers[0].Algorithm)
			}
			// Without the certificate, the signer is not found; with another parameter set's, neither.
			o.Certificates = nil
			if _, err := Verify(data, nil, o); !errors.Is(err, ErrSignerNotFound) {
				t.Fatalf("without certificate: %v", err)
			}
			// The example's content changed by one byte fails the digest.
			mod := bytes.Replace(sd.Raw, []byte("example"), []byte("exampl3"), 1)
			o.Certificates = []*x509ext.Certificate{cert}
			if _, err := Verify(mod, nil, o); !errors.Is(err, ErrContentDigest) {
				t.Fatalf("modified content: %v", err)
			}
			// Strict code-signing defaults reject the example certificate (no codeSigning EKU).
			o.ExtKeyUsage = nil
			if _, err := Verify(data, nil, o); !errors.Is(err, ErrEKU) {
				t.Fatalf("default purpose: %v", err)
			}
		})
	}
}

// TestOpenSSL35Vectors verifies SignedData made by OpenSSL 3.5.7 (SHA-512, SHAKE256, and BER from -stream).
func TestOpenSSL35Vectors(t *testing.T) {
	root := readCertFile(t, "openssl35-root.pem")
	content, err := os.ReadFile("testdata/openssl35-content.bin")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		file     string
		digest   Digest
		attached bool
	}{
		{"openssl35-mldsa65-sha512.der", SHA512, false},
		{"openssl35-mldsa65-shake256.der", SHAKE256, false},
		{"openssl35-mldsa65-stream-ber.der", SHA512, true},
	} {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			var c *bytes.Reader
			if !tc.attached {
				c = bytes.NewReader(content)
			}
			o := VerifyOptions{Store: truststore.NewStore(root), Time: root.NotBefore.Add(24 * time.Hour)}
			var res *Result
			if c != nil {
				res, err = Verify(data, c, o)
			} else {
				res, err = Verify(data, nil, o)
			}
			if err != nil {
				t.Fatal(err)
			}
			r := res.Signers[0]
			if r.Digest != tc.digest || len(r.Chain) != 2 || r.SigningTime.IsZero() {
				t.Fatalf("%+v", r)
			}
			if tc.attached && !bytes.Equal(res.SignedData.Content, content) {
				t.Fatal("BER content not reassembled")
			}
			if res.SignedData.SignerInfos[0].AlgorithmProtection {
				t.Fatal("OpenSSL 3.5 does not emit CMSAlgorithmProtection; parser invented one")
			}
			o.RequireAlgorithmProtection = true
			if c != nil {
				c.Seek(0, 0)
				_, err = Verify(data, c, o)
			} else {
				_, err = Verify(data, nil, o)
			}
			if !errors.Is(err, ErrAlgorithmProtection) {
				t.Fatalf("RequireAlgorithmProtection: %v", err)
			}
		})
	}
}
