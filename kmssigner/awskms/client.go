package awskms

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"github.com/pkikit/pkikit/kmssigner"
)

// API is the part of the AWS SDK's *kms.Client this package calls. *kms.Client implements it; tests and
// wrappers (metrics, a different retry policy) may supply their own.
type API interface {
	GetPublicKey(ctx context.Context, in *kms.GetPublicKeyInput, optFns ...func(*kms.Options)) (*kms.GetPublicKeyOutput, error)
	Sign(ctx context.Context, in *kms.SignInput, optFns ...func(*kms.Options)) (*kms.SignOutput, error)
}

var _ API = (*kms.Client)(nil)

// Client is a kmssigner.Client over the AWS SDK: it sends GetPublicKey and Sign to AWS KMS (or to anything
// that speaks its API, such as kmssigner/localkms) and maps the answers and errors to kmssigner's types. It is
// safe for concurrent use. Retries (throttling, 5xx, connection resets) are the SDK retryer's.
type Client struct {
	api API
}

var _ kmssigner.Client = (*Client)(nil)

// New returns a Client over api, usually a *kms.Client built with kms.NewFromConfig. The caller's SDK
// options (region, endpoint, credentials, retryer) apply unchanged; Load builds one with pkikit's defaults.
func New(api API) *Client {
	return &Client{api: api}
}

// Options configures Load. The zero value loads the AWS SDK's default configuration (environment variables,
// shared config and credentials files, container and instance roles) with the SDK's standard retryer.
type Options struct {
	// Region is the AWS region; empty takes the SDK's default (AWS_REGION, the shared config).
	Region string
	// Endpoint overrides the KMS endpoint, for example "http://127.0.0.1:4599" for a localkms server.
	Endpoint string
	// Profile selects a shared config profile; empty takes the SDK's default (AWS_PROFILE or "default").
	Profile string
	// Credentials, when set, replaces the SDK's default credential chain.
	Credentials aws.CredentialsProvider
	// MaxAttempts is the number of attempts per call, the first included, of the SDK's standard retryer
	// (throttling, 5xx and connection errors are retried with exponential backoff and jitter). Zero keeps the
	// SDK's setting (AWS_MAX_ATTEMPTS, the shared config, or 3); 1 turns retries off.
	MaxAttempts int
	// MaxBackoff caps the delay between attempts; zero keeps the SDK's (20 s).
	MaxBackoff time.Duration
	// HTTPClient, when set, sends the requests (for example one with a transport-level timeout).
	HTTPClient *http.Client
}

// Load builds a Client from the AWS SDK's default configuration (config.LoadDefaultConfig) adjusted by opts.
// It does not contact KMS; the first GetPublicKey or Sign does.
func Load(ctx context.Context, opts Options) (*Client, error) {
	kc, err := LoadSDKClient(ctx, opts)
	if err != nil {
		return nil, err
	}
	return New(kc), nil
}

// LoadSDKClient is Load that returns the SDK's *kms.Client itself, for callers who also call other KMS
// operations through the same configuration.
func LoadSDKClient(ctx context.Context, opts Options) (*kms.Client, error) {
	if opts.MaxAttempts < 0 || opts.MaxBackoff < 0 {
		return nil, errf("load config", ErrConfig, "negative MaxAttempts or MaxBackoff")
	}
	var lo []func(*config.LoadOptions) error
	if opts.Region != "" {
		lo = append(lo, config.WithRegion(opts.Region))
	}
	if opts.Profile != "" {
		lo = append(lo, config.WithSharedConfigProfile(opts.Profile))
	}
	if opts.Credentials != nil {
		lo = append(lo, config.WithCredentialsProvider(opts.Credentials))
	}
	if opts.HTTPClient != nil {
		lo = append(lo, config.WithHTTPClient(opts.HTTPClient))
	}
	cfg, err := config.LoadDefaultConfig(ctx, lo...)
	if err != nil {
		if ctxErr := contextError(ctx, err); ctxErr != nil {
			return nil, ctxErr
		}
		return nil, wrap("load config", ErrConfig, "", err)
	}
	return kms.NewFromConfig(cfg, func(o *kms.Options) {
		if opts.Endpoint != "" {
			o.BaseEndpoint = aws.String(opts.Endpoint)
		}
		if opts.MaxAttempts > 0 {
			o.RetryMaxAttempts = opts.MaxAttempts
		}
		if opts.MaxBackoff > 0 {
			o.Retryer = retry.AddWithMaxBackoffDelay(o.Retryer, opts.MaxBackoff)
		}
	}), nil
}

// GetPublicKey calls KMS GetPublicKey for keyID (a key id, key ARN, alias/Name or alias ARN, sent exactly as
// given) and returns the DER SubjectPublicKeyInfo with the key's spec, usage and signing algorithms.
func (c *Client) GetPublicKey(ctx context.Context, keyID string) (*kmssigner.PublicKeyInfo, error) {
	const op = "get public key"
	if c == nil || c.api == nil {
		return nil, errf(op, ErrInvalidRequest, "nil Client or API (use awskms.New or Load)")
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if keyID == "" {
		return nil, errf(op, ErrInvalidRequest, "empty key id")
	}
	out, err := c.api.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: aws.String(keyID)})
	if err != nil {
		return nil, mapError(ctx, op, err)
	}
	if out == nil || len(out.PublicKey) == 0 {
		return nil, errf(op, ErrInvalidResponse, "no public key in the response")
	}
	info := &kmssigner.PublicKeyInfo{
		KeyID:             aws.ToString(out.KeyId),
		PublicKey:         out.PublicKey,
		KeySpec:           string(out.KeySpec),
		KeyUsage:          string(out.KeyUsage),
		SigningAlgorithms: make([]string, len(out.SigningAlgorithms)),
	}
	if info.KeyID == "" {
		info.KeyID = keyID
	}
	for i, a := range out.SigningAlgorithms {
		info.SigningAlgorithms[i] = string(a)
	}
	return info, nil
}

// Sign calls KMS Sign. The signing algorithm and message type must be values the AWS SDK knows
// (kmssigner's SigningAlgorithm* and MessageType* constants); anything else is refused before the call.
func (c *Client) Sign(ctx context.Context, req *kmssigner.SignRequest) ([]byte, error) {
	const op = "sign"
	if c == nil || c.api == nil {
		return nil, errf(op, ErrInvalidRequest, "nil Client or API (use awskms.New or Load)")
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if req == nil {
		return nil, errf(op, ErrInvalidRequest, "nil request")
	}
	if req.KeyID == "" {
		return nil, errf(op, ErrInvalidRequest, "empty key id")
	}
	algo, err := signingAlgorithm(req.SigningAlgorithm)
	if err != nil {
		return nil, err
	}
	mt, err := messageType(req.MessageType)
	if err != nil {
		return nil, err
	}
	out, err := c.api.Sign(ctx, &kms.SignInput{
		KeyId:            aws.String(req.KeyID),
		Message:          req.Message,
		MessageType:      mt,
		SigningAlgorithm: algo,
	})
	if err != nil {
		return nil, mapError(ctx, op, err)
	}
	if out == nil || len(out.Signature) == 0 {
		return nil, errf(op, ErrInvalidResponse, "no signature in the response")
	}
	return out.Signature, nil
}

// signingAlgorithm maps kmssigner's spelling to the SDK's enum, refusing values the SDK does not list.
func signingAlgorithm(s string) (types.SigningAlgorithmSpec, error) {
	a := types.SigningAlgorithmSpec(s)
	if !slices.Contains(a.Values(), a) {
		return "", errf("sign", ErrInvalidRequest, "unknown signing algorithm "+quote(s))
	}
	return a, nil
}

// messageType maps kmssigner's spelling to the SDK's enum; empty is RAW, as in the KMS API.
func messageType(s string) (types.MessageType, error) {
	if s == "" {
		return types.MessageTypeRaw, nil
	}
	m := types.MessageType(s)
	if !slices.Contains(m.Values(), m) {
		return "", errf("sign", ErrInvalidRequest, "unknown message type "+quote(s))
	}
	return m, nil
}

// mapError turns an SDK error into what kmssigner's backends return: the context's own error when the
// caller's context ended, a *kmssigner.APIError when KMS (or the endpoint) answered with an AWS error,
// otherwise an *Error matching ErrRequestFailed that wraps the SDK's error.
func mapError(ctx context.Context, op string, err error) error {
	if ctxErr := contextError(ctx, err); ctxErr != nil {
		return ctxErr
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return &kmssigner.APIError{Code: ae.ErrorCode(), Message: ae.ErrorMessage()}
	}
	return wrap(op, ErrRequestFailed, "", err)
}

// contextError returns ctx's error when the call failed because ctx ended.
func contextError(ctx context.Context, err error) error {
	ctxErr := ctx.Err()
	if ctxErr != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return ctxErr
	}
	return nil
}

// quote bounds and quotes a caller-supplied string for an error message.
func quote(s string) string {
	const max = 64
	if len(s) > max {
		return strconv.Quote(s[:max]) + "..."
	}
	return strconv.Quote(s)
}
