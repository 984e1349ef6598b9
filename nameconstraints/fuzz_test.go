package nameconstraints

import (
	"bytes"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
)

func seedDER(f *testing.F) {
	for _, pattern := range []string{"testdata/aws/*.der", "testdata/der/*.der"} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
}

// FuzzParse: Parse never panics; what it accepts re-encodes to the same bytes, and parses again identically.
func FuzzParse(f *testing.F) {
	seedDER(f)
	f.Fuzz(func(t *testing.T, der []byte) {
		c, err := Parse(der)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("untyped error %T %v", err, err)
			}
			return
		}
		again, err := c.Marshal()
		if err != nil {
			t.Fatalf("Marshal of parsed %x: %v", der, err)
		}
		if !bytes.Equal(again, der) {
			t.Fatalf("Parse → Marshal changed bytes:\n in %x\nout %x", der, again)
		}
		_ = c.String()
	})
}

// FuzzCheck: checking any name of any form against any parseable constraints never panics and gives nil, a
// *ViolationError or an *Error.
func FuzzCheck(f *testing.F) {
	files, _ := filepath.Glob("testdata/aws/*.der")
	names := []string{"www.example.com", "*.example.com", "user@example.com", "https://a.example.com/", "10.0.0.1",
		"2001:db8::1", "", "@", "https://10.0.0.1/", "urn:x"}
	for i, file := range files {
		b, _ := os.ReadFile(file)
		f.Add(b, names[i%len(names)], uint8(i%6))
	}
	f.Fuzz(func(t *testing.T, der []byte, name string, form uint8) {
		c, err := Parse(der)
		if err != nil {
			return
		}
		n := Name{Form: Form(form%6 + 0), Value: name}
		switch n.Form {
		case FormIP:
			n.IP, _ = netip.ParseAddr(name)
		case FormDN:
			n.DN = []byte(name)
		}
		err = c.Check(n)
		var v *ViolationError
		var e *Error
		if err != nil && !errors.As(err, &v) && !errors.As(err, &e) {
			t.Fatalf("untyped error %T %v", err, err)
		}
	})
}

// FuzzParseSubtree: ParseSubtree never panics; an accepted subtree marshals, and String parses back to it.
func FuzzParseSubtree(f *testing.F) {
	for _, s := range []string{"example.com", ".example.com", "dns:", "10.0.0.0/8", "2001:db8::/32", "a@b.example",
		"@example.com", "email:.example.com", "uri:.example.com", "dn:CN=a+OU=b,O=Example\\, Inc.,C=US",
		"dn:1.2.3.4=#0c0161", "dn:#3000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		st, err := ParseSubtree(s)
		if err != nil {
			return
		}
		if _, err := (&Constraints{Permitted: []Subtree{st}}).Marshal(); err != nil {
			t.Fatalf("ParseSubtree(%q) = %+v, which does not marshal: %v", s, st, err)
		}
		again, err := ParseSubtree(st.String())
		if err != nil || !again.Equal(st) {
			t.Fatalf("ParseSubtree(%q).String() = %q → %+v, %v", s, st.String(), again, err)
		}
	})
}

// FuzzParseAPIPassthrough: never panics; what it accepts marshals back to a document it reads the same way.
func FuzzParseAPIPassthrough(f *testing.F) {
	files, _ := filepath.Glob("testdata/aws/*.json")
	for _, file := range files {
		b, _ := os.ReadFile(file)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseAPIPassthrough(data)
		if err != nil {
			return
		}
		js, err := c.MarshalAPIPassthrough()
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseAPIPassthrough(js)
		if err != nil || back.String() != c.String() || back.NonCritical != c.NonCritical {
			t.Fatalf("round trip: %v %v", back, err)
		}
	})
}
