package mdl

import (
	"context"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/hkdf"
	"crypto/sha256"
	"fmt"
)

// KeyAgreement is a private key that can do ECDH: *ecdh.PrivateKey qualifies, and so can a key in secure
// hardware. It is used for deviceMac (the holder's device key) and by the reader to check it (the reader's
// ephemeral key).
type KeyAgreement interface {
	ECDH(remote *ecdh.PublicKey) ([]byte, error)
}

var _ KeyAgreement = (*ecdh.PrivateKey)(nil)

// ItemsRequest is what a reader asks of one document: namespace → element identifiers.
type ItemsRequest struct {
	// DocType, when set, must equal the document's.
	DocType string
	// NameSpaces maps namespace → the element identifiers requested.
	NameSpaces map[string][]string
}

// PresentOptions configures Present. Exactly one of DeviceSigner (deviceSignature) and DeviceKeyAgreement +
// ReaderKey (deviceMac) must be set.
type PresentOptions struct {
	// Request selects the elements disclosed; nothing else is (selective disclosure).
	Request ItemsRequest
	// SessionTranscript binds the presentation to this session (required).
	SessionTranscript *SessionTranscript
	// DeviceSigner is the device key that signs DeviceAuthentication (deviceSignature, COSE_Sign1 detached).
	DeviceSigner crypto.Signer
	// DeviceKeyAgreement is the device private key for deviceMac (ECDH with ReaderKey, then HKDF → EMacKey).
	DeviceKeyAgreement KeyAgreement
	// ReaderKey is the reader's ephemeral public key (EReaderKey) for deviceMac: *ecdh.PublicKey or *ecdsa.PublicKey.
	ReaderKey crypto.PublicKey
}

// Present builds a DeviceResponse with one Document that discloses only the requested elements of doc, signed
// or MACed by the device key over DeviceAuthentication for the session transcript. Requested elements doc does
// not have are listed in the document's errors (code 0, "data not returned").
func Present(ctx context.Context, doc *IssuerSigned, opts PresentOptions) (*DeviceResponse, error) {
	const op = "present"
	if doc == nil || opts.SessionTranscript == nil {
		return nil, newErr(op, ErrMissingSessionTranscript, "document and session transcript are required", nil)
	}
	if (opts.DeviceSigner == nil) == (opts.DeviceKeyAgreement == nil) {
		return nil, newErr(op, ErrInvalidRequest, "set exactly one of DeviceSigner and DeviceKeyAgreement", nil)
	}
	if len(opts.Request.NameSpaces) == 0 {
		return nil, newErr(op, ErrInvalidRequest, "nothing requested", nil)
	}
	mso, err := doc.MobileSecurityObject()
	if err != nil {
		return nil, err
	}
	if opts.Request.DocType != "" && opts.Request.DocType != mso.DocType {
		return nil, newErr(op, ErrDocTypeMismatch, fmt.Sprintf("requested %q, document is %q", opts.Request.DocType, mso.DocType), nil)
	}
	disclosed := map[string][]*IssuerSignedItem{}
	notReturned := map[string]map[string]int64{}
	for ns, ids := range opts.Request.NameSpaces {
		for _, id := range ids {
			found := false
			for _, it := range doc.NameSpaces[ns] {
				if it.ElementIdentifier == id {
					disclosed[ns] = append(disclosed[ns], it)
					found = true
					break
				}
			}
			if !found {
				if notReturned[ns] == nil {
					notReturned[ns] = map[string]int64{}
				}
				notReturned[ns][id] = 0
			}
		}
	}
	nsBytes := tag24([]byte{0xa0}) // DeviceNameSpaces: empty map
	da := deviceAuthenticationBytes(opts.SessionTranscript, mso.DocType, nsBytes)
	ds := &DeviceSigned{NameSpacesBytes: nsBytes, NameSpaces: map[string]map[string]any{}}
	if opts.DeviceSigner != nil {
		if !publicKeysEqual(opts.DeviceSigner.Public(), mso.DeviceKey) {
			return nil, newErr(op, ErrInvalidRequest, "DeviceSigner is not the MSO's device key", nil)
		}
		a, err := COSEAlgorithmFor(opts.DeviceSigner.Public())
		if err != nil {
			return nil, err
		}
		if ds.Signature, err = newSign1(ctx, opts.DeviceSigner, a, da, true, nil); err != nil {
			return nil, err
		}
	} else {
		key, err := eMacKey(opts.DeviceKeyAgreement, opts.ReaderKey, opts.SessionTranscript)
		if err != nil {
			return nil, err
		}
		ds.MAC = newMac0(key, da)
	}
	d := &Document{DocType: mso.DocType, IssuerSigned: &IssuerSigned{NameSpaces: disclosed, IssuerAuth: doc.IssuerAuth}, DeviceSigned: ds}
	if len(notReturned) > 0 {
		d.Errors = notReturned
	}
	raw, err := marshalDeviceResponse([]*Document{d})
	if err != nil {
		return nil, err
	}
	return &DeviceResponse{Version: "1.0", Documents: []*Document{d}, Status: 0, raw: raw}, nil
}

// deviceAuthenticationBytes is #6.24(bstr .cbor ["DeviceAuthentication", SessionTranscript, DocType,
// DeviceNameSpacesBytes]), the detached payload of deviceSignature and deviceMac.
func deviceAuthenticationBytes(t *SessionTranscript, docType string, nsBytes []byte) []byte {
	b := make([]byte, 0, len(t.raw)+len(docType)+len(nsBytes)+32)
	b = appendHead(b, 4, 4)
	b = appendText(b, "DeviceAuthentication")
	b = append(b, t.raw...)
	b = appendText(b, docType)
	b = append(b, nsBytes...)
	return tag24(b)
}

// eMacKey derives EMacKey = HKDF-SHA-256(IKM = ECDH shared secret, salt = SHA-256(SessionTranscriptBytes),
// info = "EMacKey", L = 32) (ISO/IEC 18013-5 §9.1.3.5).
func eMacKey(priv KeyAgreement, pub crypto.PublicKey, t *SessionTranscript) ([]byte, error) {
	const op = "derive EMacKey"
	if priv == nil || pub == nil || t == nil {
		return nil, newErr(op, ErrMissingSessionTranscript, "private key, public key and transcript are required", nil)
	}
	var remote *ecdh.PublicKey
	switch k := pub.(type) {
	case *ecdh.PublicKey:
		remote = k
	case *ecdsa.PublicKey:
		var err error
		if remote, err = k.ECDH(); err != nil {
			return nil, newErr(op, ErrUnsupportedAlgorithm, "", err)
		}
	default:
		return nil, newErr(op, ErrUnsupportedAlgorithm, fmt.Sprintf("%T", pub), nil)
	}
	z, err := priv.ECDH(remote)
	if err != nil {
		return nil, newErr(op, ErrDeviceAuth, "ECDH failed", err)
	}
	salt := sha256.Sum256(t.Bytes())
	return hkdf.Key(sha256.New, z, salt[:], "EMacKey", 32)
}

// ParseEReaderKey decodes the reader's ephemeral COSE_Key (EReaderKey) into an *ecdh.PublicKey.
func ParseEReaderKey(coseKey []byte) (*ecdh.PublicKey, error) {
	pub, err := ParseCOSEKey(coseKey)
	if err != nil {
		return nil, err
	}
	k, ok := pub.(*ecdsa.PublicKey)
	if !ok {
		return nil, newErr("parse EReaderKey", ErrUnsupportedAlgorithm, "EReaderKey must be an EC2 key", nil)
	}
	return k.ECDH()
}
