// Command mdlissuer is an mDL issuing authority in one program: an IACA root and a Document Signer whose keys
// live in pkikit's embedded KMS (kmssigner/localkms), an mDL issued to a sample holder, a presentation of a few
// elements to a reader over an OpenID4VP session, and the reader's verification against the IACA.
//
//	go run ./examples/mdlissuer -out DIR
//
// It writes DIR/iaca.pem, DIR/ds.pem, DIR/issuerSigned.cbor, DIR/mso.cbor, DIR/deviceResponse.cbor,
// DIR/sessionTranscript.cbor and prints the reader's report. Private keys stay in the KMS (in memory here; give
// -kms DIR and -passphrase to keep them in an encrypted store).
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/pkikit/pkikit/kmssigner"
	"github.com/pkikit/pkikit/kmssigner/localkms"
	"github.com/pkikit/pkikit/mdl"
	"github.com/pkikit/pkikit/truststore"
	"github.com/pkikit/pkikit/x509ext"
)

func main() {
	out := flag.String("out", "mdl-out", "directory for iaca.pem, ds.pem and the CBOR files")
	kmsDir := flag.String("kms", "", "persistent localkms directory (default: in memory)")
	pass := flag.String("passphrase", "", "passphrase of the persistent localkms store")
	flag.Parse()
	if err := run(context.Background(), *out, *kmsDir, *pass); err != nil {
		fmt.Fprintln(os.Stderr, "mdlissuer:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out, kmsDir, pass string) error {
	var kms *localkms.KMS
	if kmsDir != "" {
		var err error
		if kms, err = localkms.Open(kmsDir, &localkms.Options{Passphrase: []byte(pass)}); err != nil {
			return err
		}
	} else {
		kms = localkms.NewMemory(nil)
	}
	newKey := func(desc string) (*kmssigner.Signer, error) {
		k, err := kms.CreateKey(ctx, &localkms.CreateKeyInput{KeySpec: kmssigner.KeySpecECCNISTP256, KeyUsage: "SIGN_VERIFY", Description: desc})
		if err != nil {
			return nil, err
		}
		return kmssigner.New(ctx, kms, k.KeyMetadata.KeyId, nil)
	}
	iacaKey, err := newKey("mDL IACA root")
	if err != nil {
		return err
	}
	dsKey, err := newKey("mDL Document Signer")
	if err != nil {
		return err
	}

	now := time.Now().UTC().Truncate(time.Second)
	alt := x509ext.AltNames{EmailAddresses: []string{"mdl-iaca@dmv.example.gov"}}
	crl := []string{"https://dmv.example.gov/iaca/crl/iaca.crl"}
	subject := func(cn string) pkix.Name {
		return pkix.Name{Country: []string{"US"}, Province: []string{"NY"}, Organization: []string{"Example DMV"}, CommonName: cn}
	}
	iaca, err := x509ext.SelfSign(ctx, iacaKey, &x509ext.IssueRequest{Profile: x509ext.MDLIACACertificateV1,
		Subject: subject("Example DMV IACA"), NotBefore: now.Add(-time.Hour), Validity: 9 * 365 * 24 * time.Hour,
		IssuerAltName: alt, CRLDistributionPoints: crl})
	if err != nil {
		return fmt.Errorf("IACA: %w", err)
	}
	ds, err := (&x509ext.Issuer{Certificate: iaca, Signer: iacaKey}).Issue(ctx, &x509ext.IssueRequest{
		Profile: x509ext.MDLDocumentSignerCertificateV1, PublicKey: dsKey.Public(), Subject: subject("Example DMV Document Signer"),
		NotBefore: now.Add(-time.Hour), Validity: 365 * 24 * time.Hour, IssuerAltName: alt, CRLDistributionPoints: crl})
	if err != nil {
		return fmt.Errorf("DS: %w", err)
	}
	issuer, err := mdl.NewIssuer(dsKey, ds, mdl.IssuerOptions{IACA: iaca})
	if err != nil {
		return err
	}

	// The holder's device key (in a wallet's secure element in real life).
	device, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	doc, err := issuer.Issue(ctx, &mdl.IssueRequest{
		NameSpaces: map[string]map[string]any{mdl.NamespaceMDL: {
			"family_name": "Mustermann", "given_name": "Erika", "birth_date": mdl.FullDate("1971-09-01"),
			"issue_date": mdl.NewFullDate(now), "expiry_date": mdl.NewFullDate(now.AddDate(5, 0, 0)),
			"issuing_country": "US", "issuing_jurisdiction": "NY", "issuing_authority": "Example DMV",
			"document_number": "NY-1234567", "portrait": []byte{0xff, 0xd8, 0xff, 0xd9},
			"driving_privileges": []any{map[string]any{"vehicle_category_code": "B", "issue_date": mdl.FullDate("1990-05-01")}},
			"age_over_18":        true, "age_over_21": true, "un_distinguishing_sign": "USA",
		}},
		DeviceKey: &device.PublicKey, ValidUntil: now.AddDate(0, 0, 90),
	})
	if err != nil {
		return err
	}

	// A reader asks for three elements over OpenID4VP; the holder discloses only those.
	transcript := mdl.NewOpenID4VPSessionTranscript("x509_san_dns:reader.example.org", "nonce-8f3a", nil, "https://reader.example.org/post")
	resp, err := mdl.Present(ctx, doc, mdl.PresentOptions{
		Request: mdl.ItemsRequest{DocType: mdl.DocTypeMDL, NameSpaces: map[string][]string{
			mdl.NamespaceMDL: {"given_name", "age_over_21", "portrait"},
		}},
		SessionTranscript: transcript, DeviceSigner: device,
	})
	if err != nil {
		return err
	}

	res, err := mdl.VerifyDeviceResponse(resp.Marshal(), mdl.VerifyOptions{TrustStore: truststore.NewStore(iaca),
		SessionTranscript: transcript, DocType: mdl.DocTypeMDL})
	if res != nil {
		for _, d := range res.Documents {
			for _, c := range d.Checks {
				fmt.Println(c)
			}
			fmt.Printf("disclosed: %v\n", d.Elements)
		}
	}
	if err != nil {
		return err
	}

	isBytes, _ := doc.Marshal()
	mso, _ := doc.MobileSecurityObject()
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	files := map[string][]byte{
		"iaca.pem":               pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: iaca.Raw}),
		"ds.pem":                 pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ds.Raw}),
		"issuerSigned.cbor":      isBytes,
		"mso.cbor":               mso.Marshal(),
		"deviceResponse.cbor":    resp.Marshal(),
		"sessionTranscript.cbor": transcript.CBOR(),
	}
	for name, b := range files {
		if err := writeAtomic(filepath.Join(out, name), b); err != nil {
			return err
		}
	}
	fmt.Printf("wrote %d files to %s\n", len(files), out)
	return nil
}

// writeAtomic writes through a temporary file and a rename (nothing secret is written here: certificates and
// signed CBOR only).
func writeAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}
