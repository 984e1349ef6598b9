package cms

import (
	"bytes"
	"context"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"

	"github.com/pkikit/pkikit/truststore"
	"github.com/pkikit/pkikit/x509ext"
)

// fuzzSeeds are every SignedData in testdata plus freshly signed ones (DER and BER, several signers).
func fuzzSeeds(f *testing.F) [][]byte {
	var seeds [][]byte
	for _, pat := range []string{"testdata/*.der", "testdata/*.pem"} {
		files, _ := filepath.Glob(pat)
		for _, file := range files {
			if data, err := os.ReadFile(file); err == nil {
				seeds = append(seeds, data)
			}
		}
	}
	p := pkiFor(f, x509ext.KeyECDSAP256)
	s1 := p.signer(f, x509ext.KeyECDSAP256, &SignerOptions{SubjectKeyIdentifier: true})
	s2 := p.signer(f, x509ext.KeyEd25519, nil)
	der, err := Sign(context.Background(), bytes.NewReader(testContent), []*Signer{s1, s2}, &SignOptions{Time: testNow, Attached: true})
	if err != nil {
		f.Fatal(err)
	}
	seeds = append(seeds, der, toBER(f, der, 16))
	return seeds
}

func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sd, err := Parse(data, &ParseOptions{MaxSize: 1 << 20})
		if err != nil {
			return
		}
		// A parsed SignedData's normalised DER parses to the same thing.
		again, err := Parse(sd.Raw, nil)
		if err != nil {
			t.Fatalf("normalised DER does not parse: %v", err)
		}
		if !bytes.Equal(again.Raw, sd.Raw) || len(again.SignerInfos) != len(sd.SignerInfos) {
			t.Fatal("normalised form not stable")
		}
	})
}

func FuzzVerify(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s, false)
		f.Add(s, true)
	}
	p := pkiFor(f, x509ext.KeyECDSAP256)
	rfc := readCertFile(f, "ML-DSA-65.crt")
	store := truststore.NewStore(p.root, rfc)
	v, err := NewVerifier(VerifyOptions{Store: store, Time: testNow, Policy: PolicyAny,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}, Certificates: []*x509ext.Certificate{rfc},
		Parse: ParseOptions{MaxSize: 1 << 20}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte, detached bool) {
		var res *Result
		var err error
		if detached {
			res, err = v.Verify(data, bytes.NewReader(testContent))
		} else {
			res, err = v.Verify(data, nil)
		}
		if err == nil && len(res.Verified()) == 0 {
			t.Fatal("verified with no verified signer")
		}
		if err == nil {
			for _, r := range res.Verified() {
				if r.Certificate == nil || len(r.Chain) == 0 {
					t.Fatal("verified signer without certificate or chain")
				}
			}
		}
	})
}
