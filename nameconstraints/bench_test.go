package nameconstraints

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"net/netip"
	"testing"
)

func benchConstraints(b *testing.B, n int) *Constraints {
	c := &Constraints{Excluded: []Subtree{{Form: FormDNS, Name: ".prod.example.com"}}}
	for i := range n {
		c.Permitted = append(c.Permitted, Subtree{Form: FormDNS, Name: fmt.Sprintf(".d%d.example.com", i)})
	}
	c.Permitted = append(c.Permitted, Subtree{Form: FormDNS, Name: ".example.com"},
		Subtree{Form: FormIP, IP: netip.MustParsePrefix("10.0.0.0/8")})
	return c
}

func BenchmarkCheckDNS(b *testing.B) {
	c := benchConstraints(b, 8)
	b.ReportAllocs()
	for b.Loop() {
		if err := c.CheckDNS("www.api.example.com"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCheckDNS1000Subtrees(b *testing.B) {
	c := benchConstraints(b, 1000)
	b.ReportAllocs()
	for b.Loop() {
		if err := c.CheckDNS("www.api.example.com"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCheckIP(b *testing.B) {
	c := benchConstraints(b, 8)
	ip := netip.MustParseAddr("10.1.2.3")
	b.ReportAllocs()
	for b.Loop() {
		if err := c.CheckIP(ip); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCheckDN(b *testing.B) {
	c := mustNew(b, []string{"dn:O=Example,C=US"}, []string{"dn:OU=Prod,O=Example,C=US"})
	s, _ := ParseSubtree("dn:CN=leaf,OU=Dev,O=Example,C=US")
	b.ReportAllocs()
	for b.Loop() {
		if err := c.CheckDN(s.DN); err != nil {
			b.Fatal(err)
		}
	}
}

// benchChain: root → sub (with the constraints) → leaf with 4 DNS SANs and 1 IP SAN.
func benchChain(b *testing.B, c *Constraints) (leaf, sub, root *x509.Certificate) {
	ext, err := c.Extension()
	if err != nil {
		b.Fatal(err)
	}
	r, _ := issue(b, nil, caTemplate("bench root"))
	s, _ := issue(b, r, caTemplate("bench sub", ext))
	sans := []Name{dnsN("a.example.com"), dnsN("b.example.com"), dnsN("c.api.example.com"), dnsN("d.example.com"), ipN("10.9.9.9")}
	l, _ := issue(b, s, leafTemplate(pkix.Name{CommonName: "bench leaf"}, sans, b))
	return l.cert, s.cert, r.cert
}

func BenchmarkCheckCertificate(b *testing.B) {
	c := benchConstraints(b, 8)
	leaf, _, _ := benchChain(b, c)
	b.ReportAllocs()
	for b.Loop() {
		if err := c.CheckCertificate(leaf, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheckCertificate_StdlibPeer: crypto/x509 only checks name constraints inside Verify, so the peer is
// a whole Verify of the same chain (two ECDSA signature checks included) — the budget a constraint check must
// stay well inside.
func BenchmarkCheckCertificate_StdlibPeer(b *testing.B) {
	c := benchConstraints(b, 8)
	leaf, sub, root := benchChain(b, c)
	roots, inters := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(root)
	inters.AddCert(sub)
	opts := x509.VerifyOptions{Roots: roots, Intermediates: inters, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := leaf.Verify(opts); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	der, _ := benchConstraints(b, 8).Marshal()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(der); err != nil {
			b.Fatal(err)
		}
	}
}
