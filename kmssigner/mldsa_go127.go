//go:build go1.27

package kmssigner

import (
	"crypto"
	"crypto/mldsa"
)

// MLDSAMu is the crypto.SignerOpts.HashFunc() value meaning "the input already is the ML-DSA μ" (crypto.MLDSAMu
// on Go 1.27, filippo.io/mldsa/mldsacrypto.MLDSAMu before).
const MLDSAMu crypto.Hash = crypto.MLDSAMu

// stdlibMLDSAContext accepts *crypto/mldsa.Options (which *filippo.io/mldsa.Options aliases on Go 1.27).
func stdlibMLDSAContext(opts crypto.SignerOpts) ([]byte, bool) {
	if o, ok := opts.(*mldsa.Options); ok {
		if o == nil {
			return nil, true
		}
		return []byte(o.Context), true
	}
	return nil, false
}
