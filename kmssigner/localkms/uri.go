package localkms

import (
	"context"
	"os"

	"github.com/pkikit/pkikit/kmssigner"
)

// PassphraseEnv is the environment variable the localkms: URI opener (and examples/localkms) reads the key-store
// passphrase from.
const PassphraseEnv = "PKIKIT_KMS_PASSPHRASE"

func init() { kmssigner.Register("localkms", openURI) }

// openURI opens a key store named by a URI of the form
//
//	localkms:dir=/path/to/store;key=alias/Name
//	localkms:dir=/path/to/store;key=1234abcd-...;master-key=/path/to/master.key
//
// The store is protected by the master-key file if one is named, else by the passphrase in
// PKIKIT_KMS_PASSPHRASE. key is kept exactly as given (key id, key ARN, alias name or alias ARN). Each call opens
// the directory afresh (keys created since by another process are seen).
func openURI(_ context.Context, uri string) (kmssigner.Client, string, error) {
	u, err := kmssigner.ParseURI(uri)
	if err != nil {
		return nil, "", err
	}
	bad := func(d string) error {
		return &kmssigner.Error{Op: "open localkms URI", Err: kmssigner.ErrInvalidURI, Detail: d}
	}
	if u.Authority != "" || u.Path != "" {
		return nil, "", bad("use localkms:dir=...;key=...")
	}
	dir, keyID := u.Attrs["dir"], u.Attrs["key"]
	if dir == "" || keyID == "" {
		return nil, "", bad("dir and key attributes are required")
	}
	for name := range u.Attrs {
		if name != "dir" && name != "key" && name != "master-key" {
			return nil, "", bad("unknown attribute " + name)
		}
	}
	if len(u.Query) > 0 {
		return nil, "", bad("no query attributes are defined")
	}
	opts := &Options{}
	if path := u.Attrs["master-key"]; path != "" {
		data, err := readFileBounded(path)
		if err != nil {
			return nil, "", storeErr("read master key", path, ErrStore, "", err)
		}
		if opts.MasterKey, err = ParseMasterKey(data); err != nil {
			return nil, "", err
		}
	} else if p := os.Getenv(PassphraseEnv); p != "" {
		opts.Passphrase = []byte(p)
	} else {
		return nil, "", storeErr("open localkms URI", dir, ErrNoSecret, "set "+PassphraseEnv+" or master-key=FILE", nil)
	}
	k, err := Open(dir, opts)
	if err != nil {
		return nil, "", err
	}
	return k, keyID, nil
}
