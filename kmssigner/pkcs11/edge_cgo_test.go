//go:build cgo

package pkcs11

import (
	"context"
	"crypto/sha256"
	"errors"
	"testing"

	"github.com/pkikit/pkikit/kmssigner"
)

// Review edge cases: a nil or zero Client is an unopened one (ErrClosed), never a panic.
func TestNilAndZeroClient(t *testing.T) {
	d := sha256.Sum256(nil)
	req := &kmssigner.SignRequest{KeyID: "p256", Message: d[:], MessageType: "DIGEST", SigningAlgorithm: "ECDSA_SHA_256"}
	for _, tc := range []struct {
		name string
		c    *Client
	}{
		{"NilClient", nil},
		{"ZeroClient", &Client{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("panic: %v", r)
				}
			}()
			if _, err := tc.c.GetPublicKey(context.Background(), "p256"); !errors.Is(err, ErrClosed) {
				t.Errorf("GetPublicKey: err = %v, want ErrClosed", err)
			}
			if _, err := tc.c.Sign(context.Background(), req); !errors.Is(err, ErrClosed) {
				t.Errorf("Sign: err = %v, want ErrClosed", err)
			}
			if err := tc.c.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
			if _, err := kmssigner.New(context.Background(), tc.c, "p256", nil); !errors.Is(err, ErrClosed) {
				t.Errorf("kmssigner.New: err = %v, want ErrClosed", err)
			}
		})
	}
}

// A nil context is taken as context.Background(), as kmssigner does, not dereferenced.
func TestNilContextIsBackground(t *testing.T) {
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("panic: %v", r)
		}
	}()
	c := newTestClient(t)
	//lint:ignore SA1012 a nil context is the edge case under test
	if _, err := c.GetPublicKey(nil, "p256"); err != nil {
		t.Fatalf("GetPublicKey: %v", err)
	}
	d := sha256.Sum256(nil)
	//lint:ignore SA1012 a nil context is the edge case under test
	if _, err := c.Sign(nil, &kmssigner.SignRequest{KeyID: "p256", Message: d[:], MessageType: "DIGEST", SigningAlgorithm: "ECDSA_SHA_256"}); err != nil {
		t.Fatalf("Sign: %v", err)
	}
	//lint:ignore SA1012 a nil context is the edge case under test
	if _, _, err := OpenURI(nil, "pkcs11:objet=k"); !errors.Is(err, ErrInvalidURI) {
		t.Fatalf("OpenURI: err = %v, want ErrInvalidURI", err)
	}
}
