package localkms

import (
	"bytes"
	"context"
	"encoding/pem"
	"strconv"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/pkikit/pkikit/internal/alg"
)

// Exportable keys and their certificates are pkikit extensions, not part of AWS KMS. Over HTTP they are the
// operations TrentService.PkikitSetCertificateChain and (only with ServerOptions.AllowExportKeyUnsafe)
// TrentService.PkikitExportKey.

// Bounds of a certificate chain attached to a key.
const (
	MaxChainCertificates = 10
	MaxCertificateSize   = 64 << 10
)

// MinExportPassphrase is the shortest passphrase ExportKey accepts, in bytes.
const MinExportPassphrase = 8

// SetCertificateChainInput attaches certificates to a key: DER, leaf first; the leaf's public key must be the
// key's. An empty chain removes them. (pkikit extension.)
type SetCertificateChainInput struct {
	KeyId            string
	CertificateChain [][]byte
}

// SetCertificateChainOutput is the SetCertificateChain response.
type SetCertificateChainOutput struct {
	KeyId string // key ARN
}

// ExportKeyInput asks for an exportable key, encrypted under Passphrase (at least MinExportPassphrase bytes).
// KDF is KDFPBKDF2 (default: PBKDF2-HMAC-SHA256, Iterations default and minimum DefaultPBKDF2Iterations) or
// KDFScrypt (ScryptLogN default DefaultScryptLogN, r=8, p=1). (pkikit extension.)
type ExportKeyInput struct {
	KeyId      string
	Passphrase []byte
	KDF        string `json:",omitempty"`
	Iterations int32  `json:",omitempty"`
	ScryptLogN int32  `json:",omitempty"`
}

// ExportKeyOutput is an exported key: the DER EncryptedPrivateKeyInfo (RFC 5958; PBES2 per RFC 8018 with
// AES-256-CBC) of its PKCS#8 private key (ML-DSA in the seed form of RFC 9881), the certificate chain attached
// with SetCertificateChain (DER, leaf first), and both as one PEM bundle: an "ENCRYPTED PRIVATE KEY" block and
// then a "CERTIFICATE" block per certificate, which `openssl pkey -in bundle.pem -passin pass:...` reads.
type ExportKeyOutput struct {
	KeyId               string // key ARN
	KeySpec             string
	EncryptedPrivateKey []byte
	CertificateChain    [][]byte `json:",omitempty"`
	PEM                 []byte
}

// SetCertificateChain attaches a certificate chain to a key (persisted with the key, authenticated like its
// metadata) for ExportKey to return. Each certificate must be one DER SEQUENCE of at most MaxCertificateSize
// bytes, at most MaxChainCertificates of them, and the leaf's SubjectPublicKeyInfo must be the key's
// (ValidationException otherwise).
func (k *KMS) SetCertificateChain(ctx context.Context, in *SetCertificateChainInput) (*SetCertificateChainOutput, error) {
	if err := k.fault(ctx, "SetCertificateChain"); err != nil {
		return nil, err
	}
	if in == nil {
		in = &SetCertificateChainInput{}
	}
	out, err := k.setCertificateChain(in)
	detail := strconv.Itoa(len(in.CertificateChain)) + " certificates"
	if rerr := k.record(ctx, "SetCertificateChain", k.keyIDOf(in.KeyId), detail, err); rerr != nil {
		return nil, rerr
	}
	return out, err
}

func (k *KMS) setCertificateChain(in *SetCertificateChainInput) (*SetCertificateChainOutput, error) {
	if len(in.CertificateChain) > MaxChainCertificates {
		return nil, apiErr(CodeValidation, "at most "+strconv.Itoa(MaxChainCertificates)+" certificates")
	}
	chain := make([][]byte, len(in.CertificateChain))
	for i, c := range in.CertificateChain {
		if len(c) == 0 || len(c) > MaxCertificateSize {
			return nil, apiErr(CodeValidation, "certificate "+strconv.Itoa(i)+" is empty or larger than 64 KiB")
		}
		if _, ok := certificateSPKI(c); !ok {
			return nil, apiErr(CodeValidation, "certificate "+strconv.Itoa(i)+" is not a DER X.509 certificate")
		}
		chain[i] = bytes.Clone(c)
	}
	k.purgeExpired()
	k.mu.Lock()
	defer k.mu.Unlock()
	kk, aerr := k.usableLocked(in.KeyId)
	if aerr != nil {
		return nil, aerr
	}
	if len(chain) > 0 {
		if spki, _ := certificateSPKI(chain[0]); !bytes.Equal(spki, kk.meta.PublicKey) {
			return nil, apiErr(CodeValidation, "the leaf certificate's public key is not the key's")
		}
	} else {
		chain = nil
	}
	meta := kk.meta
	meta.CertificateChain = chain
	if k.st != nil {
		pkcs8, err := alg.MarshalPKCS8PrivateKey(kk.signer)
		if err != nil {
			return nil, apiErr(CodeInternal, "key encoding failed")
		}
		err = k.st.saveKey(meta, pkcs8)
		clear(pkcs8)
		if err != nil {
			return nil, apiErr(CodeInternal, "writing the key failed")
		}
	}
	kk.meta = meta
	return &SetCertificateChainOutput{KeyId: k.keyARN(meta.KeyID)}, nil
}

// certificateSPKI returns the full DER SubjectPublicKeyInfo of a DER certificate (RFC 5280 §4.1), checking only
// the structure up to it and that the certificate is one SEQUENCE with nothing after it.
func certificateSPKI(der []byte) ([]byte, bool) {
	s := cryptobyte.String(der)
	var cert, tbs cryptobyte.String
	if !s.ReadASN1(&cert, cbasn1.SEQUENCE) || !s.Empty() || !cert.ReadASN1(&tbs, cbasn1.SEQUENCE) {
		return nil, false
	}
	var spki cryptobyte.String
	if !tbs.SkipOptionalASN1(cbasn1.Tag(0).Constructed().ContextSpecific()) || // version
		!tbs.SkipASN1(cbasn1.INTEGER) || // serialNumber
		!tbs.SkipASN1(cbasn1.SEQUENCE) || // signature
		!tbs.SkipASN1(cbasn1.SEQUENCE) || // issuer
		!tbs.SkipASN1(cbasn1.SEQUENCE) || // validity
		!tbs.SkipASN1(cbasn1.SEQUENCE) || // subject
		!tbs.ReadASN1Element(&spki, cbasn1.SEQUENCE) {
		return nil, false
	}
	return spki, true
}

// ExportKey returns an exportable key (one created with CreateKeyInput.Exportable) encrypted under a passphrase,
// with its certificate chain; see ExportKeyOutput. A key created without Exportable is refused with an error
// matching ErrNotExportable that carries the *kmssigner.APIError CodeKeyNotExportable; a key pending deletion
// with KMSInvalidStateException. Every export, and every refusal, is in the audit log (never the passphrase or
// the key); the key is returned only once its record is written.
func (k *KMS) ExportKey(ctx context.Context, in *ExportKeyInput) (*ExportKeyOutput, error) {
	if err := k.fault(ctx, "ExportKey"); err != nil {
		return nil, err
	}
	if in == nil {
		in = &ExportKeyInput{}
	}
	opts := &EncryptOptions{KDF: in.KDF, Iterations: int(in.Iterations), ScryptLogN: int(in.ScryptLogN), WeakKDFUnsafe: k.weakExport}
	out, err := k.exportKey(in, opts)
	detail := exportDetail(opts)
	if rerr := k.record(ctx, "ExportKey", k.keyIDOf(in.KeyId), detail, err); rerr != nil {
		return nil, rerr
	}
	return out, err
}

func exportDetail(o *EncryptOptions) string {
	switch o.KDF {
	case "", KDFPBKDF2:
		n := o.Iterations
		if n == 0 {
			n = DefaultPBKDF2Iterations
		}
		return "PBES2 PBKDF2-HMAC-SHA256 iterations=" + strconv.Itoa(n) + " AES-256-CBC"
	case KDFScrypt:
		n := o.ScryptLogN
		if n == 0 {
			n = DefaultScryptLogN
		}
		return "PBES2 scrypt logN=" + strconv.Itoa(n) + " r=8 p=1 AES-256-CBC"
	}
	return "unknown KDF"
}

func (k *KMS) exportKey(in *ExportKeyInput, opts *EncryptOptions) (*ExportKeyOutput, error) {
	if len(in.Passphrase) < MinExportPassphrase || len(in.Passphrase) > 1024 {
		return nil, apiErr(CodeValidation, "Passphrase must be 8–1024 bytes")
	}
	if in.Iterations < 0 || in.ScryptLogN < 0 {
		return nil, apiErr(CodeValidation, "Iterations and ScryptLogN must not be negative")
	}
	k.purgeExpired()
	k.mu.RLock()
	kk, aerr := k.usableLocked(in.KeyId)
	var meta keyMeta
	if aerr == nil {
		meta = kk.meta
	}
	k.mu.RUnlock()
	if aerr != nil {
		return nil, aerr
	}
	if !meta.Exportable {
		return nil, &Error{Op: "export key", Path: meta.KeyID, Err: ErrNotExportable,
			Cause: apiErr(CodeKeyNotExportable, k.keyARN(meta.KeyID)+" was not created exportable")}
	}
	pkcs8, err := alg.MarshalPKCS8PrivateKey(kk.signer)
	if err != nil {
		return nil, apiErr(CodeInternal, "key encoding failed")
	}
	enc, err := EncryptPKCS8(pkcs8, in.Passphrase, opts)
	clear(pkcs8)
	if err != nil {
		return nil, apiErr(CodeValidation, "KDF parameters: KDF must be PBKDF2 (Iterations 600000–10000000) or SCRYPT (ScryptLogN 14–20)")
	}
	out := &ExportKeyOutput{KeyId: k.keyARN(meta.KeyID), KeySpec: meta.KeySpec, EncryptedPrivateKey: enc}
	out.PEM = pem.EncodeToMemory(&pem.Block{Type: PEMTypeEncryptedPrivateKey, Bytes: enc})
	for _, c := range meta.CertificateChain {
		out.CertificateChain = append(out.CertificateChain, bytes.Clone(c))
		out.PEM = append(out.PEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c})...)
	}
	return out, nil
}
