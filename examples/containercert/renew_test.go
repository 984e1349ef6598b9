package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pkikit/pkikit/x509ext"
)

// fakeClock is the injected clock: time moves only when a sleep asks it to.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestRenewalKeepsOldCertificateUntilNewInPlace drives three renewals with an injected clock: each is due at
// exactly 2/3 of the lifetime; while the workload waits, and at the moment the CA has issued the new
// certificate but the workload has not installed it yet, the directory still holds the old (still valid) key and
// certificate; after each install it holds the new pair, and the generation just replaced is kept.
func TestRenewalKeepsOldCertificateUntilNewInPlace(t *testing.T) {
	clock := &fakeClock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	dir := filepath.Join(t.TempDir(), "w")
	var (
		mu        sync.Mutex
		installed []*pair
		issuedAt  []time.Time
	)
	current := func() *pair {
		mu.Lock()
		defer mu.Unlock()
		if len(installed) == 0 {
			return nil
		}
		return installed[len(installed)-1]
	}
	// checkOld: the directory holds the last installed pair, and it is still valid now.
	checkOld := func(when string) {
		old := current()
		if old == nil {
			return
		}
		p, err := readPair(dir)
		if err != nil {
			t.Errorf("%s: %v", when, err)
			return
		}
		if !bytes.Equal(p.Chain[0].Raw, old.Chain[0].Raw) {
			t.Errorf("%s: the directory no longer holds the old certificate", when)
		}
		if !clock.Now().Before(old.Chain[0].NotAfter) {
			t.Errorf("%s: the old certificate expired before its renewal", when)
		}
	}
	ca, url := newTestCA(t, clock.Now, nil)
	ca.beforeReturn = func(leaf *x509ext.Certificate) {
		mu.Lock()
		issuedAt = append(issuedAt, clock.Now())
		mu.Unlock()
		checkOld("new certificate issued, not yet installed")
	}
	var sleeps []time.Duration
	w := &workload{
		Dir: dir, DNSNames: []string{"app.workloads.internal"}, Lifetime: time.Minute, CAURL: url, Root: ca.Certificate(),
		Now: clock.Now,
		Sleep: func(ctx context.Context, d time.Duration) error {
			sleeps = append(sleeps, d)
			checkOld("waiting for the renewal")
			clock.Advance(d)
			checkOld("renewal due")
			return nil
		},
	}
	err := w.run(context.Background(), 3, func(p *pair) {
		got, err := readPair(dir)
		if err != nil || !bytes.Equal(got.Chain[0].Raw, p.Chain[0].Raw) {
			t.Errorf("after install the directory does not hold the new pair (%v)", err)
		}
		mu.Lock()
		installed = append(installed, p)
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(installed) != 4 || len(issuedAt) != 4 {
		t.Fatalf("%d installs, %d issued; want 4", len(installed), len(issuedAt))
	}
	for i, d := range sleeps {
		if d != 40*time.Second {
			t.Errorf("sleep %d: %v, want 40s (2/3 of 1m)", i, d)
		}
	}
	for i := 1; i < 4; i++ {
		prev, cur := installed[i-1].Chain[0], installed[i].Chain[0]
		if want := renewAt(prev); !issuedAt[i].Equal(want) {
			t.Errorf("renewal %d issued at %v, want %v", i, issuedAt[i], want)
		}
		if !cur.NotBefore.Before(prev.NotAfter) {
			t.Errorf("renewal %d: gap between %v and %v", i, prev.NotAfter, cur.NotBefore)
		}
	}
	// The current and the previous generation are on disk; older ones are gone.
	for i, p := range installed {
		_, err := os.Stat(p.Dir)
		if keep := i >= 2; keep != (err == nil) {
			t.Errorf("generation %d: kept=%v, want %v", i, err == nil, keep)
		}
	}
}

// TestRenewalFailureKeepsOldCertificate: while the CA fails, the old certificate stays in place and the
// renewal is retried; it succeeds once the CA is back.
func TestRenewalFailureKeepsOldCertificate(t *testing.T) {
	clock := &fakeClock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	var failing atomic.Int32
	ca, url := newTestCA(t, clock.Now, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if failing.Add(-1) >= 0 {
				http.Error(w, "down for maintenance", http.StatusInternalServerError)
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	dir := filepath.Join(t.TempDir(), "w")
	var first *pair
	var logs []string
	w := &workload{
		Dir: dir, DNSNames: []string{"app.workloads.internal"}, Lifetime: time.Minute, CAURL: url, Root: ca.Certificate(),
		Now:  clock.Now,
		Logf: func(f string, a ...any) { logs = append(logs, f) },
		Sleep: func(ctx context.Context, d time.Duration) error {
			p, err := readPair(dir)
			if err != nil || !bytes.Equal(p.Chain[0].Raw, first.Chain[0].Raw) {
				t.Errorf("old certificate not in place during retries (%v)", err)
			}
			clock.Advance(d)
			return nil
		},
	}
	err := w.run(context.Background(), 1, func(p *pair) {
		if first == nil {
			first = p
			failing.Store(2) // the first two renewal attempts fail
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	var retries int
	for _, l := range logs {
		if strings.Contains(l, "failed") {
			retries++
		}
	}
	if retries != 2 {
		t.Errorf("%d failed attempts logged, want 2", retries)
	}
	if p, err := readPair(dir); err != nil || bytes.Equal(p.Chain[0].Raw, first.Chain[0].Raw) {
		t.Errorf("renewed certificate not installed (%v)", err)
	}
}

// TestReadersNeverSeeMismatchedPair installs generation after generation while readers read: a reader that
// resolves ..data once (readPair) always gets a complete, matching pair; one that opens the stable names
// always gets whole files.
func TestReadersNeverSeeMismatchedPair(t *testing.T) {
	ca, url := newTestCA(t, nil, nil)
	dir := filepath.Join(t.TempDir(), "w")
	w := &workload{Dir: dir, DNSNames: []string{"app.workloads.internal"}, Lifetime: time.Minute, CAURL: url, Root: ca.Certificate()}
	// Issue the generations first (each obtain installs one), then install them all again while readers read.
	var gens []*pair
	for range 40 {
		p, err := w.obtain(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		gens = append(gens, p)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := install(dir, gens[0].Key, gens[0].Chain); err != nil {
		t.Fatal(err)
	}
	var done atomic.Bool
	var reads atomic.Int64
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for !done.Load() {
				if _, err := readPair(dir); err != nil {
					t.Errorf("readPair: %v", err)
					return
				}
				for _, name := range []string{keyFile, certFile, caFile} {
					data, err := os.ReadFile(filepath.Join(dir, name))
					if err != nil || !bytes.HasSuffix(bytes.TrimSpace(data), []byte("-----")) {
						t.Errorf("%s: partial read (%v)", name, err)
						return
					}
				}
				reads.Add(1)
			}
		})
	}
	for _, p := range gens[1:] {
		if _, err := install(dir, p.Key, p.Chain); err != nil {
			t.Fatal(err)
		}
	}
	done.Store(true)
	wg.Wait()
	t.Logf("%d consistent reads during %d installs", reads.Load(), len(gens)-1)
}
