package nameconstraints

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkikit/pkikit/internal/interop"
)

// expectedOpenSSLItem renders a subtree as `openssl asn1parse -item NAME_CONSTRAINTS` prints its base.
func expectedOpenSSLItem(t *testing.T, s Subtree) string {
	t.Helper()
	switch s.Form {
	case FormDNS:
		return "d.dNSName: " + s.Name
	case FormEmail:
		return "d.rfc822Name: " + s.Name
	case FormURI:
		return "d.uniformResourceIdentifier: " + s.Name
	case FormIP:
		a := s.IP.Addr().AsSlice()
		return "d.iPAddress: " + hex.EncodeToString(append(a, mask(s.IP.Bits(), len(a))...))
	case FormDN:
		// OpenSSL prints the RDNs most significant first, "C=US, O=Example"
		rdns := strings.Split(strings.TrimPrefix(s.String(), "dn:"), ",")
		for i, j := 0, len(rdns)-1; i < j; i, j = i+1, j-1 {
			rdns[i], rdns[j] = rdns[j], rdns[i]
		}
		return "d.directoryName: " + strings.Join(rdns, ", ")
	}
	t.Fatalf("form %v", s.Form)
	return ""
}

// parseOpenSSLItem reads `asn1parse -item NAME_CONSTRAINTS` output into the permitted and excluded bases (IP
// bases as hex of their dump) and counts the minimum/maximum lines that are not <ABSENT>.
func parseOpenSSLItem(out string) (perm, excl []string, minmax int) {
	var cur *[]string
	lines := strings.Split(out, "\n")
	for i := 0; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		switch {
		case l == "permittedSubtrees:":
			cur = &perm
		case l == "excludedSubtrees:":
			cur = &excl
		case strings.HasPrefix(l, "minimum:") || strings.HasPrefix(l, "maximum:"):
			if !strings.HasSuffix(l, "<ABSENT>") {
				minmax++
			}
		case strings.HasPrefix(l, "d.iPAddress:") && cur != nil:
			var hx string
			for i+1 < len(lines) && strings.Contains(lines[i+1], " - ") {
				i++
				_, rest, _ := strings.Cut(lines[i], " - ")
				hexPart, _, _ := strings.Cut(rest, "   ") // the ASCII column follows three spaces
				hx += strings.NewReplacer(" ", "", "-", "").Replace(hexPart)
			}
			*cur = append(*cur, "d.iPAddress: "+hx)
		case strings.HasPrefix(l, "d.") && cur != nil:
			*cur = append(*cur, l)
		}
	}
	return perm, excl, minmax
}

// TestInteropASN1ParseShowsSubtrees: `openssl asn1parse -item NAME_CONSTRAINTS` (OpenSSL 3.0 and 3.5) of our DER
// lists exactly the subtrees given, in order, with minimum and maximum absent.
func TestInteropASN1ParseShowsSubtrees(t *testing.T) {
	cases := []struct{ perm, excl []string }{
		{[]string{".dev.example.com", ".test.example.com"}, []string{".prod.dev.example.com"}},
		{[]string{"example.com", "10.0.0.0/8", "192.168.1.0/24", "2001:db8::/32", "user@example.com", "@example.org",
			"email:.example.net", "uri:host.example.com", "uri:.example.com", "dn:O=Example,C=US"},
			[]string{"10.1.0.0/16", "::/0", "0.0.0.0/0", "dn:OU=Prod,O=Example,C=US"}},
		// OpenSSL's item printer stops after an empty IA5String (the structural asn1parse shows the rest), so
		// the empty dNSName ("every DNS name") comes last.
		{nil, []string{"ip:0.0.0.0/0", "internal", "dns:"}},
	}
	for name, argv := range map[string][]string{"openssl30": interop.OpenSSL30(t), "openssl35": interop.OpenSSL35(t)} {
		for i, tc := range cases {
			t.Run(fmt.Sprintf("%s/%d", name, i), func(t *testing.T) {
				c := mustNew(t, tc.perm, tc.excl)
				der, err := c.Marshal()
				if err != nil {
					t.Fatal(err)
				}
				dir := t.TempDir()
				if err := os.WriteFile(filepath.Join(dir, "nc.der"), der, 0o600); err != nil {
					t.Fatal(err)
				}
				out := interop.MustRun(t, dir, append(append([]string{}, argv...), "asn1parse", "-inform", "DER",
					"-in", "nc.der", "-item", "NAME_CONSTRAINTS")...)
				perm, excl, minmax := parseOpenSSLItem(out)
				var wantP, wantE []string
				for _, s := range c.Permitted {
					wantP = append(wantP, strings.TrimSpace(expectedOpenSSLItem(t, s)))
				}
				for _, s := range c.Excluded {
					wantE = append(wantE, strings.TrimSpace(expectedOpenSSLItem(t, s)))
				}
				if strings.Join(perm, "\n") != strings.Join(wantP, "\n") ||
					strings.Join(excl, "\n") != strings.Join(wantE, "\n") || minmax != 0 {
					t.Fatalf("asn1parse shows\npermitted %q\nexcluded %q\n(minmax %d); want\n%q\n%q\n%s",
						perm, excl, minmax, wantP, wantE, out)
				}
				// and the plain structural parse succeeds with no trailing data
				interop.MustRun(t, dir, append(append([]string{}, argv...), "asn1parse", "-inform", "DER", "-in", "nc.der")...)
			})
		}
	}
}

// TestInteropDirectoryName checks directoryName constraints on the subject DN (and a directoryName SAN) against
// OpenSSL 3.0 and 3.5 in real chains. crypto/x509 does not process directoryName constraints: a critical
// nameConstraints extension containing one lands in UnhandledCriticalExtensions and Verify rejects every leaf —
// which RFC 5280 §4.2.1.10 allows ("the application MUST either process the constraint or reject the
// certificate"), so that is asserted here, not counted as disagreement.
func TestInteropDirectoryName(t *testing.T) {
	verifiers := map[string][]string{"openssl30": interop.OpenSSL30(t), "openssl35": interop.OpenSSL35(t)}
	dir := t.TempDir()
	root, rootDER := issue(t, nil, caTemplate("DN root"))
	pemFile(t, filepath.Join(dir, "root.pem"), rootDER)
	c := mustNew(t, []string{"dn:O=Example,C=US"}, []string{"dn:OU=Prod,O=Example,C=US"})
	ext, _ := c.Extension()
	sub, subDER := issue(t, root, caTemplate("DN sub", ext))
	pemFile(t, filepath.Join(dir, "sub.pem"), subDER)
	dn := func(s string) Name {
		st, err := ParseSubtree("dn:" + s)
		if err != nil {
			t.Fatal(err)
		}
		return Name{Form: FormDN, DN: st.DN}
	}
	tests := []struct {
		id      string
		subject string
		san     Name
		want    bool
	}{
		{"subordinate", "CN=a,O=Example,C=US", dnsN("a.test"), true},
		{"case_folded", "CN=a,O=EXAMPLE,C=us", dnsN("a.test"), true},
		{"utf8string_value", "CN=a,O=#0c074578616d706c65,C=US", dnsN("a.test"), true},
		{"excluded_ou", "CN=a,OU=Prod,O=Example,C=US", dnsN("a.test"), false},
		{"other_org", "CN=a,O=Other,C=US", dnsN("a.test"), false},
		{"reordered", "CN=a,C=US,O=Example", dnsN("a.test"), false},
		{"dirname_san_outside", "CN=a,O=Example,C=US", dn("CN=x,O=Other,C=US"), false},
		{"dirname_san_inside", "CN=a,O=Example,C=US", dn("CN=x,O=Example,C=US"), true},
	}
	var files []string
	want := map[string]bool{}
	for i, tc := range tests {
		subj := dn(tc.subject)
		var rdn pkix.RDNSequence
		if _, err := asn1Unmarshal(subj.DN, &rdn); err != nil {
			t.Fatal(err)
		}
		tmpl := leafTemplate(pkix.Name{}, []Name{tc.san}, t)
		tmpl.RawSubject = subj.DN
		leaf, leafDER := issue(t, sub, tmpl)
		f := fmt.Sprintf("L%04d.pem", i)
		pemFile(t, filepath.Join(dir, f), leafDER)
		files = append(files, f)
		want[f] = tc.want
		err := c.CheckCertificate(leaf.cert, nil)
		if (err == nil) != tc.want {
			t.Errorf("%s: CheckCertificate = %v, want accept=%v", tc.id, err, tc.want)
		}
		roots, inters := x509.NewCertPool(), x509.NewCertPool()
		roots.AddCert(root.cert)
		inters.AddCert(sub.cert)
		_, goErr := leaf.cert.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inters, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
		var uce x509.UnhandledCriticalExtension
		if !errors.As(goErr, &uce) {
			t.Errorf("%s: crypto/x509 Verify = %v, want UnhandledCriticalExtension (it does not process directoryName constraints)", tc.id, goErr)
		}
	}
	for name, argv := range verifiers {
		pass, detail := opensslVerify(t, argv, dir, "root.pem", "sub.pem", files)
		for i, f := range files {
			if pass[f] != want[f] {
				t.Errorf("%s: %s accepts=%v (%s), want %v (and so do we)", tests[i].id, name, pass[f], detail[f], want[f])
			}
		}
	}
}
