// Package pkcs11 signs with ECDSA and RSA keys held in a PKCS#11 token (an HSM, a smart card, SoftHSM2) as
// kmssigner.Signers, through github.com/ThalesGroup/crypto11.
//
// The call most users need is kmssigner.Open with an RFC 7512 pkcs11: URI (importing this package registers the
// scheme):
//
//	import _ "github.com/pkikit/pkikit/kmssigner/pkcs11"
//
//	signer, err := kmssigner.Open(ctx,
//		"pkcs11:token=ca;object=issuing-key?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=/run/ca.pin")
//
// For control over the token's lifetime, open a Client and hand it to kmssigner.New:
//
//	client, err := pkcs11.New(pkcs11.Config{ModulePath: module, TokenLabel: "ca", PIN: pin})
//	defer client.Close()
//	signer, err := kmssigner.New(ctx, client, "pkcs11:object=issuing-key", nil)
//
// Client implements kmssigner.Client with AWS KMS semantics: GetPublicKey returns the key's DER
// SubjectPublicKeyInfo with the KMS key spec (ECC_NIST_P256/P384/P521, RSA_2048/3072/4096) and signing
// algorithms; Sign takes ECDSA_SHA_* (DER signature, the curve's own hash only), RSASSA_PKCS1_V1_5_SHA_* and
// RSASSA_PSS_SHA_* (MGF1 with the same hash, salt = hash length) with MessageType DIGEST or RAW. Keys are named
// by label (object=) and/or CKA_ID (id=); a name matching two key pairs is an error, not a guess.
//
// ParseURI reads RFC 7512 strictly; it also refuses unknown attribute names that lack the "x-" vendor prefix,
// so a misspelt attribute cannot widen which key is used, and it keeps pin-value out of errors and out of the
// key reference (URI.KeyRef) that kmssigner shows.
//
// What it does not do: ML-DSA and Ed25519 (SoftHSM2 2.6 and crypto11 have neither; use kmssigner/localkms or
// AWS KMS); key generation, import or deletion (use crypto11 or the token's tools); module-name lookup (give
// module-path); interrupting a PKCS#11 call already running (the context is checked before each call). It needs
// cgo: built with CGO_ENABLED=0 every operation fails with ErrNoCgo, while ParseURI still works. PKCS#11 login
// state is shared by all sessions of a process on a token: once one Client is logged in, the token does not
// check the PIN of a second Client on the same token (CKR_USER_ALREADY_LOGGED_IN).
package pkcs11
