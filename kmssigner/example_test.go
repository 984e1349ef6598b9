package kmssigner_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/sha256"
	"fmt"

	"github.com/pkikit/pkikit/kmssigner"
	"github.com/pkikit/pkikit/kmssigner/localkms"
)

// A key in the embedded KMS as a crypto.Signer.
func ExampleNew() {
	ctx := context.Background()
	kms := localkms.NewMemory(nil) // or localkms.Open(dir, ...), awskms, pkcs11
	out, err := kms.CreateKey(ctx, &localkms.CreateKeyInput{KeySpec: kmssigner.KeySpecECCNISTP256, KeyUsage: kmssigner.KeyUsageSignVerify})
	if err != nil {
		panic(err)
	}
	signer, err := kmssigner.New(ctx, kms, out.KeyMetadata.KeyId, nil)
	if err != nil {
		panic(err)
	}
	digest := sha256.Sum256([]byte("hello"))
	sig, err := signer.SignContext(ctx, nil, digest[:], crypto.SHA256) // one KMS Sign call, ECDSA_SHA_256 DIGEST
	if err != nil {
		panic(err)
	}
	fmt.Println("verified:", ecdsa.VerifyASN1(signer.Public().(*ecdsa.PublicKey), digest[:], sig))
	// Output: verified: true
}

// Key URIs name a backend and a key.
func ExampleParseURI() {
	u, err := kmssigner.ParseURI("awskms:key-id=alias/CodeSigning;region=eu-west-1;endpoint=http://127.0.0.1:4599")
	if err != nil {
		panic(err)
	}
	fmt.Println(u.Scheme, u.Attrs["key-id"], u.Attrs["region"])
	// Output: awskms alias/CodeSigning eu-west-1
}
