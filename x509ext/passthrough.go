package x509ext

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"net"
	"strconv"
	"strings"

	"github.com/pkikit/pkikit/internal/der"
)

// MaxJSONSize bounds the JSON documents ParseAPIPassthrough and ParseCAConfig read.
const MaxJSONSize = 64 << 10

// APIPassthrough is AWS Private CA's IssueCertificate ApiPassthrough parameter, parsed and checked: extension
// values and a subject that the CA operator (not the requester's CSR) supplies. Issue accepts it only with a
// profile whose APIPassthrough is set, and the profile still wins for keyUsage, extendedKeyUsage and basic
// constraints.
type APIPassthrough struct {
	KeyUsage            x509.KeyUsage // 0: not given
	ExtKeyUsage         []x509.ExtKeyUsage
	UnknownExtKeyUsage  []asn1.ObjectIdentifier
	SubjectAltNames     AltNames
	CertificatePolicies []CertificatePolicy
	CustomExtensions    []pkix.Extension
	// Subject is the passthrough subject; HasSubject reports whether one was given.
	Subject    pkix.Name
	HasSubject bool
}

// The JSON shapes (field names exactly as the AWS API spells them).
type jsonAPIPassthrough struct {
	Extensions *jsonExtensions `json:"Extensions"`
	Subject    *ASN1Subject    `json:"Subject"`
}

type jsonExtensions struct {
	CertificatePolicies     []jsonPolicyInformation `json:"CertificatePolicies"`
	ExtendedKeyUsage        []jsonExtendedKeyUsage  `json:"ExtendedKeyUsage"`
	KeyUsage                *jsonKeyUsage           `json:"KeyUsage"`
	SubjectAlternativeNames []jsonGeneralName       `json:"SubjectAlternativeNames"`
	CustomExtensions        []jsonCustomExtension   `json:"CustomExtensions"`
}

type jsonPolicyInformation struct {
	CertPolicyID     string                `json:"CertPolicyId"`
	PolicyQualifiers []jsonPolicyQualifier `json:"PolicyQualifiers"`
}

type jsonPolicyQualifier struct {
	PolicyQualifierID string `json:"PolicyQualifierId"` // "CPS"
	Qualifier         struct {
		CpsURI string `json:"CpsUri"`
	} `json:"Qualifier"`
}

type jsonExtendedKeyUsage struct {
	ExtendedKeyUsageType             string `json:"ExtendedKeyUsageType"`
	ExtendedKeyUsageObjectIdentifier string `json:"ExtendedKeyUsageObjectIdentifier"`
}

type jsonKeyUsage struct {
	DigitalSignature bool `json:"DigitalSignature"`
	NonRepudiation   bool `json:"NonRepudiation"`
	KeyEncipherment  bool `json:"KeyEncipherment"`
	DataEncipherment bool `json:"DataEncipherment"`
	KeyAgreement     bool `json:"KeyAgreement"`
	KeyCertSign      bool `json:"KeyCertSign"`
	CRLSign          bool `json:"CRLSign"`
	EncipherOnly     bool `json:"EncipherOnly"`
	DecipherOnly     bool `json:"DecipherOnly"`
}

func (k *jsonKeyUsage) keyUsage() x509.KeyUsage {
	var ku x509.KeyUsage
	set := func(b bool, v x509.KeyUsage) {
		if b {
			ku |= v
		}
	}
	set(k.DigitalSignature, x509.KeyUsageDigitalSignature)
	set(k.NonRepudiation, x509.KeyUsageContentCommitment)
	set(k.KeyEncipherment, x509.KeyUsageKeyEncipherment)
	set(k.DataEncipherment, x509.KeyUsageDataEncipherment)
	set(k.KeyAgreement, x509.KeyUsageKeyAgreement)
	set(k.KeyCertSign, x509.KeyUsageCertSign)
	set(k.CRLSign, x509.KeyUsageCRLSign)
	set(k.EncipherOnly, x509.KeyUsageEncipherOnly)
	set(k.DecipherOnly, x509.KeyUsageDecipherOnly)
	return ku
}

type jsonGeneralName struct {
	DNSName                   *string          `json:"DnsName"`
	IPAddress                 *string          `json:"IpAddress"`
	Rfc822Name                *string          `json:"Rfc822Name"`
	UniformResourceIdentifier *string          `json:"UniformResourceIdentifier"`
	DirectoryName             *json.RawMessage `json:"DirectoryName"`
	EdiPartyName              *json.RawMessage `json:"EdiPartyName"`
	OtherName                 *json.RawMessage `json:"OtherName"`
	RegisteredID              *string          `json:"RegisteredId"`
}

type jsonCustomExtension struct {
	ObjectIdentifier string `json:"ObjectIdentifier"`
	Value            string `json:"Value"`
	Critical         bool   `json:"Critical"`
}

// The ExtendedKeyUsageType values of the Private CA API. DOCUMENT_SIGNING is mapped to Microsoft's document
// signing OID and CERTIFICATE_TRANSPARENCY to the RFC 6962 precertificate-signing OID.
var awsEKUTypes = map[string]asn1.ObjectIdentifier{
	"SERVER_AUTH":              {1, 3, 6, 1, 5, 5, 7, 3, 1},
	"CLIENT_AUTH":              {1, 3, 6, 1, 5, 5, 7, 3, 2},
	"CODE_SIGNING":             {1, 3, 6, 1, 5, 5, 7, 3, 3},
	"EMAIL_PROTECTION":         {1, 3, 6, 1, 5, 5, 7, 3, 4},
	"TIME_STAMPING":            {1, 3, 6, 1, 5, 5, 7, 3, 8},
	"OCSP_SIGNING":             {1, 3, 6, 1, 5, 5, 7, 3, 9},
	"SMART_CARD_LOGIN":         {1, 3, 6, 1, 4, 1, 311, 20, 2, 2},
	"DOCUMENT_SIGNING":         {1, 3, 6, 1, 4, 1, 311, 10, 3, 12},
	"CERTIFICATE_TRANSPARENCY": {1, 3, 6, 1, 4, 1, 11129, 2, 4, 4},
}

// ParseOID parses a dotted object identifier ("1.2.840.113549") strictly.
func ParseOID(s string) (asn1.ObjectIdentifier, error) {
	parts := strings.Split(s, ".")
	if len(parts) < 2 || len(parts) > 128 {
		return nil, newErr("parse OID", ErrMalformed, strconv.Quote(s), nil)
	}
	oid := make(asn1.ObjectIdentifier, len(parts))
	for i, p := range parts {
		if p == "" || (len(p) > 1 && p[0] == '0') || len(p) > 9 {
			return nil, newErr("parse OID", ErrMalformed, strconv.Quote(s), nil)
		}
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return nil, newErr("parse OID", ErrMalformed, strconv.Quote(s), nil)
		}
		oid[i] = n
	}
	if oid[0] > 2 || (oid[0] < 2 && oid[1] > 39) {
		return nil, newErr("parse OID", ErrMalformed, strconv.Quote(s), nil)
	}
	return oid, nil
}

func decodeStrict(op string, data []byte, v any) error {
	if len(data) > MaxJSONSize {
		return newErr(op, ErrLimit, "JSON larger than MaxJSONSize", nil)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return newErr(op, ErrMalformed, "", err)
	}
	if dec.More() {
		return newErr(op, ErrMalformed, "data after the JSON object", nil)
	}
	return nil
}

// ParseAPIPassthrough parses the JSON of AWS Private CA's ApiPassthrough parameter (as given to
// `aws acm-pca issue-certificate --api-passthrough file://...`): Extensions {KeyUsage, ExtendedKeyUsage,
// SubjectAlternativeNames, CertificatePolicies, CustomExtensions [{ObjectIdentifier, Value (base64 DER),
// Critical}]} and Subject. Unknown fields, unsupported name forms (DirectoryName, OtherName, EdiPartyName,
// RegisteredId) and bad values give an *Error matching ErrMalformed.
func ParseAPIPassthrough(data []byte) (*APIPassthrough, error) {
	const op = "parse API passthrough"
	var j jsonAPIPassthrough
	if err := decodeStrict(op, data, &j); err != nil {
		return nil, err
	}
	out := &APIPassthrough{}
	if j.Subject != nil {
		n, err := j.Subject.Name()
		if err != nil {
			return nil, err
		}
		out.Subject, out.HasSubject = n, true
	}
	if j.Extensions == nil {
		return out, nil
	}
	e := j.Extensions
	if e.KeyUsage != nil {
		out.KeyUsage = e.KeyUsage.keyUsage()
	}
	for _, u := range e.ExtendedKeyUsage {
		switch {
		case u.ExtendedKeyUsageType != "" && u.ExtendedKeyUsageObjectIdentifier != "":
			return nil, newErr(op, ErrMalformed, "ExtendedKeyUsage with both a type and an OID", nil)
		case u.ExtendedKeyUsageType != "":
			oid, ok := awsEKUTypes[u.ExtendedKeyUsageType]
			if !ok {
				return nil, newErr(op, ErrMalformed, "unknown ExtendedKeyUsageType "+strconv.Quote(u.ExtendedKeyUsageType), nil)
			}
			addEKU(out, oid)
		case u.ExtendedKeyUsageObjectIdentifier != "":
			oid, err := ParseOID(u.ExtendedKeyUsageObjectIdentifier)
			if err != nil {
				return nil, err
			}
			addEKU(out, oid)
		default:
			return nil, newErr(op, ErrMalformed, "empty ExtendedKeyUsage entry", nil)
		}
	}
	for _, g := range e.SubjectAlternativeNames {
		n := 0
		for _, p := range []*string{g.DNSName, g.IPAddress, g.Rfc822Name, g.UniformResourceIdentifier, g.RegisteredID} {
			if p != nil {
				n++
			}
		}
		for _, p := range []*json.RawMessage{g.DirectoryName, g.EdiPartyName, g.OtherName} {
			if p != nil {
				n++
			}
		}
		if n != 1 {
			return nil, newErr(op, ErrMalformed, "a GeneralName must have exactly one member", nil)
		}
		switch {
		case g.DNSName != nil:
			out.SubjectAltNames.DNSNames = append(out.SubjectAltNames.DNSNames, *g.DNSName)
		case g.Rfc822Name != nil:
			out.SubjectAltNames.EmailAddresses = append(out.SubjectAltNames.EmailAddresses, *g.Rfc822Name)
		case g.IPAddress != nil:
			ip := net.ParseIP(*g.IPAddress)
			if ip == nil {
				return nil, newErr(op, ErrMalformed, "bad IpAddress "+strconv.Quote(*g.IPAddress), nil)
			}
			out.SubjectAltNames.IPAddresses = append(out.SubjectAltNames.IPAddresses, ip)
		case g.UniformResourceIdentifier != nil:
			us, err := der.ParseURIs([]string{*g.UniformResourceIdentifier})
			if err != nil {
				return nil, newErr(op, ErrMalformed, "", err)
			}
			out.SubjectAltNames.URIs = append(out.SubjectAltNames.URIs, us...)
		default:
			return nil, newErr(op, ErrMalformed, "only DnsName, IpAddress, Rfc822Name and UniformResourceIdentifier names are supported", nil)
		}
	}
	for _, p := range e.CertificatePolicies {
		oid, err := ParseOID(p.CertPolicyID)
		if err != nil {
			return nil, err
		}
		cp := CertificatePolicy{ID: oid}
		for _, q := range p.PolicyQualifiers {
			if q.PolicyQualifierID != "CPS" || q.Qualifier.CpsURI == "" {
				return nil, newErr(op, ErrMalformed, "only CPS policy qualifiers with a CpsUri are supported", nil)
			}
			if cp.CPSURI != "" {
				return nil, newErr(op, ErrMalformed, "more than one CPS qualifier for one policy", nil)
			}
			cp.CPSURI = q.Qualifier.CpsURI
		}
		out.CertificatePolicies = append(out.CertificatePolicies, cp)
	}
	for _, c := range e.CustomExtensions {
		oid, err := ParseOID(c.ObjectIdentifier)
		if err != nil {
			return nil, err
		}
		v, err := base64.StdEncoding.DecodeString(c.Value)
		if err != nil || len(v) == 0 {
			return nil, newErr(op, ErrMalformed, "CustomExtensions Value must be non-empty base64 DER", err)
		}
		if !isSingleDER(v) {
			return nil, newErr(op, ErrMalformed, "CustomExtensions Value is not one DER element", nil)
		}
		out.CustomExtensions = append(out.CustomExtensions, pkix.Extension{Id: oid, Critical: c.Critical, Value: v})
	}
	return out, nil
}

func addEKU(p *APIPassthrough, oid asn1.ObjectIdentifier) {
	for k, o := range extKeyUsageOIDs {
		if o.Equal(oid) {
			p.ExtKeyUsage = append(p.ExtKeyUsage, k)
			return
		}
	}
	p.UnknownExtKeyUsage = append(p.UnknownExtKeyUsage, oid)
}

// isSingleDER reports whether v is exactly one BER/DER TLV (a sanity check on extension values).
func isSingleDER(v []byte) bool {
	var raw asn1.RawValue
	rest, err := asn1.Unmarshal(v, &raw)
	return err == nil && len(rest) == 0
}
