// Package x509ext creates, parses and checks X.509 certificates and CRLs of every algorithm pkikit supports,
// ML-DSA-44/65/87 included, with keys that live anywhere (any crypto.Signer, remote ones through a context).
package x509ext
