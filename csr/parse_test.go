package csr

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"slices"
	"testing"

	"github.com/pkikit/pkikit/internal/alg"
	"github.com/pkikit/pkikit/x509ext"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

type malformedCase struct {
	name string
	der  []byte
	want error
}

// malformedRequests derives broken requests from a good ML-DSA-44 one and a good ECDSA one. Each differs from
// a valid request in one way only; the shared seed list of the fuzz target and TestParseStrict.
func malformedRequests(t testing.TB) []malformedCase {
	t.Helper()
	mk := func(kt x509ext.KeyAlgorithm) ([]byte, []byte, []byte, []byte) {
		der, err := Create(context.Background(), testKey(t, kt), &Template{DNSNames: []string{"a.example"}, ChallengePassword: "pw"})
		if err != nil {
			t.Fatal(err)
		}
		tbs, aid, sig := requestParts(t, der)
		return der, tbs, aid, sig
	}
	mlDER, mlTBS, mlAID, mlSig := mk(x509ext.KeyMLDSA44)
	ecDER, ecTBS, ecAID, ecSig := mk(x509ext.KeyECDSAP256)
	ver, subj, spki, attrs := tbsParts(t, mlTBS)
	withTBS := func(parts ...[]byte) []byte { return joinRequest(joinRequest(parts...), mlAID, mlSig) }

	// An ML-DSA SPKI with NULL parameters: SEQUENCE { SEQUENCE { OID, NULL }, BIT STRING }.
	rawPK, err := alg.MLDSAPublicKeyBytes(testKey(t, x509ext.KeyMLDSA44).Public())
	if err != nil {
		t.Fatal(err)
	}
	nullSPKI := joinRequest(aidDER(alg.OIDMLDSA44, []byte{5, 0}), bitString(rawPK, 0))
	shortSPKI := joinRequest(aidDER(alg.OIDMLDSA44, nil), bitString(rawPK[:100], 0))
	cp := func(v ...[]byte) []byte { return attribute(OIDChallengePassword, v...) }
	return []malformedCase{
		{"empty input", nil, ErrMalformed},
		{"not a SEQUENCE", []byte{0x04, 0x00}, ErrMalformed},
		{"trailing data", append(slices.Clone(mlDER), 0), ErrMalformed},
		{"trailing second request", append(slices.Clone(ecDER), ecDER...), ErrMalformed},
		{"truncated", mlDER[:len(mlDER)-10], ErrMalformed},
		{"data after the signature", joinRequest(mlTBS, mlAID, mlSig, []byte{5, 0}), ErrMalformed},
		{"signature missing", joinRequest(mlTBS, mlAID), ErrMalformed},
		{"signature with unused bits", joinRequest(ecTBS, ecAID, bitString(ecSig[3:], 1)), ErrMalformed},
		{"ML-DSA signatureAlgorithm with NULL parameters", joinRequest(mlTBS, aidDER(alg.OIDMLDSA44, []byte{5, 0}), mlSig), ErrMalformed},
		{"ECDSA signatureAlgorithm with NULL parameters", joinRequest(ecTBS, aidDER(alg.OIDECDSAWithSHA256, []byte{5, 0}), ecSig), ErrMalformed},
		{"unknown signature algorithm", joinRequest(mlTBS, aidDER(oidUnknownSigAlgorithm, nil), mlSig), ErrUnsupportedAlgorithm},
		{"ML-DSA-65 algorithm on an ML-DSA-44 key", joinRequest(mlTBS, alg.MLDSA65.MarshalAlgorithmIdentifier(), mlSig), ErrKeyMismatch},
		{"ECDSA algorithm on an ML-DSA key", joinRequest(mlTBS, ecAID, mlSig), ErrKeyMismatch},
		{"ML-DSA SPKI with NULL parameters", withTBS(ver, subj, nullSPKI, attrs), ErrMalformed},
		{"ML-DSA SPKI with a short key", withTBS(ver, subj, shortSPKI, attrs), ErrMalformed},
		{"version 1", withTBS([]byte{2, 1, 1}, subj, spki, attrs), ErrMalformed},
		{"version not minimally encoded", withTBS([]byte{2, 2, 0, 0}, subj, spki, attrs), ErrMalformed},
		{"attributes field missing", withTBS(ver, subj, spki), ErrMalformed},
		{"attributes as universal SET", withTBS(ver, subj, spki, tagged(cbasn1.SET, attrs[2:])), ErrMalformed},
		{"data after the attributes", withTBS(ver, subj, spki, attrs, []byte{5, 0}), ErrMalformed},
		{"subject not a SEQUENCE", withTBS(ver, []byte{0x31, 0}, spki, attrs), ErrMalformed},
		{"attribute with no value", withTBS(ver, subj, spki, attributesField(attribute(oidUnstructuredName))), ErrMalformed},
		{"attribute type twice", withTBS(ver, subj, spki, attributesField(cp(tagged(0x13, []byte("a"))), cp(tagged(0x13, []byte("b"))))), ErrMalformed},
		{"challengePassword with two values", withTBS(ver, subj, spki, attributesField(cp(tagged(0x13, []byte("a")), tagged(0x13, []byte("b"))))), ErrMalformed},
		{"challengePassword as TeletexString", withTBS(ver, subj, spki, attributesField(cp(tagged(0x14, []byte("a"))))), ErrMalformed},
		{"challengePassword PrintableString with '@'", withTBS(ver, subj, spki, attributesField(cp(tagged(0x13, []byte("a@b"))))), ErrMalformed},
		{"challengePassword UTF8String invalid", withTBS(ver, subj, spki, attributesField(cp(tagged(0x0c, []byte{0xff})))), ErrMalformed},
		{"challengePassword empty", withTBS(ver, subj, spki, attributesField(cp(tagged(0x0c, nil)))), ErrMalformed},
		{"challengePassword BMPString odd length", withTBS(ver, subj, spki, attributesField(cp(tagged(30, []byte{0, 'a', 0})))), ErrMalformed},
		{"extensionRequest not a SEQUENCE", withTBS(ver, subj, spki, attributesField(attribute(OIDExtensionRequest, []byte{5, 0}))), ErrMalformed},
		{"extensionRequest with two values", withTBS(ver, subj, spki, attributesField(attribute(OIDExtensionRequest, []byte{0x30, 0}, []byte{0x30, 0}))), ErrMalformed},
		{"extension value not an OCTET STRING", withTBS(ver, subj, spki, attributesField(attribute(OIDExtensionRequest,
			joinRequest(joinRequest(tagged(cbasn1.OBJECT_IDENTIFIER, []byte{0x55, 0x1d, 0x0f}), []byte{0x03, 0x02, 0x07, 0x80}))))), ErrMalformed},
		{"attribute value truncated", withTBS(ver, subj, spki, attributesField(attribute(oidUnstructuredName, []byte{0x0c, 0x05, 'a'}))), ErrMalformed},
	}
}

// TestParseStrict: every deviation from a strict PKCS#10 encoding is a typed error, never a panic.
func TestParseStrict(t *testing.T) {
	for _, tc := range malformedRequests(t) {
		t.Run(tc.name, func(t *testing.T) {
			req, err := Parse(tc.der)
			if !errors.Is(err, tc.want) || req != nil {
				t.Fatalf("Parse = %v, %v; want %v", req != nil, err, tc.want)
			}
			t.Log(err)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("not a *csr.Error: %#v", err)
			}
		})
	}
}

// TestParseAcceptsBMPChallengePassword: BMPString, IA5String and UTF8String challenge passwords decode.
func TestParseAcceptsOtherDirectoryStrings(t *testing.T) {
	key := testKey(t, x509ext.KeyEd25519)
	for _, tc := range []struct {
		value []byte
		want  string
	}{
		{tagged(30, []byte{0, 'p', 0, 0xfc}), "pü"},
		{tagged(cbasn1.IA5String, []byte("a@b")), "a@b"},
		{tagged(cbasn1.UTF8String, []byte("π")), "π"},
	} {
		der, err := Create(context.Background(), key, &Template{Attributes: []Attribute{{Type: OIDChallengePassword, Values: [][]byte{tc.value}}}})
		if err != nil {
			t.Fatal(err)
		}
		req, err := Parse(der)
		if err != nil {
			t.Fatal(err)
		}
		if req.ChallengePassword != tc.want {
			t.Errorf("ChallengePassword = %q, want %q", req.ChallengePassword, tc.want)
		}
	}
}

// TestParseMaxSize: the size bound holds, and is configurable.
func TestParseMaxSize(t *testing.T) {
	der, err := Create(context.Background(), testKey(t, x509ext.KeyMLDSA87), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (ParseOptions{MaxSize: len(der) - 1}).Parse(der); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("over the bound: %v", err)
	}
	if _, err := (ParseOptions{MaxSize: len(der)}).Parse(der); err != nil {
		t.Fatalf("at the bound: %v", err)
	}
	big := make([]byte, DefaultMaxSize+1)
	if _, err := Parse(big); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("default bound: %v", err)
	}
	if _, err := ParsePEM(make([]byte, 4*DefaultMaxSize+1)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("PEM bound: %v", err)
	}
	if _, err := (ParseOptions{MaxSize: len(der) - 1}).ParsePEM(EncodePEM(der)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("DER inside PEM over the bound: %v", err)
	}
}

// TestPEM: EncodePEM and ParsePEM round trip; other blocks are skipped; the legacy NEW CERTIFICATE REQUEST type is
// read; input without a request is ErrNotFound.
func TestPEM(t *testing.T) {
	der, err := Create(context.Background(), testKey(t, x509ext.KeyMLDSA65), fullTemplate(t))
	if err != nil {
		t.Fatal(err)
	}
	p := EncodePEM(der)
	if !bytes.HasPrefix(p, []byte("-----BEGIN CERTIFICATE REQUEST-----\n")) {
		t.Fatalf("PEM header: %q", p[:40])
	}
	other := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2, 3}})
	legacy := pem.EncodeToMemory(&pem.Block{Type: "NEW CERTIFICATE REQUEST", Bytes: der})
	for name, in := range map[string][]byte{"plain": p, "after another block": append(slices.Clone(other), p...), "legacy type": legacy} {
		req, err := ParsePEM(in)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Equal(req.Raw, der) || req.CheckSignature() != nil {
			t.Fatalf("%s: wrong request", name)
		}
	}
	for name, in := range map[string][]byte{"empty": nil, "other block only": other, "garbage": []byte("hello")} {
		if _, err := ParsePEM(in); !errors.Is(err, ErrNotFound) {
			t.Fatalf("%s: err = %v, want ErrNotFound", name, err)
		}
	}
	bad := pem.EncodeToMemory(&pem.Block{Type: PEMType, Bytes: []byte{0x30, 0x00}})
	if _, err := ParsePEM(bad); !errors.Is(err, ErrMalformed) {
		t.Fatalf("bad DER in PEM: %v", err)
	}
}

// TestTwoStep: request info from NewTBS, signed outside pkikit with the raw primitives, assembled, parses and
// verifies; bad signatures, wrong algorithms and bad request info are refused.
func TestTwoStep(t *testing.T) {
	for _, c := range allCases {
		t.Run(c.name, func(t *testing.T) {
			key := testKey(t, c.kt)
			tmpl := fullTemplate(t)
			tbs, err := NewTBS(key.Public(), tmpl)
			if err != nil {
				t.Fatal(err)
			}
			sig := signElsewhere(t, key, c.alg, tbs)
			der, err := Assemble(tbs, c.alg, sig)
			if err != nil {
				t.Fatalf("Assemble: %v", err)
			}
			req, err := Parse(der)
			if err != nil {
				t.Fatal(err)
			}
			if err := req.CheckSignature(); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(req.RawTBSCertificateRequest, tbs) || req.SignatureAlgorithm != c.alg {
				t.Fatal("assembled request does not hold the given request info and algorithm")
			}
			// The one-step form writes the same request info.
			tmpl.SignatureAlgorithm = c.alg
			one, err := Create(context.Background(), key, tmpl)
			if err != nil {
				t.Fatal(err)
			}
			if oneTBS, _, _ := requestParts(t, one); !bytes.Equal(oneTBS, tbs) {
				t.Fatal("Create and NewTBS wrote different request info")
			}

			badSig := slices.Clone(sig)
			badSig[len(badSig)/2] ^= 0x40
			if _, err := Assemble(tbs, c.alg, badSig); !errors.Is(err, ErrBadSignature) {
				t.Errorf("bad signature: %v", err)
			}
			if _, err := Assemble(tbs, c.alg, nil); !errors.Is(err, ErrBadSignature) {
				t.Errorf("empty signature: %v", err)
			}
			otherTBS, err := NewTBS(freshKey(t, c.kt).Public(), tmpl)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Assemble(otherTBS, c.alg, sig); !errors.Is(err, ErrBadSignature) {
				t.Errorf("signature by another key: %v", err)
			}
			wrong := x509ext.MLDSA87
			if c.alg.IsPostQuantum() {
				wrong = x509ext.PureEd25519
			}
			if _, err := Assemble(tbs, wrong, sig); !errors.Is(err, ErrKeyMismatch) {
				t.Errorf("algorithm %v on %v: %v", wrong, c.kt, err)
			}
			if _, err := Assemble(append(slices.Clone(tbs), 0), c.alg, sig); !errors.Is(err, ErrMalformed) {
				t.Errorf("trailing data after request info: %v", err)
			}
			if _, err := Assemble(der, c.alg, sig); !errors.Is(err, ErrMalformed) {
				t.Errorf("a whole request as request info: %v", err)
			}
		})
	}
}

// TestAssembleDefaultAlgorithm: a zero algorithm in Assemble is the key's default.
func TestAssembleDefaultAlgorithm(t *testing.T) {
	key := testKey(t, x509ext.KeyMLDSA65)
	tbs, err := NewTBS(key.Public(), nil)
	if err != nil {
		t.Fatal(err)
	}
	der, err := Assemble(tbs, 0, signElsewhere(t, key, x509ext.MLDSA65, tbs))
	if err != nil {
		t.Fatal(err)
	}
	if _, aid, _ := requestParts(t, der); !bytes.Equal(aid, []byte{0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x12}) {
		t.Fatalf("AlgorithmIdentifier = %x", aid)
	}
}

// TestParseKeepsAttributeValues: Attributes hold each value's DER as encoded.
func TestParseKeepsAttributeValues(t *testing.T) {
	v1, v2 := tagged(0x0c, []byte("b")), tagged(0x0c, []byte("a"))
	der, err := Create(context.Background(), testKey(t, x509ext.KeyEd25519), &Template{
		Attributes: []Attribute{{Type: oidUnstructuredName, Values: [][]byte{v1, v2}}}, KeepAttributeOrder: true})
	if err != nil {
		t.Fatal(err)
	}
	req, err := Parse(der)
	if err != nil {
		t.Fatal(err)
	}
	if len(req.Attributes) != 1 || !req.Attributes[0].Type.Equal(oidUnstructuredName) ||
		!slices.EqualFunc(req.Attributes[0].Values, [][]byte{v1, v2}, bytes.Equal) {
		t.Fatalf("Attributes = %+v", req.Attributes)
	}
	// Sorted by default: "a" before "b".
	der, err = Create(context.Background(), testKey(t, x509ext.KeyEd25519), &Template{
		Attributes: []Attribute{{Type: oidUnstructuredName, Values: [][]byte{v1, v2}}}})
	if err != nil {
		t.Fatal(err)
	}
	if req, err = Parse(der); err != nil || !slices.EqualFunc(req.Attributes[0].Values, [][]byte{v2, v1}, bytes.Equal) {
		t.Fatalf("sorted values: %v %+v", err, req)
	}
}
