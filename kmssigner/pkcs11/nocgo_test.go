//go:build !cgo

package pkcs11

import (
	"context"
	"errors"
	"testing"

	"github.com/pkikit/pkikit/kmssigner"
)

func TestWithoutCgoEveryOperationIsErrNoCgo(t *testing.T) {
	ctx := context.Background()
	if _, err := New(Config{ModulePath: "/usr/lib/softhsm/libsofthsm2.so", TokenLabel: "t", PIN: "1"}); !errors.Is(err, ErrNoCgo) {
		t.Fatalf("New: %v", err)
	}
	var c Client
	if _, err := c.GetPublicKey(ctx, "k"); !errors.Is(err, ErrNoCgo) {
		t.Fatalf("GetPublicKey: %v", err)
	}
	if _, err := c.Sign(ctx, &kmssigner.SignRequest{}); !errors.Is(err, ErrNoCgo) {
		t.Fatalf("Sign: %v", err)
	}
	if _, err := kmssigner.Open(ctx, "pkcs11:token=t;object=k?module-path=/m.so&pin-value=1"); !errors.Is(err, ErrNoCgo) {
		t.Fatalf("Open: %v", err)
	}
	if _, err := kmssigner.Open(ctx, "pkcs11:objet=k"); !errors.Is(err, ErrInvalidURI) {
		t.Fatalf("Open of a bad URI: %v", err)
	}
}
