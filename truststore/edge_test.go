package truststore

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/pkikit/pkikit/internal/alg"
	"github.com/pkikit/pkikit/x509ext"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// mkCRLNoNextUpdate issues a v2 CRL without the (optional in the ASN.1, required by RFC 5280 §5.1.2.5)
// nextUpdate field, listing serial as revoked; crypto/x509 cannot create one.
func mkCRLNoNextUpdate(t *testing.T, issuer *x509ext.Certificate, signer crypto.Signer, serial *big.Int) *x509.RevocationList {
	t.Helper()
	a := keyTypeOf(signer.Public()).DefaultAlgorithm()
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(1)
		a.AddAlgorithmIdentifier(b)
		b.AddBytes(issuer.RawSubject)
		b.AddASN1UTCTime(testNow.Add(-time.Hour))
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1BigInt(serial)
				b.AddASN1UTCTime(testNow.Add(-2 * time.Hour))
			})
		})
	})
	tbs, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	der, err := signTBS(tbs, a, signer)
	if err != nil {
		t.Fatal(err)
	}
	crl, err := ParseCRL(der)
	if err != nil {
		t.Fatal(err)
	}
	if !crl.NextUpdate.IsZero() {
		t.Fatal("the CRL has a nextUpdate")
	}
	return crl
}

// TestRevocationEdgeCases: RFC 5280 §6.3 details, each case named after the edge it covers. want is the
// result under best effort and wantRequired under RevocationRequired (nil: the path verifies).
func TestRevocationEdgeCases(t *testing.T) {
	ch := mkChain(t, alg.KeyECDSAP256, alg.KeyECDSAP256, alg.KeyECDSAP256)
	s := NewStore(ch.root)
	rootCRL := mkCRL(t, ch.root, ch.rootKey, testNow.Add(-time.Hour), testNow.Add(24*time.Hour))
	window := func(entries ...x509.RevocationListEntry) *x509.RevocationList {
		return mkCRL(t, ch.inter, ch.interKey, testNow.Add(-time.Hour), testNow.Add(24*time.Hour), entries...)
	}

	// The intermediate's previous key: same name, another key; its CRL names that key in its AKI.
	oldKey := genKey(t, alg.KeyECDSAP256)
	oldTmpl := caTmpl("Intermediate " + alg.KeyECDSAP256.String())
	oldInter := mkCert(t, oldTmpl, oldKey.Public(), ch.root, ch.rootKey)
	// An intermediate CA without cRLSign in its keyUsage, and a leaf under it.
	noCRLSignTmpl := caTmpl("No cRLSign CA")
	noCRLSignTmpl.KeyUsage = x509.KeyUsageCertSign
	noCRLSignKey := genKey(t, alg.KeyECDSAP256)
	noCRLSign := mkCert(t, noCRLSignTmpl, noCRLSignKey.Public(), ch.root, ch.rootKey)
	leaf2 := mkCert(t, leafTmpl("leaf2", "leaf2.example.com"), genKey(t, alg.KeyECDSAP256).Public(), noCRLSign, noCRLSignKey)

	for _, tc := range []struct {
		name               string
		leaf, inter        *x509ext.Certificate
		crl                *x509.RevocationList
		want, wantRequired error
		wantReason         int
	}{
		{name: "revoked leaf with reason keyCompromise", crl: window(revokedEntry(ch.leaf.SerialNumber, ReasonKeyCompromise)),
			want: ErrRevoked, wantRequired: ErrRevoked, wantReason: ReasonKeyCompromise},
		{name: "certificateHold counts as revoked", crl: window(revokedEntry(ch.leaf.SerialNumber, ReasonCertificateHold)),
			want: ErrRevoked, wantRequired: ErrRevoked, wantReason: ReasonCertificateHold},
		{name: "removeFromCRL entry is not a revocation", crl: window(revokedEntry(ch.leaf.SerialNumber, ReasonRemoveFromCRL))},
		{name: "other serial listed: good", crl: window(revokedEntry(big.NewInt(424242), ReasonKeyCompromise))},
		{name: "no CRL at all: required gives ErrRevocationUnknown", wantRequired: ErrRevocationUnknown},
		{name: "CRL not yet valid (thisUpdate after the verification time) is not used",
			crl:          mkCRL(t, ch.inter, ch.interKey, testNow.Add(time.Hour), testNow.Add(24*time.Hour), revokedEntry(ch.leaf.SerialNumber, 1)),
			wantRequired: ErrRevocationUnknown},
		{name: "CRL at exactly its nextUpdate is stale",
			crl:          mkCRL(t, ch.inter, ch.interKey, testNow.Add(-time.Hour), testNow, revokedEntry(ch.leaf.SerialNumber, 1)),
			wantRequired: ErrRevocationUnknown},
		{name: "CRL without nextUpdate is not used", crl: mkCRLNoNextUpdate(t, ch.inter, ch.interKey, ch.leaf.SerialNumber),
			wantRequired: ErrRevocationUnknown},
		{name: "CRL signed by the CA's previous key (AKI of the old key) is not used",
			crl:          mkCRL(t, oldInter, oldKey, testNow.Add(-time.Hour), testNow.Add(24*time.Hour), revokedEntry(ch.leaf.SerialNumber, 1)),
			wantRequired: ErrRevocationUnknown},
		{name: "CRL of another issuer is not used",
			crl:          mkCRL(t, ch.root, ch.rootKey, testNow.Add(-time.Hour), testNow.Add(24*time.Hour), revokedEntry(ch.leaf.SerialNumber, 1)),
			wantRequired: ErrRevocationUnknown},
		{name: "CRL signed by a CA whose keyUsage lacks cRLSign is not used", leaf: leaf2, inter: noCRLSign,
			crl:          mkCRL(t, noCRLSign, noCRLSignKey, testNow.Add(-time.Hour), testNow.Add(24*time.Hour), revokedEntry(leaf2.SerialNumber, 1)),
			wantRequired: ErrRevocationUnknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leaf, inter := ch.leaf, ch.inter
			if tc.leaf != nil {
				leaf, inter = tc.leaf, tc.inter
			}
			for _, required := range []bool{false, true} {
				o := VerifyOptions{Time: testNow, Intermediates: []*x509ext.Certificate{inter}, CRLs: []*x509.RevocationList{rootCRL}}
				if tc.crl != nil {
					o.CRLs = append(o.CRLs, tc.crl)
				}
				want := tc.want
				if required {
					o.Revocation, want = RevocationRequired, tc.wantRequired
				}
				if want == nil {
					mustVerify(t, s, leaf, o)
					continue
				}
				ve := mustFail(t, s, leaf, o, want)
				p := ve.Paths[0]
				if p.Depth != 0 {
					t.Errorf("required=%v: depth %d, want 0 (the leaf)", required, p.Depth)
				}
				if want == ErrRevoked && p.RevocationReason != tc.wantReason {
					t.Errorf("reason %s, want %s", ReasonString(p.RevocationReason), ReasonString(tc.wantReason))
				}
			}
		})
	}
}

// TestPathEdgeCases: RFC 5280 §6.1 details of path validation, each case named after the edge it covers.
func TestPathEdgeCases(t *testing.T) {
	rootKey, interKey, leafKey := genKey(t, alg.KeyECDSAP256), genKey(t, alg.KeyECDSAP256), genKey(t, alg.KeyECDSAP256)
	root := mkCert(t, caTmpl("Root"), rootKey.Public(), nil, rootKey)
	s := NewStore(root)
	inter := mkCert(t, caTmpl("Inter"), interKey.Public(), root, rootKey)
	leaf := mkCert(t, leafTmpl("leaf", "www.example.com"), leafKey.Public(), inter, interKey)

	t.Run("duplicate intermediate yields one path", func(t *testing.T) {
		dup, err := x509ext.ParseCertificate(inter.Raw) // same bytes, another value
		if err != nil {
			t.Fatal(err)
		}
		chains := mustVerify(t, s, leaf, VerifyOptions{Time: testNow, Intermediates: []*x509ext.Certificate{inter, dup, inter}})
		if len(chains) != 1 {
			t.Fatalf("%d chains, want 1", len(chains))
		}
		many := []*x509ext.Certificate{}
		for range smallIntermediates + 1 { // the map index path
			many = append(many, inter)
		}
		if chains := mustVerify(t, s, leaf, VerifyOptions{Time: testNow, Intermediates: many}); len(chains) != 1 {
			t.Fatalf("%d chains with %d copies, want 1", len(chains), len(many))
		}
	})

	t.Run("anchor keyUsage without keyCertSign is not used as an issuer", func(t *testing.T) {
		tm := caTmpl("Root KU")
		tm.KeyUsage = x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
		k := genKey(t, alg.KeyECDSAP256)
		r := mkCert(t, tm, k.Public(), nil, k)
		l := mkCert(t, leafTmpl("l", "l.example.com"), leafKey.Public(), r, k)
		ve := mustFail(t, NewStore(r), l, VerifyOptions{Time: testNow}, ErrKeyUsage)
		if ve.Paths[0].Depth != 1 {
			t.Fatalf("depth %d", ve.Paths[0].Depth)
		}
	})

	t.Run("anchor pathLenConstraint is enforced", func(t *testing.T) {
		tm := caTmpl("Root pathLen 0")
		tm.MaxPathLenZero = true
		k := genKey(t, alg.KeyECDSAP256)
		r := mkCert(t, tm, k.Public(), nil, k)
		in := mkCert(t, caTmpl("Inter under pathLen 0"), interKey.Public(), r, k)
		l := mkCert(t, leafTmpl("l", "l.example.com"), leafKey.Public(), in, interKey)
		ve := mustFail(t, NewStore(r), l, VerifyOptions{Time: testNow, Intermediates: []*x509ext.Certificate{in}}, ErrPathLen)
		if ve.Paths[0].Depth != 2 {
			t.Fatalf("depth %d", ve.Paths[0].Depth)
		}
		// pathLen 0 still allows the leaf directly under it.
		mustVerify(t, NewStore(r), mkCert(t, leafTmpl("d", "d.example.com"), leafKey.Public(), r, k), VerifyOptions{Time: testNow})
	})

	t.Run("unknown critical extension on an intermediate is rejected", func(t *testing.T) {
		tm := caTmpl("Inter crit")
		tm.ExtraExtensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 2}, Critical: true, Value: []byte{5, 0}}}
		in := mkCert(t, tm, interKey.Public(), root, rootKey)
		l := mkCert(t, leafTmpl("l", "l.example.com"), leafKey.Public(), in, interKey)
		ve := mustFail(t, s, l, VerifyOptions{Time: testNow, Intermediates: []*x509ext.Certificate{in}}, ErrUnknownCriticalExtension)
		if ve.Paths[0].Depth != 1 {
			t.Fatalf("depth %d", ve.Paths[0].Depth)
		}
	})

	t.Run("unknown critical extension on the anchor is ignored", func(t *testing.T) {
		// RFC 5280 §6.1.1 (d): a trust anchor is a name and a key; its certificate's extensions are not processed.
		tm := caTmpl("Root crit")
		tm.ExtraExtensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 3}, Critical: true, Value: []byte{5, 0}}}
		k := genKey(t, alg.KeyECDSAP256)
		r := mkCert(t, tm, k.Public(), nil, k)
		mustVerify(t, NewStore(r), mkCert(t, leafTmpl("l", "l.example.com"), leafKey.Public(), r, k), VerifyOptions{Time: testNow})
	})

	t.Run("name constraints skip a self-issued intermediate but bind the leaf below it", func(t *testing.T) {
		tm := caTmpl("NC Inter")
		tm.PermittedDNSDomains = []string{"example.com"}
		ncKey := genKey(t, alg.KeyECDSAP256)
		nc := mkCert(t, tm, ncKey.Public(), root, rootKey)
		// Key rollover certificate: issuer = subject = "NC Inter", with a SAN outside the constraints.
		rollKey := genKey(t, alg.KeyECDSAP256)
		rollTmpl := caTmpl("NC Inter")
		rollTmpl.DNSNames = []string{"outside.test"}
		roll := mkCert(t, rollTmpl, rollKey.Public(), nc, ncKey)
		if !isSelfIssued(roll) {
			t.Fatal("rollover certificate is not self-issued")
		}
		o := VerifyOptions{Time: testNow, Intermediates: []*x509ext.Certificate{nc, roll}}
		mustVerify(t, s, mkCert(t, leafTmpl("in", "www.example.com"), leafKey.Public(), roll, rollKey), o)
		ve := mustFail(t, s, mkCert(t, leafTmpl("out", "www.outside.test"), leafKey.Public(), roll, rollKey), o, ErrNameConstraint)
		if p := ve.Paths[0]; p.Depth != 2 || p.NameDepth != 0 {
			t.Fatalf("constraint of depth %d violated by depth %d, want 2 and 0", p.Depth, p.NameDepth)
		}
		// The same SAN on an intermediate that is not self-issued is checked.
		subTmpl := caTmpl("Sub CA")
		subTmpl.DNSNames = []string{"outside.test"}
		subKey := genKey(t, alg.KeyECDSAP256)
		sub := mkCert(t, subTmpl, subKey.Public(), nc, ncKey)
		ve = mustFail(t, s, mkCert(t, leafTmpl("in2", "www.example.com"), leafKey.Public(), sub, subKey),
			VerifyOptions{Time: testNow, Intermediates: []*x509ext.Certificate{nc, sub}}, ErrNameConstraint)
		if p := ve.Paths[0]; p.Depth != 2 || p.NameDepth != 1 {
			t.Fatalf("constraint of depth %d violated by depth %d, want 2 and 1", p.Depth, p.NameDepth)
		}
	})

	t.Run("EKU nesting: an intermediate's EKU limits the leaf's purposes", func(t *testing.T) {
		tm := caTmpl("Client-only CA")
		tm.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
		k := genKey(t, alg.KeyECDSAP256)
		in := mkCert(t, tm, k.Public(), root, rootKey)
		lt := leafTmpl("both", "both.example.com")
		lt.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
		l := mkCert(t, lt, leafKey.Public(), in, k)
		o := VerifyOptions{Time: testNow, Intermediates: []*x509ext.Certificate{in}}
		ve := mustFail(t, s, l, o, ErrEKU)
		if ve.Paths[0].Depth != 1 {
			t.Fatalf("depth %d", ve.Paths[0].Depth)
		}
		o.Purpose = PurposeTLSClient
		mustVerify(t, s, l, o)
	})

	t.Run("leaf keyUsage must allow the purpose", func(t *testing.T) {
		lt := leafTmpl("ku", "ku.example.com")
		lt.KeyUsage = x509.KeyUsageCRLSign
		l := mkCert(t, lt, leafKey.Public(), inter, interKey)
		mustFail(t, s, l, VerifyOptions{Time: testNow, Intermediates: []*x509ext.Certificate{inter}}, ErrKeyUsage)
		mustVerify(t, s, l, VerifyOptions{Time: testNow, Intermediates: []*x509ext.Certificate{inter}, Purpose: PurposeAny})
	})

	t.Run("policy fast path still honours requireExplicitPolicy in an intermediate", func(t *testing.T) {
		tm := caTmpl("Explicit policy CA")
		tm.ExtraExtensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 36}, Critical: true,
			Value: []byte{0x30, 0x03, 0x80, 0x01, 0x00}}} // policyConstraints requireExplicitPolicy 0
		k := genKey(t, alg.KeyECDSAP256)
		in := mkCert(t, tm, k.Public(), root, rootKey)
		if !in.RequireExplicitPolicyZero {
			t.Fatal("policyConstraints not parsed")
		}
		l := mkCert(t, leafTmpl("p", "p.example.com"), leafKey.Public(), in, k)
		ve := mustFail(t, s, l, VerifyOptions{Time: testNow, Intermediates: []*x509ext.Certificate{in}}, ErrPolicy)
		if !errors.Is(ve, ErrPolicy) {
			t.Fatal(ve)
		}
	})
}

// tamperTBS returns a copy of a certificate's DER with one byte of its subject's CN changed: same length, same
// trailing bytes (the signature), so the same cache key; the signature no longer matches.
func tamperTBS(t *testing.T, c *x509ext.Certificate) []byte {
	t.Helper()
	der := bytes.Clone(c.Raw)
	i := bytes.Index(der, []byte(c.Subject.CommonName))
	if i < 0 {
		t.Fatal("CN not found in the DER")
	}
	der[i] ^= 0x01
	return der
}

// TestCacheEdgeCases: the store's caches key on a sample of the bytes and must never mistake one input for
// another, nor trust bytes a caller rewrote after they were verified.
func TestCacheEdgeCases(t *testing.T) {
	ch := mkChain(t, alg.KeyMLDSA44, alg.KeyMLDSA44, alg.KeyMLDSA44)
	opts := func(inter *x509ext.Certificate) VerifyOptions {
		return VerifyOptions{Time: testNow, Intermediates: []*x509ext.Certificate{inter}}
	}

	t.Run("same length and tail, different bytes: two parse-cache entries", func(t *testing.T) {
		s := NewStore(ch.root)
		orig, err := s.ParseCertificate(ch.inter.Raw)
		if err != nil {
			t.Fatal(err)
		}
		tampered, err := s.ParseCertificate(tamperTBS(t, ch.inter))
		if err != nil {
			t.Fatal(err)
		}
		if orig == tampered || orig.Subject.CommonName == tampered.Subject.CommonName {
			t.Fatal("the tampered DER was served the original's cache entry")
		}
		again, _ := s.ParseCertificate(ch.inter.Raw)
		if again != orig {
			t.Fatal("the original is no longer served from the cache")
		}
	})

	t.Run("verified intermediate does not vouch for a tampered copy with the same signature", func(t *testing.T) {
		s := NewStore(ch.root)
		mustVerify(t, s, ch.leaf, opts(ch.inter)) // caches (intermediate, root key)
		tampered, err := x509ext.ParseCertificate(tamperTBS(t, ch.inter))
		if err != nil {
			t.Fatal(err)
		}
		leaf := mkCert(t, leafTmpl("leaf under tampered", "t.example.com"), ch.leafKey.Public(), tampered, ch.interKey)
		ve := mustFail(t, s, leaf, opts(tampered), ErrBadSignature)
		if ve.Paths[0].Depth != 1 {
			t.Fatalf("depth %d, want 1", ve.Paths[0].Depth)
		}
	})

	t.Run("caller rewriting its buffer after Verify does not poison the signature cache", func(t *testing.T) {
		s := NewStore(ch.root)
		buf := bytes.Clone(ch.inter.Raw)
		inter, err := x509ext.ParseCertificate(buf) // inter.Raw aliases buf
		if err != nil {
			t.Fatal(err)
		}
		mustVerify(t, s, ch.leaf, opts(inter))
		// The caller reuses its buffer: the serial number changes, the names (still chaining) do not.
		sb := ch.inter.SerialNumber.Bytes()
		i := bytes.Index(buf, append([]byte{0x02, byte(len(sb))}, sb...))
		if i < 0 {
			t.Fatal("serial number not found in the DER")
		}
		buf[i+len(sb)+1] ^= 0x01
		ve := mustFail(t, s, ch.leaf, opts(inter), ErrBadSignature)
		if ve.Paths[0].Depth != 1 {
			t.Fatalf("depth %d, want 1", ve.Paths[0].Depth)
		}
	})

	t.Run("ParseCertificate result does not alias the caller's buffer", func(t *testing.T) {
		s := NewStore()
		buf := bytes.Clone(ch.inter.Raw)
		c, err := s.ParseCertificate(buf)
		if err != nil {
			t.Fatal(err)
		}
		copy(buf, tamperTBS(t, ch.inter))
		if !bytes.Equal(c.Raw, ch.inter.Raw) {
			t.Fatal("the cached certificate changed with the caller's buffer")
		}
	})

	t.Run("bucket holds at most maxBucket entries", func(t *testing.T) {
		var bucket []int
		for i := range 3 * maxBucket {
			bucket = appendBounded(bucket, i)
		}
		if len(bucket) != maxBucket || bucket[maxBucket-1] != 3*maxBucket-1 {
			t.Fatalf("bucket %v", bucket)
		}
	})
}
