//go:build cgo

package pkcs11

import (
	"crypto"
	"crypto/elliptic"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/ThalesGroup/crypto11"

	"github.com/pkikit/pkikit/internal/interop"
)

// The SoftHSM2 fixture: one temporary token directory for the whole test binary (SOFTHSM2_CONF points at it),
// a token "test" (user PIN 1234) holding one key pair per supported type, and a token "other" (PIN 4321)
// that no test logs in to except the wrong-PIN test.
const (
	testToken  = "test"
	testPIN    = "1234"
	otherToken = "other"
	otherPIN   = "4321"
)

var softhsmModule = "/usr/lib/softhsm/libsofthsm2.so"

type fixtureKey struct {
	label string
	id    []byte
	pub   crypto.PublicKey
}

var fixture struct {
	once sync.Once
	dir  string
	err  error
	keys map[string]*fixtureKey // by label
}

// fixtureLabels are the generated keys: label → how to make it.
var fixtureLabels = []string{"p256", "p384", "p521", "rsa2048", "rsa3072"}

func TestMain(m *testing.M) {
	code := m.Run()
	if fixture.dir != "" {
		os.RemoveAll(fixture.dir)
	}
	os.Exit(code)
}

// softHSM sets the fixture up once and returns the module path, or skips the test (fails it under
// PKIKIT_INTEROP=require) when SoftHSM2 is not installed.
func softHSM(t testing.TB) string {
	t.Helper()
	util := interop.Tool(t, "softhsm2-util", "install SoftHSM2 (apt-get install softhsm2)")
	if p := os.Getenv("PKIKIT_SOFTHSM2_MODULE"); p != "" {
		softhsmModule = p
	}
	if _, err := os.Stat(softhsmModule); err != nil {
		interop.Missing(t, "SoftHSM2 module "+softhsmModule, "install SoftHSM2 (apt-get install softhsm2) or set PKIKIT_SOFTHSM2_MODULE")
	}
	fixture.once.Do(func() { fixture.err = setupSoftHSM(util) })
	if fixture.err != nil {
		t.Fatalf("SoftHSM2 fixture: %v", fixture.err)
	}
	return softhsmModule
}

func setupSoftHSM(util string) error {
	dir, err := os.MkdirTemp("", "pkikit-softhsm-")
	if err != nil {
		return err
	}
	fixture.dir = dir
	tokens := filepath.Join(dir, "tokens")
	if err := os.Mkdir(tokens, 0o700); err != nil {
		return err
	}
	conf := filepath.Join(dir, "softhsm2.conf")
	if err := os.WriteFile(conf, []byte("directories.tokendir = "+tokens+"\nobjectstore.backend = file\nlog.level = ERROR\n"), 0o600); err != nil {
		return err
	}
	os.Setenv("SOFTHSM2_CONF", conf)
	for _, tok := range [][3]string{{testToken, testPIN, "5678"}, {otherToken, otherPIN, "8765"}} {
		out, err := exec.Command(util, "--init-token", "--free", "--label", tok[0], "--pin", tok[1], "--so-pin", tok[2]).CombinedOutput()
		if err != nil {
			return fmt.Errorf("softhsm2-util --init-token: %v: %s", err, out)
		}
	}
	ctx, err := crypto11.Configure(&crypto11.Config{Path: softhsmModule, TokenLabel: testToken, Pin: testPIN})
	if err != nil {
		return err
	}
	defer ctx.Close()
	fixture.keys = map[string]*fixtureKey{}
	for i, label := range fixtureLabels {
		id := []byte{0x70, byte(i + 1)}
		var s crypto.Signer
		switch label {
		case "p256":
			s, err = ctx.GenerateECDSAKeyPairWithLabel(id, []byte(label), elliptic.P256())
		case "p384":
			s, err = ctx.GenerateECDSAKeyPairWithLabel(id, []byte(label), elliptic.P384())
		case "p521":
			s, err = ctx.GenerateECDSAKeyPairWithLabel(id, []byte(label), elliptic.P521())
		case "rsa2048":
			s, err = ctx.GenerateRSAKeyPairWithLabel(id, []byte(label), 2048)
		case "rsa3072":
			s, err = ctx.GenerateRSAKeyPairWithLabel(id, []byte(label), 3072)
		}
		if err != nil {
			return fmt.Errorf("generate %s: %w", label, err)
		}
		fixture.keys[label] = &fixtureKey{label: label, id: id, pub: s.Public()}
	}
	// Two key pairs under one label, to test ambiguity.
	for i := range 2 {
		if _, err := ctx.GenerateECDSAKeyPairWithLabel([]byte{0x7f, byte(i)}, []byte("twin"), elliptic.P256()); err != nil {
			return err
		}
	}
	return nil
}

// newTestClient opens a Client on the "test" token and closes it with the test.
func newTestClient(t testing.TB) *Client {
	t.Helper()
	module := softHSM(t)
	c, err := New(Config{ModulePath: module, TokenLabel: testToken, PIN: testPIN})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
