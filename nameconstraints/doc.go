// Package nameconstraints encodes, decodes and enforces X.509 name constraints (RFC 5280 §4.2.1.10): the
// permitted and excluded subtrees a CA certificate places on every name below it.
//
// Most users restrict a subordinate CA and check names with:
//
//	nc, err := nameconstraints.New([]string{".example.com", "10.0.0.0/8"}, []string{".prod.example.com"})
//	ext, err := nc.Extension()              // OID 2.5.29.30, critical: put it in the subordinate's extensions
//	js, err := nc.MarshalAPIPassthrough()   // or hand it to AWS Private CA (api_passthrough_config.json)
//
//	nc, err := nameconstraints.FromCertificate(caCert) // nil, nil when the CA has none
//	err = nc.CheckCertificate(leaf, nil)               // nil, *ViolationError or *Error
//
// Name forms: dNSName, iPAddress (IPv4 and IPv6 CIDR), rfc822Name (mailbox, host, .domain),
// uniformResourceIdentifier (host, .domain) and directoryName. ParseSubtree documents the text syntax.
//
// # Semantics
//
// A name is acceptable when it is in no excluded subtree and, if any permitted subtree of its form exists, in
// at least one of them; a form without subtrees is unconstrained (so to forbid all IP addresses, exclude
// 0.0.0.0/0 and ::/0; a permitted list with only IPv4 ranges forbids every IPv6 address, IPv4-mapped ones
// included).
//
//   - dNSName "example.com" matches example.com and every name made by adding labels on the left (RFC 5280:
//     "Any DNS name that can be constructed by simply adding zero or more labels to the left-hand side of the
//     name satisfies the name constraint"). A leading period, ".example.com", matches the subdomains only, not
//     example.com itself. RFC 5280 defines that form only for rfc822Name and URI subtrees; for dNSName it is the
//     CA/Browser Forum's and every major verifier's reading (OpenSSL, crypto/x509 — which cites RFC 5280 erratum
//     5997 — NSS), and this package follows it. The empty dNSName matches every DNS name. Comparison is
//     label-aligned and ASCII case-insensitive. A wildcard name "*.example.com" is treated as every name it
//     stands for: excluded if any of them is (so an excluded "prod.example.com" catches it, as in crypto/x509
//     since CVE-2025-61727), permitted only if all are.
//   - rfc822Name "user@example.com" is one mailbox (local part case-sensitive, host not); "example.com" is every
//     mailbox at that host and NOT its subdomains; ".example.com" is every mailbox at a host under example.com.
//     crypto/x509 deviates here (it treats "example.com" like a DNS subtree); this package follows RFC 5280.
//   - uniformResourceIdentifier subtrees constrain the URI's host (RFC 3986 authority, after userinfo and
//     before the port): "host.example.com" that host exactly, ".example.com" hosts under it. A URI without a
//     host name, or whose host is an IP address, is rejected when URI constraints exist (RFC 5280: "the
//     application MUST reject the certificate").
//   - directoryName subtrees hold the names whose RDN sequence begins with theirs; attribute values of string
//     types compare case-insensitively with insignificant spaces removed (RFC 4518 without Unicode
//     normalisation), other values byte for byte.
//
// CheckCertificate checks each subjectAltName of those forms, the subject DN (when not empty), the subject's
// emailAddress attributes (as OpenSSL does), and — only when CheckOptions.CommonName says so, for legacy
// profiles — the subject commonName as a dNSName. Its work is bounded (CheckOptions.MaxComparisons, default
// DefaultMaxComparisons names × subtrees, checked before any comparison).
//
// Parse is strict DER: Parse → Marshal gives back the same bytes. It refuses an extension with neither
// permitted nor excluded subtrees (ErrEmpty), a minimum or a maximum (ErrMinMax), bad iPAddress ranges
// (ErrBadCIDR), and otherName, x400Address, ediPartyName and registeredID subtrees (ErrUnsupportedForm) — a
// verifier that cannot process a critical constraint must reject the certificate.
//
// What it does not do: build or verify certification paths (truststore calls CheckCertificate for every CA
// with constraints and every certificate below it, skipping self-issued intermediates as RFC 5280 §6.1.3
// does), intersect constraint sets across a path (checking each CA's set separately is equivalent), check
// names in otherName forms (SmtpUTF8Mailbox, ...), or apply Unicode normalisation to names: IDNs must be in
// A-label (xn--) form.
package nameconstraints
