package truststore_test

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/pkikit/pkikit/truststore"
	"github.com/pkikit/pkikit/x509ext"
)

func load(name string) *x509ext.Certificate {
	data, err := os.ReadFile("testdata/chains/" + name)
	if err != nil {
		panic(err)
	}
	certs, err := truststore.ParseCertificatesPEM(data)
	if err != nil {
		panic(err)
	}
	return certs[0]
}

// Verify an ML-DSA-65 chain made by OpenSSL 3.5 against its root.
func ExampleStore_Verify() {
	root, inter, leaf := load("mldsa65_root.pem"), load("mldsa65_inter.pem"), load("mldsa65_leaf.pem")
	store := truststore.NewStore(root)
	chains, err := store.Verify(leaf, truststore.VerifyOptions{
		Time:          time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC),
		Intermediates: []*x509ext.Certificate{inter},
		Name:          "leaf.example.com",
	})
	if err != nil {
		panic(err)
	}
	for _, c := range chains[0] {
		fmt.Println(c.Subject.CommonName, "-", c.SignatureAlgorithm)
	}
	// Output:
	// leaf.example.com - ML-DSA-65
	// Testdata Intermediate ML-DSA-65 - ML-DSA-65
	// Testdata Root ML-DSA-65 - ML-DSA-65
}

// A failed verification says which path was tried and why it was rejected.
func ExampleVerifyError() {
	root, inter, leaf := load("ec_root.pem"), load("ec_inter.pem"), load("ec_leaf.pem")
	store := truststore.NewStore(root)
	_, err := store.Verify(leaf, truststore.VerifyOptions{
		Time:          time.Date(2037, 1, 1, 0, 0, 0, 0, time.UTC), // the leaf expired on 2036-01-01
		Intermediates: []*x509ext.Certificate{inter},
	})
	fmt.Println(errors.Is(err, truststore.ErrExpired))
	var ve *truststore.VerifyError
	if errors.As(err, &ve) {
		for _, p := range ve.Paths {
			fmt.Println(p.ChainString())
			fmt.Println(p.Depth, p.Detail)
		}
	}
	// Output:
	// true
	// CN=leaf.example.com <- CN=Testdata Intermediate EC <- CN=Testdata Root EC
	// 0 expired at 2036-01-01T00:00:00Z, checked at 2037-01-01T00:00:00Z
}

// Check that a PEM bundle holds the five Amazon Trust Services roots, by their pinned public keys.
func ExamplePinSet_Check() {
	var bundle []byte
	for _, f := range []string{"Amazon_Root_CA_1.crt", "Amazon_Root_CA_2.crt", "Amazon_Root_CA_3.crt", "Amazon_Root_CA_4.crt"} {
		b, err := os.ReadFile("testdata/amazon/" + f)
		if err != nil {
			panic(err)
		}
		bundle = append(bundle, b...)
	}
	certs, err := truststore.ParseCertificatesPEM(bundle)
	if err != nil {
		panic(err)
	}
	r := truststore.AmazonRootPins().Check(certs)
	fmt.Println("found:", len(r.Found))
	for _, p := range r.Missing {
		fmt.Println("missing:", p.Name, p)
	}
	// Output:
	// found: 4
	// missing: Starfield Services Root Certificate Authority - G2 KwccWaCgrnaw6tsrrSO61FgLacNgG2MMLq8GE6+oP5I=
}

// An expiry report of a directory, as CSV.
func ExampleScanPaths() {
	r, err := truststore.ScanPaths(truststore.InventoryOptions{
		Time:      time.Date(2035, 12, 15, 0, 0, 0, 0, time.UTC),
		Threshold: 30 * 24 * time.Hour,
		// Only what the ML-DSA intermediate issued.
		IssuerContains: "Intermediate ML-DSA-65",
	}, "testdata/chains")
	if err != nil {
		panic(err)
	}
	for _, e := range r.ToRenew() {
		fmt.Println(e.Subject, e.DaysToExpiry, e.SANs)
	}
	// Output:
	// CN=leaf.example.com 17 [leaf.example.com]
}
