package nameconstraints

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pkikit/pkikit/internal/interop"
)

// The interop matrix: every constraint set below is put (as our DER, in ExtraExtensions) into a real
// subordinate CA under a real root; every name becomes the single subjectAltName of a real leaf under each
// subordinate. Each leaf is verified by crypto/x509 (x509.Certificate.Verify), by the system OpenSSL 3.0 and by
// OpenSSL 3.5 (`openssl verify -CAfile root -untrusted sub leaf...`), and checked by CheckCertificate. Where a
// verifier disagrees with us, the disagreement must be listed in knownDivergences (with the RFC text saying who
// is right) — and every listed divergence must actually occur, so the table cannot go stale.

type matrixSet struct {
	id         string
	perm, excl []string
}

var matrixSets = []matrixSet{
	{"dns-host", []string{"dns:example.com"}, nil},
	{"dns-dot", []string{"dns:.example.com"}, nil},
	{"dns-excl-host", nil, []string{"dns:prod.example.com"}},
	{"dns-perm-excl", []string{"dns:example.com"}, []string{"dns:.prod.example.com"}},
	{"ip4", []string{"ip:10.0.0.0/8"}, []string{"ip:10.1.0.0/16"}},
	{"ip6", []string{"ip:2001:db8::/32"}, nil},
	{"ip-excl-all", nil, []string{"ip:0.0.0.0/0", "ip:::/0"}},
	{"email-mailbox", []string{"email:user@example.com"}, nil},
	{"email-host", []string{"email:example.com"}, nil},
	{"email-dot", []string{"email:.example.com"}, nil},
	{"email-excl-host", nil, []string{"email:example.com"}},
	{"uri-host", []string{"uri:host.example.com"}, nil},
	{"uri-dot", []string{"uri:.example.com"}, nil},
	{"uri-excl-dot", nil, []string{"uri:.example.com"}},
	{"mixed", []string{"dns:.example.com", "ip:10.0.0.0/8", "email:.example.com", "uri:.example.com"}, []string{"dns:.prod.example.com", "ip:10.99.0.0/16"}},
}

type matrixName struct {
	id string
	n  Name
}

var matrixNames = []matrixName{
	{"dns-apex", dnsN("example.com")},
	{"dns-www", dnsN("www.example.com")},
	{"dns-deep", dnsN("a.b.example.com")},
	{"dns-upper", dnsN("WWW.Example.COM")},
	{"dns-label-boundary", dnsN("badexample.com")},
	{"dns-prod", dnsN("prod.example.com")},
	{"dns-under-prod", dnsN("db.prod.example.com")},
	{"dns-wildcard", dnsN("*.example.com")},
	{"dns-wildcard-prod", dnsN("*.prod.example.com")},
	{"dns-other", dnsN("example.org")},
	{"dns-host-example-sub", dnsN("www.host.example.com")},
	{"ip4-in", ipN("10.0.0.1")},
	{"ip4-excl", ipN("10.1.2.3")},
	{"ip4-out", ipN("192.168.0.1")},
	{"ip4-mixed-excl", ipN("10.99.1.1")},
	{"ip6-in", ipN("2001:db8::1")},
	{"ip6-out", ipN("2001:db9::1")},
	{"ip4-mapped", ip16N("::ffff:10.0.0.1")},
	{"email-user", mailN("user@example.com")},
	{"email-user-upper-host", mailN("user@EXAMPLE.com")},
	{"email-user-upper-local", mailN("User@example.com")},
	{"email-other", mailN("other@example.com")},
	{"email-sub", mailN("user@sub.example.com")},
	{"email-foreign", mailN("user@example.org")},
	{"uri-host", uriN("https://host.example.com/")},
	{"uri-host-port", uriN("https://host.example.com:8443/path")},
	{"uri-host-upper", uriN("https://HOST.EXAMPLE.COM/")},
	{"uri-host-sub", uriN("https://www.host.example.com/")},
	{"uri-apex", uriN("https://example.com/")},
	{"uri-sub", uriN("spiffe://a.example.com/workload")},
	{"uri-userinfo", uriN("https://user@a.example.com/")},
	{"uri-userinfo-colon", uriN("https://www.example.com:x@evil.com/")},
	{"uri-ip", uriN("https://10.0.0.1/")},
	{"uri-urn", uriN("urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6")},
	{"uri-foreign", uriN("https://example.org/")},
}

// A divergence: verifiers (of "go", "openssl30", "openssl35") that accept (theyAccept) or reject the leaf for
// each name under each set while CheckCertificate decides the opposite. right says whose answer RFC 5280
// supports, and why says it with the standard's text. Every (set, name, verifier) listed must occur.
type divergence struct {
	sets, names, verifiers []string
	theyAccept             bool
	right, why             string
	// when, if set, says in which crypto/x509 the entry applies: "mapped-san-parses" (Go 1.26) or
	// "mapped-san-refused" (Go 1.27, whose ParseCertificate refuses IPv4-mapped IPv6 SANs).
	when string
}

// mappedSANRefused is set when this Go's crypto/x509 refuses to parse a leaf with an IPv4-mapped IPv6 SAN.
var mappedSANRefused bool

// setsWithoutIPConstraints are the matrix sets that constrain no iPAddress.
var setsWithoutIPConstraints = []string{"dns-host", "dns-dot", "dns-excl-host", "dns-perm-excl", "email-mailbox",
	"email-host", "email-dot", "email-excl-host", "uri-host", "uri-dot", "uri-excl-dot"}

// setsWithoutURIConstraints are the matrix sets that constrain no uniformResourceIdentifier.
var setsWithoutURIConstraints = []string{"dns-host", "dns-dot", "dns-excl-host", "dns-perm-excl", "ip4", "ip6",
	"ip-excl-all", "email-mailbox", "email-host", "email-dot", "email-excl-host"}

var knownDivergences = []divergence{
	{
		sets: setsWithoutIPConstraints, names: []string{"ip4-mapped"}, verifiers: []string{"go"},
		theyAccept: false, right: "pkikit and OpenSSL (RFC 5280 permits the certificate)", when: "mapped-san-refused",
		why: "Go 1.27's x509.ParseCertificate refuses any certificate whose iPAddress SAN is an IPv4-mapped IPv6 " +
			"address — a local hardening (it closes the Go 1.26 bypass listed below), not a name-constraints rule: " +
			"RFC 5280 §4.2.1.6 allows any 16-octet IPv6 address, and ::ffff:10.0.0.1 is one (RFC 4291 §2.5.5.2). " +
			"Under sets with no iPAddress subtree the name is unconstrained, so we accept.",
	},
	{
		sets: setsWithoutURIConstraints, names: []string{"uri-ip", "uri-urn"}, verifiers: []string{"go"},
		theyAccept: false, right: "pkikit, OpenSSL 3.0 and 3.5",
		why: "crypto/x509 rejects a URI SAN without a host name (or with an IP host) under ANY name constraints. " +
			"RFC 5280 §4.2.1.10 requires that only when URI constraints exist: \"If a constraint is applied to the " +
			"uniformResourceIdentifier name form and a subsequent certificate includes a subjectAltName extension with " +
			"a uniformResourceIdentifier that does not include an authority component with a host name specified as a " +
			"fully qualified domain name ..., then the application MUST reject the certificate.\" Without a URI " +
			"constraint the name form is unconstrained (§6.1.3 (b)/(c) apply per name type).",
	},
	{
		sets: []string{"dns-excl-host"}, names: []string{"dns-wildcard"}, verifiers: []string{"openssl30", "openssl35"},
		theyAccept: true, right: "pkikit and crypto/x509 (Go ≥ 1.24.11/1.25.5, CVE-2025-61727)",
		why: "RFC 5280 does not define wildcard dNSNames; a TLS client matches \"*.example.com\" to " +
			"prod.example.com (RFC 6125 §6.4.3, RFC 9525 §6.3), so a CA excluded from prod.example.com that issues " +
			"*.example.com certifies a name in its excludedSubtrees. OpenSSL compares the wildcard literally.",
	},
	{
		sets: []string{"email-host"}, names: []string{"email-sub"}, verifiers: []string{"go"},
		theyAccept: true, right: "pkikit and OpenSSL",
		why: "See the next entry (permitted side of the same rule).",
	},
	{
		sets: []string{"email-excl-host"}, names: []string{"email-sub"}, verifiers: []string{"go"},
		theyAccept: false, right: "pkikit and OpenSSL",
		why: "crypto/x509 matches an rfc822Name host constraint like a dNSName (subdomains included). RFC 5280 " +
			"§4.2.1.10: \"To indicate all Internet mail addresses on a particular host, the constraint is specified as " +
			"the host name. For example, the constraint \"example.com\" is satisfied by any mail address at the host " +
			"\"example.com\". To specify any address within a domain, the constraint is specified with a leading " +
			"period\". So user@sub.example.com is outside \"example.com\": not permitted under email-host (Go " +
			"accepts), not excluded under email-excl-host (Go rejects).",
	},
	{
		sets: []string{"uri-host"}, names: []string{"uri-host-sub"}, verifiers: []string{"go"},
		theyAccept: true, right: "pkikit and OpenSSL",
		why: "crypto/x509 matches a URI host constraint like a dNSName (subdomains included). RFC 5280 §4.2.1.10: " +
			"\"When the constraint begins with a period, it MAY be expanded with one or more subdomains. ... When the " +
			"constraint does not begin with a period, it specifies a host.\"",
	},
	{
		sets: []string{"ip-excl-all"}, names: []string{"ip4-mapped"}, verifiers: []string{"go"},
		theyAccept: true, right: "pkikit and OpenSSL", when: "mapped-san-parses",
		why: "A 16-octet iPAddress SAN is an IPv6 address (RFC 5280 §4.2.1.6: \"For IP version 6 ... the octet " +
			"string MUST contain exactly sixteen octets\"), so ::ffff:10.0.0.1 lies in the excluded ::/0. crypto/x509 " +
			"sends 16-octet SANs to its IPv6 constraints but net.IPNet.Contains turns an IPv4-mapped address into 4 " +
			"octets and never matches an IPv6 network: an excluded IPv6 range never catches an IPv4-mapped SAN.",
	},
	{
		sets: []string{"uri-dot", "mixed"}, names: []string{"uri-userinfo-colon"}, verifiers: []string{"openssl30"},
		theyAccept: true, right: "pkikit, crypto/x509 and OpenSSL 3.5",
		why: "In https://www.example.com:x@evil.com/ the host is evil.com (RFC 3986 §3.2: authority = [ userinfo " +
			"\"@\" ] host [ \":\" port ]); RFC 5280 §4.2.1.10: \"For URIs, the constraint applies to the host part " +
			"of the name.\" OpenSSL 3.0 takes the text up to the first ':' as the host, so it sees www.example.com.",
	},
	{
		sets: []string{"uri-excl-dot"}, names: []string{"uri-userinfo-colon"}, verifiers: []string{"openssl30"},
		theyAccept: false, right: "pkikit, crypto/x509 and OpenSSL 3.5",
		why: "The same OpenSSL 3.0 URI host parsing: it thinks the host is www.example.com and finds it excluded; the " +
			"host is evil.com (RFC 3986 §3.2), outside .example.com.",
	},
	{
		sets: []string{"uri-excl-dot"}, names: []string{"uri-ip"}, verifiers: []string{"openssl30", "openssl35"},
		theyAccept: true, right: "pkikit and crypto/x509",
		why: "RFC 5280 §4.2.1.10: a URI whose host is \"specified as an IP address\" under a " +
			"uniformResourceIdentifier constraint: \"the application MUST reject the certificate\". OpenSSL compares " +
			"the IP text as a host name and, with only excluded URI subtrees, accepts.",
	},
}

type matrixResult struct {
	ours       bool
	oursErr    error
	byVerifier map[string]bool
	detail     map[string]string
}

func pemFile(t *testing.T, path string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

var serial int64

func issue(t testing.TB, parent *testCA, tmpl *x509.Certificate) (*testCA, []byte) {
	t.Helper()
	serial++
	key := testKey(t)
	tmpl.SerialNumber = big.NewInt(serial)
	tmpl.NotBefore = time.Now().Add(-time.Hour)
	tmpl.NotAfter = time.Now().Add(24 * time.Hour)
	signerCert, signerKey := tmpl, key
	if parent != nil {
		signerCert, signerKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signerCert, key.Public(), signerKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert, key}, der
}

// issueLeaf signs tmpl under parent and parses the result; a parse error is returned, not fatal.
func issueLeaf(t testing.TB, parent *testCA, tmpl *x509.Certificate) ([]byte, *x509.Certificate, error) {
	t.Helper()
	serial++
	key := testKey(t)
	tmpl.SerialNumber = big.NewInt(serial)
	tmpl.NotBefore = time.Now().Add(-time.Hour)
	tmpl.NotAfter = time.Now().Add(24 * time.Hour)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent.cert, key.Public(), parent.key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	return der, cert, err
}

func caTemplate(cn string, exts ...pkix.Extension) *x509.Certificate {
	return &x509.Certificate{
		Subject: pkix.Name{CommonName: cn}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, ExtraExtensions: exts,
	}
}

func leafTemplate(subject pkix.Name, sans []Name, t testing.TB) *x509.Certificate {
	return &x509.Certificate{
		Subject: subject, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 17}, Value: marshalSANs(t, sans)}},
	}
}

var opensslLine = regexp.MustCompile(`^(L\d+\.pem): OK$`)
var opensslFail = regexp.MustCompile(`^error (L\d+\.pem): verification failed$`)
var opensslErr = regexp.MustCompile(`^error (\d+) at (\d+) depth lookup: (.*)$`)

// opensslVerify runs one `openssl verify` over many leaves and returns, per leaf file, pass/fail and the error.
func opensslVerify(t *testing.T, argv []string, dir, root, sub string, leaves []string) (map[string]bool, map[string]string) {
	t.Helper()
	args := append(append([]string{}, argv...), "verify", "-CAfile", root, "-untrusted", sub)
	args = append(args, leaves...)
	out, _ := interop.Run(t, dir, args...)
	pass := map[string]bool{}
	detail := map[string]string{}
	var errs []string
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		if m := opensslLine.FindStringSubmatch(line); m != nil {
			pass[m[1]] = true
			errs = nil
		} else if m := opensslErr.FindStringSubmatch(line); m != nil {
			errs = append(errs, m[1]+"@"+m[2]+": "+m[3])
		} else if m := opensslFail.FindStringSubmatch(line); m != nil {
			pass[m[1]] = false
			detail[m[1]] = strings.Join(errs, "; ")
			errs = nil
		}
	}
	for _, l := range leaves {
		if _, ok := pass[l]; !ok {
			t.Fatalf("openssl printed no verdict for %s:\n%s", l, out)
		}
		// A failure must be a name-constraints error (X509_V_ERR_PERMITTED_VIOLATION 47, EXCLUDED_VIOLATION 48,
		// SUBTREE_MINMAX 49, UNSUPPORTED_CONSTRAINT_TYPE 51, UNSUPPORTED_CONSTRAINT_SYNTAX 52,
		// UNSUPPORTED_NAME_SYNTAX 53), at depth 0 — never a broken chain.
		if !pass[l] && !regexp.MustCompile(`^(4[7-9]|5[0-3])@0: `).MatchString(detail[l]) {
			t.Fatalf("openssl rejected %s for a reason other than name constraints: %s", l, detail[l])
		}
	}
	return pass, detail
}

func TestInteropMatrix(t *testing.T) {
	verifiers := map[string][]string{
		"openssl30": interop.OpenSSL30(t),
		"openssl35": interop.OpenSSL35(t),
	}
	dir := t.TempDir()
	root, rootDER := issue(t, nil, caTemplate("NC matrix root"))
	pemFile(t, filepath.Join(dir, "root.pem"), rootDER)
	roots := x509.NewCertPool()
	roots.AddCert(root.cert)

	results := map[[2]string]*matrixResult{}
	leafNo := 0
	for _, set := range matrixSets {
		c := mustNew(t, set.perm, set.excl)
		ext, err := c.Extension()
		if err != nil {
			t.Fatal(err)
		}
		sub, subDER := issue(t, root, caTemplate("NC matrix sub "+set.id, ext))
		subFile := "sub-" + set.id + ".pem"
		pemFile(t, filepath.Join(dir, subFile), subDER)
		// our view of the CA's constraints comes from the certificate, as truststore reads it
		fromCert, err := FromCertificate(sub.cert)
		if err != nil {
			t.Fatal(err)
		}
		inters := x509.NewCertPool()
		inters.AddCert(sub.cert)
		var files []string
		fileName := map[string]string{}
		for _, nm := range matrixNames {
			leafNo++
			// The CN has a space so OpenSSL does not check it as a host name (NAME_CONSTRAINTS_check_CN).
			tmpl := leafTemplate(pkix.Name{CommonName: "matrix leaf"}, []Name{nm.n}, t)
			leafDER, leafCert, parseErr := issueLeaf(t, sub, tmpl)
			f := fmt.Sprintf("L%04d.pem", leafNo)
			pemFile(t, filepath.Join(dir, f), leafDER)
			files = append(files, f)
			fileName[f] = nm.id
			r := &matrixResult{byVerifier: map[string]bool{}, detail: map[string]string{}}
			if parseErr != nil {
				// crypto/x509 refuses the certificate itself (Go 1.27: IPv4-mapped IPv6 SANs), so it rejects the
				// leaf; we check the same names through CheckCertificate on the raw subject and extensions.
				mappedSANRefused = true
				subject, _ := derName(tmpl.Subject)
				leafCert = &x509.Certificate{RawSubject: subject, Extensions: tmpl.ExtraExtensions}
				r.byVerifier["go"] = false
				r.detail["go"] = "x509.ParseCertificate: " + parseErr.Error()
			}
			r.oursErr = fromCert.CheckCertificate(leafCert, nil)
			var v *ViolationError
			if r.oursErr != nil && !errors.As(r.oursErr, &v) {
				t.Fatalf("%s × %s: CheckCertificate: %v", set.id, nm.id, r.oursErr)
			}
			r.ours = r.oursErr == nil
			if parseErr == nil {
				_, goErr := leafCert.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inters,
					KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
				r.byVerifier["go"] = goErr == nil
				if goErr != nil {
					var inv x509.CertificateInvalidError
					if !errors.As(goErr, &inv) || inv.Reason != x509.CANotAuthorizedForThisName {
						t.Fatalf("%s × %s: crypto/x509 rejected for a reason other than name constraints: %v", set.id, nm.id, goErr)
					}
					r.detail["go"] = goErr.Error()
				}
			}
			results[[2]string{set.id, nm.id}] = r
		}
		for name, argv := range verifiers {
			pass, detail := opensslVerify(t, argv, dir, "root.pem", subFile, files)
			for f, ok := range pass {
				r := results[[2]string{set.id, fileName[f]}]
				r.byVerifier[name] = ok
				r.detail[name] = detail[f]
			}
		}
	}

	// Compare.
	type cellKey struct{ set, name, verifier string }
	expected := map[cellKey]int{} // → index in knownDivergences
	for i, d := range knownDivergences {
		if d.when == "mapped-san-parses" && mappedSANRefused || d.when == "mapped-san-refused" && !mappedSANRefused {
			continue
		}
		for _, set := range d.sets {
			for _, name := range d.names {
				for _, v := range d.verifiers {
					expected[cellKey{set, name, v}] = i
				}
			}
		}
	}
	seen := map[cellKey]bool{}
	agree := map[string]int{}
	disagree := map[string]int{}
	var unexplained []string
	keys := make([][2]string, 0, len(results))
	for k := range results {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i][0]+keys[i][1] < keys[j][0]+keys[j][1] })
	allAgree, weAccept := 0, 0
	for _, k := range keys {
		r := results[k]
		if r.ours {
			weAccept++
		}
		all := true
		for _, v := range []string{"go", "openssl30", "openssl35"} {
			theirs := r.byVerifier[v]
			if theirs == r.ours {
				agree[v]++
				continue
			}
			all = false
			disagree[v]++
			ck := cellKey{k[0], k[1], v}
			idx, ok := expected[ck]
			if !ok || knownDivergences[idx].theyAccept != theirs {
				unexplained = append(unexplained, fmt.Sprintf("%s × %s: %s accepts=%v, we accept=%v (ours: %v; theirs: %s)",
					k[0], k[1], v, theirs, r.ours, r.oursErr, r.detail[v]))
				continue
			}
			seen[ck] = true
		}
		if all {
			allAgree++
		}
	}
	t.Logf("matrix: %d sets × %d names = %d leaves (we accept %d, reject %d); all four agree on %d",
		len(matrixSets), len(matrixNames), len(results), weAccept, len(results)-weAccept, allAgree)
	for _, v := range []string{"go", "openssl30", "openssl35"} {
		t.Logf("  %-9s agrees with us on %d, disagrees on %d (each in knownDivergences)", v, agree[v], disagree[v])
	}
	for _, u := range unexplained {
		t.Errorf("unexplained divergence: %s", u)
	}
	for ck, i := range expected {
		if !seen[ck] {
			t.Errorf("knownDivergences[%d] lists %s × %s for %s, which did not diverge: update the table", i, ck.set, ck.name, ck.verifier)
		}
	}
}
