// Command certaudit reports the certificates in files and directories: subject, issuer, serial, SANs, not-after
// and days to expiry, flagging those that expire within a threshold — the "what expires next month, and what
// did CA X issue" report.
//
//	certaudit [-days 30] [-issuer TEXT] [-issued-by ca.pem] [-format table|json|csv] [-r] [-fail] PATH...
//
// PATHs are PEM bundles, DER certificates or directories of them. With -fail the exit status is 1 when any
// certificate needs renewal (for cron jobs and CI).
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/pkikit/pkikit/truststore"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("certaudit", flag.ContinueOnError)
	fs.SetOutput(stderr)
	days := fs.Int("days", 30, "flag certificates that expire within this many days")
	issuer := fs.String("issuer", "", "only certificates whose issuer DN contains this text (case-insensitive)")
	issuedBy := fs.String("issued-by", "", "only certificates issued (and signed) by the CA certificate in this file")
	format := fs.String("format", "table", "output: table, json or csv")
	recursive := fs.Bool("r", false, "scan directories recursively")
	failOnRenew := fs.Bool("fail", false, "exit with status 1 if any certificate needs renewal")
	at := fs.String("at", "", "report as of this time (RFC 3339); default now")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "usage: certaudit [flags] PATH...")
		fs.PrintDefaults()
		return 2
	}
	switch *format {
	case "table", "json", "csv":
	default:
		fmt.Fprintln(stderr, "certaudit: unknown -format", *format)
		return 2
	}
	opts := truststore.InventoryOptions{
		Threshold:      time.Duration(*days) * 24 * time.Hour,
		IssuerContains: *issuer,
		Recursive:      *recursive,
	}
	if *at != "" {
		t, err := time.Parse(time.RFC3339, *at)
		if err != nil {
			fmt.Fprintln(stderr, "certaudit: -at:", err)
			return 2
		}
		opts.Time = t
	}
	if *issuedBy != "" {
		data, err := os.ReadFile(*issuedBy)
		if err != nil {
			fmt.Fprintln(stderr, "certaudit:", err)
			return 2
		}
		certs, _ := truststore.ParseCertificates(data)
		if len(certs) == 0 {
			fmt.Fprintln(stderr, "certaudit: -issued-by: no certificate in", *issuedBy)
			return 2
		}
		opts.IssuedBy = certs[0]
	}
	report, err := truststore.ScanPaths(opts, fs.Args()...)
	if err != nil {
		fmt.Fprintln(stderr, "certaudit:", err)
		return 2
	}
	switch *format {
	case "table":
		err = report.WriteTable(stdout)
	case "json":
		err = report.WriteJSON(stdout)
	case "csv":
		err = report.WriteCSV(stdout)
	default:
		fmt.Fprintln(stderr, "certaudit: unknown -format", *format)
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "certaudit:", err)
		return 2
	}
	for _, s := range report.Skipped {
		fmt.Fprintf(stderr, "certaudit: skipped %s: %s\n", s.Path, s.Reason)
	}
	if *failOnRenew && len(report.ToRenew()) > 0 {
		return 1
	}
	return 0
}
