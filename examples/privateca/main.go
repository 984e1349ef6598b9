// Command privateca builds a two-level CA from AWS Private CA configuration files, entirely offline: a root CA
// (self-signed, RootCACertificate/V1) and a subordinate CA (SubordinateCACertificate_PathLen0/V1) from
// ca-config.json files in the shape `aws acm-pca create-certificate-authority` takes, a TLS server certificate
// (EndEntityServerAuthCertificate/V1) and a CRL from the subordinate. Keys are made in memory and written as
// PKCS#8 (mode 0600); certificates and the CRL as PEM. It prints the OpenSSL commands that check the result.
//
//	go run ./examples/privateca -out /tmp/pki -dns www.example.com,api.example.com
//
// The sample configurations make an ML-DSA-87 root over an ECDSA P-384 issuing CA, so the printed commands need
// OpenSSL 3.5 or later (pass -openssl to name that binary).
package main

import (
	"context"
	_ "embed"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

//go:embed root-ca-config.json
var defaultRootConfig []byte

//go:embed sub-ca-config.json
var defaultSubConfig []byte

func main() {
	var o options
	flag.StringVar(&o.OutDir, "out", "", "directory for the PEM and key files (default: a new temporary directory)")
	flag.StringVar(&o.RootConfig, "root-config", "", "root CA configuration JSON (default: the sample root-ca-config.json)")
	flag.StringVar(&o.SubConfig, "sub-config", "", "subordinate CA configuration JSON (default: the sample sub-ca-config.json)")
	dns := flag.String("dns", "server.example.com", "comma-separated DNS names of the TLS server certificate")
	flag.StringVar(&o.ServerKey, "server-key", "EC_prime256v1", "server key algorithm, as a Private CA KeyAlgorithm (EC_prime256v1, RSA_2048, ML_DSA_65, ...)")
	flag.StringVar(&o.OpenSSL, "openssl", "openssl", "OpenSSL (3.5 or later) command to print in the check commands")
	flag.Parse()
	for _, d := range strings.Split(*dns, ",") {
		if d = strings.TrimSpace(d); d != "" {
			o.DNSNames = append(o.DNSNames, d)
		}
	}
	if err := run(context.Background(), o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "privateca:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options, w io.Writer) error {
	res, err := build(ctx, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "wrote to %s:\n", res.Dir)
	for _, f := range res.Files {
		fmt.Fprintf(w, "  %s\n", f)
	}
	fmt.Fprintln(w, "\ncheck with OpenSSL 3.5 or later:")
	for _, c := range res.Commands {
		fmt.Fprintf(w, "  %s\n", c.String())
	}
	return nil
}
