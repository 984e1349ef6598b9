package x509ext

import (
	"bytes"
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/pkikit/pkikit/internal/alg"
	"github.com/pkikit/pkikit/internal/der"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// mustErr fails unless err matches sentinel and is one of this package's *Error values.
func mustErr(t *testing.T, err, sentinel error) {
	t.Helper()
	var e *Error
	if !errors.Is(err, sentinel) || !errors.As(err, &e) {
		t.Fatalf("got %v, want a *x509ext.Error matching %v", err, sentinel)
	}
}

func leafReq(pub any, cn string) *IssueRequest {
	return &IssueRequest{Profile: CodeSigningCertificateV1, PublicKey: pub, Subject: pkix.Name{CommonName: cn},
		Validity: time.Hour}
}

// TestNilAndZeroInputs: every entry point refuses nil or zero input with a typed error instead of panicking.
func TestNilAndZeroInputs(t *testing.T) {
	ctx := context.Background()
	root := newRoot(t, KeyECDSAP256, 0, "nil-input root")
	key := testKey(t, KeyECDSAP256)
	cases := []struct {
		name     string
		run      func() error
		sentinel error
	}{
		{"nil issuer", func() error { _, err := (*Issuer)(nil).Issue(ctx, leafReq(key.Public(), "a")); return err }, ErrNotIssuer},
		{"zero issuer", func() error { _, err := (&Issuer{}).Issue(ctx, leafReq(key.Public(), "a")); return err }, ErrNotIssuer},
		{"issuer with zero certificate", func() error {
			_, err := (&Issuer{Certificate: &Certificate{}, Signer: key}).Issue(ctx, leafReq(key.Public(), "a"))
			return err
		}, ErrNotIssuer},
		{"nil request", func() error { _, err := root.Issue(ctx, nil); return err }, ErrInvalidRequest},
		{"zero request", func() error { _, err := root.Issue(ctx, &IssueRequest{}); return err }, ErrInvalidRequest},
		{"zero profile", func() error {
			r := leafReq(key.Public(), "a")
			r.Profile = Profile{}
			_, err := root.Issue(ctx, r)
			return err
		}, ErrInvalidRequest},
		{"nil key and no CSR", func() error { _, err := root.Issue(ctx, leafReq(nil, "a")); return err }, ErrInvalidRequest},
		{"unsupported key", func() error { _, err := root.Issue(ctx, leafReq("not a key", "a")); return err }, ErrUnsupportedAlgorithm},
		{"CSR without Raw", func() error {
			r := leafReq(nil, "a")
			r.CSR = &x509.CertificateRequest{}
			_, err := root.Issue(ctx, r)
			return err
		}, ErrBadCSR},
		{"SelfSign nil signer", func() error { _, err := SelfSign(ctx, nil, leafReq(nil, "a")); return err }, ErrSignerMismatch},
		{"SelfSign nil request", func() error { _, err := SelfSign(ctx, key, nil); return err }, ErrInvalidRequest},
		{"SelfSign zero request", func() error { _, err := SelfSign(ctx, key, &IssueRequest{}); return err }, ErrInvalidRequest},
		{"CreateCRL nil issuer", func() error { _, err := (*Issuer)(nil).CreateCRL(ctx, &CRLRequest{Validity: time.Hour}); return err }, ErrNotIssuer},
		{"CreateCRL zero certificate", func() error {
			_, err := (&Issuer{Certificate: &Certificate{}, Signer: key}).CreateCRL(ctx, &CRLRequest{Validity: time.Hour})
			return err
		}, ErrNotIssuer},
		{"CreateCRL nil request", func() error { _, err := root.CreateCRL(ctx, nil); return err }, ErrInvalidRequest},
		{"CreateCRL zero request", func() error { _, err := root.CreateCRL(ctx, &CRLRequest{}); return err }, ErrInvalidRequest},
		{"nil certificate CheckSignatureFrom", func() error { return (*Certificate)(nil).CheckSignatureFrom(root.Certificate) }, ErrBadSignature},
		{"zero certificate CheckSignatureFrom", func() error { return (&Certificate{}).CheckSignatureFrom(root.Certificate) }, ErrBadSignature},
		{"CheckSignatureFrom zero parent", func() error { return root.Certificate.CheckSignatureFrom(&Certificate{}) }, ErrNotIssuer},
		{"nil certificate CheckSignatureFromKey", func() error { return (*Certificate)(nil).CheckSignatureFromKey(key.Public()) }, ErrBadSignature},
		{"nil certificate CheckSignature", func() error { return (*Certificate)(nil).CheckSignature(ECDSAWithSHA256, nil, nil) }, ErrBadSignature},
		{"nil CRL CheckSignatureFrom", func() error { return (*CRL)(nil).CheckSignatureFrom(root.Certificate) }, ErrBadSignature},
		{"zero CRL CheckSignatureFrom", func() error { return (&CRL{}).CheckSignatureFrom(root.Certificate) }, ErrBadSignature},
		{"ParseCertificate nil", func() error { _, err := ParseCertificate(nil); return err }, ErrMalformed},
		{"ParseCRL nil", func() error { _, err := ParseCRL(nil); return err }, ErrMalformed},
		{"CheckCSRSignature nil", func() error { _, err := CheckCSRSignature(nil); return err }, ErrBadCSR},
		{"ParseCAConfig nil", func() error { _, err := ParseCAConfig(nil); return err }, ErrMalformed},
		{"ParseAPIPassthrough nil", func() error { _, err := ParseAPIPassthrough(nil); return err }, ErrMalformed},
		{"LookupProfile empty", func() error { _, err := LookupProfile(""); return err }, ErrUnknownProfile},
		{"nil CAConfig GenerateKey", func() error { _, err := (*CAConfig)(nil).GenerateKey(); return err }, ErrCAConfig},
		{"nil CAConfig NewRoot", func() error { _, err := (*CAConfig)(nil).NewRoot(ctx, key, testTime, time.Hour); return err }, ErrCAConfig},
		{"ParsePKIXPublicKey garbage", func() error { _, err := ParsePKIXPublicKey([]byte{0x30, 0}); return err }, ErrMalformed},
		{"ParsePKCS8PrivateKey garbage", func() error { _, err := ParsePKCS8PrivateKey([]byte{1}); return err }, ErrMalformed},
		{"MarshalPKIXPublicKey nil", func() error { _, err := MarshalPKIXPublicKey(nil); return err }, ErrUnsupportedAlgorithm},
		{"GenerateKey unknown", func() error { _, err := GenerateKey(KeyAlgorithm(250)); return err }, ErrUnsupportedAlgorithm},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { mustErr(t, c.run(), c.sentinel) })
	}
	if err := (*Policy)(nil).Check(&Draft{}); err != nil {
		t.Fatalf("nil policy: %v", err)
	}
}

// TestSelfSignRefusesForeignCSR: a CSR signed by another key cannot become a "self-signed" certificate whose
// subject key is not the key that signed it.
func TestSelfSignRefusesForeignCSR(t *testing.T) {
	signer, other := testKey(t, KeyECDSAP256), otherKey(t, KeyECDSAP256)
	csr := makeCSR(t, other, pkix.Name{CommonName: "foreign"}, nil, nil)
	_, err := SelfSign(context.Background(), signer, &IssueRequest{Profile: RootCACertificateV1, CSR: csr,
		NotBefore: testTime, Validity: time.Hour})
	mustErr(t, err, ErrInvalidRequest)
	// The signer's own CSR works, and the certificate verifies under its own key.
	own := makeCSR(t, signer, pkix.Name{CommonName: "own"}, nil, nil)
	c, err := SelfSign(context.Background(), signer, &IssueRequest{Profile: RootCACertificateV1, CSR: own,
		NotBefore: testTime, Validity: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CheckSignatureFrom(c); err != nil {
		t.Fatal(err)
	}
}

// TestPathLenRules: RFC 5280 §4.2.1.9 / §6.1.4 — a subordinate's pathLen must be below the issuer's, a pathLen-0
// issuer issues no CA certificates, except self-issued ones (key rollover), which do not count and may repeat
// (not exceed) the issuer's pathLen.
func TestPathLenRules(t *testing.T) {
	root := newRoot(t, KeyECDSAP256, 0, "pathlen root")
	ctx := context.Background()
	issue := func(parent *Issuer, p Profile, cn string) (*Certificate, error) {
		return parent.Issue(ctx, &IssueRequest{Profile: p, PublicKey: testKey(t, KeyECDSAP384).Public(),
			Subject: pkix.Name{CommonName: cn}, Validity: time.Hour})
	}
	two := subCA(t, root, SubordinateCACertificatePathLen2V1, KeyECDSAP256, "pathlen two")
	zero := subCA(t, root, SubordinateCACertificatePathLen0V1, KeyECDSAP256, "pathlen zero")
	zeroName := zero.Certificate.Subject.CommonName
	twoName := two.Certificate.Subject.CommonName
	unconstrained := RootCACertificateV1 // a CA profile without pathLen
	cases := []struct {
		name    string
		parent  *Issuer
		profile Profile
		cn      string
		ok      bool
	}{
		{"below the issuer's", two, SubordinateCACertificatePathLen1V1, "sub", true},
		{"equal to the issuer's", two, SubordinateCACertificatePathLen2V1, "sub", false},
		{"above the issuer's", two, SubordinateCACertificatePathLen3V1, "sub", false},
		{"unconstrained under a constrained issuer", two, unconstrained, "sub", false},
		{"self-issued with the issuer's pathLen", two, SubordinateCACertificatePathLen2V1, twoName, true},
		{"self-issued above the issuer's pathLen", two, SubordinateCACertificatePathLen3V1, twoName, false},
		{"self-issued unconstrained", two, unconstrained, twoName, false},
		{"CA under pathLen 0", zero, SubordinateCACertificatePathLen0V1, "sub", false},
		{"self-issued CA under pathLen 0 (key rollover)", zero, SubordinateCACertificatePathLen0V1, zeroName, true},
		{"end entity under pathLen 0", zero, CodeSigningCertificateV1, "leaf", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := issue(c.parent, c.profile, c.cn)
			if c.ok && err != nil {
				t.Fatal(err)
			}
			if !c.ok {
				mustErr(t, err, ErrPathLen)
			}
		})
	}
}

// TestCSRFieldsComeFromVerifiedDER: Issue takes key, subject, names and extensions from csr.Raw (whose signature
// it verifies), not from struct fields changed after parsing.
func TestCSRFieldsComeFromVerifiedDER(t *testing.T) {
	root := newRoot(t, KeyECDSAP256, 0, "csr-der root")
	k := testKey(t, KeyECDSAP384)
	csr := makeCSR(t, k, pkix.Name{CommonName: "signed.example.com"}, []string{"signed.example.com"}, nil)
	other, err := MarshalPKIXPublicKey(testKey(t, KeyECDSAP256).Public())
	if err != nil {
		t.Fatal(err)
	}
	csr.RawSubjectPublicKeyInfo = other
	csr.Subject = pkix.Name{CommonName: "forged.example.com"}
	csr.RawSubject = []byte{0x30, 0}
	csr.DNSNames = []string{"forged.example.com"}
	csr.Extensions = nil
	c, err := root.Issue(context.Background(), &IssueRequest{Profile: EndEntityServerAuthCertificateV1, CSR: csr, Validity: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject.CommonName != "signed.example.com" || len(c.DNSNames) != 1 || c.DNSNames[0] != "signed.example.com" {
		t.Fatalf("subject %v, names %v", c.Subject, c.DNSNames)
	}
	want, _ := MarshalPKIXPublicKey(k.Public())
	if !bytes.Equal(c.RawSubjectPublicKeyInfo, want) {
		t.Fatal("certificate carries a key other than the CSR's signed key")
	}
}

// TestSANCriticality: RFC 5280 §4.2.1.6 — subjectAltName is critical exactly when the subject is empty, also
// when it is copied from a CSR that marked it otherwise; a CA certificate needs a subject.
func TestSANCriticality(t *testing.T) {
	root := newRoot(t, KeyECDSAP256, 0, "san root")
	k := testKey(t, KeyECDSAP384)
	san, err := der.MarshalGeneralNames(der.GeneralNames{DNSNames: []string{"a.example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name        string
		csrCritical bool
		subject     pkix.Name
		want        bool
	}{
		{"critical CSR SAN, subject given", true, pkix.Name{CommonName: "a.example.com"}, false},
		{"non-critical CSR SAN, empty subject", false, pkix.Name{}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			csr := makeCSR(t, k, pkix.Name{}, nil, []pkix.Extension{{Id: OIDExtensionSubjectAltName, Critical: c.csrCritical, Value: san}})
			cert, err := root.Issue(context.Background(), &IssueRequest{Profile: EndEntityServerAuthCertificateV1,
				CSR: csr, Subject: c.subject, Validity: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range cert.Extensions {
				if e.Id.Equal(OIDExtensionSubjectAltName) && e.Critical != c.want {
					t.Fatalf("SAN critical = %v", e.Critical)
				}
			}
		})
	}
	_, err = root.Issue(context.Background(), &IssueRequest{Profile: SubordinateCACertificatePathLen0V1,
		PublicKey: k.Public(), DNSNames: []string{"ca.example.com"}, Validity: time.Hour})
	mustErr(t, err, ErrInvalidRequest)
}

// TestSerialAndCRLNumberBounds: at most 20 octets of DER contents (RFC 5280 §4.1.2.2, §5.2.3): 2^159-1 fits,
// 2^159 needs a 21st (zero) octet.
func TestSerialAndCRLNumberBounds(t *testing.T) {
	root := newRoot(t, KeyECDSAP256, 0, "serial root")
	maxOK := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 159), big.NewInt(1))
	tooBig := new(big.Int).Lsh(big.NewInt(1), 159)
	ctx := context.Background()
	r := leafReq(testKey(t, KeyECDSAP384).Public(), "serial")
	r.SerialNumber = maxOK
	c, err := root.Issue(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if c.SerialNumber.Cmp(maxOK) != 0 {
		t.Fatal("serial changed")
	}
	for _, bad := range []*big.Int{tooBig, big.NewInt(0), big.NewInt(-1)} {
		r.SerialNumber = bad
		_, err := root.Issue(ctx, r)
		mustErr(t, err, ErrInvalidRequest)
	}
	if _, err := root.CreateCRL(ctx, &CRLRequest{Number: maxOK, Validity: time.Hour,
		Revoked: []RevokedCertificate{{SerialNumber: maxOK, RevocationTime: testTime}}}); err != nil {
		t.Fatal(err)
	}
	_, err = root.CreateCRL(ctx, &CRLRequest{Number: tooBig, Validity: time.Hour})
	mustErr(t, err, ErrInvalidRequest)
	_, err = root.CreateCRL(ctx, &CRLRequest{Validity: time.Hour, Revoked: []RevokedCertificate{{SerialNumber: tooBig, RevocationTime: testTime}}})
	mustErr(t, err, ErrInvalidRequest)
}

// TestRequestValueChecks: values Issue and CreateCRL refuse before signing.
func TestRequestValueChecks(t *testing.T) {
	root := newRoot(t, KeyECDSAP256, 0, "values root")
	ctx := context.Background()
	pub := testKey(t, KeyECDSAP384).Public()
	oid := asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}
	cases := []struct {
		name   string
		change func(*IssueRequest)
		want   error
	}{
		{"duplicate policy OID (RFC 5280 §4.2.1.4)", func(r *IssueRequest) {
			r.Policies = []CertificatePolicy{{ID: oid}, {ID: oid, CPSURI: "http://cps.example.com"}}
		}, ErrInvalidRequest},
		{"user notice not UTF-8", func(r *IssueRequest) { r.Policies = []CertificatePolicy{{ID: oid, UserNotice: "\xff"}} }, ErrInvalidRequest},
		{"extra extension value not one DER element", func(r *IssueRequest) {
			r.ExtraExtensions = []pkix.Extension{{Id: oid, Value: []byte{0x04, 0x01, 0x00, 0x00}}}
		}, ErrInvalidRequest},
		{"extra extension value not DER at all", func(r *IssueRequest) {
			r.ExtraExtensions = []pkix.Extension{{Id: oid, Value: []byte{0x04, 0x05}}}
		}, ErrInvalidRequest},
		{"keyUsage bit beyond decipherOnly", func(r *IssueRequest) {
			r.Profile.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageDecipherOnly<<1
		}, ErrInvalidRequest},
		{"ECDSA encipherOnly with decipherOnly (RFC 5480 §3)", func(r *IssueRequest) {
			r.Profile.KeyUsage = x509.KeyUsageKeyAgreement | x509.KeyUsageEncipherOnly | x509.KeyUsageDecipherOnly
		}, ErrProfileKeyMismatch},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := leafReq(pub, "values")
			c.change(r)
			_, err := root.Issue(ctx, r)
			mustErr(t, err, c.want)
		})
	}
	t.Run("duplicate CRL extension", func(t *testing.T) {
		e := pkix.Extension{Id: oid, Value: []byte{0x05, 0x00}}
		_, err := root.CreateCRL(ctx, &CRLRequest{Validity: time.Hour, ExtraExtensions: []pkix.Extension{e, e}})
		mustErr(t, err, ErrInvalidRequest)
	})
}

// TestDEREncodings pins the DER of the fields whose canonical form is easy to get wrong.
func TestDEREncodings(t *testing.T) {
	for _, c := range []struct {
		ku   x509.KeyUsage
		want string
	}{
		{x509.KeyUsageDigitalSignature, "03020780"},
		{x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, "030205a0"},
		{x509.KeyUsageCertSign | x509.KeyUsageCRLSign, "03020106"},
		{kuCA, "03020186"},
		{x509.KeyUsageContentCommitment, "03020640"},
		{x509.KeyUsageKeyAgreement | x509.KeyUsageDecipherOnly, "0303070880"},
		{x509.KeyUsageEncipherOnly, "03020001"},
	} {
		if got := hex.EncodeToString(marshalKeyUsage(c.ku)); got != c.want {
			t.Errorf("keyUsage %b: %s, want %s", c.ku, got, c.want)
		}
	}
	if got := hex.EncodeToString(marshalBasicConstraints(false, -1)); got != "3000" {
		t.Errorf("CA:FALSE = %s, want 3000 (DEFAULT FALSE omitted)", got)
	}
	if got := hex.EncodeToString(marshalBasicConstraints(true, 0)); got != "30060101ff020100" {
		t.Errorf("CA:TRUE pathLen 0 = %s", got)
	}

	// Validity: UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5).
	key := testKey(t, KeyEd25519)
	for _, c := range []struct {
		notAfter time.Time
		tag      cbasn1.Tag
	}{
		{time.Date(2049, 12, 31, 23, 59, 59, 0, time.UTC), cbasn1.UTCTime},
		{time.Date(2050, 1, 1, 0, 0, 0, 0, time.UTC), cbasn1.GeneralizedTime},
	} {
		c2, err := SelfSign(context.Background(), key, &IssueRequest{Profile: RootCACertificateV1,
			Subject: pkix.Name{CommonName: "time"}, NotBefore: testTime, NotAfter: c.notAfter})
		if err != nil {
			t.Fatal(err)
		}
		if tag := validityTags(t, c2.RawTBSCertificate)[1]; tag != c.tag {
			t.Errorf("notAfter %v encoded with tag %v", c.notAfter, tag)
		}
		if !c2.NotAfter.Equal(c.notAfter) {
			t.Errorf("notAfter parsed back as %v", c2.NotAfter)
		}
	}
}

func validityTags(t *testing.T, tbs []byte) [2]cbasn1.Tag {
	s := cryptobyte.String(tbs)
	var in, validity cryptobyte.String
	var tags [2]cbasn1.Tag
	if !s.ReadASN1(&in, cbasn1.SEQUENCE) || !in.SkipOptionalASN1(cbasn1.Tag(0).Constructed().ContextSpecific()) ||
		!in.SkipASN1(cbasn1.INTEGER) || !in.SkipASN1(cbasn1.SEQUENCE) || !in.SkipASN1(cbasn1.SEQUENCE) ||
		!in.ReadASN1(&validity, cbasn1.SEQUENCE) {
		t.Fatal("tbs")
	}
	for i := range tags {
		var v cryptobyte.String
		if !validity.ReadAnyASN1(&v, &tags[i]) {
			t.Fatal("validity")
		}
	}
	return tags
}

// TestPolicyCannotBeBypassed: DNS suffix and wildcard rules read what is signed (every commonName, the
// subjectAltName as encoded), compare ASCII case-insensitively with one trailing dot ignored, and never match
// through Unicode case folding.
func TestPolicyCannotBeBypassed(t *testing.T) {
	root := newRoot(t, KeyECDSAP256, 0, "policy root")
	root.Policy = &Policy{AllowedDNSSuffixes: []string{"example.com"}, DenyWildcardNames: true}
	ctx := context.Background()
	k := testKey(t, KeyECDSAP384)
	// Two commonName attributes: pkix.Name.CommonName keeps only one of them.
	subject := pkix.Name{ExtraNames: []pkix.AttributeTypeAndValue{
		{Type: oidCommonName, Value: "*.evil.net"}, {Type: oidCommonName, Value: "ok.example.com"}}}
	cases := []struct {
		name string
		req  func() *IssueRequest
		ok   bool
	}{
		{"upper case and trailing dot inside the domain", func() *IssueRequest {
			return &IssueRequest{DNSNames: []string{"WWW.EXAMPLE.COM."}}
		}, true},
		{"the domain itself", func() *IssueRequest { return &IssueRequest{DNSNames: []string{"example.com"}} }, true},
		{"look-alike domain", func() *IssueRequest { return &IssueRequest{DNSNames: []string{"badexample.com"}} }, false},
		{"two trailing dots", func() *IssueRequest { return &IssueRequest{DNSNames: []string{"a.example.com.."}} }, false},
		{"suffix as a label prefix", func() *IssueRequest { return &IssueRequest{DNSNames: []string{"example.com.evil.net"}} }, false},
		{"wildcard", func() *IssueRequest { return &IssueRequest{DNSNames: []string{"*.example.com"}} }, false},
		{"common name outside the domains", func() *IssueRequest {
			return &IssueRequest{Subject: pkix.Name{CommonName: "www.evil.net"}, DNSNames: []string{"www.example.com"}}
		}, false},
		{"common name that is not a host name", func() *IssueRequest {
			return &IssueRequest{Subject: pkix.Name{CommonName: "Build Server 7"}, DNSNames: []string{"www.example.com"}}
		}, true},
		{"wildcard in a second commonName of a CSR", func() *IssueRequest {
			return &IssueRequest{CSR: makeCSR(t, k, subject, []string{"ok.example.com"}, nil)}
		}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := c.req()
			r.Profile, r.Validity = EndEntityServerAuthCertificateV1, time.Hour
			if r.CSR == nil {
				r.PublicKey = k.Public()
			}
			if len(r.Subject.Names) == 0 && r.Subject.CommonName == "" && r.CSR == nil {
				r.Subject = pkix.Name{CommonName: "policy test"}
			}
			_, err := root.Issue(ctx, r)
			if c.ok && err != nil {
				t.Fatal(err)
			}
			if !c.ok {
				mustErr(t, err, ErrPolicy)
			}
		})
	}
	if dnsUnder("www.example.co\u212a", []string{"example.cok"}) || dnsUnder("x.example.com", []string{"EXAMPLE.CO\u212a"}) {
		t.Fatal("Unicode case folding matched")
	}
	if !dnsUnder("x.Example.Com", []string{".example.com."}) {
		t.Fatal("ASCII case or dots")
	}
}

// TestSignerMatchCache: the remembered issuer-key check still refuses a signer that is not the certificate's
// key, before and after the right pair was remembered.
func TestSignerMatchCache(t *testing.T) {
	for _, kt := range []KeyAlgorithm{KeyMLDSA44, KeyMLDSA65, KeyMLDSA87} {
		t.Run(kt.String(), func(t *testing.T) {
			root := newRoot(t, kt, 0, "cache root "+kt.String())
			wrong := otherKey(t, kt)
			bad := &Issuer{Certificate: root.Certificate, Signer: wrong, Now: fixedNow}
			req := leafReq(testKey(t, KeyECDSAP256).Public(), "leaf")
			for range 2 {
				_, err := bad.Issue(context.Background(), req)
				mustErr(t, err, ErrSignerMismatch)
				if _, err := root.Issue(context.Background(), req); err != nil {
					t.Fatal(err)
				}
			}
			// The same private key against another certificate's (different) public key.
			other, err := SelfSign(context.Background(), wrong, &IssueRequest{Profile: RootCACertificateV1,
				Subject: pkix.Name{CommonName: "other"}, NotBefore: testTime, Validity: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			_, err = (&Issuer{Certificate: other, Signer: root.Signer, Now: fixedNow}).Issue(context.Background(), req)
			mustErr(t, err, ErrSignerMismatch)
			if !signerMatches(root.Signer, root.Certificate.PublicKey) || signerMatches(root.Signer, other.PublicKey) {
				t.Fatal("signerMatches")
			}
			if alg.MatchesPublicKey(wrong, root.Certificate.PublicKey) {
				t.Fatal("alg.MatchesPublicKey")
			}
		})
	}
}

// TestCAConfigTypeIsHonoured: a SUBORDINATE configuration does not make a root, nor a ROOT one a subordinate.
func TestCAConfigTypeIsHonoured(t *testing.T) {
	ctx := context.Background()
	k := testKey(t, KeyECDSAP256)
	sub := &CAConfig{KeyAlgorithm: KeyECDSAP256, SigningAlgorithm: ECDSAWithSHA256, Subject: pkix.Name{CommonName: "s"}, Type: "SUBORDINATE"}
	_, err := sub.NewRoot(ctx, k, testTime, time.Hour)
	mustErr(t, err, ErrCAConfig)
	rootCfg := &CAConfig{KeyAlgorithm: KeyECDSAP256, SigningAlgorithm: ECDSAWithSHA256, Subject: pkix.Name{CommonName: "r"}, Type: "ROOT"}
	root, err := rootCfg.NewRoot(ctx, k, testTime, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	_, err = rootCfg.NewSubordinate(ctx, root, k, SubordinateCACertificatePathLen0V1, time.Hour)
	mustErr(t, err, ErrCAConfig)
	_, err = sub.NewSubordinate(ctx, nil, k, SubordinateCACertificatePathLen0V1, time.Hour)
	mustErr(t, err, ErrNotIssuer)
}

// TestLookupProfileReturnsACopy: changing the slices of a looked-up profile does not change the built-in one.
func TestLookupProfileReturnsACopy(t *testing.T) {
	p, err := LookupProfile("EndEntityServerAuthCertificate/V1")
	if err != nil {
		t.Fatal(err)
	}
	p.ExtKeyUsage[0] = x509.ExtKeyUsageCodeSigning
	again, _ := LookupProfile("EndEntityServerAuthCertificate/V1")
	if again.ExtKeyUsage[0] != x509.ExtKeyUsageServerAuth || EndEntityServerAuthCertificateV1.ExtKeyUsage[0] != x509.ExtKeyUsageServerAuth {
		t.Fatal("LookupProfile shares its slices with the built-in profile")
	}
	all := Profiles()
	all[0].KeyUsage = 0
	if RootCACertificateV1.KeyUsage == 0 {
		t.Fatal("Profiles shares the built-in profile")
	}
}

// TestIssueRefusesCSRWithDuplicateExtension: a request asking for the same extension twice is refused (the CSR
// struct carries only Raw, which is all Issue reads) rather than guessing which one counts.
func TestIssueRefusesCSRWithDuplicateExtension(t *testing.T) {
	root := newRoot(t, KeyECDSAP256, 0, "dup root")
	ku := pkix.Extension{Id: OIDExtensionKeyUsage, Critical: true, Value: marshalKeyUsage(x509.KeyUsageDigitalSignature)}
	csr := &x509.CertificateRequest{Raw: makeCSRDER(t, testKey(t, KeyECDSAP384), pkix.Name{CommonName: "dup"}, nil, []pkix.Extension{ku, ku})}
	p := BlankEndEntityCertificateAPIPassthroughV1
	p.CSRPassthrough = true
	_, err := root.Issue(context.Background(), &IssueRequest{Profile: p, CSR: csr, Validity: time.Hour})
	mustErr(t, err, ErrBadCSR)
}

// TestWrapCertificateMatchesCryptobyte: the hand-assembled Certificate SEQUENCE equals cryptobyte's encoding for
// TBS and signature sizes across every DER length-form boundary.
func TestWrapCertificateMatchesCryptobyte(t *testing.T) {
	for _, tbsLen := range []int{2, 100, 127, 128, 250, 255, 256, 65535, 65536, 70000} {
		for _, sigLen := range []int{64, 3309, 4627} {
			tbs := bytes.Repeat([]byte{0xab}, tbsLen)
			sig := bytes.Repeat([]byte{0xcd}, sigLen)
			buf := append(make([]byte, certHeaderRoom), tbs...)
			got, err := wrapCertificate(buf, MLDSA65, sig)
			if err != nil {
				t.Fatal(err)
			}
			var b cryptobyte.Builder
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddBytes(tbs)
				MLDSA65.AddAlgorithmIdentifier(b)
				b.AddASN1BitString(sig)
			})
			if want := b.BytesOrPanic(); !bytes.Equal(got, want) {
				t.Fatalf("tbs %d, sig %d: encodings differ", tbsLen, sigLen)
			}
		}
	}
}
