package main

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/pkikit/pkikit/x509ext"
)

// Layout of a workload directory (the Kubernetes AtomicWriter layout):
//
//	dir/..2026_01_02_15_04_05.<serial>/key.pem   PKCS#8, 0600
//	dir/..2026_01_02_15_04_05.<serial>/cert.pem  leaf then CA (the chain), 0644
//	dir/..2026_01_02_15_04_05.<serial>/ca.pem    the CA certificate (trust anchor), 0644
//	dir/..data     -> ..2026_01_02_15_04_05.<serial>      (the one symlink that is swapped)
//	dir/key.pem    -> ..data/key.pem
//	dir/cert.pem   -> ..data/cert.pem
//	dir/ca.pem     -> ..data/ca.pem
//
// A new key and certificate are written into a new version directory (each file: temp file in that directory,
// fsync, rename; then the directory is fsynced), and only then is ..data switched to it with one rename of a
// symlink (atomic on POSIX), followed by an fsync of dir. A reader that resolves ..data once (readPair does)
// always gets a key and a certificate of the same generation; a reader that opens dir/key.pem and dir/cert.pem
// separately gets each file whole, and a matching pair unless a swap falls between its two opens (reload on
// mismatch, or resolve ..data first). The previous version directory is kept until the next swap, so a reader
// that resolved ..data just before a swap can still open both files.
const (
	dataLink = "..data"
	keyFile  = "key.pem"
	certFile = "cert.pem"
	caFile   = "ca.pem"
)

// writeFileAtomic writes data to path through a temp file in the same directory: write, fsync, chmod, rename.
// A crash leaves either the old file or the new one (and perhaps a .tmp-* file), never a torn one. The directory
// itself is not fsynced (syncDir).
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir, base := filepath.Split(path)
	f, err := os.CreateTemp(dir, ".tmp-"+base+"-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(perm); err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	ok = true
	return nil
}

// syncDir fsyncs a directory so that the entries created or renamed in it survive a crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func encodePEM(typ string, ders ...[]byte) []byte {
	var b bytes.Buffer
	for _, der := range ders {
		pem.Encode(&b, &pem.Block{Type: typ, Bytes: der})
	}
	return b.Bytes()
}

// install writes a new generation (key, chain, CA) into dir and makes it current. Until the final rename of
// ..data, readers keep seeing the previous generation; the one before that is removed afterwards.
func install(dir string, key crypto.Signer, chain []*x509ext.Certificate) (string, error) {
	if len(chain) < 2 {
		return "", errors.New("install: chain needs the leaf and the CA certificate")
	}
	keyDER, err := x509ext.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	leaf := chain[0]
	version := ".." + leaf.NotBefore.UTC().Format("2006_01_02_15_04_05") + "." + hex.EncodeToString(leaf.SerialNumber.Bytes())
	vdir := filepath.Join(dir, version)
	if err := os.Mkdir(vdir, 0o700); err != nil {
		return "", err
	}
	chainDER := make([][]byte, len(chain))
	for i, c := range chain {
		chainDER[i] = c.Raw
	}
	files := []struct {
		name string
		data []byte
		perm os.FileMode
	}{
		{keyFile, encodePEM("PRIVATE KEY", keyDER), 0o600},
		{certFile, encodePEM("CERTIFICATE", chainDER...), 0o644},
		{caFile, encodePEM("CERTIFICATE", chainDER[len(chainDER)-1]), 0o644},
	}
	for _, f := range files {
		if err := writeFileAtomic(filepath.Join(vdir, f.name), f.data, f.perm); err != nil {
			return "", err
		}
	}
	if err := syncDir(vdir); err != nil {
		return "", err
	}
	// The stable names point through ..data; create them once (they never change).
	for _, f := range files {
		link := filepath.Join(dir, f.name)
		if _, err := os.Lstat(link); errors.Is(err, os.ErrNotExist) {
			if err := replaceSymlink(filepath.Join(dataLink, f.name), link); err != nil {
				return "", err
			}
		} else if err != nil {
			return "", err
		}
	}
	previous, _ := os.Readlink(filepath.Join(dir, dataLink))
	if err := replaceSymlink(version, filepath.Join(dir, dataLink)); err != nil {
		return "", err
	}
	if err := syncDir(dir); err != nil {
		return "", err
	}
	// Keep the generation just replaced (a reader may have resolved ..data to it a moment ago); remove older ones.
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() && strings.HasPrefix(n, "..") && n != version && n != previous {
			os.RemoveAll(filepath.Join(dir, n))
		}
	}
	return vdir, nil
}

// replaceSymlink points link at target atomically: a new symlink under a temp name, renamed over link.
func replaceSymlink(target, link string) error {
	var r [8]byte
	rand.Read(r[:])
	tmp := filepath.Join(filepath.Dir(link), ".tmp-link-"+hex.EncodeToString(r[:]))
	if err := os.Symlink(target, tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, link); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// pair is one generation of a workload directory as a reader sees it.
type pair struct {
	Dir   string // the version directory ..data pointed to
	Key   crypto.Signer
	Chain []*x509ext.Certificate // leaf first
}

// readPair reads the current key and chain of a workload directory the way a careful consumer should: resolve
// ..data once, then read both files from that version directory, and check that the key matches the leaf.
// A generation is removed two installs after it was current; if that happens between resolving ..data and
// opening the files (a reader stalled for a whole renewal period), the read is retried with the new ..data.
func readPair(dir string) (*pair, error) {
	for attempt := 0; ; attempt++ {
		version, err := os.Readlink(filepath.Join(dir, dataLink))
		if err != nil {
			return nil, err
		}
		p, err := readPairIn(filepath.Join(dir, version))
		if errors.Is(err, fs.ErrNotExist) && attempt < 3 {
			if now, _ := os.Readlink(filepath.Join(dir, dataLink)); now != version {
				continue
			}
		}
		return p, err
	}
}

// readPairIn reads and checks key.pem and cert.pem of one version directory.
func readPairIn(vdir string) (*pair, error) {
	keyPEM, err := os.ReadFile(filepath.Join(vdir, keyFile))
	if err != nil {
		return nil, err
	}
	certPEM, err := os.ReadFile(filepath.Join(vdir, certFile))
	if err != nil {
		return nil, err
	}
	block, rest := pem.Decode(keyPEM)
	if block == nil || block.Type != "PRIVATE KEY" || len(bytes.TrimSpace(rest)) != 0 {
		return nil, fmt.Errorf("%s: not one PKCS#8 PEM block", filepath.Join(vdir, keyFile))
	}
	key, err := x509ext.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(vdir, keyFile), err)
	}
	chain, err := parseChainPEM(certPEM)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(vdir, certFile), err)
	}
	if !publicKeysEqual(key.Public(), chain[0].PublicKey) {
		return nil, fmt.Errorf("%s: %w", vdir, errMismatch)
	}
	return &pair{Dir: vdir, Key: key, Chain: chain}, nil
}

// parseChainPEM reads CERTIFICATE blocks (at least one) and nothing else.
func parseChainPEM(data []byte) ([]*x509ext.Certificate, error) {
	var chain []*x509ext.Certificate
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("unexpected PEM block %q", block.Type)
		}
		c, err := x509ext.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, err
		}
		chain = append(chain, c)
	}
	if len(bytes.TrimSpace(data)) != 0 || len(chain) == 0 {
		return nil, errors.New("not a PEM certificate chain")
	}
	return chain, nil
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	ea, err1 := x509ext.MarshalPKIXPublicKey(a)
	eb, err2 := x509ext.MarshalPKIXPublicKey(b)
	return err1 == nil && err2 == nil && bytes.Equal(ea, eb)
}
