package main

import (
	"context"
	"crypto"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pkikit/pkikit/csr"
	"github.com/pkikit/pkikit/x509ext"
)

// The CA service's HTTP API (loopback only; see README "What it does not do" for authentication):
//
//	POST /v1/certificates?validity=6s   body: DER PKCS#10 request (Content-Type application/pkcs10)
//	  201 → application/pem-certificate-chain: the leaf, then the CA certificate
//	  400 bad request, 403 refused by policy, 503 busy, 500 CA failure (the body says why, never a secret)
//	GET  /v1/ca.pem                     the CA certificate
const (
	pathIssue = "/v1/certificates"
	pathCA    = "/v1/ca.pem"

	maxCSRSize  = 64 << 10
	maxDNSNames = 8
	// minValidity: certificate times have one-second resolution; below 2 s a renewal at 2/3 makes no sense.
	minValidity = 2 * time.Second
)

// caPolicy is what the example CA allows.
type caPolicy struct {
	// MaxValidity bounds the requested lifetime (short-lived certificates: default 1 h).
	MaxValidity time.Duration
	// DNSSuffixes: every requested DNS name must be one of these domains or below one.
	DNSSuffixes []string
}

// caService issues short-lived end-entity certificates from CSRs, with its key in a KMS.
type caService struct {
	issuer  *x509ext.Issuer
	records *recordStore
	policy  caPolicy
	now     func() time.Time
	// sem bounds the issuances in flight (each is one KMS call and two fsyncs).
	sem chan struct{}
	// issued counts certificates returned.
	issued atomic.Int64
	// beforeReturn, when set (tests), runs after the record is durable and before the certificate is returned.
	beforeReturn func(leaf *x509ext.Certificate)
}

type caOptions struct {
	Dir         string // state: ca.pem, issued/
	Policy      caPolicy
	Now         func() time.Time
	MaxInFlight int // default 32
}

// newCA makes the CA certificate (or reuses Dir/ca.pem if it holds signer's key and is still good for a day),
// and opens the issuance record store.
func newCA(ctx context.Context, signer crypto.Signer, o caOptions) (*caService, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Policy.MaxValidity <= 0 {
		o.Policy.MaxValidity = time.Hour
	}
	if len(o.Policy.DNSSuffixes) == 0 {
		return nil, errors.New("CA policy: no allowed DNS suffix")
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = 32
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, err
	}
	caCert, err := loadOrCreateCACert(ctx, signer, o)
	if err != nil {
		return nil, err
	}
	records, err := openRecordStore(filepath.Join(o.Dir, "issued"))
	if err != nil {
		return nil, err
	}
	return &caService{
		issuer: &x509ext.Issuer{
			Certificate: caCert,
			Signer:      signer,
			Now:         o.Now,
			Policy: &x509ext.Policy{
				AllowedKeyAlgorithms: []x509ext.KeyAlgorithm{x509ext.KeyECDSAP256, x509ext.KeyECDSAP384,
					x509ext.KeyRSA2048, x509ext.KeyRSA3072, x509ext.KeyRSA4096},
				AllowedProfiles:    []string{x509ext.EndEntityCertificateV1.Name},
				DenyWildcardNames:  true,
				AllowedDNSSuffixes: o.Policy.DNSSuffixes,
				MaxValidity:        o.Policy.MaxValidity,
				DenyCA:             true,
			},
		},
		records: records,
		policy:  o.Policy,
		now:     o.Now,
		sem:     make(chan struct{}, o.MaxInFlight),
	}, nil
}

func loadOrCreateCACert(ctx context.Context, signer crypto.Signer, o caOptions) (*x509ext.Certificate, error) {
	path := filepath.Join(o.Dir, caFile)
	if data, err := os.ReadFile(path); err == nil {
		if chain, err := parseChainPEM(data); err == nil && len(chain) == 1 &&
			publicKeysEqual(chain[0].PublicKey, signer.Public()) && o.Now().Add(24*time.Hour).Before(chain[0].NotAfter) {
			return chain[0], nil
		}
	}
	cert, err := x509ext.SelfSign(ctx, signer, &x509ext.IssueRequest{
		Profile:  x509ext.RootCACertificateV1,
		Subject:  pkix.Name{CommonName: "containercert example CA", Organization: []string{"pkikit examples"}},
		Validity: 365 * 24 * time.Hour,
		Now:      o.Now,
	})
	if err != nil {
		return nil, err
	}
	if err := writeFileAtomic(path, encodePEM("CERTIFICATE", cert.Raw), 0o644); err != nil {
		return nil, err
	}
	return cert, syncDir(o.Dir)
}

// Certificate returns the CA certificate.
func (c *caService) Certificate() *x509ext.Certificate { return c.issuer.Certificate }

// Issue checks a CSR against the policy, issues a certificate valid for validity from now, makes its
// issuance record durable, and only then returns the certificate (leaf, CA).
func (c *caService) Issue(ctx context.Context, csrDER []byte, validity time.Duration, requester string) ([]*x509ext.Certificate, error) {
	req, err := csr.Parse(csrDER)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errBadRequest, err)
	}
	if err := req.CheckSignature(); err != nil {
		return nil, fmt.Errorf("%w: %w", errBadRequest, err)
	}
	switch {
	case validity < minValidity:
		return nil, fmt.Errorf("%w: validity under %v", errBadRequest, minValidity)
	case validity > c.policy.MaxValidity:
		return nil, fmt.Errorf("%w: validity %v over the maximum %v", errRefused, validity, c.policy.MaxValidity)
	case len(req.DNSNames) == 0:
		return nil, fmt.Errorf("%w: the request names no DNS name", errRefused)
	case len(req.DNSNames) > maxDNSNames:
		return nil, fmt.Errorf("%w: more than %d DNS names", errRefused, maxDNSNames)
	case len(req.EmailAddresses)+len(req.IPAddresses)+len(req.URIs) != 0:
		return nil, fmt.Errorf("%w: only DNS names may be requested", errRefused)
	}
	select {
	case c.sem <- struct{}{}:
		defer func() { <-c.sem }()
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %w", errBusy, ctx.Err())
	}
	for attempt := 0; ; attempt++ {
		notBefore := c.now().Truncate(time.Second)
		// The subject is the CA's choice (CN = first DNS name), never the request's; the profile fixes key
		// usage and extended key usage whatever the request asks for.
		leaf, err := c.issuer.Issue(ctx, &x509ext.IssueRequest{
			Profile:  x509ext.EndEntityCertificateV1,
			CSR:      req.CertificateRequest,
			Subject:  pkix.Name{CommonName: req.DNSNames[0]},
			DNSNames: req.DNSNames,
			// Certificate times have one-second resolution: start at the current whole second and last exactly
			// the validity asked for (in whole seconds), so that no fraction is lost to truncation.
			NotBefore: notBefore,
			NotAfter:  notBefore.Add(validity.Truncate(time.Second)),
		})
		if errors.Is(err, x509ext.ErrPolicy) || errors.Is(err, x509ext.ErrProfileKeyMismatch) ||
			errors.Is(err, x509ext.ErrProfileRequirement) {
			return nil, fmt.Errorf("%w: %w", errRefused, err)
		}
		if errors.Is(err, x509ext.ErrBadCSR) {
			return nil, fmt.Errorf("%w: %w", errBadRequest, err)
		}
		if err != nil {
			return nil, err
		}
		err = c.records.add(&record{
			Serial:    hex.EncodeToString(leaf.SerialNumber.Bytes()),
			IssuedAt:  c.now().UTC(),
			Requester: requester,
			DNSNames:  leaf.DNSNames,
			NotBefore: leaf.NotBefore.UTC(),
			NotAfter:  leaf.NotAfter.UTC(),
			DER:       leaf.Raw,
		})
		if errors.Is(err, os.ErrExist) && attempt < 3 {
			continue // a serial already used (2^-126 per pair): this certificate never leaves; issue another
		}
		if err != nil {
			return nil, err
		}
		c.issued.Add(1)
		if c.beforeReturn != nil {
			c.beforeReturn(leaf)
		}
		return []*x509ext.Certificate{leaf, c.issuer.Certificate}, nil
	}
}

func (c *caService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == pathCA && r.Method == http.MethodGet:
		w.Header().Set("Content-Type", "application/pem-certificate-chain")
		w.Write(encodePEM("CERTIFICATE", c.issuer.Certificate.Raw))
	case r.URL.Path == pathIssue && r.Method == http.MethodPost:
		validity, err := time.ParseDuration(r.URL.Query().Get("validity"))
		if err != nil {
			http.Error(w, "validity: want a Go duration such as 6s", http.StatusBadRequest)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxCSRSize+1))
		if err != nil {
			http.Error(w, "reading the request failed", http.StatusBadRequest)
			return
		}
		if len(body) > maxCSRSize {
			http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
			return
		}
		chain, err := c.Issue(r.Context(), body, validity, r.RemoteAddr)
		if err != nil {
			status := http.StatusInternalServerError
			switch {
			case errors.Is(err, errBadRequest):
				status = http.StatusBadRequest
			case errors.Is(err, errRefused):
				status = http.StatusForbidden
			case errors.Is(err, errBusy):
				status = http.StatusServiceUnavailable
			}
			http.Error(w, err.Error(), status)
			return
		}
		ders := make([][]byte, len(chain))
		for i, cert := range chain {
			ders[i] = cert.Raw
		}
		w.Header().Set("Content-Type", "application/pem-certificate-chain")
		w.WriteHeader(http.StatusCreated)
		w.Write(encodePEM("CERTIFICATE", ders...))
	default:
		http.NotFound(w, r)
	}
}

// record is one issuance record: issued/<serial hex>.json.
type record struct {
	Serial    string    `json:"serial"`
	IssuedAt  time.Time `json:"issued_at"`
	Requester string    `json:"requester"`
	DNSNames  []string  `json:"dns_names"`
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
	DER       []byte    `json:"certificate"` // base64 DER
}

// recordStore keeps one file per issued certificate. A record is written to a temp file, fsynced, then
// hard-linked to its final name (link fails if the name exists: a serial can never be recorded twice, and an
// existing record is never overwritten), and the directory is fsynced — all before the certificate is returned.
// A crash at any point leaves complete records and at most .tmp-* files, which openRecordStore removes.
type recordStore struct{ dir string }

func openRecordStore(dir string) (*recordStore, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".tmp-") {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
	return &recordStore{dir: dir}, nil
}

func (s *recordStore) add(r *record) error {
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(s.dir, ".tmp-record-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if _, err := f.Write(append(data, '\n')); err != nil {
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
	if err := os.Link(tmp, filepath.Join(s.dir, r.Serial+".json")); err != nil {
		return err // os.ErrExist when the serial is taken
	}
	return syncDir(s.dir)
}

// readRecords reads and checks every record of a store: each must parse, hold a certificate that parses, and
// carry that certificate's serial in its name. It returns them by serial.
func readRecords(dir string) (map[string]*record, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*record)
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".tmp-") {
			continue // not a record: a write that had not been linked when the CA stopped
		}
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		var r record
		if err := json.Unmarshal(data, &r); err != nil {
			return nil, fmt.Errorf("record %s: %w", name, err)
		}
		cert, err := x509ext.ParseCertificate(r.DER)
		if err != nil {
			return nil, fmt.Errorf("record %s: %w", name, err)
		}
		if serial := hex.EncodeToString(cert.SerialNumber.Bytes()); name != serial+".json" || r.Serial != serial {
			return nil, fmt.Errorf("record %s: names serial %s, certificate has %s", name, r.Serial, serial)
		}
		out[r.Serial] = &r
	}
	return out, nil
}

// serialHex is the record key of a certificate.
func serialHex(n *big.Int) string { return hex.EncodeToString(n.Bytes()) }
