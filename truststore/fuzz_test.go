package truststore

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pkikit/pkikit/x509ext"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

func fuzzSeeds(f *testing.F) {
	for _, dir := range []string{"chains", "amazon"} {
		files, _ := filepath.Glob(filepath.Join("testdata", dir, "*.*"))
		var all []byte
		for _, p := range files {
			data, err := os.ReadFile(p)
			if err != nil {
				continue
			}
			certs, _ := ParseCertificates(data)
			for _, c := range certs {
				f.Add(c.Raw)
				all = append(all, c.Raw...)
			}
		}
		f.Add(all)
	}
	// leaf, intermediate (the order Verify is fed in), and a truncated certificate.
	leaf, inter := readTestChain(f, "mldsa65")
	f.Add(append(append([]byte(nil), leaf.Raw...), inter.Raw...))
	f.Add(leaf.Raw[:len(leaf.Raw)/2])
}

func readTestChain(t testing.TB, prefix string) (leaf, inter *x509ext.Certificate) {
	t.Helper()
	read := func(name string) *x509ext.Certificate {
		data, err := os.ReadFile(filepath.Join("testdata", "chains", prefix+"_"+name+".pem"))
		if err != nil {
			t.Fatal(err)
		}
		certs, err := ParseCertificatesPEM(data)
		if err != nil {
			t.Fatal(err)
		}
		return certs[0]
	}
	return read("leaf"), read("inter")
}

// FuzzVerify: arbitrary bytes are split into DER certificates (a concatenation of SEQUENCEs); the first that
// parses is the leaf, the others intermediates, verified against a store holding the test roots and whatever
// self-signed certificates the input contains. Verify must not panic and must stay within its budgets.
func FuzzVerify(f *testing.F) {
	fuzzSeeds(f)
	var anchors []*x509ext.Certificate
	for _, p := range []string{"mldsa65_root.pem", "ec_root.pem"} {
		data, err := os.ReadFile(filepath.Join("testdata", "chains", p))
		if err != nil {
			f.Fatal(err)
		}
		c, err := ParseCertificatesPEM(data)
		if err != nil {
			f.Fatal(err)
		}
		anchors = append(anchors, c...)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := cryptobyte.String(data)
		var certs []*x509ext.Certificate
		for !s.Empty() && len(certs) < 32 {
			var el cryptobyte.String
			if !s.ReadASN1Element(&el, cbasn1.SEQUENCE) {
				break
			}
			if c, err := x509ext.ParseCertificate(el); err == nil {
				certs = append(certs, c)
			}
		}
		if len(certs) == 0 {
			return
		}
		store := NewStore(anchors...)
		for _, c := range certs[1:] {
			if IsSelfSigned(c) {
				store.AddAnchor(c)
			}
		}
		start := time.Now()
		opts := VerifyOptions{Time: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), Intermediates: certs[1:], Purpose: PurposeAny,
			Name: "leaf.example.com", MaxSignatureChecks: 20}
		chains, err := store.Verify(certs[0], opts)
		if err == nil && len(chains) == 0 {
			t.Fatal("no error and no chain")
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("Verify took %v", d)
		}
		// The inventory of the same certificates must not panic either.
		r := NewReport(InventoryOptions{Time: opts.Time})
		for _, c := range certs {
			r.Add("fuzz", c)
		}
	})
}

// FuzzParseCRL: CRL parsing and signature checking on arbitrary bytes must not panic.
func FuzzParseCRL(f *testing.F) {
	f.Add([]byte{0x30, 0x03, 0x30, 0x01, 0x00})
	_, inter := readTestChain(f, "ec")
	f.Fuzz(func(t *testing.T, data []byte) {
		crl, err := ParseCRL(data)
		if err != nil {
			return
		}
		_ = CheckCRLSignature(crl, inter)
	})
}

// FuzzParseCertificates: PEM/DER certificate parsing, anchor loading and pin parsing on arbitrary bytes.
func FuzzParseCertificates(f *testing.F) {
	fuzzSeeds(f)
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		certs, _ := ParseCertificates(data)
		s := &Store{}
		s.AddAnchorsPEM(data)
		for _, c := range certs {
			s.AddAnchor(c)
			AmazonRootPins().Match(c)
		}
		_, _ = ParsePin("fuzz", string(data))
	})
}
