package awskms_test

import (
	"context"
	"crypto"
	"crypto/sha256"
	"fmt"
	"log"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/pkikit/pkikit/kmssigner"
	"github.com/pkikit/pkikit/kmssigner/awskms"
	"github.com/pkikit/pkikit/kmssigner/localkms"
)

func ExampleParseURI() {
	u, err := awskms.ParseURI("awskms:///arn:aws:kms:eu-west-1:111122223333:alias/CodeSigning?endpoint=http://127.0.0.1:4599")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(u.KeyID)
	fmt.Println(u.EffectiveRegion(), u.Endpoint)
	fmt.Println(u)
	// Output:
	// arn:aws:kms:eu-west-1:111122223333:alias/CodeSigning
	// eu-west-1 http://127.0.0.1:4599
	// awskms:key-id=arn:aws:kms:eu-west-1:111122223333:alias/CodeSigning;endpoint=http://127.0.0.1:4599
}

// ExampleLoad signs through the AWS SDK against a localkms server on a loopback port: the same code runs
// against AWS KMS without Endpoint and Credentials.
func ExampleLoad() {
	ctx := context.Background()
	creds := localkms.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "example-secret"}
	srv, err := localkms.NewServer(localkms.NewMemory(nil), &localkms.ServerOptions{Credentials: []localkms.Credentials{creds}})
	if err != nil {
		log.Fatal(err)
	}
	ln, err := srv.Listen("127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	go srv.Serve(sctx, ln)

	opts := awskms.Options{
		Region:      "us-east-1",
		Endpoint:    "http://" + ln.Addr().String(),
		Credentials: credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, ""),
		MaxAttempts: 5,
	}
	sdk, err := awskms.LoadSDKClient(ctx, opts) // the SDK client, for CreateKey
	if err != nil {
		log.Fatal(err)
	}
	key, err := sdk.CreateKey(ctx, &kms.CreateKeyInput{KeySpec: types.KeySpecEccNistP256, KeyUsage: types.KeyUsageTypeSignVerify})
	if err != nil {
		log.Fatal(err)
	}

	signer, err := kmssigner.New(ctx, awskms.New(sdk), aws.ToString(key.KeyMetadata.KeyId), nil)
	if err != nil {
		log.Fatal(err)
	}
	digest := sha256.Sum256([]byte("hello"))
	sig, err := signer.SignContext(ctx, nil, digest[:], crypto.SHA256)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(signer.PublicKeyInfo().KeySpec, len(sig) > 0)
	// Output: ECC_NIST_P256 true
}
