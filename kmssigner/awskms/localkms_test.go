package awskms

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/pkikit/pkikit/internal/alg"
	"github.com/pkikit/pkikit/kmssigner"
	"github.com/pkikit/pkikit/kmssigner/localkms"
)

// localKMS is a localkms server on a loopback port, reached through the real AWS SDK.
type localKMS struct {
	kms      *localkms.KMS
	endpoint string
	sdk      *kms.Client // the SDK client (for CreateKey/CreateAlias)
	client   *Client     // the adapter under test
	recorder *recordingAPI
}

// recordingAPI wraps the SDK client and records the message types of Sign calls.
type recordingAPI struct {
	API
	mu    sync.Mutex
	types []types.MessageType
}

func (r *recordingAPI) Sign(ctx context.Context, in *kms.SignInput, optFns ...func(*kms.Options)) (*kms.SignOutput, error) {
	r.mu.Lock()
	r.types = append(r.types, in.MessageType)
	r.mu.Unlock()
	return r.API.Sign(ctx, in, optFns...)
}

func (r *recordingAPI) lastType() types.MessageType {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.types[len(r.types)-1]
}

func startLocalKMS(t testing.TB, o Options) *localKMS {
	t.Helper()
	isolateAWSConfig(t)
	k := localkms.NewMemory(&localkms.Options{})
	srv, err := localkms.NewServer(k, &localkms.ServerOptions{Credentials: []localkms.Credentials{
		{AccessKeyID: "AKIDPKIKITTEST", SecretAccessKey: "pkikit-test-secret"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := srv.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-done })

	l := &localKMS{kms: k, endpoint: "http://" + ln.Addr().String()}
	o.Region, o.Endpoint, o.Credentials = "us-east-1", l.endpoint, testCreds
	if o.MaxBackoff == 0 {
		o.MaxBackoff = 50 * time.Millisecond
	}
	l.sdk, err = LoadSDKClient(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	l.recorder = &recordingAPI{API: l.sdk}
	l.client = New(l.recorder)
	return l
}

// createKey makes a key through the SDK (CreateKey over HTTP) and returns its key id.
func (l *localKMS) createKey(t testing.TB, spec types.KeySpec) string {
	t.Helper()
	out, err := l.sdk.CreateKey(context.Background(), &kms.CreateKeyInput{KeySpec: spec, KeyUsage: types.KeyUsageTypeSignVerify})
	if err != nil {
		t.Fatalf("CreateKey %s: %v", spec, err)
	}
	return aws.ToString(out.KeyMetadata.KeyId)
}

func algorithmsFor(kt alg.KeyType) []alg.Algorithm {
	if kt.Family() == alg.FamilyRSA {
		return []alg.Algorithm{alg.SHA256WithRSA, alg.SHA384WithRSA, alg.SHA512WithRSA,
			alg.SHA256WithRSAPSS, alg.SHA384WithRSAPSS, alg.SHA512WithRSAPSS}
	}
	return []alg.Algorithm{kt.DefaultAlgorithm()}
}

func TestSignEachKeySpecThroughSDK(t *testing.T) {
	l := startLocalKMS(t, Options{})
	ctx := context.Background()
	msg := []byte("signed through the AWS SDK against localkms over loopback")
	for _, spec := range []types.KeySpec{
		types.KeySpecEccNistP256, types.KeySpecEccNistP384, types.KeySpecEccNistP521,
		types.KeySpecRsa2048, types.KeySpecRsa3072, types.KeySpecRsa4096,
		types.KeySpecEccNistEdwards25519,
		types.KeySpecMlDsa44, types.KeySpecMlDsa65, types.KeySpecMlDsa87,
	} {
		t.Run(string(spec), func(t *testing.T) {
			keyID := l.createKey(t, spec)
			s, err := kmssigner.New(ctx, l.client, keyID, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.PublicKeyInfo().KeySpec; got != string(spec) {
				t.Fatalf("KeySpec %q", got)
			}
			kt, err := alg.KeyTypeOf(s.Public())
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range algorithmsFor(kt) {
				sig, err := alg.Sign(ctx, s, a, msg)
				if err != nil {
					t.Fatalf("%v: %v", a, err)
				}
				if err := alg.Verify(s.Public(), a, msg, sig); err != nil {
					t.Fatalf("%v: %v", a, err)
				}
				if err := alg.Verify(s.Public(), a, msg[1:], sig); !errors.Is(err, alg.ErrInvalidSignature) {
					t.Fatalf("%v: verifies over another message: %v", a, err)
				}
			}
		})
	}
}

func TestAliasKeptAsGivenThroughSDK(t *testing.T) {
	l := startLocalKMS(t, Options{})
	ctx := context.Background()
	keyID := l.createKey(t, types.KeySpecEccNistP256)
	if _, err := l.sdk.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/Code-Signing"), TargetKeyId: aws.String(keyID)}); err != nil {
		t.Fatal(err)
	}
	s, err := kmssigner.New(ctx, l.client, "alias/Code-Signing", nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.KeyID() != "alias/Code-Signing" || !strings.HasSuffix(s.PublicKeyInfo().KeyID, keyID) {
		t.Fatalf("key ids %q / %q", s.KeyID(), s.PublicKeyInfo().KeyID)
	}
	if _, err := kmssigner.New(ctx, l.client, "alias/code-signing", nil); !isAPIError(err, "NotFoundException") {
		t.Fatalf("alias looked up case-insensitively: %v", err)
	}
}

func isAPIError(err error, code string) bool {
	var ae *kmssigner.APIError
	return errors.As(err, &ae) && ae.Code == code
}

// TestThousandSignaturesUnderThrottling is the acceptance test: 1,000 signatures from 16 goroutines
// through the AWS SDK against localkms over loopback, with 5% of Sign calls throttled by fault injection and
// retried by the SDK's standard retryer, none lost (run it with -race).
func TestThousandSignaturesUnderThrottling(t *testing.T) {
	const total, workers = 1000, 16
	l := startLocalKMS(t, Options{MaxAttempts: 10})
	ctx := context.Background()
	keyID := l.createKey(t, types.KeySpecEccNistP256)
	s, err := kmssigner.New(ctx, l.client, keyID, nil)
	if err != nil {
		t.Fatal(err)
	}
	l.kms.SetFaults(localkms.Faults{Ops: []string{"Sign"}, ThrottleRate: 0.05})

	var next atomic.Int64
	sigs := make([][]byte, total)
	errs := make([]error, total)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= total {
					return
				}
				sigs[i], errs[i] = alg.Sign(ctx, s, alg.ECDSAWithSHA256, fmt.Appendf(nil, "message %d", i))
			}
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for i := range total {
		if errs[i] != nil {
			t.Fatalf("signature %d lost: %v", i, errs[i])
		}
		if err := alg.Verify(s.Public(), alg.ECDSAWithSHA256, fmt.Appendf(nil, "message %d", i), sigs[i]); err != nil {
			t.Fatalf("signature %d: %v", i, err)
		}
		seen[string(sigs[i])] = true
	}
	if len(seen) != total {
		t.Fatalf("%d distinct signatures, want %d", len(seen), total)
	}
	throttled := l.kms.Throttled()
	if throttled < total/20 {
		t.Fatalf("only %d calls throttled; the fault injection did not run", throttled)
	}
	t.Logf("%d signatures, %d Sign calls throttled (ThrottlingException) and retried by the SDK", total, throttled)
}

func TestCancelledContextThroughSDK(t *testing.T) {
	l := startLocalKMS(t, Options{})
	ctx := context.Background()
	keyID := l.createKey(t, types.KeySpecEccNistP256)
	s, err := kmssigner.New(ctx, l.client, keyID, nil)
	if err != nil {
		t.Fatal(err)
	}
	l.kms.SetFaults(localkms.Faults{Ops: []string{"Sign"}, Latency: 10 * time.Second})

	cctx, cancel := context.WithCancel(ctx)
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err = alg.Sign(cctx, s, alg.ECDSAWithSHA256, []byte("never signed"))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("cancellation took %v", d)
	}

	dctx, dcancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer dcancel()
	digest := crypto.SHA256.New().Sum(nil)
	_, err = l.client.Sign(dctx, &kmssigner.SignRequest{KeyID: keyID, Message: digest, MessageType: "DIGEST", SigningAlgorithm: "ECDSA_SHA_256"})
	if err != context.DeadlineExceeded {
		t.Fatalf("adapter err = %#v, want context.DeadlineExceeded itself", err)
	}
}

func TestMLDSA87LargeMessageUsesExternalMu(t *testing.T) {
	l := startLocalKMS(t, Options{})
	ctx := context.Background()
	keyID := l.createKey(t, types.KeySpecMlDsa87)
	s, err := kmssigner.New(ctx, l.client, keyID, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{kmssigner.MaxRawMessage, kmssigner.MaxRawMessage + 1, 10 << 10} {
		msg := bytes.Repeat([]byte{byte(n)}, n)
		sig, err := alg.Sign(ctx, s, alg.MLDSA87, msg)
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		if err := alg.Verify(s.Public(), alg.MLDSA87, msg, sig); err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		want := types.MessageTypeRaw
		if n > kmssigner.MaxRawMessage {
			want = types.MessageTypeExternalMu
		}
		if got := l.recorder.lastType(); got != want {
			t.Fatalf("%d bytes sent as %s, want %s", n, got, want)
		}
	}
}

func TestKMSRefusalsThroughSDK(t *testing.T) {
	l := startLocalKMS(t, Options{})
	ctx := context.Background()
	if _, err := kmssigner.New(ctx, l.client, "alias/absent", nil); !isAPIError(err, "NotFoundException") {
		t.Fatalf("err = %v", err)
	}
	keyID := l.createKey(t, types.KeySpecEccNistP256)
	_, err := l.client.Sign(ctx, &kmssigner.SignRequest{KeyID: keyID, Message: make([]byte, 48), MessageType: "DIGEST", SigningAlgorithm: "ECDSA_SHA_384"})
	var ae *kmssigner.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("P-256 key with ECDSA_SHA_384: err = %v, want an APIError", err)
	}
}

func TestOpenURIThroughRegistry(t *testing.T) {
	l := startLocalKMS(t, Options{})
	ctx := context.Background()
	keyID := l.createKey(t, types.KeySpecEccNistP384)
	if _, err := l.sdk.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/Opened"), TargetKeyId: aws.String(keyID)}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDPKIKITTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "pkikit-test-secret")
	for _, uri := range []string{
		"awskms:key-id=alias/Opened;region=us-east-1;endpoint=" + l.endpoint,
		"awskms:///" + keyID + "?region=us-east-1&endpoint=" + l.endpoint,
		"awskms:key-id=arn:aws:kms:us-east-1:111122223333:alias/Opened;endpoint=" + l.endpoint,
	} {
		t.Run(uri, func(t *testing.T) {
			s, err := kmssigner.Open(ctx, uri)
			if err != nil {
				t.Fatal(err)
			}
			sig, err := alg.Sign(ctx, s, alg.ECDSAWithSHA384, []byte("opened"))
			if err != nil {
				t.Fatal(err)
			}
			if err := alg.Verify(s.Public(), alg.ECDSAWithSHA384, []byte("opened"), sig); err != nil {
				t.Fatal(err)
			}
		})
	}
	if _, err := kmssigner.Open(ctx, "awskms:key-id=k;colour=blue"); !errors.Is(err, ErrInvalidURI) {
		t.Fatalf("err = %v", err)
	}
	// Wrong credentials: the server refuses the SigV4 signature.
	t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong")
	_, err := kmssigner.Open(ctx, "awskms:key-id=alias/Opened;region=us-east-1;endpoint="+l.endpoint)
	var ae *kmssigner.APIError
	if !errors.As(err, &ae) || ae.Code == "NotFoundException" {
		t.Fatalf("wrongly signed request: err = %v, want an authentication refusal", err)
	}
}

// BenchmarkSignECDSAP256ThroughSDK measures ECDSA P-256 signatures per second through kmssigner, this adapter,
// the AWS SDK (SigV4, JSON 1.1) and localkms over loopback HTTP, with local verification of every signature.
func BenchmarkSignECDSAP256ThroughSDK(b *testing.B) {
	l := startLocalKMS(b, Options{})
	ctx := context.Background()
	keyID := l.createKey(b, types.KeySpecEccNistP256)
	s, err := kmssigner.New(ctx, l.client, keyID, nil)
	if err != nil {
		b.Fatal(err)
	}
	benchSign(b, s)
}

// BenchmarkSignECDSAP256ThroughSDKParallel is the same with concurrent callers (RunParallel).
func BenchmarkSignECDSAP256ThroughSDKParallel(b *testing.B) {
	l := startLocalKMS(b, Options{})
	ctx := context.Background()
	keyID := l.createKey(b, types.KeySpecEccNistP256)
	s, err := kmssigner.New(ctx, l.client, keyID, nil)
	if err != nil {
		b.Fatal(err)
	}
	msg := []byte("benchmark message")
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := alg.Sign(ctx, s, alg.ECDSAWithSHA256, msg); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "signs/s")
}

// BenchmarkSignECDSAP256_InProcessPeer is the peer: the same signer over localkms called in-process (no SDK,
// no HTTP).
func BenchmarkSignECDSAP256_InProcessPeer(b *testing.B) {
	k := localkms.NewMemory(&localkms.Options{})
	ctx := context.Background()
	out, err := k.CreateKey(ctx, &localkms.CreateKeyInput{KeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY"})
	if err != nil {
		b.Fatal(err)
	}
	s, err := kmssigner.New(ctx, k, out.KeyMetadata.KeyId, nil)
	if err != nil {
		b.Fatal(err)
	}
	benchSign(b, s)
}

func benchSign(b *testing.B, s crypto.Signer) {
	ctx := context.Background()
	msg := []byte("benchmark message")
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		if _, err := alg.Sign(ctx, s, alg.ECDSAWithSHA256, msg); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "signs/s")
}
