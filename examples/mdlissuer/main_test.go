package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/pkikit/pkikit/mdl"
	"github.com/pkikit/pkikit/truststore"
)

// TestRun runs the program end to end and re-verifies what it wrote: the IssuerSigned against iaca.pem.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	if err := run(context.Background(), dir, "", ""); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"iaca.pem", "ds.pem", "issuerSigned.cbor", "mso.cbor", "deviceResponse.cbor", "sessionTranscript.cbor"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Fatalf("%s: %v", f, err)
		}
	}
	store := truststore.NewStore()
	pemBytes, _ := os.ReadFile(filepath.Join(dir, "iaca.pem"))
	if n, err := store.AddAnchorsPEM(pemBytes); err != nil || n != 1 {
		t.Fatal(n, err)
	}
	is, _ := os.ReadFile(filepath.Join(dir, "issuerSigned.cbor"))
	d, err := mdl.VerifyIssuerSigned(is, mdl.VerifyOptions{TrustStore: store, DocType: mdl.DocTypeMDL})
	if err != nil {
		t.Fatal(err)
	}
	if d.Elements[mdl.NamespaceMDL]["family_name"] != "Mustermann" || d.DocumentSigner == nil {
		t.Fatalf("%v", d.Elements)
	}
	st, _ := os.ReadFile(filepath.Join(dir, "sessionTranscript.cbor"))
	tr, err := mdl.ParseSessionTranscript(st)
	if err != nil {
		t.Fatal(err)
	}
	dr, _ := os.ReadFile(filepath.Join(dir, "deviceResponse.cbor"))
	res, err := mdl.VerifyDeviceResponse(dr, mdl.VerifyOptions{TrustStore: store, SessionTranscript: tr})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Documents[0].Elements[mdl.NamespaceMDL]; len(got) != 3 || got["family_name"] != nil {
		t.Fatalf("disclosed %v", got)
	}
}
