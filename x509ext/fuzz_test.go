package x509ext

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pkikit/pkikit/internal/der"
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

// smallSeeds issues small certificates and a CRL (ECDSA and Ed25519, a few hundred bytes) as seeds next to the
// testdata files: the mutator explores their structure far faster than that of 5-7 KB ML-DSA certificates.
func smallSeeds(f *testing.F) (certs [][]byte, crl []byte) {
	f.Helper()
	root := newRoot(f, KeyEd25519, 0, "fuzz seed root")
	certs = append(certs, root.Certificate.Raw)
	r := leafReq(testKey(f, KeyECDSAP256).Public(), "fuzz.example.com")
	r.Profile = EndEntityServerAuthCertificateV1
	r.DNSNames, r.CRLDistributionPoints = []string{"fuzz.example.com"}, []string{"http://crl.example.com/a.crl"}
	leaf, err := root.Issue(context.Background(), r)
	if err != nil {
		f.Fatal(err)
	}
	certs = append(certs, leaf.Raw)
	c, err := root.CreateCRL(context.Background(), &CRLRequest{Validity: time.Hour,
		Revoked: []RevokedCertificate{{SerialNumber: leaf.SerialNumber, RevocationTime: testTime, Reason: ReasonKeyCompromise}}})
	if err != nil {
		f.Fatal(err)
	}
	return certs, c.Raw
}

func FuzzParseCertificate(f *testing.F) {
	seedFiles(f, "testdata/rfc9881/*.crt", "testdata/openssl35/root.der")
	certs, _ := smallSeeds(f)
	for _, c := range certs {
		f.Add(c)
	}
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
	_, crl := smallSeeds(f)
	f.Add(crl)
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
	f.Add(makeCSRDER(f, testKey(f, KeyEd25519), pkix.Name{CommonName: "fuzz"}, []string{"fuzz.example.com"}, nil))
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

// FuzzParseExtensionValues: the extension-value readers Issue applies to CSR content (keyUsage, extendedKeyUsage)
// and the issuance policy applies to a subjectAltName never panic, and keyUsage re-encodes minimally.
func FuzzParseExtensionValues(f *testing.F) {
	f.Add(marshalKeyUsage(kuCA))
	f.Add([]byte{0x03, 0x03, 0x07, 0x08, 0x80})
	eku, _ := marshalExtKeyUsage([]x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, []asn1.ObjectIdentifier{{1, 2, 3, 4}})
	f.Add(eku)
	san, _ := der.MarshalGeneralNames(der.GeneralNames{DNSNames: []string{"a.example.com"}, EmailAddresses: []string{"a@b.c"}})
	f.Add(san)
	f.Fuzz(func(t *testing.T, v []byte) {
		if ku, ok := parseKeyUsage(v); ok && ku != 0 {
			again, ok := parseKeyUsage(marshalKeyUsage(ku))
			if !ok || again != ku {
				t.Fatalf("keyUsage %b does not survive re-encoding", ku)
			}
		}
		if k, u, ok := parseExtKeyUsage(v); ok {
			if _, err := marshalExtKeyUsage(k, u); err != nil {
				t.Fatal(err)
			}
		}
		d := &Draft{Extensions: []pkix.Extension{{Id: OIDExtensionSubjectAltName, Value: v}}, RawSubject: v}
		_ = (&Policy{DenyWildcardNames: true, AllowedDNSSuffixes: []string{"example.com"}}).Check(d)
	})
}
