// Package localkms is pkikit's embedded key-management service: AWS KMS's signing operations on your own
// machine, in-process or as a server, so code written against it runs unchanged against AWS KMS.
//
// Most users need one call to open a key store and one to get a signer:
//
//	k, err := localkms.Open("/var/lib/pkikit-kms", &localkms.Options{Passphrase: pass})
//	out, err := k.CreateKey(ctx, &localkms.CreateKeyInput{KeySpec: "ML_DSA_65", KeyUsage: "SIGN_VERIFY"})
//	signer, err := kmssigner.New(ctx, k, out.KeyMetadata.KeyId, nil) // a crypto.Signer
//
// or, with the package imported, kmssigner.Open(ctx, "localkms:dir=/var/lib/pkikit-kms;key=alias/CA")
// (passphrase from PKIKIT_KMS_PASSPHRASE, or master-key=FILE).
//
// What it does:
//   - Operations with AWS KMS's request/response shapes and error names (*kmssigner.APIError with Code*
//     names): CreateKey (RSA_2048/3072/4096, ECC_NIST_P256/P384/P521, ECC_NIST_EDWARDS25519, ML_DSA_44/65/87;
//     SIGN_VERIFY), CreateAlias, ListKeys, ListAliases, DescribeKey, GetPublicKey, Sign (RAW, DIGEST,
//     EXTERNAL_MU), Verify and ScheduleKeyDeletion (KeyState PendingDeletion). *KMS implements kmssigner.Client.
//   - Server: an http.Handler for the AWS KMS JSON 1.1 protocol that checks AWS SigV4 signatures against the
//     configured credentials and listens on loopback unless told otherwise; the real aws-sdk-go-v2 KMS client
//     works against it with BaseEndpoint.
//   - A key-store directory: private keys sealed with AES-256-GCM under a master key (a 32-byte key file, or
//     argon2id over a passphrase), the key id and metadata bound as additional data, files 0600 written
//     atomically. A wrong passphrase is ErrWrongPassphrase, an edited file ErrTampered.
//   - Faults for tests: throttling (ThrottlingException) of the first N calls or a fraction, added latency that
//     honours the context, failing chosen calls.
//   - An audit log: every operation on a key (CreateKey, CreateAlias, GetPublicKey, Sign, Verify,
//     ScheduleKeyDeletion, the deletion, SetCertificateChain, ExportKey) appends a record — key, operation,
//     time, caller (the SigV4 access key id over HTTP, WithCaller in-process), outcome — never key material,
//     messages or passphrases. JSON lines in audit.log (0600, fsynced per record by default; AuditOptions) or in
//     memory; read with AuditLog or ReadAuditLog (a record torn by a crash is skipped). An operation whose
//     record cannot be written fails.
//   - Exportable keys (a pkikit extension, not AWS KMS): a key created with CreateKeyInput.Exportable (fixed at
//     creation, authenticated in its key file) can be exported with ExportKey as a passphrase-encrypted PKCS#8
//     (RFC 5958 / RFC 8018 PBES2: PBKDF2-HMAC-SHA256 with 600,000 iterations, or scrypt; AES-256-CBC) that
//     `openssl pkey -passin` decrypts, together with the certificate chain attached by SetCertificateChain, as
//     a PEM bundle. Other keys refuse with ErrNotExportable (PkikitKeyNotExportableException over HTTP, where
//     export is off unless ServerOptions.AllowExportKeyUnsafe). DecryptPKCS8 / ParseEncryptedPKCS8 read such
//     files (a wrong passphrase is ErrWrongPKCS8Passphrase).
//
// One process should write to a key-store directory at a time (a server, or an in-process KMS); other processes
// may open it to sign (kmssigner.Open with a localkms: URI reads the directory afresh each time).
//
// What it does not do: symmetric, HMAC and key-agreement keys, Encrypt/Decrypt, key policies, grants, tags
// (accepted and ignored), key rotation, multi-region keys, ED25519_PH_SHA_512, and Verify of EXTERNAL_MU
// (UnsupportedOperationException: no ML-DSA library available to it verifies from μ), key import, and
// tamper-evidence of the audit log (its lines are not MACed or chained). Private keys leave it only through
// ExportKey, only for keys created exportable, only encrypted, and only after the export is in the audit log.
package localkms
