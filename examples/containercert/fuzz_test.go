package main

import (
	"context"
	"crypto/x509/pkix"
	"testing"
	"time"

	"github.com/pkikit/pkikit/x509ext"
)

// FuzzParseChainPEM: what the workload reads from the CA (and from its own directory) never panics, and what
// parses re-encodes to the same certificates.
func FuzzParseChainPEM(f *testing.F) {
	key, err := x509ext.GenerateKey(x509ext.KeyECDSAP256)
	if err != nil {
		f.Fatal(err)
	}
	cert, err := x509ext.SelfSign(context.Background(), key, &x509ext.IssueRequest{
		Profile: x509ext.RootCACertificateV1, Subject: pkix.Name{CommonName: "fuzz"}, Validity: time.Hour,
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(encodePEM("CERTIFICATE", cert.Raw, cert.Raw))
	f.Add(encodePEM("CERTIFICATE", cert.Raw)[:100])
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		chain, err := parseChainPEM(data)
		if err != nil {
			return
		}
		ders := make([][]byte, len(chain))
		for i, c := range chain {
			ders[i] = c.Raw
		}
		again, err := parseChainPEM(encodePEM("CERTIFICATE", ders...))
		if err != nil || len(again) != len(chain) {
			t.Fatalf("re-encoded chain: %v", err)
		}
	})
}

// FuzzCAIssue: any request body gets an error from the CA, never a panic and never a certificate (a fuzzer
// will not forge a CSR signature).
func FuzzCAIssue(f *testing.F) {
	ca, _ := newTestCA(f, nil, nil)
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x00})
	f.Add([]byte("not a CSR"))
	f.Fuzz(func(t *testing.T, body []byte) {
		if _, err := ca.Issue(context.Background(), body, time.Minute, "fuzz"); err == nil {
			t.Fatal("issued from fuzz input")
		}
	})
}
