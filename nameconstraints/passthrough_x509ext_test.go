package nameconstraints

import (
	"bytes"
	"testing"

	"github.com/pkikit/pkikit/x509ext"
)

// TestAPIPassthroughAcceptedByX509ext: x509ext.ParseAPIPassthrough (the whole ApiPassthrough shape, strict about
// unknown fields) accepts our JSON unchanged, for every name form, and finds our extension in it.
func TestAPIPassthroughAcceptedByX509ext(t *testing.T) {
	for _, tc := range readAWSCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			c := mustNew(t, tc.permitted, tc.exclude)
			js, err := c.MarshalAPIPassthrough()
			if err != nil {
				t.Fatal(err)
			}
			der, _ := c.Marshal()
			p, err := x509ext.ParseAPIPassthrough(js)
			if err != nil {
				t.Fatalf("x509ext.ParseAPIPassthrough: %v\n%s", err, js)
			}
			if len(p.CustomExtensions) != 1 {
				t.Fatalf("%d custom extensions", len(p.CustomExtensions))
			}
			e := p.CustomExtensions[0]
			if !e.Id.Equal(OID) || !e.Critical || !bytes.Equal(e.Value, der) {
				t.Fatalf("x509ext read %v critical=%v %x; want %v true %x", e.Id, e.Critical, e.Value, OID, der)
			}
			// and x509ext's extension list is what FromExtensions reads
			back, err := FromExtensions(p.CustomExtensions)
			if err != nil || back.String() != c.String() {
				t.Fatalf("FromExtensions: %v %v", back, err)
			}
		})
	}
}
