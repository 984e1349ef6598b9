package mdl

import (
	"os"
	"path/filepath"
	"testing"
)

func seeds(f *testing.F, names ...string) {
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join("testdata", "vectors", n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0xa0})
	f.Add([]byte{0xd8, 0x18, 0x41, 0xa0})
}

// The fuzz targets: any input gives a value or a typed error, never a panic, in bounded work.
func FuzzParseMobileSecurityObject(f *testing.F) {
	seeds(f, "pkikit-mso.cbor", "owf-issuerSigned.cbor")
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, err := ParseMobileSecurityObject(b, false); err == nil && m.Marshal() == nil {
			t.Fatal("parsed MSO without bytes")
		}
	})
}

func FuzzParseIssuerSigned(f *testing.F) {
	seeds(f, "pkikit-issuerSigned.cbor", "owf-issuerSigned.cbor")
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseIssuerSigned(b, ParseOptions{MaxSize: 1 << 20})
		if err != nil {
			return
		}
		_, _ = s.MobileSecurityObject()
		out, err := s.Marshal()
		if err != nil || string(out) != string(b) {
			t.Fatal("parse → Marshal changed the bytes")
		}
	})
}

func FuzzParseDeviceResponse(f *testing.F) {
	seeds(f, "pkikit-deviceResponse-signature.cbor", "pkikit-deviceResponse-mac.cbor", "owf-deviceResponse.cbor", "owf-deviceResponse-alg-undefined.cbor")
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseDeviceResponse(b, ParseOptions{MaxSize: 1 << 20})
		if err != nil {
			return
		}
		if string(r.Marshal()) != string(b) {
			t.Fatal("parse → Marshal changed the bytes")
		}
		// Verification of arbitrary input must not panic either.
		_, _ = VerifyDeviceResponse(b, VerifyOptions{SessionTranscript: testTranscript()})
	})
}
