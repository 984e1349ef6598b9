package x509ext

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"testing"
	"time"
)

type issuerAlg struct {
	kt KeyAlgorithm
	a  SignatureAlgorithm
}

var issuerAlgs = []issuerAlg{
	{KeyMLDSA44, MLDSA44}, {KeyMLDSA65, MLDSA65}, {KeyMLDSA87, MLDSA87},
	{KeyECDSAP256, ECDSAWithSHA256}, {KeyECDSAP384, ECDSAWithSHA384}, {KeyECDSAP521, ECDSAWithSHA512},
	{KeyRSA2048, SHA256WithRSA}, {KeyRSA3072, SHA384WithRSA}, {KeyRSA4096, SHA512WithRSA},
	{KeyRSA2048, SHA256WithRSAPSS}, {KeyRSA3072, SHA384WithRSAPSS}, {KeyRSA4096, SHA512WithRSAPSS},
	{KeyEd25519, PureEd25519},
}

var subjectKeys = []KeyAlgorithm{KeyMLDSA44, KeyMLDSA65, KeyMLDSA87, KeyECDSAP256, KeyECDSAP384, KeyECDSAP521,
	KeyRSA2048, KeyRSA3072, KeyRSA4096, KeyEd25519}

// TestIssueEveryAlgorithmPair issues a code-signing leaf for every subject key type under a root of every
// issuer algorithm, re-parses the DER from scratch and checks the signature, the algorithm identifiers and the
// profile's extensions.
func TestIssueEveryAlgorithmPair(t *testing.T) {
	ctx := context.Background()
	for _, ia := range issuerAlgs {
		root := newRoot(t, ia.kt, ia.a, "root "+ia.a.String())
		if root.Certificate.SignatureAlgorithm != ia.a {
			t.Fatalf("root signature algorithm %v, want %v", root.Certificate.SignatureAlgorithm, ia.a)
		}
		if err := root.Certificate.CheckSignatureFrom(root.Certificate); err != nil {
			t.Fatalf("root %v self-signature: %v", ia.a, err)
		}
		for _, st := range subjectKeys {
			t.Run(fmt.Sprintf("%v/%v", ia.a, st), func(t *testing.T) {
				k := testKey(t, st)
				leaf, err := root.Issue(ctx, &IssueRequest{Profile: CodeSigningCertificateV1, PublicKey: k.Public(),
					Subject: pkix.Name{CommonName: "leaf " + st.String()}, Validity: 24 * time.Hour})
				if err != nil {
					t.Fatal(err)
				}
				again, err := ParseCertificate(leaf.Raw)
				if err != nil {
					t.Fatalf("ParseCertificate(our DER): %v", err)
				}
				if again.SignatureAlgorithm != ia.a || again.KeyAlgorithm != st {
					t.Fatalf("parsed algorithms %v/%v, want %v/%v", again.SignatureAlgorithm, again.KeyAlgorithm, ia.a, st)
				}
				if !publicKeysEqual(again.PublicKey, k.Public()) {
					t.Fatal("subject key differs after re-parse")
				}
				if err := again.CheckSignatureFrom(root.Certificate); err != nil {
					t.Fatalf("CheckSignatureFrom: %v", err)
				}
				if again.KeyUsage != x509.KeyUsageDigitalSignature || len(again.ExtKeyUsage) != 1 ||
					again.ExtKeyUsage[0] != x509.ExtKeyUsageCodeSigning || again.IsCA || !again.BasicConstraintsValid {
					t.Fatalf("extensions: ku=%v eku=%v ca=%v", again.KeyUsage, again.ExtKeyUsage, again.IsCA)
				}
				if !bytes.Equal(again.AuthorityKeyId, root.Certificate.SubjectKeyId) || len(again.SubjectKeyId) != 20 {
					t.Fatal("SKI/AKI wrong")
				}
				// A different key must not verify it.
				if err := again.CheckSignatureFromKey(otherKey(t, ia.kt).Public()); err == nil {
					t.Fatal("signature verified under a different key")
				}
				tampered := bytes.Clone(again.Raw)
				tampered[len(tampered)-5] ^= 1
				if tc, err := ParseCertificate(tampered); err == nil {
					if err := tc.CheckSignatureFrom(root.Certificate); !errors.Is(err, ErrBadSignature) {
						t.Fatalf("tampered signature: %v", err)
					}
				}
			})
		}
	}
}

// otherKey returns a key of the same family as kt that is not testKey(kt).
func otherKey(t testing.TB, kt KeyAlgorithm) crypto.Signer {
	t.Helper()
	switch kt {
	case KeyRSA2048:
		return testKey(t, KeyRSA3072)
	case KeyRSA3072, KeyRSA4096:
		return testKey(t, KeyRSA2048)
	}
	k, err := GenerateKey(kt)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestProfilesMatchAWSTemplates pins every AWS template's content (AWS Private CA User Guide, template
// definitions) by issuing with it and reading the result back through crypto/x509.
func TestProfilesMatchAWSTemplates(t *testing.T) {
	ctx := context.Background()
	root := newRoot(t, KeyECDSAP384, 0, "templates root")
	k := testKey(t, KeyRSA2048)
	type want struct {
		isCA, bcCritical bool
		pathLen          int // -1 none
		ku               x509.KeyUsage
		kuCritical       bool
		eku              []x509.ExtKeyUsage
		ekuCritical      bool
	}
	caKU := x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	eeKU := x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
	cases := map[string]want{
		"RootCACertificate/V1":                 {true, true, -1, caKU, true, nil, false},
		"SubordinateCACertificate_PathLen0/V1": {true, true, 0, caKU, true, nil, false},
		"SubordinateCACertificate_PathLen1/V1": {true, true, 1, caKU, true, nil, false},
		"SubordinateCACertificate_PathLen2/V1": {true, true, 2, caKU, true, nil, false},
		"SubordinateCACertificate_PathLen3/V1": {true, true, 3, caKU, true, nil, false},
		"EndEntityCertificate/V1":              {false, false, -1, eeKU, true, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}, false},
		"EndEntityClientAuthCertificate/V1":    {false, false, -1, eeKU, true, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, false},
		"EndEntityServerAuthCertificate/V1":    {false, false, -1, eeKU, true, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, false},
		"CodeSigningCertificate/V1":            {false, false, -1, x509.KeyUsageDigitalSignature, true, []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}, true},
		"OCSPSigningCertificate/V1":            {false, false, -1, x509.KeyUsageDigitalSignature, true, []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}, true},
	}
	for name, w := range cases {
		for _, variant := range []string{name, TemplateARNPrefix + name, TemplateARNPrefix + name[:len(name)-3] + "_APIPassthrough/V1"} {
			t.Run(variant, func(t *testing.T) {
				p, err := LookupProfile(variant)
				if err != nil {
					t.Fatal(err)
				}
				if p.ARN != TemplateARNPrefix+p.Name {
					t.Fatalf("ARN %q", p.ARN)
				}
				var c *Certificate
				req := &IssueRequest{Profile: p, PublicKey: k.Public(), Subject: pkix.Name{CommonName: "t"}, Validity: time.Hour}
				if name == "RootCACertificate/V1" {
					c, err = SelfSign(ctx, k, req)
				} else {
					// A root with unconstrained pathLen may issue every subordinate template.
					c, err = root.Issue(ctx, req)
				}
				if err != nil {
					t.Fatal(err)
				}
				ext := func(oid []int) (critical, found bool) {
					for _, e := range c.Extensions {
						if e.Id.Equal(oid) {
							return e.Critical, true
						}
					}
					return false, false
				}
				if c.IsCA != w.isCA || !c.BasicConstraintsValid {
					t.Fatalf("IsCA=%v", c.IsCA)
				}
				if crit, _ := ext(OIDExtensionBasicConstraints); crit != w.bcCritical {
					t.Fatalf("basicConstraints critical=%v", crit)
				}
				gotPL := c.MaxPathLen
				if gotPL == 0 && !c.MaxPathLenZero {
					gotPL = -1
				}
				if w.isCA && gotPL != w.pathLen {
					t.Fatalf("pathLen %d want %d", gotPL, w.pathLen)
				}
				if c.KeyUsage != w.ku {
					t.Fatalf("KU %b want %b", c.KeyUsage, w.ku)
				}
				if crit, _ := ext(OIDExtensionKeyUsage); crit != w.kuCritical {
					t.Fatalf("KU critical=%v", crit)
				}
				if fmt.Sprint(c.ExtKeyUsage) != fmt.Sprint(w.eku) {
					t.Fatalf("EKU %v want %v", c.ExtKeyUsage, w.eku)
				}
				if crit, found := ext(OIDExtensionExtKeyUsage); found != (w.eku != nil) || crit != w.ekuCritical {
					t.Fatalf("EKU present=%v critical=%v", found, crit)
				}
				if _, found := ext(OIDExtensionSubjectKeyID); !found {
					t.Fatal("no SKI")
				}
				if _, found := ext(OIDExtensionAuthorityKeyID); !found {
					t.Fatal("no AKI")
				}
			})
		}
	}
}

func TestLookupProfile(t *testing.T) {
	for _, s := range []string{"CodeSigningCertificate/V1", "arn:aws:acm-pca:::template/CodeSigningCertificate/V1",
		"arn:aws-us-gov:acm-pca:::template/CodeSigningCertificate/V1", "CodeSigningCertificateV1"} {
		p, err := LookupProfile(s)
		if err != nil || p.Name != "CodeSigningCertificate/V1" {
			t.Errorf("%s: %v %q", s, err, p.Name)
		}
	}
	p, err := LookupProfile("arn:aws:acm-pca:::template/EndEntityCertificate_APIPassthrough/V1")
	if err != nil || !p.APIPassthrough {
		t.Fatalf("passthrough lookup: %v %+v", err, p)
	}
	for _, s := range []string{"", "Nope/V1", "arn:aws:s3:::template/CodeSigningCertificate/V1", "arn:aws:acm-pca:::x/CodeSigningCertificate/V1"} {
		if _, err := LookupProfile(s); !errors.Is(err, ErrUnknownProfile) {
			t.Errorf("%q: %v", s, err)
		}
	}
	if len(Profiles()) < 21 {
		t.Fatalf("Profiles() has %d", len(Profiles()))
	}
	// Profiles returns copies: changing one does not change the package's.
	ps := Profiles()
	ps[0].KeyUsage = 0
	if RootCACertificateV1.KeyUsage == 0 {
		t.Fatal("Profiles leaked the package value")
	}
}

func TestIssueRefusals(t *testing.T) {
	ctx := context.Background()
	root := newRoot(t, KeyECDSAP256, 0, "refusal root")
	sub0 := subCA(t, root, SubordinateCACertificatePathLen0V1, KeyECDSAP256, "sub0")
	sub1 := subCA(t, root, SubordinateCACertificatePathLen1V1, KeyECDSAP384, "sub1")
	leafKey := testKey(t, KeyECDSAP256)
	leaf, err := root.Issue(ctx, &IssueRequest{Profile: EndEntityCertificateV1, PublicKey: leafKey.Public(),
		Subject: pkix.Name{CommonName: "leaf"}, Validity: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	base := func() *IssueRequest {
		return &IssueRequest{Profile: EndEntityCertificateV1, PublicKey: leafKey.Public(), Subject: pkix.Name{CommonName: "x"}, Validity: time.Hour}
	}
	cases := []struct {
		name   string
		issuer *Issuer
		mod    func(r *IssueRequest)
		want   error
	}{
		{"outlives issuer", root, func(r *IssueRequest) { r.Validity = 11 * 365 * 24 * time.Hour }, ErrOutlivesIssuer},
		{"starts before issuer", root, func(r *IssueRequest) { r.NotBefore = testTime.Add(-time.Hour) }, ErrOutlivesIssuer},
		{"pathLen 0 issuer cannot issue CA", sub0.withNow(), func(r *IssueRequest) { r.Profile = SubordinateCACertificatePathLen0V1 }, ErrPathLen},
		{"pathLen 1 issuer cannot issue pathLen 1", sub1.withNow(), func(r *IssueRequest) { r.Profile = SubordinateCACertificatePathLen1V1 }, ErrPathLen},
		{"keyEncipherment on ML-DSA", root, func(r *IssueRequest) { r.PublicKey = testKey(t, KeyMLDSA65).Public() }, ErrProfileKeyMismatch},
		{"keyEncipherment on Ed25519", root, func(r *IssueRequest) { r.PublicKey = testKey(t, KeyEd25519).Public() }, ErrProfileKeyMismatch},
		{"keyAgreement on RSA", root, func(r *IssueRequest) {
			r.Profile = CodeSigningCertificateV1
			r.Profile.KeyUsage |= x509.KeyUsageKeyAgreement
			r.PublicKey = testKey(t, KeyRSA2048).Public()
		}, ErrProfileKeyMismatch},
		{"keyCertSign on end entity", root, func(r *IssueRequest) { r.Profile.KeyUsage |= x509.KeyUsageCertSign }, ErrInvalidRequest},
		{"issuer not a CA", &Issuer{Certificate: leaf, Signer: leafKey, Now: fixedNow}, nil, ErrNotIssuer},
		{"signer not the issuer's key", &Issuer{Certificate: root.Certificate, Signer: testKey(t, KeyECDSAP384), Now: fixedNow}, nil, ErrSignerMismatch},
		{"algorithm does not fit signer", &Issuer{Certificate: root.Certificate, Signer: root.Signer, Algorithm: MLDSA65, Now: fixedNow}, nil, ErrSignerMismatch},
		{"passthrough with base profile", root, func(r *IssueRequest) { r.APIPassthrough = &APIPassthrough{KeyUsage: x509.KeyUsageDigitalSignature} }, ErrPassthroughNotAllowed},
		{"no profile", root, func(r *IssueRequest) { r.Profile = Profile{} }, ErrInvalidRequest},
		{"no key", root, func(r *IssueRequest) { r.PublicKey = nil }, ErrInvalidRequest},
		{"no validity", root, func(r *IssueRequest) { r.Validity = 0 }, ErrInvalidRequest},
		{"NotAfter before NotBefore", root, func(r *IssueRequest) { r.NotBefore = testTime.Add(time.Hour); r.NotAfter = testTime }, ErrInvalidRequest},
		{"negative serial", root, func(r *IssueRequest) { r.SerialNumber = big.NewInt(-1) }, ErrInvalidRequest},
		{"zero serial", root, func(r *IssueRequest) { r.SerialNumber = big.NewInt(0) }, ErrInvalidRequest},
		{"21-octet serial", root, func(r *IssueRequest) { r.SerialNumber = new(big.Int).Lsh(big.NewInt(1), 160) }, ErrInvalidRequest},
		{"extension written by Issue", root, func(r *IssueRequest) {
			r.ExtraExtensions = []pkix.Extension{{Id: OIDExtensionKeyUsage, Value: []byte{3, 2, 7, 0x80}}}
		}, ErrInvalidRequest},
		{"duplicate custom extension", root, func(r *IssueRequest) {
			e := pkix.Extension{Id: []int{1, 2, 3, 4}, Value: []byte{5, 0}}
			r.ExtraExtensions = []pkix.Extension{e, e}
		}, ErrInvalidRequest},
		{"empty subject without SAN", root, func(r *IssueRequest) { r.Subject = pkix.Name{} }, ErrInvalidRequest},
		{"non-ASCII DNS name", root, func(r *IssueRequest) { r.DNSNames = []string{"bücher.example"} }, ErrInvalidRequest},
		{"root template with CRL DP", root, func(r *IssueRequest) {
			r.Profile = RootCACertificateV1
			r.CRLDistributionPoints = []string{"http://crl.example/x.crl"}
		}, ErrProfileRequirement},
		{"profile max validity", root, func(r *IssueRequest) { r.Profile.MaxValidity = time.Minute }, ErrProfileRequirement},
		{"profile key algorithms", root, func(r *IssueRequest) { r.Profile.KeyAlgorithms = []KeyAlgorithm{KeyRSA2048} }, ErrProfileKeyMismatch},
		{"profile requires IAN", root, func(r *IssueRequest) { r.Profile.RequireIssuerAltName = true }, ErrProfileRequirement},
		{"profile requires CRL DP", root, func(r *IssueRequest) { r.Profile.RequireCRLDistributionPoints = true }, ErrProfileRequirement},
		{"profile check hook", root, func(r *IssueRequest) {
			r.Profile.Check = func(d *Draft) error { return errors.New("no") }
		}, ErrProfileRequirement},
		{"canceled context", root, nil, context.Canceled},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := base()
			if c.mod != nil {
				c.mod(r)
			}
			cctx := ctx
			if c.want == context.Canceled {
				cc, cancel := context.WithCancel(ctx)
				cancel()
				cctx = cc
			}
			_, err := c.issuer.Issue(cctx, r)
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			if c.want != context.Canceled {
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("not an *Error: %T", err)
				}
			}
		})
	}
}

func (i *Issuer) withNow() *Issuer { i.Now = fixedNow; return i }

func TestIssueRequestFields(t *testing.T) {
	ctx := context.Background()
	root := newRoot(t, KeyMLDSA87, 0, "fields root")
	k := testKey(t, KeyMLDSA44)
	p := EndEntityServerAuthCertificateV1
	p.KeyUsage = x509.KeyUsageDigitalSignature // ML-DSA: no keyEncipherment (RFC 9881 §5)
	u, _ := url.Parse("spiffe://example.org/ns/x")
	serial := big.NewInt(0x1234567890)
	c, err := root.Issue(ctx, &IssueRequest{
		Profile: p, PublicKey: k.Public(), Subject: pkix.Name{CommonName: "srv"},
		DNSNames: []string{"a.example.com"}, IPAddresses: []net.IP{net.ParseIP("192.0.2.1"), net.ParseIP("2001:db8::1")},
		EmailAddresses: []string{"ops@example.com"}, URIs: []*url.URL{u},
		NotBefore: testTime, NotAfter: testTime.Add(48 * time.Hour), SerialNumber: serial,
		CRLDistributionPoints: []string{"http://crl.example.com/ca.crl"}, OCSPServers: []string{"http://ocsp.example.com"},
		IssuingCertificateURLs: []string{"http://ca.example.com/ca.cer"},
		IssuerAltName:          AltNames{EmailAddresses: []string{"ca@example.com"}},
		Policies:               []CertificatePolicy{{ID: []int{2, 23, 140, 1, 2, 1}, CPSURI: "https://example.com/cps", UserNotice: "test"}},
		ExtraExtensions:        []pkix.Extension{{Id: []int{1, 3, 6, 1, 4, 1, 99999, 1}, Critical: false, Value: []byte{0x0c, 0x02, 'h', 'i'}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.SerialNumber.Cmp(serial) != 0 || !c.NotBefore.Equal(testTime) || !c.NotAfter.Equal(testTime.Add(48*time.Hour)) {
		t.Fatal("serial/validity")
	}
	if fmt.Sprintf("%v %v %d %s", c.DNSNames, c.EmailAddresses, len(c.IPAddresses), c.URIs[0]) != "[a.example.com] [ops@example.com] 2 spiffe://example.org/ns/x" {
		t.Fatalf("SANs %v %v %v %v", c.DNSNames, c.EmailAddresses, c.IPAddresses, c.URIs)
	}
	if fmt.Sprint(c.CRLDistributionPoints, c.OCSPServer, c.IssuingCertificateURL) != "[http://crl.example.com/ca.crl] [http://ocsp.example.com] [http://ca.example.com/ca.cer]" {
		t.Fatal("CRL DP / AIA")
	}
	if len(c.PolicyIdentifiers) != 1 || !c.PolicyIdentifiers[0].Equal([]int{2, 23, 140, 1, 2, 1}) {
		t.Fatal("policies")
	}
	var sawIAN, sawCustom bool
	for _, e := range c.Extensions {
		sawIAN = sawIAN || e.Id.Equal(OIDExtensionIssuerAltName)
		sawCustom = sawCustom || e.Id.Equal([]int{1, 3, 6, 1, 4, 1, 99999, 1})
	}
	if !sawIAN || !sawCustom {
		t.Fatal("IAN or custom extension missing")
	}
	if err := c.CheckSignatureFrom(root.Certificate); err != nil {
		t.Fatal(err)
	}
}

func TestRequestClockOverridesIssuerClock(t *testing.T) {
	k := testKey(t, KeyEd25519)
	at := testTime.Add(42 * time.Minute)
	c, err := SelfSign(context.Background(), k, &IssueRequest{Profile: RootCACertificateV1, Subject: pkixCN("clock"),
		Validity: time.Hour, Now: func() time.Time { return at }})
	if err != nil || !c.NotBefore.Equal(at) || !c.NotAfter.Equal(at.Add(time.Hour)) {
		t.Fatalf("%v %v", err, c.NotBefore)
	}
	iss := &Issuer{Certificate: c, Signer: k, Now: func() time.Time { return at.Add(time.Minute) }}
	leaf, err := iss.Issue(context.Background(), &IssueRequest{Profile: CodeSigningCertificateV1, PublicKey: k.Public(),
		Subject: pkixCN("leaf"), Validity: time.Minute})
	if err != nil || !leaf.NotBefore.Equal(at.Add(time.Minute)) {
		t.Fatalf("issuer clock: %v %v", err, leaf.NotBefore)
	}
}

func TestRandomSerial(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 200; i++ {
		s, err := randomSerial()
		if err != nil {
			t.Fatal(err)
		}
		if s.Sign() <= 0 || s.BitLen() != 127 || len(s.Bytes()) != 16 {
			t.Fatalf("serial %x: %d bits", s, s.BitLen())
		}
		if seen[s.String()] {
			t.Fatal("repeat")
		}
		seen[s.String()] = true
	}
}

// TestEmptySubjectMakesSANCritical: RFC 5280 §4.2.1.6.
func TestEmptySubjectMakesSANCritical(t *testing.T) {
	root := newRoot(t, KeyEd25519, 0, "san root")
	c, err := root.Issue(context.Background(), &IssueRequest{Profile: CodeSigningCertificateV1,
		PublicKey: testKey(t, KeyECDSAP256).Public(), DNSNames: []string{"x.example"}, Validity: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range c.Extensions {
		if e.Id.Equal(OIDExtensionSubjectAltName) && !e.Critical {
			t.Fatal("SAN not critical with empty subject")
		}
	}
}
