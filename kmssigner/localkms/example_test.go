package localkms_test

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/pkikit/pkikit/kmssigner"
	"github.com/pkikit/pkikit/kmssigner/localkms"
)

// A persistent key store, an ML-DSA-65 key with an alias, and a signer for it.
func ExampleOpen() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "localkms-example")
	defer os.RemoveAll(dir)

	k, err := localkms.Open(dir, &localkms.Options{
		Passphrase: []byte("correct horse battery staple"),
		KDF:        localkms.KDFParams{Time: 1, MemoryKiB: 8 * 1024, Threads: 1}, // small, for the example
	})
	if err != nil {
		panic(err)
	}
	defer k.Close() // flushes the audit log
	out, err := k.CreateKey(ctx, &localkms.CreateKeyInput{KeySpec: kmssigner.KeySpecMLDSA65, KeyUsage: kmssigner.KeyUsageSignVerify})
	if err != nil {
		panic(err)
	}
	if _, err := k.CreateAlias(ctx, &localkms.CreateAliasInput{AliasName: "alias/Example-CA", TargetKeyId: out.KeyMetadata.KeyId}); err != nil {
		panic(err)
	}
	signer, err := kmssigner.New(ctx, k, "alias/Example-CA", nil)
	if err != nil {
		panic(err)
	}
	sig, err := signer.SignMessageContext(ctx, nil, []byte("to be signed"), nil) // ML_DSA_SHAKE_256, RAW
	if err != nil {
		panic(err)
	}
	fmt.Println(out.KeyMetadata.KeySpec, out.KeyMetadata.KeyState, len(sig))
	// Output: ML_DSA_65 Enabled 3309
}

// The server on loopback, driven by the AWS SDK for Go v2.
func ExampleServer() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := localkms.NewServer(localkms.NewMemory(nil), &localkms.ServerOptions{
		Credentials: []localkms.Credentials{{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "example-secret"}},
	})
	if err != nil {
		panic(err)
	}
	ln, err := srv.Listen("127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go srv.Serve(ctx, ln)

	client := kms.New(kms.Options{
		BaseEndpoint: aws.String("http://" + ln.Addr().String()),
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "example-secret", ""),
	})
	out, err := client.CreateKey(ctx, &kms.CreateKeyInput{KeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY"})
	if err != nil {
		panic(err)
	}
	fmt.Println(out.KeyMetadata.KeySpec, out.KeyMetadata.SigningAlgorithms)
	// Output: ECC_NIST_P256 [ECDSA_SHA_256]
}

// An exportable key leaves the KMS as a passphrase-encrypted PKCS#8 with its certificate chain; the export is in
// the audit log. (Decrypt it with localkms.DecryptPKCS8, or `openssl pkey -in key.pem -passin env:VAR`.)
func ExampleKMS_ExportKey() {
	ctx := localkms.WithCaller(context.Background(), "operator@example")
	k := localkms.NewMemory(nil)
	out, err := k.CreateKey(ctx, &localkms.CreateKeyInput{KeySpec: kmssigner.KeySpecECCNISTP256, KeyUsage: kmssigner.KeyUsageSignVerify,
		Exportable: true}) // pkikit extension: the default is false
	if err != nil {
		panic(err)
	}
	exp, err := k.ExportKey(ctx, &localkms.ExportKeyInput{KeyId: out.KeyMetadata.KeyId, Passphrase: []byte("a long export passphrase")})
	if err != nil {
		panic(err)
	}
	enc, err := localkms.ParseEncryptedPKCS8(exp.EncryptedPrivateKey)
	if err != nil {
		panic(err)
	}
	fmt.Println(enc.KDF, enc.PRF, enc.Iterations)
	fmt.Println(string(exp.PEM[:len("-----BEGIN ENCRYPTED PRIVATE KEY-----")]))
	log, _ := k.AuditLog()
	last := log[len(log)-1]
	fmt.Println(last.Operation, last.Caller, last.Outcome)
	// Output:
	// PBKDF2 SHA-256 600000
	// -----BEGIN ENCRYPTED PRIVATE KEY-----
	// ExportKey operator@example Success
}
