package csr

import (
	"crypto"
	"crypto/x509/pkix"
	"encoding/asn1"
	"net"
	"net/url"
	"sync"
	"testing"

	"github.com/pkikit/pkikit/x509ext"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// keyCase is one key type and signature algorithm the package must handle.
type keyCase struct {
	name string
	kt   x509ext.KeyAlgorithm
	alg  x509ext.SignatureAlgorithm
}

// allCases covers every key family and every signature algorithm of the table (RSA with a 2048-bit key to keep
// key generation quick; the signature algorithms do not depend on the RSA size).
var allCases = []keyCase{
	{"ML-DSA-44", x509ext.KeyMLDSA44, x509ext.MLDSA44},
	{"ML-DSA-65", x509ext.KeyMLDSA65, x509ext.MLDSA65},
	{"ML-DSA-87", x509ext.KeyMLDSA87, x509ext.MLDSA87},
	{"ECDSA-P256-SHA256", x509ext.KeyECDSAP256, x509ext.ECDSAWithSHA256},
	{"ECDSA-P384-SHA384", x509ext.KeyECDSAP384, x509ext.ECDSAWithSHA384},
	{"ECDSA-P521-SHA512", x509ext.KeyECDSAP521, x509ext.ECDSAWithSHA512},
	{"ECDSA-P256-SHA384", x509ext.KeyECDSAP256, x509ext.ECDSAWithSHA384},
	{"RSA-2048-SHA256", x509ext.KeyRSA2048, x509ext.SHA256WithRSA},
	{"RSA-2048-SHA384", x509ext.KeyRSA2048, x509ext.SHA384WithRSA},
	{"RSA-2048-SHA512", x509ext.KeyRSA2048, x509ext.SHA512WithRSA},
	{"RSA-2048-PSS-SHA256", x509ext.KeyRSA2048, x509ext.SHA256WithRSAPSS},
	{"RSA-2048-PSS-SHA384", x509ext.KeyRSA2048, x509ext.SHA384WithRSAPSS},
	{"RSA-2048-PSS-SHA512", x509ext.KeyRSA2048, x509ext.SHA512WithRSAPSS},
	{"Ed25519", x509ext.KeyEd25519, x509ext.PureEd25519},
}

var (
	keyMu    sync.Mutex
	keyCache = map[x509ext.KeyAlgorithm]crypto.Signer{}
)

// testKey returns one in-memory key per key type for the whole test binary.
func testKey(t testing.TB, kt x509ext.KeyAlgorithm) crypto.Signer {
	t.Helper()
	keyMu.Lock()
	defer keyMu.Unlock()
	if k, ok := keyCache[kt]; ok {
		return k
	}
	k, err := x509ext.GenerateKey(kt)
	if err != nil {
		t.Fatalf("GenerateKey(%v): %v", kt, err)
	}
	keyCache[kt] = k
	return k
}

// freshKey returns a new key (a different one from testKey's).
func freshKey(t testing.TB, kt x509ext.KeyAlgorithm) crypto.Signer {
	t.Helper()
	k, err := x509ext.GenerateKey(kt)
	if err != nil {
		t.Fatalf("GenerateKey(%v): %v", kt, err)
	}
	return k
}

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func mustMarshal(t testing.TB, v any) []byte {
	t.Helper()
	b, err := asn1.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// keyUsageDigitalSignature is the DER keyUsage value with digitalSignature set.
var keyUsageDigitalSignature = []byte{0x03, 0x02, 0x07, 0x80}

var (
	oidKeyUsage            = asn1.ObjectIdentifier{2, 5, 29, 15}
	oidExtKeyUsage         = asn1.ObjectIdentifier{2, 5, 29, 37}
	oidBasicConstraints    = asn1.ObjectIdentifier{2, 5, 29, 19}
	oidServerAuth          = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 1}
	oidUnstructuredName    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 2}
	oidUnknownSigAlgorithm = asn1.ObjectIdentifier{1, 2, 3, 4}
)

// fullTemplate exercises every field Create writes.
func fullTemplate(t testing.TB) *Template {
	t.Helper()
	return &Template{
		Subject:        pkix.Name{CommonName: "www.example.com", Organization: []string{"pkikit test"}, Country: []string{"DE"}},
		DNSNames:       []string{"www.example.com", "example.com"},
		EmailAddresses: []string{"admin@example.com"},
		IPAddresses:    []net.IP{net.ParseIP("192.0.2.1"), net.ParseIP("2001:db8::1")},
		URIs:           []*url.URL{mustURL(t, "spiffe://example.com/workload")},
		Extensions: []pkix.Extension{
			{Id: oidKeyUsage, Critical: true, Value: keyUsageDigitalSignature},
			{Id: oidExtKeyUsage, Value: mustMarshal(t, []asn1.ObjectIdentifier{oidServerAuth})},
			{Id: oidBasicConstraints, Critical: true, Value: mustMarshal(t, struct{}{})},
		},
		ChallengePassword: "s3cret pass",
	}
}

// requestParts splits a DER request into its three fields (each as a full DER element).
func requestParts(t testing.TB, der []byte) (tbs, aid, sig []byte) {
	t.Helper()
	s := cryptobyte.String(der)
	var req, a, b, c cryptobyte.String
	if !s.ReadASN1(&req, cbasn1.SEQUENCE) || !req.ReadASN1Element(&a, cbasn1.SEQUENCE) ||
		!req.ReadASN1Element(&b, cbasn1.SEQUENCE) || !req.ReadASN1Element(&c, cbasn1.BIT_STRING) || !req.Empty() {
		t.Fatalf("requestParts: not a request")
	}
	return a, b, c
}

// joinRequest builds SEQUENCE { parts... } from raw DER elements.
func joinRequest(parts ...[]byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, p := range parts {
			b.AddBytes(p)
		}
	})
	return b.BytesOrPanic()
}

// tbsParts splits a CertificationRequestInfo into version, subject, SPKI and attributes elements.
func tbsParts(t testing.TB, tbs []byte) (version, subject, spki, attrs []byte) {
	t.Helper()
	s := cryptobyte.String(tbs)
	var in, v, n, k, a cryptobyte.String
	if !s.ReadASN1(&in, cbasn1.SEQUENCE) || !in.ReadASN1Element(&v, cbasn1.INTEGER) ||
		!in.ReadASN1Element(&n, cbasn1.SEQUENCE) || !in.ReadASN1Element(&k, cbasn1.SEQUENCE) ||
		!in.ReadASN1Element(&a, cbasn1.Tag(0).Constructed().ContextSpecific()) || !in.Empty() {
		t.Fatalf("tbsParts: not a CertificationRequestInfo")
	}
	return v, n, k, a
}

func bitString(b []byte, unused byte) []byte {
	var bb cryptobyte.Builder
	bb.AddASN1(cbasn1.BIT_STRING, func(bb *cryptobyte.Builder) {
		bb.AddUint8(unused)
		bb.AddBytes(b)
	})
	return bb.BytesOrPanic()
}

// attributesField wraps raw Attribute elements in [0] IMPLICIT SET OF.
func attributesField(attrs ...[]byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
		for _, a := range attrs {
			b.AddBytes(a)
		}
	})
	return b.BytesOrPanic()
}

func attribute(oid asn1.ObjectIdentifier, values ...[]byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oid)
		b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
			for _, v := range values {
				b.AddBytes(v)
			}
		})
	})
	return b.BytesOrPanic()
}

func tagged(tag cbasn1.Tag, body []byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(tag, func(b *cryptobyte.Builder) { b.AddBytes(body) })
	return b.BytesOrPanic()
}

func aidDER(oid asn1.ObjectIdentifier, params []byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oid)
		b.AddBytes(params)
	})
	return b.BytesOrPanic()
}
