package awskms

import (
	"context"

	"github.com/pkikit/pkikit/kmssigner"
)

// Importing this package registers the awskms: scheme with kmssigner.Open, which then loads the AWS SDK's
// default configuration adjusted by the URI (LoadURI with zero Options). For other Options (MaxAttempts,
// Credentials, an HTTP client) call LoadURI and kmssigner.New.
func init() {
	kmssigner.Register(Scheme, func(ctx context.Context, uri string) (kmssigner.Client, string, error) {
		c, keyID, err := LoadURI(ctx, uri, Options{})
		if err != nil {
			return nil, "", err
		}
		return c, keyID, nil
	})
}
