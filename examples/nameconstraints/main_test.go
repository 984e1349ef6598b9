package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkikit/pkikit/nameconstraints"
	"github.com/pkikit/pkikit/truststore"
)

var exampleCases = []struct {
	name string
	o    options
}{
	{"issue_example", options{Permitted: ".example.com,10.0.0.0/8", Excluded: ".prod.example.com", Allow: "www.example.com", Deny: "db.prod.example.com"}},
	{"ip_excluded", options{Permitted: ".example.com,10.0.0.0/8", Excluded: "10.99.0.0/16", Allow: "10.1.2.3", Deny: "10.99.1.1"}},
	{"ip_not_permitted", options{Permitted: "10.0.0.0/8,2001:db8::/32", Allow: "2001:db8::7", Deny: "192.168.0.1"}},
	{"email", options{Permitted: "email:.example.com", Excluded: "ceo@mail.example.com", Allow: "a@mail.example.com", Deny: "ceo@mail.example.com"}},
	{"uri", options{Permitted: "uri:.example.com", Allow: "spiffe://api.example.com/w", Deny: "https://example.org/"}},
	{"mixed_with_dn", options{Permitted: "dns:example.com,uri:.example.com,dn:O=Example", Excluded: "dns:.prod.example.com", Allow: "example.com", Deny: "x.prod.example.com"}},
}

func TestBuild(t *testing.T) {
	for _, tc := range exampleCases {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.o
			o.OutDir = t.TempDir()
			var out bytes.Buffer
			if err := run(context.Background(), o, &out); err != nil {
				t.Fatal(err)
			}
			res, err := build(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			if res.AllowErr != nil || !errors.Is(res.DenyErr, truststore.ErrNameConstraint) {
				t.Fatalf("truststore: allow %v, deny %v", res.AllowErr, res.DenyErr)
			}
			var v *nameconstraints.ViolationError
			if !errors.As(res.DenyErr, &v) {
				t.Fatalf("truststore's error does not carry the *ViolationError: %v", res.DenyErr)
			}
			// the JSON on disk is what nameconstraints writes, and the subordinate carries that extension
			js, err := os.ReadFile(filepath.Join(o.OutDir, "api_passthrough_config.json"))
			if err != nil {
				t.Fatal(err)
			}
			back, err := nameconstraints.ParseAPIPassthrough(js)
			if err != nil {
				t.Fatal(err)
			}
			inCert, err := nameconstraints.FromCertificate(res.Sub.Certificate)
			if err != nil || inCert.String() != back.String() || inCert.NonCritical {
				t.Fatalf("subordinate carries %v (%v), JSON says %v", inCert, err, back)
			}
			for _, f := range []string{"root.pem", "sub.pem", "allowed.pem", "denied.pem"} {
				if _, err := os.Stat(filepath.Join(o.OutDir, f)); err != nil {
					t.Fatal(err)
				}
			}
			if !strings.Contains(out.String(), res.AllowCommand.String()) || !strings.Contains(out.String(), res.DenyCommand.String()) {
				t.Fatalf("commands not printed:\n%s", out.String())
			}
		})
	}
}

// TestAWSSampleJSON: the example's JSON for the aws-samples encoder's own example is that encoder's output.
func TestAWSSampleJSON(t *testing.T) {
	o := options{Permitted: ".dev.example.com,.test.example.com", Excluded: ".prod.dev.example.com",
		Allow: "api.dev.example.com", Deny: "db.prod.dev.example.com", OutDir: t.TempDir()}
	res, err := build(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("../../nameconstraints/testdata/aws/aws-sample.api_passthrough_config.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(res.JSON, want) {
		t.Fatalf("got %s\nwant %s", res.JSON, want)
	}
}

func TestBuildRefusesBadInput(t *testing.T) {
	for _, o := range []options{
		{Permitted: "10.0.0.1/8", Allow: "10.0.0.1", Deny: "11.0.0.1"},                  // host bits
		{Allow: "a.example", Deny: "b.example"},                                         // no subtrees
		{Permitted: ".example.com", Allow: "www.example.org", Deny: "x.example.org"},    // allow fails
		{Permitted: ".example.com", Allow: "www.example.com", Deny: "api.example.com"},  // deny passes
		{Permitted: "dn:O=Other Corp", Allow: "www.example.com", Deny: "x.example.com"}, // subject DN outside
	} {
		o.OutDir = t.TempDir()
		if _, err := build(context.Background(), o); err == nil {
			t.Errorf("build(%+v) succeeded", o)
		}
	}
}
