package csr

import (
	"bytes"
	"context"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"net"
	"net/url"
	"slices"
	"testing"

	"github.com/pkikit/pkikit/internal/alg"
	"github.com/pkikit/pkikit/x509ext"
)

// TestCreateParseCheckTamper runs every key type and signature algorithm through create → parse → check →
// tamper (signature, signed bytes, algorithm) → reject.
func TestCreateParseCheckTamper(t *testing.T) {
	for _, c := range allCases {
		t.Run(c.name, func(t *testing.T) {
			key := testKey(t, c.kt)
			tmpl := fullTemplate(t)
			tmpl.SignatureAlgorithm = c.alg
			der, err := Create(context.Background(), key, tmpl)
			if err != nil {
				t.Fatalf("Create: %v", err)
			}
			req, err := Parse(der)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if err := req.CheckSignature(); err != nil {
				t.Fatalf("CheckSignature: %v", err)
			}
			if req.SignatureAlgorithm != c.alg || req.KeyAlgorithm != c.kt {
				t.Fatalf("algorithms = %v/%v, want %v/%v", req.SignatureAlgorithm, req.KeyAlgorithm, c.alg, c.kt)
			}
			wantSPKI, err := x509ext.MarshalPKIXPublicKey(key.Public())
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(req.RawSubjectPublicKeyInfo, wantSPKI) {
				t.Fatalf("SPKI differs from the key's own encoding")
			}
			_, aid, _ := requestParts(t, der)
			if !bytes.Equal(aid, c.alg.MarshalAlgorithmIdentifier()) {
				t.Fatalf("signatureAlgorithm = %x, want %x", aid, c.alg.MarshalAlgorithmIdentifier())
			}
			if c.alg.IsPostQuantum() && len(aid) != 13 {
				t.Fatalf("ML-DSA AlgorithmIdentifier has parameters: %x", aid)
			}
			checkFullTemplateFields(t, req)

			t.Run("tampered signature", func(t *testing.T) {
				bad := slices.Clone(der)
				bad[len(bad)-1] ^= 0x01
				expectBadSignature(t, bad)
			})
			t.Run("tampered subject", func(t *testing.T) {
				bad := slices.Clone(der)
				i := bytes.Index(bad, []byte("pkikit test"))
				if i < 0 {
					t.Fatal("organization not found in DER")
				}
				bad[i] = 'P'
				expectBadSignature(t, bad)
			})
			t.Run("tampered SAN", func(t *testing.T) {
				bad := slices.Clone(der)
				i := bytes.Index(bad, []byte("spiffe://"))
				if i < 0 {
					t.Fatal("URI not found in DER")
				}
				bad[i] = 'S'
				expectBadSignature(t, bad)
			})
			t.Run("other algorithm", func(t *testing.T) {
				tbs, _, sig := requestParts(t, der)
				for _, other := range alg.All() {
					if other == c.alg {
						continue
					}
					bad := joinRequest(tbs, other.MarshalAlgorithmIdentifier(), sig)
					if other.CheckKeyType(c.kt) != nil {
						if _, err := Parse(bad); !errors.Is(err, ErrKeyMismatch) {
							t.Fatalf("%v over a %v key: Parse err = %v, want ErrKeyMismatch", other, c.kt, err)
						}
						continue
					}
					expectBadSignature(t, bad)
				}
			})
		})
	}
}

func expectBadSignature(t *testing.T, der []byte) {
	t.Helper()
	req, err := Parse(der)
	if err != nil {
		t.Fatalf("Parse of a still well-formed request: %v", err)
	}
	err = req.CheckSignature()
	if !errors.Is(err, ErrBadSignature) {
		t.Fatalf("CheckSignature err = %v, want ErrBadSignature", err)
	}
	var e *Error
	if !errors.As(err, &e) || e.Op != "check signature" {
		t.Fatalf("error is not a *csr.Error with Op: %#v", err)
	}
}

func checkFullTemplateFields(t *testing.T, req *CertificateRequest) {
	t.Helper()
	if req.Subject.CommonName != "www.example.com" || len(req.Subject.Organization) != 1 || req.Subject.Organization[0] != "pkikit test" {
		t.Errorf("subject = %v", req.Subject)
	}
	if !slices.Equal(req.DNSNames, []string{"www.example.com", "example.com"}) {
		t.Errorf("DNSNames = %v", req.DNSNames)
	}
	if !slices.Equal(req.EmailAddresses, []string{"admin@example.com"}) {
		t.Errorf("EmailAddresses = %v", req.EmailAddresses)
	}
	if len(req.IPAddresses) != 2 || !req.IPAddresses[0].Equal(net.ParseIP("192.0.2.1")) || !req.IPAddresses[1].Equal(net.ParseIP("2001:db8::1")) {
		t.Errorf("IPAddresses = %v", req.IPAddresses)
	}
	if len(req.URIs) != 1 || req.URIs[0].String() != "spiffe://example.com/workload" {
		t.Errorf("URIs = %v", req.URIs)
	}
	if req.ChallengePassword != "s3cret pass" {
		t.Errorf("ChallengePassword = %q", req.ChallengePassword)
	}
	var oids []string
	for _, e := range req.Extensions {
		oids = append(oids, e.Id.String())
		if e.Id.Equal(OIDSubjectAltName) && e.Critical {
			t.Errorf("SAN critical with a non-empty subject")
		}
		if e.Id.Equal(oidKeyUsage) && (!e.Critical || !bytes.Equal(e.Value, keyUsageDigitalSignature)) {
			t.Errorf("keyUsage = %+v", e)
		}
	}
	want := []string{"2.5.29.17", "2.5.29.15", "2.5.29.37", "2.5.29.19"}
	if !slices.Equal(oids, want) {
		t.Errorf("extension order = %v, want %v", oids, want)
	}
	if len(req.Attributes) != 2 {
		t.Errorf("attributes = %d, want 2", len(req.Attributes))
	}
}

// TestDefaultAlgorithm: a zero SignatureAlgorithm takes the key's default.
func TestDefaultAlgorithm(t *testing.T) {
	want := map[x509ext.KeyAlgorithm]x509ext.SignatureAlgorithm{
		x509ext.KeyMLDSA44: x509ext.MLDSA44, x509ext.KeyMLDSA65: x509ext.MLDSA65, x509ext.KeyMLDSA87: x509ext.MLDSA87,
		x509ext.KeyECDSAP256: x509ext.ECDSAWithSHA256, x509ext.KeyECDSAP384: x509ext.ECDSAWithSHA384,
		x509ext.KeyECDSAP521: x509ext.ECDSAWithSHA512, x509ext.KeyRSA2048: x509ext.SHA256WithRSA,
		x509ext.KeyEd25519: x509ext.PureEd25519,
	}
	for kt, a := range want {
		der, err := Create(context.Background(), testKey(t, kt), nil)
		if err != nil {
			t.Fatalf("%v: %v", kt, err)
		}
		req, err := Parse(der)
		if err != nil {
			t.Fatalf("%v: %v", kt, err)
		}
		if req.SignatureAlgorithm != a {
			t.Errorf("%v: algorithm %v, want %v", kt, req.SignatureAlgorithm, a)
		}
		if err := req.CheckSignature(); err != nil {
			t.Errorf("%v: %v", kt, err)
		}
		if len(req.Attributes) != 0 || len(req.Subject.Names) != 0 {
			t.Errorf("%v: nil template gave attributes or a subject", kt)
		}
	}
}

// TestEmptySubjectMakesSANCritical follows RFC 5280 §4.2.1.6.
func TestEmptySubjectMakesSANCritical(t *testing.T) {
	der, err := Create(context.Background(), testKey(t, x509ext.KeyEd25519), &Template{DNSNames: []string{"a.example"}})
	if err != nil {
		t.Fatal(err)
	}
	req, err := Parse(der)
	if err != nil {
		t.Fatal(err)
	}
	if len(req.Extensions) != 1 || !req.Extensions[0].Critical {
		t.Fatalf("extensions = %+v, want one critical SAN", req.Extensions)
	}
}

// TestRawSubject: RawSubject is written byte for byte.
func TestRawSubject(t *testing.T) {
	raw := mustMarshal(t, pkix.RDNSequence{{{Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: asn1.RawValue{Tag: asn1.TagBMPString, Bytes: []byte{0, 'h', 0, 'i'}}}}})
	der, err := Create(context.Background(), testKey(t, x509ext.KeyMLDSA44), &Template{RawSubject: raw})
	if err != nil {
		t.Fatal(err)
	}
	req, err := Parse(der)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(req.RawSubject, raw) {
		t.Fatalf("RawSubject = %x, want %x", req.RawSubject, raw)
	}
}

// TestChallengePasswordEncoding: PrintableString when it fits, UTF8String otherwise; both decode back.
func TestChallengePasswordEncoding(t *testing.T) {
	for _, tc := range []struct {
		pw  string
		tag byte
	}{
		{"Printable 0-9 '()+,-./:=?", 0x13},
		{"with_underscore", 0x0c},
		{"Grüße", 0x0c},
		{string(bytes.Repeat([]byte("a"), MaxChallengePasswordLength)), 0x13},
	} {
		der, err := Create(context.Background(), testKey(t, x509ext.KeyEd25519), &Template{ChallengePassword: tc.pw})
		if err != nil {
			t.Fatalf("%q: %v", tc.pw, err)
		}
		req, err := Parse(der)
		if err != nil {
			t.Fatal(err)
		}
		if req.ChallengePassword != tc.pw {
			t.Errorf("password %q came back as %q", tc.pw, req.ChallengePassword)
		}
		if len(req.Attributes) != 1 || req.Attributes[0].Values[0][0] != tc.tag {
			t.Errorf("%q: value tag %#x, want %#x", tc.pw, req.Attributes[0].Values[0][0], tc.tag)
		}
	}
}

// TestAttributeOrder: DER SET OF order by default; the caller's order (with placeholders) on request.
func TestAttributeOrder(t *testing.T) {
	un := Attribute{Type: oidUnstructuredName, Values: [][]byte{tagged(0x0c, []byte("unstructured"))}}
	base := Template{
		DNSNames:          []string{"a.example"},
		ChallengePassword: "pw",
		Attributes: []Attribute{
			{Type: OIDExtensionRequest}, // placeholder
			un,
			{Type: OIDChallengePassword}, // placeholder
		},
	}
	order := func(tmpl Template) []string {
		t.Helper()
		der, err := Create(context.Background(), testKey(t, x509ext.KeyECDSAP256), &tmpl)
		if err != nil {
			t.Fatal(err)
		}
		req, err := Parse(der)
		if err != nil {
			t.Fatal(err)
		}
		if err := req.CheckSignature(); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, a := range req.Attributes {
			out = append(out, a.Type.String())
		}
		return out
	}
	const er, cp, uns = "1.2.840.113549.1.9.14", "1.2.840.113549.1.9.7", "1.2.840.113549.1.9.2"
	kept := base
	kept.KeepAttributeOrder = true
	if got := order(kept); !slices.Equal(got, []string{er, uns, cp}) {
		t.Errorf("KeepAttributeOrder: %v", got)
	}
	// Sorted by encoding: the shortest attributes first here (challengePassword 17 bytes < unstructuredName <
	// extensionRequest).
	if got := order(base); !slices.Equal(got, []string{cp, uns, er}) {
		t.Errorf("DER order: %v", got)
	}
	noPlaceholders := Template{DNSNames: []string{"a.example"}, ChallengePassword: "pw", Attributes: []Attribute{un}, KeepAttributeOrder: true}
	if got := order(noPlaceholders); !slices.Equal(got, []string{uns, cp, er}) {
		t.Errorf("unplaced attributes: %v", got)
	}
}

// TestTemplateErrors: templates that cannot make a valid request are refused with a typed error, before any
// signing.
func TestTemplateErrors(t *testing.T) {
	ecKey := testKey(t, x509ext.KeyECDSAP256)
	for _, tc := range []struct {
		name string
		tmpl Template
		want error
	}{
		{"non-ASCII DNS name", Template{DNSNames: []string{"bücher.example"}}, ErrInvalidTemplate},
		{"empty DNS name", Template{DNSNames: []string{""}}, ErrInvalidTemplate},
		{"non-ASCII email", Template{EmailAddresses: []string{"ü@example.com"}}, ErrInvalidTemplate},
		{"bad IP", Template{IPAddresses: []net.IP{{1, 2, 3}}}, ErrInvalidTemplate},
		{"nil URI", Template{URIs: []*url.URL{nil}}, ErrInvalidTemplate},
		{"duplicate extension", Template{Extensions: []pkix.Extension{
			{Id: oidKeyUsage, Value: keyUsageDigitalSignature}, {Id: oidKeyUsage, Value: keyUsageDigitalSignature}}}, ErrInvalidTemplate},
		{"SAN extension with SAN fields", Template{DNSNames: []string{"a.example"}, Extensions: []pkix.Extension{
			{Id: OIDSubjectAltName, Value: []byte{0x30, 0x00}}}}, ErrInvalidTemplate},
		{"extension value not DER", Template{Extensions: []pkix.Extension{{Id: oidKeyUsage, Value: []byte{0x03, 0x05, 0x00}}}}, ErrInvalidTemplate},
		{"extension value empty", Template{Extensions: []pkix.Extension{{Id: oidKeyUsage}}}, ErrInvalidTemplate},
		{"extension value two elements", Template{Extensions: []pkix.Extension{{Id: oidKeyUsage, Value: []byte{5, 0, 5, 0}}}}, ErrInvalidTemplate},
		{"extension without OID", Template{Extensions: []pkix.Extension{{Value: []byte{5, 0}}}}, ErrInvalidTemplate},
		{"Subject and RawSubject", Template{Subject: pkix.Name{CommonName: "a"}, RawSubject: []byte{0x30, 0}}, ErrInvalidTemplate},
		{"RawSubject not a Name", Template{RawSubject: []byte{0x04, 0x00}}, ErrInvalidTemplate},
		{"RawSubject trailing data", Template{RawSubject: []byte{0x30, 0x00, 0x00}}, ErrInvalidTemplate},
		{"challenge password too long", Template{ChallengePassword: string(bytes.Repeat([]byte("a"), MaxChallengePasswordLength+1))}, ErrInvalidTemplate},
		{"challenge password invalid UTF-8", Template{ChallengePassword: "\xff"}, ErrInvalidTemplate},
		{"challengePassword placeholder without password", Template{Attributes: []Attribute{{Type: OIDChallengePassword}}}, ErrInvalidTemplate},
		{"extensionRequest placeholder without extensions", Template{Attributes: []Attribute{{Type: OIDExtensionRequest}}}, ErrInvalidTemplate},
		{"raw challengePassword with ChallengePassword", Template{ChallengePassword: "x", Attributes: []Attribute{
			{Type: OIDChallengePassword, Values: [][]byte{tagged(0x13, []byte("y"))}}}}, ErrInvalidTemplate},
		{"raw extensionRequest with DNS names", Template{DNSNames: []string{"a.example"}, Attributes: []Attribute{
			{Type: OIDExtensionRequest, Values: [][]byte{{0x30, 0}}}}}, ErrInvalidTemplate},
		{"duplicate attribute", Template{Attributes: []Attribute{
			{Type: oidUnstructuredName, Values: [][]byte{{5, 0}}}, {Type: oidUnstructuredName, Values: [][]byte{{5, 0}}}}}, ErrInvalidTemplate},
		{"attribute without values", Template{Attributes: []Attribute{{Type: oidUnstructuredName, Values: [][]byte{}}}}, ErrInvalidTemplate},
		{"attribute value not DER", Template{Attributes: []Attribute{{Type: oidUnstructuredName, Values: [][]byte{{0x0c, 0x09}}}}}, ErrInvalidTemplate},
		{"attribute without type", Template{Attributes: []Attribute{{Values: [][]byte{{5, 0}}}}}, ErrInvalidTemplate},
		{"ML-DSA algorithm on an ECDSA key", Template{SignatureAlgorithm: x509ext.MLDSA65}, ErrKeyMismatch},
		{"RSA algorithm on an ECDSA key", Template{SignatureAlgorithm: x509ext.SHA256WithRSAPSS}, ErrKeyMismatch},
		{"unknown algorithm value", Template{SignatureAlgorithm: x509ext.SignatureAlgorithm(200)}, ErrUnsupportedAlgorithm},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs := &countingSigner{Signer: ecKey}
			_, err := Create(context.Background(), cs, &tc.tmpl)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Create err = %v, want %v", err, tc.want)
			}
			if cs.calls.Load() != 0 {
				t.Fatalf("the signer was called %d times for a bad template", cs.calls.Load())
			}
			if tc.tmpl.SignatureAlgorithm == 0 {
				if _, err := NewTBS(ecKey.Public(), &tc.tmpl); !errors.Is(err, tc.want) {
					t.Fatalf("NewTBS err = %v, want %v", err, tc.want)
				}
			}
		})
	}
}

// TestUnsupportedKeys: keys outside the table are refused.
func TestUnsupportedKeys(t *testing.T) {
	if _, err := Create(context.Background(), nil, nil); !errors.Is(err, ErrInvalidTemplate) {
		t.Errorf("nil signer: %v", err)
	}
	if _, err := NewTBS(struct{}{}, nil); !errors.Is(err, ErrUnsupportedAlgorithm) {
		t.Errorf("struct key: %v", err)
	}
	if _, err := NewTBS(nil, nil); !errors.Is(err, ErrUnsupportedAlgorithm) {
		t.Errorf("nil key: %v", err)
	}
	if _, err := Create(context.Background(), p224Key(t), nil); !errors.Is(err, ErrUnsupportedAlgorithm) {
		t.Errorf("P-224 key: %v", err)
	}
}

// TestRoundTrip: the parsed parts of a request rebuild its request info byte for byte.
func TestRoundTrip(t *testing.T) {
	for _, c := range []keyCase{allCases[1], allCases[3], allCases[10], allCases[13]} {
		key := testKey(t, c.kt)
		tmpl := fullTemplate(t)
		tmpl.Attributes = []Attribute{{Type: oidUnstructuredName, Values: [][]byte{tagged(0x0c, []byte("x")), tagged(0x13, []byte("a"))}}}
		tmpl.SignatureAlgorithm = c.alg
		der, err := Create(context.Background(), key, tmpl)
		if err != nil {
			t.Fatal(err)
		}
		req, err := Parse(der)
		if err != nil {
			t.Fatal(err)
		}
		checkRebuild(t, req)
	}
}

// checkRebuild rebuilds a parsed request's info from its parts and compares bytes.
func checkRebuild(t *testing.T, req *CertificateRequest) {
	t.Helper()
	tbs, err := NewTBS(req.PublicKey, &Template{RawSubject: req.RawSubject, Attributes: req.Attributes, KeepAttributeOrder: true})
	if err != nil {
		t.Fatalf("NewTBS from parsed parts: %v", err)
	}
	if !bytes.Equal(tbs, req.RawTBSCertificateRequest) {
		t.Fatalf("rebuilt request info differs:\n got %x\nwant %x", tbs, req.RawTBSCertificateRequest)
	}
	again, err := Assemble(tbs, req.SignatureAlgorithm, req.Signature)
	if err != nil {
		t.Fatalf("Assemble: %v", err)
	}
	if !bytes.Equal(again, req.Raw) {
		t.Fatalf("reassembled request differs")
	}
}
