// Package truststore verifies certificate chains of every algorithm pkikit supports — ML-DSA-44/65/87, ECDSA,
// RSA (PKCS#1 v1.5 and PSS), Ed25519, and chains that mix them — against trust anchors you choose, and says
// exactly why a chain was rejected. It is the verifier cms and mdl use.
//
// The call most users need:
//
//	store := truststore.NewStore(root)                     // or AddAnchorsPEM / AddAnchorsDir / SystemStore
//	chains, err := store.Verify(leaf, truststore.VerifyOptions{
//		Intermediates: intermediates,                      // untrusted, any order
//		Purpose:       truststore.PurposeCodeSigning,      // zero value: TLS server, as crypto/x509
//	})
//	var ve *truststore.VerifyError
//	if errors.As(err, &ve) { ... }                         // every candidate path and its reason
//	if errors.Is(err, truststore.ErrRevoked) { ... }       // one sentinel per reason
//
// What it does:
//
//   - Anchors from PEM bundles, directories of PEM/DER files, the system bundle and Go values. An intermediate
//     or a leaf given as an anchor is accepted with a Warning that says why it is a mistake and what to do.
//   - Pins: SPKI SHA-256 PinSets (pin a root's key, not a certificate); AmazonRootPins ships the five Amazon
//     Trust Services roots; PinSet.Check tells which pinned roots a bundle holds.
//   - Path building and validation (RFC 5280 §6): several candidate issuers and cross-signed roots, every valid
//     path returned; name chaining per RFC 5280 §7.1; validity at VerifyOptions.Time; basicConstraints and
//     pathLen (self-issued certificates not counted); keyUsage and extendedKeyUsage for a Purpose (TLS
//     server/client, code signing, OCSP signing, mDL document signing, any); name constraints of every form
//     through pkikit/nameconstraints (self-issued intermediates exempt); certificate policies (RFC 9618 policy
//     graph); a critical extension nothing here understands rejects the certificate. Work is bounded by
//     MaxDepth, MaxSignatureChecks and MaxCandidates (ErrBudgetExhausted).
//   - Revocation: CRLs given by the caller or fetched by a CRLFetcher you supply, with the CRL's signature (any
//     algorithm, ML-DSA included), issuer, thisUpdate/nextUpdate window, scope and reason checked; OCSP
//     responses given by the caller (issuer- or delegated-responder-signed). RevocationBestEffort (default),
//     RevocationOff or RevocationRequired.
//   - Inventory: ScanPaths and (*Store).Inventory report subject, issuer, serial, SANs, not-after and days to
//     expiry of every certificate in files, directories or a store, flag those within a threshold (30 days by
//     default), filter by issuer, and write a table, JSON or CSV.
//   - A warm store does only the leaf's work: verified (CA certificate, issuer key) pairs and parsed
//     certificates are cached, bounded.
//
// Choices where RFC 5280 leaves room (each has a test in edge_test.go or verify_test.go):
//
//   - extendedKeyUsage is checked Go/Chrome-style, nested: every certificate of the path that carries an EKU
//     extension (anchor and intermediates included) must allow the Purpose (or anyExtendedKeyUsage). RFC 5280
//     only defines EKU for the end entity; nesting is what the Web PKI and crypto/x509 enforce. Purposes: the
//     leaf's keyUsage, when present, must include one of the bits listed on the Purpose constant.
//   - The anchor is a name and a key (RFC 5280 §6.1.1 (d)), so its unknown critical extensions are ignored, but
//     constraints it states are honoured as crypto/x509 does (RFC 5937): basicConstraints cA=FALSE, a keyUsage
//     without keyCertSign, pathLenConstraint, name constraints and its validity period (IgnoreAnchorValidity
//     turns the last off). Intermediates must carry basicConstraints cA=TRUE whatever their version.
//   - A CRL counts only when signed by the key of the certificate's issuer in the path (RFC 5280 §6.3.3
//     (f)–(g); the CRL's authorityKeyIdentifier does not replace that check), its issuer name is that
//     issuer's subject, the issuer's keyUsage (if present) has cRLSign, thisUpdate ≤ T < nextUpdate, and it
//     has a nextUpdate at all (§5.1.2.5). CRLs signed by a separate CRL-signing key are not supported: under
//     RevocationRequired that gives ErrRevocationUnknown. certificateHold counts as revoked, removeFromCRL
//     does not; a revocation dated after VerifyOptions.Time still counts (the conservative reading).
//
// What it does not do: no network I/O unless you pass a CRLFetcher (no AIA chasing, no OCSP requests); no
// delta CRLs, indirect CRLs or CRLs partitioned by reason (they are skipped as not covering the certificate);
// OCSP responses signed with ML-DSA are not checked (x/crypto/ocsp cannot parse their algorithm); DSA and SHA-1
// signatures are not supported (certificates using them do not parse); the subject CN is never treated as a
// host name. It does not decide application policy beyond the Purpose: cms and mdl add their own checks.
package truststore
