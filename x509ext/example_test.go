package x509ext_test

import (
	"context"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"time"

	"github.com/pkikit/pkikit/x509ext"
)

// Issue a TLS server certificate from an ML-DSA-65 root.
func ExampleIssuer_Issue() {
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rootKey, _ := x509ext.GenerateKey(x509ext.KeyMLDSA65)
	rootCert, err := x509ext.SelfSign(ctx, rootKey, &x509ext.IssueRequest{
		Profile:   x509ext.RootCACertificateV1,
		Subject:   pkix.Name{CommonName: "Example Root"},
		NotBefore: now, Validity: 10 * 365 * 24 * time.Hour,
	})
	if err != nil {
		panic(err)
	}
	ca := &x509ext.Issuer{Certificate: rootCert, Signer: rootKey}

	serverKey, _ := x509ext.GenerateKey(x509ext.KeyECDSAP256)
	cert, err := ca.Issue(ctx, &x509ext.IssueRequest{
		Profile:   x509ext.EndEntityServerAuthCertificateV1,
		PublicKey: serverKey.Public(),
		Subject:   pkix.Name{CommonName: "www.example.com"},
		DNSNames:  []string{"www.example.com"},
		NotBefore: now, Validity: 90 * 24 * time.Hour,
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(cert.Subject.CommonName, cert.DNSNames, cert.SignatureAlgorithm, cert.KeyAlgorithm)
	fmt.Println("verifies under the root:", cert.CheckSignatureFrom(rootCert) == nil)
	// Output:
	// www.example.com [www.example.com] ML-DSA-65 ECDSA-P256
	// verifies under the root: true
}

// Profiles are found by AWS Private CA template ARN or name.
func ExampleLookupProfile() {
	p, err := x509ext.LookupProfile("arn:aws:acm-pca:::template/SubordinateCACertificate_PathLen0/V1")
	if err != nil {
		panic(err)
	}
	fmt.Println(p.Name, p.IsCA, p.MaxPathLen, p.KeyUsageCritical)
	// Output: SubordinateCACertificate_PathLen0/V1 true 0 true
}

// A ca-config.json as given to `aws acm-pca create-certificate-authority` works unchanged.
func ExampleParseCAConfig() {
	cfg, err := x509ext.ParseCAConfig([]byte(`{
	  "KeyAlgorithm": "ML_DSA_87",
	  "SigningAlgorithm": "ML_DSA_87",
	  "Subject": {"Country": "US", "Organization": "Example Corp", "CommonName": "Example PQ Root"}
	}`))
	if err != nil {
		panic(err)
	}
	fmt.Println(cfg.KeyAlgorithm, cfg.SigningAlgorithm, cfg.Subject)
	_, err = x509ext.ParseCAConfig([]byte(`{"KeyAlgorithm": "EC_prime256v1", "SigningAlgorithm": "SHA256WITHRSA", "Subject": {"CommonName": "x"}}`))
	fmt.Println(err != nil)
	// Output:
	// ML-DSA-87 ML-DSA-87 CN=Example PQ Root,O=Example Corp,C=US
	// true
}

// An API passthrough (AWS IssueCertificate --api-passthrough) is accepted by _APIPassthrough profiles.
func ExampleParseAPIPassthrough() {
	pt, err := x509ext.ParseAPIPassthrough([]byte(`{"Extensions": {
	  "SubjectAlternativeNames": [{"DnsName": "device-17.example.com"}],
	  "CustomExtensions": [{"ObjectIdentifier": "1.3.6.1.4.1.99999.1", "Value": "DAVoZWxsbw=="}]}}`))
	if err != nil {
		panic(err)
	}
	fmt.Println(pt.SubjectAltNames.DNSNames, pt.CustomExtensions[0].Id)
	// Output: [device-17.example.com] 1.3.6.1.4.1.99999.1
}

// A CRL signed with ML-DSA-44.
func ExampleIssuer_CreateCRL() {
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	key, _ := x509ext.GenerateKey(x509ext.KeyMLDSA44)
	cert, _ := x509ext.SelfSign(ctx, key, &x509ext.IssueRequest{Profile: x509ext.RootCACertificateV1,
		Subject: pkix.Name{CommonName: "CRL Example CA"}, NotBefore: now, Validity: 365 * 24 * time.Hour})
	ca := &x509ext.Issuer{Certificate: cert, Signer: key, Now: func() time.Time { return now }}
	crl, err := ca.CreateCRL(ctx, &x509ext.CRLRequest{Number: big.NewInt(1), Validity: 7 * 24 * time.Hour,
		Revoked: []x509ext.RevokedCertificate{{SerialNumber: big.NewInt(1234), RevocationTime: now, Reason: x509ext.ReasonKeyCompromise}}})
	if err != nil {
		panic(err)
	}
	e := crl.RevokedCertificateEntries[0]
	fmt.Println(crl.SignatureAlgorithm, crl.Number, e.SerialNumber, x509ext.Reason(e), crl.CheckSignatureFrom(cert) == nil)
	// Output: ML-DSA-44 1 1234 keyCompromise true
}
