// Package pkikit is a module of PKI primitives that work offline and are ready for post-quantum keys: build a CA
// hierarchy, request and issue certificates from profiles over keys you cannot export (local, in an HSM, or in a
// KMS), encode name constraints, sign code with ML-DSA as detached CMS that OpenSSL 3.5 verifies, issue and verify
// ISO 18013-5 mobile driving licences, and verify chains against trust stores.
//
// This root package holds no code: it is the tour. Reach for
//
//   - x509ext — certificate profiles (the AWS Private CA templates, mDL IACA/DS), Issue and SelfSign over any
//     crypto.Signer, certificates and CRLs of every algorithm (ML-DSA-44/65/87 included), key generation and
//     PKCS#8/SPKI encoding.
//   - csr — PKCS#10 requests built over any signer, remote ones included; parse and verify.
//   - nameconstraints — encode, decode and check RFC 5280 name constraints; AWS Private CA API-passthrough JSON.
//   - truststore — trust anchors, pins, path building and validation, revocation, expiry reports.
//   - cms — RFC 5652 detached SignedData: ML-DSA (RFC 9882) and classical signers, streaming.
//   - mdl — ISO 18013-5 mobile security objects, IssuerSigned/DeviceResponse, issuer and device authentication.
//   - kmssigner — crypto.Signer over remote keys: kmssigner/localkms (embedded, AWS KMS API), kmssigner/awskms,
//     kmssigner/pkcs11.
//
// A root CA with an ML-DSA-65 key, in a few lines:
//
//	key, _ := x509ext.GenerateKey(x509ext.KeyMLDSA65)
//	root, err := x509ext.SelfSign(ctx, key, &x509ext.IssueRequest{
//		Profile: x509ext.RootCACertificateV1,
//		Subject: pkix.Name{CommonName: "Example Root"},
//		NotAfter: time.Now().AddDate(10, 0, 0),
//	})
//
// The examples/ folder has one runnable program per user story; examples/pqcodesign is the main one.
package pkikit
