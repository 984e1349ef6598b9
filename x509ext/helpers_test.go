package x509ext

import (
	"context"
	"crypto"
	"crypto/x509/pkix"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// testTime is the fixed clock of the tests.
var testTime = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func fixedNow() time.Time { return testTime }

var (
	keyMu    sync.Mutex
	keyCache = map[KeyAlgorithm]crypto.Signer{}
)

// testKey returns one key per algorithm for the whole test binary: RSA keys come from testdata/keys (made by
// `openssl genpkey`, see the README) because generating RSA-4096 under -race is slow; others are generated.
func testKey(t testing.TB, kt KeyAlgorithm) crypto.Signer {
	t.Helper()
	keyMu.Lock()
	defer keyMu.Unlock()
	if k, ok := keyCache[kt]; ok {
		return k
	}
	var k crypto.Signer
	var err error
	switch kt {
	case KeyRSA2048, KeyRSA3072, KeyRSA4096:
		name := map[KeyAlgorithm]string{KeyRSA2048: "rsa-2048.p8", KeyRSA3072: "rsa-3072.p8", KeyRSA4096: "rsa-4096.p8"}[kt]
		var der []byte
		der, err = os.ReadFile(filepath.Join("testdata", "keys", name))
		if err == nil {
			k, err = ParsePKCS8PrivateKey(der)
		}
	default:
		k, err = GenerateKey(kt)
	}
	if err != nil {
		t.Fatalf("key %v: %v", kt, err)
	}
	keyCache[kt] = k
	return k
}

// newRoot makes a self-signed root with RootCACertificateV1 valid for ten years from testTime.
func newRoot(t testing.TB, kt KeyAlgorithm, a SignatureAlgorithm, cn string) *Issuer {
	t.Helper()
	k := testKey(t, kt)
	c, err := SelfSign(context.Background(), k, &IssueRequest{Profile: RootCACertificateV1,
		Subject: pkix.Name{CommonName: cn, Organization: []string{"pkikit test"}}, NotBefore: testTime,
		Validity: 10 * 365 * 24 * time.Hour, SignatureAlgorithm: a})
	if err != nil {
		t.Fatalf("root %v/%v: %v", kt, a, err)
	}
	return &Issuer{Certificate: c, Signer: k, Algorithm: a, Now: fixedNow}
}

// subCA issues a subordinate CA under parent.
func subCA(t testing.TB, parent *Issuer, p Profile, kt KeyAlgorithm, cn string) *Issuer {
	t.Helper()
	k := testKey(t, kt)
	c, err := parent.Issue(context.Background(), &IssueRequest{Profile: p, PublicKey: k.Public(),
		Subject: pkix.Name{CommonName: cn}, Validity: 5 * 365 * 24 * time.Hour})
	if err != nil {
		t.Fatalf("sub CA: %v", err)
	}
	return &Issuer{Certificate: c, Signer: k, Now: fixedNow}
}
