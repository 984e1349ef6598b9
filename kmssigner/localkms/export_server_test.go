package localkms_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/pkikit/pkikit/internal/alg"
	"github.com/pkikit/pkikit/kmssigner/localkms"
)

// callPkikit sends a pkikit extension operation, SigV4-signed with the AWS SDK's own signer (the SDK's KMS client
// has no method for it), and returns the status and body.
func callPkikit(t *testing.T, endpoint, op string, in any) (int, []byte) {
	t.Helper()
	body, _ := json.Marshal(in)
	req, _ := http.NewRequest(http.MethodPost, endpoint+"/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "TrentService."+op)
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: testSecret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "kms", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func startServerWith(t *testing.T, k *localkms.KMS, opts localkms.ServerOptions) string {
	t.Helper()
	opts.Credentials = []localkms.Credentials{{AccessKeyID: testAKID, SecretAccessKey: testSecret}}
	srv, err := localkms.NewServer(k, &opts)
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

// Over HTTP: signing through the real AWS SDK client and exporting through PkikitExportKey are recorded with
// the SigV4 access key id as the caller; a non-exportable key refuses with PkikitKeyNotExportableException.
func TestServerExportAndAuditCaller(t *testing.T) {
	k := localkms.NewMemory(&localkms.Options{WeakExportKDFUnsafe: true})
	endpoint := startServerWith(t, k, localkms.ServerOptions{AllowExportKeyUnsafe: true})
	c := sdkClient(endpoint, testAKID, testSecret)
	ctx := context.Background()

	status, body := callPkikit(t, endpoint, "CreateKey", map[string]any{"KeySpec": "ML_DSA_65", "KeyUsage": "SIGN_VERIFY", "PkikitExportable": true})
	var created localkms.CreateKeyOutput
	if status != 200 || json.Unmarshal(body, &created) != nil || !created.KeyMetadata.Exportable {
		t.Fatalf("CreateKey: %d %s", status, body)
	}
	id := created.KeyMetadata.KeyId
	plain, err := c.CreateKey(ctx, &kms.CreateKeyInput{KeySpec: types.KeySpecEccNistP256, KeyUsage: types.KeyUsageTypeSignVerify})
	if err != nil {
		t.Fatal(err)
	}
	plainID := aws.ToString(plain.KeyMetadata.KeyId)

	msg := []byte("signed over HTTP")
	if _, err := c.Sign(ctx, &kms.SignInput{KeyId: aws.String(id), Message: msg, SigningAlgorithm: types.SigningAlgorithmSpecMlDsaShake256}); err != nil {
		t.Fatal(err)
	}
	gp, err := c.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}

	status, body = callPkikit(t, endpoint, "PkikitExportKey", localkms.ExportKeyInput{KeyId: id, Passphrase: []byte("http export passphrase"), Iterations: 1000})
	var out localkms.ExportKeyOutput
	if status != 200 || json.Unmarshal(body, &out) != nil {
		t.Fatalf("PkikitExportKey: %d %s", status, body)
	}
	key, err := localkms.DecryptPKCS8(out.PEM, []byte("http export passphrase"))
	if err != nil {
		t.Fatal(err)
	}
	if spki, _ := alg.MarshalPKIXPublicKey(key.Public()); !bytes.Equal(spki, gp.PublicKey) {
		t.Fatal("exported key differs")
	}

	status, body = callPkikit(t, endpoint, "PkikitExportKey", localkms.ExportKeyInput{KeyId: plainID, Passphrase: []byte("http export passphrase"), Iterations: 1000})
	var e struct {
		Type string `json:"__type"`
	}
	if status != 400 || json.Unmarshal(body, &e) != nil || e.Type != localkms.CodeKeyNotExportable {
		t.Fatalf("non-exportable: %d %s", status, body)
	}

	recs, err := k.AuditLog()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"CreateKey " + id + " Success", "CreateKey " + plainID + " Success", "Sign " + id + " Success",
		"GetPublicKey " + id + " Success", "ExportKey " + id + " Success", "ExportKey " + plainID + " " + localkms.CodeKeyNotExportable}
	if len(recs) != len(want) {
		t.Fatalf("%d records: %+v", len(recs), recs)
	}
	for i, r := range recs {
		if got := r.Operation + " " + r.KeyID + " " + r.Outcome; got != want[i] || r.Caller != testAKID {
			t.Fatalf("record %d: %+v, want %s by %s", i, r, want[i], testAKID)
		}
	}
}

// Without AllowExportKeyUnsafe the server does not know PkikitExportKey, and the attempt touches no key.
func TestServerExportOffByDefault(t *testing.T) {
	k := localkms.NewMemory(&localkms.Options{WeakExportKDFUnsafe: true})
	endpoint := startServer(t, k)
	out, err := k.CreateKey(context.Background(), &localkms.CreateKeyInput{KeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY", Exportable: true})
	if err != nil {
		t.Fatal(err)
	}
	status, body := callPkikit(t, endpoint, "PkikitExportKey", localkms.ExportKeyInput{KeyId: out.KeyMetadata.KeyId, Passphrase: []byte("http export passphrase"), Iterations: 1000})
	var e struct {
		Type string `json:"__type"`
	}
	if status != 400 || json.Unmarshal(body, &e) != nil || e.Type != localkms.CodeUnknownOperation {
		t.Fatalf("%d %s", status, body)
	}
	if recs, _ := k.AuditLog(); len(recs) != 1 {
		t.Fatalf("records: %+v", recs)
	}
}
