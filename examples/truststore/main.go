// Command truststore checks a PEM bundle for the five Amazon Trust Services roots by their pinned public keys,
// and verifies a certificate chain offline against the bundle, explaining any failure.
//
//	truststore -bundle roots.pem [-chain chain.pem] [-name host] [-purpose tls-server] [-crl file.crl]...
//	           [-require-amazon] [-at 2027-01-01T00:00:00Z]
//
// The chain file holds the leaf first, then any intermediates (the order servers send them). With
// -require-amazon the chain must end at one of the pinned Amazon roots. Nothing is fetched from the network.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/pkikit/pkikit/truststore"
	"github.com/pkikit/pkikit/x509ext"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

type crlFlags []string

func (c *crlFlags) String() string     { return strings.Join(*c, ",") }
func (c *crlFlags) Set(s string) error { *c = append(*c, s); return nil }

var purposes = map[string]truststore.Purpose{
	"tls-server": truststore.PurposeTLSServer, "tls-client": truststore.PurposeTLSClient,
	"code-signing": truststore.PurposeCodeSigning, "ocsp-signing": truststore.PurposeOCSPSigning,
	"mdl-document-signing": truststore.PurposeMDLDocumentSigning, "any": truststore.PurposeAny,
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("truststore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bundlePath := fs.String("bundle", "", "PEM bundle of trusted roots (required)")
	chainPath := fs.String("chain", "", "PEM chain to verify: leaf first, then intermediates")
	name := fs.String("name", "", "DNS name or IP address the leaf must be valid for")
	purpose := fs.String("purpose", "tls-server", "tls-server, tls-client, code-signing, ocsp-signing, mdl-document-signing or any")
	requireAmazon := fs.Bool("require-amazon", false, "the chain must end at a pinned Amazon root")
	at := fs.String("at", "", "verification time (RFC 3339); default now")
	var crls crlFlags
	fs.Var(&crls, "crl", "a CRL file (DER or PEM) to check revocation against; repeatable. With -crl, revocation "+
		"is required: every certificate below the root needs a current CRL from its issuer")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *bundlePath == "" {
		fmt.Fprintln(stderr, "usage: truststore -bundle roots.pem [-chain chain.pem] [flags]")
		return 2
	}
	p, ok := purposes[*purpose]
	if !ok {
		fmt.Fprintln(stderr, "truststore: unknown -purpose", *purpose)
		return 2
	}

	data, err := os.ReadFile(*bundlePath)
	if err != nil {
		fmt.Fprintln(stderr, "truststore:", err)
		return 2
	}
	store := truststore.NewStore()
	if _, err := store.AddAnchorsPEM(data); err != nil {
		fmt.Fprintln(stderr, "truststore:", err)
		return 2
	}
	for _, w := range store.Warnings() {
		fmt.Fprintln(stdout, "warning:", w)
	}

	// 1. The Amazon roots, by pinned SPKI SHA-256.
	pins := truststore.AmazonRootPins()
	check := pins.Check(store.Anchors())
	status := 0
	fmt.Fprintf(stdout, "Amazon roots in %s (by pinned public key):\n", *bundlePath)
	for _, pin := range pins.Pins {
		if c, ok := check.Found[pin.Name]; ok {
			fmt.Fprintf(stdout, "  ok       %-52s pin-sha256=%s expires %s\n", pin.Name, pin, c.NotAfter.Format("2006-01-02"))
		} else {
			fmt.Fprintf(stdout, "  MISSING  %-52s pin-sha256=%s\n", pin.Name, pin)
			status = 1
		}
	}
	if !check.Complete() {
		fmt.Fprintln(stdout, "  -> add the missing roots to the bundle: AWS endpoints and ACM certificates chain to any of the five.")
	}

	if *chainPath == "" {
		return status
	}
	if !*requireAmazon {
		status = 0 // with a chain to check, missing Amazon roots are reported, not fatal, unless -require-amazon
	}

	// 2. The chain, offline.
	data, err = os.ReadFile(*chainPath)
	if err != nil {
		fmt.Fprintln(stderr, "truststore:", err)
		return 2
	}
	certs, err := truststore.ParseCertificatesPEM(data)
	if err != nil {
		fmt.Fprintln(stderr, "truststore:", err)
		return 2
	}
	opts := truststore.VerifyOptions{Intermediates: certs[1:], Name: *name, Purpose: p}
	if *at != "" {
		if opts.Time, err = time.Parse(time.RFC3339, *at); err != nil {
			fmt.Fprintln(stderr, "truststore: -at:", err)
			return 2
		}
	}
	if *requireAmazon {
		opts.Pins = pins
	}
	for _, f := range crls {
		b, err := os.ReadFile(f)
		if err == nil {
			crl, perr := truststore.ParseCRL(b)
			if perr == nil {
				opts.CRLs = append(opts.CRLs, crl)
				continue
			}
			err = perr
		}
		fmt.Fprintln(stderr, "truststore: -crl:", err)
		return 2
	}
	if len(opts.CRLs) > 0 {
		opts.Revocation = truststore.RevocationRequired
	}
	fmt.Fprintf(stdout, "Verifying %s (%s):\n", certs[0].Subject, p)
	chains, err := store.Verify(certs[0], opts)
	if err != nil {
		explain(stdout, err)
		return 1
	}
	for i, ch := range chains {
		fmt.Fprintf(stdout, "  valid chain %d:\n", i+1)
		for d, c := range ch {
			fmt.Fprintf(stdout, "    %d  %s  [%s, expires %s]\n", d, c.Subject, c.SignatureAlgorithm, c.NotAfter.Format("2006-01-02"))
		}
	}
	return status
}

// advice maps each reason to what to do about it.
var advice = []struct {
	reason error
	text   string
}{
	{truststore.ErrExpired, "renew the certificate (or check the clock / -at)"},
	{truststore.ErrNotYetValid, "the certificate is not valid yet: check the clock, or wait"},
	{truststore.ErrRevoked, "the CA revoked it: replace the certificate"},
	{truststore.ErrRevocationUnknown, "supply a current CRL of the issuer with -crl"},
	{truststore.ErrUntrustedRoot, "the chain does not reach a root in the bundle: add the missing intermediate (a dropped cross-sign shortens or breaks chains) or the right root"},
	{truststore.ErrPinMismatch, "the chain is valid but does not end at a pinned Amazon root"},
	{truststore.ErrBadSignature, "a signature does not verify: the certificate was altered or the wrong issuer was used"},
	{truststore.ErrNameConstraint, "a CA's name constraints forbid this name"},
	{truststore.ErrHostname, "the leaf is not for this name (only SANs count, not the CN)"},
	{truststore.ErrEKU, "the certificate's extended key usage does not allow this purpose"},
	{truststore.ErrKeyUsage, "the certificate's key usage does not allow this purpose"},
	{truststore.ErrPathLen, "a CA's pathLenConstraint forbids this many intermediates"},
	{truststore.ErrNotCA, "an issuer in the chain is not a CA"},
	{truststore.ErrUnknownCriticalExtension, "a certificate carries a critical extension this verifier does not process"},
	{truststore.ErrBudgetExhausted, "path building gave up: too many candidate certificates"},
	{truststore.ErrPolicy, "certificate policies of the chain do not allow it"},
}

func explain(w io.Writer, err error) {
	var ve *truststore.VerifyError
	if !errors.As(err, &ve) {
		fmt.Fprintln(w, "  failed:", err)
		return
	}
	fmt.Fprintf(w, "  no valid chain; %d candidate path(s) rejected:\n", len(ve.Paths))
	for i, p := range ve.Paths {
		fmt.Fprintf(w, "  path %d: %s\n    reason: %s\n", i+1, chainNames(p.Chain), p.Error())
		for _, a := range advice {
			if errors.Is(p, a.reason) {
				fmt.Fprintf(w, "    what to do: %s\n", a.text)
				break
			}
		}
	}
}

func chainNames(chain []*x509ext.Certificate) string {
	parts := make([]string, len(chain))
	for i, c := range chain {
		parts[i] = c.Subject.CommonName
		if parts[i] == "" {
			parts[i] = c.Subject.String()
		}
	}
	return strings.Join(parts, " <- ")
}
