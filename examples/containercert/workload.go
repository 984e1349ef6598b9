package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pkikit/pkikit/csr"
	"github.com/pkikit/pkikit/truststore"
	"github.com/pkikit/pkikit/x509ext"
)

// workload is what runs inside a container at start-up: it gets a key and a certificate into Dir and keeps
// them fresh.
type workload struct {
	Dir      string
	DNSNames []string
	Lifetime time.Duration
	CAURL    string               // http://host:port of the CA service
	Root     *x509ext.Certificate // the CA certificate the issued chain must verify to
	KeyAlg   x509ext.KeyAlgorithm // zero: ECDSA P-256
	HTTP     *http.Client         // nil: http.DefaultClient

	// Now and Sleep are the clock (tests inject one); nil means time.Now and a timer that honours ctx.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// Logf reports progress; nil is silent.
	Logf func(format string, args ...any)
}

func (w *workload) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

func (w *workload) logf(format string, args ...any) {
	if w.Logf != nil {
		w.Logf(format, args...)
	}
}

func (w *workload) sleep(ctx context.Context, d time.Duration) error {
	if w.Sleep != nil {
		return w.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// obtain is one start-up or renewal: a new key pair in memory, a CSR, a certificate from the CA (checked to
// chain to Root and to hold our key and names), and an atomic install into Dir. On any error nothing in Dir
// changes: the certificate in place stays in place.
func (w *workload) obtain(ctx context.Context) (*pair, error) {
	ka := w.KeyAlg
	if ka == 0 {
		ka = x509ext.KeyECDSAP256
	}
	key, err := x509ext.GenerateKey(ka)
	if err != nil {
		return nil, err
	}
	der, err := csr.Create(ctx, key, &csr.Template{
		Subject:  pkix.Name{CommonName: w.DNSNames[0]},
		DNSNames: w.DNSNames,
	})
	if err != nil {
		return nil, err
	}
	chain, err := w.request(ctx, der)
	if err != nil {
		return nil, err
	}
	if err := w.check(key, chain); err != nil {
		return nil, err
	}
	vdir, err := install(w.Dir, key, chain)
	if err != nil {
		return nil, err
	}
	return &pair{Dir: vdir, Key: key, Chain: chain}, nil
}

func (w *workload) request(ctx context.Context, csrDER []byte) ([]*x509ext.Certificate, error) {
	u := strings.TrimSuffix(w.CAURL, "/") + pathIssue + "?validity=" + url.QueryEscape(w.Lifetime.String())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(csrDER))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/pkcs10")
	client := w.HTTP
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusCreated {
		return nil, &caHTTPError{Status: resp.StatusCode, Message: strings.TrimSpace(string(body))}
	}
	return parseChainPEM(body)
}

// check refuses a chain that does not hold our key, our names, the lifetime asked for, or that does not verify
// to Root. It never trusts the CA certificate the response carries: Root comes from configuration.
func (w *workload) check(key crypto.Signer, chain []*x509ext.Certificate) error {
	if len(chain) < 2 || !bytes.Equal(chain[len(chain)-1].Raw, w.Root.Raw) {
		return errors.New("issued certificate: the chain does not end at the configured CA certificate")
	}
	leaf := chain[0]
	if !publicKeysEqual(key.Public(), leaf.PublicKey) {
		return fmt.Errorf("issued certificate: %w", errMismatch)
	}
	if got := leaf.NotAfter.Sub(leaf.NotBefore); got > w.Lifetime+time.Second {
		return fmt.Errorf("issued certificate: lifetime %v, asked for %v", got, w.Lifetime)
	}
	store := truststore.NewStore(w.Root)
	for _, name := range w.DNSNames {
		if _, err := store.Verify(leaf, truststore.VerifyOptions{
			Time: w.now(), Purpose: truststore.PurposeTLSServer, Name: name, Intermediates: chain[1:],
		}); err != nil {
			return fmt.Errorf("issued certificate: %w", err)
		}
	}
	return nil
}

// renewAt is two thirds into the certificate's lifetime.
func renewAt(leaf *x509ext.Certificate) time.Time {
	return leaf.NotBefore.Add(leaf.NotAfter.Sub(leaf.NotBefore) * 2 / 3)
}

// run starts the workload (first certificate) and renews it renewals times (renewals < 0: until ctx ends).
// A failed renewal is retried with backoff while the old certificate stays in place; with renewals >= 0 run
// gives up when the old certificate has expired. onInstall, when set, is called after every install.
func (w *workload) run(ctx context.Context, renewals int, onInstall func(*pair)) error {
	if len(w.DNSNames) == 0 || w.Lifetime <= 0 || w.Root == nil || w.Dir == "" {
		return errors.New("workload: DNS names, lifetime, CA certificate and directory are required")
	}
	p, err := w.obtain(ctx)
	if err != nil {
		return fmt.Errorf("start-up: %w", err)
	}
	leaf := p.Chain[0]
	w.logf("start-up: certificate %s for %v, valid %s → %s, in %s", serialHex(leaf.SerialNumber), leaf.DNSNames,
		leaf.NotBefore.Format(time.TimeOnly), leaf.NotAfter.Format(time.TimeOnly), p.Dir)
	if onInstall != nil {
		onInstall(p)
	}
	for i := 0; renewals < 0 || i < renewals; i++ {
		at := renewAt(leaf)
		w.logf("renewal %d due at %s (2/3 of %v)", i+1, at.Format(time.TimeOnly), leaf.NotAfter.Sub(leaf.NotBefore))
		if err := w.sleep(ctx, at.Sub(w.now())); err != nil {
			return err
		}
		for {
			p, err = w.obtain(ctx)
			if err == nil {
				break
			}
			remaining := leaf.NotAfter.Sub(w.now())
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if remaining <= 0 && renewals >= 0 {
				return fmt.Errorf("renewal %d: certificate expired while renewing: %w", i+1, err)
			}
			backoff := min(max(remaining/4, 200*time.Millisecond), time.Minute)
			w.logf("renewal %d failed (%v); the current certificate stays in place, retrying in %v", i+1, err, backoff)
			if err := w.sleep(ctx, backoff); err != nil {
				return err
			}
		}
		old := leaf
		leaf = p.Chain[0]
		w.logf("renewal %d: certificate %s replaces %s, valid %s → %s, in %s", i+1, serialHex(leaf.SerialNumber),
			serialHex(old.SerialNumber), leaf.NotBefore.Format(time.TimeOnly), leaf.NotAfter.Format(time.TimeOnly), p.Dir)
		if onInstall != nil {
			onInstall(p)
		}
	}
	return nil
}
