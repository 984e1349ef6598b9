// Package x509ext creates, parses and checks X.509 certificates and CRLs of every algorithm pkikit supports,
// ML-DSA-44/65/87 included, with keys that live anywhere (any crypto.Signer; remote ones get a context).
//
// The call most users need issues a certificate from a CA:
//
//	ca := &x509ext.Issuer{Certificate: caCert, Signer: caKey}
//	cert, err := ca.Issue(ctx, &x509ext.IssueRequest{
//		Profile:   x509ext.EndEntityServerAuthCertificateV1, // or x509ext.LookupProfile(templateARN)
//		CSR:       csr,                                      // or PublicKey: pub
//		DNSNames:  []string{"www.example.com"},
//		Validity:  90 * 24 * time.Hour,
//	})
//
// A root is made with SelfSign(ctx, key, &IssueRequest{Profile: RootCACertificateV1, ...}). Certificates of any
// algorithm are read with ParseCertificate and checked with (*Certificate).CheckSignatureFrom; CRLs are made
// with (*Issuer).CreateCRL and read with ParseCRL.
//
// What it does:
//   - Profiles equal to AWS Private CA's certificate templates (RootCACertificate/V1,
//     SubordinateCACertificate_PathLen0..3/V1, EndEntity*/V1, CodeSigningCertificate/V1,
//     OCSPSigningCertificate/V1 and their _APIPassthrough variants), found by name or template ARN. As in
//     Private CA, the profile wins over the request (API passthrough), which wins over the CSR, for key usage,
//     extended key usage and basic constraints. Other profiles (ISO 18013-5's) are more Profile values.
//   - Issue builds the TBSCertificate itself (crypto/x509 cannot for ML-DSA keys or context-aware signers),
//     signs it with one signing call, always writes SKI (RFC 7093 §2 method 1: SHA-256 of the subjectPublicKey
//     bits, truncated to 160 bits, as crypto/x509 does since Go 1.25) and AKI, and refuses with a typed error a
//     certificate that would outlive its issuer, a pathLen violation, a key usage the subject key cannot have
//     (keyEncipherment on ML-DSA, RFC 9881 §5), a CSR whose signature does not verify, and what the issuer's
//     Policy forbids.
//   - ParseCAConfig reads AWS Private CA's CA-configuration JSON (CreateCertificateAuthority), and
//     ParseAPIPassthrough its IssueCertificate ApiPassthrough JSON.
//
// What it does not do: path building and validation (validity of a chain, name constraints, revocation
// checking: see package truststore), OCSP, certificate transparency, CSR creation (package csr), or any
// network access. Profiles do not drop key usages a key cannot have: they refuse them (an ML-DSA TLS leaf needs
// a copy of EndEntityServerAuthCertificateV1 with KeyUsage set to x509.KeyUsageDigitalSignature).
package x509ext
