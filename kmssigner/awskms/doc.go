// Package awskms signs with keys held in AWS KMS, through the AWS SDK for Go v2, as kmssigner.Signers.
//
// The call most users need is kmssigner.Open with an awskms: URI (importing this package registers the scheme):
//
//	import _ "github.com/pkikit/pkikit/kmssigner/awskms"
//
//	signer, err := kmssigner.Open(ctx, "awskms:key-id=alias/CodeSigning;region=eu-west-1")
//	// signer is a crypto.Signer, crypto.MessageSigner and context-aware signer for csr, x509ext, cms, mdl.
//
// For control over the SDK configuration, build the Client yourself and hand it to kmssigner.New:
//
//	client, err := awskms.Load(ctx, awskms.Options{Region: "eu-west-1", MaxAttempts: 5})
//	signer, err := kmssigner.New(ctx, client, "alias/CodeSigning", nil)
//
// or wrap an SDK client you already have with awskms.New(kms.NewFromConfig(cfg)).
//
// Client implements kmssigner.Client (GetPublicKey and Sign) over github.com/aws/aws-sdk-go-v2/service/kms: key
// references are sent exactly as given, KMS errors become *kmssigner.APIError{Code, Message}, a cancelled or
// expired context is returned as the context's own error, and throttling (ThrottlingException), 5xx answers and
// connection errors are retried by the SDK's standard retryer (exponential backoff with jitter; Options.MaxAttempts
// and MaxBackoff tune it). Credentials come from the SDK's chain (environment, shared files, roles), never from a
// URI. Options.Endpoint (or endpoint= in the URI) points the SDK at another KMS API endpoint, such as a
// kmssigner/localkms server.
//
// What it does not do: it does not create, list, rotate or delete keys (use the SDK client, see LoadSDKClient);
// it does not choose algorithms, hash, compute ML-DSA μ or verify signatures — kmssigner.Signer does all of that
// above it; it adds no timeout of its own (give the context one); it does not talk to KMS at Load time.
package awskms
