// Package mdl issues, presents and verifies ISO/IEC 18013-5 mobile driving licences (mdocs), with any
// crypto.Signer as the Document Signer key (in memory, kmssigner, an HSM).
//
// The calls most users need:
//
//	issuer, err := mdl.NewIssuer(dsSigner, dsCert, mdl.IssuerOptions{IACA: iaca})  // checks Annex B
//	doc, err := issuer.Issue(ctx, &mdl.IssueRequest{NameSpaces: ..., DeviceKey: devicePub, ValidUntil: t})
//	resp, err := mdl.Present(ctx, doc, mdl.PresentOptions{Request: req, SessionTranscript: st, DeviceSigner: dev})
//	res, err := mdl.VerifyDeviceResponse(resp.Marshal(), mdl.VerifyOptions{TrustStore: iacas, SessionTranscript: st})
//
// Issue builds IssuerSignedItems (a fresh 32-byte salt each, digest IDs a random permutation), the Mobile
// Security Object (SHA-256/384/512 digests over each item's exact tag-24 bytes, the device key as a COSE_Key,
// validityInfo as tdate) and signs it as an untagged COSE_Sign1 with ES256/ES384/ES512/EdDSA: alg alone in the
// protected header, the DS certificate in x5chain (unprotected label 33). ECDSA signatures are converted from the
// DER a KMS returns to COSE's fixed-size r‖s. Element values get the standard's CBOR types (FullDate is tag 1004,
// time.Time is tdate tag 0 in UTC without fractions, []byte is bstr) and org.iso.18013.5.1 elements are
// type-checked.
//
// Present discloses only the requested elements and authenticates DeviceAuthentication for a SessionTranscript
// with deviceSignature (COSE_Sign1, detached) or deviceMac (COSE_Mac0, HMAC 256/256, EMacKey = HKDF-SHA-256 of the
// ECDH secret, salt SHA-256(SessionTranscriptBytes)). Transcripts: ISO 18013-5 QR and NFC, OpenID4VP 1.0
// (redirect and DC API), ISO 18013-7 Annex C (dcapi) and the 18013-7:2024 / OpenID4VP draft 18 form.
//
// VerifyDeviceResponse (and VerifyIssuerSigned for a bare IssuerSigned) check the issuerAuth signature, the DS
// certificate against Annex B and its chain to an IACA of a truststore.Store for mDL document signing, the MSO's
// validity at an injectable time, the docType, every disclosed element's digest and device authentication. The
// Result lists each check and its outcome; a failure is a *VerifyError matching one sentinel per reason
// (ErrDigestMismatch, ErrDigestIDMismatch, ErrMSOExpired, ErrUntrustedDocumentSigner, ErrMissingDocumentSignerEKU,
// ErrDocTypeMismatch, ErrDeviceAuth, ...). CheckIACACertificate and CheckDocumentSignerCertificate check
// certificates against Annex B (strict, or Lenient to report); x509ext.MDLIACACertificateV1 and
// x509ext.MDLDocumentSignerCertificateV1 issue them.
//
// CBOR is one strict mode (see cbor.go): preferred serialization, records in the standard's order, data-keyed
// maps sorted; decoding rejects duplicate keys and indefinite lengths and bounds depth, array and map sizes and
// input size. Everything hashed or signed is kept as received, so parse → Marshal returns the same bytes.
//
// What it does not do: reader authentication (readerAuth) and DeviceRequest parsing, session encryption
// (SKReader/SKDevice, SessionEstablishment), device engagement and transports (BLE, NFC, QR), status lists,
// brainpool curves, Ed448, and X25519 device keys. It never fetches anything: revocation data goes in through
// VerifyOptions.Chain.
package mdl
