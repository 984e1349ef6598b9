package x509ext

import (
	"crypto"
	"runtime"
	"sync"
	"weak"

	"github.com/cloudflare/circl/sign/mldsa/mldsa44"
	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
	"github.com/cloudflare/circl/sign/mldsa/mldsa87"
	"github.com/pkikit/pkikit/internal/alg"
)

// signerMatches reports whether signer holds the private half of pub (alg.MatchesPublicKey). For in-memory
// circl ML-DSA keys that check hashes the whole public key (SHAKE-256 over ~2 KB) and packs the private key,
// about 5% of an ML-DSA-65 signature; an Issuer signs many certificates with the same key pair, so positive
// answers for those keys are remembered per (private key, public key) object pair. The cache holds weak
// pointers only (it keeps no key alive) and drops an entry when either key is collected.
func signerMatches(signer crypto.Signer, pub crypto.PublicKey) bool {
	switch sk := signer.(type) {
	case *mldsa44.PrivateKey:
		if pk, ok := pub.(*mldsa44.PublicKey); ok && sk != nil && pk != nil {
			return matches44.check(sk, pk, signer, pub)
		}
	case *mldsa65.PrivateKey:
		if pk, ok := pub.(*mldsa65.PublicKey); ok && sk != nil && pk != nil {
			return matches65.check(sk, pk, signer, pub)
		}
	case *mldsa87.PrivateKey:
		if pk, ok := pub.(*mldsa87.PublicKey); ok && sk != nil && pk != nil {
			return matches87.check(sk, pk, signer, pub)
		}
	}
	return alg.MatchesPublicKey(signer, pub)
}

type keyPair[SK, PK any] struct {
	sk weak.Pointer[SK]
	pk weak.Pointer[PK]
}

// matchCache is a set of key pairs known to match.
type matchCache[SK, PK any] struct{ m sync.Map }

var (
	matches44 matchCache[mldsa44.PrivateKey, mldsa44.PublicKey]
	matches65 matchCache[mldsa65.PrivateKey, mldsa65.PublicKey]
	matches87 matchCache[mldsa87.PrivateKey, mldsa87.PublicKey]
)

func (c *matchCache[SK, PK]) check(sk *SK, pk *PK, signer crypto.Signer, pub crypto.PublicKey) bool {
	k := keyPair[SK, PK]{weak.Make(sk), weak.Make(pk)}
	if _, ok := c.m.Load(k); ok {
		return true
	}
	if !alg.MatchesPublicKey(signer, pub) {
		return false
	}
	if _, loaded := c.m.LoadOrStore(k, struct{}{}); !loaded {
		runtime.AddCleanup(sk, func(k keyPair[SK, PK]) { c.m.Delete(k) }, k)
		runtime.AddCleanup(pk, func(k keyPair[SK, PK]) { c.m.Delete(k) }, k)
	}
	return true
}
