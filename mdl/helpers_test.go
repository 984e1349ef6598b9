package mdl

import (
	"context"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"

	"github.com/pkikit/pkikit/truststore"
	"github.com/pkikit/pkikit/x509ext"
)

// testPKI is an IACA root, a Document Signer and a trust store holding the IACA.
type testPKI struct {
	iacaKey, dsKey crypto.Signer
	iaca, ds       *x509ext.Certificate
	store          *truststore.Store
	issuer         *Issuer
}

var testBase = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func mustKey(t testing.TB, kt x509ext.KeyAlgorithm) crypto.Signer {
	t.Helper()
	k, err := x509ext.GenerateKey(kt)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newIACA(t testing.TB, kt x509ext.KeyAlgorithm, cn string) (crypto.Signer, *x509ext.Certificate) {
	t.Helper()
	key := mustKey(t, kt)
	uris, _ := parseURLs("https://iaca.example.org/crl/" + cn + ".crl")
	c, err := x509ext.SelfSign(context.Background(), key, &x509ext.IssueRequest{
		Profile:               x509ext.MDLIACACertificateV1,
		Subject:               pkix.Name{Country: []string{"US"}, Province: []string{"NY"}, CommonName: cn},
		NotBefore:             testBase.Add(-30 * 24 * time.Hour),
		Validity:              9 * 365 * 24 * time.Hour,
		IssuerAltName:         x509ext.AltNames{EmailAddresses: []string{"iaca@example.org"}},
		CRLDistributionPoints: []string{uris},
	})
	if err != nil {
		t.Fatal(err)
	}
	return key, c
}

func parseURLs(s string) (string, error) { return s, nil }

// newDS issues a DS certificate with the given profile (MDLDocumentSignerCertificateV1 normally).
func newDS(t testing.TB, iacaKey crypto.Signer, iaca *x509ext.Certificate, kt x509ext.KeyAlgorithm, prof x509ext.Profile) (crypto.Signer, *x509ext.Certificate) {
	t.Helper()
	key := mustKey(t, kt)
	iss := &x509ext.Issuer{Certificate: iaca, Signer: iacaKey}
	c, err := iss.Issue(context.Background(), &x509ext.IssueRequest{
		Profile:               prof,
		PublicKey:             key.Public(),
		Subject:               pkix.Name{Country: []string{"US"}, Province: []string{"NY"}, CommonName: "Test Document Signer"},
		NotBefore:             testBase.Add(-24 * time.Hour),
		Validity:              365 * 24 * time.Hour,
		IssuerAltName:         x509ext.AltNames{EmailAddresses: []string{"iaca@example.org"}},
		CRLDistributionPoints: []string{"https://iaca.example.org/crl/ds.crl"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return key, c
}

func newTestPKI(t testing.TB, iacaKT, dsKT x509ext.KeyAlgorithm) *testPKI {
	t.Helper()
	p := &testPKI{}
	p.iacaKey, p.iaca = newIACA(t, iacaKT, "Test IACA")
	p.dsKey, p.ds = newDS(t, p.iacaKey, p.iaca, dsKT, x509ext.MDLDocumentSignerCertificateV1)
	p.store = truststore.NewStore(p.iaca)
	var err error
	if p.issuer, err = NewIssuer(p.dsKey, p.ds, IssuerOptions{IACA: p.iaca, Time: testBase}); err != nil {
		t.Fatal(err)
	}
	return p
}

// sampleElements is a sample holder's mDL data.
func sampleElements(extra int) map[string]map[string]any {
	m := map[string]any{
		"family_name":            "Mustermann",
		"given_name":             "Erika",
		"birth_date":             FullDate("1971-09-01"),
		"issue_date":             FullDate("2026-02-01"),
		"expiry_date":            FullDate("2031-02-01"),
		"issuing_country":        "US",
		"issuing_authority":      "New York State DMV",
		"issuing_jurisdiction":   "NY",
		"document_number":        "NY-1234567",
		"portrait":               []byte{0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0xff, 0xd9},
		"un_distinguishing_sign": "USA",
		"driving_privileges": []any{
			map[string]any{"vehicle_category_code": "B", "issue_date": FullDate("2010-05-01"), "expiry_date": FullDate("2031-02-01")},
		},
		"age_over_18": true,
		"age_over_21": true,
		"age_over_65": false,
	}
	for i := 0; i < extra; i++ {
		m["extra_element_"+string(rune('a'+i))] = "value"
	}
	return map[string]map[string]any{NamespaceMDL: m}
}

func newDeviceKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func issueSample(t testing.TB, p *testPKI, dev crypto.PublicKey) *IssuerSigned {
	t.Helper()
	s, err := p.issuer.Issue(context.Background(), &IssueRequest{
		NameSpaces: sampleElements(0), DeviceKey: dev,
		Signed: testBase, ValidUntil: testBase.Add(30 * 24 * time.Hour),
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var testRequest = ItemsRequest{DocType: DocTypeMDL, NameSpaces: map[string][]string{
	NamespaceMDL: {"family_name", "given_name", "birth_date", "issuing_country", "age_over_21", "portrait", "driving_privileges"},
}}

func testTranscript() *SessionTranscript {
	return NewOpenID4VPSessionTranscript("x509_san_dns:verifier.example.org", "nonce-123", nil, "https://verifier.example.org/response")
}

func readerKey(t testing.TB) *ecdh.PrivateKey {
	t.Helper()
	k, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func bigSerial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	return n.SetBit(n, 119, 1)
}

func pkixName(c, cn string) pkix.Name { return pkix.Name{Country: []string{c}, CommonName: cn} }
