package truststore

// Test helper: certificates and CRLs of every algorithm of internal/alg (ML-DSA included), built with
// crypto/x509 for the TBS layout and re-signed with alg.Sign. (x509ext.Issue replaces this when it lands.)

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"

	"github.com/pkikit/pkikit/internal/alg"
	"github.com/pkikit/pkikit/x509ext"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

var testNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

var throwaway = func() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}()

func genKey(t testing.TB, kt alg.KeyType) crypto.Signer {
	t.Helper()
	k, err := alg.GenerateKey(kt)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

var serialCounter int64 = 1000

// caTmpl and leafTmpl return templates valid around testNow.
func caTmpl(cn string) *x509.Certificate {
	serialCounter++
	return &x509.Certificate{
		SerialNumber: big.NewInt(serialCounter), Subject: pkix.Name{CommonName: cn, Organization: []string{"pkikit test"}},
		NotBefore: testNow.Add(-24 * time.Hour), NotAfter: testNow.Add(365 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, BasicConstraintsValid: true, IsCA: true,
	}
}

func leafTmpl(cn string, dns ...string) *x509.Certificate {
	serialCounter++
	return &x509.Certificate{
		SerialNumber: big.NewInt(serialCounter), Subject: pkix.Name{CommonName: cn},
		NotBefore: testNow.Add(-time.Hour), NotAfter: testNow.Add(90 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, DNSNames: dns,
	}
}

// mkCert issues tmpl for pub, signed by signer (the key of parent; parent nil = self-signed).
func mkCert(t testing.TB, tmpl *x509.Certificate, pub crypto.PublicKey, parent *x509ext.Certificate, signer crypto.Signer) *x509ext.Certificate {
	t.Helper()
	der, err := mkCertDER(tmpl, pub, parent, signer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509ext.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mkCertDER(tmpl *x509.Certificate, pub crypto.PublicKey, parent *x509ext.Certificate, signer crypto.Signer) ([]byte, error) {
	spki, err := alg.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	t := *tmpl
	if t.SubjectKeyId == nil {
		h := sha256.Sum256(spki)
		t.SubjectKeyId = h[:20]
	}
	p := &t
	if parent != nil {
		p = &x509.Certificate{RawSubject: parent.RawSubject, Subject: parent.Subject, SubjectKeyId: parent.SubjectKeyId}
	}
	tmpDER, err := x509.CreateCertificate(rand.Reader, &t, p, throwaway.Public(), throwaway)
	if err != nil {
		return nil, err
	}
	a := keyTypeOf(signer.Public()).DefaultAlgorithm()
	return resign(tmpDER, spki, a, signer)
}

// resign replaces the SPKI and the signature algorithm of a certificate's TBS and signs it again.
func resign(certDER, spki []byte, a alg.Algorithm, signer crypto.Signer) ([]byte, error) {
	s := cryptobyte.String(certDER)
	var cert, tbs cryptobyte.String
	s.ReadASN1(&cert, cbasn1.SEQUENCE)
	cert.ReadASN1(&tbs, cbasn1.SEQUENCE)
	var version, serial, sigAI, issuer, validity, subject, oldSPKI cryptobyte.String
	tbs.ReadASN1Element(&version, cbasn1.Tag(0).Constructed().ContextSpecific())
	tbs.ReadASN1Element(&serial, cbasn1.INTEGER)
	tbs.ReadASN1Element(&sigAI, cbasn1.SEQUENCE)
	tbs.ReadASN1Element(&issuer, cbasn1.SEQUENCE)
	tbs.ReadASN1Element(&validity, cbasn1.SEQUENCE)
	tbs.ReadASN1Element(&subject, cbasn1.SEQUENCE)
	tbs.ReadASN1Element(&oldSPKI, cbasn1.SEQUENCE)
	var nb cryptobyte.Builder
	nb.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(version)
		b.AddBytes(serial)
		a.AddAlgorithmIdentifier(b)
		b.AddBytes(issuer)
		b.AddBytes(validity)
		b.AddBytes(subject)
		b.AddBytes(spki)
		b.AddBytes(tbs) // issuerUID, subjectUID, extensions
	})
	newTBS, err := nb.Bytes()
	if err != nil {
		return nil, err
	}
	return signTBS(newTBS, a, signer)
}

func signTBS(tbs []byte, a alg.Algorithm, signer crypto.Signer) ([]byte, error) {
	sig, err := alg.Sign(context.Background(), signer, a, tbs)
	if err != nil {
		return nil, err
	}
	var out cryptobyte.Builder
	out.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(tbs)
		a.AddAlgorithmIdentifier(b)
		b.AddASN1BitString(sig)
	})
	return out.Bytes()
}

// mkCRL issues a CRL for issuer (any algorithm) listing the given entries.
func mkCRL(t testing.TB, issuer *x509ext.Certificate, signer crypto.Signer, thisUpdate, nextUpdate time.Time, entries ...x509.RevocationListEntry) *x509.RevocationList {
	t.Helper()
	tmpl := &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: thisUpdate, NextUpdate: nextUpdate, RevokedCertificateEntries: entries}
	iss := &x509.Certificate{RawSubject: issuer.RawSubject, Subject: issuer.Subject, SubjectKeyId: issuer.SubjectKeyId,
		KeyUsage: x509.KeyUsageCRLSign}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, iss, throwaway)
	if err != nil {
		t.Fatal(err)
	}
	// Re-sign: replace the TBS signature AlgorithmIdentifier.
	a := keyTypeOf(signer.Public()).DefaultAlgorithm()
	s := cryptobyte.String(der)
	var list, tbs cryptobyte.String
	s.ReadASN1(&list, cbasn1.SEQUENCE)
	list.ReadASN1(&tbs, cbasn1.SEQUENCE)
	var version, sigAI cryptobyte.String
	tbs.ReadASN1Element(&version, cbasn1.INTEGER)
	tbs.ReadASN1Element(&sigAI, cbasn1.SEQUENCE)
	var nb cryptobyte.Builder
	nb.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(version)
		a.AddAlgorithmIdentifier(b)
		b.AddBytes(tbs)
	})
	newTBS, err := nb.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	out, err := signTBS(newTBS, a, signer)
	if err != nil {
		t.Fatal(err)
	}
	crl, err := ParseCRL(out)
	if err != nil {
		t.Fatal(err)
	}
	return crl
}

// chain3 makes root -> intermediate -> leaf with the given key types.
type testChain struct {
	root, inter, leaf          *x509ext.Certificate
	rootKey, interKey, leafKey crypto.Signer
}

func mkChain(t testing.TB, rootKT, interKT, leafKT alg.KeyType) *testChain {
	t.Helper()
	c := &testChain{rootKey: genKey(t, rootKT), interKey: genKey(t, interKT), leafKey: genKey(t, leafKT)}
	c.root = mkCert(t, caTmpl("Root "+rootKT.String()), c.rootKey.Public(), nil, c.rootKey)
	c.inter = mkCert(t, caTmpl("Intermediate "+interKT.String()), c.interKey.Public(), c.root, c.rootKey)
	c.leaf = mkCert(t, leafTmpl("leaf "+leafKT.String(), "leaf.example.com"), c.leafKey.Public(), c.inter, c.interKey)
	return c
}

func keyTypeOf(pub crypto.PublicKey) alg.KeyType {
	kt, err := alg.KeyTypeOf(pub)
	if err != nil {
		panic(err)
	}
	return kt
}
