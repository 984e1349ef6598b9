//go:build !cgo

package pkcs11

import (
	"context"

	"github.com/pkikit/pkikit/kmssigner"
)

// Client is a kmssigner.Client over a PKCS#11 token. This build has no cgo (CGO_ENABLED=0), so every
// operation fails with ErrNoCgo; rebuild with cgo to use PKCS#11.
type Client struct{}

var _ kmssigner.Client = (*Client)(nil)

// New fails with ErrNoCgo: this build cannot load PKCS#11 modules.
func New(Config) (*Client, error) { return nil, errf("open token", ErrNoCgo, "") }

// Close does nothing.
func (*Client) Close() error { return nil }

// GetPublicKey fails with ErrNoCgo.
func (*Client) GetPublicKey(context.Context, string) (*kmssigner.PublicKeyInfo, error) {
	return nil, errf("get public key", ErrNoCgo, "")
}

// Sign fails with ErrNoCgo.
func (*Client) Sign(context.Context, *kmssigner.SignRequest) ([]byte, error) {
	return nil, errf("sign", ErrNoCgo, "")
}

// OpenURI parses uri (so a malformed URI is still reported as such) and then fails with ErrNoCgo.
func OpenURI(ctx context.Context, uri string) (*Client, string, error) {
	if _, err := ParseURI(uri); err != nil {
		return nil, "", err
	}
	return nil, "", errf("open URI", ErrNoCgo, "")
}
