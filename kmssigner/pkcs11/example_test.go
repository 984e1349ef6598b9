package pkcs11_test

import (
	"context"
	"crypto"
	"crypto/sha256"
	"fmt"
	"log"

	"github.com/pkikit/pkikit/kmssigner"
	"github.com/pkikit/pkikit/kmssigner/pkcs11"
)

func ExampleParseURI() {
	u, err := pkcs11.ParseURI("pkcs11:token=ca;object=issuing-key;id=%01%02?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=1234")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(u.Token, u.Object, u.ID, u.ModulePath)
	fmt.Println(u.KeyRef()) // what kmssigner.Open keeps as the key id: no module, no PIN
	// Output:
	// ca issuing-key [1 2] /usr/lib/softhsm/libsofthsm2.so
	// pkcs11:token=ca;object=issuing-key;id=%01%02
}

// ExampleNew signs with a key in a SoftHSM2 token (not run: it needs an initialised token holding the key).
func ExampleNew() {
	ctx := context.Background()
	client, err := pkcs11.New(pkcs11.Config{ModulePath: "/usr/lib/softhsm/libsofthsm2.so", TokenLabel: "ca", PIN: "1234"})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	signer, err := kmssigner.New(ctx, client, "pkcs11:object=issuing-key", nil)
	if err != nil {
		log.Fatal(err)
	}
	digest := sha256.Sum256([]byte("hello"))
	sig, err := signer.SignContext(ctx, nil, digest[:], crypto.SHA256) // verified locally before it is returned
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(sig) > 0)
}
