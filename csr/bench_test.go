package csr

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"testing"

	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
	"github.com/pkikit/pkikit/x509ext"
)

// The benchmark request: a common name and one DNS name, as a TLS server asks.
func benchTemplate() *Template {
	return &Template{Subject: pkix.Name{CommonName: "www.example.com"}, DNSNames: []string{"www.example.com"}}
}

func benchStdlibTemplate() *x509.CertificateRequest {
	return &x509.CertificateRequest{Subject: pkix.Name{CommonName: "www.example.com"}, DNSNames: []string{"www.example.com"}}
}

func BenchmarkCreateECDSAP256(b *testing.B) {
	key := testKey(b, x509ext.KeyECDSAP256)
	tmpl := benchTemplate()
	ctx := context.Background()
	b.ReportAllocs()
	defer cpuTimer(b)()
	for b.Loop() {
		if _, err := Create(ctx, key, tmpl); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreateECDSAP256_StdlibPeer: crypto/x509 making the same request (it also verifies its signature).
func BenchmarkCreateECDSAP256_StdlibPeer(b *testing.B) {
	key := testKey(b, x509ext.KeyECDSAP256)
	tmpl := benchStdlibTemplate()
	b.ReportAllocs()
	defer cpuTimer(b)()
	for b.Loop() {
		if _, err := x509.CreateCertificateRequest(rand.Reader, tmpl, key); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCreateMLDSA65(b *testing.B) {
	key := testKey(b, x509ext.KeyMLDSA65)
	tmpl := benchTemplate()
	ctx := context.Background()
	b.ReportAllocs()
	defer cpuTimer(b)()
	for b.Loop() {
		if _, err := Create(ctx, key, tmpl); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreateMLDSA65_RawCirclSign: circl alone signing the same request info (hedged, as Create signs).
func BenchmarkCreateMLDSA65_RawCirclSign(b *testing.B) {
	key := testKey(b, x509ext.KeyMLDSA65).(*mldsa65.PrivateKey)
	tbs, err := NewTBS(key.Public(), benchTemplate())
	if err != nil {
		b.Fatal(err)
	}
	sig := make([]byte, mldsa65.SignatureSize)
	b.ReportAllocs()
	defer cpuTimer(b)()
	for b.Loop() {
		if err := mldsa65.SignTo(key, tbs, nil, true, sig); err != nil {
			b.Fatal(err)
		}
	}
}

func benchRequest(b *testing.B, kt x509ext.KeyAlgorithm) *CertificateRequest {
	der, err := Create(context.Background(), testKey(b, kt), benchTemplate())
	if err != nil {
		b.Fatal(err)
	}
	req, err := Parse(der)
	if err != nil {
		b.Fatal(err)
	}
	return req
}

func BenchmarkCheckSignatureMLDSA65(b *testing.B) {
	req := benchRequest(b, x509ext.KeyMLDSA65)
	b.ReportAllocs()
	defer cpuTimer(b)()
	for b.Loop() {
		if err := req.CheckSignature(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheckSignatureMLDSA65_RawVerify: circl's verify of the same signature over the same bytes.
func BenchmarkCheckSignatureMLDSA65_RawVerify(b *testing.B) {
	req := benchRequest(b, x509ext.KeyMLDSA65)
	pub := req.PublicKey.(*mldsa65.PublicKey)
	b.ReportAllocs()
	defer cpuTimer(b)()
	for b.Loop() {
		if !mldsa65.Verify(pub, req.RawTBSCertificateRequest, nil, req.Signature) {
			b.Fatal("verify failed")
		}
	}
}

func BenchmarkCheckSignatureECDSAP256(b *testing.B) {
	req := benchRequest(b, x509ext.KeyECDSAP256)
	b.ReportAllocs()
	defer cpuTimer(b)()
	for b.Loop() {
		if err := req.CheckSignature(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheckSignatureECDSAP256_StdlibPeer: crypto/x509's CheckSignature of the same request.
func BenchmarkCheckSignatureECDSAP256_StdlibPeer(b *testing.B) {
	req := benchRequest(b, x509ext.KeyECDSAP256)
	b.ReportAllocs()
	defer cpuTimer(b)()
	for b.Loop() {
		if err := req.CertificateRequest.CheckSignature(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseECDSAP256(b *testing.B) {
	der := benchRequest(b, x509ext.KeyECDSAP256).Raw
	b.ReportAllocs()
	defer cpuTimer(b)()
	for b.Loop() {
		if _, err := Parse(der); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseECDSAP256_StdlibPeer: crypto/x509 parsing the same request (Parse runs it too, then the strict
// checks and the key parse of its own).
func BenchmarkParseECDSAP256_StdlibPeer(b *testing.B) {
	der := benchRequest(b, x509ext.KeyECDSAP256).Raw
	b.ReportAllocs()
	defer cpuTimer(b)()
	for b.Loop() {
		if _, err := x509.ParseCertificateRequest(der); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseMLDSA65(b *testing.B) {
	der := benchRequest(b, x509ext.KeyMLDSA65).Raw
	b.ReportAllocs()
	defer cpuTimer(b)()
	for b.Loop() {
		if _, err := Parse(der); err != nil {
			b.Fatal(err)
		}
	}
}
