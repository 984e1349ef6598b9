package truststore

import (
	"sync"
	"testing"

	"github.com/pkikit/pkikit/internal/alg"
	"github.com/pkikit/pkikit/x509ext"
)

// TestConcurrentVerify: one store used by many goroutines (run under -race) while anchors are added.
func TestConcurrentVerify(t *testing.T) {
	ch := mkChain(t, alg.KeyMLDSA44, alg.KeyECDSAP256, alg.KeyEd25519)
	other := mkChain(t, alg.KeyEd25519, alg.KeyEd25519, alg.KeyEd25519)
	s := NewStore(ch.root)
	s.maxMemo = 2 // force cache resets while verifying
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				if _, err := s.Verify(ch.leaf, VerifyOptions{Time: testNow, Intermediates: []*x509ext.Certificate{ch.inter}}); err != nil {
					errs <- err
					return
				}
				s.ParseCertificate(other.inter.Raw)
			}
		}()
	}
	s.AddAnchor(other.root)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
