package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
)

func TestCertaudit(t *testing.T) {
	var out, errb bytes.Buffer
	code := run([]string{"-at", "2035-12-15T00:00:00Z", "-fail", "testdata"}, &out, &errb)
	if code != 1 {
		t.Fatalf("exit %d, want 1 (two leaves expire in 17 days)\n%s%s", code, out.String(), errb.String())
	}
	if got := strings.Count(out.String(), "RENEW"); got != 2 {
		t.Fatalf("%d RENEW rows\n%s", got, out.String())
	}
	if !strings.Contains(out.String(), "6 certificate(s), 2 to renew within 30 days") {
		t.Fatalf("summary missing\n%s", out.String())
	}

	out.Reset()
	if code := run([]string{"-at", "2035-12-15T00:00:00Z", "-format", "json", "-issuer", "ML-DSA-65", "testdata"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d", code)
	}
	var rep struct {
		Entries []struct {
			Subject      string
			DaysToExpiry int `json:"days_to_expiry"`
		}
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil || len(rep.Entries) != 3 {
		t.Fatalf("json: %v %s", err, out.String()) // the ML-DSA root (self-issued), intermediate and leaf
	}

	out.Reset()
	if code := run([]string{"-format", "csv", "-issued-by", "testdata/ec_inter.pem", "testdata"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d", code)
	}
	rows, err := csv.NewReader(&out).ReadAll()
	if err != nil || len(rows) != 2 || !strings.Contains(rows[1][4], "leaf.example.com") {
		t.Fatalf("csv: %v %v", err, rows)
	}

	if code := run([]string{"-format", "xml", "testdata"}, &out, &errb); code != 2 {
		t.Fatalf("bad format: exit %d", code)
	}
}
