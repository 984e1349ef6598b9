package mdl

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pkikit/pkikit/internal/interop"
	"github.com/pkikit/pkikit/x509ext"
)

// owfMdoc returns the argv prefix that runs testdata/node/interop.mjs with @owf/mdoc installed, or skips
// (fails under PKIKIT_INTEROP=require).
func owfMdoc(t *testing.T) []string {
	t.Helper()
	node := interop.Tool(t, "node", "install Node.js 20 or later")
	dir := filepath.Join(interop.RepoRoot(), "mdl", "testdata", "node")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@owf", "mdoc", "package.json")); err != nil {
		interop.Missing(t, "@owf/mdoc", "run scripts/install-node-peers.sh (npm ci in mdl/testdata/node)")
	}
	return []string{node, filepath.Join(dir, "interop.mjs")}
}

type nodeResult struct {
	OK     bool              `json:"ok"`
	Error  string            `json:"error"`
	Failed []json.RawMessage `json:"failed"`
	Checks int               `json:"checks"`
	// PeerBugs are the @owf/mdoc 0.6.0 deviceMac checks that fail for any input (see interop.mjs).
	PeerBugs    []string `json:"peerBugs"`
	MacVerified *bool    `json:"macVerified"`
}

func runNode(t *testing.T, argv []string, args ...string) (nodeResult, string) {
	t.Helper()
	out, _ := interop.Run(t, filepath.Dir(argv[1]), append(argv, args...)...)
	var r nodeResult
	lines := bytes.Split(bytes.TrimSpace([]byte(out)), []byte("\n"))
	if err := json.Unmarshal(lines[len(lines)-1], &r); err != nil {
		t.Fatalf("node output is not JSON: %v\n%s", err, out)
	}
	return r, out
}

// tempDir is t.TempDir(), or $MDL_INTEROP_DIR/<test name> to keep the exchanged files for inspection.
func tempDir(t *testing.T) string {
	if d := os.Getenv("MDL_INTEROP_DIR"); d != "" {
		dir := filepath.Join(d, filepath.FromSlash(t.Name()))
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	return t.TempDir()
}

func writeFiles(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func jwkOf(t *testing.T, k *ecdsa.PrivateKey) []byte {
	t.Helper()
	e, err := k.ECDH()
	if err != nil {
		t.Fatal(err)
	}
	pt := e.PublicKey().Bytes()
	b64 := base64.RawURLEncoding.EncodeToString
	j, _ := json.Marshal(map[string]string{"kty": "EC", "crv": "P-256", "x": b64(pt[1:33]), "y": b64(pt[33:]), "d": b64(e.Bytes())})
	return j
}

// TestInteropOWFVerifiesOurs: @owf/mdoc verifies DeviceResponses pkikit issues and presents (deviceSignature over
// an OpenID4VP transcript, deviceMac over an ISO 18013-5 QR transcript), and rejects a tampered one.
func TestInteropOWFVerifiesOurs(t *testing.T) {
	argv := owfMdoc(t)
	p := newTestPKI(t, x509ext.KeyECDSAP256, x509ext.KeyECDSAP256)
	dev := newDeviceKey(t)
	s := issueSample(t, p, &dev.PublicKey)
	now := testBase.Add(time.Hour).Format(time.RFC3339)

	reader := newDeviceKey(t)
	readerECDH, _ := reader.ECDH()
	erk, _ := MarshalCOSEKey(&reader.PublicKey)
	eDevice := newDeviceKey(t)
	edk, _ := MarshalCOSEKey(&eDevice.PublicKey)
	// DeviceEngagement = {0: "1.0", 1: [1, #6.24(bstr EDeviceKey)]}
	de := appendText(appendHead(appendHead(nil, cborMajorMap, 2), 0, 0), "1.0")
	de = append(appendHead(appendHead(appendHead(de, 0, 1), 4, 2), 0, 1), tag24(edk)...)
	qr := NewQRSessionTranscript(de, erk)
	devECDH, _ := dev.ECDH()

	cases := []struct {
		name   string
		tr     *SessionTranscript
		opts   PresentOptions
		reader []byte
	}{
		{"deviceSignature/OpenID4VP", testTranscript(), PresentOptions{DeviceSigner: dev}, nil},
		{"deviceMac/QR", qr, PresentOptions{DeviceKeyAgreement: devECDH, ReaderKey: readerECDH.PublicKey()}, jwkOf(t, reader)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.opts
			o.Request, o.SessionTranscript = testRequest, tc.tr
			resp, err := Present(context.Background(), s, o)
			if err != nil {
				t.Fatal(err)
			}
			dir := tempDir(t)
			files := map[string][]byte{"iaca.der": p.iaca.Raw, "deviceResponse.cbor": resp.Marshal(),
				"sessionTranscript.cbor": tc.tr.CBOR(), "now.txt": []byte(now)}
			if tc.reader != nil {
				files["reader-key.jwk"] = tc.reader
			}
			writeFiles(t, dir, files)
			r, out := runNode(t, argv, "verify", dir)
			if !r.OK || r.Checks < 10 {
				t.Fatalf("@owf/mdoc rejects our DeviceResponse:\n%s", out)
			}
			t.Logf("@owf/mdoc: %d checks passed", r.Checks)
			if tc.reader != nil {
				if r.MacVerified == nil || !*r.MacVerified {
					t.Fatalf("@owf/mdoc did not verify the deviceMac:\n%s", out)
				}
				t.Logf("@owf/mdoc DeviceMac.verify passed; known @owf/mdoc 0.6.0 deviceMac bugs worked around: %q", r.PeerBugs)
			}

			// The peer is not a rubber stamp: a changed element value fails there too.
			tampered := bytes.Replace(resp.Marshal(), []byte("Mustermann"), []byte("Musterfrau"), 1)
			writeFiles(t, dir, map[string][]byte{"deviceResponse.cbor": tampered})
			if r, out := runNode(t, argv, "verify", dir); r.OK {
				t.Fatalf("@owf/mdoc accepts a tampered DeviceResponse:\n%s", out)
			}
		})
	}
}

// TestInteropWeVerifyOWF: pkikit verifies an mDL @owf/mdoc issues (with our DS certificate and key) and the
// DeviceResponse it presents for our session transcript.
func TestInteropWeVerifyOWF(t *testing.T) {
	argv := owfMdoc(t)
	p := newTestPKI(t, x509ext.KeyECDSAP256, x509ext.KeyECDSAP256)
	dev := newDeviceKey(t)
	dir := tempDir(t)
	tr := testTranscript()
	now := testBase.Add(time.Hour)
	writeFiles(t, dir, map[string][]byte{
		"ds.der": p.ds.Raw, "ds-key.jwk": jwkOf(t, p.dsKey.(*ecdsa.PrivateKey)), "device-key.jwk": jwkOf(t, dev),
		"sessionTranscript.cbor": tr.CBOR(), "now.txt": []byte(now.Format(time.RFC3339)),
	})
	if r, out := runNode(t, argv, "issue", dir); !r.OK {
		t.Fatalf("@owf/mdoc issue failed:\n%s", out)
	}
	is, _ := os.ReadFile(filepath.Join(dir, "issuerSigned.cbor"))
	dr, _ := os.ReadFile(filepath.Join(dir, "deviceResponse.cbor"))
	opts := VerifyOptions{TrustStore: p.store, Time: now.Add(time.Minute), SessionTranscript: tr, DocType: DocTypeMDL}

	d, err := VerifyIssuerSigned(is, opts)
	if err != nil {
		t.Fatalf("we reject @owf/mdoc's IssuerSigned: %v\n%v", err, d.Checks)
	}
	if d.Elements[NamespaceMDL]["family_name"] != "Doe" || d.Elements[NamespaceMDL]["birth_date"] != FullDate("1990-02-03") {
		t.Fatalf("elements %v", d.Elements)
	}
	res, err := VerifyDeviceResponse(dr, opts)
	if err != nil {
		t.Fatalf("we reject @owf/mdoc's DeviceResponse: %v", err)
	}
	got := res.Documents[0].Elements[NamespaceMDL]
	if len(got) != 5 || got["age_over_21"] != true {
		t.Fatalf("disclosed %v", got)
	}
	for _, c := range res.Documents[0].Checks {
		t.Log(c)
	}
	// Our reasons hold on the peer's output too.
	o := opts
	o.SessionTranscript = NewOpenID4VPSessionTranscript("x509_san_dns:verifier.example.org", "other", nil, "https://verifier.example.org/response")
	if _, err := VerifyDeviceResponse(dr, o); !errors.Is(err, ErrDeviceAuth) {
		t.Fatalf("other transcript: %v", err)
	}
	if _, err := VerifyDeviceResponse(bytes.Replace(dr, []byte("Doe"), []byte("Roe"), 1), opts); !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("changed value: %v", err)
	}
}
