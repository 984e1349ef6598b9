package x509ext

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// ASN1Subject is AWS Private CA's ASN1Subject: the distinguished name of a CA configuration or an API
// passthrough, with the API's field names and length limits.
type ASN1Subject struct {
	Country                    string            `json:"Country,omitempty"`
	Organization               string            `json:"Organization,omitempty"`
	OrganizationalUnit         string            `json:"OrganizationalUnit,omitempty"`
	DistinguishedNameQualifier string            `json:"DistinguishedNameQualifier,omitempty"`
	State                      string            `json:"State,omitempty"`
	CommonName                 string            `json:"CommonName,omitempty"`
	SerialNumber               string            `json:"SerialNumber,omitempty"`
	Locality                   string            `json:"Locality,omitempty"`
	Title                      string            `json:"Title,omitempty"`
	Surname                    string            `json:"Surname,omitempty"`
	GivenName                  string            `json:"GivenName,omitempty"`
	Initials                   string            `json:"Initials,omitempty"`
	Pseudonym                  string            `json:"Pseudonym,omitempty"`
	GenerationQualifier        string            `json:"GenerationQualifier,omitempty"`
	CustomAttributes           []CustomAttribute `json:"CustomAttributes,omitempty"`
}

// CustomAttribute is one attribute of an ASN1Subject given by OID.
type CustomAttribute struct {
	ObjectIdentifier string `json:"ObjectIdentifier"`
	Value            string `json:"Value"`
}

// Attribute type OIDs (X.520) of the ASN1Subject fields pkix.Name has no field for.
var (
	oidDNQualifier         = asn1.ObjectIdentifier{2, 5, 4, 46}
	oidTitle               = asn1.ObjectIdentifier{2, 5, 4, 12}
	oidSurname             = asn1.ObjectIdentifier{2, 5, 4, 4}
	oidGivenName           = asn1.ObjectIdentifier{2, 5, 4, 42}
	oidInitials            = asn1.ObjectIdentifier{2, 5, 4, 43}
	oidPseudonym           = asn1.ObjectIdentifier{2, 5, 4, 65}
	oidGenerationQualifier = asn1.ObjectIdentifier{2, 5, 4, 44}
)

func isPrintable(s string) bool {
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case r == ' ', r == '\'', r == '(', r == ')', r == '+', r == ',', r == '-', r == '.', r == '/', r == ':', r == '=', r == '?':
		default:
			return false
		}
	}
	return true
}

// Name converts the subject to a pkix.Name, checking the API's limits: Country two letters; Organization,
// OrganizationalUnit, CommonName, Title ≤ 64 characters; State, Locality, Pseudonym ≤ 128; Surname ≤ 40;
// GivenName ≤ 16; Initials ≤ 5; GenerationQualifier ≤ 3; DistinguishedNameQualifier and SerialNumber ≤ 64
// PrintableString characters. CustomAttributes (OID + value) cannot be mixed with the named fields.
func (s *ASN1Subject) Name() (pkix.Name, error) {
	const op = "subject"
	var n pkix.Name
	check := func(field, v string, max int, printable bool) error {
		if v == "" {
			return nil
		}
		if !utf8.ValidString(v) || utf8.RuneCountInString(v) > max {
			return newErr(op, ErrMalformed, field+" longer than "+strconv.Itoa(max)+" characters or not UTF-8", nil)
		}
		if printable && !isPrintable(v) {
			return newErr(op, ErrMalformed, field+" must be a PrintableString", nil)
		}
		return nil
	}
	type lim struct {
		field     string
		v         string
		max       int
		printable bool
	}
	for _, l := range []lim{
		{"Organization", s.Organization, 64, false}, {"OrganizationalUnit", s.OrganizationalUnit, 64, false},
		{"DistinguishedNameQualifier", s.DistinguishedNameQualifier, 64, true}, {"State", s.State, 128, false},
		{"CommonName", s.CommonName, 64, false}, {"SerialNumber", s.SerialNumber, 64, true},
		{"Locality", s.Locality, 128, false}, {"Title", s.Title, 64, false}, {"Surname", s.Surname, 40, false},
		{"GivenName", s.GivenName, 16, false}, {"Initials", s.Initials, 5, false},
		{"Pseudonym", s.Pseudonym, 128, false}, {"GenerationQualifier", s.GenerationQualifier, 3, false},
	} {
		if err := check(l.field, l.v, l.max, l.printable); err != nil {
			return n, err
		}
	}
	if s.Country != "" {
		c := s.Country
		if len(c) != 2 || !(c[0] >= 'A' && c[0] <= 'Z' || c[0] >= 'a' && c[0] <= 'z') || !(c[1] >= 'A' && c[1] <= 'Z' || c[1] >= 'a' && c[1] <= 'z') {
			return n, newErr(op, ErrMalformed, "Country must be a two-letter code", nil)
		}
	}
	if len(s.CustomAttributes) > 0 {
		c := *s
		c.CustomAttributes = nil
		if b, _ := json.Marshal(c); string(b) != "{}" {
			return n, newErr(op, ErrMalformed, "CustomAttributes cannot be combined with other subject fields", nil)
		}
		if len(s.CustomAttributes) > 150 {
			return n, newErr(op, ErrLimit, "more than 150 CustomAttributes", nil)
		}
		for _, a := range s.CustomAttributes {
			oid, err := ParseOID(a.ObjectIdentifier)
			if err != nil {
				return n, err
			}
			if a.Value == "" || !utf8.ValidString(a.Value) || len(a.Value) > 1024 {
				return n, newErr(op, ErrMalformed, "CustomAttributes value empty, too long or not UTF-8", nil)
			}
			n.ExtraNames = append(n.ExtraNames, pkix.AttributeTypeAndValue{Type: oid, Value: a.Value})
		}
		return n, nil
	}
	add := func(dst *[]string, v string) {
		if v != "" {
			*dst = append(*dst, v)
		}
	}
	add(&n.Country, s.Country)
	add(&n.Organization, s.Organization)
	add(&n.OrganizationalUnit, s.OrganizationalUnit)
	add(&n.Province, s.State)
	add(&n.Locality, s.Locality)
	n.CommonName = s.CommonName
	n.SerialNumber = s.SerialNumber
	extra := func(oid asn1.ObjectIdentifier, v string) {
		if v != "" {
			n.ExtraNames = append(n.ExtraNames, pkix.AttributeTypeAndValue{Type: oid, Value: v})
		}
	}
	extra(oidDNQualifier, s.DistinguishedNameQualifier)
	extra(oidTitle, s.Title)
	extra(oidSurname, s.Surname)
	extra(oidGivenName, s.GivenName)
	extra(oidInitials, s.Initials)
	extra(oidPseudonym, s.Pseudonym)
	extra(oidGenerationQualifier, s.GenerationQualifier)
	return n, nil
}
