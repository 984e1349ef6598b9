package pkcs11

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseURI(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     URI
	}{
		{"empty path", "pkcs11:", URI{}},
		{"RFC 7512 example: token", "pkcs11:token=The%20Software%20PKCS%2311%20Softtoken",
			URI{Token: "The Software PKCS#11 Softtoken"}},
		{"RFC 7512 example: object with id", "pkcs11:token=My%20token%25%20created%20by%20Joe;library-version=3;id=%01%02%03%Ba%dd%Ca%fe%04%05%06",
			URI{Token: "My token% created by Joe", LibraryVersion: "3", ID: []byte{1, 2, 3, 0xba, 0xdd, 0xca, 0xfe, 4, 5, 6}}},
		{"RFC 7512 example: query", "pkcs11:object=my-sign-key;type=private?module-name=mypkcs11",
			URI{Object: "my-sign-key", Type: "private", ModuleName: "mypkcs11"}},
		{"module path and pin source", "pkcs11:token=ca;object=issuing?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/ca.pin",
			URI{Token: "ca", Object: "issuing", ModulePath: "/usr/lib/softhsm/libsofthsm2.so", PINSource: "file:/run/ca.pin"}},
		{"pin value", "pkcs11:object=k?pin-value=12%2634", URI{Object: "k", PINValue: "12&34"}},
		{"path reserved chars raw", "pkcs11:token=:[]@!$'()*+,=&", URI{Token: ":[]@!$'()*+,=&"}},
		{"query reserved chars raw", "pkcs11:object=a?x-attr=:[]@!$'()*+,=/?|", URI{Object: "a", VendorQuery: map[string]string{"x-attr": ":[]@!$'()*+,=/?|"}}},
		{"names case-insensitive", "pkcs11:TOKEN=Case;Object=Key;TYPE=Private", URI{Token: "Case", Object: "Key", Type: "private"}},
		{"slot id", "pkcs11:slot-id=7;object=k", URI{SlotID: "7", Object: "k"}},
		{"vendor path attribute", "pkcs11:object=k;x-vendor=v", URI{Object: "k", VendorPath: map[string]string{"x-vendor": "v"}}},
		{"all token attributes", "pkcs11:manufacturer=SoftHSM%20project;model=SoftHSM%20v2;serial=4c2b;library-manufacturer=m;library-description=d;library-version=2.6;slot-manufacturer=sm;slot-description=sd",
			URI{Manufacturer: "SoftHSM project", Model: "SoftHSM v2", Serial: "4c2b", LibraryManufacturer: "m", LibraryDescription: "d", LibraryVersion: "2.6", SlotManufacturer: "sm", SlotDescription: "sd"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, err := ParseURI(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*u, tc.want) {
				t.Fatalf("got %+v\nwant %+v", *u, tc.want)
			}
			again, err := ParseURI(u.String())
			if err != nil || !reflect.DeepEqual(again, u) {
				t.Fatalf("String %q does not parse back: %+v %v", u.String(), again, err)
			}
		})
	}
}

func TestParseURIRejects(t *testing.T) {
	for _, tc := range []struct{ name, in string }{
		{"empty", ""},
		{"other scheme", "awskms:key-id=x"},
		{"repeated path attribute", "pkcs11:object=a;object=b"},
		{"repeated in other case", "pkcs11:object=a;OBJECT=b"},
		{"repeated query attribute", "pkcs11:object=a?module-path=/a&module-path=/b"},
		{"pin value and source", "pkcs11:object=a?pin-value=1&pin-source=/p"},
		{"unknown path attribute", "pkcs11:objet=a"},
		{"unknown query attribute", "pkcs11:object=a?pin=1234"},
		{"query attribute in path", "pkcs11:object=a;pin-value=1234"},
		{"module-path in path", "pkcs11:object=a;module-path=/usr/lib/x.so"},
		{"raw slash in path", "pkcs11:object=a/b"},
		{"raw ampersand in query", "pkcs11:object=a?x-a=b&c"},
		{"raw space", "pkcs11:object=a b"},
		{"bad escape in query", "pkcs11:object=a?x-a=%zz"},
		{"truncated escape", "pkcs11:id=%0"},
		{"bad type", "pkcs11:type=key"},
		{"bad slot id", "pkcs11:slot-id=x1"},
		{"slot id overflow", "pkcs11:slot-id=99999999999"},
		{"bad library version", "pkcs11:library-version=1.x"},
		{"no value", "pkcs11:object"},
		{"empty attribute", "pkcs11:object=a;;id=%01"},
		{"empty name", "pkcs11:=a"},
		{"bad name char", "pkcs11:ob.ject=a"},
		{"empty query", "pkcs11:object=a?"},
		{"too long", "pkcs11:object=" + strings.Repeat("a", 5000)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, err := ParseURI(tc.in)
			if !errors.Is(err, ErrInvalidURI) {
				t.Fatalf("ParseURI(%q) = %+v, %v; want ErrInvalidURI", tc.in, u, err)
			}
		})
	}
}

func TestParseURIErrorsNeverShowPIN(t *testing.T) {
	for _, in := range []string{
		"pkcs11:object=a;pin-value=s3cr3t-PIN",
		"pkcs11:object=a?pin-value=s3cr3t-PIN&pin-source=/p",
		"pkcs11:object=a?pin-value=s3cr3t-PIN%zz",
		"pkcs11:object=a?pin-value=s3cr3t-PIN&pin-value=s3cr3t-PIN",
	} {
		_, err := ParseURI(in)
		if err == nil || strings.Contains(err.Error(), "s3cr3t") {
			t.Fatalf("%q: %v", in, err)
		}
	}
}

func TestKeyRefDropsQuery(t *testing.T) {
	u, err := ParseURI("pkcs11:token=ca;object=k;id=%01?module-path=/m.so&pin-value=1234")
	if err != nil {
		t.Fatal(err)
	}
	if got := u.KeyRef(); got != "pkcs11:token=ca;object=k;id=%01" {
		t.Fatalf("KeyRef %q", got)
	}
}

func TestURIPIN(t *testing.T) {
	dir := t.TempDir()
	pinFile := filepath.Join(dir, "pin")
	if err := os.WriteFile(pinFile, []byte("2468\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, bytes.Repeat([]byte("1"), 2000), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		u    URI
		want string
		err  error
	}{
		{URI{PINValue: "1234"}, "1234", nil},
		{URI{}, "", nil},
		{URI{PINSource: pinFile}, "2468", nil},
		{URI{PINSource: "file:" + pinFile}, "2468", nil},
		{URI{PINSource: "file://" + pinFile}, "2468", nil},
		{URI{PINSource: "file://localhost" + pinFile}, "2468", nil},
		{URI{PINSource: "file://remote.example" + pinFile}, "", ErrPIN},
		{URI{PINSource: "|/bin/echo 1234"}, "", ErrPIN},
		{URI{PINSource: "https://example.com/pin"}, "", ErrPIN},
		{URI{PINSource: filepath.Join(dir, "absent")}, "", ErrPIN},
		{URI{PINSource: big}, "", ErrPIN},
		{URI{PINSource: empty}, "", ErrPIN},
	} {
		pin, err := tc.u.PIN()
		if pin != tc.want || !errors.Is(err, tc.err) && !(err == nil && tc.err == nil) {
			t.Errorf("%+v: PIN() = %q, %v; want %q, %v", tc.u, pin, err, tc.want, tc.err)
		}
	}
}

// FuzzParseURI checks that ParseURI never panics, that its errors are typed, and that String gives a URI that
// parses back to the same value. Seeds: testdata/uris.txt.
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
		again, err := ParseURI(u.String())
		if err != nil {
			t.Fatalf("String %q of %q does not parse: %v", u.String(), s, err)
		}
		if !reflect.DeepEqual(again, u) {
			t.Fatalf("round trip of %q: %+v != %+v", s, again, u)
		}
		if ref, err := ParseURI(u.KeyRef()); err != nil || ref.PINValue != "" || ref.PINSource != "" || ref.ModulePath != "" {
			t.Fatalf("KeyRef %q: %+v %v", u.KeyRef(), ref, err)
		}
	})
}
