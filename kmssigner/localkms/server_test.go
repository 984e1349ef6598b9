package localkms_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"github.com/pkikit/pkikit/internal/alg"
	"github.com/pkikit/pkikit/kmssigner"
	"github.com/pkikit/pkikit/kmssigner/localkms"
)

const (
	testAKID   = "AKIDLOCALKMSTEST"
	testSecret = "local-kms-test-secret"
)

// startServer serves k on a loopback port and returns its endpoint.
func startServer(t *testing.T, k *localkms.KMS) string {
	t.Helper()
	srv, err := localkms.NewServer(k, &localkms.ServerOptions{Credentials: []localkms.Credentials{{AccessKeyID: testAKID, SecretAccessKey: testSecret}}})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := srv.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.Serve(ctx, ln); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return "http://" + ln.Addr().String()
}

// sdkClient is the real SDK client with its standard retryer, backing off 1 ms instead of up to 20 s.
func sdkClient(endpoint, akid, secret string) *kms.Client {
	return kms.New(kms.Options{
		BaseEndpoint: aws.String(endpoint),
		Region:       "us-east-1",
		Credentials:  aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(akid, secret, "")),
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
		}),
	})
}

func wantSDKCode(t *testing.T, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("err = %v, want %s", err, code)
	}
}

// Every operation through the real aws-sdk-go-v2 KMS client, over loopback HTTP with SigV4.
func TestServerWithAWSSDK(t *testing.T) {
	k := localkms.NewMemory(nil)
	c := sdkClient(startServer(t, k), testAKID, testSecret)
	ctx := context.Background()

	keys := map[types.KeySpec]string{}
	for _, spec := range []types.KeySpec{types.KeySpecEccNistP256, types.KeySpecEccNistEdwards25519, types.KeySpecMlDsa65, types.KeySpecRsa2048} {
		out, err := c.CreateKey(ctx, &kms.CreateKeyInput{KeySpec: spec, KeyUsage: types.KeyUsageTypeSignVerify, Description: aws.String("sdk " + string(spec))})
		if err != nil {
			t.Fatalf("CreateKey %s: %v", spec, err)
		}
		md := out.KeyMetadata
		if md.KeySpec != spec || md.KeyState != types.KeyStateEnabled || !md.Enabled || md.CreationDate == nil || time.Since(*md.CreationDate) > time.Minute ||
			!strings.HasPrefix(aws.ToString(md.Arn), "arn:aws:kms:us-east-1:111122223333:key/") || len(md.SigningAlgorithms) == 0 {
			t.Fatalf("KeyMetadata %+v", md)
		}
		keys[spec] = aws.ToString(md.KeyId)
	}
	if _, err := c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/SDK-Key"), TargetKeyId: aws.String(keys[types.KeySpecMlDsa65])}); err != nil {
		t.Fatal(err)
	}
	lk, err := c.ListKeys(ctx, &kms.ListKeysInput{Limit: aws.Int32(3)})
	if err != nil || len(lk.Keys) != 3 || !lk.Truncated || lk.NextMarker == nil {
		t.Fatalf("ListKeys: %v %+v", err, lk)
	}
	lk2, err := c.ListKeys(ctx, &kms.ListKeysInput{Marker: lk.NextMarker})
	if err != nil || len(lk2.Keys) != 1 || lk2.Truncated {
		t.Fatalf("ListKeys page 2: %v %+v", err, lk2)
	}
	la, err := c.ListAliases(ctx, &kms.ListAliasesInput{})
	if err != nil || len(la.Aliases) != 1 || aws.ToString(la.Aliases[0].AliasName) != "alias/SDK-Key" || aws.ToString(la.Aliases[0].TargetKeyId) != keys[types.KeySpecMlDsa65] {
		t.Fatalf("ListAliases: %v %+v", err, la)
	}
	dk, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/SDK-Key")})
	if err != nil || aws.ToString(dk.KeyMetadata.KeyId) != keys[types.KeySpecMlDsa65] || aws.ToString(dk.KeyMetadata.Description) != "sdk ML_DSA_65" {
		t.Fatalf("DescribeKey: %v", err)
	}

	// GetPublicKey + Sign RAW/DIGEST/EXTERNAL_MU + Verify.
	msg := []byte("signed through the AWS SDK")
	d := sha256.Sum256(msg)
	for _, tc := range []struct {
		spec types.KeySpec
		alg  types.SigningAlgorithmSpec
		mt   types.MessageType
		in   []byte
		a    alg.Algorithm
	}{
		{types.KeySpecEccNistP256, types.SigningAlgorithmSpecEcdsaSha256, types.MessageTypeDigest, d[:], alg.ECDSAWithSHA256},
		{types.KeySpecEccNistP256, types.SigningAlgorithmSpecEcdsaSha256, types.MessageTypeRaw, msg, alg.ECDSAWithSHA256},
		{types.KeySpecRsa2048, types.SigningAlgorithmSpecRsassaPssSha256, types.MessageTypeDigest, d[:], alg.SHA256WithRSAPSS},
		{types.KeySpecRsa2048, types.SigningAlgorithmSpecRsassaPkcs1V15Sha256, types.MessageTypeRaw, msg, alg.SHA256WithRSA},
		{types.KeySpecEccNistEdwards25519, types.SigningAlgorithmSpecEd25519Sha512, types.MessageTypeRaw, msg, alg.PureEd25519},
		{types.KeySpecMlDsa65, types.SigningAlgorithmSpecMlDsaShake256, types.MessageTypeRaw, msg, alg.MLDSA65},
		{types.KeySpecMlDsa65, types.SigningAlgorithmSpecMlDsaShake256, types.MessageTypeExternalMu, nil, alg.MLDSA65},
	} {
		gp, err := c.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: aws.String(keys[tc.spec])})
		if err != nil || gp.KeySpec != tc.spec || gp.KeyUsage != types.KeyUsageTypeSignVerify {
			t.Fatalf("GetPublicKey: %v", err)
		}
		pub, _, err := alg.ParsePKIXPublicKey(gp.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		in := tc.in
		if tc.mt == types.MessageTypeExternalMu {
			raw, _ := alg.MLDSAPublicKeyBytes(pub)
			mu, _ := alg.ExternalMu(raw, nil, msg)
			in = mu[:]
		}
		so, err := c.Sign(ctx, &kms.SignInput{KeyId: aws.String(keys[tc.spec]), Message: in, MessageType: tc.mt, SigningAlgorithm: tc.alg})
		if err != nil {
			t.Fatalf("Sign %s %s: %v", tc.alg, tc.mt, err)
		}
		if so.SigningAlgorithm != tc.alg || aws.ToString(so.KeyId) != aws.ToString(gp.KeyId) {
			t.Fatalf("SignOutput %+v", so)
		}
		if err := alg.Verify(pub, tc.a, msg, so.Signature); err != nil {
			t.Fatalf("%s %s: %v", tc.alg, tc.mt, err)
		}
		if tc.mt == types.MessageTypeExternalMu {
			continue
		}
		vo, err := c.Verify(ctx, &kms.VerifyInput{KeyId: aws.String(keys[tc.spec]), Message: in, MessageType: tc.mt, Signature: so.Signature, SigningAlgorithm: tc.alg})
		if err != nil || !vo.SignatureValid {
			t.Fatalf("Verify: %v", err)
		}
		so.Signature[0] ^= 1
		_, err = c.Verify(ctx, &kms.VerifyInput{KeyId: aws.String(keys[tc.spec]), Message: in, MessageType: tc.mt, Signature: so.Signature, SigningAlgorithm: tc.alg})
		var inv *types.KMSInvalidSignatureException
		if !errors.As(err, &inv) {
			t.Fatalf("bad signature: %v", err)
		}
	}

	// Modelled errors come back as the SDK's typed errors.
	_, err = c.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: aws.String("alias/missing")})
	var nf *types.NotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("missing alias: %v", err)
	}
	_, err = c.Sign(ctx, &kms.SignInput{KeyId: aws.String(keys[types.KeySpecEccNistP256]), Message: d[:16], MessageType: types.MessageTypeDigest, SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256})
	wantSDKCode(t, err, "ValidationException")
	_, err = c.Sign(ctx, &kms.SignInput{KeyId: aws.String(keys[types.KeySpecEccNistP256]), Message: msg, SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha384})
	var iku *types.InvalidKeyUsageException
	if !errors.As(err, &iku) {
		t.Fatalf("wrong algorithm: %v", err)
	}

	sd, err := c.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: aws.String(keys[types.KeySpecRsa2048]), PendingWindowInDays: aws.Int32(7)})
	if err != nil || sd.KeyState != types.KeyStatePendingDeletion || sd.DeletionDate == nil || aws.ToInt32(sd.PendingWindowInDays) != 7 {
		t.Fatalf("ScheduleKeyDeletion: %v %+v", err, sd)
	}
	_, err = c.Sign(ctx, &kms.SignInput{KeyId: aws.String(keys[types.KeySpecRsa2048]), Message: msg, SigningAlgorithm: types.SigningAlgorithmSpecRsassaPssSha256})
	var ise *types.KMSInvalidStateException
	if !errors.As(err, &ise) {
		t.Fatalf("pending deletion: %v", err)
	}
}

// The SDK's retryer handles ThrottlingException from the fault injector.
func TestServerThrottlingRetriedBySDK(t *testing.T) {
	k := localkms.NewMemory(nil)
	c := sdkClient(startServer(t, k), testAKID, testSecret)
	ctx := context.Background()
	out, err := c.CreateKey(ctx, &kms.CreateKeyInput{KeySpec: types.KeySpecEccNistP256, KeyUsage: types.KeyUsageTypeSignVerify})
	if err != nil {
		t.Fatal(err)
	}
	k.SetFaults(localkms.Faults{ThrottleRate: 0.05, ThrottleFirstAttemptOnly: true, Ops: []string{"Sign"}})
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				d := sha256.Sum256([]byte{byte(i)})
				if _, err := c.Sign(ctx, &kms.SignInput{KeyId: out.KeyMetadata.KeyId, Message: d[:], MessageType: types.MessageTypeDigest, SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256}); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("a throttled call was lost: %v", err)
	}
	if n := k.Throttled(); n != 5 {
		t.Fatalf("throttled %d calls, want 5", n)
	}
	// Without first-attempt-only, ThrottleFirst beyond the SDK's attempts surfaces ThrottlingException.
	k.SetFaults(localkms.Faults{ThrottleFirst: 10})
	_, err = c.ListKeys(ctx, &kms.ListKeysInput{}, func(o *kms.Options) { o.RetryMaxAttempts = 2 })
	wantSDKCode(t, err, "ThrottlingException")
}

// kmssigner over the SDK-shaped HTTP path: a tiny adapter (the real one is kmssigner/awskms).
type sdkAdapter struct{ c *kms.Client }

func (a sdkAdapter) GetPublicKey(ctx context.Context, keyID string) (*kmssigner.PublicKeyInfo, error) {
	out, err := a.c.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: aws.String(keyID)})
	if err != nil {
		return nil, err
	}
	info := &kmssigner.PublicKeyInfo{KeyID: aws.ToString(out.KeyId), PublicKey: out.PublicKey, KeySpec: string(out.KeySpec), KeyUsage: string(out.KeyUsage)}
	for _, s := range out.SigningAlgorithms {
		info.SigningAlgorithms = append(info.SigningAlgorithms, string(s))
	}
	return info, nil
}

func (a sdkAdapter) Sign(ctx context.Context, req *kmssigner.SignRequest) ([]byte, error) {
	out, err := a.c.Sign(ctx, &kms.SignInput{KeyId: aws.String(req.KeyID), Message: req.Message,
		MessageType: types.MessageType(req.MessageType), SigningAlgorithm: types.SigningAlgorithmSpec(req.SigningAlgorithm)})
	if err != nil {
		return nil, err
	}
	return out.Signature, nil
}

func TestServerCancelledContext(t *testing.T) {
	k := localkms.NewMemory(nil)
	c := sdkClient(startServer(t, k), testAKID, testSecret)
	ctx := context.Background()
	out, err := c.CreateKey(ctx, &kms.CreateKeyInput{KeySpec: types.KeySpecMlDsa87, KeyUsage: types.KeyUsageTypeSignVerify})
	if err != nil {
		t.Fatal(err)
	}
	s, err := kmssigner.New(ctx, sdkAdapter{c}, aws.ToString(out.KeyMetadata.KeyId), nil)
	if err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("SAN "), 2000)
	sig, err := alg.Sign(ctx, s, alg.MLDSA87, big)
	if err != nil || alg.Verify(s.Public(), alg.MLDSA87, big, sig) != nil {
		t.Fatalf("8000-byte ML-DSA-87 message over HTTP: %v", err)
	}
	k.SetFaults(localkms.Faults{Latency: 10 * time.Second, Ops: []string{"Sign"}})
	cctx, cancel := context.WithCancel(ctx)
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err = alg.Sign(cctx, s, alg.MLDSA87, []byte("m"))
	if !errors.Is(err, context.Canceled) || time.Since(start) > 2*time.Second {
		t.Fatalf("err = %v after %v", err, time.Since(start))
	}
}

// Unsigned, wrongly signed and unknown-key requests are refused with AWS's error names.
func TestServerRejectsBadSignatures(t *testing.T) {
	k := localkms.NewMemory(nil)
	endpoint := startServer(t, k)
	ctx := context.Background()
	_, err := sdkClient(endpoint, testAKID, "wrong-secret").ListKeys(ctx, &kms.ListKeysInput{})
	wantSDKCode(t, err, "InvalidSignatureException")
	_, err = sdkClient(endpoint, "AKIDUNKNOWN", testSecret).ListKeys(ctx, &kms.ListKeysInput{})
	wantSDKCode(t, err, "UnrecognizedClientException")
	_, err = kms.New(kms.Options{BaseEndpoint: aws.String(endpoint), Region: "us-east-1", Credentials: aws.AnonymousCredentials{}}).ListKeys(ctx, &kms.ListKeysInput{})
	wantSDKCode(t, err, "MissingAuthenticationTokenException")
	_, err = kms.New(kms.Options{BaseEndpoint: aws.String(endpoint), Region: "eu-west-1",
		Credentials: credentials.NewStaticCredentialsProvider(testAKID, testSecret, "")}).ListKeys(ctx, &kms.ListKeysInput{})
	wantSDKCode(t, err, "InvalidSignatureException")

	// Raw HTTP: a correctly signed request whose body is then changed is refused.
	body := []byte(`{}`)
	req, _ := http.NewRequest(http.MethodPost, endpoint+"/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "TrentService.ListKeys")
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: testSecret}
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hexString(sum[:]), "kms", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	status, typ := do(t, req, body)
	if status != 200 {
		t.Fatalf("signed raw request: %d %s", status, typ)
	}
	status, typ = do(t, req, []byte(`{"Limit":1}`))
	if status != 400 || typ != "InvalidSignatureException" {
		t.Fatalf("changed body: %d %s", status, typ)
	}
	req.Header.Set("X-Amz-Target", "TrentService.CreateKey")
	if status, typ = do(t, req, body); typ != "InvalidSignatureException" {
		t.Fatalf("changed target: %d %s", status, typ)
	}
	req.Header.Del("Authorization")
	if status, typ = do(t, req, body); status != 403 || typ != "MissingAuthenticationTokenException" {
		t.Fatalf("unsigned: %d %s", status, typ)
	}
	// A stale X-Amz-Date is refused.
	req2, _ := http.NewRequest(http.MethodPost, endpoint+"/", bytes.NewReader(body))
	req2.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req2.Header.Set("X-Amz-Target", "TrentService.ListKeys")
	v4.NewSigner().SignHTTP(ctx, creds, req2, hexString(sum[:]), "kms", "us-east-1", time.Now().Add(-time.Hour))
	if _, typ = do(t, req2, body); typ != "InvalidSignatureException" {
		t.Fatalf("stale date: %s", typ)
	}
}

func hexString(b []byte) string {
	const h = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, h[c>>4], h[c&15])
	}
	return string(out)
}

func do(t *testing.T, req *http.Request, body []byte) (int, string) {
	t.Helper()
	r := req.Clone(context.Background())
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e struct {
		Type string `json:"__type"`
	}
	json.NewDecoder(resp.Body).Decode(&e)
	if resp.Header.Get("Content-Type") != "application/x-amz-json-1.1" {
		t.Fatalf("Content-Type %q", resp.Header.Get("Content-Type"))
	}
	return resp.StatusCode, e.Type
}

func TestServerOptions(t *testing.T) {
	k := localkms.NewMemory(nil)
	if _, err := localkms.NewServer(k, nil); !errors.Is(err, localkms.ErrInvalidOptions) {
		t.Fatalf("no credentials: %v", err)
	}
	srv, err := localkms.NewServer(k, &localkms.ServerOptions{Credentials: []localkms.Credentials{{AccessKeyID: "a", SecretAccessKey: "b"}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:0"} {
		if _, err := srv.Listen(addr); !errors.Is(err, localkms.ErrNotLoopback) {
			t.Fatalf("%s: %v", addr, err)
		}
	}
	ln, err := srv.Listen("[::1]:0")
	if err == nil {
		ln.Close()
	}
}
