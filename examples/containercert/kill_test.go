package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var servingRE = regexp.MustCompile(`ca: serving at (http://127\.0\.0\.1:\d+)`)

// TestKillCAMidRun runs the CA as a separate process (this test binary re-executed as `containercert -serve-ca`),
// has 12 workloads request certificates in a loop, SIGKILLs the CA while requests are in flight, and then
// checks that every certificate a workload received has an issuance record holding exactly that certificate,
// that every record parses (none is torn), and that every workload directory holds a complete key that matches
// its certificate (no half-written key file).
func TestKillCAMidRun(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	caDir, base := t.TempDir(), t.TempDir()
	cmd := exec.Command(exe, "-serve-ca", "127.0.0.1:0", "-ca-dir", caDir)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := servingRE.FindStringSubmatch(sc.Text()); m != nil {
				urlc <- m[1]
			}
		}
	}()
	var url string
	select {
	case url = <-urlc:
	case <-time.After(30 * time.Second):
		t.Fatalf("the CA process did not start: %s", stderr.String())
	}
	caPEM, err := os.ReadFile(filepath.Join(caDir, caFile))
	if err != nil {
		t.Fatal(err)
	}
	roots, err := parseChainPEM(caPEM)
	if err != nil {
		t.Fatal(err)
	}

	const workers = 12
	var (
		mu       sync.Mutex
		received = map[string][]byte{} // serial → DER, every certificate a workload got
		ok       atomic.Int64
		stopped  atomic.Bool
		wg       sync.WaitGroup
	)
	client := &http.Client{Timeout: 20 * time.Second}
	for i := range workers {
		wg.Go(func() {
			for k := 0; ; k++ {
				w := &workload{
					Dir:      filepath.Join(base, fmt.Sprintf("w%d-%d", i, k)),
					DNSNames: []string{fmt.Sprintf("w%d-%d.workloads.internal", i, k)},
					Lifetime: 10 * time.Minute, CAURL: url, Root: roots[0], HTTP: client,
				}
				p, err := w.obtain(context.Background())
				if err != nil {
					if !stopped.Load() {
						t.Errorf("worker %d before the kill: %v", i, err)
					}
					return // the CA is gone
				}
				mu.Lock()
				received[serialHex(p.Chain[0].SerialNumber)] = p.Chain[0].Raw
				mu.Unlock()
				ok.Add(1)
			}
		})
	}
	deadline := time.Now().Add(30 * time.Second)
	for ok.Load() < 60 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	stopped.Store(true)
	if err := cmd.Process.Kill(); err != nil { // SIGKILL: no handler, no cleanup
		t.Fatal(err)
	}
	killed = true
	cmd.Wait()
	wg.Wait()

	records, err := readRecords(filepath.Join(caDir, "issued"))
	if err != nil {
		t.Fatalf("a record does not parse: %v", err)
	}
	if len(received) < 60 {
		t.Errorf("only %d certificates before the kill", len(received))
	}
	for s, der := range received {
		if r := records[s]; r == nil || !bytes.Equal(r.DER, der) {
			t.Errorf("certificate %s was received but has no record", s)
		}
	}
	entries, err := os.ReadDir(filepath.Join(caDir, "issued"))
	if err != nil {
		t.Fatal(err)
	}
	var tmp int
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".tmp-") {
			tmp++
		}
	}
	t.Logf("received %d certificates, %d records (%d issued but not delivered before the kill), %d unlinked temp record files",
		len(received), len(records), len(records)-len(received), tmp)

	// A restarted CA removes the unlinked temp files and keeps every record.
	if _, err := openRecordStore(filepath.Join(caDir, "issued")); err != nil {
		t.Fatal(err)
	}
	after, err := readRecords(filepath.Join(caDir, "issued"))
	if err != nil || len(after) != len(records) {
		t.Errorf("after restart: %d records (%v), want %d", len(after), err, len(records))
	}
	if entries, _ := os.ReadDir(filepath.Join(caDir, "issued")); len(entries) != len(records) {
		t.Errorf("after restart: %d files for %d records", len(entries), len(records))
	}

	dirs, err := os.ReadDir(base)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		p, err := readPair(filepath.Join(base, d.Name()))
		if err != nil {
			t.Errorf("workload %s: %v", d.Name(), err)
			continue
		}
		if received[serialHex(p.Chain[0].SerialNumber)] == nil {
			t.Errorf("workload %s holds a certificate it was never given", d.Name())
		}
		// Every file anywhere in the directory is complete: no temp file left, every key parses.
		filepath.WalkDir(filepath.Join(base, d.Name()), func(path string, e os.DirEntry, err error) error {
			if err == nil && strings.HasPrefix(e.Name(), ".tmp-") {
				t.Errorf("leftover temp file %s", path)
			}
			if err == nil && e.Name() == keyFile && e.Type().IsRegular() {
				if _, err := readPairIn(filepath.Dir(path)); err != nil {
					t.Errorf("%s: %v", path, err)
				}
			}
			return nil
		})
	}
	if len(dirs) != len(received) {
		t.Errorf("%d workload directories, %d certificates received", len(dirs), len(received))
	}
}
