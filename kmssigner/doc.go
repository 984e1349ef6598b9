// Package kmssigner turns a key held by a key-management service into a crypto.Signer.
//
// The call most users need:
//
//	signer, err := kmssigner.Open(ctx, "localkms:dir=/var/lib/pkikit-kms;key=alias/CA")
//	// or, with any Client (localkms, awskms, pkcs11):
//	signer, err := kmssigner.New(ctx, client, "alias/CA", nil)
//
// A *Signer fetches the public key once (DER SubjectPublicKeyInfo, ML-DSA included) and implements
// crypto.Signer, crypto.MessageSigner and the context-aware SignContext/SignMessageContext, mapping each request
// to one KMS Sign call as AWS KMS defines it:
//
//   - ECDSA P-256/384/521 → ECDSA_SHA_256/384/512, DIGEST (the hash must match the curve);
//   - RSA → RSASSA_PKCS1_V1_5_SHA_* or, for *rsa.PSSOptions, RSASSA_PSS_SHA_* (salt = hash length only);
//   - Ed25519 → ED25519_SHA_512, RAW (at most 4096 bytes);
//   - ML-DSA-44/65/87 → ML_DSA_SHAKE_256: RAW up to 4096 bytes, else EXTERNAL_MU with μ computed locally
//     (FIPS 204, RFC 9881 Appendix D); a context string (MLDSAOptions) always goes through μ.
//
// Every signature is verified against the cached public key before it is returned, so a wrong key, a corrupted
// response or a key rotated underneath is ErrSignatureMismatch, not a bad certificate. Key references are sent
// exactly as given (key id, key ARN, alias/Name, alias ARN). Contexts are honoured for cancellation and
// deadlines; there is no hidden timeout.
//
// Backends register URI schemes with Register: kmssigner/localkms ("localkms:"), kmssigner/awskms ("awskms:")
// and kmssigner/pkcs11 ("pkcs11:", RFC 7512).
//
// What it does not do: it never sees or exports private keys; it does not retry (backends do); it does not
// sign HashML-DSA, Ed25519ph or Ed25519ctx; it does not silently change a PSS salt length or hash.
package kmssigner
