package cms

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"io"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/pkikit/pkikit/internal/alg"
	"github.com/pkikit/pkikit/x509ext"
)

// remoteSigner is a context-aware signer as a KMS client is: only SignMessageContext does the work; it counts
// calls and records whether the context arrived.
type remoteSigner struct {
	key   crypto.Signer
	calls atomic.Int32
	ctxOK atomic.Bool
}

type ctxKey struct{}

func (r *remoteSigner) Public() crypto.PublicKey { return r.key.Public() }
func (r *remoteSigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, errors.New("remoteSigner: Sign called instead of SignMessageContext")
}
func (r *remoteSigner) SignMessageContext(ctx context.Context, _ io.Reader, msg []byte, _ crypto.SignerOpts) ([]byte, error) {
	r.calls.Add(1)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.ctxOK.Store(ctx.Value(ctxKey{}) == "here")
	a, _ := alg.KeyTypeOf(r.key)
	return alg.Sign(context.Background(), r.key, a.DefaultAlgorithm(), msg)
}

func TestRemoteSignerOneCallWithContext(t *testing.T) {
	for _, kt := range []x509ext.KeyAlgorithm{x509ext.KeyMLDSA65, x509ext.KeyEd25519} {
		t.Run(kt.String(), func(t *testing.T) {
			p := pkiFor(t, kt)
			cert, key := p.leaf(t, kt, nil)
			rs := &remoteSigner{key: key}
			s, err := NewSigner(rs, cert, &SignerOptions{Intermediates: []*x509ext.Certificate{p.sub}})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.WithValue(context.Background(), ctxKey{}, "here")
			der, err := Sign(ctx, bytes.NewReader(testContent), []*Signer{s}, &SignOptions{Time: testNow})
			if err != nil {
				t.Fatal(err)
			}
			if rs.calls.Load() != 1 || !rs.ctxOK.Load() {
				t.Fatalf("%d signer calls, context passed: %v", rs.calls.Load(), rs.ctxOK.Load())
			}
			if _, err := Verify(der, bytes.NewReader(testContent), p.opts()); err != nil {
				t.Fatal(err)
			}
			cctx, cancel := context.WithCancel(ctx)
			cancel()
			if _, err := Sign(cctx, bytes.NewReader(testContent), []*Signer{s}, nil); !errors.Is(err, context.Canceled) {
				t.Fatalf("canceled context: %v", err)
			}
		})
	}
}

// badSigner returns garbage signatures; alg.Sign's check turns them into ErrSign.
type badSigner struct{ crypto.Signer }

func (b badSigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return []byte{1, 2, 3}, nil
}

func TestSignerReturningBadSignature(t *testing.T) {
	p := pkiFor(t, x509ext.KeyECDSAP256)
	cert, key := p.leaf(t, x509ext.KeyECDSAP256, nil)
	s, err := NewSigner(badSigner{key}, cert, nil)
	if err != nil {
		t.Fatal(err)
	}
	var ce *Error
	if _, err := Sign(context.Background(), bytes.NewReader(testContent), []*Signer{s}, nil); !errors.Is(err, ErrSign) || !errors.As(err, &ce) || ce.Signer != 0 {
		t.Fatalf("got %v", err)
	}
}

// patternContent yields n bytes without holding them.
type patternContent struct{ left int64 }

func (r *patternContent) Read(p []byte) (int, error) {
	if r.left <= 0 {
		return 0, io.EOF
	}
	n := min(int64(len(p)), r.left)
	for i := range p[:n] {
		p[i] = byte(i)
	}
	r.left -= n
	return int(n), nil
}

// TestStreamingConstantMemory: signing and verifying 64 MiB allocates a small, size-independent amount.
func TestStreamingConstantMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 64 MiB")
	}
	p := pkiFor(t, x509ext.KeyMLDSA65)
	s := p.signer(t, x509ext.KeyMLDSA65, nil)
	const size = 64 << 20
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	der, err := Sign(context.Background(), &patternContent{size}, []*Signer{s}, &SignOptions{Time: testNow})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Verify(der, &patternContent{size}, p.opts())
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4<<20 {
		t.Fatalf("signing and verifying 64 MiB allocated %d bytes", alloc)
	}
	if res.Signers[0].Err != nil {
		t.Fatal(res.Signers[0].Err)
	}
	// And the content really was digested: a different 64 MiB fails.
	if _, err := Verify(der, &patternContent{size - 1}, p.opts()); !errors.Is(err, ErrContentDigest) {
		t.Fatalf("shorter content: %v", err)
	}
}
