package truststore

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"sort"
	"strings"
)

// canonicalName returns a key under which two DER Names that RFC 5280 §7.1 says are equal compare equal: each
// string attribute value case-folded with leading, trailing and repeated inner spaces removed, whatever its
// string type (PrintableString vs UTF8String), and the attributes of each RDN sorted. Names that do not parse
// are keyed by their bytes.
func canonicalName(raw []byte) string {
	var rdns pkix.RDNSequence
	if rest, err := asn1.Unmarshal(raw, &rdns); err != nil || len(rest) != 0 {
		return "raw:" + string(raw)
	}
	var b strings.Builder
	for _, rdn := range rdns {
		parts := make([]string, 0, len(rdn))
		for _, atv := range rdn {
			v := fmt.Sprint(atv.Value)
			if s, ok := atv.Value.(string); ok {
				v = strings.ToLower(strings.Join(strings.Fields(s), " "))
			}
			parts = append(parts, atv.Type.String()+"="+v)
		}
		sort.Strings(parts)
		b.WriteString(strings.Join(parts, "+"))
		b.WriteByte('/')
	}
	return b.String()
}
