package kmssigner_test

import (
	"context"
	"crypto"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/pkikit/pkikit/internal/alg"
	"github.com/pkikit/pkikit/kmssigner"
	"github.com/pkikit/pkikit/kmssigner/localkms"
)

func TestParseURI(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want kmssigner.URI
	}{
		{"awskms:key-id=arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab;region=us-east-1;endpoint=http://127.0.0.1:4599",
			kmssigner.URI{Scheme: "awskms", Attrs: map[string]string{"key-id": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", "region": "us-east-1", "endpoint": "http://127.0.0.1:4599"}, Query: map[string]string{}}},
		{"awskms:///alias/CodeSigning-Key", kmssigner.URI{Scheme: "awskms", Path: "alias/CodeSigning-Key", Attrs: map[string]string{}, Query: map[string]string{}}},
		{"awskms:///arn:aws:kms:eu-west-1:111122223333:alias/Mixed?region=eu-west-1",
			kmssigner.URI{Scheme: "awskms", Path: "arn:aws:kms:eu-west-1:111122223333:alias/Mixed", Attrs: map[string]string{}, Query: map[string]string{"region": "eu-west-1"}}},
		{"AWSKMS://localhost:4566/alias/x", kmssigner.URI{Scheme: "awskms", Authority: "localhost:4566", Path: "alias/x", Attrs: map[string]string{}, Query: map[string]string{}}},
		// RFC 7512 §3 examples.
		{"pkcs11:object=my-pubkey;type=public", kmssigner.URI{Scheme: "pkcs11", Attrs: map[string]string{"object": "my-pubkey", "type": "public"}, Query: map[string]string{}}},
		{"pkcs11:token=The%20Software%20PKCS%2311%20Softtoken;manufacturer=Snake%20Oil,%20Inc.;model=1.0;object=my-certificate;type=cert;id=%69%95%3E%5C%F4%BD%EC%91;serial=?pin-source=file:/etc/token_pin",
			kmssigner.URI{Scheme: "pkcs11", Attrs: map[string]string{"token": "The Software PKCS#11 Softtoken", "manufacturer": "Snake Oil, Inc.", "model": "1.0", "object": "my-certificate", "type": "cert", "id": "\x69\x95\x3e\x5c\xf4\xbd\xec\x91", "serial": ""}, Query: map[string]string{"pin-source": "file:/etc/token_pin"}}},
		{"pkcs11:", kmssigner.URI{Scheme: "pkcs11", Attrs: map[string]string{}, Query: map[string]string{}}},
		{"localkms:dir=/var/lib/kms;key=alias/CA", kmssigner.URI{Scheme: "localkms", Attrs: map[string]string{"dir": "/var/lib/kms", "key": "alias/CA"}, Query: map[string]string{}}},
	} {
		got, err := kmssigner.ParseURI(tc.in)
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(*got, tc.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.in, *got, tc.want)
		}
	}
	for _, bad := range []string{"", "no-scheme", ":x", "1abc:x", "pkcs11:object=a;object=b", "pkcs11:=x", "pkcs11:noequals",
		"pkcs11:id=%zz", "awskms:///alias/%g1", "pkcs11:a=b?c", string(make([]byte, kmssigner.MaxURILength+1))} {
		if _, err := kmssigner.ParseURI(bad); !errors.Is(err, kmssigner.ErrInvalidURI) {
			t.Errorf("%q: err = %v, want ErrInvalidURI", bad, err)
		}
	}
}

func FuzzParseURI(f *testing.F) {
	for _, s := range []string{"awskms:key-id=k;region=r", "awskms:///alias/x", "pkcs11:token=a%20b;object=c?pin-value=1", "localkms:dir=/d;key=k"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := kmssigner.ParseURI(s)
		if err != nil {
			if !errors.Is(err, kmssigner.ErrInvalidURI) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if u.Scheme == "" {
			t.Fatal("empty scheme accepted")
		}
	})
}

func TestOpenLocalKMSURI(t *testing.T) {
	dir := t.TempDir()
	k, err := localkms.Open(dir, &localkms.Options{Passphrase: []byte("correct horse"), KDF: localkms.KDFParams{Time: 1, MemoryKiB: 1024, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	id := createKey(t, k, kmssigner.KeySpecMLDSA44)
	if _, err := k.CreateAlias(context.Background(), &localkms.CreateAliasInput{AliasName: "alias/Test-CA", TargetKeyId: id}); err != nil {
		t.Fatal(err)
	}
	t.Setenv(localkms.PassphraseEnv, "correct horse")
	s, err := kmssigner.Open(context.Background(), "localkms:dir="+dir+";key=alias/Test-CA")
	if err != nil {
		t.Fatal(err)
	}
	if s.KeyID() != "alias/Test-CA" {
		t.Fatalf("KeyID %q", s.KeyID())
	}
	sig, err := alg.Sign(context.Background(), s, alg.MLDSA44, []byte("m"))
	if err != nil || alg.Verify(s.Public(), alg.MLDSA44, []byte("m"), sig) != nil {
		t.Fatalf("sign/verify: %v", err)
	}
	t.Setenv(localkms.PassphraseEnv, "wrong")
	if _, err := kmssigner.Open(context.Background(), "localkms:dir="+dir+";key=alias/Test-CA"); !errors.Is(err, localkms.ErrWrongPassphrase) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	// Master-key file form.
	mdir := t.TempDir()
	mk, err := localkms.GenerateMasterKeyFile(filepath.Join(mdir, "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	k2, err := localkms.Open(filepath.Join(mdir, "store"), &localkms.Options{MasterKey: mk})
	if err != nil {
		t.Fatal(err)
	}
	id2 := createKey(t, k2, kmssigner.KeySpecECCNISTP256)
	s2, err := kmssigner.Open(context.Background(), "localkms:dir="+filepath.Join(mdir, "store")+";key="+id2+";master-key="+filepath.Join(mdir, "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s2.SignMessage(nil, []byte("m"), crypto.SHA256); err != nil {
		t.Fatal(err)
	}
	if _, err := kmssigner.Open(context.Background(), "localkms:dir="+dir); !errors.Is(err, kmssigner.ErrInvalidURI) {
		t.Fatalf("missing key: %v", err)
	}
	if _, err := kmssigner.Open(context.Background(), "nosuchkms:key=x"); !errors.Is(err, kmssigner.ErrUnknownScheme) {
		t.Fatalf("unknown scheme: %v", err)
	}
	os.Unsetenv(localkms.PassphraseEnv)
}

func TestRegisterAndSchemes(t *testing.T) {
	kmssigner.Register("testkms", func(ctx context.Context, uri string) (kmssigner.Client, string, error) {
		u, err := kmssigner.ParseURI(uri)
		if err != nil {
			return nil, "", err
		}
		k := localkms.NewMemory(nil)
		return k, u.Attrs["key"], nil
	})
	found := false
	for _, s := range kmssigner.Schemes() {
		found = found || s == "testkms"
	}
	if !found {
		t.Fatal("testkms not registered")
	}
	c, key, err := kmssigner.OpenClient(context.Background(), "TESTKMS:key=Alias/X")
	if err != nil || c == nil || key != "Alias/X" {
		t.Fatalf("OpenClient: %v %q", err, key)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("duplicate Register did not panic")
		}
	}()
	kmssigner.Register("testkms", func(context.Context, string) (kmssigner.Client, string, error) { return nil, "", nil })
}
