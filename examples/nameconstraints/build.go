package main

import (
	"context"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pkikit/pkikit/nameconstraints"
	"github.com/pkikit/pkikit/truststore"
	"github.com/pkikit/pkikit/x509ext"
)

type options struct {
	Permitted, Excluded string
	Allow, Deny         string
	OutDir              string
	OpenSSL             string
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

type result struct {
	Dir          string
	Files        []string
	Constraints  *nameconstraints.Constraints
	JSON         []byte
	Root, Sub    *x509ext.Certificate
	Allowed      *x509ext.Certificate
	Denied       *x509ext.Certificate
	AllowErr     error // truststore's verdict on the allowed leaf (nil: valid)
	DenyErr      error // truststore's verdict on the excluded leaf (must match truststore.ErrNameConstraint)
	AllowCommand command
	DenyCommand  command
}

// command is an argv that prints as a shell command line.
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

func build(ctx context.Context, o options) (*result, error) {
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	if o.OpenSSL == "" {
		o.OpenSSL = "openssl"
	}
	permitted, err := nameconstraints.ParseSubtreeList(o.Permitted)
	if err != nil {
		return nil, fmt.Errorf("-p: %w", err)
	}
	excluded, err := nameconstraints.ParseSubtreeList(o.Excluded)
	if err != nil {
		return nil, fmt.Errorf("-e: %w", err)
	}
	nc := &nameconstraints.Constraints{Permitted: permitted, Excluded: excluded}
	js, err := nc.MarshalAPIPassthrough()
	if err != nil {
		return nil, err
	}
	dir := o.OutDir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "nameconstraints-"); err != nil {
			return nil, err
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	res := &result{Dir: dir, Constraints: nc, JSON: js}
	if err := writeFile(res, "api_passthrough_config.json", js); err != nil {
		return nil, err
	}

	// The CA hierarchy, keys in memory only (nothing here needs them on disk).
	start := now().Add(-time.Minute)
	rootKey, err := x509ext.GenerateKey(x509ext.KeyECDSAP256)
	if err != nil {
		return nil, err
	}
	res.Root, err = x509ext.SelfSign(ctx, rootKey, &x509ext.IssueRequest{
		Profile: x509ext.RootCACertificateV1, Subject: pkix.Name{Organization: []string{"Example"}, CommonName: "Example Root CA"},
		NotBefore: start, Validity: 48 * time.Hour,
	})
	if err != nil {
		return nil, fmt.Errorf("root: %w", err)
	}
	// The subordinate gets the extension through the API-passthrough JSON, as AWS Private CA would apply it.
	pass, err := x509ext.ParseAPIPassthrough(js)
	if err != nil {
		return nil, fmt.Errorf("x509ext reading %s: %w", "api_passthrough_config.json", err)
	}
	subKey, err := x509ext.GenerateKey(x509ext.KeyECDSAP256)
	if err != nil {
		return nil, err
	}
	root := &x509ext.Issuer{Certificate: res.Root, Signer: rootKey, Now: now}
	res.Sub, err = root.Issue(ctx, &x509ext.IssueRequest{
		Profile:   x509ext.SubordinateCACertificatePathLen0APIPassthroughV1,
		PublicKey: subKey.Public(), Subject: pkix.Name{Organization: []string{"Example"}, CommonName: "Example Constrained Sub CA"},
		NotBefore: start, Validity: 24 * time.Hour, APIPassthrough: pass,
	})
	if err != nil {
		return nil, fmt.Errorf("subordinate: %w", err)
	}
	if got, err := nameconstraints.FromCertificate(res.Sub.Certificate); err != nil || got == nil {
		return nil, fmt.Errorf("subordinate certificate lacks the name constraints (%v)", err)
	}
	sub := &x509ext.Issuer{Certificate: res.Sub, Signer: subKey, Now: now}
	if res.Allowed, err = issueLeaf(ctx, sub, o.Allow, start); err != nil {
		return nil, fmt.Errorf("leaf %q: %w", o.Allow, err)
	}
	if res.Denied, err = issueLeaf(ctx, sub, o.Deny, start); err != nil {
		return nil, fmt.Errorf("leaf %q: %w", o.Deny, err)
	}

	store := truststore.NewStore(res.Root)
	vopts := truststore.VerifyOptions{Time: now(), Purpose: truststore.PurposeAny, Intermediates: []*x509ext.Certificate{res.Sub}}
	_, res.AllowErr = store.Verify(res.Allowed, vopts)
	_, res.DenyErr = store.Verify(res.Denied, vopts)
	if res.AllowErr != nil {
		return nil, fmt.Errorf("-allow %s is not allowed by %s: %w", o.Allow, nc, res.AllowErr)
	}
	if !errors.Is(res.DenyErr, truststore.ErrNameConstraint) {
		return nil, fmt.Errorf("-deny %s is not refused by the name constraints %s (truststore: %v)", o.Deny, nc, res.DenyErr)
	}

	for _, f := range []struct {
		name string
		c    *x509ext.Certificate
	}{{"root.pem", res.Root}, {"sub.pem", res.Sub}, {"allowed.pem", res.Allowed}, {"denied.pem", res.Denied}} {
		if err := writeFile(res, f.name, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.c.Raw})); err != nil {
			return nil, err
		}
	}
	verify := func(leaf string) command {
		return command{o.OpenSSL, "verify", "-CAfile", filepath.Join(dir, "root.pem"), "-untrusted",
			filepath.Join(dir, "sub.pem"), filepath.Join(dir, leaf)}
	}
	res.AllowCommand, res.DenyCommand = verify("allowed.pem"), verify("denied.pem")
	return res, nil
}

// issueLeaf issues an end-entity certificate whose only subjectAltName is name (an IP address, an email address
// with '@', a URI with "://", otherwise a DNS name). The CN has a space so that no verifier reads it as a host.
func issueLeaf(ctx context.Context, sub *x509ext.Issuer, name string, start time.Time) (*x509ext.Certificate, error) {
	key, err := x509ext.GenerateKey(x509ext.KeyECDSAP256)
	if err != nil {
		return nil, err
	}
	req := &x509ext.IssueRequest{
		Profile: x509ext.EndEntityCertificateV1, PublicKey: key.Public(),
		Subject:   pkix.Name{Organization: []string{"Example"}, CommonName: "leaf for " + name},
		NotBefore: start, Validity: 12 * time.Hour,
	}
	switch {
	case net.ParseIP(name) != nil:
		req.IPAddresses = []net.IP{net.ParseIP(name)}
	case strings.Contains(name, "://"):
		u, err := url.Parse(name)
		if err != nil {
			return nil, err
		}
		req.URIs = []*url.URL{u}
	case strings.Contains(name, "@"):
		req.EmailAddresses = []string{name}
	default:
		req.DNSNames = []string{name}
	}
	return sub.Issue(ctx, req)
}

// writeFile writes a public file (certificate or JSON; no key is written) atomically.
func writeFile(res *result, name string, data []byte) error {
	path := filepath.Join(res.Dir, name)
	tmp, err := os.CreateTemp(res.Dir, "."+name+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	res.Files = append(res.Files, path)
	return nil
}
