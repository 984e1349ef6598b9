package cms

import (
	"bytes"
	"crypto/sha512"
	"testing"

	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
	"github.com/pkikit/pkikit/x509ext"
)

func BenchmarkTmpPaired(b *testing.B) {
	ml := benchSetup(b, x509ext.KeyMLDSA65)
	mlAttrs, mlSig := ml.p.mustSignedAttrs(b, ml.sig), ml.p.mustSignature(b, ml.sig)
	mlPub := ml.signer.cert.PublicKey.(*mldsa65.PublicKey)
	v, _ := NewVerifier(ml.p.opts())
	res, _ := v.Verify(ml.sig, bytes.NewReader(bench1KiB))
	vPub := res.Signers[0].Certificate.PublicKey.(*mldsa65.PublicKey)
	raw := func() {
		sha512.Sum512(bench1KiB)
		if !mldsa65.Verify(mlPub, mlAttrs, nil, mlSig) {
			b.Fatal("bad")
		}
	}
	b.Run("calib", func(b *testing.B) { paired(b, raw, raw) })
	b.Run("otherkey", func(b *testing.B) {
		paired(b, func() {
			sha512.Sum512(bench1KiB)
			mldsa65.Verify(vPub, mlAttrs, nil, mlSig)
		}, raw)
	})
	b.Run("parse", func(b *testing.B) {
		paired(b, func() { Parse(ml.sig, nil); raw() }, raw)
	})
	b.Run("parse+find", func(b *testing.B) {
		paired(b, func() {
			sd, _ := Parse(ml.sig, nil)
			var c *candidates
			v.findSigner(sd, sd.SignerInfos[0], &c)
			raw()
		}, raw)
	})
	b.Run("parse+find+memeqonly", func(b *testing.B) {
		c0 := res.Signers[0].Certificate
		paired(b, func() {
			sd, _ := Parse(ml.sig, nil)
			if !bytes.Equal(sd.RawCertificates[0], c0.Raw) {
				b.Fatal("x")
			}
			raw()
		}, raw)
	})
	b.Run("warm", func(b *testing.B) {
		paired(b, func() { v.Verify(ml.sig, bytes.NewReader(bench1KiB)) }, raw)
	})
}

func BenchmarkTmpPairedSign(b *testing.B) {
	ml := benchSetup(b, x509ext.KeyMLDSA65)
	mlKey := ml.signer.key.(*mldsa65.PrivateKey)
	mlMsg := make([]byte, len(ml.p.mustSignedAttrs(b, ml.sig)))
	mlOut := make([]byte, mldsa65.SignatureSize)
	raw := func() {
		d := sha512.Sum512(bench1KiB)
		copy(mlMsg, d[:])
		must(b, mldsa65.SignTo(mlKey, mlMsg, nil, true, mlOut))
	}
	o := &SignOptions{Time: testNow}
	b.Run("calib", func(b *testing.B) { paired(b, raw, raw) })
	b.Run("cms", func(b *testing.B) {
		paired(b, func() {
			_, err := Sign(nil, bytes.NewReader(bench1KiB), []*Signer{ml.signer}, o)
			must(b, err)
		}, raw)
	})
}
