package x509ext

import (
	"context"
	"crypto"
	"errors"
	"io"
	"testing"
	"time"
)

type ctxKey struct{}

// remoteSigner stands for a KMS/HSM signer: it only has the context-aware method besides crypto.Signer, and
// counts its calls.
type remoteSigner struct {
	crypto.Signer
	calls   int
	sawCtx  bool
	corrupt bool
}

func (r *remoteSigner) SignContext(ctx context.Context, rand io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	r.calls++
	r.sawCtx = ctx.Value(ctxKey{}) == "issue"
	sig, err := r.Signer.Sign(rand, digest, opts)
	if r.corrupt && err == nil {
		sig[len(sig)-1] ^= 1
	}
	return sig, err
}

func TestIssueThroughContextSigner(t *testing.T) {
	root := newRoot(t, KeyECDSAP384, 0, "remote root")
	rs := &remoteSigner{Signer: root.Signer}
	iss := &Issuer{Certificate: root.Certificate, Signer: rs, Now: fixedNow}
	ctx := context.WithValue(context.Background(), ctxKey{}, "issue")
	c, err := iss.Issue(ctx, &IssueRequest{Profile: CodeSigningCertificateV1, PublicKey: testKey(t, KeyMLDSA44).Public(),
		Subject: pkixCN("remote leaf"), Validity: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if rs.calls != 1 || !rs.sawCtx {
		t.Fatalf("calls=%d sawCtx=%v", rs.calls, rs.sawCtx)
	}
	if err := c.CheckSignatureFrom(root.Certificate); err != nil {
		t.Fatal(err)
	}
	if _, err := iss.CreateCRL(ctx, &CRLRequest{Validity: time.Hour}); err != nil || rs.calls != 2 {
		t.Fatalf("CRL via remote signer: %v calls=%d", err, rs.calls)
	}
	// A signer returning a bad signature is caught before a certificate is returned.
	rs.corrupt = true
	if _, err := iss.Issue(ctx, &IssueRequest{Profile: CodeSigningCertificateV1, PublicKey: testKey(t, KeyMLDSA44).Public(),
		Subject: pkixCN("remote leaf"), Validity: time.Hour}); !errors.Is(err, ErrSignerFailed) {
		t.Fatalf("corrupt signer: %v", err)
	}
}
