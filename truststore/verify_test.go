package truststore

import (
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/pkikit/pkikit/internal/alg"
	"github.com/pkikit/pkikit/x509ext"
)

func mustVerify(t *testing.T, s *Store, leaf *x509ext.Certificate, opts VerifyOptions) [][]*x509ext.Certificate {
	t.Helper()
	chains, err := s.Verify(leaf, opts)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return chains
}

func mustFail(t *testing.T, s *Store, leaf *x509ext.Certificate, opts VerifyOptions, reason error) *VerifyError {
	t.Helper()
	chains, err := s.Verify(leaf, opts)
	if err == nil {
		t.Fatalf("Verify succeeded with %d chain(s), want %v", len(chains), reason)
	}
	if !errors.Is(err, reason) {
		t.Fatalf("Verify error %v, want %v", err, reason)
	}
	var ve *VerifyError
	if !errors.As(err, &ve) || len(ve.Paths) == 0 {
		t.Fatalf("error is not a *VerifyError with paths: %T %v", err, err)
	}
	return ve
}

// TestVerifyEveryAlgorithm verifies root → intermediate → leaf chains for every key type, and mixed chains
// (ML-DSA root over a classical intermediate and the reverse).
func TestVerifyEveryAlgorithm(t *testing.T) {
	type combo struct{ root, inter, leaf alg.KeyType }
	var combos []combo
	for _, kt := range []alg.KeyType{alg.KeyMLDSA44, alg.KeyMLDSA65, alg.KeyMLDSA87, alg.KeyECDSAP256, alg.KeyECDSAP384,
		alg.KeyECDSAP521, alg.KeyRSA2048, alg.KeyEd25519} {
		combos = append(combos, combo{kt, kt, kt})
	}
	combos = append(combos,
		combo{alg.KeyMLDSA87, alg.KeyECDSAP384, alg.KeyECDSAP256},
		combo{alg.KeyECDSAP384, alg.KeyMLDSA65, alg.KeyMLDSA44},
		combo{alg.KeyRSA2048, alg.KeyMLDSA44, alg.KeyEd25519},
	)
	for _, c := range combos {
		t.Run(c.root.String()+"/"+c.inter.String()+"/"+c.leaf.String(), func(t *testing.T) {
			ch := mkChain(t, c.root, c.inter, c.leaf)
			s := NewStore(ch.root)
			chains := mustVerify(t, s, ch.leaf, VerifyOptions{Time: testNow, Intermediates: []*x509ext.Certificate{ch.inter},
				Name: "leaf.example.com"})
			if len(chains) != 1 || len(chains[0]) != 3 || chains[0][2] != ch.root {
				t.Fatalf("got %d chains", len(chains))
			}
			// One bit flipped in the leaf's signature.
			der := append([]byte(nil), ch.leaf.Raw...)
			der[len(der)-5] ^= 0x01
			bad, err := x509ext.ParseCertificate(der)
			if err != nil {
				t.Fatal(err)
			}
			mustFail(t, s, bad, VerifyOptions{Time: testNow, Intermediates: []*x509ext.Certificate{ch.inter}}, ErrBadSignature)
		})
	}
}

func TestVerifyReasons(t *testing.T) {
	rootKey := genKey(t, alg.KeyECDSAP256)
	interKey := genKey(t, alg.KeyECDSAP256)
	leafKey := genKey(t, alg.KeyECDSAP256)
	root := mkCert(t, caTmpl("Root"), rootKey.Public(), nil, rootKey)
	s := NewStore(root)
	issue := func(tmpl *x509.Certificate, pub crypto.PublicKey, parent *x509ext.Certificate, key crypto.Signer) *x509ext.Certificate {
		return mkCert(t, tmpl, pub, parent, key)
	}
	goodInter := issue(caTmpl("Inter"), interKey.Public(), root, rootKey)
	opts := func(inters ...*x509ext.Certificate) VerifyOptions {
		return VerifyOptions{Time: testNow, Intermediates: inters}
	}

	t.Run("expired intermediate", func(t *testing.T) {
		tm := caTmpl("Inter")
		tm.NotAfter = testNow.Add(-time.Hour)
		in := issue(tm, interKey.Public(), root, rootKey)
		leaf := issue(leafTmpl("l"), leafKey.Public(), in, interKey)
		ve := mustFail(t, s, leaf, opts(in), ErrExpired)
		if ve.Paths[0].Depth != 1 {
			t.Fatalf("depth %d, want 1", ve.Paths[0].Depth)
		}
	})
	t.Run("not yet valid leaf", func(t *testing.T) {
		tm := leafTmpl("l")
		tm.NotBefore = testNow.Add(time.Hour)
		leaf := issue(tm, leafKey.Public(), goodInter, interKey)
		mustFail(t, s, leaf, opts(goodInter), ErrNotYetValid)
	})
	t.Run("injected time", func(t *testing.T) {
		leaf := issue(leafTmpl("l"), leafKey.Public(), goodInter, interKey)
		o := opts(goodInter)
		o.Time = testNow.Add(200 * 24 * time.Hour)
		mustFail(t, s, leaf, o, ErrExpired)
	})
	t.Run("untrusted root", func(t *testing.T) {
		otherKey := genKey(t, alg.KeyECDSAP256)
		other := issue(caTmpl("Other Root"), otherKey.Public(), nil, otherKey)
		leaf := issue(leafTmpl("l"), leafKey.Public(), other, otherKey)
		mustFail(t, s, leaf, opts(), ErrUntrustedRoot)
	})
	t.Run("intermediate not a CA", func(t *testing.T) {
		tm := caTmpl("Inter")
		tm.IsCA = false
		tm.KeyUsage = x509.KeyUsageDigitalSignature
		in := issue(tm, interKey.Public(), root, rootKey)
		leaf := issue(leafTmpl("l"), leafKey.Public(), in, interKey)
		mustFail(t, s, leaf, opts(in), ErrNotCA)
	})
	t.Run("intermediate without keyCertSign", func(t *testing.T) {
		tm := caTmpl("Inter")
		tm.KeyUsage = x509.KeyUsageCRLSign
		in := issue(tm, interKey.Public(), root, rootKey)
		leaf := issue(leafTmpl("l"), leafKey.Public(), in, interKey)
		mustFail(t, s, leaf, opts(in), ErrKeyUsage)
	})
	t.Run("pathLen exceeded", func(t *testing.T) {
		tm := caTmpl("Inter")
		tm.MaxPathLenZero = true
		in := issue(tm, interKey.Public(), root, rootKey)
		sub := issue(caTmpl("Sub"), leafKey.Public(), in, interKey)
		leafKey2 := genKey(t, alg.KeyECDSAP256)
		leaf := issue(leafTmpl("l"), leafKey2.Public(), sub, leafKey)
		ve := mustFail(t, s, leaf, opts(in, sub), ErrPathLen)
		if ve.Paths[0].Depth != 2 {
			t.Fatalf("depth %d, want 2", ve.Paths[0].Depth)
		}
	})
	t.Run("self-issued intermediate not counted for pathLen", func(t *testing.T) {
		tm := caTmpl("Inter")
		tm.MaxPathLenZero = true
		in := issue(tm, interKey.Public(), root, rootKey)
		// Key rollover: the same CA name, a new key, certified by the old key (self-issued).
		newKey := genKey(t, alg.KeyECDSAP256)
		rollTmpl := caTmpl("Inter")
		roll := issue(rollTmpl, newKey.Public(), in, interKey)
		if !isSelfIssued(roll) {
			t.Fatal("rollover certificate is not self-issued")
		}
		leaf := issue(leafTmpl("l"), leafKey.Public(), roll, newKey)
		chains := mustVerify(t, s, leaf, opts(in, roll))
		if len(chains[0]) != 4 {
			t.Fatalf("chain length %d", len(chains[0]))
		}
	})
	t.Run("EKU missing for purpose", func(t *testing.T) {
		leaf := issue(leafTmpl("l"), leafKey.Public(), goodInter, interKey)
		o := opts(goodInter)
		o.Purpose = PurposeCodeSigning
		mustFail(t, s, leaf, o, ErrEKU)
		o.Purpose = PurposeAny
		mustVerify(t, s, leaf, o)
	})
	t.Run("intermediate EKU restricts", func(t *testing.T) {
		tm := caTmpl("Inter")
		tm.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}
		in := issue(tm, interKey.Public(), root, rootKey)
		leaf := issue(leafTmpl("l"), leafKey.Public(), in, interKey)
		ve := mustFail(t, s, leaf, opts(in), ErrEKU)
		if ve.Paths[0].Depth != 1 {
			t.Fatalf("depth %d", ve.Paths[0].Depth)
		}
	})
	t.Run("mDL document signing", func(t *testing.T) {
		tm := leafTmpl("DS")
		tm.ExtKeyUsage = nil
		tm.UnknownExtKeyUsage = []asn1.ObjectIdentifier{OIDExtKeyUsageMDLDocumentSigning}
		leaf := issue(tm, leafKey.Public(), goodInter, interKey)
		o := opts(goodInter)
		o.Purpose = PurposeMDLDocumentSigning
		mustVerify(t, s, leaf, o)
		plain := issue(leafTmpl("no EKU"), leafKey.Public(), goodInter, interKey)
		mustFail(t, s, plain, o, ErrEKU)
	})
	t.Run("key usage for purpose", func(t *testing.T) {
		tm := leafTmpl("l")
		tm.KeyUsage = x509.KeyUsageCRLSign
		leaf := issue(tm, leafKey.Public(), goodInter, interKey)
		mustFail(t, s, leaf, opts(goodInter), ErrKeyUsage)
	})
	t.Run("hostname", func(t *testing.T) {
		leaf := issue(leafTmpl("www.example.com", "www.example.com"), leafKey.Public(), goodInter, interKey)
		o := opts(goodInter)
		o.Name = "www.example.com"
		mustVerify(t, s, leaf, o)
		o.Name = "evil.example.com"
		mustFail(t, s, leaf, o, ErrHostname)
	})
	t.Run("name constraint", func(t *testing.T) {
		tm := caTmpl("Constrained")
		tm.PermittedDNSDomainsCritical = true
		tm.PermittedDNSDomains = []string{"example.com"}
		tm.ExcludedIPRanges = []*net.IPNet{{IP: net.IP{10, 0, 0, 0}, Mask: net.CIDRMask(8, 32)}}
		in := issue(tm, interKey.Public(), root, rootKey)
		ok := issue(leafTmpl("ok", "a.example.com"), leafKey.Public(), in, interKey)
		mustVerify(t, s, ok, opts(in))
		bad := issue(leafTmpl("bad", "a.example.org"), leafKey.Public(), in, interKey)
		ve := mustFail(t, s, bad, opts(in), ErrNameConstraint)
		if p := ve.Paths[0]; p.Depth != 1 || p.NameDepth != 0 {
			t.Fatalf("depth %d name depth %d", p.Depth, p.NameDepth)
		}
		ipTmpl := leafTmpl("ip", "b.example.com")
		ipTmpl.IPAddresses = []net.IP{net.IP{10, 1, 2, 3}}
		ip := issue(ipTmpl, leafKey.Public(), in, interKey)
		mustFail(t, s, ip, opts(in), ErrNameConstraint)
	})
	t.Run("directoryName constraint", func(t *testing.T) {
		// A critical nameConstraints with a directoryName subtree: crypto/x509 leaves it unhandled;
		// nameconstraints enforces it.
		ncDER := []byte{0x30, 0x24, 0xa0, 0x22, 0x30, 0x20, 0xa4, 0x1e, 0x30, 0x1c, 0x31, 0x1a, 0x30, 0x18, 0x06, 0x03, 0x55, 0x04, 0x0a,
			0x0c, 0x11, 'p', 'k', 'i', 'k', 'i', 't', ' ', 'p', 'e', 'r', 'm', 'i', 't', 't', 'e', 'd', '.'}
		tm := caTmpl("DN constrained")
		tm.ExtraExtensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 30}, Critical: true, Value: ncDER}}
		in := issue(tm, interKey.Public(), root, rootKey)
		okT := leafTmpl("ok")
		okT.Subject.Organization = []string{"pkikit permitted."}
		mustVerify(t, s, issue(okT, leafKey.Public(), in, interKey), opts(in))
		badT := leafTmpl("bad")
		badT.Subject.Organization = []string{"someone else"}
		mustFail(t, s, issue(badT, leafKey.Public(), in, interKey), opts(in), ErrNameConstraint)
	})
	t.Run("unknown critical extension", func(t *testing.T) {
		tm := leafTmpl("l")
		tm.ExtraExtensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}, Critical: true, Value: []byte{5, 0}}}
		leaf := issue(tm, leafKey.Public(), goodInter, interKey)
		mustFail(t, s, leaf, opts(goodInter), ErrUnknownCriticalExtension)
	})
	t.Run("leaf is an anchor", func(t *testing.T) {
		chains := mustVerify(t, s, root, VerifyOptions{Time: testNow, Purpose: PurposeAny})
		if len(chains) != 1 || len(chains[0]) != 1 {
			t.Fatal("want the one-certificate chain")
		}
	})
	t.Run("empty store", func(t *testing.T) {
		leaf := issue(leafTmpl("l"), leafKey.Public(), goodInter, interKey)
		mustFail(t, &Store{}, leaf, opts(goodInter), ErrUntrustedRoot)
	})
	t.Run("policy required", func(t *testing.T) {
		leaf := issue(leafTmpl("l"), leafKey.Public(), goodInter, interKey)
		o := opts(goodInter)
		o.RequireExplicitPolicy = true
		mustFail(t, s, leaf, o, ErrPolicy)
	})
}

// TestCrossSignedRoots: a leaf under an intermediate whose issuer, "New Root", is both a trusted root and a
// certificate cross-signed by "Old Root" (also trusted): both chains are returned. When the new root is
// removed from the store, the cross-signed path still verifies (the chain got longer, it did not break).
func TestCrossSignedRoots(t *testing.T) {
	oldKey, newKey, interKey, leafKey := genKey(t, alg.KeyRSA2048), genKey(t, alg.KeyMLDSA65), genKey(t, alg.KeyECDSAP256), genKey(t, alg.KeyECDSAP256)
	oldRoot := mkCert(t, caTmpl("Old Root"), oldKey.Public(), nil, oldKey)
	newRoot := mkCert(t, caTmpl("New Root"), newKey.Public(), nil, newKey)
	cross := mkCert(t, caTmpl("New Root"), newKey.Public(), oldRoot, oldKey)
	inter := mkCert(t, caTmpl("Inter"), interKey.Public(), newRoot, newKey)
	leaf := mkCert(t, leafTmpl("leaf"), leafKey.Public(), inter, interKey)
	opts := VerifyOptions{Time: testNow, Intermediates: []*x509ext.Certificate{cross, inter}}

	chains := mustVerify(t, NewStore(oldRoot, newRoot), leaf, opts)
	if len(chains) != 2 {
		t.Fatalf("got %d chains, want 2", len(chains))
	}
	lens := map[int]bool{len(chains[0]): true, len(chains[1]): true}
	if !lens[3] || !lens[4] {
		t.Fatalf("chain lengths %d and %d, want 3 and 4", len(chains[0]), len(chains[1]))
	}
	chains = mustVerify(t, NewStore(oldRoot), leaf, opts)
	if len(chains) != 1 || len(chains[0]) != 4 || chains[0][3] != oldRoot {
		t.Fatal("want the 4-certificate chain through the cross-sign")
	}
	// Several candidate issuers: a second "Inter" with another key that did not sign the leaf is tried and
	// reported if nothing else works.
	otherKey := genKey(t, alg.KeyECDSAP256)
	decoy := mkCert(t, caTmpl("Inter"), otherKey.Public(), newRoot, newKey)
	chains = mustVerify(t, NewStore(newRoot), leaf, VerifyOptions{Time: testNow, Intermediates: []*x509ext.Certificate{decoy, inter}})
	if len(chains) != 1 {
		t.Fatalf("got %d chains", len(chains))
	}
	ve := mustFail(t, NewStore(newRoot), leaf, VerifyOptions{Time: testNow, Intermediates: []*x509ext.Certificate{decoy}}, ErrBadSignature)
	if len(ve.Paths) != 1 {
		t.Fatalf("paths: %v", ve)
	}
}

// TestVerifyBudget: a mesh of intermediates that all share one name and sign each other must stop at the
// configured bounds with ErrBudgetExhausted, quickly.
func TestVerifyBudget(t *testing.T) {
	rootKey := genKey(t, alg.KeyECDSAP256)
	root := mkCert(t, caTmpl("Root"), rootKey.Public(), nil, rootKey)
	const n = 8
	keys := make([]crypto.Signer, n)
	for i := range keys {
		keys[i] = genKey(t, alg.KeyECDSAP256)
	}
	var inters []*x509ext.Certificate
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			if i != j {
				tm := caTmpl("Mesh")
				tm.Issuer = pkix.Name{CommonName: "Mesh"}
				inters = append(inters, mkCert(t, tm, keys[i].Public(), &x509ext.Certificate{Certificate: &x509.Certificate{RawSubject: inters0(t, keys[j], root, rootKey).RawSubject}}, keys[j]))
			}
		}
	}
	leafKey := genKey(t, alg.KeyECDSAP256)
	leaf := mkCert(t, leafTmpl("l"), leafKey.Public(), inters[0], keys[1])
	start := time.Now()
	_, err := NewStore(root).Verify(leaf, VerifyOptions{Time: testNow, Intermediates: inters, MaxSignatureChecks: 30})
	if !errors.Is(err, ErrBudgetExhausted) {
		t.Fatalf("err %v, want ErrBudgetExhausted", err)
	}
	_, err = NewStore(root).Verify(leaf, VerifyOptions{Time: testNow, Intermediates: inters, MaxDepth: 3})
	if !errors.Is(err, ErrBudgetExhausted) {
		t.Fatalf("err %v, want ErrBudgetExhausted (depth)", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %v", d)
	}
}

func inters0(t *testing.T, k crypto.Signer, root *x509ext.Certificate, rootKey crypto.Signer) *x509ext.Certificate {
	return mkCert(t, caTmpl("Mesh"), k.Public(), root, rootKey)
}

func TestPins(t *testing.T) {
	ch := mkChain(t, alg.KeyECDSAP256, alg.KeyECDSAP256, alg.KeyECDSAP256)
	s := NewStore(ch.root)
	opts := VerifyOptions{Time: testNow, Intermediates: []*x509ext.Certificate{ch.inter}, Pins: NewPinSet(PinFor("root", ch.root))}
	mustVerify(t, s, ch.leaf, opts)
	opts.Pins = AmazonRootPins()
	mustFail(t, s, ch.leaf, opts, ErrPinMismatch)
	p, err := ParsePin("x", PinFor("root", ch.root).String())
	if err != nil || p.SHA256 != SPKIHash(ch.root) {
		t.Fatal("pin round trip")
	}
	if _, err := ParsePin("bad", "not a pin"); !errors.Is(err, ErrMalformed) {
		t.Fatalf("err %v", err)
	}
}

var _ = big.NewInt
