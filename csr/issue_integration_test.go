package csr

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pkikit/pkikit/x509ext"
)

// integrationKey returns a subject key of every type: RSA-3072/4096 from testdata/keys (slow to generate under
// -race), the others from testKey.
func integrationKey(t *testing.T, kt x509ext.KeyAlgorithm) crypto.Signer {
	t.Helper()
	name := map[x509ext.KeyAlgorithm]string{x509ext.KeyRSA3072: "rsa-3072.p8", x509ext.KeyRSA4096: "rsa-4096.p8"}[kt]
	if name == "" {
		return testKey(t, kt)
	}
	der, err := os.ReadFile(filepath.Join("testdata", "keys", name))
	if err != nil {
		t.Fatal(err)
	}
	k, err := x509ext.ParsePKCS8PrivateKey(der)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// integrationIssuers are an ML-DSA-65 root and an ECDSA P-384 root, both from x509ext.SelfSign.
func integrationIssuers(t *testing.T, now time.Time) []*x509ext.Issuer {
	t.Helper()
	var out []*x509ext.Issuer
	for _, kt := range []x509ext.KeyAlgorithm{x509ext.KeyMLDSA65, x509ext.KeyECDSAP384} {
		k, err := x509ext.GenerateKey(kt)
		if err != nil {
			t.Fatal(err)
		}
		c, err := x509ext.SelfSign(context.Background(), k, &x509ext.IssueRequest{Profile: x509ext.RootCACertificateV1,
			Subject: pkix.Name{CommonName: "csr integration root " + kt.String()}, NotBefore: now, Validity: 24 * time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, &x509ext.Issuer{Certificate: c, Signer: k, Now: func() time.Time { return now }})
	}
	return out
}

// TestCreatedRequestsIssueAndVerify: requests made by Create for every key type (and by NewTBS + Assemble) are
// accepted by x509ext's Issue from an ML-DSA-65 and an ECDSA P-384 CA; the certificates carry the request's key,
// subject and names, and verify under the CA (and, for classical pairs, with crypto/x509 path validation).
func TestCreatedRequestsIssueAndVerify(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second).Add(-time.Minute)
	issuers := integrationIssuers(t, now)
	kts := []x509ext.KeyAlgorithm{x509ext.KeyMLDSA44, x509ext.KeyMLDSA65, x509ext.KeyMLDSA87, x509ext.KeyECDSAP256,
		x509ext.KeyECDSAP384, x509ext.KeyECDSAP521, x509ext.KeyRSA2048, x509ext.KeyRSA3072, x509ext.KeyRSA4096,
		x509ext.KeyEd25519}
	ctx := context.Background()
	for _, kt := range kts {
		key := integrationKey(t, kt)
		for _, two := range []bool{false, true} {
			name := kt.String()
			if two {
				name += "/NewTBS+Assemble"
			}
			t.Run(name, func(t *testing.T) {
				tmpl := &Template{Subject: pkix.Name{CommonName: "host.example.com", Organization: []string{"pkikit"}},
					DNSNames: []string{"host.example.com", "alt.example.com"}, IPAddresses: []net.IP{net.ParseIP("192.0.2.7")},
					ChallengePassword: "not-in-the-certificate"}
				var der []byte
				var err error
				if two {
					der = createTwoStep(t, key, tmpl)
				} else if der, err = Create(ctx, key, tmpl); err != nil {
					t.Fatal(err)
				}
				req, err := Parse(der)
				if err != nil {
					t.Fatal(err)
				}
				if err := req.CheckSignature(); err != nil {
					t.Fatal(err)
				}
				profile := x509ext.EndEntityServerAuthCertificateV1
				if kt.Family() == x509ext.KeyMLDSA65.Family() || kt == x509ext.KeyEd25519 {
					profile.KeyUsage = x509.KeyUsageDigitalSignature // RFC 9881 §5, RFC 8410 §5
				}
				for _, ca := range issuers {
					cert, err := ca.Issue(ctx, &x509ext.IssueRequest{Profile: profile, CSR: req.CertificateRequest, Validity: time.Hour})
					if err != nil {
						t.Fatalf("issue from %v: %v", ca.Certificate.KeyAlgorithm, err)
					}
					if err := cert.CheckSignatureFrom(ca.Certificate); err != nil {
						t.Fatalf("from %v: %v", ca.Certificate.KeyAlgorithm, err)
					}
					again, err := x509ext.ParseCertificate(cert.Raw)
					if err != nil {
						t.Fatal(err)
					}
					if again.KeyAlgorithm != kt || !samePublicKey(t, again.PublicKey, req.PublicKey) {
						t.Fatalf("certificate key %v is not the request's", again.KeyAlgorithm)
					}
					if cert.Subject.CommonName != "host.example.com" || len(cert.DNSNames) != 2 || len(cert.IPAddresses) != 1 {
						t.Fatalf("subject %v, names %v %v", cert.Subject, cert.DNSNames, cert.IPAddresses)
					}
					if ca.Certificate.KeyAlgorithm.Family() != x509ext.KeyMLDSA65.Family() && kt.Family() != x509ext.KeyMLDSA65.Family() {
						roots := x509.NewCertPool()
						roots.AddCert(ca.Certificate.Certificate)
						if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, DNSName: "alt.example.com", CurrentTime: now.Add(time.Minute)}); err != nil {
							t.Fatalf("crypto/x509 Verify: %v", err)
						}
					}
				}
			})
		}
	}

	t.Run("tampered request refused", func(t *testing.T) {
		der, err := Create(ctx, testKey(t, x509ext.KeyMLDSA65), &Template{Subject: pkix.Name{CommonName: "x"}})
		if err != nil {
			t.Fatal(err)
		}
		der[len(der)-10] ^= 1
		req, err := Parse(der)
		if err != nil {
			t.Fatal(err)
		}
		p := x509ext.CodeSigningCertificateV1
		for _, ca := range issuers {
			_, err := ca.Issue(ctx, &x509ext.IssueRequest{Profile: p, CSR: req.CertificateRequest, Validity: time.Hour})
			if !errors.Is(err, x509ext.ErrBadCSR) {
				t.Fatalf("got %v, want ErrBadCSR", err)
			}
		}
	})
}

func createTwoStep(t *testing.T, key crypto.Signer, tmpl *Template) []byte {
	t.Helper()
	tbs, err := NewTBS(key.Public(), tmpl)
	if err != nil {
		t.Fatal(err)
	}
	kt, err := x509ext.KeyAlgorithmOf(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	a := kt.DefaultAlgorithm()
	msg, opts := tbs, crypto.SignerOpts(crypto.Hash(0))
	if h := a.Hash(); h != 0 {
		d := h.New()
		d.Write(tbs)
		msg, opts = d.Sum(nil), h
	}
	sig, err := key.Sign(rand.Reader, msg, opts)
	if err != nil {
		t.Fatal(err)
	}
	der, err := Assemble(tbs, a, sig)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func samePublicKey(t *testing.T, a, b crypto.PublicKey) bool {
	t.Helper()
	da, err1 := x509ext.MarshalPKIXPublicKey(a)
	db, err2 := x509ext.MarshalPKIXPublicKey(b)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	return string(da) == string(db)
}
