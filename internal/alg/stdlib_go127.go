//go:build go1.27

package alg

import (
	"crypto"
	"crypto/mldsa"
)

// On Go 1.27 and later the standard library's crypto/mldsa keys are accepted wherever circl's are: public keys
// are converted to circl's (by their FIPS 204 encoding), and *mldsa.PrivateKey signs as any crypto.Signer.
func keyTypeOfStdlib(key any) (KeyType, bool) {
	var p mldsa.Parameters
	switch k := key.(type) {
	case *mldsa.PublicKey:
		p = k.Parameters()
	case *mldsa.PrivateKey:
		p = k.PublicKey().Parameters()
	default:
		return KeyUnknown, false
	}
	switch p {
	case mldsa.MLDSA44():
		return KeyMLDSA44, true
	case mldsa.MLDSA65():
		return KeyMLDSA65, true
	case mldsa.MLDSA87():
		return KeyMLDSA87, true
	}
	return KeyUnknown, false
}

func stdlibMLDSAPublic(pub crypto.PublicKey) (crypto.PublicKey, bool) {
	k, ok := pub.(*mldsa.PublicKey)
	if !ok {
		return nil, false
	}
	kt, _ := keyTypeOfStdlib(k)
	c, err := NewMLDSAPublicKey(kt, k.Bytes())
	if err != nil {
		return nil, false
	}
	return c, true
}

// stdlibMLDSAPrivate converts a standard-library ML-DSA private key to circl's through its seed.
func stdlibMLDSAPrivate(key crypto.PrivateKey) (crypto.Signer, bool) {
	k, ok := key.(*mldsa.PrivateKey)
	if !ok {
		return nil, false
	}
	kt, _ := keyTypeOfStdlib(k)
	c, err := NewMLDSAKeyFromSeed(kt, k.Bytes())
	if err != nil {
		return nil, false
	}
	return c, true
}
