package x509ext

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func seedFiles(f *testing.F, patterns ...string) {
	f.Helper()
	for _, p := range patterns {
		files, _ := filepath.Glob(p)
		for _, name := range files {
			data, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			if b, _ := pem.Decode(data); b != nil {
				data = b.Bytes
			}
			f.Add(data)
		}
	}
}

// typedErr fails unless err is nil or one of this package's *Error values.
func typedErr(t *testing.T, err error) {
	var e *Error
	if err != nil && !errors.As(err, &e) {
		t.Fatalf("untyped error %T: %v", err, err)
	}
}

func FuzzParseCertificate(f *testing.F) {
	seedFiles(f, "testdata/rfc9881/*.crt", "testdata/openssl35/root.der")
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseCertificate(data)
		typedErr(t, err)
		if err == nil {
			typedErr(t, c.CheckSignatureFrom(c))
		}
	})
}

func FuzzParseCRL(f *testing.F) {
	seedFiles(f, "testdata/openssl35/crl.der")
	root, _ := os.ReadFile("testdata/openssl35/root.der")
	issuer, err := ParseCertificate(root)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseCRL(data)
		typedErr(t, err)
		if err == nil {
			typedErr(t, c.CheckSignatureFrom(issuer))
		}
	})
}

func FuzzCheckCSRSignature(f *testing.F) {
	seedFiles(f, "testdata/openssl35/leaf.csr.der")
	f.Fuzz(func(t *testing.T, data []byte) {
		csr, err := x509.ParseCertificateRequest(data)
		if err != nil {
			return
		}
		_, err = CheckCSRSignature(csr)
		typedErr(t, err)
	})
}

func FuzzParseCAConfig(f *testing.F) {
	seedFiles(f, "testdata/caconfig/*.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseCAConfig(data)
		typedErr(t, err)
		if err == nil && c.SigningAlgorithm.CheckKeyType(c.KeyAlgorithm) != nil {
			t.Fatal("accepted a mismatched configuration")
		}
	})
}

func FuzzParseAPIPassthrough(f *testing.F) {
	seedFiles(f, "testdata/passthrough/*.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := ParseAPIPassthrough(data)
		typedErr(t, err)
	})
}
