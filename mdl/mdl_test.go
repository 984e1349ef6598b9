package mdl

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/pkikit/pkikit/x509ext"
	"github.com/veraison/go-cose"
)

func TestIssuePresentVerify(t *testing.T) {
	cases := []struct {
		name   string
		iaca   x509ext.KeyAlgorithm
		ds     x509ext.KeyAlgorithm
		digest DigestAlgorithm
		alg    COSEAlgorithm
	}{
		{"ES256/SHA-256", x509ext.KeyECDSAP256, x509ext.KeyECDSAP256, SHA256, ES256},
		{"ES384/SHA-384", x509ext.KeyECDSAP384, x509ext.KeyECDSAP384, SHA384, ES384},
		{"ES512/SHA-512", x509ext.KeyECDSAP521, x509ext.KeyECDSAP521, SHA512, ES512},
		{"EdDSA/SHA-256", x509ext.KeyECDSAP256, x509ext.KeyEd25519, SHA256, EdDSA},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := newTestPKI(t, tc.iaca, tc.ds)
			dev := newDeviceKey(t)
			s, err := p.issuer.Issue(context.Background(), &IssueRequest{NameSpaces: sampleElements(0), DeviceKey: &dev.PublicKey,
				Signed: testBase, ValidUntil: testBase.Add(24 * time.Hour), DigestAlgorithm: tc.digest})
			if err != nil {
				t.Fatal(err)
			}
			if s.IssuerAuth.Algorithm != tc.alg {
				t.Fatalf("alg %v, want %v", s.IssuerAuth.Algorithm, tc.alg)
			}
			resp, err := Present(context.Background(), s, PresentOptions{Request: testRequest, SessionTranscript: testTranscript(), DeviceSigner: dev})
			if err != nil {
				t.Fatal(err)
			}
			res, err := VerifyDeviceResponse(resp.Marshal(), VerifyOptions{TrustStore: p.store, Time: testBase.Add(time.Hour),
				SessionTranscript: testTranscript(), DocType: DocTypeMDL})
			if err != nil {
				t.Fatalf("%v\n%v", err, res)
			}
			d := res.Documents[0]
			if got := d.Elements[NamespaceMDL]["family_name"]; got != "Mustermann" {
				t.Fatalf("family_name = %v", got)
			}
			if got := d.Elements[NamespaceMDL]["birth_date"]; got != FullDate("1971-09-01") {
				t.Fatalf("birth_date = %#v", got)
			}
			if d.DeviceAuthentication != "signature" || d.Handover != HandoverOpenID4VP || len(d.Chain) != 2 {
				t.Fatalf("device auth %q, handover %v, chain %d", d.DeviceAuthentication, d.Handover, len(d.Chain))
			}
			// Bare IssuerSigned verifies too.
			b, _ := s.Marshal()
			if _, err := VerifyIssuerSigned(b, VerifyOptions{TrustStore: p.store, Time: testBase}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestDeviceMac(t *testing.T) {
	p := newTestPKI(t, x509ext.KeyECDSAP256, x509ext.KeyECDSAP256)
	dev := newDeviceKey(t)
	s := issueSample(t, p, &dev.PublicKey)
	reader := readerKey(t)
	erk, err := MarshalCOSEKey(reader.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	de := []byte{0xa1, 0x00, 0x63, '1', '.', '0'} // a DeviceEngagement stand-in: {0: "1.0"}
	tr := NewQRSessionTranscript(de, erk)
	devECDH, _ := dev.ECDH()
	readerPub, err := ParseEReaderKey(erk)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := Present(context.Background(), s, PresentOptions{Request: testRequest, SessionTranscript: tr,
		DeviceKeyAgreement: devECDH, ReaderKey: readerPub})
	if err != nil {
		t.Fatal(err)
	}
	opts := VerifyOptions{TrustStore: p.store, Time: testBase, SessionTranscript: tr, ReaderKey: reader}
	res, err := VerifyDeviceResponse(resp.Marshal(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Documents[0].DeviceAuthentication != "mac" || res.Documents[0].Handover != HandoverQR {
		t.Fatalf("%+v", res.Documents[0])
	}
	// Another reader key (another session) fails.
	opts.ReaderKey = readerKey(t)
	if _, err := VerifyDeviceResponse(resp.Marshal(), opts); !errors.Is(err, ErrDeviceAuth) {
		t.Fatalf("other reader key: %v", err)
	}
	// Another transcript fails.
	opts.ReaderKey = reader
	opts.SessionTranscript = NewQRSessionTranscript(append(de[:len(de):len(de)], 0), erk)
	if _, err := VerifyDeviceResponse(resp.Marshal(), opts); !errors.Is(err, ErrDeviceAuth) {
		t.Fatalf("other transcript: %v", err)
	}
}

func TestSelectiveDisclosure(t *testing.T) {
	p := newTestPKI(t, x509ext.KeyECDSAP256, x509ext.KeyECDSAP256)
	dev := newDeviceKey(t)
	s := issueSample(t, p, &dev.PublicKey)
	req := ItemsRequest{NameSpaces: map[string][]string{NamespaceMDL: {"age_over_21", "no_such_element"}}}
	resp, err := Present(context.Background(), s, PresentOptions{Request: req, SessionTranscript: testTranscript(), DeviceSigner: dev})
	if err != nil {
		t.Fatal(err)
	}
	raw := resp.Marshal()
	for _, secret := range []string{"Mustermann", "family_name", "1971-09-01", "NY-1234567"} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Fatalf("response discloses %q", secret)
		}
	}
	res, err := VerifyDeviceResponse(raw, VerifyOptions{TrustStore: p.store, Time: testBase, SessionTranscript: testTranscript()})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Documents[0].Elements[NamespaceMDL]; len(got) != 1 || got["age_over_21"] != true {
		t.Fatalf("elements %v", got)
	}
	parsed, _ := ParseDeviceResponse(raw, ParseOptions{})
	if code, ok := parsed.Documents[0].Errors[NamespaceMDL]["no_such_element"]; !ok || code != 0 {
		t.Fatalf("errors %v", parsed.Documents[0].Errors)
	}
}

func TestReencodeIdentity(t *testing.T) {
	p := newTestPKI(t, x509ext.KeyECDSAP256, x509ext.KeyECDSAP256)
	dev := newDeviceKey(t)
	s := issueSample(t, p, &dev.PublicKey)
	b, _ := s.Marshal()
	s2, err := ParseIssuerSigned(b, ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := s2.Marshal()
	if !bytes.Equal(b, b2) {
		t.Fatal("IssuerSigned parse → Marshal changed the bytes")
	}
	for ns, items := range s.NameSpaces {
		for i, it := range items {
			if !bytes.Equal(it.Bytes(), s2.NameSpaces[ns][i].Bytes()) {
				t.Fatal("item bytes changed")
			}
		}
	}
	resp, err := Present(context.Background(), s2, PresentOptions{Request: testRequest, SessionTranscript: testTranscript(), DeviceSigner: dev})
	if err != nil {
		t.Fatal(err)
	}
	r2, err := ParseDeviceResponse(resp.Marshal(), ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(r2.Marshal(), resp.Marshal()) || !bytes.Equal(r2.Documents[0].IssuerSigned.IssuerAuth.Marshal(), s.IssuerAuth.Marshal()) {
		t.Fatal("DeviceResponse parse → Marshal changed the bytes")
	}
	mso, _ := s.MobileSecurityObject()
	m2, err := ParseMobileSecurityObject(mso.Marshal(), true)
	if err != nil || !bytes.Equal(m2.Marshal(), mso.Marshal()) {
		t.Fatal("MSO parse → Marshal changed the bytes", err)
	}
	// The MSO is in the standard's CDDL order, not sorted.
	var keys []string
	ks, _, _ := mapEntries(mso.Marshal())
	for _, k := range ks {
		var s string
		_ = cbor.Unmarshal(k, &s)
		keys = append(keys, s)
	}
	if strings.Join(keys, ",") != "version,digestAlgorithm,valueDigests,deviceKeyInfo,docType,validityInfo" {
		t.Fatalf("MSO key order %v", keys)
	}
}

func TestIssuedStructure(t *testing.T) {
	p := newTestPKI(t, x509ext.KeyECDSAP256, x509ext.KeyECDSAP256)
	dev := newDeviceKey(t)
	s := issueSample(t, p, &dev.PublicKey)
	ids := map[uint64]bool{}
	for _, it := range s.NameSpaces[NamespaceMDL] {
		if len(it.Random) < 16 {
			t.Fatalf("salt of %d bytes", len(it.Random))
		}
		if ids[it.DigestID] {
			t.Fatalf("duplicate digest ID %d", it.DigestID)
		}
		ids[it.DigestID] = true
		if !bytes.HasPrefix(it.Bytes(), []byte{0xd8, 0x18}) {
			t.Fatal("item is not tag 24")
		}
	}
	// birth_date is tag 1004, portrait a bstr.
	for _, it := range s.NameSpaces[NamespaceMDL] {
		switch it.ElementIdentifier {
		case "birth_date":
			if hex.EncodeToString(it.RawElementValue()) != "d903ec6a313937312d30392d3031" {
				t.Fatalf("birth_date %x", it.RawElementValue())
			}
		case "portrait":
			if it.RawElementValue()[0]>>5 != 2 {
				t.Fatal("portrait is not a bstr")
			}
		}
	}
	raw := s.IssuerAuth.Marshal()
	// Untagged COSE_Sign1, protected {1: -7}, unprotected {33: bstr DS}.
	if !bytes.HasPrefix(raw, []byte{0x84, 0x43, 0xa1, 0x01, 0x26, 0xa1, 0x18, 0x21, 0x59}) {
		t.Fatalf("issuerAuth starts %x", raw[:12])
	}
	if !bytes.Equal(s.IssuerAuth.X5Chain[0], p.ds.Raw) || len(s.IssuerAuth.X5Chain) != 1 {
		t.Fatal("x5chain is not the DS alone")
	}
	if !bytes.HasPrefix(s.IssuerAuth.Payload, []byte{0xd8, 0x18}) {
		t.Fatal("payload is not MobileSecurityObjectBytes")
	}
	mso, _ := s.MobileSecurityObject()
	if !mso.ValidityInfo.Signed.Equal(testBase) || mso.DocType != DocTypeMDL || mso.Version != "1.0" {
		t.Fatalf("%+v", mso.ValidityInfo)
	}
	// tdate: tag 0, UTC, no fraction (the Annex D bytes for 2020-10-01T13:30:02Z).
	if got := hex.EncodeToString(marshalTDate(time.Date(2020, 10, 1, 15, 30, 2, 5e8, time.FixedZone("CEST", 7200)))); got != "c074323032302d31302d30315431333a33303a30325a" {
		t.Fatalf("tdate %s", got)
	}
}

// TestGoCOSECrossCheck verifies our issuerAuth and deviceSignature with go-cose, an independent COSE
// implementation.
func TestGoCOSECrossCheck(t *testing.T) {
	p := newTestPKI(t, x509ext.KeyECDSAP256, x509ext.KeyECDSAP256)
	dev := newDeviceKey(t)
	s := issueSample(t, p, &dev.PublicKey)
	var msg cose.UntaggedSign1Message
	if err := msg.UnmarshalCBOR(s.IssuerAuth.Marshal()); err != nil {
		t.Fatal(err)
	}
	v, err := cose.NewVerifier(cose.AlgorithmES256, p.ds.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := msg.Verify(nil, v); err != nil {
		t.Fatalf("go-cose rejects our issuerAuth: %v", err)
	}
	resp, _ := Present(context.Background(), s, PresentOptions{Request: testRequest, SessionTranscript: testTranscript(), DeviceSigner: dev})
	var dmsg cose.UntaggedSign1Message
	if err := dmsg.UnmarshalCBOR(resp.Documents[0].DeviceSigned.Signature.Marshal()); err != nil {
		t.Fatal(err)
	}
	dmsg.Payload = deviceAuthenticationBytes(testTranscript(), DocTypeMDL, tag24([]byte{0xa0}))
	dv, _ := cose.NewVerifier(cose.AlgorithmES256, &dev.PublicKey)
	if err := dmsg.Verify(nil, dv); err != nil {
		t.Fatalf("go-cose rejects our deviceSignature: %v", err)
	}
	// And go-cose's signature verifies with us.
	gs, _ := cose.NewSigner(cose.AlgorithmES256, p.dsKey)
	gm := cose.NewSign1Message()
	gm.Headers.Protected.SetAlgorithm(cose.AlgorithmES256)
	gm.Headers.Unprotected[cose.HeaderLabelX5Chain] = p.ds.Raw
	gm.Payload = s.IssuerAuth.Payload
	if err := gm.Sign(rand.Reader, nil, gs); err != nil {
		t.Fatal(err)
	}
	gb, _ := (*cose.UntaggedSign1Message)(gm).MarshalCBOR()
	ours, err := ParseSign1(gb)
	if err != nil {
		t.Fatal(err)
	}
	if err := ours.verify(p.ds.PublicKey, nil); err != nil {
		t.Fatalf("we reject go-cose's signature: %v", err)
	}
}

// kmsLikeSigner returns DER ECDSA signatures through SignContext only, as a KMS-backed signer does, and
// dereferences nothing in opts.
type kmsLikeSigner struct{ k *ecdsa.PrivateKey }

func (s kmsLikeSigner) Public() crypto.PublicKey { return &s.k.PublicKey }
func (s kmsLikeSigner) Sign(r io.Reader, digest []byte, _ crypto.SignerOpts) ([]byte, error) {
	return ecdsa.SignASN1(r, s.k, digest)
}
func (s kmsLikeSigner) SignContext(_ context.Context, r io.Reader, digest []byte, _ crypto.SignerOpts) ([]byte, error) {
	return ecdsa.SignASN1(rand.Reader, s.k, digest)
}

func TestKMSSignerDERConverted(t *testing.T) {
	p := newTestPKI(t, x509ext.KeyECDSAP384, x509ext.KeyECDSAP384)
	iss, err := NewIssuer(kmsLikeSigner{p.dsKey.(*ecdsa.PrivateKey)}, p.ds, IssuerOptions{IACA: p.iaca})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 8; i++ { // short r or s values must still be padded to 48 bytes
		s, err := iss.Issue(context.Background(), &IssueRequest{NameSpaces: sampleElements(0), DeviceKey: ed25519.PublicKey(make([]byte, 32)),
			Signed: testBase, ValidUntil: testBase.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if len(s.IssuerAuth.Signature) != 96 {
			t.Fatalf("ES384 signature of %d bytes", len(s.IssuerAuth.Signature))
		}
		b, _ := s.Marshal()
		if _, err := VerifyIssuerSigned(b, VerifyOptions{TrustStore: p.store, Time: testBase}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDerToRawPadding(t *testing.T) {
	// r = 1, s = 2: both padded to 32 bytes.
	raw, err := derToRaw([]byte{0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02}, 32)
	if err != nil || len(raw) != 64 || raw[31] != 1 || raw[63] != 2 {
		t.Fatalf("%x %v", raw, err)
	}
	if !bytes.Equal(rawToDER(raw), []byte{0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02}) {
		t.Fatal("rawToDER")
	}
	for _, bad := range [][]byte{{}, {0x30, 0x00}, {0x30, 0x03, 0x02, 0x01, 0x00}} {
		if _, err := derToRaw(bad, 32); !errors.Is(err, ErrMalformed) {
			t.Fatalf("%x: %v", bad, err)
		}
	}
}

func TestIssueRefuses(t *testing.T) {
	p := newTestPKI(t, x509ext.KeyECDSAP256, x509ext.KeyECDSAP256)
	dev := newDeviceKey(t)
	ctx := context.Background()
	cases := []struct {
		name string
		req  IssueRequest
		want error
	}{
		{"signed after DS expiry", IssueRequest{NameSpaces: sampleElements(0), DeviceKey: &dev.PublicKey, Signed: p.ds.NotAfter.Add(time.Hour), ValidUntil: p.ds.NotAfter.Add(48 * time.Hour)}, ErrMSOSignedOutsideCertificate},
		{"birth_date as string", IssueRequest{NameSpaces: map[string]map[string]any{NamespaceMDL: {"birth_date": "1971-09-01"}}, DeviceKey: &dev.PublicKey, Signed: testBase, ValidUntil: testBase.Add(time.Hour)}, ErrInvalidRequest},
		{"portrait as string", IssueRequest{NameSpaces: map[string]map[string]any{NamespaceMDL: {"portrait": "jpeg"}}, DeviceKey: &dev.PublicKey, Signed: testBase, ValidUntil: testBase.Add(time.Hour)}, ErrInvalidRequest},
		{"lower-case issuing_country", IssueRequest{NameSpaces: map[string]map[string]any{NamespaceMDL: {"issuing_country": "us"}}, DeviceKey: &dev.PublicKey, Signed: testBase, ValidUntil: testBase.Add(time.Hour)}, ErrInvalidRequest},
		{"short salt", IssueRequest{NameSpaces: sampleElements(0), DeviceKey: &dev.PublicKey, Signed: testBase, ValidUntil: testBase.Add(time.Hour), SaltSize: 8}, ErrInvalidRequest},
		{"no validUntil", IssueRequest{NameSpaces: sampleElements(0), DeviceKey: &dev.PublicKey}, ErrInvalidRequest},
		{"until before from", IssueRequest{NameSpaces: sampleElements(0), DeviceKey: &dev.PublicKey, Signed: testBase, ValidUntil: testBase.Add(-time.Hour)}, ErrInvalidRequest},
		{"bad digest", IssueRequest{NameSpaces: sampleElements(0), DeviceKey: &dev.PublicKey, Signed: testBase, ValidUntil: testBase.Add(time.Hour), DigestAlgorithm: "SHA-1"}, ErrUnsupportedAlgorithm},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := p.issuer.Issue(ctx, &tc.req); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	// NewIssuer refuses a signer that does not hold the DS key, and the IACA as a DS.
	if _, err := NewIssuer(newDeviceKey(t), p.ds, IssuerOptions{}); !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("wrong key: %v", err)
	}
	if _, err := NewIssuer(p.iacaKey, p.iaca, IssuerOptions{}); !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("IACA as DS: %v", err)
	}
}

// TestNegative: each tampering fails with its own reason.
func TestNegative(t *testing.T) {
	p := newTestPKI(t, x509ext.KeyECDSAP256, x509ext.KeyECDSAP256)
	dev := newDeviceKey(t)
	ctx := context.Background()
	good := issueSample(t, p, &dev.PublicKey)
	present := func(s *IssuerSigned, tr *SessionTranscript) []byte {
		t.Helper()
		req := testRequest
		req.DocType = "" // the holder answers whatever it has; the reader checks
		r, err := Present(ctx, s, PresentOptions{Request: req, SessionTranscript: tr, DeviceSigner: dev})
		if err != nil {
			t.Fatal(err)
		}
		return r.Marshal()
	}
	opts := VerifyOptions{TrustStore: p.store, Time: testBase, SessionTranscript: testTranscript()}
	all := []error{ErrDigestMismatch, ErrDigestIDMismatch, ErrMSOExpired, ErrUntrustedDocumentSigner, ErrMissingDocumentSignerEKU,
		ErrDocTypeMismatch, ErrDeviceAuth, ErrIssuerSignature}

	// replaceItem rewrites one item's inner CBOR and re-wraps it (a holder tampering with its mdoc).
	replaceItem := func(s *IssuerSigned, id string, edit func(inner []byte) []byte) *IssuerSigned {
		out := &IssuerSigned{IssuerAuth: s.IssuerAuth, NameSpaces: map[string][]*IssuerSignedItem{}}
		for ns, items := range s.NameSpaces {
			for _, it := range items {
				if it.ElementIdentifier == id {
					inner, _ := untag24(it.bytes)
					nb := tag24(edit(inner))
					n, err := ParseIssuerSignedItem(nb)
					if err != nil {
						t.Fatal(err)
					}
					it = n
				}
				out.NameSpaces[ns] = append(out.NameSpaces[ns], it)
			}
		}
		return out
	}
	digestIDOf := func(id string) uint64 {
		for _, it := range good.NameSpaces[NamespaceMDL] {
			if it.ElementIdentifier == id {
				return it.DigestID
			}
		}
		t.Fatal("no " + id)
		return 0
	}
	setDigestID := func(newID uint64) func([]byte) []byte {
		return func(inner []byte) []byte {
			keys, vals, _ := mapEntries(inner)
			b := appendHead(nil, cborMajorMap, uint64(len(keys)))
			for i := range keys {
				b = append(b, keys[i]...)
				if bytes.Equal(keys[i], []byte("\x68digestID")) {
					b = appendHead(b, 0, newID)
				} else {
					b = append(b, vals[i]...)
				}
			}
			return b
		}
	}

	otherIACAKey, otherIACA := newIACA(t, x509ext.KeyECDSAP256, "Other IACA")
	_ = otherIACAKey
	foreignKey, foreignDS := newDS(t, otherIACAKey, otherIACA, x509ext.KeyECDSAP256, x509ext.MDLDocumentSignerCertificateV1)
	foreignIssuer, err := NewIssuer(foreignKey, foreignDS, IssuerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	noEKU := x509ext.MDLDocumentSignerCertificateV1
	noEKU.Name, noEKU.UnknownExtKeyUsage, noEKU.ExtKeyUsageCritical = "test-no-eku", nil, false
	noEKUKey, noEKUDS := newDS(t, p.iacaKey, p.iaca, x509ext.KeyECDSAP256, noEKU)
	if _, err := NewIssuer(noEKUKey, noEKUDS, IssuerOptions{}); !errors.Is(err, ErrMissingDocumentSignerEKU) {
		t.Fatalf("NewIssuer accepted a DS without the mDL EKU: %v", err)
	}
	noEKUIssuer, err := NewIssuer(noEKUKey, noEKUDS, IssuerOptions{Lenient: true})
	if err != nil {
		t.Fatal(err)
	}
	issueWith := func(iss *Issuer, docType string) *IssuerSigned {
		s, err := iss.Issue(ctx, &IssueRequest{DocType: docType, NameSpaces: sampleElements(0), DeviceKey: &dev.PublicKey, Signed: testBase, ValidUntil: testBase.Add(24 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	cases := []struct {
		name string
		resp func() []byte
		opts func(VerifyOptions) VerifyOptions
		want error
	}{
		{"element value changed", func() []byte {
			return present(replaceItem(good, "family_name", func(inner []byte) []byte {
				return bytes.Replace(inner, []byte("Mustermann"), []byte("Musterfrau"), 1)
			}), testTranscript())
		}, nil, ErrDigestMismatch},
		{"digest ID swapped", func() []byte {
			return present(replaceItem(good, "family_name", setDigestID(digestIDOf("given_name"))), testTranscript())
		}, nil, ErrDigestIDMismatch},
		{"MSO expired", func() []byte { return present(good, testTranscript()) },
			func(o VerifyOptions) VerifyOptions { o.Time = testBase.Add(31 * 24 * time.Hour); return o }, ErrMSOExpired},
		{"DS not chaining to the IACA", func() []byte { return present(issueWith(foreignIssuer, ""), testTranscript()) }, nil, ErrUntrustedDocumentSigner},
		{"DS without the mDL EKU", func() []byte { return present(issueWith(noEKUIssuer, ""), testTranscript()) }, nil, ErrMissingDocumentSignerEKU},
		{"wrong docType", func() []byte { return present(issueWith(p.issuer, "org.iso.23220.photoid.1"), testTranscript()) }, nil, ErrDocTypeMismatch},
		{"device signature over a different transcript", func() []byte {
			return present(good, NewOpenID4VPSessionTranscript("x509_san_dns:verifier.example.org", "other-nonce", nil, "https://verifier.example.org/response"))
		}, nil, ErrDeviceAuth},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := opts
			if tc.opts != nil {
				o = tc.opts(o)
			}
			if tc.want == ErrDocTypeMismatch {
				o.DocType = DocTypeMDL
			}
			res, err := VerifyDeviceResponse(tc.resp(), o)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			var ve *VerifyError
			if !errors.As(err, &ve) || ve.Result != res || res.OK() {
				t.Fatal("no report")
			}
			for _, other := range all {
				if other == tc.want || (tc.want == ErrMissingDocumentSignerEKU && other == ErrUntrustedDocumentSigner) {
					continue
				}
				if errors.Is(err, other) {
					t.Fatalf("%v also reported %v", err, other)
				}
			}
		})
	}
	// The untampered response verifies with the same options.
	if _, err := VerifyDeviceResponse(present(good, testTranscript()), opts); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyRequiresInputs(t *testing.T) {
	p := newTestPKI(t, x509ext.KeyECDSAP256, x509ext.KeyECDSAP256)
	dev := newDeviceKey(t)
	s := issueSample(t, p, &dev.PublicKey)
	r, _ := Present(context.Background(), s, PresentOptions{Request: testRequest, SessionTranscript: testTranscript(), DeviceSigner: dev})
	if _, err := VerifyDeviceResponse(r.Marshal(), VerifyOptions{TrustStore: p.store, Time: testBase}); !errors.Is(err, ErrMissingSessionTranscript) {
		t.Fatalf("no transcript: %v", err)
	}
	if _, err := VerifyDeviceResponse(r.Marshal(), VerifyOptions{Time: testBase, SessionTranscript: testTranscript()}); !errors.Is(err, ErrNoTrustStore) {
		t.Fatalf("no store: %v", err)
	}
	if _, err := VerifyDeviceResponse(r.Marshal(), VerifyOptions{TrustStore: p.store, Time: testBase, SessionTranscript: testTranscript(), MaxSize: 100}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("max size: %v", err)
	}
	if _, err := Present(context.Background(), s, PresentOptions{Request: testRequest, SessionTranscript: testTranscript(), DeviceSigner: newDeviceKey(t)}); !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("wrong device key: %v", err)
	}
}

func TestSessionTranscriptKinds(t *testing.T) {
	cases := []struct {
		tr   *SessionTranscript
		want HandoverKind
	}{
		{NewQRSessionTranscript([]byte{0xa0}, []byte{0xa0}), HandoverQR},
		{NewNFCSessionTranscript([]byte{0xa0}, []byte{0xa0}, []byte{1, 2}, nil), HandoverNFC},
		{testTranscript(), HandoverOpenID4VP},
		{NewOpenID4VPDCAPISessionTranscript("https://rp.example", "n", []byte{1}), HandoverOpenID4VPDCAPI},
		{NewISODCAPISessionTranscript("ZW5j", "https://rp.example"), HandoverISODCAPI},
		{NewOpenID4VPDraft18SessionTranscript("c", "https://r", "n", "m"), HandoverOpenID4VPDraft18},
	}
	for _, tc := range cases {
		t.Run(tc.want.String(), func(t *testing.T) {
			for _, b := range [][]byte{tc.tr.CBOR(), tc.tr.Bytes()} {
				got, err := ParseSessionTranscript(b)
				if err != nil || got.Kind() != tc.want || !bytes.Equal(got.CBOR(), tc.tr.CBOR()) {
					t.Fatalf("%v %v", got, err)
				}
			}
		})
	}
	// OpenID4VP 1.0: the handover hash is SHA-256 of cbor([client_id, nonce, null, response_uri]).
	info := []byte{0x84, 0x61, 'c', 0x61, 'n', 0xf6, 0x61, 'r'}
	h := sha256.Sum256(info)
	want := append([]byte{0x83, 0xf6, 0xf6, 0x82, 0x71}, "OpenID4VPHandover"...)
	want = append(append(want, 0x58, 0x20), h[:]...)
	if got := NewOpenID4VPSessionTranscript("c", "n", nil, "r").CBOR(); !bytes.Equal(got, want) {
		t.Fatalf("OpenID4VP transcript\n got %x\nwant %x", got, want)
	}
}

func TestCOSEKeyRoundTrip(t *testing.T) {
	for _, pub := range []crypto.PublicKey{&newDeviceKey(t).PublicKey, mustKey(t, x509ext.KeyECDSAP521).Public(), mustKey(t, x509ext.KeyEd25519).Public()} {
		b, err := MarshalCOSEKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseCOSEKey(b)
		if err != nil || !publicKeysEqual(pub, got) {
			t.Fatalf("%T: %v", pub, err)
		}
	}
	// EC2 keys: {1:2, -1:1, -2:x, -3:y} in that order.
	b, _ := MarshalCOSEKey(&newDeviceKey(t).PublicKey)
	if !bytes.HasPrefix(b, []byte{0xa4, 0x01, 0x02, 0x20, 0x01, 0x21, 0x58, 0x20}) {
		t.Fatalf("%x", b[:8])
	}
	x, _ := ecdh.X25519().GenerateKey(rand.Reader)
	if _, err := MarshalCOSEKey(x.PublicKey()); !errors.Is(err, ErrUnsupportedAlgorithm) {
		t.Fatal(err)
	}
}

func TestBoundedDecoding(t *testing.T) {
	deep := bytes.Repeat([]byte{0x81}, 100000)
	deep = append(deep, 0x00)
	huge := []byte{0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff} // array claiming 2^64-1 elements
	hugeMap := []byte{0xbb, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00}
	bigBstr := []byte{0x5b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	indef := []byte{0xbf, 0x67, 'v', 'e', 'r', 's', 'i', 'o', 'n', 0x63, '1', '.', '0', 0xff}
	dup := []byte{0xa2, 0x66, 's', 't', 'a', 't', 'u', 's', 0x00, 0x66, 's', 't', 'a', 't', 'u', 's', 0x00}
	for name, in := range map[string][]byte{"deep": deep, "huge array": huge, "huge map": hugeMap, "huge bstr": bigBstr, "indefinite": indef, "duplicate key": dup} {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseDeviceResponse(in, ParseOptions{}); !errors.Is(err, ErrMalformed) {
				t.Fatalf("DeviceResponse: %v", err)
			}
			if _, err := ParseIssuerSigned(in, ParseOptions{}); !errors.Is(err, ErrMalformed) {
				t.Fatalf("IssuerSigned: %v", err)
			}
			if _, err := ParseMobileSecurityObject(in, true); !errors.Is(err, ErrMalformed) {
				t.Fatalf("MSO: %v", err)
			}
		})
	}
}

func TestStrictTDate(t *testing.T) {
	for _, s := range []string{"2020-10-01T13:30:02.5Z", "2020-10-01T15:30:02+02:00"} {
		raw, _ := cbor.Marshal(cbor.Tag{Number: 0, Content: s})
		if _, err := parseTDate(raw, true); !errors.Is(err, ErrMalformed) {
			t.Fatalf("%s accepted in strict mode", s)
		}
		if _, err := parseTDate(raw, false); err != nil {
			t.Fatalf("%s refused in lenient mode: %v", s, err)
		}
	}
	raw, _ := cbor.Marshal("2020-10-01T13:30:02Z")
	if _, err := parseTDate(raw, false); !errors.Is(err, ErrMalformed) {
		t.Fatal("untagged tdate accepted")
	}
}

func TestCertificateProfiles(t *testing.T) {
	p := newTestPKI(t, x509ext.KeyECDSAP256, x509ext.KeyECDSAP256)
	if rep, err := CheckIACACertificate(p.iaca, CertificateCheckOptions{}); err != nil || !rep.OK() {
		t.Fatalf("IACA: %v %v", err, rep.Findings)
	}
	if rep, err := CheckDocumentSignerCertificate(p.ds, p.iaca, CertificateCheckOptions{RequireState: true}); err != nil || !rep.OK() {
		t.Fatalf("DS: %v %v", err, rep.Findings)
	}
	// The DS is not an IACA and the IACA is not a DS.
	if _, err := CheckIACACertificate(p.ds, CertificateCheckOptions{}); !errors.Is(err, ErrCertificateProfile) {
		t.Fatalf("DS as IACA: %v", err)
	}
	rep, err := CheckDocumentSignerCertificate(p.iaca, nil, CertificateCheckOptions{})
	if !errors.Is(err, ErrMissingDocumentSignerEKU) || !errors.Is(err, ErrCertificateProfile) {
		t.Fatalf("IACA as DS: %v", err)
	}
	// Lenient: the same findings, no error.
	rep2, err := CheckDocumentSignerCertificate(p.iaca, nil, CertificateCheckOptions{Lenient: true})
	if err != nil || len(rep2.Findings) != len(rep.Findings) || rep2.OK() {
		t.Fatalf("lenient: %v %v", err, rep2.Findings)
	}
	for _, rule := range []string{"ds-key-usage", "ds-eku", "ds-basic-constraints"} {
		if !rep.has(rule) {
			t.Errorf("missing finding %s in %v", rule, rep.Findings)
		}
	}
	// A stdlib-made certificate breaking several rules.
	bad := stdlibCert(t, p)
	rep, err = CheckDocumentSignerCertificate(bad, p.iaca, CertificateCheckOptions{})
	if err == nil {
		t.Fatal("accepted")
	}
	for _, rule := range []string{"ds-validity", "ds-issuer-alt-name", "ds-crl-distribution-point", "ds-country", "ds-key-usage"} {
		if !rep.has(rule) {
			t.Errorf("missing finding %s in %v", rule, rep.Findings)
		}
	}
}

func stdlibCert(t *testing.T, p *testPKI) *x509ext.Certificate {
	t.Helper()
	key := newDeviceKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: bigSerial(), Subject: pkixName("DE", "Bad DS"),
		NotBefore: testBase, NotAfter: testBase.Add(3 * 365 * 24 * time.Hour),
		KeyUsage:           x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		UnknownExtKeyUsage: nil, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.iaca.Certificate, &key.PublicKey, p.iacaKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509ext.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
