package mdl_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509/pkix"
	"fmt"
	"time"

	"github.com/pkikit/pkikit/mdl"
	"github.com/pkikit/pkikit/truststore"
	"github.com/pkikit/pkikit/x509ext"
)

// Example issues an mDL, presents two of its elements for an OpenID4VP session and verifies the presentation.
func Example() {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	// The issuing authority: an IACA root and a Document Signer (any crypto.Signer: a KMS key works the same).
	iacaKey, _ := x509ext.GenerateKey(x509ext.KeyECDSAP256)
	names := x509ext.AltNames{EmailAddresses: []string{"iaca@example.org"}}
	crl := []string{"https://iaca.example.org/iaca.crl"}
	iaca, err := x509ext.SelfSign(ctx, iacaKey, &x509ext.IssueRequest{Profile: x509ext.MDLIACACertificateV1,
		Subject: pkix.Name{Country: []string{"US"}, CommonName: "Example IACA"}, NotBefore: now.AddDate(0, -1, 0),
		Validity: 5 * 365 * 24 * time.Hour, IssuerAltName: names, CRLDistributionPoints: crl})
	if err != nil {
		panic(err)
	}
	dsKey, _ := x509ext.GenerateKey(x509ext.KeyECDSAP256)
	ds, err := (&x509ext.Issuer{Certificate: iaca, Signer: iacaKey}).Issue(ctx, &x509ext.IssueRequest{
		Profile: x509ext.MDLDocumentSignerCertificateV1, PublicKey: dsKey.Public(),
		Subject: pkix.Name{Country: []string{"US"}, CommonName: "Example DS"}, NotBefore: now.AddDate(0, 0, -1),
		Validity: 365 * 24 * time.Hour, IssuerAltName: names, CRLDistributionPoints: crl})
	if err != nil {
		panic(err)
	}
	issuer, err := mdl.NewIssuer(dsKey, ds, mdl.IssuerOptions{IACA: iaca, Time: now})
	if err != nil {
		panic(err)
	}

	// Issue to a holder's device key.
	device, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	doc, err := issuer.Issue(ctx, &mdl.IssueRequest{
		NameSpaces: map[string]map[string]any{mdl.NamespaceMDL: {
			"family_name": "Mustermann", "given_name": "Erika", "birth_date": mdl.FullDate("1971-09-01"),
			"issuing_country": "US", "age_over_21": true,
		}},
		DeviceKey: &device.PublicKey, Signed: now, ValidUntil: now.AddDate(0, 1, 0),
	})
	if err != nil {
		panic(err)
	}

	// The holder discloses what the reader asked for, bound to the session.
	transcript := mdl.NewOpenID4VPSessionTranscript("x509_san_dns:reader.example.org", "n-0S6_WzA2Mj", nil, "https://reader.example.org/post")
	resp, err := mdl.Present(ctx, doc, mdl.PresentOptions{
		Request:           mdl.ItemsRequest{DocType: mdl.DocTypeMDL, NameSpaces: map[string][]string{mdl.NamespaceMDL: {"age_over_21", "issuing_country"}}},
		SessionTranscript: transcript, DeviceSigner: device,
	})
	if err != nil {
		panic(err)
	}

	// The reader verifies against its IACA trust store.
	res, err := mdl.VerifyDeviceResponse(resp.Marshal(), mdl.VerifyOptions{
		TrustStore: truststore.NewStore(iaca), Time: now.Add(time.Minute), SessionTranscript: transcript, DocType: mdl.DocTypeMDL,
	})
	if err != nil {
		panic(err)
	}
	d := res.Documents[0]
	fmt.Println(d.DocType, d.Elements[mdl.NamespaceMDL]["age_over_21"], d.Elements[mdl.NamespaceMDL]["issuing_country"], len(d.Elements[mdl.NamespaceMDL]))
	fmt.Println(d.DeviceAuthentication, d.Handover)
	// Output:
	// org.iso.18013.5.1.mDL true US 2
	// signature OpenID4VP
}

// ExampleCheckDocumentSignerCertificate reports Annex B findings without rejecting (lenient mode).
func ExampleCheckDocumentSignerCertificate() {
	key, _ := x509ext.GenerateKey(x509ext.KeyECDSAP256)
	root, _ := x509ext.SelfSign(context.Background(), key, &x509ext.IssueRequest{Profile: x509ext.RootCACertificateV1,
		Subject: pkix.Name{Country: []string{"US"}, CommonName: "Not a DS"}, Validity: 24 * time.Hour})
	rep, err := mdl.CheckDocumentSignerCertificate(root, nil, mdl.CertificateCheckOptions{Lenient: true})
	fmt.Println(err, rep.OK())
	for _, f := range rep.Findings {
		if f.Rule == "ds-eku" || f.Rule == "ds-key-usage" {
			fmt.Println(f.Rule)
		}
	}
	// Output:
	// <nil> false
	// ds-key-usage
	// ds-eku
}
