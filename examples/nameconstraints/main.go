// Command nameconstraints restricts a subordinate CA with RFC 5280 name constraints, the pkikit way of the
// AWS Private CA walkthrough: it encodes the permitted (-p) and excluded (-e) subtrees — any mix of DNS names,
// CIDRs, email, URI and DN subtrees — into api_passthrough_config.json (byte-identical to the aws-samples
// Python encoder's for DNS input), then, offline, builds a root CA, a subordinate whose certificate carries
// that extension (issued through x509ext's API-passthrough template, as AWS Private CA would), a leaf for an
// allowed name and a leaf for an excluded name, verifies both with truststore, and prints the OpenSSL commands
// that show the first passing and the second failing.
//
//	go run ./examples/nameconstraints -p .example.com,10.0.0.0/8 -e .prod.example.com \
//	    -allow www.example.com -deny db.prod.example.com
//
// With AWS Private CA, give the JSON to `aws acm-pca issue-certificate --template-arn
// arn:aws:acm-pca:::template/SubordinateCACertificate_PathLen0_APIPassthrough/V1 --api-passthrough
// file://api_passthrough_config.json ...` when issuing the subordinate CA's certificate.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	var o options
	flag.StringVar(&o.Permitted, "p", ".example.com,10.0.0.0/8", "permitted subtrees, comma-separated (DNS, CIDR, email, uri:, dn: — see nameconstraints.ParseSubtree)")
	flag.StringVar(&o.Excluded, "e", ".prod.example.com", "excluded subtrees, comma-separated")
	flag.StringVar(&o.Allow, "allow", "www.example.com", "name of the leaf that must pass (DNS name, IP, email or URI)")
	flag.StringVar(&o.Deny, "deny", "db.prod.example.com", "name of the leaf that must fail")
	flag.StringVar(&o.OutDir, "out", "", "output directory (default: a new temporary directory)")
	flag.StringVar(&o.OpenSSL, "openssl", "openssl", "OpenSSL command to print in the check commands")
	flag.Parse()
	if err := run(context.Background(), o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "nameconstraints:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options, w io.Writer) error {
	res, err := build(ctx, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "name constraints: %s\n", res.Constraints)
	fmt.Fprintf(w, "wrote to %s:\n", res.Dir)
	for _, f := range res.Files {
		fmt.Fprintf(w, "  %s\n", f)
	}
	fmt.Fprintf(w, "\ntruststore: %s → %s\n", o.Allow, verdict(res.AllowErr))
	fmt.Fprintf(w, "truststore: %s → %s\n", o.Deny, verdict(res.DenyErr))
	fmt.Fprintln(w, "\ncheck with OpenSSL:")
	fmt.Fprintf(w, "  %s\n      # expect: .../allowed.pem: OK (exit 0)\n", res.AllowCommand)
	fmt.Fprintf(w, "  %s\n      # expect: error 47 or 48 at 0 depth lookup: permitted/excluded subtree violation (exit 2)\n",
		res.DenyCommand)
	return nil
}

func verdict(err error) string {
	if err == nil {
		return "OK"
	}
	return "rejected: " + err.Error()
}
