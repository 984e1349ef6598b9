package truststore

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/pkikit/pkikit/internal/alg"
	"github.com/pkikit/pkikit/x509ext"
	"golang.org/x/crypto/ocsp"
)

func revokedEntry(serial *big.Int, reason int) x509.RevocationListEntry {
	return x509.RevocationListEntry{SerialNumber: serial, RevocationTime: testNow.Add(-2 * time.Hour), ReasonCode: reason}
}

func TestRevocationCRL(t *testing.T) {
	for _, kt := range []alg.KeyType{alg.KeyMLDSA65, alg.KeyECDSAP256, alg.KeyEd25519} {
		t.Run(kt.String(), func(t *testing.T) {
			ch := mkChain(t, kt, kt, kt)
			s := NewStore(ch.root)
			base := VerifyOptions{Time: testNow, Intermediates: []*x509ext.Certificate{ch.inter}}
			revoked := mkCRL(t, ch.inter, ch.interKey, testNow.Add(-time.Hour), testNow.Add(24*time.Hour),
				revokedEntry(ch.leaf.SerialNumber, ReasonKeyCompromise))
			if err := CheckCRLSignature(revoked, ch.inter); err != nil {
				t.Fatal(err)
			}
			o := base
			o.CRLs = []*x509.RevocationList{revoked}
			ve := mustFail(t, s, ch.leaf, o, ErrRevoked)
			p := ve.Paths[0]
			if p.RevocationReason != ReasonKeyCompromise || !p.RevokedAt.Equal(testNow.Add(-2*time.Hour)) || p.Depth != 0 {
				t.Fatalf("reason %d at %v depth %d", p.RevocationReason, p.RevokedAt, p.Depth)
			}
			o.Revocation = RevocationOff
			mustVerify(t, s, ch.leaf, o)

			// A CRL not listing the leaf, and one for the intermediate from the root: Required passes.
			clean := mkCRL(t, ch.inter, ch.interKey, testNow.Add(-time.Hour), testNow.Add(24*time.Hour))
			rootCRL := mkCRL(t, ch.root, ch.rootKey, testNow.Add(-time.Hour), testNow.Add(24*time.Hour))
			o = base
			o.Revocation = RevocationRequired
			o.CRLs = []*x509.RevocationList{clean, rootCRL}
			mustVerify(t, s, ch.leaf, o)
			// Required without the root's CRL: the intermediate's status is unknown.
			o.CRLs = []*x509.RevocationList{clean}
			ve = mustFail(t, s, ch.leaf, o, ErrRevocationUnknown)
			if ve.Paths[0].Depth != 1 {
				t.Fatalf("depth %d", ve.Paths[0].Depth)
			}
			// A stale CRL (past nextUpdate) does not count; with it best effort passes and required fails.
			stale := mkCRL(t, ch.inter, ch.interKey, testNow.Add(-48*time.Hour), testNow.Add(-24*time.Hour),
				revokedEntry(ch.leaf.SerialNumber, ReasonSuperseded))
			o = base
			o.CRLs = []*x509.RevocationList{stale}
			mustVerify(t, s, ch.leaf, o)
			o.Revocation = RevocationRequired
			mustFail(t, s, ch.leaf, o, ErrRevocationUnknown)
			// A CRL signed by another key with the right issuer name is ignored.
			otherKey := genKey(t, kt)
			forged := mkCRL(t, ch.inter, otherKey, testNow.Add(-time.Hour), testNow.Add(24*time.Hour),
				revokedEntry(ch.leaf.SerialNumber, ReasonKeyCompromise))
			if err := CheckCRLSignature(forged, ch.inter); !errors.Is(err, ErrBadSignature) {
				t.Fatalf("forged CRL: %v", err)
			}
			o = base
			o.CRLs = []*x509.RevocationList{forged}
			mustVerify(t, s, ch.leaf, o)
		})
	}
}

type fakeFetcher struct {
	crls  map[string][]byte
	calls int
}

func (f *fakeFetcher) FetchCRL(_ context.Context, url string) ([]byte, error) {
	f.calls++
	if d, ok := f.crls[url]; ok {
		return d, nil
	}
	return nil, errors.New("not found")
}

func TestRevocationFetcher(t *testing.T) {
	rootKey, interKey, leafKey := genKey(t, alg.KeyECDSAP256), genKey(t, alg.KeyMLDSA44), genKey(t, alg.KeyECDSAP256)
	root := mkCert(t, caTmpl("Root"), rootKey.Public(), nil, rootKey)
	inter := mkCert(t, caTmpl("Inter"), interKey.Public(), root, rootKey)
	tm := leafTmpl("leaf")
	tm.CRLDistributionPoints = []string{"http://crl.example/inter.crl"}
	leaf := mkCert(t, tm, leafKey.Public(), inter, interKey)
	crl := mkCRL(t, inter, interKey, testNow.Add(-time.Hour), testNow.Add(time.Hour), revokedEntry(leaf.SerialNumber, ReasonCessationOfOperation))
	f := &fakeFetcher{crls: map[string][]byte{"http://crl.example/inter.crl": crl.Raw}}
	s := NewStore(root)
	o := VerifyOptions{Time: testNow, Intermediates: []*x509ext.Certificate{inter}, CRLFetcher: f}
	ve := mustFail(t, s, leaf, o, ErrRevoked)
	if ve.Paths[0].RevocationReason != ReasonCessationOfOperation || f.calls != 1 {
		t.Fatalf("reason %d calls %d", ve.Paths[0].RevocationReason, f.calls)
	}
	// No fetcher: nothing is fetched and best effort passes.
	o.CRLFetcher = nil
	mustVerify(t, s, leaf, o)
}

func TestRevocationOCSP(t *testing.T) {
	ch := mkChain(t, alg.KeyECDSAP256, alg.KeyECDSAP256, alg.KeyECDSAP256)
	s := NewStore(ch.root)
	interX, leafX := ch.inter.Certificate, ch.leaf.Certificate
	mk := func(status int, signer crypto.Signer, responder *x509.Certificate) []byte {
		der, err := ocsp.CreateResponse(interX, responderOr(responder, interX), ocsp.Response{
			Status: status, SerialNumber: leafX.SerialNumber, ThisUpdate: testNow.Add(-time.Hour), NextUpdate: testNow.Add(time.Hour),
			RevokedAt: testNow.Add(-3 * time.Hour), RevocationReason: ocsp.KeyCompromise, Certificate: responder,
		}, signer)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	base := VerifyOptions{Time: testNow, Intermediates: []*x509ext.Certificate{ch.inter}}
	o := base
	o.OCSPResponses = [][]byte{mk(ocsp.Revoked, ch.interKey, nil)}
	ve := mustFail(t, s, ch.leaf, o, ErrRevoked)
	if ve.Paths[0].RevocationReason != ocsp.KeyCompromise {
		t.Fatalf("reason %d", ve.Paths[0].RevocationReason)
	}
	o.OCSPResponses = [][]byte{mk(ocsp.Good, ch.interKey, nil)}
	mustVerify(t, s, ch.leaf, o)
	// A response signed by an unrelated key is not trusted: best effort passes, required fails.
	other := genKey(t, alg.KeyECDSAP256)
	o.OCSPResponses = [][]byte{mk(ocsp.Revoked, other, nil)}
	mustVerify(t, s, ch.leaf, o)
	o.Revocation = RevocationRequired
	mustFail(t, s, ch.leaf, o, ErrRevocationUnknown)
	// A delegated responder certified by the intermediate with id-kp-OCSPSigning.
	respKey := genKey(t, alg.KeyECDSAP256)
	rt := leafTmpl("OCSP responder")
	rt.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}
	resp := mkCert(t, rt, respKey.Public(), ch.inter, ch.interKey)
	o = base
	o.OCSPResponses = [][]byte{mk(ocsp.Revoked, respKey, resp.Certificate)}
	mustFail(t, s, ch.leaf, o, ErrRevoked)
}

func responderOr(r, d *x509.Certificate) *x509.Certificate {
	if r != nil {
		return r
	}
	return d
}
