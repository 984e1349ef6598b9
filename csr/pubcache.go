package csr

import (
	"crypto"
	"runtime"
	"sync"
	"weak"

	"github.com/cloudflare/circl/sign/mldsa/mldsa44"
	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
	"github.com/cloudflare/circl/sign/mldsa/mldsa87"
)

// signerPublic returns signer.Public(). An in-memory circl ML-DSA private key does not store t1, so its Public()
// recomputes the public key (matrix expansion and NTTs, about a tenth of an ML-DSA-65 signature) on every call;
// for those keys the answer is remembered per key object. The cache holds weak pointers to the private keys (it
// keeps none alive) and drops an entry when its key is collected. It assumes, as crypto.Signer users do, that a
// key object is not overwritten in place; if it were, the request would fail its own CheckSignature.
func signerPublic(signer crypto.Signer) crypto.PublicKey {
	switch sk := signer.(type) {
	case *mldsa44.PrivateKey:
		if sk != nil {
			return publicOf44.get(sk, signer)
		}
	case *mldsa65.PrivateKey:
		if sk != nil {
			return publicOf65.get(sk, signer)
		}
	case *mldsa87.PrivateKey:
		if sk != nil {
			return publicOf87.get(sk, signer)
		}
	}
	return signer.Public()
}

type publicCache[SK any] struct{ m sync.Map } // weak.Pointer[SK] → crypto.PublicKey

var (
	publicOf44 publicCache[mldsa44.PrivateKey]
	publicOf65 publicCache[mldsa65.PrivateKey]
	publicOf87 publicCache[mldsa87.PrivateKey]
)

func (c *publicCache[SK]) get(sk *SK, signer crypto.Signer) crypto.PublicKey {
	k := weak.Make(sk)
	if pub, ok := c.m.Load(k); ok {
		return pub
	}
	pub := signer.Public()
	if _, loaded := c.m.LoadOrStore(k, pub); !loaded {
		runtime.AddCleanup(sk, func(k weak.Pointer[SK]) { c.m.Delete(k) }, k)
	}
	return pub
}
