package mdl

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"slices"
	"testing"
	"time"

	"github.com/pkikit/pkikit/x509ext"
)

// Each benchmark below stands next to its raw peer (the same -bench run). On the shared, loaded machine the wall
// time per op mostly measures waiting for a core, so every benchmark also reports cpu-ns/op (the process's CPU
// time), and BenchmarkPaired* run an operation and its peer alternately and report the ratio of their median
// times.

// issueOp issues one mDL of 20 elements signed ES256 (a pre-validated Issuer and DS certificate, reused).
func issueOp(b *testing.B) func() {
	p := newTestPKI(b, x509ext.KeyECDSAP256, x509ext.KeyECDSAP256)
	dev := newDeviceKey(b)
	req := &IssueRequest{NameSpaces: sampleElements(5), DeviceKey: &dev.PublicKey, Signed: testBase, ValidUntil: testBase.Add(time.Hour)}
	if n := len(req.NameSpaces[NamespaceMDL]); n != 20 {
		b.Fatalf("%d elements", n)
	}
	return func() {
		if _, err := p.issuer.Issue(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}

// issuePeerOp is what issuing cannot avoid: one ECDSA P-256 signature (with the SHA-256 of an MSO-sized input) and
// 20 SHA-256 digests over item-sized inputs.
func issuePeerOp(b *testing.B) func() {
	k := newDeviceKey(b)
	item := make([]byte, 96)
	mso := make([]byte, 1400)
	return func() {
		for i := 0; i < 20; i++ {
			_ = sha256.Sum256(item)
		}
		h := sha256.Sum256(mso)
		if _, err := ecdsa.SignASN1(rand.Reader, k, h[:]); err != nil {
			b.Fatal(err)
		}
	}
}

// benchResponse is a DeviceResponse disclosing 20 elements (issuerAuth ES256, deviceSignature ES256).
func benchResponse(b *testing.B) (*testPKI, []byte) {
	p := newTestPKI(b, x509ext.KeyECDSAP256, x509ext.KeyECDSAP256)
	dev := newDeviceKey(b)
	s, err := p.issuer.Issue(context.Background(), &IssueRequest{NameSpaces: sampleElements(5), DeviceKey: &dev.PublicKey, Signed: testBase, ValidUntil: testBase.Add(time.Hour)})
	if err != nil {
		b.Fatal(err)
	}
	var ids []string
	for id := range sampleElements(5)[NamespaceMDL] {
		ids = append(ids, id)
	}
	resp, err := Present(context.Background(), s, PresentOptions{Request: ItemsRequest{NameSpaces: map[string][]string{NamespaceMDL: ids}},
		SessionTranscript: testTranscript(), DeviceSigner: dev})
	if err != nil {
		b.Fatal(err)
	}
	return p, resp.Marshal()
}

// verifyOp verifies the response as a reader with the IACA store warm (the IACA parsed and cached).
func verifyOp(b *testing.B) func() {
	p, raw := benchResponse(b)
	opts := VerifyOptions{TrustStore: p.store, Time: testBase, SessionTranscript: testTranscript()}
	if _, err := VerifyDeviceResponse(raw, opts); err != nil { // warms the store
		b.Fatal(err)
	}
	return func() {
		if _, err := VerifyDeviceResponse(raw, opts); err != nil {
			b.Fatal(err)
		}
	}
}

// verifyPeerOp is the raw work a reader cannot avoid for that response, on its real bytes: three ECDSA P-256
// verifications — the DS certificate's signature by the IACA (truststore caches verified CA signatures, never a
// leaf's, so a warm store still checks it on every response), issuerAuth over its Sig_structure and
// deviceSignature over DeviceAuthentication — each with its SHA-256, and the SHA-256 of every disclosed
// IssuerSignedItemBytes.
func verifyPeerOp(b *testing.B) func() {
	p, raw := benchResponse(b)
	resp, err := ParseDeviceResponse(raw, ParseOptions{})
	if err != nil {
		b.Fatal(err)
	}
	doc := resp.Documents[0]
	mso, err := doc.IssuerSigned.MobileSecurityObject()
	if err != nil {
		b.Fatal(err)
	}
	auth, dev := doc.IssuerSigned.IssuerAuth, doc.DeviceSigned.Signature
	issuerTBS := sigStructure(auth.protected, auth.Payload)
	deviceTBS := sigStructure(dev.protected, deviceAuthenticationBytes(testTranscript(), doc.DocType, doc.DeviceSigned.NameSpacesBytes))
	issuerSig, deviceSig := rawToDER(auth.Signature), rawToDER(dev.Signature)
	iacaKey, dsKey, devKey := p.iaca.PublicKey.(*ecdsa.PublicKey), p.ds.PublicKey.(*ecdsa.PublicKey), mso.DeviceKey.(*ecdsa.PublicKey)
	if p.ds.SignatureAlgorithm != x509ext.ECDSAWithSHA256 {
		b.Fatal("DS certificate not signed ECDSA with SHA-256")
	}
	var items [][]byte
	for _, it := range doc.IssuerSigned.NameSpaces[NamespaceMDL] {
		items = append(items, it.Bytes())
	}
	if len(items) != 20 {
		b.Fatalf("%d items", len(items))
	}
	return func() {
		for _, it := range items {
			_ = sha256.Sum256(it)
		}
		c, i, d := sha256.Sum256(p.ds.RawTBSCertificate), sha256.Sum256(issuerTBS), sha256.Sum256(deviceTBS)
		if !ecdsa.VerifyASN1(iacaKey, c[:], p.ds.Signature) || !ecdsa.VerifyASN1(dsKey, i[:], issuerSig) || !ecdsa.VerifyASN1(devKey, d[:], deviceSig) {
			b.Fatal("verify")
		}
	}
}

// verifyPeerWithoutChainOp is the peer as first written, before the DS certificate's signature was counted: two
// ECDSA P-256 verifications and 22 SHA-256 over synthetic inputs. Kept for comparison with earlier figures;
// VerifyDeviceResponse cannot come within 1.5× of it, since it must run three verifications.
func verifyPeerWithoutChainOp(b *testing.B) func() {
	k := newDeviceKey(b)
	mso := make([]byte, 1400)
	da := make([]byte, 200)
	item := make([]byte, 96)
	h1, h2 := sha256.Sum256(mso), sha256.Sum256(da)
	s1, _ := ecdsa.SignASN1(rand.Reader, k, h1[:])
	s2, _ := ecdsa.SignASN1(rand.Reader, k, h2[:])
	return func() {
		for i := 0; i < 20; i++ {
			_ = sha256.Sum256(item)
		}
		a, c := sha256.Sum256(mso), sha256.Sum256(da)
		if !ecdsa.VerifyASN1(&k.PublicKey, a[:], s1) || !ecdsa.VerifyASN1(&k.PublicKey, c[:], s2) {
			b.Fatal("verify")
		}
	}
}

func runOp(b *testing.B, op func()) {
	b.ReportAllocs()
	defer measureCPU(b)()
	for b.Loop() {
		op()
	}
}

func BenchmarkIssueMDL20ES256(b *testing.B)         { runOp(b, issueOp(b)) }
func BenchmarkIssueMDL20ES256_RawPeer(b *testing.B) { runOp(b, issuePeerOp(b)) }

func BenchmarkVerifyDeviceResponse20ES256(b *testing.B)         { runOp(b, verifyOp(b)) }
func BenchmarkVerifyDeviceResponse20ES256_RawPeer(b *testing.B) { runOp(b, verifyPeerOp(b)) }
func BenchmarkVerifyDeviceResponse20ES256_RawPeerWithoutChain(b *testing.B) {
	runOp(b, verifyPeerWithoutChainOp(b))
}

// runPaired runs op and peer alternately, timing each call, and reports the ratio of their median times (and the
// medians): a call that lost its core is an outlier the median ignores, and both sides see the same load.
func runPaired(b *testing.B, op, peer func()) {
	var opT, peerT []time.Duration
	b.ReportAllocs()
	for b.Loop() {
		t0 := time.Now()
		op()
		t1 := time.Now()
		peer()
		t2 := time.Now()
		opT, peerT = append(opT, t1.Sub(t0)), append(peerT, t2.Sub(t1))
	}
	median := func(d []time.Duration) float64 {
		slices.Sort(d)
		return float64(d[len(d)/2])
	}
	mo, mp := median(opT), median(peerT)
	b.ReportMetric(mo, "op-median-ns")
	b.ReportMetric(mp, "peer-median-ns")
	b.ReportMetric(mo/mp, "ratio")
}

func BenchmarkPairedIssueMDL20ES256(b *testing.B) { runPaired(b, issueOp(b), issuePeerOp(b)) }
func BenchmarkPairedVerifyDeviceResponse20ES256(b *testing.B) {
	runPaired(b, verifyOp(b), verifyPeerOp(b))
}
