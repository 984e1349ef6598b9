package truststore

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pkikit/pkikit/internal/alg"
)

func TestInventory(t *testing.T) {
	caKey, otherKey, leafKey := genKey(t, alg.KeyECDSAP256), genKey(t, alg.KeyMLDSA44), genKey(t, alg.KeyEd25519)
	ca := mkCert(t, caTmpl("Audit CA"), caKey.Public(), nil, caKey)
	other := mkCert(t, caTmpl("Other CA"), otherKey.Public(), nil, otherKey)
	mk := func(cn string, expiresIn time.Duration, issuerName string) []byte {
		tm := leafTmpl(cn, cn+".example.com")
		tm.NotAfter = testNow.Add(expiresIn)
		if issuerName == "other" {
			return mkCert(t, tm, leafKey.Public(), other, otherKey).Raw
		}
		return mkCert(t, tm, leafKey.Public(), ca, caKey).Raw
	}
	dir := t.TempDir()
	write := func(name string, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	pemOf := func(der ...[]byte) []byte {
		var out []byte
		for _, d := range der {
			out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: d})...)
		}
		return out
	}
	write("soon.pem", pemOf(mk("soon", 10*24*time.Hour, "ca"), ca.Raw))
	write("later.der", mk("later", 200*24*time.Hour, "ca"))
	write("expired.pem", pemOf(mk("expired", -36*time.Hour, "other")))
	write("readme.txt", []byte("not a certificate"))
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sub", "deep.pem"), pemOf(mk("deep", 20*24*time.Hour, "ca")), 0o600); err != nil {
		t.Fatal(err)
	}

	r, err := ScanPaths(InventoryOptions{Time: testNow}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Entries) != 4 || len(r.Skipped) != 1 {
		t.Fatalf("%d entries %d skipped: %+v", len(r.Entries), len(r.Skipped), r.Skipped)
	}
	first := r.Entries[0]
	if !strings.Contains(first.Subject, "expired") || !first.Expired || !first.Renew || first.DaysToExpiry != -2 {
		t.Fatalf("first entry %+v", first)
	}
	if e := r.Entries[1]; !strings.Contains(e.Subject, "soon") || e.DaysToExpiry != 10 || !e.Renew || e.Expired ||
		len(e.SANs) != 1 || e.SANs[0] != "soon.example.com" {
		t.Fatalf("second entry %+v", e)
	}
	if n := len(r.ToRenew()); n != 2 {
		t.Fatalf("%d to renew", n)
	}

	r, _ = ScanPaths(InventoryOptions{Time: testNow, Recursive: true}, dir)
	if len(r.Entries) != 5 {
		t.Fatalf("recursive: %d entries", len(r.Entries))
	}
	r, _ = ScanPaths(InventoryOptions{Time: testNow, Recursive: true, IssuedBy: ca}, dir)
	if len(r.Entries) != 4 { // soon, later, deep and the self-signed CA itself
		t.Fatalf("issued by CA: %d entries", len(r.Entries))
	}
	r, _ = ScanPaths(InventoryOptions{Time: testNow, Recursive: true, IssuerContains: "other ca"}, dir)
	if len(r.Entries) != 1 {
		t.Fatalf("issuer filter: %d entries", len(r.Entries))
	}
	r, _ = ScanPaths(InventoryOptions{Time: testNow, Threshold: 15 * 24 * time.Hour, MaxFiles: 2}, dir)
	if len(r.Skipped) == 0 {
		t.Fatal("MaxFiles not enforced")
	}

	// The three output formats.
	r, _ = ScanPaths(InventoryOptions{Time: testNow}, dir)
	var tbl, js, cs bytes.Buffer
	if err := r.WriteTable(&tbl); err != nil || !strings.Contains(tbl.String(), "EXPIRED") || !strings.Contains(tbl.String(), "RENEW") {
		t.Fatalf("table: %v\n%s", err, tbl.String())
	}
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || len(back.Entries) != 4 {
		t.Fatalf("json: %v", err)
	}
	if err := r.WriteCSV(&cs); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&cs).ReadAll()
	if err != nil || len(rows) != 5 || rows[0][0] != "status" || rows[1][0] != "EXPIRED" {
		t.Fatalf("csv: %v %v", err, rows)
	}

	// A store's anchors.
	s := NewStore(ca, other)
	if inv := s.Inventory(InventoryOptions{Time: testNow}); len(inv.Entries) != 2 || inv.Entries[0].Source != "truststore" {
		t.Fatalf("store inventory %+v", inv.Entries)
	}
}

func TestDaysToExpiry(t *testing.T) {
	for _, tc := range []struct {
		name string
		left time.Duration
		want int
	}{
		{"expires now", 0, 0},
		{"last hours of the last day", 23 * time.Hour, 0},
		{"exactly one day left", 24 * time.Hour, 1},
		{"expired a nanosecond ago", -1, -1},
		{"expired exactly one day ago", -24 * time.Hour, -1},
		{"expired a day and an hour ago", -25 * time.Hour, -2},
		{"expired a day and a half ago", -36 * time.Hour, -2},
	} {
		if got := daysToExpiry(tc.left); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}
