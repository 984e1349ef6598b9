package cms

import (
	"context"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"testing"
	"time"

	"github.com/pkikit/pkikit/truststore"
	"github.com/pkikit/pkikit/x509ext"
)

// testPKI is a root → subordinate CA chain made with x509ext, for tests.
type testPKI struct {
	root, sub       *x509ext.Certificate
	rootKey, subKey crypto.Signer
	store           *truststore.Store
	now             time.Time
}

var testNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func mustKey(t testing.TB, kt x509ext.KeyAlgorithm) crypto.Signer {
	t.Helper()
	k, err := x509ext.GenerateKey(kt)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newPKI(t testing.TB, kt x509ext.KeyAlgorithm) *testPKI { return newPKIAt(t, kt, testNow) }

// newPKIAt makes a PKI valid around now (interop tests use the real clock: OpenSSL checks validity then).
func newPKIAt(t testing.TB, kt x509ext.KeyAlgorithm, testNow time.Time) *testPKI {
	t.Helper()
	ctx := context.Background()
	p := &testPKI{rootKey: mustKey(t, kt), subKey: mustKey(t, kt), now: testNow}
	var err error
	p.root, err = x509ext.SelfSign(ctx, p.rootKey, &x509ext.IssueRequest{
		Profile: x509ext.RootCACertificateV1, Subject: pkix.Name{CommonName: "cms test root " + kt.String()},
		NotBefore: testNow.AddDate(-5, 0, 0), NotAfter: testNow.AddDate(10, 0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	p.sub, err = (&x509ext.Issuer{Certificate: p.root, Signer: p.rootKey}).Issue(ctx, &x509ext.IssueRequest{
		Profile: x509ext.SubordinateCACertificatePathLen0V1, PublicKey: p.subKey.Public(),
		Subject:   pkix.Name{CommonName: "cms test sub CA " + kt.String()},
		NotBefore: testNow.AddDate(-4, 0, 0), NotAfter: testNow.AddDate(9, 0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	p.store = truststore.NewStore(p.root)
	return p
}

type leafOpts struct {
	notBefore, notAfter time.Time
	profile             *x509ext.Profile
}

// leaf issues a code-signing certificate (by default) for a new key of type kt.
func (p *testPKI) leaf(t testing.TB, kt x509ext.KeyAlgorithm, o *leafOpts) (*x509ext.Certificate, crypto.Signer) {
	t.Helper()
	if o == nil {
		o = &leafOpts{}
	}
	key := mustKey(t, kt)
	prof := x509ext.CodeSigningCertificateV1
	if o.profile != nil {
		prof = *o.profile
	}
	nb, na := o.notBefore, o.notAfter
	if nb.IsZero() {
		nb, na = p.now.AddDate(-1, 0, 0), p.now.AddDate(1, 0, 0)
	}
	cert, err := (&x509ext.Issuer{Certificate: p.sub, Signer: p.subKey}).Issue(context.Background(), &x509ext.IssueRequest{
		Profile: prof, PublicKey: key.Public(), Subject: pkix.Name{CommonName: "cms test signer " + kt.String()},
		NotBefore: nb, NotAfter: na})
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

// signer makes a Signer for a new code-signing leaf under p.
func (p *testPKI) signer(t testing.TB, kt x509ext.KeyAlgorithm, so *SignerOptions) *Signer {
	t.Helper()
	cert, key := p.leaf(t, kt, nil)
	if so == nil {
		so = &SignerOptions{}
	}
	so.Intermediates = append(so.Intermediates, p.sub, p.root) // the root must be left out by NewSigner
	s, err := NewSigner(key, cert, so)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (p *testPKI) opts() VerifyOptions {
	return VerifyOptions{Store: p.store, Time: p.now}
}

// clientAuthProfile is a leaf profile without codeSigning, usable with every key type.
func clientAuthProfile() *x509ext.Profile {
	p := x509ext.EndEntityClientAuthCertificateV1
	p.KeyUsage = x509.KeyUsageDigitalSignature
	return &p
}
