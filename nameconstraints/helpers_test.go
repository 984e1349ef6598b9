package nameconstraints

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
)

func base64Std(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func derName(n pkix.Name) ([]byte, error) { return asn1.Marshal(n.ToRDNSequence()) }

func asn1Unmarshal(b []byte, v any) ([]byte, error) { return asn1.Unmarshal(b, v) }
