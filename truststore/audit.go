package truststore

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pkikit/pkikit/x509ext"
)

// daysToExpiry is the whole days left, rounded down: 0 on the last day, -1 on the first day after expiry.
func daysToExpiry(left time.Duration) int {
	return int(math.Floor(left.Hours() / 24))
}

// DefaultRenewThreshold is how close to expiry a certificate must be for the inventory to flag it.
const DefaultRenewThreshold = 30 * 24 * time.Hour

// Default bounds of a scan.
const (
	DefaultMaxFiles    = 10000
	DefaultMaxFileSize = 4 << 20
)

// InventoryOptions configures an expiry and inventory report. The zero value is safe: now, a 30-day threshold,
// no filter, at most DefaultMaxFiles files of at most DefaultMaxFileSize bytes.
type InventoryOptions struct {
	// Time is "now" for days-to-expiry; zero means time.Now().
	Time time.Time
	// Threshold flags certificates that expire within it (or have expired); zero means DefaultRenewThreshold.
	Threshold time.Duration
	// IssuerContains keeps only certificates whose issuer DN contains this text (case-insensitive).
	IssuerContains string
	// IssuedBy keeps only certificates that this CA issued: issuer name equal to its subject and signature
	// verified with its key (the "every certificate issued by CA X" question).
	IssuedBy *x509ext.Certificate
	// Recursive scans directories recursively.
	Recursive bool
	// MaxFiles and MaxFileSize bound the scan (0: defaults). Larger files are skipped, later files not read.
	MaxFiles    int
	MaxFileSize int64
}

// Entry is one certificate of an inventory.
type Entry struct {
	Source             string    `json:"source"`
	Subject            string    `json:"subject"`
	Issuer             string    `json:"issuer"`
	Serial             string    `json:"serial"`
	SANs               []string  `json:"sans,omitempty"`
	NotBefore          time.Time `json:"not_before"`
	NotAfter           time.Time `json:"not_after"`
	DaysToExpiry       int       `json:"days_to_expiry"`
	Expired            bool      `json:"expired"`
	Renew              bool      `json:"renew"`
	IsCA               bool      `json:"is_ca"`
	KeyAlgorithm       string    `json:"key_algorithm"`
	SignatureAlgorithm string    `json:"signature_algorithm"`
	SHA256             string    `json:"sha256"`
}

// Skipped is a file a scan could not use, and why.
type Skipped struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// Report is an expiry and inventory report, sorted by notAfter (soonest first).
type Report struct {
	Time      time.Time     `json:"time"`
	Threshold time.Duration `json:"threshold_ns"`
	Entries   []Entry       `json:"entries"`
	Skipped   []Skipped     `json:"skipped,omitempty"`

	opts InventoryOptions
	seen map[[32]byte]bool
}

// NewReport returns an empty report; add certificates with Add, AddStore or Scan.
func NewReport(opts InventoryOptions) *Report {
	if opts.Time.IsZero() {
		opts.Time = time.Now()
	}
	if opts.Threshold <= 0 {
		opts.Threshold = DefaultRenewThreshold
	}
	opts.MaxFiles = orDefault(opts.MaxFiles, DefaultMaxFiles)
	if opts.MaxFileSize <= 0 {
		opts.MaxFileSize = DefaultMaxFileSize
	}
	return &Report{Time: opts.Time, Threshold: opts.Threshold, opts: opts, seen: map[[32]byte]bool{}}
}

// ScanPaths makes a report of every certificate in the given files and directories (PEM bundles or DER).
func ScanPaths(opts InventoryOptions, paths ...string) (*Report, error) {
	r := NewReport(opts)
	for _, p := range paths {
		if err := r.Scan(p); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Inventory makes a report of the store's anchors.
func (s *Store) Inventory(opts InventoryOptions) *Report {
	r := NewReport(opts)
	r.AddStore(s)
	return r
}

// AddStore adds the anchors of a store (source "truststore").
func (r *Report) AddStore(s *Store) {
	for _, c := range s.Anchors() {
		r.Add("truststore", c)
	}
}

// Scan adds the certificates of a file, or of every file in a directory.
func (r *Report) Scan(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return newErr("scan", ErrMalformed, path, err)
	}
	if !fi.IsDir() {
		r.scanFile(path)
		r.sort()
		return nil
	}
	files := 0
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			r.Skipped = append(r.Skipped, Skipped{Path: p, Reason: err.Error()})
			return nil
		}
		if d.IsDir() {
			if p != path && !r.opts.Recursive {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		if files >= r.opts.MaxFiles {
			r.Skipped = append(r.Skipped, Skipped{Path: p, Reason: fmt.Sprintf("MaxFiles (%d) reached", r.opts.MaxFiles)})
			return filepath.SkipAll
		}
		files++
		r.scanFile(p)
		return nil
	})
	r.sort()
	return err
}

func (r *Report) scanFile(p string) {
	fi, err := os.Stat(p)
	if err != nil {
		r.Skipped = append(r.Skipped, Skipped{Path: p, Reason: err.Error()})
		return
	}
	if fi.Size() > r.opts.MaxFileSize {
		r.Skipped = append(r.Skipped, Skipped{Path: p, Reason: fmt.Sprintf("larger than %d bytes", r.opts.MaxFileSize)})
		return
	}
	data, err := os.ReadFile(p)
	if err != nil {
		r.Skipped = append(r.Skipped, Skipped{Path: p, Reason: err.Error()})
		return
	}
	certs, bad := ParseCertificates(data)
	if len(certs) == 0 {
		reason := "no certificate"
		if len(bad) > 0 {
			reason = bad[0]
		}
		r.Skipped = append(r.Skipped, Skipped{Path: p, Reason: reason})
		return
	}
	for _, b := range bad {
		r.Skipped = append(r.Skipped, Skipped{Path: p, Reason: "a PEM block: " + b})
	}
	for _, c := range certs {
		r.Add(p, c)
	}
}

// Add adds one certificate (duplicates, by DER, are kept once) if it passes the issuer filters.
func (r *Report) Add(source string, c *x509ext.Certificate) {
	if c == nil || c.Certificate == nil {
		return
	}
	if r.seen == nil {
		r.seen = map[[32]byte]bool{}
	}
	h := sha256.Sum256(c.Raw)
	if r.seen[h] {
		return
	}
	if f := r.opts.IssuerContains; f != "" && !strings.Contains(strings.ToLower(c.Issuer.String()), strings.ToLower(f)) {
		return
	}
	if ca := r.opts.IssuedBy; ca != nil {
		if !bytes.Equal(c.RawIssuer, ca.RawSubject) || c.CheckSignatureFromKey(ca.PublicKey) != nil {
			return
		}
	}
	r.seen[h] = true
	left := c.NotAfter.Sub(r.Time)
	days := daysToExpiry(left)
	e := Entry{
		Source: source, Subject: c.Subject.String(), Issuer: c.Issuer.String(), Serial: hexSerial(c),
		NotBefore: c.NotBefore.UTC(), NotAfter: c.NotAfter.UTC(), DaysToExpiry: days, Expired: left < 0,
		Renew: left < r.Threshold, IsCA: c.BasicConstraintsValid && c.IsCA,
		KeyAlgorithm: c.KeyAlgorithm.String(), SignatureAlgorithm: c.SignatureAlgorithm.String(), SHA256: hex.EncodeToString(h[:]),
	}
	e.SANs = append(e.SANs, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		e.SANs = append(e.SANs, ip.String())
	}
	e.SANs = append(e.SANs, c.EmailAddresses...)
	for _, u := range c.URIs {
		e.SANs = append(e.SANs, u.String())
	}
	r.Entries = append(r.Entries, e)
	r.sort()
}

func hexSerial(c *x509ext.Certificate) string {
	if c.SerialNumber == nil {
		return ""
	}
	b := c.SerialNumber.Bytes()
	if c.SerialNumber.Sign() < 0 {
		return "-" + strings.ToUpper(hex.EncodeToString(b))
	}
	if len(b) == 0 {
		return "00"
	}
	return strings.ToUpper(hex.EncodeToString(b))
}

func (r *Report) sort() {
	sort.SliceStable(r.Entries, func(i, j int) bool { return r.Entries[i].NotAfter.Before(r.Entries[j].NotAfter) })
}

// ToRenew returns the entries that expire within the threshold or have expired.
func (r *Report) ToRenew() []Entry {
	var out []Entry
	for _, e := range r.Entries {
		if e.Renew {
			out = append(out, e)
		}
	}
	return out
}

func entryStatus(e Entry) string {
	switch {
	case e.Expired:
		return "EXPIRED"
	case e.Renew:
		return "RENEW"
	}
	return "ok"
}

// WriteTable writes the report as an aligned text table.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STATUS\tDAYS\tNOT AFTER\tSUBJECT\tISSUER\tSERIAL\tSANS\tSOURCE")
	for _, e := range r.Entries {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", entryStatus(e), e.DaysToExpiry, e.NotAfter.Format("2006-01-02"),
			e.Subject, e.Issuer, e.Serial, strings.Join(e.SANs, ","), e.Source)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%d certificate(s), %d to renew within %d days, %d file(s) skipped\n",
		len(r.Entries), len(r.ToRenew()), int(r.Threshold.Hours()/24), len(r.Skipped))
	return err
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if r.Entries == nil {
		r.Entries = []Entry{}
	}
	return enc.Encode(r)
}

// WriteCSV writes one CSV row per certificate, with a header row. SANs are joined with spaces.
func (r *Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"status", "days_to_expiry", "not_after", "not_before", "subject", "issuer", "serial", "sans",
		"is_ca", "key_algorithm", "signature_algorithm", "sha256", "source"})
	for _, e := range r.Entries {
		cw.Write([]string{entryStatus(e), strconv.Itoa(e.DaysToExpiry), e.NotAfter.Format(time.RFC3339), e.NotBefore.Format(time.RFC3339),
			e.Subject, e.Issuer, e.Serial, strings.Join(e.SANs, " "), strconv.FormatBool(e.IsCA), e.KeyAlgorithm,
			e.SignatureAlgorithm, e.SHA256, e.Source})
	}
	cw.Flush()
	return cw.Error()
}
