package cms

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/pkikit/pkikit/x509ext"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// toBER re-encodes DER as the BER other producers write: every constructed element with an indefinite length,
// OCTET STRINGs longer than chunk split into a constructed OCTET STRING of chunks (nested once), and other
// primitive lengths in non-minimal long form.
func toBER(t testing.TB, der []byte, chunk int) []byte {
	t.Helper()
	var out []byte
	s := cryptobyte.String(der)
	for !s.Empty() {
		var el, body cryptobyte.String
		var tag cbasn1.Tag
		if !s.ReadAnyASN1Element(&el, &tag) {
			t.Fatal("toBER: bad DER")
		}
		hdr := headerLen(el)
		body = el[hdr:]
		switch {
		case tag&0x20 != 0:
			out = append(out, el[0], 0x80)
			out = append(out, toBER(t, body, chunk)...)
			out = append(out, 0, 0)
		case tag == cbasn1.OCTET_STRING && len(body) > chunk:
			out = append(out, 0x24, 0x80)
			// First half as a nested constructed string, rest as primitive chunks.
			half := len(body) / 2
			out = append(out, 0x24, 0x80)
			out = append(out, berChunks(body[:half], chunk)...)
			out = append(out, 0, 0)
			out = append(out, berChunks(body[half:], chunk)...)
			out = append(out, 0, 0)
		default:
			out = append(out, el[0], 0x84, byte(len(body)>>24), byte(len(body)>>16), byte(len(body)>>8), byte(len(body)))
			out = append(out, body...)
		}
	}
	return out
}

func berChunks(b []byte, chunk int) []byte {
	var out []byte
	for len(b) > 0 {
		n := min(chunk, len(b))
		out = appendHeader(out, 0x04, n)
		out = append(out, b[:n]...)
		b = b[n:]
	}
	return out
}

func TestParseBER(t *testing.T) {
	p := pkiFor(t, x509ext.KeyMLDSA65)
	s := p.signer(t, x509ext.KeyMLDSA65, &SignerOptions{Digest: SHAKE256})
	content := bytes.Repeat([]byte("0123456789"), 300)
	for _, attached := range []bool{false, true} {
		der, err := Sign(context.Background(), bytes.NewReader(content), []*Signer{s}, &SignOptions{Time: testNow, Attached: attached})
		if err != nil {
			t.Fatal(err)
		}
		ber := toBER(t, der, 100)
		if bytes.Equal(ber, der) || len(ber) <= len(der) {
			t.Fatal("toBER did nothing")
		}
		sd, err := Parse(ber, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(sd.Raw, der) {
			t.Fatalf("attached=%v: normalised BER differs from the original DER", attached)
		}
		var c *bytes.Reader
		if !attached {
			c = bytes.NewReader(content)
		}
		var verr error
		if c != nil {
			_, verr = Verify(ber, c, p.opts())
		} else {
			_, verr = Verify(ber, nil, p.opts())
		}
		if verr != nil {
			t.Fatal(verr)
		}
	}
}

func nested(depth int) []byte {
	b := []byte{}
	for i := 0; i < depth; i++ {
		b = append(b, 0x30, 0x80)
	}
	for i := 0; i < depth; i++ {
		b = append(b, 0, 0)
	}
	return b
}

func TestParseHostile(t *testing.T) {
	p := pkiFor(t, x509ext.KeyECDSAP256)
	s := p.signer(t, x509ext.KeyECDSAP256, nil)
	der, err := Sign(context.Background(), bytes.NewReader(testContent), []*Signer{s}, &SignOptions{Time: testNow})
	if err != nil {
		t.Fatal(err)
	}
	many, err := Sign(context.Background(), bytes.NewReader(testContent), []*Signer{s, p.signer(t, x509ext.KeyECDSAP256, nil), p.signer(t, x509ext.KeyECDSAP256, nil)}, &SignOptions{Time: testNow})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		in   []byte
		opts *ParseOptions
		want error
	}{
		{"empty", nil, nil, ErrMalformed},
		{"truncated", der[:len(der)/2], nil, ErrMalformed},
		{"trailing-data", append(bytes.Clone(der), 0), nil, ErrMalformed},
		{"deep-nesting", nested(1000), nil, ErrTooLarge},
		{"depth-limit", toBER(t, der, 1000), &ParseOptions{MaxDepth: 3}, ErrTooLarge},
		{"element-limit", toBER(t, der, 1000), &ParseOptions{MaxElements: 10}, ErrTooLarge},
		{"size-limit", der, &ParseOptions{MaxSize: 100}, ErrTooLarge},
		{"certificate-limit", der, &ParseOptions{MaxCertificates: 1}, ErrTooLarge},
		{"signer-limit", many, &ParseOptions{MaxSignerInfos: 2}, ErrTooLarge},
		{"indefinite-primitive", []byte{0x30, 0x80, 0x04, 0x80, 0, 0, 0, 0}, nil, ErrMalformed},
		{"missing-end-of-contents", []byte{0x30, 0x80, 0x05, 0x00}, nil, ErrMalformed},
		{"length-beyond-input", []byte{0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x00}, nil, ErrMalformed},
		{"huge-length-octets", []byte{0x30, 0x89, 1, 2, 3, 4, 5, 6, 7, 8, 9}, nil, ErrMalformed},
		{"mixed-string-segments", []byte{0x30, 0x80, 0x24, 0x80, 0x0c, 0x01, 'a', 0, 0, 0, 0}, nil, ErrMalformed},
		{"not-signed-data", []byte{0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01}, nil, ErrMalformed},
		{"PEM-of-other-type", []byte("-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n"), nil, ErrMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.in, tc.opts)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

// TestParseReencode: Parse of DER keeps the input as Raw (parse → re-encode gives the same bytes).
func TestParseReencode(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.der")
	for _, f := range files {
		data, _ := os.ReadFile(f)
		sd, err := Parse(data, nil)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		again, err := Parse(sd.Raw, nil)
		if err != nil || !bytes.Equal(again.Raw, sd.Raw) {
			t.Fatalf("%s: normalised form is not stable", f)
		}
	}
}
