package nameconstraints

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
)

// MaxAPIPassthroughSize bounds the JSON ParseAPIPassthrough reads.
const MaxAPIPassthroughSize = 1 << 20

// The API-passthrough shape AWS Private CA's IssueCertificate takes (ApiPassthrough.Extensions.CustomExtensions),
// with the fields in the order the AWS sample encoder writes them.
type apiPassthrough struct {
	Extensions apiExtensions `json:"Extensions"`
}

type apiExtensions struct {
	CustomExtensions []apiCustomExtension `json:"CustomExtensions"`
}

type apiCustomExtension struct {
	ObjectIdentifier string `json:"ObjectIdentifier"`
	Value            string `json:"Value"`
	Critical         bool   `json:"Critical"`
}

// MarshalAPIPassthrough returns the AWS Private CA API-passthrough JSON carrying the extension:
//
//	{"Extensions":{"CustomExtensions":[{"ObjectIdentifier":"2.5.29.30","Value":"<base64 DER>","Critical":true}]}}
//
// indented with four spaces and without a trailing newline — byte for byte what the aws-samples Python encoder
// (json.dump(data, file, indent=4)) writes for the same subtrees. Pass it to `aws acm-pca issue-certificate
// --api-passthrough file://api_passthrough_config.json` with a template ARN of an APIPassthrough variant.
func (c *Constraints) MarshalAPIPassthrough() ([]byte, error) {
	ext, err := c.Extension()
	if err != nil {
		return nil, err
	}
	doc := apiPassthrough{Extensions: apiExtensions{CustomExtensions: []apiCustomExtension{{
		ObjectIdentifier: ext.Id.String(),
		Value:            base64.StdEncoding.EncodeToString(ext.Value),
		Critical:         ext.Critical,
	}}}}
	return json.MarshalIndent(doc, "", "    ")
}

// ParseAPIPassthrough reads the name constraints back from an API-passthrough JSON document: the one
// Extensions.CustomExtensions entry whose ObjectIdentifier is 2.5.29.30 (other entries, other Extensions members
// and Subject are ignored). Key names are matched exactly, as AWS does. NonCritical is set when "Critical" is
// false or absent (AWS's default). It returns ErrNotFound without such an entry and ErrMalformed for bad JSON,
// bad base64, duplicates or input over MaxAPIPassthroughSize.
func ParseAPIPassthrough(data []byte) (*Constraints, error) {
	const op = "parse API passthrough"
	if len(data) > MaxAPIPassthroughSize {
		return nil, errf(op, ErrMalformed, "document larger than %d bytes", MaxAPIPassthroughSize)
	}
	var top map[string]json.RawMessage
	if err := decodeJSON(data, &top); err != nil {
		return nil, newErr(op, ErrMalformed, "", err)
	}
	var exts map[string]json.RawMessage
	if raw, ok := top["Extensions"]; ok {
		if err := decodeJSON(raw, &exts); err != nil {
			return nil, newErr(op, ErrMalformed, "Extensions", err)
		}
	}
	var customs []map[string]json.RawMessage
	if raw, ok := exts["CustomExtensions"]; ok {
		if err := decodeJSON(raw, &customs); err != nil {
			return nil, newErr(op, ErrMalformed, "CustomExtensions", err)
		}
	}
	var out *Constraints
	for _, ce := range customs {
		var oid, value string
		critical := false
		if err := decodeJSON(ce["ObjectIdentifier"], &oid); err != nil {
			return nil, newErr(op, ErrMalformed, "ObjectIdentifier", err)
		}
		if oid != OID.String() {
			continue
		}
		if out != nil {
			return nil, errf(op, ErrMalformed, "more than one %s custom extension", OID)
		}
		if err := decodeJSON(ce["Value"], &value); err != nil {
			return nil, newErr(op, ErrMalformed, "Value", err)
		}
		if raw, ok := ce["Critical"]; ok {
			if err := decodeJSON(raw, &critical); err != nil {
				return nil, newErr(op, ErrMalformed, "Critical", err)
			}
		}
		der, err := base64.StdEncoding.Strict().DecodeString(value)
		if err != nil {
			return nil, newErr(op, ErrMalformed, "Value is not base64", err)
		}
		c, err := Parse(der)
		if err != nil {
			return nil, err
		}
		c.NonCritical = !critical
		out = c
	}
	if out == nil {
		return nil, errf(op, ErrNotFound, "no %s entry in Extensions.CustomExtensions", OID)
	}
	return out, nil
}

// decodeJSON decodes one JSON value with nothing after it; a missing (nil) value is an error.
func decodeJSON(raw []byte, v any) error {
	if raw == nil {
		return errf("parse API passthrough", ErrMalformed, "missing member")
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return errf("parse API passthrough", ErrMalformed, "trailing data")
	}
	return nil
}
