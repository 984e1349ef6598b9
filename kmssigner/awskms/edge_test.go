package awskms

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/pkikit/pkikit/kmssigner"
)

// Review edge cases: a nil *Client, a Client over a nil API and a nil context are bad input, never a panic.
func TestNilClientAndContext(t *testing.T) {
	req := &kmssigner.SignRequest{KeyID: "k", Message: []byte("m"), SigningAlgorithm: kmssigner.SigningAlgorithmEd25519SHA512}
	for _, tc := range []struct {
		name string
		c    *Client
		ctx  context.Context
	}{
		{"NilClient", nil, context.Background()},
		{"NilAPI", New(nil), context.Background()},
		{"ZeroClient", &Client{}, context.Background()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("panic: %v", r)
				}
			}()
			if _, err := tc.c.GetPublicKey(tc.ctx, "k"); !errors.Is(err, ErrInvalidRequest) {
				t.Errorf("GetPublicKey: err = %v, want ErrInvalidRequest", err)
			}
			if _, err := tc.c.Sign(tc.ctx, req); !errors.Is(err, ErrInvalidRequest) {
				t.Errorf("Sign: err = %v, want ErrInvalidRequest", err)
			}
			// kmssigner.New over such a client is a typed error too.
			if _, err := kmssigner.New(context.Background(), tc.c, "k", nil); !errors.Is(err, kmssigner.ErrBackend) {
				t.Errorf("kmssigner.New: err = %v, want ErrBackend", err)
			}
		})
	}
}

// stubAPI fails every call as a transport would.
type stubAPI struct{}

func (stubAPI) GetPublicKey(context.Context, *kms.GetPublicKeyInput, ...func(*kms.Options)) (*kms.GetPublicKeyOutput, error) {
	return nil, errors.New("connection refused")
}

func (stubAPI) Sign(context.Context, *kms.SignInput, ...func(*kms.Options)) (*kms.SignOutput, error) {
	return nil, errors.New("connection refused")
}

// A nil context is taken as context.Background(), as kmssigner does, not dereferenced.
func TestNilContext(t *testing.T) {
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("panic: %v", r)
		}
	}()
	c := New(stubAPI{})
	//lint:ignore SA1012 a nil context is the edge case under test
	if _, err := c.GetPublicKey(nil, "k"); !errors.Is(err, ErrRequestFailed) {
		t.Errorf("GetPublicKey: err = %v, want ErrRequestFailed", err)
	}
	req := &kmssigner.SignRequest{KeyID: "k", Message: []byte("m"), SigningAlgorithm: kmssigner.SigningAlgorithmEd25519SHA512}
	//lint:ignore SA1012 a nil context is the edge case under test
	if _, err := c.Sign(nil, req); !errors.Is(err, ErrRequestFailed) {
		t.Errorf("Sign: err = %v, want ErrRequestFailed", err)
	}
}

// A malformed endpoint is reported without the credentials it may carry.
func TestParseURIEndpointErrorHidesUserinfo(t *testing.T) {
	for _, in := range []string{
		"awskms:key-id=k;endpoint=ftp://AKIAEXAMPLE:s3cr3tPassw0rd@host",
		"awskms:key-id=k;endpoint=http://AKIAEXAMPLE:s3cr3tPassw0rd@host:bad-port",
		"awskms:key-id=k;endpoint=ftp://s3cr3tPassw0rd@host",
	} {
		_, err := ParseURI(in)
		if !errors.Is(err, ErrInvalidURI) {
			t.Fatalf("%s: err = %v", in, err)
		}
		if strings.Contains(err.Error(), "s3cr3tPassw0rd") {
			t.Errorf("error shows the password: %v", err)
		}
	}
}
