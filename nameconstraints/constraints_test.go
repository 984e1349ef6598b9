package nameconstraints

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

func mustNew(t testing.TB, permitted, excluded []string) *Constraints {
	t.Helper()
	c, err := New(permitted, excluded)
	if err != nil {
		t.Fatalf("New(%q, %q): %v", permitted, excluded, err)
	}
	return c
}

// awsCase is one testdata/aws vector: its input lists (ParseSubtreeList syntax, DN RDNs separated by '/').
type awsCase struct {
	name               string
	permitted, exclude []string
}

func readAWSCases(t *testing.T) []awsCase {
	t.Helper()
	files, err := filepath.Glob("testdata/aws/*.input")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/aws/*.input: %v", err)
	}
	var out []awsCase
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		c := awsCase{name: strings.TrimSuffix(filepath.Base(f), ".input")}
		for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			k, v, _ := strings.Cut(line, ":")
			var items []string
			for _, it := range strings.Split(strings.TrimSpace(v), ",") {
				if it == "" {
					continue
				}
				if strings.HasPrefix(it, "dn:") {
					it = strings.ReplaceAll(it, "/", ",")
				}
				items = append(items, it)
			}
			if k == "p" {
				c.permitted = items
			} else {
				c.exclude = items
			}
		}
		out = append(out, c)
	}
	return out
}

// TestAPIPassthroughMatchesAWSSample: for every testdata/aws vector (made by the aws-samples encoder's recipe,
// see testdata/aws/README.md) our JSON is byte-identical, our DER equals cryptography's, and both read back.
func TestAPIPassthroughMatchesAWSSample(t *testing.T) {
	for _, tc := range readAWSCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			c := mustNew(t, tc.permitted, tc.exclude)
			wantJSON, err := os.ReadFile("testdata/aws/" + tc.name + ".api_passthrough_config.json")
			if err != nil {
				t.Fatal(err)
			}
			wantDER, err := os.ReadFile("testdata/aws/" + tc.name + ".der")
			if err != nil {
				t.Fatal(err)
			}
			der, err := c.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(der, wantDER) {
				t.Errorf("DER differs from cryptography's:\n got %x\nwant %x", der, wantDER)
			}
			js, err := c.MarshalAPIPassthrough()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(js, wantJSON) {
				t.Errorf("JSON differs from the AWS sample's:\n got %q\nwant %q", js, wantJSON)
			}
			back, err := ParseAPIPassthrough(wantJSON)
			if err != nil {
				t.Fatal(err)
			}
			if back.NonCritical {
				t.Error("Critical: true read back as non-critical")
			}
			der2, err := back.Marshal()
			if err != nil || !bytes.Equal(der2, wantDER) {
				t.Errorf("ParseAPIPassthrough → Marshal = %x, %v; want %x", der2, err, wantDER)
			}
		})
	}
}

func TestAPIPassthroughNonCritical(t *testing.T) {
	c := mustNew(t, []string{".example.com"}, nil)
	c.NonCritical = true
	js, err := c.MarshalAPIPassthrough()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(js, []byte(`"Critical": false`)) {
		t.Fatalf("non-critical JSON: %s", js)
	}
	back, err := ParseAPIPassthrough(js)
	if err != nil || !back.NonCritical {
		t.Fatalf("read back: %v, %+v", err, back)
	}
}

func TestParseAPIPassthroughEdgeCases(t *testing.T) {
	good := mustNew(t, []string{".example.com"}, nil)
	der, _ := good.Marshal()
	b64 := func(b []byte) string { return strings.TrimSpace(string(mustJSONString(b))) }
	tests := []struct {
		name string
		doc  string
		want error
	}{
		{"not_json", `{`, ErrMalformed},
		{"trailing_garbage", `{} x`, ErrMalformed},
		{"no_extensions", `{"Subject":{"CommonName":"x"}}`, ErrNotFound},
		{"other_custom_extension_only", `{"Extensions":{"CustomExtensions":[{"ObjectIdentifier":"1.2.3","Value":"AA=="}]}}`, ErrNotFound},
		{"lowercase_keys_are_not_aws", `{"extensions":{"customextensions":[{"objectidentifier":"2.5.29.30","value":` + b64(der) + `}]}}`, ErrNotFound},
		{"bad_base64", `{"Extensions":{"CustomExtensions":[{"ObjectIdentifier":"2.5.29.30","Value":"!!"}]}}`, ErrMalformed},
		{"value_not_string", `{"Extensions":{"CustomExtensions":[{"ObjectIdentifier":"2.5.29.30","Value":5}]}}`, ErrMalformed},
		{"duplicate", `{"Extensions":{"CustomExtensions":[{"ObjectIdentifier":"2.5.29.30","Value":` + b64(der) + `},{"ObjectIdentifier":"2.5.29.30","Value":` + b64(der) + `}]}}`, ErrMalformed},
		{"bad_der", `{"Extensions":{"CustomExtensions":[{"ObjectIdentifier":"2.5.29.30","Value":"MAA="}]}}`, ErrEmpty},
		{"too_big", `{"x":"` + strings.Repeat("a", MaxAPIPassthroughSize) + `"}`, ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseAPIPassthrough([]byte(tc.doc))
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	// The full ApiPassthrough shape (Subject, other Extensions members, other custom extensions) is accepted.
	full := `{"Subject":{"CommonName":"sub"},"Extensions":{"KeyUsage":{"KeyCertSign":true},"CustomExtensions":[` +
		`{"ObjectIdentifier":"1.2.3.4","Value":"BQA="},{"ObjectIdentifier":"2.5.29.30","Value":` + b64(der) + `,"Critical":true}]}}`
	c, err := ParseAPIPassthrough([]byte(full))
	if err != nil || c.NonCritical || c.Permitted[0].Name != ".example.com" {
		t.Fatalf("full shape: %v %+v", err, c)
	}
	// Critical absent: AWS's default is false.
	c, err = ParseAPIPassthrough([]byte(`{"Extensions":{"CustomExtensions":[{"ObjectIdentifier":"2.5.29.30","Value":` + b64(der) + `}]}}`))
	if err != nil || !c.NonCritical {
		t.Fatalf("Critical absent: %v %+v", err, c)
	}
}

func mustJSONString(b []byte) []byte {
	var sb strings.Builder
	sb.WriteByte('"')
	sb.WriteString(base64Std(b))
	sb.WriteByte('"')
	return []byte(sb.String())
}

func TestParseSubtree(t *testing.T) {
	tests := []struct {
		in   string
		want Subtree
		str  string
	}{
		{"example.com", Subtree{Form: FormDNS, Name: "example.com"}, "dns:example.com"},
		{".example.com", Subtree{Form: FormDNS, Name: ".example.com"}, "dns:.example.com"},
		{"DNS:.Example.COM", Subtree{Form: FormDNS, Name: ".Example.COM"}, "dns:.Example.COM"},
		{"dns:", Subtree{Form: FormDNS, Name: ""}, "dns:"},
		{"_srv.example.com", Subtree{Form: FormDNS, Name: "_srv.example.com"}, "dns:_srv.example.com"},
		{"10.0.0.0/8", Subtree{Form: FormIP, IP: netip.MustParsePrefix("10.0.0.0/8")}, "ip:10.0.0.0/8"},
		{"ip:2001:db8::/32", Subtree{Form: FormIP, IP: netip.MustParsePrefix("2001:db8::/32")}, "ip:2001:db8::/32"},
		{"2001:db8::/32", Subtree{Form: FormIP, IP: netip.MustParsePrefix("2001:db8::/32")}, "ip:2001:db8::/32"},
		{"::/0", Subtree{Form: FormIP, IP: netip.MustParsePrefix("::/0")}, "ip:::/0"},
		{"0.0.0.0/0", Subtree{Form: FormIP, IP: netip.MustParsePrefix("0.0.0.0/0")}, "ip:0.0.0.0/0"},
		{"user@example.com", Subtree{Form: FormEmail, Name: "user@example.com"}, "email:user@example.com"},
		{"@example.com", Subtree{Form: FormEmail, Name: "example.com"}, "email:@example.com"},
		{"email:example.com", Subtree{Form: FormEmail, Name: "example.com"}, "email:@example.com"},
		{"email:.example.com", Subtree{Form: FormEmail, Name: ".example.com"}, "email:.example.com"},
		{"uri:host.example.com", Subtree{Form: FormURI, Name: "host.example.com"}, "uri:host.example.com"},
		{"uri:.example.com", Subtree{Form: FormURI, Name: ".example.com"}, "uri:.example.com"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseSubtree(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
			if got.String() != tc.str {
				t.Fatalf("String() = %q, want %q", got.String(), tc.str)
			}
			again, err := ParseSubtree(got.String())
			if err != nil || !again.Equal(got) {
				t.Fatalf("ParseSubtree(String()) = %+v, %v", again, err)
			}
		})
	}
}

func TestParseSubtreeRejects(t *testing.T) {
	tests := []struct {
		in   string
		want error
	}{
		{"10.0.0.1", ErrBadCIDR},                     // an address, not a range
		{"10.0.0.1/8", ErrBadCIDR},                   // host bits
		{"10.0.0.0/33", ErrBadCIDR},                  // prefix too long
		{"ip:example.com", ErrBadCIDR},               // not a CIDR
		{"2001:db8::1/32", ErrBadCIDR},               // host bits (IPv6)
		{"", ErrInvalidName},                         // nothing
		{"example.com.", ErrInvalidName},             // trailing dot
		{"exa mple.com", ErrInvalidName},             // space
		{"bücher.example", ErrInvalidName},           // U-label: use xn--
		{"a..example.com", ErrInvalidName},           // empty label
		{"..example.com", ErrInvalidName},            // double leading dot
		{"@", ErrInvalidName},                        // no host
		{"@.example.com", ErrInvalidName},            // host form with domain dot
		{"email:", ErrInvalidName},                   // empty email
		{"uri:https://example.com/", ErrInvalidName}, // a URI, not a host
		{"uri:10.0.0.1", ErrInvalidName},             // IP as URI host
		{"uri:", ErrInvalidName},                     // empty
		{"othername:1.2.3", ErrUnsupportedForm},      // unsupported
		{"rid:1.2.3", ErrUnsupportedForm},            // unsupported
		{"dn:CN", ErrInvalidName},                    // no '='
		{"dn:XX=y", ErrInvalidName},                  // unknown attribute
		{"dn:C=USA", ErrInvalidName},                 // country code length
		{"dn:C=Ü1", ErrInvalidName},                  // C must be PrintableString
		{"dn:CN=a\\", ErrInvalidName},                // trailing backslash
		{"dn:CN=a,", ErrInvalidName},                 // trailing separator
		{"dn:CN=#zz", ErrInvalidName},                // bad hex
		{"dn:CN=#0c0161ff", ErrInvalidName},          // hex is not one element
		{"dn:DC=bücher", ErrInvalidName},             // DC is IA5String
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			_, err := ParseSubtree(tc.in)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("not an *Error: %T", err)
			}
		})
	}
}

func TestParseSubtreeDN(t *testing.T) {
	tests := []struct {
		in, str string
	}{
		{"dn:CN=Sub CA,O=Example,C=US", "dn:CN=Sub CA,O=Example,C=US"},
		{"dn:O=Example\\, Inc.,C=US", "dn:O=Example\\, Inc.,C=US"},
		{"dn:CN=Zoë,O=Example", "dn:CN=Zoë,O=Example"},       // UTF8String
		{"dn:CN=a+OU=b,O=Example", "dn:CN=a+OU=b,O=Example"}, // multi-valued RDN
		{"dn:OU=b+CN=a,O=Example", "dn:CN=a+OU=b,O=Example"}, // DER SET OF order
		{"dn:DC=example,DC=com", "dn:DC=example,DC=com"},     // IA5String
		{"dn:2.5.4.3=x", "dn:CN=x"},                          // dotted OID
		{"dn:1.2.3.4=#0c0161", "dn:1.2.3.4=#0c0161"},         // unknown OID, DER value
		{"dn:CN=#0c0161", "dn:CN=#0c0161"},                   // UTF8String "a" (text would be PrintableString)
		{"dn:CN=\\ lead", "dn:CN=\\ lead"},                   // escaped leading space
		{"dn:CN=  spaced  ", "dn:CN=spaced"},                 // unescaped spaces trimmed
		{"dn:", "dn:"},                                       // empty Name: every DN
		{"dn:emailAddress=a@example.com,O=Example", "dn:emailAddress=a@example.com,O=Example"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			s, err := ParseSubtree(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if s.String() != tc.str {
				t.Fatalf("String() = %q, want %q", s.String(), tc.str)
			}
			again, err := ParseSubtree(s.String())
			if err != nil || !bytes.Equal(again.DN, s.DN) {
				t.Fatalf("round trip: %x vs %x (%v)", again.DN, s.DN, err)
			}
		})
	}
	// The RDN order is RFC 4514's: the last RDN in the string is the first in the DER.
	s, _ := ParseSubtree("dn:CN=leaf,O=Example,C=US")
	want, _ := derName(pkix.Name{Country: []string{"US"}, Organization: []string{"Example"}, CommonName: "leaf"})
	if !bytes.Equal(s.DN, want) {
		t.Fatalf("DN DER %x, crypto/x509 writes %x", s.DN, want)
	}
}

func TestParseSubtreeList(t *testing.T) {
	got, err := ParseSubtreeList(".example.com,10.0.0.0/8,dn:CN=x,O=Example\\, Inc.,C=US,@example.org")
	if err != nil {
		t.Fatal(err)
	}
	var strs []string
	for _, s := range got {
		strs = append(strs, s.String())
	}
	want := "dns:.example.com|ip:10.0.0.0/8|dn:CN=x,O=Example\\, Inc.,C=US|email:@example.org"
	if strings.Join(strs, "|") != want {
		t.Fatalf("got %q, want %q", strings.Join(strs, "|"), want)
	}
	if l, err := ParseSubtreeList("  "); err != nil || l != nil {
		t.Fatalf("empty list: %v %v", l, err)
	}
	if _, err := ParseSubtreeList("a.com,,b.com"); !errors.Is(err, ErrInvalidName) {
		t.Fatalf("empty item: %v", err)
	}
}

// der builders for malformed inputs
func ncDER(perm, excl [][]byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		if perm != nil {
			b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
				for _, s := range perm {
					b.AddBytes(s)
				}
			})
		}
		if excl != nil {
			b.AddASN1(cbasn1.Tag(1).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
				for _, s := range excl {
					b.AddBytes(s)
				}
			})
		}
	})
	return b.BytesOrPanic()
}

func gsub(tag cbasn1.Tag, value []byte, extra ...[]byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(tag, func(b *cryptobyte.Builder) { b.AddBytes(value) })
		for _, e := range extra {
			b.AddBytes(e)
		}
	})
	return b.BytesOrPanic()
}

func TestParseRejects(t *testing.T) {
	dns := gsub(tagDNS, []byte("example.com"))
	tests := []struct {
		name string
		der  []byte
		want error
	}{
		{"empty_input", nil, ErrMalformed},
		{"not_a_sequence", []byte{0x04, 0x00}, ErrMalformed},
		{"trailing_data", append(ncDER([][]byte{dns}, nil), 0), ErrMalformed},
		{"empty_both_sides", ncDER(nil, nil), ErrEmpty},
		{"empty_permitted_set", ncDER([][]byte{}, nil), ErrMalformed},
		{"empty_excluded_set", ncDER([][]byte{dns}, [][]byte{}), ErrMalformed},
		{"ber_long_length", []byte{0x30, 0x81, 0x0f, 0xa0, 0x0d, 0x30, 0x0b, 0x82, 0x09, 'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'c'}, ErrMalformed},
		{"ip_wrong_length", ncDER([][]byte{gsub(tagIP, []byte{10, 0, 0, 0, 255})}, nil), ErrBadCIDR},
		{"ip_address_without_mask", ncDER([][]byte{gsub(tagIP, []byte{10, 0, 0, 1})}, nil), ErrBadCIDR},
		{"ip_noncontiguous_mask", ncDER([][]byte{gsub(tagIP, []byte{10, 0, 0, 0, 255, 0, 255, 0})}, nil), ErrBadCIDR},
		{"ipv6_noncontiguous_mask", ncDER([][]byte{gsub(tagIP, append(make([]byte, 16), append([]byte{0xff, 0xfe, 0xff}, make([]byte, 13)...)...))}, nil), ErrBadCIDR},
		{"minimum_one", ncDER([][]byte{gsub(tagDNS, []byte("a.com"), []byte{0x80, 0x01, 0x01})}, nil), ErrMinMax},
		{"minimum_zero_encoded", ncDER([][]byte{gsub(tagDNS, []byte("a.com"), []byte{0x80, 0x01, 0x00})}, nil), ErrMalformed},
		{"maximum_present", ncDER([][]byte{gsub(tagDNS, []byte("a.com"), []byte{0x81, 0x01, 0x02})}, nil), ErrMinMax},
		{"maximum_zero", ncDER([][]byte{gsub(tagDNS, []byte("a.com"), []byte{0x81, 0x01, 0x00})}, nil), ErrMinMax},
		{"trailing_in_subtree", ncDER([][]byte{gsub(tagDNS, []byte("a.com"), []byte{0x05, 0x00})}, nil), ErrMalformed},
		{"otherName", ncDER([][]byte{gsub(tagOtherName, []byte{0x06, 0x01, 0x2a, 0xa0, 0x02, 0x05, 0x00})}, nil), ErrUnsupportedForm},
		{"x400Address", ncDER([][]byte{gsub(tagX400, []byte{0x30, 0x00})}, nil), ErrUnsupportedForm},
		{"ediPartyName", ncDER([][]byte{gsub(tagEDIParty, []byte{0x30, 0x00})}, nil), ErrUnsupportedForm},
		{"registeredID", ncDER([][]byte{gsub(tagRID, []byte{0x2a})}, nil), ErrUnsupportedForm},
		{"unknown_tag", ncDER([][]byte{gsub(cbasn1.Tag(9).ContextSpecific(), []byte{0})}, nil), ErrMalformed},
		{"dns_constructed_ia5", ncDER([][]byte{gsub(cbasn1.Tag(2).ContextSpecific().Constructed(), []byte{0x16, 0x01, 'a'})}, nil), ErrMalformed},
		{"dns_not_ia5", ncDER([][]byte{gsub(tagDNS, []byte("bücher.example"))}, nil), ErrInvalidName},
		{"dns_trailing_dot", ncDER([][]byte{gsub(tagDNS, []byte("example.com."))}, nil), ErrInvalidName},
		{"dns_empty_label", ncDER([][]byte{gsub(tagDNS, []byte("a..com"))}, nil), ErrInvalidName},
		{"email_empty", ncDER([][]byte{gsub(tagEmail, nil)}, nil), ErrInvalidName},
		{"email_empty_local", ncDER([][]byte{gsub(tagEmail, []byte("@example.com"))}, nil), ErrInvalidName},
		{"uri_empty", ncDER([][]byte{gsub(tagURI, nil)}, nil), ErrInvalidName},
		{"uri_ip", ncDER([][]byte{gsub(tagURI, []byte("10.0.0.1"))}, nil), ErrInvalidName},
		{"dn_not_a_name", ncDER([][]byte{gsub(tagDN, []byte{0x04, 0x00})}, nil), ErrMalformed},
		{"dn_empty_rdn", ncDER([][]byte{gsub(tagDN, []byte{0x30, 0x02, 0x31, 0x00})}, nil), ErrInvalidName},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse(tc.der)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Parse = %+v, %v; want %v", c, err, tc.want)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("not an *Error: %T", err)
			}
		})
	}
}

func TestParseMarshalRoundTrip(t *testing.T) {
	files, _ := filepath.Glob("testdata/aws/*.der")
	seeds, _ := filepath.Glob("testdata/der/*.der")
	files = append(files, seeds...)
	if len(files) < 8 {
		t.Fatalf("only %d DER vectors", len(files))
	}
	for _, f := range files {
		der, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		c, err := Parse(der)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		again, err := c.Marshal()
		if err != nil || !bytes.Equal(again, der) {
			t.Fatalf("%s: Parse → Marshal = %x, %v; want %x", f, again, err, der)
		}
	}
	// Host bits in a DER iPAddress are kept (crypto/x509 and OpenSSL accept them) and ignored in matching.
	der := ncDER([][]byte{gsub(tagIP, []byte{10, 1, 2, 3, 255, 0, 0, 0})}, nil)
	c, err := Parse(der)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := c.Marshal(); !bytes.Equal(again, der) {
		t.Fatalf("host bits not kept: %x", again)
	}
	if err := c.CheckIP(netip.MustParseAddr("10.200.0.1")); err != nil {
		t.Fatalf("10.200.0.1 in 10.1.2.3/8: %v", err)
	}
}

func TestMarshalRejects(t *testing.T) {
	if _, err := New(nil, nil); !errors.Is(err, ErrEmpty) {
		t.Fatalf("New(nil, nil): %v", err)
	}
	var nilC *Constraints
	if _, err := nilC.Marshal(); !errors.Is(err, ErrEmpty) {
		t.Fatalf("nil Marshal: %v", err)
	}
	bad := []Subtree{
		{Form: FormIP},                              // invalid prefix
		{Form: FormDNS, Name: "a..b"},               // empty label
		{Form: FormEmail},                           // empty
		{Form: FormURI, Name: "::1"},                // IP
		{Form: FormDN, DN: []byte{1, 2}},            // not a Name
		{Form: Form(0), Name: "x"},                  // unknown form
		{Form: Form(42), Name: "x"},                 // unknown form
		{Form: FormDNS, Name: "\u00fc.example.com"}, // not IA5
	}
	for _, s := range bad {
		c := &Constraints{Excluded: []Subtree{s}}
		if _, err := c.Marshal(); err == nil {
			t.Errorf("Marshal(%+v) succeeded", s)
		} else if _, err := c.Extension(); err == nil {
			t.Errorf("Extension(%+v) succeeded", s)
		}
	}
}

func TestExtensionCriticalByDefault(t *testing.T) {
	c := mustNew(t, []string{".example.com"}, nil)
	ext, err := c.Extension()
	if err != nil {
		t.Fatal(err)
	}
	if !ext.Id.Equal(OID) || ext.Id.String() != "2.5.29.30" || !ext.Critical {
		t.Fatalf("extension %v critical=%v", ext.Id, ext.Critical)
	}
	c.NonCritical = true
	if ext, _ = c.Extension(); ext.Critical {
		t.Fatal("NonCritical ignored")
	}
}

func testKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestFromCertificate(t *testing.T) {
	c := mustNew(t, []string{".example.com", "10.0.0.0/8", "dn:O=Example,C=US"}, []string{"uri:.prod.example.com"})
	ext, _ := c.Extension()
	key := testKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
		ExtraExtensions: []pkix.Extension{ext},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	got, err := FromCertificate(cert)
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != c.String() || got.NonCritical {
		t.Fatalf("FromCertificate = %v (noncritical %v), want %v", got, got.NonCritical, c)
	}
	// absent: nil, nil — and a nil *Constraints permits everything
	none, err := FromExtensions(nil)
	if err != nil || none != nil {
		t.Fatalf("absent: %v %v", none, err)
	}
	if err := none.CheckDNS("anything.example"); err != nil {
		t.Fatal(err)
	}
	if err := none.CheckCertificate(cert, nil); err != nil {
		t.Fatal(err)
	}
	// duplicate extension
	if _, err := FromExtensions([]pkix.Extension{ext, ext}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("duplicate: %v", err)
	}
	// non-critical extension
	ext.Critical = false
	got, err = FromExtensions([]pkix.Extension{ext})
	if err != nil || !got.NonCritical {
		t.Fatalf("non-critical: %v %v", got, err)
	}
	if _, err := FromCertificate(nil); !errors.Is(err, ErrMalformed) {
		t.Fatalf("nil cert: %v", err)
	}
}
