package csr

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"slices"
	"testing"

	"github.com/pkikit/pkikit/x509ext"
)

// TestStdlibAgreesClassical: Go's crypto/x509 parses and verifies our classical requests and reads the same
// names, and we parse and verify crypto/x509's.
func TestStdlibAgreesClassical(t *testing.T) {
	for _, c := range allCases {
		if c.alg.IsPostQuantum() {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			key := testKey(t, c.kt)
			tmpl := fullTemplate(t)
			tmpl.SignatureAlgorithm = c.alg
			der, err := Create(context.Background(), key, tmpl)
			if err != nil {
				t.Fatal(err)
			}
			std, err := x509.ParseCertificateRequest(der)
			if err != nil {
				t.Fatalf("x509.ParseCertificateRequest: %v", err)
			}
			if err := std.CheckSignature(); err != nil {
				t.Fatalf("x509 CheckSignature: %v", err)
			}
			if std.SignatureAlgorithm != c.alg.X509() {
				t.Fatalf("x509 sees %v, want %v", std.SignatureAlgorithm, c.alg.X509())
			}
			if !slices.Equal(std.DNSNames, tmpl.DNSNames) || len(std.Extensions) != 4 {
				t.Fatalf("x509 sees DNS %v, %d extensions", std.DNSNames, len(std.Extensions))
			}

			// And the other way round: crypto/x509's request, parsed and verified here.
			stdDER, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
				Subject: pkix.Name{CommonName: "stdlib"}, DNSNames: []string{"std.example"}, SignatureAlgorithm: c.alg.X509(),
			}, key)
			if err != nil {
				t.Fatal(err)
			}
			req, err := Parse(stdDER)
			if err != nil {
				t.Fatalf("Parse(crypto/x509 request): %v", err)
			}
			if err := req.CheckSignature(); err != nil {
				t.Fatal(err)
			}
			if req.SignatureAlgorithm != c.alg || req.Subject.CommonName != "stdlib" || !slices.Equal(req.DNSNames, []string{"std.example"}) {
				t.Fatalf("parsed %v %v %v", req.SignatureAlgorithm, req.Subject, req.DNSNames)
			}
			checkRebuild(t, req)
		})
	}
}

// TestStdlibRejectsWhatWeReject: a tampered classical request fails crypto/x509's check too.
func TestStdlibRejectsWhatWeReject(t *testing.T) {
	der, err := Create(context.Background(), testKey(t, x509ext.KeyECDSAP256), fullTemplate(t))
	if err != nil {
		t.Fatal(err)
	}
	der[len(der)-1] ^= 1
	std, err := x509.ParseCertificateRequest(der)
	if err != nil {
		t.Fatal(err)
	}
	if std.CheckSignature() == nil {
		t.Fatal("crypto/x509 accepted a tampered request")
	}
	req, err := Parse(der)
	if err != nil {
		t.Fatal(err)
	}
	if err := req.CheckSignature(); !errors.Is(err, ErrBadSignature) {
		t.Fatal(err)
	}
}

// TestEmbeddedStdlibRequest: the embedded *x509.CertificateRequest is crypto/x509's parse of the same bytes (what
// x509ext's IssueRequest.CSR takes); on Go 1.26 it has no public key for ML-DSA, on 1.27 it has one.
func TestEmbeddedStdlibRequest(t *testing.T) {
	for _, c := range []keyCase{allCases[1], allCases[3]} {
		der, err := Create(context.Background(), testKey(t, c.kt), fullTemplate(t))
		if err != nil {
			t.Fatal(err)
		}
		req, err := Parse(der)
		if err != nil {
			t.Fatal(err)
		}
		var std *x509.CertificateRequest = req.CertificateRequest
		if std == nil || string(std.Raw) != string(der) || std.Subject.CommonName != "www.example.com" {
			t.Fatalf("%s: embedded request wrong", c.name)
		}
		if !c.alg.IsPostQuantum() && std.PublicKey == nil {
			t.Fatalf("%s: stdlib public key missing", c.name)
		}
		if c.alg.IsPostQuantum() {
			checkStdlibMLDSA(t, std)
		}
	}
}
