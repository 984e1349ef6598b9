package awskms

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseURI(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     URI
	}{
		{"key id only", "awskms:key-id=1234abcd-12ab-34cd-56ef-1234567890ab",
			URI{KeyID: "1234abcd-12ab-34cd-56ef-1234567890ab"}},
		{"alias case preserved", "awskms:key-id=alias/Code-Signing_KEY",
			URI{KeyID: "alias/Code-Signing_KEY"}},
		{"all attributes", "awskms:key-id=alias/x;region=eu-west-1;endpoint=http://127.0.0.1:4599;profile=prod",
			URI{KeyID: "alias/x", Region: "eu-west-1", Endpoint: "http://127.0.0.1:4599", Profile: "prod"}},
		{"attributes in any order", "awskms:endpoint=https://kms.example.com/base;key-id=k",
			URI{KeyID: "k", Endpoint: "https://kms.example.com/base"}},
		{"scheme case-insensitive", "AWSKMS:key-id=k", URI{KeyID: "k"}},
		{"percent-encoded value", "awskms:key-id=alias/a%3Bb%20c", URI{KeyID: "alias/a;b c"}},
		{"key ARN opaque", "awskms:key-id=arn:aws:kms:us-east-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
			URI{KeyID: "arn:aws:kms:us-east-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"}},
		{"hierarchical key id", "awskms:///1234abcd-12ab-34cd-56ef-1234567890ab",
			URI{KeyID: "1234abcd-12ab-34cd-56ef-1234567890ab"}},
		{"hierarchical alias", "awskms:///alias/Signing", URI{KeyID: "alias/Signing"}},
		{"hierarchical ARN with query", "awskms:///arn:aws:kms:eu-west-1:111122223333:alias/Signing?region=eu-west-1&endpoint=http://127.0.0.1:1",
			URI{KeyID: "arn:aws:kms:eu-west-1:111122223333:alias/Signing", Region: "eu-west-1", Endpoint: "http://127.0.0.1:1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, err := ParseURI(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if *u != tc.want {
				t.Fatalf("got %+v, want %+v", *u, tc.want)
			}
			again, err := ParseURI(u.String())
			if err != nil || *again != *u {
				t.Fatalf("String %q does not parse back: %+v %v", u.String(), again, err)
			}
		})
	}
}

func TestParseURIRejects(t *testing.T) {
	for _, tc := range []struct{ name, in string }{
		{"empty", ""},
		{"other scheme", "localkms:key-id=k"},
		{"no attributes", "awskms:"},
		{"no key id", "awskms:region=us-east-1"},
		{"empty key id", "awskms:key-id="},
		{"unknown attribute", "awskms:key-id=k;secret-access-key=x"},
		{"repeated attribute", "awskms:key-id=a;key-id=b"},
		{"repeated region", "awskms:key-id=a;region=us-east-1;region=eu-west-1"},
		{"not name=value", "awskms:key-id=k;region"},
		{"empty attribute", "awskms:key-id=k;;region=x"},
		{"trailing separator", "awskms:key-id=k;"},
		{"bad escape", "awskms:key-id=%zz"},
		{"truncated escape", "awskms:key-id=a%4"},
		{"raw space", "awskms:key-id=a b"},
		{"raw fragment", "awskms:key-id=a#b"},
		{"control char", "awskms:key-id=a%0Ab"},
		{"bad region", "awskms:key-id=k;region=US_EAST"},
		{"endpoint not http", "awskms:key-id=k;endpoint=ftp://h"},
		{"endpoint no host", "awskms:key-id=k;endpoint=http://"},
		{"endpoint with userinfo", "awskms:key-id=k;endpoint=http://user:pass@h"},
		{"endpoint with query", "awskms:key-id=k;endpoint=http://h/?x=1"},
		{"hierarchical with host", "awskms://kms.us-east-1.amazonaws.com/k"},
		{"hierarchical no key", "awskms:///"},
		{"hierarchical key twice", "awskms:///a?key-id=b"},
		{"hierarchical empty query", "awskms:///a?"},
		{"too long", "awskms:key-id=" + strings.Repeat("a", 5000)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, err := ParseURI(tc.in)
			if !errors.Is(err, ErrInvalidURI) {
				t.Fatalf("ParseURI(%q) = %+v, %v; want ErrInvalidURI", tc.in, u, err)
			}
			var e *Error
			if !errors.As(err, &e) || !strings.HasPrefix(e.Error(), "awskms: ") {
				t.Fatalf("error %v is not an *awskms.Error", err)
			}
		})
	}
}

func TestURIEffectiveRegion(t *testing.T) {
	for in, want := range map[string]string{
		"awskms:key-id=k":                                                            "",
		"awskms:key-id=k;region=eu-west-1":                                           "eu-west-1",
		"awskms:key-id=arn:aws:kms:ap-south-1:111122223333:key/abc":                  "ap-south-1",
		"awskms:key-id=arn:aws:kms:ap-south-1:111122223333:key/abc;region=us-east-1": "us-east-1",
		"awskms:key-id=arn:aws-cn:kms:cn-north-1:111122223333:alias/x":               "cn-north-1",
		"awskms:key-id=alias/arn:aws:kms:x":                                          "",
	} {
		u, err := ParseURI(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := u.EffectiveRegion(); got != want {
			t.Errorf("%s: region %q, want %q", in, got, want)
		}
	}
}

// FuzzParseURI checks that ParseURI never panics, that what it accepts is valid and that String gives a URI
// that parses back to the same value. Seeds: testdata/uris.txt.
func FuzzParseURI(f *testing.F) {
	data, err := os.ReadFile(filepath.Join("testdata", "uris.txt"))
	if err != nil {
		f.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			f.Add(line)
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseURI(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidURI) {
				t.Fatalf("error %v does not match ErrInvalidURI", err)
			}
			return
		}
		if u.KeyID == "" {
			t.Fatal("accepted a URI without a key")
		}
		again, err := ParseURI(u.String())
		if err != nil {
			t.Fatalf("String %q of %q does not parse: %v", u.String(), s, err)
		}
		if *again != *u {
			t.Fatalf("round trip of %q: %+v != %+v", s, *again, *u)
		}
	})
}
