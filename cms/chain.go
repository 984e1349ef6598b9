package cms

import (
	"crypto/x509"
	"errors"
	"slices"
	"time"

	"github.com/pkikit/pkikit/truststore"
	"github.com/pkikit/pkikit/x509ext"
)

// verifyChain asks the trust store for the signer's chain: cms never builds chains itself. The purpose given to
// the store is code signing when that is the only extended key usage asked for, else any (the leaf's extended
// key usage is then checked by cms alone).
func verifyChain(store *truststore.Store, leaf *x509ext.Certificate, inter []*x509ext.Certificate, now time.Time, eku []x509.ExtKeyUsage) ([]*x509ext.Certificate, error) {
	purpose := truststore.PurposeAny
	if len(eku) == 1 && eku[0] == x509.ExtKeyUsageCodeSigning {
		purpose = truststore.PurposeCodeSigning
	}
	chains, err := store.Verify(leaf, truststore.VerifyOptions{Time: now, Purpose: purpose, Intermediates: inter})
	if err != nil {
		reason := ErrUntrusted
		switch {
		case errors.Is(err, truststore.ErrExpired) || errors.Is(err, truststore.ErrNotYetValid):
			if !errors.Is(err, truststore.ErrUntrustedRoot) && !errors.Is(err, truststore.ErrBadSignature) {
				reason = ErrExpired
			}
		case errors.Is(err, truststore.ErrEKU) || errors.Is(err, truststore.ErrKeyUsage):
			if !errors.Is(err, truststore.ErrUntrustedRoot) && !errors.Is(err, truststore.ErrBadSignature) {
				reason = ErrEKU
			}
		}
		return nil, newErr("verify", -1, reason, "certificate chain", err)
	}
	if len(chains) == 0 {
		return nil, newErr("verify", -1, ErrUntrusted, "no chain", nil)
	}
	// The shortest chain is the most direct.
	return slices.MinFunc(chains, func(a, b []*x509ext.Certificate) int { return len(a) - len(b) }), nil
}
