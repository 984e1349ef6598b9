package cms

import "encoding/asn1"

// Object identifiers used by CMS SignedData (RFC 5652, RFC 6211, RFC 8702, RFC 9882).
var (
	OIDData                   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	OIDSignedData             = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	OIDAttributeContentType   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	OIDAttributeMessageDigest = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	OIDAttributeSigningTime   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
	// OIDAttributeAlgorithmProtection is id-aa-CMSAlgorithmProtection (RFC 6211).
	OIDAttributeAlgorithmProtection = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 52}
)

// DER encodings of the OIDs above (complete TLVs), for fast comparison while parsing.
var (
	derOIDData                = mustOID(OIDData)
	derOIDSignedData          = mustOID(OIDSignedData)
	derOIDContentType         = mustOID(OIDAttributeContentType)
	derOIDMessageDigest       = mustOID(OIDAttributeMessageDigest)
	derOIDSigningTime         = mustOID(OIDAttributeSigningTime)
	derOIDAlgorithmProtection = mustOID(OIDAttributeAlgorithmProtection)
)

func mustOID(oid asn1.ObjectIdentifier) []byte {
	b, err := asn1.Marshal(oid)
	if err != nil {
		panic(err)
	}
	return b
}
