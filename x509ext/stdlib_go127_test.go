//go:build go1.27

package x509ext

import (
	"context"
	"crypto/mldsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"testing"
	"time"
)

// TestStdlibGo127ParsesOurMLDSACertificates: on Go 1.27, crypto/x509 parses and verifies the ML-DSA chains
// pkikit issues (its PublicKey is then *mldsa.PublicKey), and a standard-library *mldsa.PrivateKey issues
// through x509ext as any crypto.Signer does.
func TestStdlibGo127ParsesOurMLDSACertificates(t *testing.T) {
	for _, kt := range []KeyAlgorithm{KeyMLDSA44, KeyMLDSA65, KeyMLDSA87} {
		root := newRoot(t, kt, 0, "go1.27 root "+kt.String())
		leafKey := testKey(t, kt)
		leaf, err := root.Issue(context.Background(), &IssueRequest{Profile: mldsaLeafProfile(), PublicKey: leafKey.Public(),
			Subject: pkix.Name{CommonName: "go1.27 leaf"}, DNSNames: []string{"leaf.example.com"}, Validity: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		stdRoot, err := x509.ParseCertificate(root.Certificate.Raw)
		if err != nil {
			t.Fatalf("%v: crypto/x509 cannot parse our root: %v", kt, err)
		}
		stdLeaf, err := x509.ParseCertificate(leaf.Raw)
		if err != nil {
			t.Fatalf("%v: crypto/x509 cannot parse our leaf: %v", kt, err)
		}
		if _, ok := stdLeaf.PublicKey.(*mldsa.PublicKey); !ok {
			t.Fatalf("%v: crypto/x509 public key is %T", kt, stdLeaf.PublicKey)
		}
		if err := stdLeaf.CheckSignatureFrom(stdRoot); err != nil {
			t.Fatalf("%v: crypto/x509 rejects our signature: %v", kt, err)
		}
		pool := x509.NewCertPool()
		pool.AddCert(stdRoot)
		if _, err := stdLeaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: "leaf.example.com", CurrentTime: testTime.Add(time.Minute)}); err != nil {
			t.Fatalf("%v: crypto/x509 Verify: %v", kt, err)
		}
	}
	// A standard-library ML-DSA key signs certificates through x509ext.
	sk, err := mldsa.GenerateKey(mldsa.MLDSA65())
	if err != nil {
		t.Fatal(err)
	}
	c, err := SelfSign(context.Background(), sk, &IssueRequest{Profile: RootCACertificateV1,
		Subject: pkix.Name{CommonName: "stdlib key root"}, Validity: time.Hour})
	if err != nil {
		t.Fatalf("SelfSign with *mldsa.PrivateKey: %v", err)
	}
	if err := c.CheckSignatureFrom(c); err != nil {
		t.Fatal(err)
	}
}
