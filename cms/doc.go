// Package cms signs and verifies CMS SignedData (RFC 5652) — detached code signatures above all — with ML-DSA
// (RFC 9882) and classical keys, through any crypto.Signer, remote ones included.
//
// The calls most users need:
//
//	signer, err := cms.NewSigner(key, leafCert, &cms.SignerOptions{Intermediates: []*x509ext.Certificate{subCA}})
//	p7s, err := cms.Sign(ctx, file, []*cms.Signer{signer}, nil)        // detached, DER
//
//	res, err := cms.Verify(p7s, file, cms.VerifyOptions{Store: truststore.NewStore(root)})
//
// Sign streams the content (constant memory whatever its size), digests it once per digest algorithm, and has
// each signer sign the DER SET OF its signed attributes — contentType, signingTime, messageDigest and
// CMSAlgorithmProtection (RFC 6211) — with exactly one call to its key (alg.Sign: SignMessageContext,
// SignContext, SignMessage or Sign, so KMS and HSM keys get the context). Digests follow RFC 9882 for ML-DSA
// (SHA-512 by default, SHAKE256 with 512-bit output on request), RFC 8419 for Ed25519 (SHA-512), and the
// signature's hash for ECDSA and RSA (PKCS#1 v1.5 and PSS). Signers are identified by issuerAndSerialNumber or
// subjectKeyIdentifier; the signer's certificate and intermediates are embedded, never the root. Several
// signers (ECDSA P-256 beside ML-DSA-65) fit in one SignedData. MarshalPEM gives the "-----BEGIN CMS-----" form
// OpenSSL writes; SignOptions.Attached puts the content inside.
//
// Verify (or a Verifier, which caches parsed certificates and verified chains for repeated use) checks, for
// each SignerInfo: the CMSAlgorithmProtection attribute against the SignerInfo's algorithms, the digest
// algorithm against the key (RFC 9882 §3 table, strict by default), the signature over the signed attributes,
// the messageDigest against the streamed content, the digitalSignature key usage and codeSigning extended key
// usage of the signer's certificate (by default), the signing time within its validity, and its chain to an
// anchor of a truststore.Store at the verification time (VerifyOptions.Time). A Policy says whether all
// signers, any, or at least one ML-DSA signer must verify. Failures are a *VerifyError listing each signer's
// *Error, whose Reason (ErrContentDigest, ErrBadSignature, ErrUntrusted, ErrEKU, ErrExpired,
// ErrAlgorithmProtection, ErrDigestNotAllowed, ...) errors.Is matches.
//
// Parse reads DER, BER (indefinite lengths and constructed OCTET STRINGs, as Bouncy Castle or `openssl cms
// -stream` write, normalised to DER within depth, element and size bounds) and PEM.
//
// What it does not do: it does not build or validate certificate chains itself (truststore does); it does not
// verify SignerInfos without signed attributes, nor produce them; it does not do EnvelopedData,
// AuthenticatedData, countersignatures or timestamps (unsigned attributes are skipped); it does not check
// revocation unless the trust store is set up to; HashML-DSA is not supported (RFC 9882 specifies pure ML-DSA
// only).
package cms
