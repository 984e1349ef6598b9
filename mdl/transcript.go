package mdl

import (
	"crypto/sha256"

	"github.com/fxamacker/cbor/v2"
)

// HandoverKind names the Handover of a SessionTranscript, so that a failed device authentication can say which
// transcript was assumed.
type HandoverKind int

// The handovers this package builds and recognises.
const (
	HandoverUnknown HandoverKind = iota
	// HandoverQR: ISO/IEC 18013-5 proximity with QR engagement, [DeviceEngagementBytes, EReaderKeyBytes, null].
	HandoverQR
	// HandoverNFC: ISO/IEC 18013-5 proximity with NFC engagement, Handover = [HandoverSelect, HandoverRequest/null].
	HandoverNFC
	// HandoverOpenID4VP: OpenID4VP 1.0 Appendix B.2.6.1 (redirect), ["OpenID4VPHandover", SHA-256(OpenID4VPHandoverInfo)].
	HandoverOpenID4VP
	// HandoverOpenID4VPDCAPI: OpenID4VP 1.0 over the Digital Credentials API, ["OpenID4VPDCAPIHandover", SHA-256(info)].
	HandoverOpenID4VPDCAPI
	// HandoverISODCAPI: ISO/IEC 18013-7 Annex C (org-iso-mdoc over the DC API), ["dcapi", SHA-256([encInfo, origin])].
	HandoverISODCAPI
	// HandoverOpenID4VPDraft18: ISO/IEC 18013-7:2024 Annex B with OpenID4VP draft 18,
	// [SHA-256([clientId, mdocGeneratedNonce]), SHA-256([responseUri, mdocGeneratedNonce]), nonce].
	HandoverOpenID4VPDraft18
)

func (k HandoverKind) String() string {
	return [...]string{"unknown", "ISO 18013-5 QR", "ISO 18013-5 NFC", "OpenID4VP", "OpenID4VP DC API",
		"ISO 18013-7 DC API", "ISO 18013-7 OpenID4VP draft 18"}[k]
}

// SessionTranscript is ISO/IEC 18013-5 §9.1.5.1 SessionTranscript = [DeviceEngagementBytes / null,
// EReaderKeyBytes / null, Handover]. Build it with one of the New…SessionTranscript constructors (both parties
// must build the same one), or parse the bytes the other party used.
type SessionTranscript struct {
	raw  []byte // the SessionTranscript array (untagged)
	kind HandoverKind
}

// CBOR returns the SessionTranscript array as it appears inside DeviceAuthentication.
func (t *SessionTranscript) CBOR() []byte { return t.raw }

// Bytes returns SessionTranscriptBytes = #6.24(bstr .cbor SessionTranscript), the HKDF salt input.
func (t *SessionTranscript) Bytes() []byte { return tag24(t.raw) }

// Kind reports the handover the transcript carries.
func (t *SessionTranscript) Kind() HandoverKind { return t.kind }

func newTranscript(de, erk []byte, handover any, kind HandoverKind) *SessionTranscript {
	var deV, erkV any
	if de != nil {
		deV = cbor.RawMessage(tag24(de))
	}
	if erk != nil {
		erkV = cbor.RawMessage(tag24(erk))
	}
	b, err := marshal([]any{deV, erkV, handover})
	if err != nil {
		panic(err) // only strings, byte strings and raw CBOR: cannot fail
	}
	return &SessionTranscript{raw: b, kind: kind}
}

// NewQRSessionTranscript is the 18013-5 proximity transcript after QR engagement. deviceEngagement is the
// DeviceEngagement CBOR and eReaderKey the reader's ephemeral COSE_Key CBOR, exactly as exchanged (they are
// wrapped in tag 24 here).
func NewQRSessionTranscript(deviceEngagement, eReaderKey []byte) *SessionTranscript {
	return newTranscript(deviceEngagement, eReaderKey, nil, HandoverQR)
}

// NewNFCSessionTranscript is the 18013-5 proximity transcript after NFC negotiated handover: handoverSelect and
// handoverRequest are the NDEF messages (handoverRequest nil for static handover).
func NewNFCSessionTranscript(deviceEngagement, eReaderKey, handoverSelect, handoverRequest []byte) *SessionTranscript {
	var req any
	if handoverRequest != nil {
		req = handoverRequest
	}
	return newTranscript(deviceEngagement, eReaderKey, []any{handoverSelect, req}, HandoverNFC)
}

func sha256CBOR(v any) []byte {
	b, err := marshal(v)
	if err != nil {
		panic(err)
	}
	h := sha256.Sum256(b)
	return h[:]
}

// NewOpenID4VPSessionTranscript is the OpenID4VP 1.0 (redirect / direct_post) transcript:
// [null, null, ["OpenID4VPHandover", SHA-256(cbor([client_id, nonce, jwkThumbprint / null, response_uri]))]].
// jwkThumbprint is the RFC 7638 thumbprint of the verifier's response-encryption key, nil if unencrypted.
func NewOpenID4VPSessionTranscript(clientID, nonce string, jwkThumbprint []byte, responseURI string) *SessionTranscript {
	var th any
	if jwkThumbprint != nil {
		th = jwkThumbprint
	}
	h := sha256CBOR([]any{clientID, nonce, th, responseURI})
	return newTranscript(nil, nil, []any{"OpenID4VPHandover", h}, HandoverOpenID4VP)
}

// NewOpenID4VPDCAPISessionTranscript is the OpenID4VP 1.0 transcript over the W3C Digital Credentials API:
// [null, null, ["OpenID4VPDCAPIHandover", SHA-256(cbor([origin, nonce, jwkThumbprint / null]))]].
func NewOpenID4VPDCAPISessionTranscript(origin, nonce string, jwkThumbprint []byte) *SessionTranscript {
	var th any
	if jwkThumbprint != nil {
		th = jwkThumbprint
	}
	h := sha256CBOR([]any{origin, nonce, th})
	return newTranscript(nil, nil, []any{"OpenID4VPDCAPIHandover", h}, HandoverOpenID4VPDCAPI)
}

// NewISODCAPISessionTranscript is ISO/IEC 18013-7 Annex C: [null, null, ["dcapi", SHA-256(cbor([encryptionInfo
// (base64url), origin]))]].
func NewISODCAPISessionTranscript(encryptionInfoB64URL, origin string) *SessionTranscript {
	h := sha256CBOR([]any{encryptionInfoB64URL, origin})
	return newTranscript(nil, nil, []any{"dcapi", h}, HandoverISODCAPI)
}

// NewOpenID4VPDraft18SessionTranscript is ISO/IEC 18013-7:2024 Annex B (OpenID4VP draft 18): [null, null,
// [SHA-256(cbor([clientId, mdocGeneratedNonce])), SHA-256(cbor([responseUri, mdocGeneratedNonce])), nonce]].
func NewOpenID4VPDraft18SessionTranscript(clientID, responseURI, nonce, mdocGeneratedNonce string) *SessionTranscript {
	return newTranscript(nil, nil, []any{
		sha256CBOR([]any{clientID, mdocGeneratedNonce}),
		sha256CBOR([]any{responseURI, mdocGeneratedNonce}),
		nonce,
	}, HandoverOpenID4VPDraft18)
}

// ParseSessionTranscript parses a SessionTranscript (bare, or as SessionTranscriptBytes in tag 24) and classifies
// its handover. An unrecognised handover is kept (Kind() == HandoverUnknown): device authentication only needs
// the bytes.
func ParseSessionTranscript(b []byte) (*SessionTranscript, error) {
	const op = "parse SessionTranscript"
	if len(b) > 0 && b[0]>>5 == 6 {
		inner, err := untag24(b)
		if err != nil {
			return nil, err
		}
		b = inner
	}
	var parts []cbor.RawMessage
	if err := decMode.Unmarshal(b, &parts); err != nil || len(parts) != 3 {
		return nil, newErr(op, ErrMalformed, "SessionTranscript must be a 3-element array", err)
	}
	for _, p := range parts[:2] {
		if !isNull(p) {
			if _, err := untag24(p); err != nil {
				return nil, newErr(op, ErrMalformed, "DeviceEngagementBytes / EReaderKeyBytes", err)
			}
		}
	}
	t := &SessionTranscript{raw: b}
	h := parts[2]
	var arr []cbor.RawMessage
	switch {
	case isNull(h):
		t.kind = HandoverQR
	case decMode.Unmarshal(h, &arr) == nil:
		var s string
		var bs []byte
		switch {
		case len(arr) == 2 && decMode.Unmarshal(arr[0], &s) == nil && decMode.Unmarshal(arr[1], &bs) == nil:
			switch s {
			case "OpenID4VPHandover":
				t.kind = HandoverOpenID4VP
			case "OpenID4VPDCAPIHandover":
				t.kind = HandoverOpenID4VPDCAPI
			case "dcapi":
				t.kind = HandoverISODCAPI
			}
		case len(arr) == 2 && decMode.Unmarshal(arr[0], &bs) == nil:
			t.kind = HandoverNFC
		case len(arr) == 3 && decMode.Unmarshal(arr[2], &s) == nil:
			t.kind = HandoverOpenID4VPDraft18
		}
	}
	return t, nil
}
