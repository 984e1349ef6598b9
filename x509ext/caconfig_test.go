package x509ext

import (
	"context"
	"crypto/x509/pkix"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pkikit/pkikit/internal/der"
)

func pkixCN(cn string) pkix.Name { return pkix.Name{CommonName: cn} }

func TestParseCAConfigTestdata(t *testing.T) {
	files, _ := filepath.Glob("testdata/caconfig/*.json")
	if len(files) < 6 {
		t.Fatalf("only %d files", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			c, err := ParseCAConfig(data)
			if strings.HasPrefix(filepath.Base(f), "bad-") {
				if !errors.Is(err, ErrCAConfig) {
					t.Fatalf("want ErrCAConfig, got %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.SigningAlgorithm.CheckKeyType(c.KeyAlgorithm) != nil {
				t.Fatal("inconsistent")
			}
		})
	}
}

func TestParseCAConfigValues(t *testing.T) {
	keys := map[string]KeyAlgorithm{"RSA_2048": KeyRSA2048, "RSA_3072": KeyRSA3072, "RSA_4096": KeyRSA4096,
		"EC_prime256v1": KeyECDSAP256, "EC_256": KeyECDSAP256, "EC_secp384r1": KeyECDSAP384, "EC_384": KeyECDSAP384,
		"EC_secp521r1": KeyECDSAP521, "ML_DSA_44": KeyMLDSA44, "ML_DSA_65": KeyMLDSA65, "ML_DSA_87": KeyMLDSA87}
	sigs := map[string]SignatureAlgorithm{"SHA256WITHRSA": SHA256WithRSA, "SHA384WITHRSA": SHA384WithRSA,
		"SHA512WITHRSA": SHA512WithRSA, "SHA256WITHECDSA": ECDSAWithSHA256, "SHA384WITHECDSA": ECDSAWithSHA384,
		"SHA512WITHECDSA": ECDSAWithSHA512, "ML_DSA_44": MLDSA44, "ML_DSA_65": MLDSA65, "ML_DSA_87": MLDSA87}
	accepted := 0
	for kn, kt := range keys {
		for sn, sa := range sigs {
			doc := `{"KeyAlgorithm":"` + kn + `","SigningAlgorithm":"` + sn + `","Subject":{"CommonName":"x"}}`
			c, err := ParseCAConfig([]byte(doc))
			if sa.CheckKeyType(kt) == nil {
				if err != nil || c.KeyAlgorithm != kt || c.SigningAlgorithm != sa {
					t.Errorf("%s/%s: %v", kn, sn, err)
				}
				accepted++
			} else if !errors.Is(err, ErrCAConfig) {
				t.Errorf("%s/%s accepted: %v", kn, sn, err)
			}
		}
	}
	if accepted != 3*3+5*3+3 {
		t.Fatalf("%d pairs accepted", accepted)
	}
	data, _ := os.ReadFile("testdata/caconfig/create-ca-full.json")
	c, err := ParseCAConfig(data)
	if err != nil {
		t.Fatal(err)
	}
	if c.Type != "SUBORDINATE" || !c.CRL.Enabled || c.CRL.ExpirationInDays != 7 || c.SubjectInformationAccess == nil ||
		c.CRL.DistributionPoint("ca.crl") != "http://crl.example.com/crl/ca.crl" {
		t.Fatalf("%+v", c)
	}
	der, _ := mustName(t, c.Subject)
	if len(der) < 100 || len(c.Subject.ExtraNames) != 7 {
		t.Fatalf("subject attributes: %d extra", len(c.Subject.ExtraNames))
	}
	for name, doc := range map[string]string{
		"no subject":     `{"KeyAlgorithm":"RSA_2048","SigningAlgorithm":"SHA256WITHRSA"}`,
		"empty subject":  `{"KeyAlgorithm":"RSA_2048","SigningAlgorithm":"SHA256WITHRSA","Subject":{}}`,
		"bad CA type":    `{"CertificateAuthorityConfiguration":{"KeyAlgorithm":"RSA_2048","SigningAlgorithm":"SHA256WITHRSA","Subject":{"CommonName":"x"}},"CertificateAuthorityType":"INTERMEDIATE"}`,
		"bad CRL days":   `{"CertificateAuthorityConfiguration":{"KeyAlgorithm":"RSA_2048","SigningAlgorithm":"SHA256WITHRSA","Subject":{"CommonName":"x"}},"RevocationConfiguration":{"CrlConfiguration":{"Enabled":true,"ExpirationInDays":0}}}`,
		"lower case alg": `{"KeyAlgorithm":"rsa_2048","SigningAlgorithm":"SHA256WITHRSA","Subject":{"CommonName":"x"}}`,
		"unknown top":    `{"KeyAlgorithm":"RSA_2048","SigningAlgorithm":"SHA256WITHRSA","Subject":{"CommonName":"x"},"Validity":3}`,
		"bad SIA method": `{"KeyAlgorithm":"RSA_2048","SigningAlgorithm":"SHA256WITHRSA","Subject":{"CommonName":"x"},"CsrExtensions":{"SubjectInformationAccess":[{"AccessMethod":{"AccessMethodType":"X"},"AccessLocation":{"UniformResourceIdentifier":"http://a/"}}]}}`,
		"null config":    `{"CertificateAuthorityConfiguration":null}`,
	} {
		if _, err := ParseCAConfig([]byte(doc)); !errors.Is(err, ErrCAConfig) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := ParseCAConfig([]byte(`[`)); !errors.Is(err, ErrMalformed) {
		t.Errorf("broken JSON: %v", err)
	}
}

func mustName(t *testing.T, n pkix.Name) ([]byte, error) {
	t.Helper()
	b, err := der.MarshalName(n)
	if err != nil {
		t.Fatal(err)
	}
	return b, nil
}

func TestCAConfigBuildsHierarchy(t *testing.T) {
	ctx := context.Background()
	rootData, _ := os.ReadFile("testdata/caconfig/root-mldsa87.json")
	subData, _ := os.ReadFile("testdata/caconfig/create-ca-full.json")
	rc, err := ParseCAConfig(rootData)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := ParseCAConfig(subData)
	if err != nil {
		t.Fatal(err)
	}
	rk, _ := rc.GenerateKey()
	root, err := rc.NewRoot(ctx, rk, testTime, 10*365*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	root.Now = fixedNow
	if _, err := rc.NewRoot(ctx, testKey(t, KeyECDSAP256), testTime, time.Hour); !errors.Is(err, ErrCAConfig) {
		t.Fatalf("wrong key type: %v", err)
	}
	sk, _ := sc.GenerateKey()
	sub, err := sc.NewSubordinate(ctx, root, sk, SubordinateCACertificatePathLen0V1, 5*365*24*time.Hour, sc.CRL.DistributionPoint("root.crl"))
	if err != nil {
		t.Fatal(err)
	}
	if sub.Certificate.Subject.CommonName != "Beispiel Sub CA" || sub.Certificate.CRLDistributionPoints[0] != "http://crl.example.com/crl/root.crl" {
		t.Fatal("sub content")
	}
	if err := sub.Certificate.CheckSignatureFrom(root.Certificate); err != nil {
		t.Fatal(err)
	}
	leaf, err := sub.Issue(ctx, &IssueRequest{Profile: EndEntityServerAuthCertificateV1, PublicKey: testKey(t, KeyRSA2048).Public(),
		DNSNames: []string{"www.example.com"}, Validity: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if leaf.SignatureAlgorithm != ECDSAWithSHA384 {
		t.Fatal(leaf.SignatureAlgorithm)
	}
}
