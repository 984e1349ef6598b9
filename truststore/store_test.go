package truststore

import (
	"bytes"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/pkikit/pkikit/internal/alg"
)

func amazonBundle(t testing.TB) []byte {
	t.Helper()
	var all []byte
	for _, f := range []string{"Amazon_Root_CA_1.crt", "Amazon_Root_CA_2.crt", "Amazon_Root_CA_3.crt", "Amazon_Root_CA_4.crt",
		"Starfield_Services_Root_Certificate_Authority_-_G2.crt"} {
		b, err := os.ReadFile(filepath.Join("testdata", "amazon", f))
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}

// TestAmazonPinsMatchRealRoots recomputes SHA-256(SPKI) of the five real Amazon Trust Services roots (copied
// from Debian's ca-certificates, see testdata/amazon/README.md) and checks AmazonRootPins against them.
func TestAmazonPinsMatchRealRoots(t *testing.T) {
	certs, err := ParseCertificatesPEM(amazonBundle(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(certs) != 5 {
		t.Fatalf("%d certificates", len(certs))
	}
	pins := AmazonRootPins()
	r := pins.Check(certs)
	if !r.Complete() || len(r.Other) != 0 {
		t.Fatalf("missing %v, unpinned %d", r.Missing, len(r.Other))
	}
	for _, c := range certs {
		p, ok := pins.Match(c)
		if !ok || p.Name != c.Subject.CommonName {
			t.Errorf("%s: matched pin %q", c.Subject.CommonName, p.Name)
		}
	}
	// One root missing from a bundle is reported by name.
	r = pins.Check(certs[1:])
	if r.Complete() || len(r.Missing) != 1 || r.Missing[0].Name != "Amazon Root CA 1" {
		t.Fatalf("missing %v", r.Missing)
	}
}

func TestAnchorsLoading(t *testing.T) {
	s := &Store{} // the zero value is usable
	n, err := s.AddAnchorsPEM(amazonBundle(t))
	if err != nil || n != 5 {
		t.Fatalf("n=%d err=%v", n, err)
	}
	if w := s.Warnings(); len(w) != 0 {
		t.Fatalf("warnings for real roots: %v", w)
	}
	if _, err := s.AddAnchorsPEM([]byte("no pem here")); !errors.Is(err, ErrMalformed) {
		t.Fatalf("err %v", err)
	}

	// A directory with a DER root, a PEM intermediate, a leaf and junk.
	ch := mkChain(t, alg.KeyECDSAP256, alg.KeyMLDSA44, alg.KeyEd25519)
	dir := t.TempDir()
	write := func(name string, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("root.der", ch.root.Raw)
	write("inter.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ch.inter.Raw}))
	write("leaf.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ch.leaf.Raw}))
	write("notes.txt", []byte("hello"))
	d := &Store{}
	n, err = d.AddAnchorsDir(dir)
	if err != nil || n != 3 {
		t.Fatalf("n=%d err=%v", n, err)
	}
	kinds := map[WarningKind]int{}
	for _, w := range d.Warnings() {
		kinds[w.Kind]++
		if w.Kind == WarnNotSelfSigned && w.Advice == "" {
			t.Error("intermediate warning without advice")
		}
	}
	if kinds[WarnNotSelfSigned] != 1 || kinds[WarnNotCA] != 1 || kinds[WarnSkipped] != 1 {
		t.Fatalf("warnings %v", d.Warnings())
	}
	// Adding the same anchor again is reported, not duplicated.
	if d.AddAnchor(ch.root) || len(d.Anchors()) != 3 {
		t.Fatal("duplicate anchor added")
	}
	// An intermediate as an anchor still works as one (with the warning above).
	if _, err := NewStore(ch.inter).Verify(ch.leaf, VerifyOptions{Time: testNow}); err != nil {
		t.Fatal(err)
	}
}

func TestSystemStore(t *testing.T) {
	dir := t.TempDir()
	bundle := filepath.Join(dir, "bundle.pem")
	if err := os.WriteFile(bundle, amazonBundle(t), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SSL_CERT_FILE", bundle)
	t.Setenv("SSL_CERT_DIR", "")
	s, err := SystemStore()
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Anchors()) != 5 {
		t.Fatalf("%d anchors", len(s.Anchors()))
	}
	t.Setenv("SSL_CERT_FILE", filepath.Join(dir, "absent.pem"))
	if _, err := SystemStore(); !errors.Is(err, ErrNoAnchors) {
		t.Fatalf("err %v", err)
	}
}

func TestParseCertificateCache(t *testing.T) {
	ch := mkChain(t, alg.KeyMLDSA65, alg.KeyMLDSA65, alg.KeyMLDSA65)
	s := NewStore()
	a, err := s.ParseCertificate(ch.inter.Raw)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := s.ParseCertificate(bytes.Clone(ch.inter.Raw))
	if a != b {
		t.Fatal("second parse not served from the cache")
	}
	if _, err := s.ParseCertificate([]byte{0x30, 0x00}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("err %v", err)
	}
}
