package main

import (
	"context"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pkikit/pkikit/x509ext"
)

type options struct {
	OutDir     string
	RootConfig string // path; "" = embedded sample
	SubConfig  string
	DNSNames   []string
	ServerKey  string
	OpenSSL    string
	Now        func() time.Time // nil = time.Now
}

// command is one printed check: argv with the OpenSSL binary first.
type command []string

func (c command) String() string {
	q := make([]string, len(c))
	for i, a := range c {
		if a == "" || strings.ContainsAny(a, " \t'\"$\\;&|<>*?()") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		q[i] = a
	}
	return strings.Join(q, " ")
}

type result struct {
	Dir      string
	Files    []string
	Commands []command
	Root     *x509ext.Issuer
	Sub      *x509ext.Issuer
	Server   *x509ext.Certificate
	CRL      *x509ext.CRL
}

var serverKeyAlgorithms = map[string]x509ext.KeyAlgorithm{
	"RSA_2048": x509ext.KeyRSA2048, "RSA_3072": x509ext.KeyRSA3072, "RSA_4096": x509ext.KeyRSA4096,
	"EC_prime256v1": x509ext.KeyECDSAP256, "EC_secp384r1": x509ext.KeyECDSAP384, "EC_secp521r1": x509ext.KeyECDSAP521,
	"ML_DSA_44": x509ext.KeyMLDSA44, "ML_DSA_65": x509ext.KeyMLDSA65, "ML_DSA_87": x509ext.KeyMLDSA87,
	"ED25519": x509ext.KeyEd25519,
}

func readConfig(path string, def []byte) (*x509ext.CAConfig, error) {
	data := def
	if path != "" {
		var err error
		if data, err = os.ReadFile(path); err != nil {
			return nil, err
		}
	}
	cfg, err := x509ext.ParseCAConfig(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", firstNonEmpty(path, "sample config"), err)
	}
	return cfg, nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func build(ctx context.Context, o options) (*result, error) {
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	if o.OpenSSL == "" {
		o.OpenSSL = "openssl"
	}
	if len(o.DNSNames) == 0 {
		return nil, errors.New("no DNS names for the server certificate")
	}
	serverKT, ok := serverKeyAlgorithms[o.ServerKey]
	if !ok {
		return nil, fmt.Errorf("unknown server key algorithm %q", o.ServerKey)
	}
	rootCfg, err := readConfig(o.RootConfig, defaultRootConfig)
	if err != nil {
		return nil, err
	}
	subCfg, err := readConfig(o.SubConfig, defaultSubConfig)
	if err != nil {
		return nil, err
	}
	dir := o.OutDir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "privateca-"); err != nil {
			return nil, err
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	res := &result{Dir: dir}
	start := now().UTC().Truncate(time.Second)

	// Root CA: 10 years, RootCACertificate/V1.
	rootKey, err := rootCfg.GenerateKey()
	if err != nil {
		return nil, err
	}
	root, err := rootCfg.NewRoot(ctx, rootKey, start, 10*365*24*time.Hour)
	if err != nil {
		return nil, fmt.Errorf("root CA: %w", err)
	}
	root.Now = now

	// Subordinate CA: 5 years, SubordinateCACertificate_PathLen0/V1.
	subKey, err := subCfg.GenerateKey()
	if err != nil {
		return nil, err
	}
	sub, err := subCfg.NewSubordinate(ctx, root, subKey, x509ext.SubordinateCACertificatePathLen0V1, 5*365*24*time.Hour)
	if err != nil {
		return nil, fmt.Errorf("subordinate CA: %w", err)
	}
	sub.Now = now
	crlDP := subCfg.CRL.DistributionPoint("issuing-ca-1.crl")

	// TLS server certificate: 13 months, EndEntityServerAuthCertificate/V1. ML-DSA and Ed25519 keys cannot have
	// keyEncipherment (RFC 9881 §5, RFC 8410 §5), so for them the profile keeps digitalSignature only.
	profile := x509ext.EndEntityServerAuthCertificateV1
	if fam := serverKT.DefaultAlgorithm(); fam.IsPostQuantum() || serverKT == x509ext.KeyEd25519 {
		profile.KeyUsage = x509.KeyUsageDigitalSignature
	}
	serverKey, err := x509ext.GenerateKey(serverKT)
	if err != nil {
		return nil, err
	}
	req := &x509ext.IssueRequest{Profile: profile, PublicKey: serverKey.Public(),
		Subject: pkix.Name{CommonName: o.DNSNames[0]}, DNSNames: o.DNSNames, Validity: 395 * 24 * time.Hour}
	if crlDP != "" {
		req.CRLDistributionPoints = []string{crlDP}
	}
	server, err := sub.Issue(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("server certificate: %w", err)
	}

	// A second server certificate, revoked at once, so that the CRL has an entry.
	req.PublicKey = serverKey.Public()
	old, err := sub.Issue(ctx, req)
	if err != nil {
		return nil, err
	}
	days := subCfg.CRL.ExpirationInDays
	if days == 0 {
		days = 7
	}
	crl, err := sub.CreateCRL(ctx, &x509ext.CRLRequest{Number: big.NewInt(1), Validity: time.Duration(days) * 24 * time.Hour,
		Revoked: []x509ext.RevokedCertificate{{SerialNumber: old.SerialNumber, RevocationTime: start, Reason: x509ext.ReasonSuperseded}}})
	if err != nil {
		return nil, fmt.Errorf("CRL: %w", err)
	}
	res.Root, res.Sub, res.Server, res.CRL = root, sub, server, crl

	write := func(name string, data []byte, mode os.FileMode) error {
		p := filepath.Join(dir, name)
		if err := writeFileAtomic(p, data, mode); err != nil {
			return err
		}
		res.Files = append(res.Files, p)
		return nil
	}
	certPEM := func(c ...*x509ext.Certificate) []byte {
		var out []byte
		for _, x := range c {
			out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: x.Raw})...)
		}
		return out
	}
	keyPEM := func(k crypto.Signer) ([]byte, error) {
		der, err := x509ext.MarshalPKCS8PrivateKey(k)
		if err != nil {
			return nil, err
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
	}
	for _, f := range []struct {
		name string
		key  crypto.Signer
	}{{"root.key", rootKey}, {"sub.key", subKey}, {"server.key", serverKey}} {
		b, err := keyPEM(f.key)
		if err != nil {
			return nil, err
		}
		if err := write(f.name, b, 0o600); err != nil {
			return nil, err
		}
	}
	for _, f := range []struct {
		name string
		data []byte
	}{
		{"root.pem", certPEM(root.Certificate)},
		{"sub.pem", certPEM(sub.Certificate)},
		{"server.pem", certPEM(server)},
		{"chain.pem", certPEM(sub.Certificate, root.Certificate)},
		{"sub.crl.pem", pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: crl.Raw})},
	} {
		if err := write(f.name, f.data, 0o644); err != nil {
			return nil, err
		}
	}
	p := func(n string) string { return filepath.Join(dir, n) }
	res.Commands = []command{
		{o.OpenSSL, "verify", "-CAfile", p("root.pem"), "-untrusted", p("sub.pem"), "-purpose", "sslserver", p("server.pem")},
		{o.OpenSSL, "crl", "-in", p("sub.crl.pem"), "-CAfile", p("chain.pem"), "-verify", "-noout"},
		{o.OpenSSL, "x509", "-in", p("server.pem"), "-noout", "-text"},
	}
	return res, nil
}

// writeFileAtomic writes data to a temporary file in the same directory with the final mode, syncs it and
// renames it into place, so a reader never sees a partial key file and the key is never world-readable.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after the rename
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
