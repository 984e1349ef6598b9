package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pkikit/pkikit/truststore"
	"github.com/pkikit/pkikit/x509ext"
)

// childEnv makes the test binary run the example's main instead of the tests (TestKillCAMidRun re-executes it
// as the CA process).
const childEnv = "CONTAINERCERT_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		_, err := run(ctx, os.Args[1:], os.Stdout)
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, "containercert:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// newTestCA starts the in-process KMS (over HTTP + SigV4), a CA with its key there, and the CA's HTTP API.
func newTestCA(t testing.TB, now func() time.Time, wrap func(http.Handler) http.Handler) (*caService, string) {
	t.Helper()
	ctx := context.Background()
	key, err := openCAKey(ctx, kmsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(key.Close)
	ca, err := newCA(ctx, key.Signer, caOptions{
		Dir:    t.TempDir(),
		Now:    now,
		Policy: caPolicy{MaxValidity: time.Hour, DNSSuffixes: []string{"workloads.internal"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler = ca
	if wrap != nil {
		h = wrap(ca)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return ca, srv.URL
}

// TestDefaultFlow runs the example as `containercert` runs by default (one start-up, one renewal, 6 s lifetime)
// and checks the files it leaves: a 0600 PKCS#8 key matching the leaf, a chain that truststore verifies to the
// CA certificate the CA wrote, an issuance record for each certificate, and the printed OpenSSL command.
func TestDefaultFlow(t *testing.T) {
	t.Parallel()
	dir, caDir := filepath.Join(t.TempDir(), "w"), t.TempDir()
	var out syncBuffer
	res, err := run(context.Background(), []string{"-dir", dir, "-ca-dir", caDir}, &out)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	t.Log(out.String())
	if len(res.Installs) != 2 {
		t.Fatalf("%d installs, want start-up + one renewal", len(res.Installs))
	}
	first, second := res.Installs[0].Chain[0], res.Installs[1].Chain[0]
	if first.SerialNumber.Cmp(second.SerialNumber) == 0 || publicKeysEqual(first.PublicKey, second.PublicKey) {
		t.Error("the renewal reused the serial or the key")
	}
	if got := first.NotAfter.Sub(first.NotBefore); got != 6*time.Second {
		t.Errorf("lifetime %v, want the default 6s", got)
	}
	fi, err := os.Stat(filepath.Join(dir, keyFile)) // follows key.pem → ..data/key.pem
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key.pem mode %v, want 0600", fi.Mode().Perm())
	}
	p, err := readPair(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(p.Chain[0].Raw, second.Raw) {
		t.Error("the directory does not hold the renewed certificate")
	}
	caPEM, err := os.ReadFile(filepath.Join(caDir, caFile))
	if err != nil {
		t.Fatal(err)
	}
	roots, err := parseChainPEM(caPEM)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := truststore.NewStore(roots[0]).Verify(p.Chain[0], truststore.VerifyOptions{
		Time: p.Chain[0].NotBefore, Intermediates: p.Chain[1:], Name: "app.workloads.internal",
	}); err != nil {
		t.Errorf("chain does not verify to the CA: %v", err)
	}
	records, err := readRecords(filepath.Join(caDir, "issued"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*x509ext.Certificate{first, second} {
		if r := records[serialHex(c.SerialNumber)]; r == nil || !bytes.Equal(r.DER, c.Raw) {
			t.Errorf("no issuance record for %s", serialHex(c.SerialNumber))
		}
	}
	want := "openssl verify -CAfile " + filepath.Join(dir, caFile) + " " + filepath.Join(dir, certFile)
	if !strings.Contains(out.String(), want) {
		t.Errorf("output lacks %q", want)
	}
}

// Test200ConcurrentStarters starts 200 workloads at once against one CA (in-process HTTP, CA key in localkms
// over HTTP): every one gets a certificate, serials are unique, and each has a record.
func Test200ConcurrentStarters(t *testing.T) {
	const n = 200
	ca, url := newTestCA(t, nil, nil)
	base := t.TempDir()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 50 * time.Second}
	defer client.CloseIdleConnections()
	pairs, errs := make([]*pair, n), make([]error, n)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			w := &workload{
				Dir:      filepath.Join(base, fmt.Sprint(i)),
				DNSNames: []string{fmt.Sprintf("w%d.workloads.internal", i)},
				Lifetime: 10 * time.Minute,
				CAURL:    url,
				Root:     ca.Certificate(),
				HTTP:     client,
			}
			pairs[i], errs[i] = w.obtain(context.Background())
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	t.Logf("%d concurrent starters: %v (%.1f ms per certificate)", n, elapsed, float64(elapsed.Microseconds())/1000/n)
	serials := make(map[string]int)
	for i := range n {
		if errs[i] != nil {
			t.Errorf("starter %d: %v", i, errs[i])
			continue
		}
		s := serialHex(pairs[i].Chain[0].SerialNumber)
		if j, dup := serials[s]; dup {
			t.Errorf("starters %d and %d got serial %s", j, i, s)
		}
		serials[s] = i
		p, err := readPair(filepath.Join(base, fmt.Sprint(i)))
		if err != nil {
			t.Errorf("starter %d: %v", i, err)
		} else if !bytes.Equal(p.Chain[0].Raw, pairs[i].Chain[0].Raw) {
			t.Errorf("starter %d: directory holds another certificate", i)
		}
	}
	records, err := readRecords(ca.records.dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(records) != n || ca.issued.Load() != n {
		t.Errorf("%d records, %d issued, want %d", len(records), ca.issued.Load(), n)
	}
	for s := range serials {
		if records[s] == nil {
			t.Errorf("serial %s has no record", s)
		}
	}
}

// TestCAPolicyRefuses: names outside the suffix, wildcards, a lifetime over the maximum and keys the policy does
// not allow are refused with 403 (errRefused), and the workload writes nothing.
func TestCAPolicyRefuses(t *testing.T) {
	ca, url := newTestCA(t, nil, nil)
	for _, tc := range []struct {
		name     string
		dns      []string
		lifetime time.Duration
		key      x509ext.KeyAlgorithm
	}{
		{"other domain", []string{"app.example.com"}, time.Minute, 0},
		{"suffix without dot", []string{"app.evilworkloads.internal"}, time.Minute, 0},
		{"one of two names outside", []string{"a.workloads.internal", "b.example.com"}, time.Minute, 0},
		{"wildcard", []string{"*.workloads.internal"}, time.Minute, 0},
		{"lifetime over maximum", []string{"app.workloads.internal"}, 2 * time.Hour, 0},
		{"Ed25519 key", []string{"app.workloads.internal"}, time.Minute, x509ext.KeyEd25519},
		{"ML-DSA key", []string{"app.workloads.internal"}, time.Minute, x509ext.KeyMLDSA65},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "w")
			w := &workload{Dir: dir, DNSNames: tc.dns, Lifetime: tc.lifetime, CAURL: url, Root: ca.Certificate(), KeyAlg: tc.key}
			_, err := w.obtain(context.Background())
			if !errors.Is(err, errRefused) {
				t.Fatalf("err = %v, want errRefused", err)
			}
			var he *caHTTPError
			if !errors.As(err, &he) || he.Status != http.StatusForbidden {
				t.Errorf("err = %#v, want a 403 caHTTPError", err)
			}
			if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("refused workload wrote %s (%v)", dir, err)
			}
		})
	}
	if ca.issued.Load() != 0 {
		t.Errorf("CA issued %d certificates", ca.issued.Load())
	}
}

// TestCABadRequests: what is not a CSR is 400 (errBadRequest), not a panic or a 500.
func TestCABadRequests(t *testing.T) {
	_, url := newTestCA(t, nil, nil)
	for name, body := range map[string][]byte{"empty": nil, "garbage": []byte("hello"), "huge": make([]byte, maxCSRSize+10)} {
		t.Run(name, func(t *testing.T) {
			resp, err := http.Post(url+pathIssue+"?validity=1m", "application/pkcs10", bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusRequestEntityTooLarge {
				t.Errorf("status %d", resp.StatusCode)
			}
		})
	}
	for _, v := range []string{"soon", "1s", "-5s", ""} {
		resp, err := http.Post(url+pathIssue+"?validity="+v, "application/pkcs10", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("validity %q: status %d", v, resp.StatusCode)
		}
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
