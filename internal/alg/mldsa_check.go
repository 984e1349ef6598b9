package alg

import (
	"crypto/sha3"
	"crypto/subtle"
)

// checkExpandedMLDSA checks an expanded ML-DSA private key (FIPS 204 skEncode: ρ ‖ K ‖ tr ‖ s1 ‖ s2 ‖ t0) the way
// OpenSSL does: it recomputes t = NTT⁻¹(Â ∘ NTT(s1)) + s2, splits it with Power2Round into (t1, t0), and requires
// the stored t0 to equal the computed one and the stored tr to equal H(ρ ‖ t1, 64). pkT1 is the packed t1 of the
// public key circl derived from the same bytes: it must equal ours, which cross-checks this code against circl.
// RFC 9881 Appendix C.4's bad keys 2 (wrong tr) and 3 (one bit of t0 changed) fail here.
func checkExpandedMLDSA(kt KeyType, sk, pkRaw []byte) bool {
	var k, l, eta int
	switch kt {
	case KeyMLDSA44:
		k, l, eta = 4, 4, 2
	case KeyMLDSA65:
		k, l, eta = 6, 5, 4
	case KeyMLDSA87:
		k, l, eta = 8, 7, 2
	default:
		return false
	}
	etaBits := 3
	if eta == 4 {
		etaBits = 4
	}
	etaPoly := 32 * etaBits
	if len(sk) != 128+(k+l)*etaPoly+k*416 || len(pkRaw) != 32+k*320 {
		return false
	}
	rho := sk[:32]
	off := 128
	s1 := make([][256]uint32, l)
	for i := range s1 {
		if !unpackEta(&s1[i], sk[off:off+etaPoly], etaBits, eta) {
			return false
		}
		off += etaPoly
		mldsaNTT(&s1[i])
	}
	ok := 1
	t1Packed := make([]byte, 0, k*320)
	for r := 0; r < k; r++ {
		var s2 [256]uint32
		if !unpackEta(&s2, sk[off+r*etaPoly:off+(r+1)*etaPoly], etaBits, eta) {
			return false
		}
		var acc [256]uint32
		for s := 0; s < l; s++ {
			var a [256]uint32
			expandAEntry(&a, rho, byte(s), byte(r))
			for j := range acc {
				acc[j] = uint32((uint64(acc[j]) + uint64(a[j])*uint64(s1[s][j])) % mldsaQ)
			}
		}
		mldsaInvNTT(&acc)
		var t0 [256]uint32
		var t1 [256]uint32
		for j := range acc {
			t := (acc[j] + s2[j]) % mldsaQ
			// Power2Round: t0 = t mod± 2^13 in (-2^12, 2^12], t1 = (t - t0) / 2^13; t0 is encoded as 2^12 - t0.
			r0 := int32(t & 0x1FFF)
			if r0 > 1<<12 {
				r0 -= 1 << 13
			}
			t1[j] = uint32((int32(t) - r0) >> 13)
			t0[j] = uint32(1<<12 - r0)
		}
		stored := unpackBits(sk[off+k*etaPoly+r*416:off+k*etaPoly+(r+1)*416], 13)
		for j := range t0 {
			ok &= subtle.ConstantTimeEq(int32(t0[j]), int32(stored[j]))
		}
		t1Packed = append(t1Packed, packBits(t1[:], 10)...)
	}
	if subtle.ConstantTimeCompare(t1Packed, pkRaw[32:]) != 1 || subtle.ConstantTimeCompare(rho, pkRaw[:32]) != 1 {
		return false // our arithmetic disagrees with circl's: refuse rather than guess
	}
	tr := sha3.SumSHAKE256(pkRaw, 64)
	ok &= subtle.ConstantTimeCompare(tr, sk[64:128])
	return ok == 1
}

const mldsaQ = 8380417

var mldsaZetas = func() (z [256]uint32) {
	for m := 0; m < 256; m++ {
		br := 0
		for b := 0; b < 8; b++ {
			if m&(1<<b) != 0 {
				br |= 1 << (7 - b)
			}
		}
		x := uint64(1)
		for e := 0; e < br; e++ {
			x = x * 1753 % mldsaQ
		}
		z[m] = uint32(x)
	}
	return
}()

// mldsaNTT is FIPS 204 Algorithm 41.
func mldsaNTT(w *[256]uint32) {
	m := 0
	for ln := 128; ln >= 1; ln /= 2 {
		for start := 0; start < 256; start += 2 * ln {
			m++
			z := uint64(mldsaZetas[m])
			for j := start; j < start+ln; j++ {
				t := z * uint64(w[j+ln]) % mldsaQ
				w[j+ln] = uint32((uint64(w[j]) + mldsaQ - t) % mldsaQ)
				w[j] = uint32((uint64(w[j]) + t) % mldsaQ)
			}
		}
	}
}

// mldsaInvNTT is FIPS 204 Algorithm 42.
func mldsaInvNTT(w *[256]uint32) {
	m := 256
	for ln := 1; ln < 256; ln *= 2 {
		for start := 0; start < 256; start += 2 * ln {
			m--
			z := uint64(mldsaQ - mldsaZetas[m])
			for j := start; j < start+ln; j++ {
				t := w[j]
				w[j] = uint32((uint64(t) + uint64(w[j+ln])) % mldsaQ)
				w[j+ln] = uint32(z * ((uint64(t) + mldsaQ - uint64(w[j+ln])) % mldsaQ) % mldsaQ)
			}
		}
	}
	const f = 8347681 // 256⁻¹ mod q
	for j := range w {
		w[j] = uint32(uint64(w[j]) * f % mldsaQ)
	}
}

// expandAEntry is RejNTTPoly(ρ ‖ s ‖ r) of FIPS 204 Algorithms 30 and 32.
func expandAEntry(a *[256]uint32, rho []byte, s, r byte) {
	h := sha3.NewSHAKE128()
	h.Write(rho)
	h.Write([]byte{s, r})
	var buf [168]byte
	j := 0
	for j < 256 {
		h.Read(buf[:])
		for i := 0; i+3 <= len(buf) && j < 256; i += 3 {
			z := uint32(buf[i]) | uint32(buf[i+1])<<8 | uint32(buf[i+2]&0x7F)<<16
			if z < mldsaQ {
				a[j] = z
				j++
			}
		}
	}
}

// unpackEta decodes a polynomial with coefficients in [-eta, eta] (FIPS 204 BitUnpack(b, eta, eta)), as values mod q.
func unpackEta(p *[256]uint32, b []byte, bits, eta int) bool {
	v := unpackBits(b, bits)
	for j, x := range v {
		if int(x) > 2*eta {
			return false
		}
		p[j] = uint32((mldsaQ + eta - int(x)) % mldsaQ)
	}
	return true
}

// unpackBits reads 256 little-endian bit-packed values of the given width.
func unpackBits(b []byte, bits int) (out [256]uint32) {
	var acc uint64
	n, i := 0, 0
	for j := range out {
		for n < bits {
			acc |= uint64(b[i]) << n
			i++
			n += 8
		}
		out[j] = uint32(acc & (1<<bits - 1))
		acc >>= bits
		n -= bits
	}
	return
}

func packBits(v []uint32, bits int) []byte {
	out := make([]byte, 0, len(v)*bits/8)
	var acc uint64
	n := 0
	for _, x := range v {
		acc |= uint64(x) << n
		n += bits
		for n >= 8 {
			out = append(out, byte(acc))
			acc >>= 8
			n -= 8
		}
	}
	return out
}
