package localkms

import (
	"bytes"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/asn1"
	"encoding/pem"
	"hash"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
	"golang.org/x/crypto/scrypt"

	"github.com/pkikit/pkikit/internal/alg"
)

// Passphrase-encrypted PKCS#8 (RFC 5958 EncryptedPrivateKeyInfo) with PBES2 (RFC 8018 §6.2): the key-derivation
// function is PBKDF2 (RFC 8018 §5.2) with HMAC-SHA-256/384/512 or scrypt (RFC 7914 §7), the encryption scheme
// AES-256-CBC with PKCS#7 padding. This is what `openssl pkcs8 -topk8 -v2 aes-256-cbc` writes and what
// `openssl pkey -in k.pem -passin pass:...` reads (OpenSSL 1.1.1 and later).

// PEMTypeEncryptedPrivateKey is the PEM block type of an EncryptedPrivateKeyInfo (RFC 7468 §11).
const PEMTypeEncryptedPrivateKey = "ENCRYPTED PRIVATE KEY"

// KDF names of EncryptedPKCS8.KDF and ExportKeyInput.KDF.
const (
	KDFPBKDF2 = "PBKDF2"
	KDFScrypt = "SCRYPT"
)

// Work factors.
const (
	// DefaultPBKDF2Iterations is the iteration count exports use by default, and the least they accept: OWASP's
	// 2023 recommendation for PBKDF2-HMAC-SHA256.
	DefaultPBKDF2Iterations = 600_000
	// MaxPBKDF2Iterations bounds the iteration count a parsed EncryptedPKCS8 may ask for.
	MaxPBKDF2Iterations = 10_000_000
	// DefaultScryptLogN is log2 of scrypt's N for exports with KDFScrypt (with r=8, p=1: 16 MiB, OpenSSL's
	// `-scrypt` default). OpenSSL decrypts scrypt-protected keys only within its 32 MiB memory limit, so
	// larger N (or r) need `openssl pkey` built or configured with a larger limit.
	DefaultScryptLogN = 14
	// MaxScryptMemory bounds 128·N·r, the memory a parsed scrypt EncryptedPKCS8 may ask for (256 MiB).
	MaxScryptMemory = 256 << 20
)

var (
	oidPBES2         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidScrypt        = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11591, 4, 11}
	oidHMACWithSHA1  = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}
	oidHMACSHA256    = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidHMACSHA384    = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 10}
	oidHMACSHA512    = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 11}
	oidAES256CBC     = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
	prfOIDs          = map[crypto.Hash]asn1.ObjectIdentifier{crypto.SHA256: oidHMACSHA256, crypto.SHA384: oidHMACSHA384, crypto.SHA512: oidHMACSHA512}
	prfHashes        = map[crypto.Hash]func() hash.Hash{crypto.SHA256: sha256.New, crypto.SHA384: sha512.New384, crypto.SHA512: sha512.New}
	maxEncryptedData = MaxFileSize
)

// EncryptedPKCS8 is a parsed EncryptedPrivateKeyInfo protected with PBES2 and AES-256-CBC. Parsing checks the
// structure and bounds the work factors; Decrypt runs the KDF.
type EncryptedPKCS8 struct {
	KDF  string // KDFPBKDF2 or KDFScrypt
	Salt []byte // 1–64 bytes

	// PBKDF2: the iteration count (1–MaxPBKDF2Iterations), the HMAC hash (SHA-256, SHA-384 or SHA-512; the
	// RFC 8018 default HMAC-SHA-1 is refused) and whether the optional keyLength (32) was present.
	Iterations       int
	PRF              crypto.Hash
	KeyLengthPresent bool

	// scrypt: N (a power of two ≥ 2), r and p, with 128·N·r ≤ MaxScryptMemory.
	ScryptN, ScryptR, ScryptP int

	IV            []byte // AES-256-CBC initialization vector, 16 bytes
	EncryptedData []byte // a whole number of AES blocks
}

// EncryptOptions configure EncryptPKCS8. The zero value is PBKDF2-HMAC-SHA256 with DefaultPBKDF2Iterations.
type EncryptOptions struct {
	// KDF is KDFPBKDF2 (default) or KDFScrypt.
	KDF string
	// Iterations of PBKDF2; 0 means DefaultPBKDF2Iterations, fewer are refused (unless WeakKDFUnsafe).
	Iterations int
	// ScryptLogN is log2(N) for scrypt (r=8, p=1); 0 means DefaultScryptLogN; 14–20 (fewer only with WeakKDFUnsafe).
	ScryptLogN int
	// WeakKDFUnsafe accepts work factors below the defaults (tests, test vectors). Never for real keys.
	WeakKDFUnsafe bool
}

func pkcs8Err(op string, sentinel error, detail string, cause error) error {
	return &Error{Op: op, Detail: detail, Err: sentinel, Cause: cause}
}

// EncryptPKCS8 encrypts a DER PKCS#8 PrivateKeyInfo (RFC 5208/5958) under passphrase and returns the DER
// EncryptedPrivateKeyInfo: PBES2 with PBKDF2-HMAC-SHA256 (or scrypt) and AES-256-CBC, a random 16-byte salt and
// IV. Wrap it with pem.EncodeToMemory(&pem.Block{Type: PEMTypeEncryptedPrivateKey, Bytes: der}).
func EncryptPKCS8(pkcs8, passphrase []byte, opts *EncryptOptions) ([]byte, error) {
	const op = "encrypt PKCS#8"
	if opts == nil {
		opts = &EncryptOptions{}
	}
	if len(passphrase) == 0 {
		return nil, pkcs8Err(op, ErrInvalidOptions, "empty passphrase", nil)
	}
	e := &EncryptedPKCS8{Salt: make([]byte, 16), IV: make([]byte, aes.BlockSize)}
	switch opts.KDF {
	case "", KDFPBKDF2:
		e.KDF, e.PRF, e.Iterations = KDFPBKDF2, crypto.SHA256, opts.Iterations
		if e.Iterations == 0 {
			e.Iterations = DefaultPBKDF2Iterations
		}
		if e.Iterations > MaxPBKDF2Iterations || e.Iterations < 1 || (e.Iterations < DefaultPBKDF2Iterations && !opts.WeakKDFUnsafe) {
			return nil, pkcs8Err(op, ErrInvalidOptions, "PBKDF2 iterations must be between 600,000 and 10,000,000", nil)
		}
	case KDFScrypt:
		logN := opts.ScryptLogN
		if logN == 0 {
			logN = DefaultScryptLogN
		}
		if logN > 20 || logN < 1 || (logN < DefaultScryptLogN && !opts.WeakKDFUnsafe) {
			return nil, pkcs8Err(op, ErrInvalidOptions, "scrypt log2(N) must be between 14 and 20", nil)
		}
		e.KDF, e.ScryptN, e.ScryptR, e.ScryptP = KDFScrypt, 1<<logN, 8, 1
	default:
		return nil, pkcs8Err(op, ErrInvalidOptions, "unknown KDF", nil)
	}
	if _, err := rand.Read(e.Salt); err != nil {
		return nil, pkcs8Err(op, ErrStore, "", err)
	}
	if _, err := rand.Read(e.IV); err != nil {
		return nil, pkcs8Err(op, ErrStore, "", err)
	}
	key, err := e.deriveKey(passphrase)
	if err != nil {
		return nil, pkcs8Err(op, ErrInvalidOptions, "", err)
	}
	defer clear(key)
	block, _ := aes.NewCipher(key)
	pad := aes.BlockSize - len(pkcs8)%aes.BlockSize
	buf := make([]byte, len(pkcs8)+pad)
	copy(buf, pkcs8)
	for i := len(pkcs8); i < len(buf); i++ {
		buf[i] = byte(pad)
	}
	cipher.NewCBCEncrypter(block, e.IV).CryptBlocks(buf, buf)
	e.EncryptedData = buf
	return e.Marshal()
}

func (e *EncryptedPKCS8) deriveKey(passphrase []byte) ([]byte, error) {
	switch e.KDF {
	case KDFPBKDF2:
		h, ok := prfHashes[e.PRF]
		if !ok {
			return nil, pkcs8Err("derive key", ErrUnsupportedPKCS8, "PRF", nil)
		}
		return pbkdf2.Key(h, string(passphrase), e.Salt, e.Iterations, 32)
	case KDFScrypt:
		return scrypt.Key(passphrase, e.Salt, e.ScryptN, e.ScryptR, e.ScryptP, 32)
	}
	return nil, pkcs8Err("derive key", ErrUnsupportedPKCS8, "KDF", nil)
}

// Marshal encodes e as a DER EncryptedPrivateKeyInfo. Parsing a DER encoding and marshalling it gives the same
// bytes.
func (e *EncryptedPKCS8) Marshal() ([]byte, error) {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // EncryptedPrivateKeyInfo
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // encryptionAlgorithm
			b.AddASN1ObjectIdentifier(oidPBES2)
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // PBES2-params
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // keyDerivationFunc
					switch e.KDF {
					case KDFPBKDF2:
						b.AddASN1ObjectIdentifier(oidPBKDF2)
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
							b.AddASN1OctetString(e.Salt)
							b.AddASN1Int64(int64(e.Iterations))
							if e.KeyLengthPresent {
								b.AddASN1Int64(32)
							}
							b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
								oid, ok := prfOIDs[e.PRF]
								if !ok {
									b.SetError(ErrUnsupportedPKCS8)
									return
								}
								b.AddASN1ObjectIdentifier(oid)
								b.AddASN1NULL()
							})
						})
					case KDFScrypt:
						b.AddASN1ObjectIdentifier(oidScrypt)
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
							b.AddASN1OctetString(e.Salt)
							b.AddASN1Int64(int64(e.ScryptN))
							b.AddASN1Int64(int64(e.ScryptR))
							b.AddASN1Int64(int64(e.ScryptP))
							if e.KeyLengthPresent {
								b.AddASN1Int64(32)
							}
						})
					default:
						b.SetError(ErrUnsupportedPKCS8)
					}
				})
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // encryptionScheme
					b.AddASN1ObjectIdentifier(oidAES256CBC)
					b.AddASN1OctetString(e.IV)
				})
			})
		})
		b.AddASN1OctetString(e.EncryptedData)
	})
	der, err := b.Bytes()
	if err != nil {
		return nil, pkcs8Err("marshal encrypted PKCS#8", ErrUnsupportedPKCS8, "", err)
	}
	return der, nil
}

// ParseEncryptedPKCS8 parses a DER EncryptedPrivateKeyInfo. It accepts PBES2 with PBKDF2 (HMAC-SHA-256/384/512)
// or scrypt and AES-256-CBC, within the work bounds (MaxPBKDF2Iterations, MaxScryptMemory); anything else is
// ErrUnsupportedPKCS8, a structure that does not parse ErrMalformedPKCS8. It does not run the KDF.
func ParseEncryptedPKCS8(der []byte) (*EncryptedPKCS8, error) {
	const op = "parse encrypted PKCS#8"
	bad := func(d string) (*EncryptedPKCS8, error) { return nil, pkcs8Err(op, ErrMalformedPKCS8, d, nil) }
	unsupported := func(d string) (*EncryptedPKCS8, error) { return nil, pkcs8Err(op, ErrUnsupportedPKCS8, d, nil) }
	if len(der) > maxEncryptedData+1024 {
		return bad("too large")
	}
	in := cryptobyte.String(der)
	var epki, algID, params, kdf, kdfParams, enc, data cryptobyte.String
	var oid asn1.ObjectIdentifier
	if !in.ReadASN1(&epki, cbasn1.SEQUENCE) || !in.Empty() ||
		!epki.ReadASN1(&algID, cbasn1.SEQUENCE) || !epki.ReadASN1(&data, cbasn1.OCTET_STRING) || !epki.Empty() {
		return bad("EncryptedPrivateKeyInfo")
	}
	if !algID.ReadASN1ObjectIdentifier(&oid) {
		return bad("encryptionAlgorithm")
	}
	if !oid.Equal(oidPBES2) {
		return unsupported("encryption algorithm " + oid.String() + " (only PBES2)")
	}
	if !algID.ReadASN1(&params, cbasn1.SEQUENCE) || !algID.Empty() ||
		!params.ReadASN1(&kdf, cbasn1.SEQUENCE) || !params.ReadASN1(&enc, cbasn1.SEQUENCE) || !params.Empty() {
		return bad("PBES2-params")
	}
	e := &EncryptedPKCS8{}
	if !kdf.ReadASN1ObjectIdentifier(&oid) || !kdf.ReadASN1(&kdfParams, cbasn1.SEQUENCE) || !kdf.Empty() {
		return bad("keyDerivationFunc")
	}
	readSalt := func() bool {
		var salt cryptobyte.String
		if !kdfParams.ReadASN1(&salt, cbasn1.OCTET_STRING) || len(salt) < 1 || len(salt) > 64 {
			return false
		}
		e.Salt = bytes.Clone(salt)
		return true
	}
	readKeyLength := func() bool {
		if !kdfParams.PeekASN1Tag(cbasn1.INTEGER) {
			return true
		}
		var kl int64
		if !kdfParams.ReadASN1Int64WithTag(&kl, cbasn1.INTEGER) || kl != 32 {
			return false
		}
		e.KeyLengthPresent = true
		return true
	}
	switch {
	case oid.Equal(oidPBKDF2):
		e.KDF = KDFPBKDF2
		var iter int64
		if !readSalt() {
			return bad("PBKDF2 salt (1–64 bytes; the otherSource choice is not supported)")
		}
		if !kdfParams.ReadASN1Int64WithTag(&iter, cbasn1.INTEGER) || iter < 1 {
			return bad("PBKDF2 iterationCount")
		}
		if iter > MaxPBKDF2Iterations {
			return unsupported("PBKDF2 iterationCount above MaxPBKDF2Iterations")
		}
		e.Iterations = int(iter)
		if !readKeyLength() {
			return unsupported("PBKDF2 keyLength must be 32 for AES-256")
		}
		if kdfParams.Empty() {
			return unsupported("PBKDF2 with the default PRF hmacWithSHA1")
		}
		var prf cryptobyte.String
		var prfOID asn1.ObjectIdentifier
		if !kdfParams.ReadASN1(&prf, cbasn1.SEQUENCE) || !kdfParams.Empty() || !prf.ReadASN1ObjectIdentifier(&prfOID) {
			return bad("PBKDF2 prf")
		}
		for h, o := range prfOIDs {
			if prfOID.Equal(o) {
				e.PRF = h
			}
		}
		if e.PRF == 0 {
			if prfOID.Equal(oidHMACWithSHA1) {
				return unsupported("PBKDF2 with hmacWithSHA1")
			}
			return unsupported("PBKDF2 prf " + prfOID.String())
		}
		var null cryptobyte.String
		if !prf.ReadASN1(&null, cbasn1.NULL) || len(null) != 0 || !prf.Empty() {
			return bad("PBKDF2 prf parameters must be NULL")
		}
	case oid.Equal(oidScrypt):
		e.KDF = KDFScrypt
		var n, r, p int64
		if !readSalt() || !kdfParams.ReadASN1Int64WithTag(&n, cbasn1.INTEGER) || !kdfParams.ReadASN1Int64WithTag(&r, cbasn1.INTEGER) ||
			!kdfParams.ReadASN1Int64WithTag(&p, cbasn1.INTEGER) {
			return bad("scrypt-params")
		}
		if !readKeyLength() || !kdfParams.Empty() {
			return bad("scrypt keyLength")
		}
		if n < 2 || n&(n-1) != 0 || r < 1 || p < 1 || n > MaxScryptMemory || r > 64 || p > 16 || 128*n*r > MaxScryptMemory {
			return unsupported("scrypt parameters out of bounds")
		}
		e.ScryptN, e.ScryptR, e.ScryptP = int(n), int(r), int(p)
	default:
		return unsupported("key derivation function " + oid.String())
	}
	var iv cryptobyte.String
	if !enc.ReadASN1ObjectIdentifier(&oid) {
		return bad("encryptionScheme")
	}
	if !oid.Equal(oidAES256CBC) {
		return unsupported("encryption scheme " + oid.String() + " (only AES-256-CBC)")
	}
	if !enc.ReadASN1(&iv, cbasn1.OCTET_STRING) || len(iv) != aes.BlockSize || !enc.Empty() {
		return bad("AES-256-CBC IV")
	}
	if len(data) == 0 || len(data)%aes.BlockSize != 0 {
		return bad("encryptedData is not a whole number of AES blocks")
	}
	e.IV, e.EncryptedData = bytes.Clone(iv), bytes.Clone(data)
	return e, nil
}

// Decrypt runs the KDF over passphrase, decrypts and returns the DER PKCS#8 PrivateKeyInfo. A wrong passphrase
// (or corrupted data: the two cannot be told apart) is ErrWrongPKCS8Passphrase.
func (e *EncryptedPKCS8) Decrypt(passphrase []byte) ([]byte, error) {
	const op = "decrypt PKCS#8"
	key, err := e.deriveKey(passphrase)
	if err != nil {
		return nil, pkcs8Err(op, ErrUnsupportedPKCS8, "", err)
	}
	defer clear(key)
	if len(e.IV) != aes.BlockSize || len(e.EncryptedData) == 0 || len(e.EncryptedData)%aes.BlockSize != 0 {
		return nil, pkcs8Err(op, ErrMalformedPKCS8, "IV or encryptedData length", nil)
	}
	block, _ := aes.NewCipher(key)
	buf := make([]byte, len(e.EncryptedData))
	cipher.NewCBCDecrypter(block, e.IV).CryptBlocks(buf, e.EncryptedData)
	pad := int(buf[len(buf)-1])
	good := subtle.ConstantTimeLessOrEq(1, pad) & subtle.ConstantTimeLessOrEq(pad, aes.BlockSize)
	if good == 1 {
		for _, c := range buf[len(buf)-pad:] {
			good &= subtle.ConstantTimeByteEq(c, byte(pad))
		}
	}
	if good != 1 {
		clear(buf)
		return nil, pkcs8Err(op, ErrWrongPKCS8Passphrase, "", nil)
	}
	plain := buf[:len(buf)-pad]
	// A wrong key that happens to leave valid padding (about 1 in 256) leaves random bytes: require a DER SEQUENCE.
	s := cryptobyte.String(plain)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() {
		clear(buf)
		return nil, pkcs8Err(op, ErrWrongPKCS8Passphrase, "", nil)
	}
	return plain, nil
}

// DecryptPKCS8 decrypts a passphrase-encrypted private key — PEM ("ENCRYPTED PRIVATE KEY"; other PEM blocks such
// as certificates are skipped) or DER — and parses it with pkikit's PKCS#8 parser (RSA, ECDSA, Ed25519, ML-DSA
// in any of its three forms). Errors: ErrWrongPKCS8Passphrase, ErrMalformedPKCS8, ErrUnsupportedPKCS8.
func DecryptPKCS8(data, passphrase []byte) (crypto.Signer, error) {
	const op = "decrypt PKCS#8"
	der := data
	if bytes.Contains(data, []byte("-----BEGIN")) {
		der = nil
		rest := data
		for {
			var b *pem.Block
			b, rest = pem.Decode(rest)
			if b == nil {
				break
			}
			if b.Type == PEMTypeEncryptedPrivateKey {
				der = b.Bytes
				break
			}
		}
		if der == nil {
			return nil, pkcs8Err(op, ErrMalformedPKCS8, "no "+PEMTypeEncryptedPrivateKey+" PEM block", nil)
		}
	}
	e, err := ParseEncryptedPKCS8(der)
	if err != nil {
		return nil, err
	}
	plain, err := e.Decrypt(passphrase)
	if err != nil {
		return nil, err
	}
	defer clear(plain)
	key, err := alg.ParsePKCS8PrivateKey(plain)
	if err != nil {
		return nil, pkcs8Err(op, ErrMalformedPKCS8, "inner PrivateKeyInfo", err)
	}
	return key, nil
}
