// Command containercert shows certificates for containers at start-up: a workload, when it starts, generates
// its key pair in memory, builds a CSR, gets a short-lived certificate from a CA whose key sits in a KMS, writes
// key and chain to a directory (a tmpfs such as /dev/shm when it has one) and renews at two thirds of the
// lifetime without ever dropping the certificate in place before the new one is installed.
//
//	go run ./examples/containercert                      # one start-up, one renewal (6 s lifetime), then exit
//	go run ./examples/containercert -dir /dev/shm/app -watch   # keep renewing until interrupted
//
// By default everything runs in this process, talking over loopback HTTP as separate processes would: pkikit's
// localkms serves the AWS KMS API on 127.0.0.1:0 (SigV4, random credentials, in-memory key store); the CA
// signs through kmssigner + awskms (the real AWS SDK client) with an ECDSA P-256 key it creates there; the CA
// service answers POST /v1/certificates on 127.0.0.1:0; the workload asks it for a certificate.
//
// Other shapes:
//
//	containercert -serve-ca 127.0.0.1:8443 -ca-dir ./ca   # only the CA service (prints its URL and ca.pem path)
//	containercert -ca-url http://127.0.0.1:8443 -ca-cert ./ca/ca.pem -dir /dev/shm/app -watch   # only a workload
//	containercert -kms-endpoint http://127.0.0.1:4599 -kms-key alias/CA   # CA key in a running localkms (or AWS)
//
// With -kms-endpoint the SigV4 credentials come from the AWS SDK's chain (AWS_ACCESS_KEY_ID /
// AWS_SECRET_ACCESS_KEY, as examples/localkms prints them).
//
// The CA issues only end-entity certificates (EndEntityCertificate/V1: serverAuth and clientAuth), for DNS
// names under -allowed-suffix, for at most -max-validity, with 126-bit random serials; every certificate has an
// issuance record (ca-dir/issued/SERIAL.json) that is written and fsynced before the certificate is returned.
//
// What it does not do: authenticate workloads to the CA (a real deployment binds the request to the
// container's identity: a bootstrap token, a service-account token or attestation; here anyone who can reach
// the loopback port gets a certificate within the policy), revocation (the certificates are short-lived
// instead), or TLS on the CA's own endpoint.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pkikit/pkikit/x509ext"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if _, err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "containercert:", err)
		os.Exit(1)
	}
}

type options struct {
	Dir           string
	Name          string
	Lifetime      time.Duration
	Watch         bool
	CAURL         string
	CACert        string
	ServeCA       string
	CADir         string
	KMS           kmsOptions
	AllowedSuffix string
	MaxValidity   time.Duration
}

// result is what a default run did (for tests).
type result struct {
	Dir      string
	CADir    string
	CAURL    string
	Installs []*pair
	Command  []string // the printed OpenSSL check, argv
}

func parseFlags(args []string) (*options, error) {
	var o options
	fl := flag.NewFlagSet("containercert", flag.ContinueOnError)
	fl.StringVar(&o.Dir, "dir", "", "workload directory for key.pem, cert.pem, ca.pem (default: a new directory in /dev/shm, else in $TMPDIR)")
	fl.StringVar(&o.Name, "name", "app.workloads.internal", "DNS name(s) of the workload, comma-separated")
	fl.DurationVar(&o.Lifetime, "lifetime", 6*time.Second, "certificate lifetime to ask for (renewal at 2/3 of it)")
	fl.BoolVar(&o.Watch, "watch", false, "keep renewing until interrupted")
	fl.StringVar(&o.CAURL, "ca-url", "", "URL of a running CA service (containercert -serve-ca); default: start one in this process")
	fl.StringVar(&o.CACert, "ca-cert", "", "with -ca-url: the CA certificate (PEM) the issued chain must verify to")
	fl.StringVar(&o.ServeCA, "serve-ca", "", "only run the CA service on this loopback address (e.g. 127.0.0.1:0) until interrupted")
	fl.StringVar(&o.CADir, "ca-dir", "", "CA state directory: ca.pem and issued/ records (default: a new temporary directory)")
	fl.StringVar(&o.KMS.Endpoint, "kms-endpoint", "", "KMS API endpoint holding the CA key (default: start localkms on 127.0.0.1:0 in this process)")
	fl.StringVar(&o.KMS.Region, "kms-region", "", "region of -kms-endpoint (default: the AWS SDK's)")
	fl.StringVar(&o.KMS.KeyID, "kms-key", "", "CA key id, ARN or alias/NAME (default: create an ECC_NIST_P256 key)")
	fl.StringVar(&o.AllowedSuffix, "allowed-suffix", "workloads.internal", "CA policy: DNS suffix(es) it issues for, comma-separated")
	fl.DurationVar(&o.MaxValidity, "max-validity", time.Hour, "CA policy: longest lifetime it issues")
	if err := fl.Parse(args); err != nil {
		return nil, err
	}
	if fl.NArg() != 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fl.Args())
	}
	if o.Lifetime < minValidity {
		return nil, fmt.Errorf("-lifetime %v: at least %v (certificate times have one-second resolution)", o.Lifetime, minValidity)
	}
	if o.CAURL != "" && o.CACert == "" {
		return nil, errors.New("-ca-url needs -ca-cert (the workload must know which CA to trust)")
	}
	return &o, nil
}

func run(ctx context.Context, args []string, stdout io.Writer) (*result, error) {
	o, err := parseFlags(args)
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	say := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(stdout, format+"\n", args...)
	}
	res := &result{CAURL: o.CAURL}

	var root *x509ext.Certificate
	if o.CAURL == "" {
		ca, url, stopCA, err := startCA(ctx, o, say)
		if err != nil {
			return nil, err
		}
		defer stopCA()
		res.CAURL, res.CADir, root = url, o.CADir, ca.Certificate()
		if o.ServeCA != "" {
			<-ctx.Done()
			say("ca: stopping after %d certificates", ca.issued.Load())
			return res, nil
		}
	} else {
		data, err := os.ReadFile(o.CACert)
		if err != nil {
			return nil, err
		}
		chain, err := parseChainPEM(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", o.CACert, err)
		}
		root = chain[0]
	}

	if o.Dir == "" {
		base := ""
		if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
			base = "/dev/shm" // tmpfs: the private key never reaches a disk
		}
		if o.Dir, err = os.MkdirTemp(base, "containercert-"); err != nil {
			return nil, err
		}
	}
	if o.Dir, err = filepath.Abs(o.Dir); err != nil {
		return nil, err
	}
	res.Dir = o.Dir
	w := &workload{
		Dir:      o.Dir,
		DNSNames: splitList(o.Name),
		Lifetime: o.Lifetime,
		CAURL:    res.CAURL,
		Root:     root,
		Logf:     func(f string, a ...any) { say("workload: "+f, a...) },
	}
	renewals := 1
	if o.Watch {
		renewals = -1
	}
	say("workload: each start-up and renewal: new ECDSA P-256 key pair in memory, CSR for %v, %v lifetime, into %s", w.DNSNames, w.Lifetime, w.Dir)
	err = w.run(ctx, renewals, func(p *pair) {
		if !o.Watch { // -watch runs for ever: keep nothing
			res.Installs = append(res.Installs, p)
		}
	})
	if o.Watch && errors.Is(err, context.Canceled) {
		err = nil
	}
	if err != nil {
		return res, err
	}
	res.Command = []string{"openssl", "verify", "-CAfile", filepath.Join(o.Dir, caFile), filepath.Join(o.Dir, certFile)}
	say(`
files (each a symlink through %[1]s/..data, swapped atomically on renewal):
  %[1]s/key.pem   PKCS#8 private key, 0600
  %[1]s/cert.pem  certificate chain (leaf, CA)
  %[1]s/ca.pem    CA certificate
check with OpenSSL (while the certificate is valid):
  %[2]s`, o.Dir, shellJoin(res.Command))
	return res, nil
}

// startCA opens the CA key in the KMS, makes the CA and serves its API on loopback.
func startCA(ctx context.Context, o *options, say func(string, ...any)) (*caService, string, func(), error) {
	key, err := openCAKey(ctx, o.KMS)
	if err != nil {
		return nil, "", nil, err
	}
	how := "localkms in this process, over HTTP + SigV4 through the AWS SDK"
	if o.KMS.Endpoint != "" {
		how = "the KMS API at " + o.KMS.Endpoint
	}
	created := ""
	if key.Created {
		created = " (created now)"
	}
	say("ca: key %s%s in %s (%s)", key.KeyID, created, key.Endpoint, how)
	if o.CADir == "" {
		if o.CADir, err = os.MkdirTemp("", "containercert-ca-"); err != nil {
			key.Close()
			return nil, "", nil, err
		}
	}
	ca, err := newCA(ctx, key.Signer, caOptions{
		Dir:    o.CADir,
		Policy: caPolicy{MaxValidity: o.MaxValidity, DNSSuffixes: splitList(o.AllowedSuffix)},
	})
	if err != nil {
		key.Close()
		return nil, "", nil, err
	}
	addr := o.ServeCA
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	if host, _, err := net.SplitHostPort(addr); err != nil || !net.ParseIP(host).IsLoopback() {
		key.Close()
		return nil, "", nil, fmt.Errorf("-serve-ca %q: the example CA listens on a loopback IP address only (it does not authenticate workloads)", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		key.Close()
		return nil, "", nil, err
	}
	srv := &http.Server{Handler: ca, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(ln)
	}()
	url := "http://" + ln.Addr().String()
	say("ca: serving at %s (certificate %s, records in %s)", url, filepath.Join(o.CADir, caFile), filepath.Join(o.CADir, "issued"))
	say("ca: policy: names under %v, lifetime at most %v, end-entity only", splitList(o.AllowedSuffix), o.MaxValidity)
	stop := func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
		<-done
		key.Close()
	}
	return ca, url, stop, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func shellJoin(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		if a == "" || strings.ContainsAny(a, " \t'\"$\\;&|<>*?()") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		q[i] = a
	}
	return strings.Join(q, " ")
}
