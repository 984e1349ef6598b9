package cms_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pkikit/pkikit/cms"
	"github.com/pkikit/pkikit/truststore"
	"github.com/pkikit/pkikit/x509ext"
)

// chain is an in-memory root → subordinate CA → code-signing leaf, for the examples.
type chain struct {
	root, sub, leaf *x509ext.Certificate
	leafKey         crypto.Signer
	signer          *cms.Signer
}

func newChain(kt x509ext.KeyAlgorithm) (*chain, error) {
	ctx := context.Background()
	now := time.Now()
	rootKey, _ := x509ext.GenerateKey(kt)
	subKey, _ := x509ext.GenerateKey(kt)
	leafKey, _ := x509ext.GenerateKey(kt)
	root, err := x509ext.SelfSign(ctx, rootKey, &x509ext.IssueRequest{Profile: x509ext.RootCACertificateV1,
		Subject: pkix.Name{CommonName: "Example Root"}, NotAfter: now.AddDate(10, 0, 0)})
	if err != nil {
		return nil, err
	}
	sub, err := (&x509ext.Issuer{Certificate: root, Signer: rootKey}).Issue(ctx, &x509ext.IssueRequest{
		Profile: x509ext.SubordinateCACertificatePathLen0V1, PublicKey: subKey.Public(),
		Subject: pkix.Name{CommonName: "Example Code Signing CA"}, NotAfter: now.AddDate(5, 0, 0)})
	if err != nil {
		return nil, err
	}
	leaf, err := (&x509ext.Issuer{Certificate: sub, Signer: subKey}).Issue(ctx, &x509ext.IssueRequest{
		Profile: x509ext.CodeSigningCertificateV1, PublicKey: leafKey.Public(),
		Subject: pkix.Name{CommonName: "Example Signer"}, NotAfter: now.AddDate(1, 0, 0)})
	if err != nil {
		return nil, err
	}
	// The signer: key, certificate, and the intermediates to embed. Any crypto.Signer works (a KMS key from
	// kmssigner.Open, an HSM key, ...).
	s, err := cms.NewSigner(leafKey, leaf, &cms.SignerOptions{Intermediates: []*x509ext.Certificate{sub}})
	if err != nil {
		return nil, err
	}
	return &chain{root, sub, leaf, leafKey, s}, nil
}

// Sign a file detached with ML-DSA-65 and verify it against the root alone.
func Example() {
	c, err := newChain(x509ext.KeyMLDSA65)
	if err != nil {
		panic(err)
	}
	file := []byte("the bytes of a release binary")

	p7s, err := cms.Sign(context.Background(), bytes.NewReader(file), []*cms.Signer{c.signer}, nil)
	if err != nil {
		panic(err)
	}

	res, err := cms.Verify(p7s, bytes.NewReader(file), cms.VerifyOptions{Store: truststore.NewStore(c.root)})
	if err != nil {
		panic(err)
	}
	s := res.Signers[0]
	fmt.Println(s.Algorithm, s.Digest, s.Certificate.Subject.CommonName, "→", s.Chain[len(s.Chain)-1].Subject.CommonName)

	// Changed content fails with a typed reason.
	_, err = cms.Verify(p7s, strings.NewReader("another binary"), cms.VerifyOptions{Store: truststore.NewStore(c.root)})
	fmt.Println(errors.Is(err, cms.ErrContentDigest))
	// Output:
	// ML-DSA-65 SHA-512 Example Signer → Example Root
	// true
}

// Two signers in one SignedData: a legacy verifier checks ECDSA, an upgraded one ML-DSA; the policy says which
// must verify.
func ExampleSign_dual() {
	pq, err := newChain(x509ext.KeyMLDSA65)
	if err != nil {
		panic(err)
	}
	ec, err := newChain(x509ext.KeyECDSAP256)
	if err != nil {
		panic(err)
	}
	file := []byte("release.tar.gz")
	p7s, err := cms.Sign(context.Background(), bytes.NewReader(file), []*cms.Signer{pq.signer, ec.signer}, nil)
	if err != nil {
		panic(err)
	}
	// Trusting only the ML-DSA root: PolicyPostQuantum is satisfied, PolicyAll is not.
	store := truststore.NewStore(pq.root)
	_, err = cms.Verify(p7s, bytes.NewReader(file), cms.VerifyOptions{Store: store, Policy: cms.PolicyPostQuantum})
	fmt.Println("post-quantum policy:", err == nil)
	_, err = cms.Verify(p7s, bytes.NewReader(file), cms.VerifyOptions{Store: store})
	fmt.Println("all policy:", err == nil, errors.Is(err, cms.ErrUntrusted))
	// Output:
	// post-quantum policy: true
	// all policy: false true
}

// SHAKE256 instead of SHA-512 (RFC 9882: id-shake256, 512-bit output), PEM output as OpenSSL writes it.
func ExampleNewSigner_shake256() {
	c, err := newChain(x509ext.KeyMLDSA87)
	if err != nil {
		panic(err)
	}
	s, err := cms.NewSigner(c.leafKey, c.leaf, &cms.SignerOptions{Digest: cms.SHAKE256,
		Intermediates: []*x509ext.Certificate{c.sub}})
	if err != nil {
		panic(err)
	}
	der, err := cms.Sign(context.Background(), strings.NewReader("content"), []*cms.Signer{s}, nil)
	if err != nil {
		panic(err)
	}
	pemBytes := cms.MarshalPEM(der)
	fmt.Println(strings.SplitN(string(pemBytes), "\n", 2)[0])
	sd, err := cms.Parse(pemBytes, nil)
	if err != nil {
		panic(err)
	}
	si := sd.SignerInfos[0]
	fmt.Println(si.SignatureAlgorithm, si.Digest, len(si.MessageDigest), si.AlgorithmProtection)

	// A digest weaker than the key is refused (RFC 9882 §3: ML-DSA-87 takes SHA-512, SHA3-512 or SHAKE256).
	_, err = cms.NewSigner(c.leafKey, c.leaf, &cms.SignerOptions{Digest: cms.SHA256})
	fmt.Println(errors.Is(err, cms.ErrDigestNotAllowed))
	// Output:
	// -----BEGIN CMS-----
	// ML-DSA-87 SHAKE256 64 true
	// true
}

// A Verifier reused for many signatures by the same signer caches the parsed certificates and the verified
// chain.
func ExampleNewVerifier() {
	c, err := newChain(x509ext.KeyECDSAP256)
	if err != nil {
		panic(err)
	}
	v, err := cms.NewVerifier(cms.VerifyOptions{Store: truststore.NewStore(c.root)})
	if err != nil {
		panic(err)
	}
	for _, file := range []string{"one", "two", "three"} {
		p7s, err := cms.Sign(context.Background(), strings.NewReader(file), []*cms.Signer{c.signer}, nil)
		if err != nil {
			panic(err)
		}
		_, err = v.Verify(p7s, strings.NewReader(file))
		fmt.Println(file, err == nil)
	}
	// Output:
	// one true
	// two true
	// three true
}
