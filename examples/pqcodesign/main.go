// Command pqcodesign is pkikit's main job end to end: post-quantum code signing that OpenSSL 3.5 verifies.
//
//	go run ./examples/pqcodesign                      # sign a generated sample binary
//	go run ./examples/pqcodesign -in ./mytool -out ./signed
//	go run ./examples/pqcodesign -dual                # add an ECDSA P-256 signer beside ML-DSA-65
//	go run ./examples/pqcodesign -kms 'awskms:///alias/CodeSigning'   # code-signing key in a real KMS
//
// It
//
//  1. creates an ML-DSA-65 root CA and subordinate CA, and the code-signing key, in pkikit's embedded KMS
//     (kmssigner/localkms, in memory: no private key ever leaves it, none is written to disk) — or, with
//     -kms URI, uses the code-signing key that URI names (kmssigner.Open: awskms:, localkms:, pkcs11:);
//  2. builds a PKCS#10 request over the KMS key (package csr) and issues the leaf from it with the
//     CodeSigningCertificate/V1 profile (keyUsage digitalSignature, extendedKeyUsage codeSigning, both critical);
//  3. signs the file as a detached CMS SignedData (RFC 5652, RFC 9882: SHA-512, signed attributes with
//     CMSAlgorithmProtection) with the leaf and the subordinate CA certificate embedded, streaming the file;
//  4. verifies the signature with package cms against a trust store holding only the root;
//  5. writes root.pem, chain.pem (subordinate CA), leaf.pem, the file and FILE.p7s to -out, and prints the
//     `openssl cms -verify ... -purpose codesign` command that checks it independently with OpenSSL 3.5.
//
// With -dual a second, classical chain (ECDSA P-256 root, subordinate, leaf) signs too, in the same SignedData:
// a verifier without ML-DSA can check the ECDSA signer, an upgraded one checks both. root.pem then holds both
// roots.
package main

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/pkikit/pkikit/cms"
	"github.com/pkikit/pkikit/csr"
	"github.com/pkikit/pkikit/kmssigner"
	_ "github.com/pkikit/pkikit/kmssigner/awskms" // registers awskms: for -kms
	"github.com/pkikit/pkikit/kmssigner/localkms"
	_ "github.com/pkikit/pkikit/kmssigner/pkcs11" // registers pkcs11: for -kms
	"github.com/pkikit/pkikit/truststore"
	"github.com/pkikit/pkikit/x509ext"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if _, err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "pqcodesign:", err)
		os.Exit(1)
	}
}

// config is what the flags say.
type config struct {
	in, out, kmsURI string
	dual            bool
}

// outcome is what run produced (for the test).
type outcome struct {
	dir, file, sig string
	opensslArgs    []string // the printed command's arguments after "openssl", run in dir
	result         *cms.Result
}

func parseFlags(args []string) (*config, error) {
	fl := flag.NewFlagSet("pqcodesign", flag.ContinueOnError)
	c := &config{}
	fl.StringVar(&c.in, "in", "", "file to sign (default: a generated sample binary)")
	fl.StringVar(&c.out, "out", "", "output directory (default: a new temporary directory)")
	fl.StringVar(&c.kmsURI, "kms", "", "key URI of the code-signing key in a real KMS (awskms:..., localkms:..., pkcs11:...); default: a new ML-DSA-65 key in the embedded KMS")
	fl.BoolVar(&c.dual, "dual", false, "also sign with an ECDSA P-256 key under a classical chain")
	if err := fl.Parse(args); err != nil {
		return nil, err
	}
	if fl.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fl.Args())
	}
	return c, nil
}

func run(ctx context.Context, args []string, stdout io.Writer) (*outcome, error) {
	cfg, err := parseFlags(args)
	if err != nil {
		return nil, err
	}
	say := func(format string, a ...any) { fmt.Fprintf(stdout, format+"\n", a...) }
	if cfg.out == "" {
		if cfg.out, err = os.MkdirTemp("", "pqcodesign-"); err != nil {
			return nil, err
		}
	} else if err := os.MkdirAll(cfg.out, 0o755); err != nil {
		return nil, err
	}
	say("output directory: %s", cfg.out)
	now := time.Now()
	kms := localkms.NewMemory(nil)

	// 1–2. The ML-DSA-65 PKI, keys in the KMS; the leaf is issued from a CSR made over the KMS key.
	pq, err := newPKI(ctx, kms, "ML_DSA_65", "pqcodesign ML-DSA-65", now)
	if err != nil {
		return nil, err
	}
	var leafKey *kmssigner.Signer
	if cfg.kmsURI != "" {
		if leafKey, err = kmssigner.Open(ctx, cfg.kmsURI); err != nil {
			return nil, fmt.Errorf("open %s: %w", cfg.kmsURI, err)
		}
		say("code-signing key: %s (%T)", cfg.kmsURI, leafKey.Public())
	} else if leafKey, err = newKMSKey(ctx, kms, "ML_DSA_65", "pqcodesign code signing"); err != nil {
		return nil, err
	}
	signers := []*cms.Signer{}
	pqSigner, err := pq.issueCodeSigner(ctx, leafKey, "pqcodesign signer", now)
	if err != nil {
		return nil, err
	}
	signers = append(signers, pqSigner)
	say("PKI: %s → %s → %s (%s)", pq.root.Subject.CommonName, pq.sub.Subject.CommonName,
		pqSigner.Certificate().Subject.CommonName, pqSigner.Algorithm())
	roots := []*x509ext.Certificate{pq.root}
	chain := []*x509ext.Certificate{pq.sub}
	leaves := []*x509ext.Certificate{pqSigner.Certificate()}
	if cfg.dual {
		ec, err := newPKI(ctx, kms, "ECC_NIST_P256", "pqcodesign ECDSA P-256", now)
		if err != nil {
			return nil, err
		}
		ecKey, err := newKMSKey(ctx, kms, "ECC_NIST_P256", "pqcodesign classical code signing")
		if err != nil {
			return nil, err
		}
		ecSigner, err := ec.issueCodeSigner(ctx, ecKey, "pqcodesign classical signer", now)
		if err != nil {
			return nil, err
		}
		signers = append(signers, ecSigner)
		roots, chain = append(roots, ec.root), append(chain, ec.sub)
		leaves = append(leaves, ecSigner.Certificate())
		say("PKI: %s → %s → %s (%s)", ec.root.Subject.CommonName, ec.sub.Subject.CommonName,
			ecSigner.Certificate().Subject.CommonName, ecSigner.Algorithm())
	}

	// The file: given, or a generated sample binary.
	var file string
	if cfg.in != "" {
		file = filepath.Join(cfg.out, filepath.Base(cfg.in))
		if err := copyFile(cfg.in, file); err != nil {
			return nil, err
		}
	} else {
		file = filepath.Join(cfg.out, "sample.bin")
		if err := writeSampleBinary(file); err != nil {
			return nil, err
		}
	}

	// 3. Sign, streaming the file.
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	sig, err := cms.Sign(ctx, f, signers, &cms.SignOptions{Time: now})
	f.Close()
	if err != nil {
		return nil, err
	}
	sigFile := file + ".p7s"
	if err := os.WriteFile(sigFile, sig, 0o644); err != nil {
		return nil, err
	}
	say("signed %s → %s (%d bytes, %d signer(s))", filepath.Base(file), filepath.Base(sigFile), len(sig), len(signers))

	// 4. Verify with only the roots trusted; every signer must verify.
	store := truststore.NewStore(roots...)
	f, err = os.Open(file)
	if err != nil {
		return nil, err
	}
	res, err := cms.Verify(sig, f, cms.VerifyOptions{Store: store})
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("verification failed: %w", err)
	}
	for _, s := range res.Signers {
		names := make([]string, len(s.Chain))
		for i, c := range s.Chain {
			names[i] = c.Subject.CommonName
		}
		say("verified signer %d: %s with %s, chain %s", s.Index, s.Algorithm, s.Digest, strings.Join(names, " ← "))
	}

	// 5. Files and the independent check.
	for name, certs := range map[string][]*x509ext.Certificate{"root.pem": roots, "chain.pem": chain, "leaf.pem": leaves} {
		if err := writeCerts(filepath.Join(cfg.out, name), certs); err != nil {
			return nil, err
		}
	}
	base := filepath.Base(file)
	opensslArgs := []string{"cms", "-verify", "-binary", "-inform", "DER", "-in", base + ".p7s", "-content", base,
		"-CAfile", "root.pem", "-purpose", "codesign", "-out", "/dev/null"}
	say("wrote root.pem, chain.pem, leaf.pem, %s, %s.p7s", base, base)
	say("check it with OpenSSL 3.5 (the chain is embedded, so only the root is needed):")
	say("  cd %s && openssl %s", cfg.out, strings.Join(opensslArgs, " "))
	return &outcome{dir: cfg.out, file: file, sig: sigFile, opensslArgs: opensslArgs, result: res}, nil
}

// pki is a root and a subordinate CA whose keys live in the KMS.
type pki struct {
	root, sub *x509ext.Certificate
	subKey    crypto.Signer
}

func newKMSKey(ctx context.Context, kms *localkms.KMS, spec, description string) (*kmssigner.Signer, error) {
	out, err := kms.CreateKey(ctx, &localkms.CreateKeyInput{KeySpec: spec, KeyUsage: "SIGN_VERIFY", Description: description})
	if err != nil {
		return nil, fmt.Errorf("create %s key: %w", spec, err)
	}
	return kmssigner.New(ctx, kms, out.KeyMetadata.KeyId, nil)
}

func newPKI(ctx context.Context, kms *localkms.KMS, spec, name string, now time.Time) (*pki, error) {
	rootKey, err := newKMSKey(ctx, kms, spec, name+" root CA")
	if err != nil {
		return nil, err
	}
	subKey, err := newKMSKey(ctx, kms, spec, name+" subordinate CA")
	if err != nil {
		return nil, err
	}
	root, err := x509ext.SelfSign(ctx, rootKey, &x509ext.IssueRequest{
		Profile: x509ext.RootCACertificateV1, Subject: pkix.Name{Organization: []string{"pkikit example"}, CommonName: name + " Root CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(10, 0, 0)})
	if err != nil {
		return nil, fmt.Errorf("root CA: %w", err)
	}
	sub, err := (&x509ext.Issuer{Certificate: root, Signer: rootKey}).Issue(ctx, &x509ext.IssueRequest{
		Profile: x509ext.SubordinateCACertificatePathLen0V1, PublicKey: subKey.Public(),
		Subject:   pkix.Name{Organization: []string{"pkikit example"}, CommonName: name + " Code Signing CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(5, 0, 0)})
	if err != nil {
		return nil, fmt.Errorf("subordinate CA: %w", err)
	}
	return &pki{root: root, sub: sub, subKey: subKey}, nil
}

// issueCodeSigner makes a CSR over key (signed by the KMS), issues the code-signing certificate from it and
// returns the CMS signer.
func (p *pki) issueCodeSigner(ctx context.Context, key crypto.Signer, cn string, now time.Time) (*cms.Signer, error) {
	reqDER, err := csr.Create(ctx, key, &csr.Template{Subject: pkix.Name{Organization: []string{"pkikit example"}, CommonName: cn}})
	if err != nil {
		return nil, fmt.Errorf("CSR: %w", err)
	}
	req, err := csr.Parse(reqDER)
	if err != nil {
		return nil, err
	}
	if err := req.CheckSignature(); err != nil {
		return nil, err
	}
	leaf, err := (&x509ext.Issuer{Certificate: p.sub, Signer: p.subKey}).Issue(ctx, &x509ext.IssueRequest{
		Profile: x509ext.CodeSigningCertificateV1, CSR: req.CertificateRequest,
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0)})
	if err != nil {
		return nil, fmt.Errorf("code-signing certificate: %w", err)
	}
	return cms.NewSigner(key, leaf, &cms.SignerOptions{Intermediates: []*x509ext.Certificate{p.sub}})
}

func writeCerts(path string, certs []*x509ext.Certificate) error {
	var b strings.Builder
	for _, c := range certs {
		b.Write(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

func copyFile(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	if fi, err := src.Stat(); err != nil {
		return err
	} else if !fi.Mode().IsRegular() {
		return errors.New(from + " is not a regular file")
	}
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}

// writeSampleBinary writes a small ELF-looking file of random bytes to sign.
func writeSampleBinary(path string) error {
	b := make([]byte, 256<<10)
	rand.Read(b)
	copy(b, "\x7fELF\x02\x01\x01\x00pkikit pqcodesign sample binary\x00")
	return os.WriteFile(path, b, 0o755)
}
