//go:build !go1.27

package alg

import "crypto"

// Before Go 1.27 the standard library has no ML-DSA types.
func keyTypeOfStdlib(any) (KeyType, bool)                         { return KeyUnknown, false }
func stdlibMLDSAPublic(crypto.PublicKey) (crypto.PublicKey, bool) { return nil, false }

func stdlibMLDSAPrivate(crypto.PrivateKey) (crypto.Signer, bool) { return nil, false }
