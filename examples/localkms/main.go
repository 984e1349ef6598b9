// Command localkms runs pkikit's embedded KMS as a server that speaks the AWS KMS API (JSON 1.1, SigV4) on
// loopback, so the AWS CLI, AWS SDKs and pkikit's kmssigner/awskms work against it with a custom endpoint.
//
//	localkms -addr 127.0.0.1:4599 -dir ./kms-data
//
// Credentials it accepts come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY; the key store is protected by the
// passphrase in PKIKIT_KMS_PASSPHRASE or by -master-key FILE. With none given it generates both, stores them
// 0600 in the directory (credentials.env, master.key) and says where. Keep master.key elsewhere for the
// encryption at rest to mean anything.
//
// Exportable keys (a pkikit extension the AWS tools cannot ask for) are made and exported by the same program
// run against the key-store directory (with the same master key or passphrase). Create keys while the server is
// stopped (a running server loads its keys when it starts); export at any time:
//
//	localkms -dir ./kms-data -create-exportable ECC_NIST_P256       # prints the new key id
//	PKIKIT_EXPORT_PASSPHRASE=... localkms -dir ./kms-data -export KEYID -out key.pem
//	openssl pkey -in key.pem -passin env:PKIKIT_EXPORT_PASSPHRASE -noout -text
//
// The export is a PEM bundle: the private key as a passphrase-encrypted PKCS#8 (PBES2, PBKDF2-HMAC-SHA256 with
// 600,000 iterations, AES-256-CBC), then the key's certificate chain if one was attached. It is written 0600
// and recorded in the key store's audit log (audit.log), as every signature is. The passphrase is read from
// PKIKIT_EXPORT_PASSPHRASE only, never from a flag (flags show in `ps`). -audit-sync every|periodic|never sets when
// the audit log is fsynced (default every: each record before its operation returns, a few ms per signature on
// a slow disk; concurrent requests share fsyncs).
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/pkikit/pkikit/kmssigner/localkms"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "localkms:", err)
		os.Exit(1)
	}
}

const (
	credentialsFile = "credentials.env"
	masterKeyFile   = "master.key"
)

// run parses flags, opens the key store, starts the server and serves until ctx is done.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fl := flag.NewFlagSet("localkms", flag.ContinueOnError)
	addr := fl.String("addr", localkms.DefaultAddr, "listen address (loopback only)")
	dir := fl.String("dir", "localkms-data", "key-store directory (created 0700 if absent)")
	masterKey := fl.String("master-key", "", "file with the 32-byte master key (64 hex digits) instead of "+localkms.PassphraseEnv)
	region := fl.String("region", "us-east-1", "region of a new key store (ARNs, SigV4 scope)")
	export := fl.String("export", "", "export the exportable key KEYID (passphrase from "+exportPassphraseEnv+") instead of serving")
	out := fl.String("out", "", "with -export: the PEM file to write (0600; default KEYID.pem)")
	auditSync := fl.String("audit-sync", "every", "when the audit log is fsynced: every (each record, before its operation returns), periodic (at most once a second) or never (by the OS)")
	createExportable := fl.String("create-exportable", "", "create an exportable key of this KeySpec, print its id and exit")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if err := os.MkdirAll(*dir, 0o700); err != nil {
		return err
	}
	if *export != "" || *createExportable != "" {
		return keyCommand(ctx, *dir, *masterKey, *export, *out, *createExportable, getenv, stdout)
	}

	syncPolicy, ok := map[string]localkms.AuditSync{"every": localkms.AuditSyncEvery, "periodic": localkms.AuditSyncPeriodic, "never": localkms.AuditSyncNever}[*auditSync]
	if !ok {
		return fmt.Errorf("-audit-sync must be every, periodic or never")
	}
	opts := &localkms.Options{Region: *region, Audit: localkms.AuditOptions{Sync: syncPolicy}}
	var secretSource string
	switch pass := getenv(localkms.PassphraseEnv); {
	case *masterKey != "":
		mk, err := readMasterKey(*masterKey)
		if err != nil {
			return err
		}
		opts.MasterKey, secretSource = mk, "master key from "+*masterKey
	case pass != "":
		opts.Passphrase, secretSource = []byte(pass), "passphrase from "+localkms.PassphraseEnv
	default:
		path := filepath.Join(*dir, masterKeyFile)
		mk, err := readMasterKey(path)
		if errors.Is(err, fs.ErrNotExist) {
			if mk, err = localkms.GenerateMasterKeyFile(path); err != nil {
				return err
			}
			secretSource = "master key GENERATED and stored in " + path + " (0600); move it out of the directory and pass -master-key"
		} else if err != nil {
			return err
		} else {
			secretSource = "master key from " + path + " (generated earlier)"
		}
		opts.MasterKey = mk
	}

	creds := localkms.Credentials{AccessKeyID: getenv("AWS_ACCESS_KEY_ID"), SecretAccessKey: getenv("AWS_SECRET_ACCESS_KEY")}
	credSource := "from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY"
	credPath := filepath.Join(*dir, credentialsFile)
	if creds.AccessKeyID == "" || creds.SecretAccessKey == "" {
		var generated bool
		var err error
		if creds, generated, err = loadOrGenerateCredentials(credPath); err != nil {
			return err
		}
		credSource = "from " + credPath
		if generated {
			credSource = "GENERATED and stored in " + credPath + " (0600)"
		}
	}

	k, err := localkms.Open(*dir, opts)
	if err != nil {
		return err
	}
	srv, err := localkms.NewServer(k, &localkms.ServerOptions{Credentials: []localkms.Credentials{creds}})
	if err != nil {
		return err
	}
	ln, err := srv.Listen(*addr)
	if err != nil {
		return err
	}
	endpoint := "http://" + ln.Addr().String()
	fmt.Fprintf(stdout, `localkms: serving the AWS KMS API at %[1]s (region %[2]s)
key store:   %[3]s (%[4]s)
credentials: %[5]s, access key id %[6]s

AWS CLI:
  %[7]s
  export AWS_REGION=%[2]s
  aws kms create-key --endpoint-url %[1]s --key-spec ML_DSA_65 --key-usage SIGN_VERIFY
  aws kms list-keys  --endpoint-url %[1]s

Go (aws-sdk-go-v2):
  kms.New(kms.Options{BaseEndpoint: aws.String(%[1]q), Region: %[2]q, Credentials: <static credentials above>})

pkikit:
  kmssigner.Open(ctx, "awskms:key-id=alias/NAME;region=%[2]s;endpoint=%[1]s")

Exportable keys (pkikit extension; every export and signature is in %[3]s/audit.log):
  localkms -dir %[3]s -create-exportable ECC_NIST_P256
  PKIKIT_EXPORT_PASSPHRASE=... localkms -dir %[3]s -export KEYID -out key.pem
`, endpoint, k.Region(), *dir, secretSource, credSource, creds.AccessKeyID, exportHint(credSource, credPath))
	err = srv.Serve(ctx, ln)
	if cerr := k.Close(); err == nil {
		err = cerr
	}
	return err
}

func exportHint(credSource, credPath string) string {
	if strings.HasPrefix(credSource, "from AWS_") {
		return "# AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are already set in this environment"
	}
	return "set -a; . " + credPath + "; set +a   # sets AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
}

func readMasterKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return localkms.ParseMasterKey(b)
}

// loadOrGenerateCredentials reads KEY=VALUE lines from path, or writes new random credentials there (0600).
func loadOrGenerateCredentials(path string) (localkms.Credentials, bool, error) {
	var c localkms.Credentials
	b, err := os.ReadFile(path)
	if err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			k, v, _ := strings.Cut(strings.TrimSpace(line), "=")
			switch k {
			case "AWS_ACCESS_KEY_ID":
				c.AccessKeyID = v
			case "AWS_SECRET_ACCESS_KEY":
				c.SecretAccessKey = v
			}
		}
		if c.AccessKeyID == "" || c.SecretAccessKey == "" {
			return c, false, fmt.Errorf("%s lacks AWS_ACCESS_KEY_ID or AWS_SECRET_ACCESS_KEY", path)
		}
		return c, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return c, false, err
	}
	id, secret := make([]byte, 8), make([]byte, 30)
	if _, err := rand.Read(id); err != nil {
		return c, false, err
	}
	if _, err := rand.Read(secret); err != nil {
		return c, false, err
	}
	c = localkms.Credentials{AccessKeyID: "AKLK" + strings.ToUpper(hex.EncodeToString(id)), SecretAccessKey: hex.EncodeToString(secret)}
	data := "AWS_ACCESS_KEY_ID=" + c.AccessKeyID + "\nAWS_SECRET_ACCESS_KEY=" + c.SecretAccessKey + "\n"
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return c, false, err
	}
	if _, err := f.WriteString(data); err != nil {
		f.Close()
		return c, false, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return c, false, err
	}
	return c, true, f.Close()
}

// exportPassphraseEnv holds the passphrase -export encrypts the key under.
const exportPassphraseEnv = "PKIKIT_EXPORT_PASSPHRASE"

// keyCommand runs -create-exportable or -export against the key store in dir (which must exist: nothing is
// generated).
func keyCommand(ctx context.Context, dir, masterKey, export, out, spec string, getenv func(string) string, stdout io.Writer) error {
	opts := &localkms.Options{Audit: localkms.AuditOptions{Caller: "examples/localkms (uid " + strconv.Itoa(os.Getuid()) + ")"}}
	switch {
	case masterKey != "":
		mk, err := readMasterKey(masterKey)
		if err != nil {
			return err
		}
		opts.MasterKey = mk
	case getenv(localkms.PassphraseEnv) != "":
		opts.Passphrase = []byte(getenv(localkms.PassphraseEnv))
	default:
		mk, err := readMasterKey(filepath.Join(dir, masterKeyFile))
		if err != nil {
			return fmt.Errorf("no -master-key, no %s and no %s: %w", localkms.PassphraseEnv, filepath.Join(dir, masterKeyFile), err)
		}
		opts.MasterKey = mk
	}
	k, err := localkms.Open(dir, opts)
	if err != nil {
		return err
	}
	defer k.Close()
	if spec != "" {
		o, err := k.CreateKey(ctx, &localkms.CreateKeyInput{KeySpec: spec, KeyUsage: "SIGN_VERIFY", Exportable: true,
			Description: "exportable, created by examples/localkms"})
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, o.KeyMetadata.KeyId)
		return nil
	}
	pass := getenv(exportPassphraseEnv)
	if pass == "" {
		return fmt.Errorf("set %s to the passphrase the exported key is encrypted under", exportPassphraseEnv)
	}
	o, err := k.ExportKey(ctx, &localkms.ExportKeyInput{KeyId: export, Passphrase: []byte(pass)})
	if err != nil {
		return err
	}
	if out == "" {
		out = strings.NewReplacer("/", "_", ":", "_").Replace(export) + ".pem"
	}
	if err := writeFile0600(out, o.PEM); err != nil {
		return err
	}
	fmt.Fprintf(stdout, `exported %s (%s) to %s: encrypted private key and %d certificate(s); recorded in %s
check it with:
  openssl pkey -in %s -passin env:%s -noout -text
`, o.KeyId, o.KeySpec, out, len(o.CertificateChain), filepath.Join(dir, localkms.AuditFile), out, exportPassphraseEnv)
	return nil
}

// writeFile0600 writes data to path, 0600, through a temporary file and a rename.
func writeFile0600(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".export-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	err = f.Chmod(0o600)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}
