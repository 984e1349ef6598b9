package localkms

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/argon2"
)

// On-disk layout of a key-store directory (all files 0600, written atomically: temp file, fsync, rename, fsync
// of the directory):
//
//	localkms.json    store header: how the master key is obtained (argon2id parameters and salt, or "keyfile"),
//	                 region, account, and a GCM check value that detects a wrong passphrase or master key
//	keys/<id>.key    one key: its metadata in clear and its PKCS#8 private key sealed with AES-256-GCM; the
//	                 additional data binds the key id and every metadata field, so edits or swapped files fail
//	aliases.json     the aliases with an HMAC-SHA256 over them
//
// Subkeys are derived from the 32-byte master key with HKDF-SHA256.

const (
	headerFile   = "localkms.json"
	aliasesFile  = "aliases.json"
	keysDir      = "keys"
	keyFileExt   = ".key"
	storeVersion = 1
	checkPlain   = "pkikit-localkms-check"
	// MaxFileSize bounds every key-store file read.
	MaxFileSize = 1 << 20
)

// KDFParams are the argon2id parameters (RFC 9106) a passphrase-protected store is created with. They are
// recorded in the store header; opening honours the recorded ones within bounds (Time ≤ 16, MemoryKiB ≤ 1 GiB,
// Threads ≤ 64).
type KDFParams struct {
	Time      uint32 `json:"time"`
	MemoryKiB uint32 `json:"memoryKiB"`
	Threads   uint8  `json:"threads"`
}

// DefaultKDF is RFC 9106's second recommended option: t=3, 64 MiB, 4 lanes.
var DefaultKDF = KDFParams{Time: 3, MemoryKiB: 64 * 1024, Threads: 4}

func (p KDFParams) check() error {
	if p.Time < 1 || p.Time > 16 || p.Threads < 1 || p.Threads > 64 || p.MemoryKiB < 8*uint32(p.Threads) || p.MemoryKiB > 1<<20 {
		return errors.New("argon2id parameters out of bounds")
	}
	return nil
}

type storeHeader struct {
	Version   int        `json:"version"`
	Mode      string     `json:"mode"` // "passphrase" or "keyfile"
	KDF       *KDFParams `json:"kdf,omitempty"`
	Salt      []byte     `json:"salt,omitempty"`
	Region    string     `json:"region"`
	AccountID string     `json:"accountId"`
	Check     []byte     `json:"check,omitempty"` // nonce ‖ AES-GCM(checkPlain), AAD = header without Check
}

func (h storeHeader) aad() []byte {
	h.Check = nil
	b, _ := json.Marshal(h)
	return append([]byte("pkikit-localkms-header-v1\x00"), b...)
}

type keyMeta struct {
	KeyID               string `json:"keyId"`
	KeySpec             string `json:"keySpec"`
	KeyUsage            string `json:"keyUsage"`
	Description         string `json:"description"`
	CreationDate        int64  `json:"creationDate"` // Unix milliseconds
	KeyState            string `json:"keyState"`
	DeletionDate        int64  `json:"deletionDate,omitempty"`
	PendingWindowInDays int32  `json:"pendingWindowInDays,omitempty"`
	PublicKey           []byte `json:"publicKey"` // DER SPKI
	// Exportable and the certificate chain (DER, leaf first) are pkikit extensions; absent (omitted) in files
	// written before them, so those files' additional data is unchanged.
	Exportable       bool     `json:"exportable,omitempty"`
	CertificateChain [][]byte `json:"certificateChain,omitempty"`
}

type keyFile struct {
	Version    int     `json:"version"`
	Meta       keyMeta `json:"meta"`
	Nonce      []byte  `json:"nonce"`
	Ciphertext []byte  `json:"ciphertext"`
}

func (m keyMeta) aad() []byte {
	b, _ := json.Marshal(m)
	return append([]byte("pkikit-localkms-key-v1\x00"), b...)
}

type aliasRecord struct {
	Name    string `json:"name"`
	Target  string `json:"target"`
	Created int64  `json:"created"` // Unix milliseconds
}

type aliasFile struct {
	Version int           `json:"version"`
	Aliases []aliasRecord `json:"aliases"`
	MAC     []byte        `json:"mac"`
}

func aliasMAC(macKey []byte, recs []aliasRecord) []byte {
	b, _ := json.Marshal(recs)
	m := hmac.New(sha256.New, macKey)
	m.Write([]byte("pkikit-localkms-aliases-v1\x00"))
	m.Write(b)
	return m.Sum(nil)
}

// store is an opened key-store directory.
type store struct {
	dir    string
	header storeHeader
	aead   cipher.AEAD // key-file encryption
	macKey []byte      // alias file MAC
}

func subkeys(master []byte) (cipher.AEAD, []byte, error) {
	enc, err := hkdf.Key(sha256.New, master, nil, "pkikit localkms v1 key encryption", 32)
	if err != nil {
		return nil, nil, err
	}
	mac, err := hkdf.Key(sha256.New, master, nil, "pkikit localkms v1 alias mac", 32)
	if err != nil {
		return nil, nil, err
	}
	block, err := aes.NewCipher(enc)
	if err != nil {
		return nil, nil, err
	}
	aead, err := cipher.NewGCM(block)
	return aead, mac, err
}

func seal(aead cipher.AEAD, plain, aad []byte) ([]byte, []byte, error) {
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, nil, err
	}
	return nonce, aead.Seal(nil, nonce, plain, aad), nil
}

// openStore opens dir (creating it and its header when absent) with a passphrase or a master key.
func openStore(dir string, passphrase, masterKey []byte, kdf KDFParams, region, account string) (*store, error) {
	const op = "open key store"
	if len(passphrase) == 0 && len(masterKey) == 0 {
		return nil, storeErr(op, dir, ErrNoSecret, "", nil)
	}
	if len(passphrase) > 0 && len(masterKey) > 0 {
		return nil, storeErr(op, dir, ErrInvalidOptions, "give a passphrase or a master key, not both", nil)
	}
	if len(masterKey) > 0 && len(masterKey) != 32 {
		return nil, storeErr(op, dir, ErrInvalidOptions, "master key must be 32 bytes", nil)
	}
	if err := os.MkdirAll(filepath.Join(dir, keysDir), 0o700); err != nil {
		return nil, storeErr(op, dir, ErrStore, "", err)
	}
	s := &store{dir: dir}
	hpath := filepath.Join(dir, headerFile)
	data, err := readFileBounded(hpath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		h := storeHeader{Version: storeVersion, Region: region, AccountID: account, Mode: "keyfile"}
		if len(passphrase) > 0 {
			if err := kdf.check(); err != nil {
				return nil, storeErr(op, dir, ErrInvalidOptions, "", err)
			}
			h.Mode, h.KDF, h.Salt = "passphrase", &kdf, make([]byte, 16)
			if _, err := rand.Read(h.Salt); err != nil {
				return nil, storeErr(op, dir, ErrStore, "", err)
			}
		}
		if s.aead, s.macKey, err = deriveKeys(h, passphrase, masterKey); err != nil {
			return nil, storeErr(op, dir, ErrInvalidOptions, "", err)
		}
		nonce, ct, err := seal(s.aead, []byte(checkPlain), h.aad())
		if err != nil {
			return nil, storeErr(op, dir, ErrStore, "", err)
		}
		h.Check = append(nonce, ct...)
		b, _ := json.MarshalIndent(h, "", "  ")
		if err := writeFileAtomic(hpath, b); err != nil {
			return nil, err
		}
		s.header = h
		return s, nil
	case err != nil:
		return nil, storeErr(op, hpath, ErrStore, "", err)
	}
	var h storeHeader
	if err := json.Unmarshal(data, &h); err != nil || h.Version != storeVersion || (h.Mode != "passphrase" && h.Mode != "keyfile") {
		return nil, storeErr(op, hpath, ErrMalformedFile, "bad store header", err)
	}
	wrong := ErrWrongPassphrase
	if h.Mode == "keyfile" {
		wrong = ErrWrongMasterKey
	}
	if (h.Mode == "passphrase") != (len(passphrase) > 0) {
		return nil, storeErr(op, dir, wrong, "the store is protected by a "+map[bool]string{true: "passphrase", false: "master key file"}[h.Mode == "passphrase"], nil)
	}
	if h.Mode == "passphrase" {
		if h.KDF == nil || len(h.Salt) < 16 {
			return nil, storeErr(op, hpath, ErrMalformedFile, "missing KDF parameters", nil)
		}
		if err := h.KDF.check(); err != nil {
			return nil, storeErr(op, hpath, ErrMalformedFile, "", err)
		}
	}
	if s.aead, s.macKey, err = deriveKeys(h, passphrase, masterKey); err != nil {
		return nil, storeErr(op, hpath, ErrMalformedFile, "", err)
	}
	ns := s.aead.NonceSize()
	if len(h.Check) < ns {
		return nil, storeErr(op, hpath, ErrMalformedFile, "missing check value", nil)
	}
	pt, err := s.aead.Open(nil, h.Check[:ns], h.Check[ns:], h.aad())
	if err != nil || string(pt) != checkPlain {
		return nil, storeErr(op, dir, wrong, "", nil)
	}
	s.header = h
	return s, nil
}

func deriveKeys(h storeHeader, passphrase, masterKey []byte) (cipher.AEAD, []byte, error) {
	master := masterKey
	if h.Mode == "passphrase" {
		master = argon2.IDKey(passphrase, h.Salt, h.KDF.Time, h.KDF.MemoryKiB, h.KDF.Threads, 32)
	}
	return subkeys(master)
}

func (s *store) keyPath(id string) string { return filepath.Join(s.dir, keysDir, id+keyFileExt) }

// saveKey seals the PKCS#8 private key with the metadata as additional data and writes the file atomically.
func (s *store) saveKey(meta keyMeta, pkcs8 []byte) error {
	nonce, ct, err := seal(s.aead, pkcs8, meta.aad())
	if err != nil {
		return storeErr("save key", meta.KeyID, ErrStore, "", err)
	}
	b, _ := json.MarshalIndent(keyFile{Version: storeVersion, Meta: meta, Nonce: nonce, Ciphertext: ct}, "", "  ")
	return writeFileAtomic(s.keyPath(meta.KeyID), b)
}

// parseKeyFile authenticates and decrypts one key file. wantID is the id its file name says; the metadata must
// agree (a file renamed or copied over another fails).
func parseKeyFile(aead cipher.AEAD, data []byte, wantID string) (keyMeta, []byte, error) {
	const op = "parse key file"
	var kf keyFile
	if len(data) > MaxFileSize {
		return keyMeta{}, nil, storeErr(op, wantID, ErrMalformedFile, "file too large", nil)
	}
	if err := json.Unmarshal(data, &kf); err != nil {
		return keyMeta{}, nil, storeErr(op, wantID, ErrMalformedFile, "", err)
	}
	if kf.Version != storeVersion || len(kf.Nonce) != aead.NonceSize() || len(kf.Ciphertext) < aead.Overhead() {
		return keyMeta{}, nil, storeErr(op, wantID, ErrMalformedFile, "bad version, nonce or ciphertext", nil)
	}
	if kf.Meta.KeyID != wantID {
		return keyMeta{}, nil, storeErr(op, wantID, ErrTampered, "key id does not match the file name", nil)
	}
	pt, err := aead.Open(nil, kf.Nonce, kf.Ciphertext, kf.Meta.aad())
	if err != nil {
		return keyMeta{}, nil, storeErr(op, wantID, ErrTampered, "", nil)
	}
	return kf.Meta, pt, nil
}

// listKeyIDs returns the ids of the key files in the store.
func (s *store) listKeyIDs() ([]string, error) {
	ents, err := os.ReadDir(filepath.Join(s.dir, keysDir))
	if err != nil {
		return nil, storeErr("list keys", s.dir, ErrStore, "", err)
	}
	var ids []string
	for _, e := range ents {
		name := e.Name()
		if e.Type().IsRegular() && strings.HasSuffix(name, keyFileExt) && !strings.HasPrefix(name, ".") {
			ids = append(ids, strings.TrimSuffix(name, keyFileExt))
		}
	}
	return ids, nil
}

func (s *store) loadKey(id string) (keyMeta, []byte, error) {
	data, err := readFileBounded(s.keyPath(id))
	if err != nil {
		return keyMeta{}, nil, storeErr("load key", id, ErrStore, "", err)
	}
	return parseKeyFile(s.aead, data, id)
}

func (s *store) removeKey(id string) error {
	if err := os.Remove(s.keyPath(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return storeErr("remove key", id, ErrStore, "", err)
	}
	return syncDir(filepath.Join(s.dir, keysDir))
}

func (s *store) saveAliases(recs []aliasRecord) error {
	b, _ := json.MarshalIndent(aliasFile{Version: storeVersion, Aliases: recs, MAC: aliasMAC(s.macKey, recs)}, "", "  ")
	return writeFileAtomic(filepath.Join(s.dir, aliasesFile), b)
}

func (s *store) loadAliases() ([]aliasRecord, error) {
	path := filepath.Join(s.dir, aliasesFile)
	data, err := readFileBounded(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, storeErr("load aliases", path, ErrStore, "", err)
	}
	return parseAliasFile(s.macKey, data)
}

func parseAliasFile(macKey, data []byte) ([]aliasRecord, error) {
	var af aliasFile
	if err := json.Unmarshal(data, &af); err != nil || af.Version != storeVersion {
		return nil, storeErr("parse aliases", aliasesFile, ErrMalformedFile, "", err)
	}
	if !hmac.Equal(af.MAC, aliasMAC(macKey, af.Aliases)) {
		return nil, storeErr("parse aliases", aliasesFile, ErrTampered, "", nil)
	}
	return af.Aliases, nil
}

func readFileBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > MaxFileSize {
		return nil, errors.New("file larger than MaxFileSize")
	}
	b := make([]byte, st.Size())
	_, err = readFull(f, b)
	return b, err
}

func readFull(f *os.File, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := f.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// writeFileAtomic writes data to path with mode 0600 through a temporary file in the same directory, fsyncs it,
// renames it over path and fsyncs the directory, so a crash leaves either the old or the new file.
func writeFileAtomic(path string, data []byte) error {
	const op = "write file"
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return storeErr(op, path, ErrStore, "", err)
	}
	tmp := f.Name()
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return storeErr(op, path, ErrStore, "", err)
	}
	if err := f.Chmod(0o600); err != nil {
		return fail(err)
	}
	if _, err := f.Write(data); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return storeErr(op, path, ErrStore, "", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return storeErr(op, path, ErrStore, "", err)
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return storeErr("sync dir", dir, ErrStore, "", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return storeErr("sync dir", dir, ErrStore, "", err)
	}
	return nil
}

// ParseMasterKey reads a master key as a master-key file holds it: 64 hex digits (surrounding white space
// ignored) or 32 raw bytes.
func ParseMasterKey(data []byte) ([]byte, error) {
	if t := strings.TrimSpace(string(data)); len(t) == 64 {
		if k, err := hex.DecodeString(t); err == nil {
			return k, nil
		}
	}
	if len(data) == 32 {
		return append([]byte(nil), data...), nil
	}
	return nil, storeErr("parse master key", "", ErrInvalidOptions, "a master key is 64 hex digits or 32 bytes", nil)
}

// GenerateMasterKeyFile writes a new random master key (64 hex digits and a newline) to path, 0600, atomically.
// It refuses to overwrite an existing file.
func GenerateMasterKeyFile(path string) ([]byte, error) {
	if _, err := os.Stat(path); err == nil {
		return nil, storeErr("generate master key", path, ErrInvalidOptions, "file exists", nil)
	}
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, storeErr("generate master key", path, ErrStore, "", err)
	}
	if err := writeFileAtomic(path, []byte(hex.EncodeToString(k)+"\n")); err != nil {
		return nil, err
	}
	return k, nil
}
