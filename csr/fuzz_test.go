package csr

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse: Parse never panics; what it accepts re-parses identically, and its checks do not panic either.
// Seeded from testdata/*.der and the malformed variants of TestParseStrict.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.der"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds in testdata: %v", err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, m := range malformedRequests(f) {
		f.Add(m.der)
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		req, err := Parse(der)
		if err != nil {
			if req != nil {
				t.Fatal("non-nil request with an error")
			}
			return
		}
		_ = req.CheckSignature()
		if !bytes.Equal(req.Raw, der) {
			t.Fatal("Raw differs from the input")
		}
		tbs, err := NewTBS(req.PublicKey, &Template{RawSubject: req.RawSubject, Attributes: req.Attributes, KeepAttributeOrder: true})
		if err != nil {
			t.Fatalf("parsed request's parts do not rebuild: %v", err)
		}
		if !bytes.Equal(tbs, req.RawTBSCertificateRequest) {
			t.Fatal("rebuilt request info differs")
		}
		if _, err := ParsePEM(EncodePEM(der)); err != nil {
			t.Fatalf("PEM of an accepted request: %v", err)
		}
	})
}

// FuzzParsePEM: ParsePEM never panics and agrees with Parse on the DER it finds. Seeded from testdata as PEM.
func FuzzParsePEM(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.der"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds in testdata: %v", err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(EncodePEM(b))
	}
	f.Add([]byte("-----BEGIN NEW CERTIFICATE REQUEST-----\nMAA=\n-----END NEW CERTIFICATE REQUEST-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := ParsePEM(data)
		if err != nil {
			return
		}
		again, err := Parse(req.Raw)
		if err != nil || !bytes.Equal(again.Raw, req.Raw) {
			t.Fatalf("Parse disagrees with ParsePEM: %v", err)
		}
	})
}
