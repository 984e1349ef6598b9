package truststore

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"

	"github.com/pkikit/pkikit/x509ext"
)

// Pin is the SHA-256 of a DER SubjectPublicKeyInfo (the "pin-sha256" of RFC 7469), with a name for messages.
// Pinning a key rather than a certificate survives the CA re-issuing its root with the same key.
type Pin struct {
	Name   string
	SHA256 [32]byte
}

// SPKIHash returns SHA-256 of the certificate's SubjectPublicKeyInfo, the value a Pin holds.
func SPKIHash(c *x509ext.Certificate) [32]byte {
	return sha256.Sum256(c.RawSubjectPublicKeyInfo)
}

// PinFor returns the pin of a certificate's public key.
func PinFor(name string, c *x509ext.Certificate) Pin { return Pin{Name: name, SHA256: SPKIHash(c)} }

// ParsePin parses a pin written as base64 (as in HPKP's pin-sha256="...") or as 64 hex digits.
func ParsePin(name, s string) (Pin, error) {
	p := Pin{Name: name}
	if b, err := base64.StdEncoding.DecodeString(s); err == nil && len(b) == 32 {
		copy(p.SHA256[:], b)
		return p, nil
	}
	if b, err := hex.DecodeString(s); err == nil && len(b) == 32 {
		copy(p.SHA256[:], b)
		return p, nil
	}
	return Pin{}, newErr("parse pin", ErrMalformed, name+": not a base64 or hex SHA-256", nil)
}

// String returns the pin as base64, the form HPKP and most tools print.
func (p Pin) String() string { return base64.StdEncoding.EncodeToString(p.SHA256[:]) }

// PinSet is a set of SPKI SHA-256 pins. Its zero value is empty; an empty set pins nothing (VerifyOptions.Pins
// nil or empty means no pinning).
type PinSet struct {
	Pins []Pin
}

// NewPinSet returns a pin set holding the given pins (make them with PinFor or ParsePin).
func NewPinSet(pins ...Pin) *PinSet { return &PinSet{Pins: append([]Pin(nil), pins...)} }

// Len returns the number of pins.
func (ps *PinSet) Len() int {
	if ps == nil {
		return 0
	}
	return len(ps.Pins)
}

// Match returns the pin that c's public key matches.
func (ps *PinSet) Match(c *x509ext.Certificate) (Pin, bool) {
	if ps == nil || c == nil || c.Certificate == nil {
		return Pin{}, false
	}
	h := SPKIHash(c)
	for _, p := range ps.Pins {
		if p.SHA256 == h {
			return p, true
		}
	}
	return Pin{}, false
}

// PinCheck is the result of looking for every pin of a set among certificates.
type PinCheck struct {
	Found   map[string]*x509ext.Certificate // pin name → the certificate carrying that key
	Missing []Pin                           // pins no certificate carries
	Other   []*x509ext.Certificate          // certificates whose key is not pinned
}

// Complete reports whether every pin was found.
func (r *PinCheck) Complete() bool { return len(r.Missing) == 0 }

// Check looks for each pin among certs (for example a PEM bundle that should hold a CA's roots).
func (ps *PinSet) Check(certs []*x509ext.Certificate) *PinCheck {
	r := &PinCheck{Found: map[string]*x509ext.Certificate{}}
	for _, c := range certs {
		if p, ok := ps.Match(c); ok {
			if _, dup := r.Found[p.Name]; !dup {
				r.Found[p.Name] = c
			}
			continue
		}
		r.Other = append(r.Other, c)
	}
	if ps != nil {
		for _, p := range ps.Pins {
			if _, ok := r.Found[p.Name]; !ok {
				r.Missing = append(r.Missing, p)
			}
		}
	}
	return r
}

func mustPin(name, b64 string) Pin {
	p, err := ParsePin(name, b64)
	if err != nil {
		panic(err)
	}
	return p
}

// AmazonRootPins returns the pin set of Amazon Trust Services' roots: Amazon Root CA 1–4 and Starfield Services
// Root Certificate Authority - G2 (the roots of ACM certificates and AWS endpoints). The hashes are checked
// against the real certificates by this package's tests.
func AmazonRootPins() *PinSet {
	return NewPinSet(
		mustPin("Amazon Root CA 1", "++MBgDH5WGvL9Bcn5Be30cRcL0f5O+NyoXuWtQdX1aI="),
		mustPin("Amazon Root CA 2", "f0KW/FtqTjs108NpYj42SrGvOB2PpxIVM8nWxjPqJGE="),
		mustPin("Amazon Root CA 3", "NqvDJlas/GRcYbcWE8S/IceH9cq77kg0jVhZeAPXq8k="),
		mustPin("Amazon Root CA 4", "9+ze1cZgR9KO1kZrVDxA4HQ6voHRCSVNz4RdTCx4U8U="),
		mustPin("Starfield Services Root Certificate Authority - G2", "KwccWaCgrnaw6tsrrSO61FgLacNgG2MMLq8GE6+oP5I="),
	)
}
