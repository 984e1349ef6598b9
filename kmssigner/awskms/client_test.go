package awskms

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/pkikit/pkikit/kmssigner"
)

// isolateAWSConfig keeps the developer's AWS files and environment out of a test.
func isolateAWSConfig(t testing.TB) {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", dir+"/config")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", dir+"/credentials")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	for _, v := range []string{"AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID",
		"AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE", "AWS_ENDPOINT_URL",
		"AWS_ENDPOINT_URL_KMS"} {
		t.Setenv(v, "")
	}
}

var testCreds = credentials.NewStaticCredentialsProvider("AKIDPKIKITTEST", "pkikit-test-secret", "")

// cannedKMS is a tiny KMS JSON 1.1 endpoint that answers from a function and records what it was sent.
type cannedKMS struct {
	mu       sync.Mutex
	requests []cannedRequest
	calls    atomic.Int64
	answer   func(n int64, target string, body map[string]any) (status int, resp any)
}

type cannedRequest struct {
	Target string
	Header http.Header
	Body   map[string]any
}

func (c *cannedKMS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := c.calls.Add(1)
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	_ = json.Unmarshal(raw, &body)
	target := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "TrentService.")
	c.mu.Lock()
	c.requests = append(c.requests, cannedRequest{Target: target, Header: r.Header.Clone(), Body: body})
	c.mu.Unlock()
	status, resp := c.answer(n, target, body)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(resp)
}

func (c *cannedKMS) last() cannedRequest {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.requests[len(c.requests)-1]
}

func kmsError(code, msg string) map[string]any { return map[string]any{"__type": code, "message": msg} }

func newCanned(t *testing.T, answer func(n int64, target string, body map[string]any) (int, any)) (*cannedKMS, *httptest.Server) {
	t.Helper()
	c := &cannedKMS{answer: answer}
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	return c, srv
}

func loadTestClient(t *testing.T, endpoint string, o Options) *Client {
	t.Helper()
	isolateAWSConfig(t)
	o.Region, o.Endpoint, o.Credentials = "us-east-1", endpoint, testCreds
	if o.MaxBackoff == 0 {
		o.MaxBackoff = 10 * time.Millisecond
	}
	c, err := Load(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestGetPublicKeyMapsResponse(t *testing.T) {
	spki := []byte{0x30, 0x59, 0x01, 0x02}
	canned, srv := newCanned(t, func(_ int64, target string, _ map[string]any) (int, any) {
		if target != "GetPublicKey" {
			return 400, kmsError("UnknownOperationException", target)
		}
		return 200, map[string]any{
			"KeyId":             "arn:aws:kms:us-east-1:111122223333:key/Key-Case",
			"PublicKey":         base64.StdEncoding.EncodeToString(spki),
			"KeySpec":           "ECC_NIST_P256",
			"KeyUsage":          "SIGN_VERIFY",
			"SigningAlgorithms": []string{"ECDSA_SHA_256"},
		}
	})
	c := loadTestClient(t, srv.URL, Options{})
	info, err := c.GetPublicKey(context.Background(), "alias/Mixed-Case")
	if err != nil {
		t.Fatal(err)
	}
	if info.KeyID != "arn:aws:kms:us-east-1:111122223333:key/Key-Case" || string(info.PublicKey) != string(spki) ||
		info.KeySpec != kmssigner.KeySpecECCNISTP256 || info.KeyUsage != kmssigner.KeyUsageSignVerify ||
		len(info.SigningAlgorithms) != 1 || info.SigningAlgorithms[0] != kmssigner.SigningAlgorithmECDSASHA256 {
		t.Fatalf("unexpected info %+v", info)
	}
	req := canned.last()
	if req.Body["KeyId"] != "alias/Mixed-Case" {
		t.Errorf("key id sent as %v, want it exactly as given", req.Body["KeyId"])
	}
	if !strings.HasPrefix(req.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=AKIDPKIKITTEST/") {
		t.Errorf("request not SigV4-signed with the configured credentials: %q", req.Header.Get("Authorization"))
	}
	if ct := req.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
		t.Errorf("Content-Type %q", ct)
	}
}

func TestSignSendsRequestAsGiven(t *testing.T) {
	sig := []byte("signature-bytes")
	canned, srv := newCanned(t, func(int64, string, map[string]any) (int, any) {
		return 200, map[string]any{"KeyId": "k", "Signature": base64.StdEncoding.EncodeToString(sig), "SigningAlgorithm": "ML_DSA_SHAKE_256"}
	})
	c := loadTestClient(t, srv.URL, Options{})
	mu := make([]byte, 64)
	for i := range mu {
		mu[i] = byte(i)
	}
	got, err := c.Sign(context.Background(), &kmssigner.SignRequest{
		KeyID: "1234abcd-12ab-34cd-56ef-1234567890ab", Message: mu,
		MessageType: kmssigner.MessageTypeExternalMu, SigningAlgorithm: kmssigner.SigningAlgorithmMLDSASHAKE256,
	})
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(sig) {
		t.Fatalf("signature %q", got)
	}
	b := canned.last().Body
	if canned.last().Target != "Sign" || b["KeyId"] != "1234abcd-12ab-34cd-56ef-1234567890ab" ||
		b["MessageType"] != "EXTERNAL_MU" || b["SigningAlgorithm"] != "ML_DSA_SHAKE_256" ||
		b["Message"] != base64.StdEncoding.EncodeToString(mu) {
		t.Fatalf("request body %v", b)
	}
}

func TestSignRefusesUnknownEnumsBeforeSending(t *testing.T) {
	canned, srv := newCanned(t, func(int64, string, map[string]any) (int, any) { return 200, map[string]any{} })
	c := loadTestClient(t, srv.URL, Options{})
	for name, req := range map[string]*kmssigner.SignRequest{
		"nil request":          nil,
		"empty key id":         {Message: []byte("m"), SigningAlgorithm: "ECDSA_SHA_256", MessageType: "RAW"},
		"unknown algorithm":    {KeyID: "k", Message: []byte("m"), SigningAlgorithm: "ECDSA_SHA_1", MessageType: "RAW"},
		"lower-case algorithm": {KeyID: "k", Message: []byte("m"), SigningAlgorithm: "ecdsa_sha_256", MessageType: "RAW"},
		"unknown type":         {KeyID: "k", Message: []byte("m"), SigningAlgorithm: "ECDSA_SHA_256", MessageType: "PREHASHED"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := c.Sign(context.Background(), req)
			if !errors.Is(err, ErrInvalidRequest) {
				t.Fatalf("err = %v, want ErrInvalidRequest", err)
			}
		})
	}
	if _, err := c.GetPublicKey(context.Background(), ""); !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("GetPublicKey(\"\") err = %v", err)
	}
	if n := canned.calls.Load(); n != 0 {
		t.Fatalf("%d requests sent, want 0", n)
	}
}

func TestKMSErrorsBecomeAPIError(t *testing.T) {
	for _, tc := range []struct{ typ, want string }{
		{"NotFoundException", "NotFoundException"},
		{"com.amazonaws.kms#KMSInvalidStateException", "KMSInvalidStateException"},
		{"ValidationException", "ValidationException"},
		{"AccessDeniedException", "AccessDeniedException"},
		{"InvalidKeyUsageException", "InvalidKeyUsageException"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			_, srv := newCanned(t, func(int64, string, map[string]any) (int, any) {
				return 400, kmsError(tc.typ, "key arn:aws:kms:... said no")
			})
			c := loadTestClient(t, srv.URL, Options{})
			_, err := c.Sign(context.Background(), &kmssigner.SignRequest{KeyID: "k", Message: make([]byte, 32),
				MessageType: "DIGEST", SigningAlgorithm: "ECDSA_SHA_256"})
			var ae *kmssigner.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("err = %T %v, want *kmssigner.APIError", err, err)
			}
			if ae.Code != tc.want || ae.Message != "key arn:aws:kms:... said no" {
				t.Fatalf("APIError %+v", ae)
			}
		})
	}
}

func TestThrottlingIsRetriedBySDK(t *testing.T) {
	sig := base64.StdEncoding.EncodeToString([]byte("sig"))
	throttleFirst := func(k int64) func(n int64, _ string, _ map[string]any) (int, any) {
		return func(n int64, _ string, _ map[string]any) (int, any) {
			if n <= k {
				return 400, kmsError("ThrottlingException", "Rate exceeded")
			}
			return 200, map[string]any{"Signature": sig}
		}
	}
	req := &kmssigner.SignRequest{KeyID: "k", Message: make([]byte, 32), MessageType: "DIGEST", SigningAlgorithm: "ECDSA_SHA_256"}

	t.Run("default attempts", func(t *testing.T) {
		canned, srv := newCanned(t, throttleFirst(2))
		c := loadTestClient(t, srv.URL, Options{})
		if _, err := c.Sign(context.Background(), req); err != nil {
			t.Fatalf("two throttles within the SDK's default 3 attempts: %v", err)
		}
		if n := canned.calls.Load(); n != 3 {
			t.Fatalf("%d attempts, want 3", n)
		}
	})
	t.Run("MaxAttempts raised", func(t *testing.T) {
		canned, srv := newCanned(t, throttleFirst(5))
		c := loadTestClient(t, srv.URL, Options{MaxAttempts: 6})
		if _, err := c.Sign(context.Background(), req); err != nil {
			t.Fatal(err)
		}
		if n := canned.calls.Load(); n != 6 {
			t.Fatalf("%d attempts, want 6", n)
		}
	})
	t.Run("retries off", func(t *testing.T) {
		canned, srv := newCanned(t, throttleFirst(1))
		c := loadTestClient(t, srv.URL, Options{MaxAttempts: 1})
		_, err := c.Sign(context.Background(), req)
		var ae *kmssigner.APIError
		if !errors.As(err, &ae) || ae.Code != "ThrottlingException" {
			t.Fatalf("err = %v, want ThrottlingException", err)
		}
		if n := canned.calls.Load(); n != 1 {
			t.Fatalf("%d attempts, want 1", n)
		}
	})
	t.Run("exhausted", func(t *testing.T) {
		canned, srv := newCanned(t, throttleFirst(100))
		c := loadTestClient(t, srv.URL, Options{MaxAttempts: 2})
		_, err := c.Sign(context.Background(), req)
		var ae *kmssigner.APIError
		if !errors.As(err, &ae) || ae.Code != "ThrottlingException" {
			t.Fatalf("err = %v, want ThrottlingException", err)
		}
		if n := canned.calls.Load(); n != 2 {
			t.Fatalf("%d attempts, want 2", n)
		}
	})
}

func TestCancelledContextReturnsPromptly(t *testing.T) {
	release := make(chan struct{})
	_, srv := newCanned(t, func(int64, string, map[string]any) (int, any) {
		select {
		case <-release:
		case <-time.After(10 * time.Second):
		}
		return 200, map[string]any{"Signature": "c2ln"}
	})
	defer close(release)
	c := loadTestClient(t, srv.URL, Options{})
	req := &kmssigner.SignRequest{KeyID: "k", Message: make([]byte, 32), MessageType: "DIGEST", SigningAlgorithm: "ECDSA_SHA_256"}

	t.Run("canceled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		start := time.Now()
		_, err := c.Sign(ctx, req)
		if err != context.Canceled {
			t.Fatalf("err = %#v, want context.Canceled itself", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("returned after %v", d)
		}
	})
	t.Run("deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := c.GetPublicKey(ctx, "k")
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want context.DeadlineExceeded", err)
		}
	})
	t.Run("already cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := c.Sign(ctx, req); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestTransportFailureIsRequestFailed(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	c := loadTestClient(t, "http://"+addr, Options{MaxAttempts: 2})
	_, err = c.GetPublicKey(context.Background(), "k")
	if !errors.Is(err, ErrRequestFailed) {
		t.Fatalf("err = %v, want ErrRequestFailed", err)
	}
	var ae *kmssigner.APIError
	if errors.As(err, &ae) {
		t.Fatalf("a connection failure must not look like a KMS refusal: %v", err)
	}
}

func TestEmptyResponseIsInvalidResponse(t *testing.T) {
	_, srv := newCanned(t, func(int64, string, map[string]any) (int, any) { return 200, map[string]any{"KeyId": "k"} })
	c := loadTestClient(t, srv.URL, Options{})
	if _, err := c.GetPublicKey(context.Background(), "k"); !errors.Is(err, ErrInvalidResponse) {
		t.Fatalf("GetPublicKey err = %v", err)
	}
	_, err := c.Sign(context.Background(), &kmssigner.SignRequest{KeyID: "k", Message: []byte("m"), SigningAlgorithm: "ED25519_SHA_512"})
	if !errors.Is(err, ErrInvalidResponse) {
		t.Fatalf("Sign err = %v", err)
	}
}

func TestLoadRejectsNegativeOptions(t *testing.T) {
	isolateAWSConfig(t)
	if _, err := Load(context.Background(), Options{MaxAttempts: -1}); !errors.Is(err, ErrConfig) {
		t.Fatalf("err = %v", err)
	}
}
