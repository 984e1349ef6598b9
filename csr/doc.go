// Package csr makes, parses and checks PKCS#10 certificate requests (RFC 2986) for every key pkikit supports —
// ML-DSA-44/65/87, ECDSA, RSA (PKCS#1 v1.5 and PSS) and Ed25519 — with keys that live anywhere.
//
// The call most users need:
//
//	der, err := csr.Create(ctx, signer, &csr.Template{
//		Subject:  pkix.Name{CommonName: "www.example.com"},
//		DNSNames: []string{"www.example.com"},
//	})
//
// signer is any crypto.Signer: an in-memory key, or a remote one (a KMS or HSM key). Create builds the final
// request info first and makes exactly one signing call per request; the context reaches signers that implement
// SignContext or SignMessageContext, and a signer that is not an in-memory key has its signature verified before
// Create returns. The signature algorithm comes from the key unless the template names one; ML-DSA
// AlgorithmIdentifiers carry no parameters (RFC 9881).
//
// For signatures made elsewhere (an offline HSM, another process), NewTBS returns the bytes to sign and Assemble
// turns them and the signature into a request, after verifying the signature.
//
// Parse (and ParsePEM) read a request strictly — one DER structure and nothing after it, known algorithms, ML-DSA
// parameters absent, input size bounded by ParseOptions — and return a CertificateRequest that embeds crypto/x509's
// *x509.CertificateRequest (every classical field: subject, SANs, extensions) and adds what Go 1.26 lacks: the
// ML-DSA public key, the key and signature algorithms, the challenge password and the raw attributes.
// CertificateRequest.CheckSignature verifies the proof of possession for every algorithm. Hand the embedded
// *x509.CertificateRequest to x509ext's Issue.
//
// What it does not do: it does not issue certificates or decide what a request may get (that is x509ext's
// Issue, its profiles and its issuance policy); Parse does not check the signature (call CheckSignature); it does
// not validate that requested extensions make sense for the key (a CA checks that at issuance); it does not write
// keys or files; it does not read CRMF (RFC 4211) or CMC (RFC 5272) requests, or HashML-DSA keys.
package csr
