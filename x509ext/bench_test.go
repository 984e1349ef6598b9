package x509ext

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"

	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
)

func benchRequest(pub any) *IssueRequest {
	return &IssueRequest{Profile: EndEntityServerAuthCertificateV1, PublicKey: pub,
		Subject: pkix.Name{CommonName: "bench.example.com"}, DNSNames: []string{"bench.example.com"},
		NotBefore: testTime, NotAfter: testTime.Add(24 * time.Hour)}
}

// BenchmarkIssueECDSAP256 issues an ECDSA P-256 leaf from an ECDSA P-256 CA (returns the parsed certificate).
func BenchmarkIssueECDSAP256(b *testing.B) {
	root := newRoot(b, KeyECDSAP256, 0, "bench root")
	req := benchRequest(testKey(b, KeyECDSAP384).Public())
	ctx := context.Background()
	b.ReportAllocs()
	defer cpuTimer(b)()
	for b.Loop() {
		if _, err := root.Issue(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIssueECDSAP256_StdlibPeer makes the same certificate with crypto/x509.CreateCertificate (DER only).
func BenchmarkIssueECDSAP256_StdlibPeer(b *testing.B) {
	root := newRoot(b, KeyECDSAP256, 0, "bench root")
	pub := testKey(b, KeyECDSAP384).Public()
	tmpl := &x509.Certificate{Subject: pkix.Name{CommonName: "bench.example.com"}, DNSNames: []string{"bench.example.com"},
		NotBefore: testTime, NotAfter: testTime.Add(24 * time.Hour), BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	b.ReportAllocs()
	defer cpuTimer(b)()
	for b.Loop() {
		serial, _ := randomSerial()
		tmpl.SerialNumber = serial
		if _, err := x509.CreateCertificate(rand.Reader, tmpl, root.Certificate.Certificate, pub, root.Signer); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIssueMLDSA65 issues an ML-DSA-65 leaf from an ML-DSA-65 CA.
func BenchmarkIssueMLDSA65(b *testing.B) {
	root := newRoot(b, KeyMLDSA65, 0, "bench root")
	req := benchRequest(testKey(b, KeyMLDSA65).Public())
	req.Profile = mldsaLeafProfile()
	ctx := context.Background()
	b.ReportAllocs()
	defer cpuTimer(b)()
	for b.Loop() {
		if _, err := root.Issue(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIssueMLDSA65_CirclSignPeer is the raw circl ML-DSA-65 (hedged) signature over a TBS of the same size.
func BenchmarkIssueMLDSA65_CirclSignPeer(b *testing.B) {
	root := newRoot(b, KeyMLDSA65, 0, "bench root")
	req := benchRequest(testKey(b, KeyMLDSA65).Public())
	req.Profile = mldsaLeafProfile()
	c, err := root.Issue(context.Background(), req)
	if err != nil {
		b.Fatal(err)
	}
	tbs := c.RawTBSCertificate
	sk := root.Signer.(*mldsa65.PrivateKey)
	sig := make([]byte, mldsa65.SignatureSize)
	b.ReportAllocs()
	defer cpuTimer(b)()
	for b.Loop() {
		if err := mldsa65.SignTo(sk, tbs, nil, true, sig); err != nil {
			b.Fatal(err)
		}
	}
}

func benchLeaf(b *testing.B, kt KeyAlgorithm) (*Certificate, *Certificate) {
	root := newRoot(b, kt, 0, "bench root")
	req := benchRequest(testKey(b, KeyECDSAP256).Public())
	req.Profile = CodeSigningCertificateV1
	c, err := root.Issue(context.Background(), req)
	if err != nil {
		b.Fatal(err)
	}
	return c, root.Certificate
}

// BenchmarkCheckSignatureMLDSA65 checks an ML-DSA-65 certificate signature with CheckSignatureFrom.
func BenchmarkCheckSignatureMLDSA65(b *testing.B) {
	c, parent := benchLeaf(b, KeyMLDSA65)
	b.ReportAllocs()
	defer cpuTimer(b)()
	for b.Loop() {
		if err := c.CheckSignatureFrom(parent); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheckSignatureMLDSA65_RawVerifyPeer is circl's mldsa65.Verify on the same TBS and signature.
func BenchmarkCheckSignatureMLDSA65_RawVerifyPeer(b *testing.B) {
	c, parent := benchLeaf(b, KeyMLDSA65)
	pk := parent.PublicKey.(*mldsa65.PublicKey)
	b.ReportAllocs()
	defer cpuTimer(b)()
	for b.Loop() {
		if !mldsa65.Verify(pk, c.RawTBSCertificate, nil, c.Signature) {
			b.Fatal("verify")
		}
	}
}

// BenchmarkCheckSignatureECDSAP256 checks an ECDSA P-256 certificate signature with CheckSignatureFrom.
func BenchmarkCheckSignatureECDSAP256(b *testing.B) {
	c, parent := benchLeaf(b, KeyECDSAP256)
	b.ReportAllocs()
	defer cpuTimer(b)()
	for b.Loop() {
		if err := c.CheckSignatureFrom(parent); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheckSignatureECDSAP256_StdlibPeer is crypto/x509's CheckSignatureFrom on the same certificate.
func BenchmarkCheckSignatureECDSAP256_StdlibPeer(b *testing.B) {
	c, parent := benchLeaf(b, KeyECDSAP256)
	b.ReportAllocs()
	defer cpuTimer(b)()
	for b.Loop() {
		if err := c.Certificate.CheckSignatureFrom(parent.Certificate); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheckSignatureECDSAP256_RawVerifyPeer is ecdsa.VerifyASN1 on the TBS hash.
func BenchmarkCheckSignatureECDSAP256_RawVerifyPeer(b *testing.B) {
	c, parent := benchLeaf(b, KeyECDSAP256)
	pk := parent.PublicKey.(*ecdsa.PublicKey)
	b.ReportAllocs()
	defer cpuTimer(b)()
	for b.Loop() {
		h := sha256.Sum256(c.RawTBSCertificate)
		if !ecdsa.VerifyASN1(pk, h[:], c.Signature) {
			b.Fatal("verify")
		}
	}
}

var _ = big.NewInt
