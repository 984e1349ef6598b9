package x509ext

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseAPIPassthroughTestdata(t *testing.T) {
	files, _ := filepath.Glob("testdata/passthrough/*.json")
	if len(files) < 5 {
		t.Fatalf("only %d passthrough files", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			p, err := ParseAPIPassthrough(data)
			if strings.HasPrefix(filepath.Base(f), "bad-") {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("want ErrMalformed, got %v", err)
				}
				return
			}
			if err != nil || p == nil {
				t.Fatal(err)
			}
		})
	}
}

func TestParseAPIPassthroughContent(t *testing.T) {
	data, err := os.ReadFile("testdata/passthrough/smartcard.json")
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParseAPIPassthrough(data)
	if err != nil {
		t.Fatal(err)
	}
	if p.KeyUsage != x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment|x509.KeyUsageKeyEncipherment {
		t.Fatalf("KU %b", p.KeyUsage)
	}
	if len(p.ExtKeyUsage) != 1 || p.ExtKeyUsage[0] != x509.ExtKeyUsageClientAuth || len(p.UnknownExtKeyUsage) != 2 {
		t.Fatalf("EKU %v %v", p.ExtKeyUsage, p.UnknownExtKeyUsage)
	}
	if !p.HasSubject || p.Subject.CommonName != "Smart Card User" || len(p.SubjectAltNames.DNSNames) != 1 ||
		len(p.SubjectAltNames.IPAddresses) != 1 || len(p.SubjectAltNames.EmailAddresses) != 1 || len(p.SubjectAltNames.URIs) != 1 {
		t.Fatalf("%+v", p)
	}
	if len(p.CertificatePolicies) != 1 || p.CertificatePolicies[0].CPSURI != "https://example.com/cps" {
		t.Fatal("policies")
	}
	if len(p.CustomExtensions) != 1 || string(p.CustomExtensions[0].Value[2:]) != "hello" {
		t.Fatal("custom")
	}
}

func TestParseAPIPassthroughRejects(t *testing.T) {
	for name, doc := range map[string]string{
		"unknown field":         `{"Extensions": {"Foo": 1}}`,
		"two name members":      `{"Extensions": {"SubjectAlternativeNames": [{"DnsName": "a", "Rfc822Name": "b"}]}}`,
		"bad IP":                `{"Extensions": {"SubjectAlternativeNames": [{"IpAddress": "1.2.3"}]}}`,
		"relative URI":          `{"Extensions": {"SubjectAlternativeNames": [{"UniformResourceIdentifier": "/x"}]}}`,
		"bad OID":               `{"Extensions": {"ExtendedKeyUsage": [{"ExtendedKeyUsageObjectIdentifier": "3.1"}]}}`,
		"OID leading zero":      `{"Extensions": {"CustomExtensions": [{"ObjectIdentifier": "1.02.3", "Value": "BQA="}]}}`,
		"type and OID":          `{"Extensions": {"ExtendedKeyUsage": [{"ExtendedKeyUsageType": "CLIENT_AUTH", "ExtendedKeyUsageObjectIdentifier": "1.2.3"}]}}`,
		"value not DER":         `{"Extensions": {"CustomExtensions": [{"ObjectIdentifier": "1.2.3", "Value": "BQAA"}]}}`,
		"trailing data":         `{} {}`,
		"country three letters": `{"Subject": {"Country": "USA"}}`,
		"given name too long":   `{"Subject": {"GivenName": "abcdefghijklmnopq"}}`,
		"custom attrs mixed":    `{"Subject": {"CommonName": "x", "CustomAttributes": [{"ObjectIdentifier": "2.5.4.3", "Value": "y"}]}}`,
		"non-CPS qualifier":     `{"Extensions": {"CertificatePolicies": [{"CertPolicyId": "1.2.3", "PolicyQualifiers": [{"PolicyQualifierId": "UNOTICE"}]}]}}`,
		"not JSON":              `{`,
	} {
		if _, err := ParseAPIPassthrough([]byte(doc)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := ParseAPIPassthrough(make([]byte, MaxJSONSize+1)); !errors.Is(err, ErrLimit) {
		t.Errorf("size limit: %v", err)
	}
}

// TestPrecedenceProfileOverPassthroughOverCSR: AWS "template order of operations".
func TestPrecedenceProfileOverPassthroughOverCSR(t *testing.T) {
	ctx := context.Background()
	root := newRoot(t, KeyECDSAP256, 0, "precedence root")
	k := testKey(t, KeyRSA2048)
	pt := &APIPassthrough{KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
		Subject:     pkix.Name{CommonName: "from passthrough"}, HasSubject: true,
		SubjectAltNames: AltNames{DNSNames: []string{"pt.example.com"}}}
	csr := makeCSR(t, k, pkix.Name{CommonName: "from csr"}, []string{"csr.example.com"},
		[]pkix.Extension{extension(OIDExtensionKeyUsage, true, marshalKeyUsage(x509.KeyUsageDataEncipherment))})

	// Profile sets KU/EKU: passthrough and CSR values are ignored; passthrough subject/SAN beat the CSR's.
	c, err := root.Issue(ctx, &IssueRequest{Profile: EndEntityClientAuthCertificateAPIPassthroughV1, CSR: csr,
		APIPassthrough: pt, Validity: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if c.KeyUsage != x509.KeyUsageDigitalSignature|x509.KeyUsageKeyEncipherment || len(c.ExtKeyUsage) != 1 ||
		c.ExtKeyUsage[0] != x509.ExtKeyUsageClientAuth {
		t.Fatalf("profile did not win: %b %v", c.KeyUsage, c.ExtKeyUsage)
	}
	if c.Subject.CommonName != "from passthrough" || c.DNSNames[0] != "pt.example.com" {
		t.Fatalf("passthrough did not beat CSR: %v %v", c.Subject, c.DNSNames)
	}
	// Blank template: KU/EKU from passthrough.
	c, err = root.Issue(ctx, &IssueRequest{Profile: BlankEndEntityCertificateAPIPassthroughV1, CSR: csr,
		APIPassthrough: pt, Validity: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if c.KeyUsage != pt.KeyUsage || c.ExtKeyUsage[0] != x509.ExtKeyUsageEmailProtection {
		t.Fatalf("passthrough KU/EKU not used: %b %v", c.KeyUsage, c.ExtKeyUsage)
	}
	// Request fields beat passthrough.
	c, err = root.Issue(ctx, &IssueRequest{Profile: BlankEndEntityCertificateAPIPassthroughV1, CSR: csr,
		APIPassthrough: pt, Subject: pkix.Name{CommonName: "from request"}, DNSNames: []string{"req.example.com"}, Validity: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject.CommonName != "from request" || c.DNSNames[0] != "req.example.com" {
		t.Fatal("request did not beat passthrough")
	}
	// No passthrough: subject and SAN from the CSR (every template copies them); CSR KU ignored without
	// CSRPassthrough.
	c, err = root.Issue(ctx, &IssueRequest{Profile: BlankEndEntityCertificateAPIPassthroughV1, CSR: csr, Validity: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject.CommonName != "from csr" || c.DNSNames[0] != "csr.example.com" || c.KeyUsage != 0 {
		t.Fatalf("CSR values: %v %v %b", c.Subject, c.DNSNames, c.KeyUsage)
	}
	// CSRPassthrough profile: CSR KU used when neither profile nor passthrough sets one.
	p := BlankEndEntityCertificateAPIPassthroughV1
	p.Name, p.CSRPassthrough = "test/csr-passthrough", true
	c, err = root.Issue(ctx, &IssueRequest{Profile: p, CSR: csr, Validity: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if c.KeyUsage != x509.KeyUsageDataEncipherment {
		t.Fatalf("CSR KU not passed through: %b", c.KeyUsage)
	}
}
